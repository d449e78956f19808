#include "decision.hpp"

#include <algorithm>

#include "tradepipe/events/ids.hpp"
#include "tradepipe/events/subject.hpp"

namespace tradepipe::agent {
namespace {

using events::Decimal;
using events::MarketPosition;
using events::Side;
using events::SignalAction;

Decimal Abs(Decimal d) { return d < Decimal() ? -d : d; }

// The side that closes `position` (which is not flat).
Side ClosingSide(Decimal position) { return position > Decimal() ? Side::kSell : Side::kBuy; }

// 128-bit intermediate for a product of two Decimals (GCC and Clang; the extension keeps
// -Wpedantic quiet).
__extension__ using Wide = __int128;

// qty × percent / 100, rounded down to Decimal's 8 places; nullopt beyond its range.
std::optional<Decimal> PercentOf(Decimal qty, Decimal percent) {
  const Wide units = static_cast<Wide>(qty.units()) * percent.units() / (Decimal::kOne * Wide{100});
  if (units > INT64_MAX || units < INT64_MIN) return std::nullopt;
  return Decimal::FromUnits(static_cast<int64_t>(units));
}

Plan Refuse(std::string_view reason, std::string detail) { return Plan{{}, reason, std::move(detail)}; }

}  // namespace

Intent ResolveIntent(const events::SignalPayload& s) {
  switch (s.action) {
    case SignalAction::kClose:
      return {IntentKind::kClose, std::nullopt, !s.qty.has_value()};
    case SignalAction::kCloseAll:
      return {IntentKind::kClose, std::nullopt, true};
    case SignalAction::kReverse:
      return {IntentKind::kReverse, std::nullopt, false};
    case SignalAction::kBuy:
    case SignalAction::kSell:
      break;
  }
  const Side side = s.action == SignalAction::kBuy ? Side::kBuy : Side::kSell;
  // The side a position must be on for this order to close it (a buy closes a short).
  const MarketPosition closes = side == Side::kBuy ? MarketPosition::kShort : MarketPosition::kLong;
  const MarketPosition opens = side == Side::kBuy ? MarketPosition::kLong : MarketPosition::kShort;
  if (s.market_position == MarketPosition::kFlat) return {IntentKind::kClose, side, false};
  if (s.market_position == opens && s.prev_market_position == closes) return {IntentKind::kReverse, side, false};
  return {IntentKind::kEntry, side, false};
}

Plan PlanOrders(const events::SignalPayload& s, Decimal position) {
  const Intent intent = ResolveIntent(s);
  const Decimal held = Abs(position);
  if (s.qty_kind != events::QtyKind::kUnits &&
      !(s.qty_kind == events::QtyKind::kPercentPosition && intent.kind == IntentKind::kClose)) {
    return Refuse(kReasonUnsupportedQtyKind,
                  "qty_kind " + std::string(events::ToName(s.qty_kind)) + " needs sizing, not built yet");
  }
  switch (intent.kind) {
    case IntentKind::kEntry:
      return Plan{{{*intent.side, *s.qty}}, {}, {}};
    case IntentKind::kClose: {
      if (position == Decimal()) return Refuse(kReasonNoPosition, "nothing to close");
      const Side closing = ClosingSide(position);
      if (intent.side && *intent.side != closing) {
        return Refuse(kReasonNoPosition, "the position is on the side this order would add to");
      }
      Decimal qty = held;
      if (!intent.whole_position && s.qty) {
        if (s.qty_kind == events::QtyKind::kPercentPosition) {
          auto part = PercentOf(held, *s.qty);
          if (!part || *part == Decimal()) return Refuse(kReasonNoPosition, "the share of the position is zero");
          qty = std::min(*part, held);
        } else {
          qty = std::min(*s.qty, held);  // a close never flips the position
        }
      }
      return Plan{{{closing, qty}}, {}, {}};
    }
    case IntentKind::kReverse: {
      // The side to end up on: from the signal (buy/sell), else away from the position held.
      if (!intent.side && position == Decimal()) return Refuse(kReasonNoPosition, "nothing to reverse");
      const Side to = intent.side ? *intent.side : ClosingSide(position);
      if (position != Decimal() && ClosingSide(position) != to) {
        return Refuse(kReasonPositionMismatch, "the position is already on the side the reverse goes to");
      }
      std::vector<PlannedOrder> orders;
      if (position != Decimal()) orders.push_back({to, held});
      // TradingView's contracts for a reverse cover the close and the new position; an explicit
      // reverse's qty is the new position (absent: as large as the old one).
      Decimal open = held;
      if (s.qty) open = s.action == SignalAction::kReverse ? *s.qty : *s.qty - held;
      if (open > Decimal()) orders.push_back({to, open});
      if (orders.empty()) return Refuse(kReasonNoPosition, "nothing to reverse");
      return Plan{std::move(orders), {}, {}};
    }
  }
  return Refuse(kReasonNoPosition, "unknown intent");
}

Result<Decision> Decide(const events::Envelope& signal, const RiskLimits& limits, Decimal position, int64_t consumed_ns,
                        int64_t decided_ns) {
  if (signal.type != events::kTypeSignal) return Result<Decision>::Error("not a signal: " + signal.type);
  if (signal.symbol.empty()) return Result<Decision>::Error("signal without symbol");
  auto payload = events::ParseSignalPayload(signal.payload);
  if (!payload) return Result<Decision>::Error("signal payload: " + payload.error());
  if (payload->qty && *payload->qty <= Decimal()) return Result<Decision>::Error("signal qty must be positive");

  Plan plan = PlanOrders(*payload, position);
  for (const PlannedOrder& o : plan.orders) {
    if (o.qty > limits.max_order_qty) {
      plan = Refuse(kReasonMaxOrderQty, "qty " + o.qty.ToString() + " exceeds the maximum order quantity " +
                                            limits.max_order_qty.ToString());
      break;
    }
  }

  Decision d;
  const std::string id = events::DecisionId(signal.id);
  auto emit = [&](events::Envelope event, std::string subject) {
    event.AddStamp("agent_consumed", consumed_ns);
    event.AddStamp("decided", decided_ns);
    d.messages.push_back({std::move(subject), event.id, events::Serialize(event)});
  };
  if (plan.orders.empty()) {
    d.rejected = true;
    d.reason = plan.reason;
    events::Envelope event = signal.Child(events::kTypeOrderRejected, id);
    event.payload = events::ToJson(events::RejectionPayload{id, d.reason, plan.detail});
    emit(std::move(event), events::RejectionSubject(signal.symbol));
    return d;
  }
  for (size_t i = 0; i < plan.orders.size(); ++i) {
    const std::string order_id = i == 0 ? id : id + "/" + std::to_string(i + 1);
    events::Envelope event = signal.Child(events::kTypeOrder, order_id);
    events::OrderPayload order;
    order.order_id = order_id;
    order.side = plan.orders[i].side;
    order.qty = plan.orders[i].qty;
    order.order_type = payload->order_type;
    if (payload->order_type == "limit") order.limit_price = payload->price;
    event.payload = events::ToJson(order);
    emit(std::move(event), events::OrderSubject(signal.symbol));
  }
  d.orders = plan.orders.size();
  return d;
}

}  // namespace tradepipe::agent
