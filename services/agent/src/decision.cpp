#include "decision.hpp"

#include <algorithm>
#include <variant>

#include "tradepipe/events/ids.hpp"
#include "tradepipe/events/subject.hpp"

namespace tradepipe::agent {
namespace {

using events::Decimal;
using events::MarketPosition;
using events::QtyKind;
using events::Side;
using events::SignalAction;

constexpr int64_t kNanosPerSecond = 1'000'000'000;
const Decimal kHundred = Decimal::FromInteger(100);

// The side that closes `position` (which is not flat).
Side ClosingSide(Decimal position) { return position > Decimal() ? Side::kSell : Side::kBuy; }

Decimal Signed(Side side, Decimal qty) { return side == Side::kBuy ? qty : -qty; }

struct Refusal {
  std::string_view reason;
  std::string detail;
};

Plan Refuse(std::string_view reason, std::string detail) { return Plan{{}, reason, std::move(detail)}; }

// A quantity from a sizing rule, rounded down to the step; a refusal when it needs a price that
// is not known, leaves the range or comes out zero.
std::variant<Decimal, Refusal> Size(const Sizing& rule, const SizingInputs& in) {
  std::optional<Decimal> qty;
  auto per_price = [&](std::optional<Decimal> money) -> std::optional<Decimal> {
    return money ? money->CheckedDiv(*in.reference_price) : std::nullopt;
  };
  if ((rule.kind == QtyKind::kNotional || rule.kind == QtyKind::kPercentEquity) &&
      (!in.reference_price || *in.reference_price <= Decimal())) {
    return Refusal{reason::kNoPrice,
                   "sizing by " + std::string(events::ToName(rule.kind)) + " needs the signal's price or a last fill"};
  }
  switch (rule.kind) {
    case QtyKind::kUnits:
      qty = rule.value;
      break;
    case QtyKind::kNotional:
      qty = per_price(rule.value);
      break;
    case QtyKind::kPercentEquity: {
      const auto share = in.equity.CheckedMul(rule.value);
      qty = per_price(share ? share->CheckedDiv(kHundred) : std::nullopt);
      break;
    }
    case QtyKind::kPercentPosition: {
      const auto share = in.position.Abs().CheckedMul(rule.value);
      qty = share ? share->CheckedDiv(kHundred) : std::nullopt;
      break;
    }
  }
  if (!qty) return Refusal{reason::kMaxOrderQty, "the sized quantity is beyond the range of a quantity"};
  const Decimal stepped = qty->TruncatedTo(in.qty_step);
  if (stepped <= Decimal()) {
    return Refusal{reason::kSizeZero, std::string(events::ToName(rule.kind)) + " " + rule.value.ToString() +
                                          " sizes to " + qty->ToString() + ", under the quantity step " +
                                          in.qty_step.ToString()};
  }
  return stepped;
}

}  // namespace

Intent ResolveIntent(const events::SignalPayload& s) {
  switch (s.action) {
    case SignalAction::kClose:
      return {IntentKind::kClose, std::nullopt, !s.qty.has_value()};
    case SignalAction::kCloseAll:
      return {IntentKind::kClose, std::nullopt, true};
    case SignalAction::kReverse:
      return {IntentKind::kReverse, std::nullopt, false};
    case SignalAction::kCancel:
      return {IntentKind::kCancel, std::nullopt, false};
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

Plan PlanOrders(const events::SignalPayload& s, const StrategyConfig& strategy, const SizingInputs& in) {
  const Intent intent = ResolveIntent(s);
  const Decimal position = in.position;
  const Decimal held = position.Abs();
  // The signal's own quantity counts unless its strategy sizes for it.
  const bool signal_sizes = s.qty && (strategy.allow_signal_qty || !strategy.sizing);
  std::optional<Sizing> rule;
  if (signal_sizes) {
    rule = Sizing{s.qty_kind, *s.qty};
  } else if (strategy.sizing) {
    rule = *strategy.sizing;
  }
  auto size = [&](const Sizing& r) { return Size(r, in); };
  switch (intent.kind) {
    case IntentKind::kEntry: {
      if (!rule) return Refuse(reason::kNoSizing, "no qty in the signal and no sizing for its strategy");
      auto qty = size(*rule);
      if (auto* refused = std::get_if<Refusal>(&qty)) return Refuse(refused->reason, refused->detail);
      return Plan{{{*intent.side, std::get<Decimal>(qty)}}, {}, {}};
    }
    case IntentKind::kClose: {
      if (position == Decimal()) return Refuse(reason::kNoPosition, "nothing to close");
      const Side closing = ClosingSide(position);
      if (intent.side && *intent.side != closing) {
        return Refuse(reason::kNoPosition, "the position is on the side this order would add to");
      }
      Decimal qty = held;  // a close is sized from the position: all of it unless the signal says
      if (!intent.whole_position && signal_sizes) {
        auto part = size(*rule);
        if (auto* refused = std::get_if<Refusal>(&part)) return Refuse(refused->reason, refused->detail);
        qty = std::min(std::get<Decimal>(part), held);  // a close never flips the position
      }
      return Plan{{{closing, qty}}, {}, {}};
    }
    case IntentKind::kReverse: {
      // The side to end up on: from the signal (buy/sell), else away from the position held.
      if (!intent.side && position == Decimal()) return Refuse(reason::kNoPosition, "nothing to reverse");
      const Side to = intent.side ? *intent.side : ClosingSide(position);
      if (position != Decimal() && ClosingSide(position) != to) {
        return Refuse(reason::kPositionMismatch, "the position is already on the side the reverse goes to");
      }
      std::vector<PlannedOrder> orders;
      if (position != Decimal()) orders.push_back({to, held});
      // The new position: as large as the old one unless sized. TradingView's contracts for a
      // reverse cover the close and the new position; an explicit reverse's qty is the new one.
      Decimal open = held;
      if (rule) {
        auto sized = size(*rule);
        if (auto* refused = std::get_if<Refusal>(&sized)) return Refuse(refused->reason, refused->detail);
        open = std::get<Decimal>(sized);
        if (signal_sizes && rule->kind == QtyKind::kUnits && s.action != SignalAction::kReverse) open = open - held;
      }
      if (open > Decimal()) orders.push_back({to, open});
      if (orders.empty()) return Refuse(reason::kNoPosition, "nothing to reverse");
      return Plan{std::move(orders), {}, {}};
    }
    case IntentKind::kCancel:  // places no order (Decide)
      return Refuse(reason::kNoOpenOrders, "a cancel places no order");
  }
  return Refuse(reason::kNoPosition, "unknown intent");
}

namespace {

// What the checks of one order read and update: the account as the orders before it in the same
// decision leave it.
struct Running {
  Decimal position;
  Decimal gross_exposure;
  int64_t open_positions = 0;
};

// The gross exposure once the symbol's position is `after`: its part at `price` replaces the
// part it had; nullopt beyond Decimal's range.
std::optional<Decimal> GrossAfter(const Running& before, Decimal after, Decimal price) {
  const auto old_part = before.position.Abs().CheckedMul(price);
  const auto new_part = after.Abs().CheckedMul(price);
  const auto rest = old_part ? before.gross_exposure.CheckedSub(*old_part) : std::nullopt;
  return rest && new_part ? rest->CheckedAdd(*new_part) : std::nullopt;
}

// The checks one order of a decision passes or fails, in the documented order.
std::optional<Refusal> CheckOrder(const PlannedOrder& order, const Running& before, const events::SignalPayload& s,
                                  const StrategyConfig& strategy, const DecisionContext& ctx,
                                  std::optional<Decimal> reference_price) {
  const RiskLimits& risk = ctx.config->risk;
  const Decimal after = before.position + Signed(order.side, order.qty);
  // Grows: more held, or a position on the other side than before.
  const bool grows =
      after != Decimal() && (before.position == Decimal() || (after > Decimal()) != (before.position > Decimal()) ||
                             after.Abs() > before.position.Abs());
  if (grows) {
    if (!InTradingWindow(risk.trading_windows, ctx.decided_ns)) {
      return Refusal{reason::kOutsideTradingWindow, "entries are allowed inside the trading windows only"};
    }
    if (ctx.state == TradingState::kReducing) {
      return Refusal{reason::kReducingOnly, "trading state is reducing: only orders that shrink a position pass"};
    }
    if (strategy.reduce_only) {
      return Refusal{reason::kReduceOnlyWouldGrow, "the strategy is reduce-only and this order grows the position"};
    }
    if (risk.daily_loss_limit && ctx.account.realised_today <= -*risk.daily_loss_limit) {
      return Refusal{reason::kDailyLossLimit, "realised P&L today " + ctx.account.realised_today.ToString() +
                                                  " is at the daily loss limit " + risk.daily_loss_limit->ToString()};
    }
    if (strategy.max_open_positions && before.position == Decimal() &&
        before.open_positions >= *strategy.max_open_positions) {
      return Refusal{reason::kMaxOpenPositions, std::to_string(before.open_positions) +
                                                    " positions are open, at most " +
                                                    std::to_string(*strategy.max_open_positions)};
    }
  }
  if (risk.max_order_qty && order.qty > *risk.max_order_qty) {
    return Refusal{reason::kMaxOrderQty, "qty " + order.qty.ToString() + " exceeds the maximum order quantity " +
                                             risk.max_order_qty->ToString()};
  }
  const bool needs_price = risk.max_order_notional || (grows && risk.max_gross_exposure);
  if (needs_price && !reference_price) {
    return Refusal{reason::kNoPrice, "a notional limit applies and neither the signal nor a fill gives a price"};
  }
  const auto notional = reference_price ? order.qty.CheckedMul(*reference_price) : std::optional<Decimal>();
  if (risk.max_order_notional && (!notional || *notional > *risk.max_order_notional)) {
    return Refusal{reason::kMaxOrderNotional, "notional " + (notional ? notional->ToString() : "beyond range") +
                                                  " exceeds " + risk.max_order_notional->ToString()};
  }
  if (risk.price_band_percent && s.price && ctx.account.has_last_price && ctx.account.symbol.last_price > Decimal()) {
    const Decimal last = ctx.account.symbol.last_price;
    const auto off = (*s.price - last).Abs().CheckedMul(kHundred);
    const auto percent = off ? off->CheckedDiv(last) : std::nullopt;
    if (!percent || *percent > *risk.price_band_percent) {
      return Refusal{reason::kPriceBand, "price " + s.price->ToString() + " is more than " +
                                             risk.price_band_percent->ToString() + "% from the last fill " +
                                             last.ToString()};
    }
  }
  if (grows && risk.max_position && after.Abs() > *risk.max_position) {
    return Refusal{reason::kMaxPosition,
                   "the position would be " + after.ToString() + ", at most " + risk.max_position->ToString()};
  }
  if (grows && risk.max_gross_exposure) {
    const auto gross = GrossAfter(before, after, *reference_price);
    if (!gross || *gross > *risk.max_gross_exposure) {
      return Refusal{reason::kMaxGrossExposure, "gross exposure would be " +
                                                    (gross ? gross->ToString() : std::string("beyond range")) +
                                                    ", at most " + risk.max_gross_exposure->ToString()};
    }
  }
  return std::nullopt;
}

// The checks that refuse a signal whatever it asks.
std::optional<Refusal> CheckSignal(const events::Envelope& signal, const DecisionContext& ctx) {
  const RiskLimits& risk = ctx.config->risk;
  if (ctx.state == TradingState::kHalted) return Refusal{reason::kTradingHalted, "trading is halted"};
  if (!risk.allowed_symbols.empty() && std::find(risk.allowed_symbols.begin(), risk.allowed_symbols.end(),
                                                 signal.symbol) == risk.allowed_symbols.end()) {
    return Refusal{reason::kSymbolNotAllowed, "symbol " + signal.symbol + " is not in the allow-list"};
  }
  if (risk.max_signal_age_s) {
    if (auto received = signal.StampOf("received")) {
      const int64_t age_ns = ctx.decided_ns - *received;
      if (age_ns > *risk.max_signal_age_s * kNanosPerSecond) {
        return Refusal{reason::kStaleSignal, "received " + std::to_string(age_ns / 1'000'000) + " ms ago, at most " +
                                                 std::to_string(*risk.max_signal_age_s) + " s"};
      }
    }
  }
  return std::nullopt;
}

// An entry's exits must lie on their sides: a long's take-profit above its price and its
// stop-loss below (a short's the other way), and the take-profit beyond the stop-loss.
std::optional<Refusal> CheckExitPrices(events::Side entry, const events::SignalPayload& s,
                                       const std::optional<Decimal>& reference_price) {
  const bool is_long = entry == events::Side::kBuy;
  auto beyond = [&](Decimal a, Decimal b) { return is_long ? a > b : a < b; };  // a on the profit side of b
  const char* above = is_long ? "above" : "below";
  const char* below = is_long ? "below" : "above";
  const std::string side = is_long ? "a long entry" : "a short entry";
  if (s.take_profit && s.stop_loss && !beyond(*s.take_profit, *s.stop_loss)) {
    return Refusal{reason::kExitPrices, "take_profit " + s.take_profit->ToString() + " must be " + above +
                                            " stop_loss " + s.stop_loss->ToString() + " for " + side};
  }
  if (!reference_price) return std::nullopt;
  if (s.take_profit && !beyond(*s.take_profit, *reference_price)) {
    return Refusal{reason::kExitPrices, "take_profit " + s.take_profit->ToString() + " must be " + above +
                                            " the entry's price " + reference_price->ToString() + " for " + side};
  }
  if (s.stop_loss && !beyond(*reference_price, *s.stop_loss)) {
    return Refusal{reason::kExitPrices, "stop_loss " + s.stop_loss->ToString() + " must be " + below +
                                            " the entry's price " + reference_price->ToString() + " for " + side};
  }
  return std::nullopt;
}

}  // namespace

namespace {

void Emit(Decision& d, const DecisionContext& ctx, events::Envelope event, std::string subject) {
  event.AddStamp("agent_consumed", ctx.consumed_ns);
  event.AddStamp("decided", ctx.decided_ns);
  d.messages.push_back({std::move(subject), event.id, events::Serialize(event)});
}

void EmitRejection(Decision& d, const DecisionContext& ctx, const events::Envelope& signal,
                   const std::string& rejection_id, const Refusal& r) {
  events::Envelope event = signal.Child(events::kTypeOrderRejected, rejection_id);
  event.payload = events::ToJson(events::RejectionPayload{rejection_id, std::string(r.reason), r.detail});
  Emit(d, ctx, std::move(event), events::RejectionSubject(signal.symbol));
}

// A cancel signal: a cancel request for each open order of the symbol, or no_open_orders.
Decision DecideCancel(const events::Envelope& signal, const DecisionContext& ctx) {
  Decision d;
  const std::vector<std::string> open = ctx.open_orders ? ctx.open_orders() : std::vector<std::string>{};
  if (open.empty()) {
    d.rejected = true;
    d.reason = reason::kNoOpenOrders;
    EmitRejection(d, ctx, signal, events::DecisionId(signal.id),
                  Refusal{reason::kNoOpenOrders, "no open order of " + signal.symbol + " to cancel"});
    return d;
  }
  for (size_t i = 0; i < open.size(); ++i) {
    events::Envelope event =
        signal.Child(events::kTypeOrderCancel, events::CancelId(signal.id, static_cast<int>(i + 1)));
    event.payload = events::ToJson(events::OrderCancelPayload{open[i]});
    Emit(d, ctx, std::move(event), events::CancelSubject(signal.symbol));
  }
  d.cancels = open.size();
  return d;
}

}  // namespace

Result<Decision> Decide(const events::Envelope& signal, const DecisionContext& ctx, OrderThrottle& throttle) {
  if (signal.type != events::kTypeSignal) return Result<Decision>::Error("not a signal: " + signal.type);
  if (signal.symbol.empty()) return Result<Decision>::Error("signal without symbol");
  auto payload = events::ParseSignalPayload(signal.payload);
  if (!payload) return Result<Decision>::Error("signal payload: " + payload.error());
  if (payload->qty && *payload->qty <= Decimal()) return Result<Decision>::Error("signal qty must be positive");

  if (payload->action == SignalAction::kCancel) return DecideCancel(signal, ctx);

  const TradingConfig& config = *ctx.config;
  const std::string_view strategy_name = config.StrategyNameFor(payload->strategy);
  const StrategyConfig& strategy = config.StrategyFor(payload->strategy);
  // The position the decision works from: filled, plus the orders decided and not yet filled.
  const Decimal held = ctx.account.symbol.qty + ctx.account.symbol.open_qty;
  std::optional<Decimal> reference_price = payload->price;
  if (!reference_price && ctx.account.has_last_price) reference_price = ctx.account.symbol.last_price;
  const auto equity = config.starting_balance.CheckedAdd(ctx.account.realised_pnl);

  Plan plan;
  std::optional<Refusal> refused = CheckSignal(signal, ctx);
  if (!refused) {
    plan = PlanOrders(*payload, strategy,
                      SizingInputs{held, reference_price, equity.value_or(Decimal()), config.QtyStepOf(signal.symbol)});
    if (plan.orders.empty()) refused = Refusal{plan.reason, plan.detail};
  }
  // Each order against the account the orders before it leave; the first order refused refuses
  // the decision, a reverse's open refused leaves its close.
  std::optional<Refusal> open_refused;
  std::vector<bool> opens(plan.orders.size(), false);  // grows the position: carries the signal's exits
  if (!refused) {
    Running running{held, ctx.account.gross_exposure, ctx.account.open_positions};
    for (size_t i = 0; i < plan.orders.size(); ++i) {
      const PlannedOrder& order = plan.orders[i];
      opens[i] = (running.position + Signed(order.side, order.qty)).Abs() > running.position.Abs();
      std::optional<Refusal> exits_refused;
      if (opens[i] && (payload->take_profit || payload->stop_loss)) {
        exits_refused = CheckExitPrices(order.side, *payload, reference_price);
      }
      if (auto r =
              exits_refused ? exits_refused : CheckOrder(order, running, *payload, strategy, ctx, reference_price)) {
        (i == 0 ? refused : open_refused) = std::move(r);
        plan.orders.resize(i);
        break;
      }
      const Decimal after = running.position + Signed(order.side, order.qty);
      if (reference_price) {
        // Beyond the range the exposure is as large as it can be (as Positions counts it).
        running.gross_exposure = GrossAfter(running, after, *reference_price).value_or(Decimal::FromUnits(INT64_MAX));
      }
      running.open_positions += (after != Decimal()) - (running.position != Decimal());
      running.position = after;
    }
  }
  if (!refused && strategy.max_orders_per_minute &&
      !throttle.Admit(strategy_name, *strategy.max_orders_per_minute, plan.orders.size(), ctx.decided_ns)) {
    refused =
        Refusal{reason::kOrderRate, "strategy " + std::string(strategy_name) + " sent " +
                                        std::to_string(*strategy.max_orders_per_minute) + " orders in the last minute"};
    open_refused.reset();
  }

  Decision d;
  const std::string id = events::DecisionId(signal.id);
  auto emit = [&](events::Envelope event, std::string subject) { Emit(d, ctx, std::move(event), std::move(subject)); };
  auto emit_rejection = [&](const std::string& rejection_id, const Refusal& r) {
    EmitRejection(d, ctx, signal, rejection_id, r);
  };
  if (refused) {
    d.rejected = true;
    d.reason = refused->reason;
    emit_rejection(id, *refused);
    return d;
  }
  auto order_id = [&](size_t i) { return i == 0 ? id : id + "/" + std::to_string(i + 1); };
  for (size_t i = 0; i < plan.orders.size(); ++i) {
    events::Envelope event = signal.Child(events::kTypeOrder, order_id(i));
    events::OrderPayload order;
    order.order_id = order_id(i);
    order.side = plan.orders[i].side;
    order.qty = plan.orders[i].qty;
    order.order_type = payload->order_type;
    if (payload->order_type == "limit") order.limit_price = payload->price;
    order.time_in_force = payload->time_in_force;
    if (opens[i]) {
      order.take_profit = payload->take_profit;
      order.stop_loss = payload->stop_loss;
    }
    event.payload = events::ToJson(order);
    emit(std::move(event), events::OrderSubject(signal.symbol));
    d.placed.push_back({order_id(i), plan.orders[i]});
  }
  d.orders = plan.orders.size();
  if (open_refused) {
    d.partial_reason = open_refused->reason;
    emit_rejection(order_id(plan.orders.size()), *open_refused);
  }
  return d;
}

}  // namespace tradepipe::agent
