#include "resting.hpp"

#include <algorithm>

#include "market.hpp"
#include "seeded.hpp"
#include "tradepipe/events/ids.hpp"
#include "tradepipe/events/subject.hpp"

namespace tradepipe::execsim {
namespace {

using events::Decimal;
using events::Side;

__extension__ using Wide = __int128;  // GCC and Clang; the extension keeps -Wpedantic quiet

constexpr int64_t kNanosPerDay = 86'400LL * 1'000'000'000LL;

int64_t UtcDay(int64_t ns) { return ns >= 0 ? ns / kNanosPerDay : (ns - kNanosPerDay + 1) / kNanosPerDay; }

// Whether resting order `a` comes before `b` at one side of the book.
bool Ahead(const std::pair<std::string, RestingOrder>* a, const std::pair<std::string, RestingOrder>* b) {
  const RestingOrder& x = a->second;
  const RestingOrder& y = b->second;
  if (x.limit != y.limit) return x.side == Side::kBuy ? x.limit > y.limit : x.limit < y.limit;
  if (x.decided_ns != y.decided_ns) return x.decided_ns < y.decided_ns;
  return a->first < b->first;
}

events::Envelope Event(const RestingOrder& order, std::string_view type, std::string id, int64_t tick_ns,
                       int64_t filled_ns) {
  events::Envelope event = order.parent.Child(type, std::move(id));
  event.AddStamp("tick", tick_ns);
  event.AddStamp("filled", filled_ns);
  return event;
}

}  // namespace

std::optional<RestingOrder> RestingFromReport(const events::Envelope& report,
                                              const events::ExecReportPayload& payload) {
  if (payload.status != "accepted" || !payload.side || !payload.qty || !payload.limit_price ||
      (payload.time_in_force != events::TimeInForce::kDay && payload.time_in_force != events::TimeInForce::kGtc)) {
    return std::nullopt;
  }
  RestingOrder order;
  order.parent = report;
  order.parent.type = events::kTypeOrder;
  order.parent.id = payload.order_id;
  order.parent.payload = "{}";
  // The order's stamps: the report's without the one it added.
  std::erase_if(order.parent.ts, [](const events::Stamp& s) { return s.name == "filled" || s.name == "tick"; });
  order.side = *payload.side;
  order.qty = *payload.qty;
  order.limit = *payload.limit_price;
  order.time_in_force = *payload.time_in_force;
  order.cum = payload.filled_qty;
  order.avg_price = payload.avg_price.value_or(Decimal());
  order.fills = payload.fills.value_or(0);
  order.decided_ns = report.StampOf("decided").value_or(report.StampOf("exec_consumed").value_or(0));
  return order;
}

TickResult MatchTick(const Market& market, const RestingList& orders, uint64_t tick, int64_t tick_ns, int64_t filled_ns,
                     int64_t touch_fill_bps) {
  TickResult result;
  const int64_t today = UtcDay(tick_ns);
  using Entry = std::pair<std::string, RestingOrder>;
  std::map<std::pair<std::string, Side>, std::vector<const Entry*>> sides;
  for (const Entry& e : orders) sides[{e.second.parent.symbol, e.second.side}].push_back(&e);

  for (auto& [where, queue] : sides) {
    const auto& [symbol, side] = where;
    std::sort(queue.begin(), queue.end(), Ahead);
    std::vector<Level> levels;  // the side the orders trade against, taken as they fill
    bool have_book = false;
    for (const Entry* e : queue) {
      const std::string& id = e->first;
      const RestingOrder& order = e->second;
      if (order.time_in_force == events::TimeInForce::kDay && today > UtcDay(order.decided_ns)) {
        events::ExecReportPayload r;
        r.order_id = id;
        r.status = "expired";
        r.filled_qty = order.cum;
        r.leaves_qty = order.leaves();
        if (order.cum > Decimal()) r.avg_price = order.avg_price;
        events::Envelope event = Event(order, events::kTypeExecReport, events::ReportId(id, 2), tick_ns, filled_ns);
        event.payload = events::ToJson(r);
        result.messages.push_back({events::ReportSubject(symbol), event.id, events::Serialize(event)});
        result.updates.push_back({id, "expired", order});
        ++result.expired;
        continue;
      }
      if (!have_book) {
        Book book = market.TickBookAt(symbol, tick, side);
        levels = std::move(side == Side::kBuy ? book.asks : book.bids);
        have_book = true;
      }
      auto within = [&](const Level& l) {
        return side == Side::kBuy ? l.price <= order.limit : l.price >= order.limit;
      };
      auto best = std::find_if(levels.begin(), levels.end(), [](const Level& l) { return l.qty > Decimal(); });
      if (best == levels.end() || !within(*best)) continue;
      if (best->price == order.limit &&
          !seeded::Chance(seeded::Mix(seeded::Hash(market.options().seed + 3, id) ^ seeded::Mix(tick)),
                          touch_fill_bps)) {
        continue;  // touched, not crossed: the seeded fill model says no this tick
      }
      Decimal take;
      for (auto l = best; l != levels.end() && within(*l) && take < order.leaves(); ++l) {
        const Decimal part = std::min(l->qty, order.leaves() - take);
        l->qty = l->qty - part;
        take = take + part;
      }
      if (take <= Decimal()) continue;

      RestingOrder after = order;
      after.fills += 1;
      after.cum = order.cum + take;
      // The running average from the last event's values, so a rebuilt order continues exactly.
      const Wide notional = static_cast<Wide>(order.avg_price.units()) * order.cum.units() +
                            static_cast<Wide>(take.units()) * order.limit.units();
      after.avg_price = Decimal::FromUnits(static_cast<int64_t>(notional / after.cum.units()));
      events::FillPayload f;
      f.order_id = id;
      f.fill_no = after.fills;
      f.side = side;
      f.qty = take;
      f.price = order.limit;  // a maker fills at its own price
      f.cum_qty = after.cum;
      f.leaves_qty = after.leaves();
      f.status = f.leaves_qty == Decimal() ? "filled" : "partial";
      f.avg_price = after.avg_price;
      events::Envelope event = Event(order, events::kTypeFill, events::FillId(id, f.fill_no), tick_ns, filled_ns);
      event.payload = events::ToJson(f);
      result.messages.push_back({events::FillSubject(symbol), event.id, events::Serialize(event)});
      ++result.fills;
      result.updates.push_back({id, f.status, std::move(after)});
    }
  }
  return result;
}

bool RestingBook::HasRoom(size_t more) const {
  std::lock_guard lock(mu_);
  return orders_.size() + more <= capacity_;
}

void RestingBook::Add(const std::string& order_id, RestingOrder order) {
  std::lock_guard lock(mu_);
  orders_.try_emplace(order_id, std::move(order));
}

void RestingBook::Apply(const std::vector<TickUpdate>& updates) {
  std::lock_guard lock(mu_);
  for (const TickUpdate& u : updates) {
    if (u.rests()) {
      orders_.insert_or_assign(u.order_id, u.after);
    } else {
      orders_.erase(u.order_id);
    }
  }
}

Status RestingBook::Replay(std::string_view event_json) {
  auto e = events::ParseEnvelope(event_json);
  if (!e) return Status::Error(e.error());
  if (e->type == events::kTypeExecReport) {
    auto r = events::ParseExecReportPayload(e->payload);
    if (!r) return Status::Error(r.error());
    std::lock_guard lock(mu_);
    if (r->status != "accepted") {
      orders_.erase(r->order_id);  // its end
      return {};
    }
    auto order = RestingFromReport(*e, *r);
    if (!order) return Status::Error("accepted report " + e->id + " without the order's terms");
    orders_.try_emplace(r->order_id, std::move(*order));
    return {};
  }
  if (e->type != events::kTypeFill) return {};
  auto f = events::ParseFillPayload(e->payload);
  if (!f) return Status::Error(f.error());
  std::lock_guard lock(mu_);
  auto it = orders_.find(f->order_id);
  if (it == orders_.end() || f->fill_no <= it->second.fills) return {};  // not resting, or from before it rested
  if (f->leaves_qty <= Decimal()) {
    orders_.erase(it);
    return {};
  }
  it->second.fills = f->fill_no;
  it->second.cum = f->cum_qty;
  it->second.avg_price = f->avg_price;
  return {};
}

RestingList RestingBook::Snapshot() const {
  std::lock_guard lock(mu_);
  return {orders_.begin(), orders_.end()};
}

std::optional<RestingOrder> RestingBook::Find(const std::string& order_id) const {
  std::lock_guard lock(mu_);
  auto it = orders_.find(order_id);
  if (it == orders_.end()) return std::nullopt;
  return it->second;
}

size_t RestingBook::size() const {
  std::lock_guard lock(mu_);
  return orders_.size();
}

}  // namespace tradepipe::execsim
