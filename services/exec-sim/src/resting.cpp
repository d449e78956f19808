#include "resting.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <unordered_map>

#include "market.hpp"
#include "seeded.hpp"
#include "tradepipe/events/ids.hpp"
#include "tradepipe/events/subject.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::execsim {
namespace {

using events::Decimal;
using events::Side;

__extension__ using Wide = __int128;  // GCC and Clang; the extension keeps -Wpedantic quiet

constexpr int64_t kNanosPerDay = 86'400LL * 1'000'000'000LL;

int64_t UtcDay(int64_t ns) { return ns >= 0 ? ns / kNanosPerDay : (ns - kNanosPerDay + 1) / kNanosPerDay; }

// A resting order in its side's queue, with the keys of its priority beside it (sorting through
// the pointers read every order's memory at each comparison).
struct Queued {
  explicit Queued(const RestingEntry& e)
      : stop(e.order->stop.has_value()), limit(e.order->limit), decided_ns(e.order->decided_ns), entry(&e) {}
  bool stop;
  Decimal limit;
  int64_t decided_ns;
  const RestingEntry* entry;
};

// Whether resting order `a` comes before `b` at one side of the book (`side`'s).
bool Ahead(Side side, const Queued& a, const Queued& b) {
  if (a.stop != b.stop) return a.stop;  // a triggered stop is a market order
  if (!a.stop && a.limit != b.limit) return side == Side::kBuy ? a.limit > b.limit : a.limit < b.limit;
  if (a.decided_ns != b.decided_ns) return a.decided_ns < b.decided_ns;
  return a.entry->id < b.entry->id;
}

}  // namespace

std::optional<RestingOrder> RestingFromReport(const events::Envelope& report,
                                              const events::ExecReportPayload& payload) {
  if (payload.status != "accepted" || !payload.side || !payload.qty || !(payload.limit_price || payload.stop_price) ||
      (payload.time_in_force != events::TimeInForce::kDay && payload.time_in_force != events::TimeInForce::kGtc)) {
    return std::nullopt;
  }
  RestingOrder order;
  order.parent = report;
  order.parent.type = events::kTypeOrder;
  // The parent of its events: the order (an exit's: its entry), the report's cause.
  order.parent.id = report.causation_id.empty() ? payload.order_id : report.causation_id;
  order.parent.payload = "{}";
  order.stated_ns = report.StampOf("filled").value_or(0);
  // The order's stamps: the report's without the one it added.
  std::erase_if(order.parent.ts, [](const events::Stamp& s) { return s.name == "filled" || s.name == "tick"; });
  order.side = *payload.side;
  order.qty = *payload.qty;
  order.limit = payload.limit_price.value_or(Decimal());
  order.stop = payload.stop_price;
  order.take_profit = payload.take_profit;
  order.stop_loss = payload.stop_loss;
  order.oco = payload.oco;
  order.time_in_force = *payload.time_in_force;
  order.cum = payload.filled_qty;
  order.avg_price = payload.avg_price.value_or(Decimal());
  order.fills = payload.fills.value_or(0);
  order.decided_ns = report.StampOf("decided").value_or(report.StampOf("exec_consumed").value_or(0));
  return order;
}

events::ExecReportPayload AcceptedReport(const std::string& id, const RestingOrder& order) {
  events::ExecReportPayload r;
  r.order_id = id;
  r.status = "accepted";
  r.filled_qty = order.cum;
  r.leaves_qty = order.leaves();
  if (order.cum > Decimal()) r.avg_price = order.avg_price;
  r.side = order.side;
  r.qty = order.qty;
  if (order.stop) {
    r.stop_price = order.stop;
  } else {
    r.limit_price = order.limit;
  }
  r.time_in_force = order.time_in_force;
  r.fills = order.fills;
  r.take_profit = order.take_profit;
  r.stop_loss = order.stop_loss;
  r.oco = order.oco;
  return r;
}

Exits PlaceExits(const std::string& entry_id, const RestingOrder& entry, Decimal executed,
                 const MakeEvent& make_event) {
  Exits exits;
  if (executed <= Decimal() || (!entry.take_profit && !entry.stop_loss)) return exits;
  const std::string tp_id = entry_id + "/tp";
  const std::string sl_id = entry_id + "/sl";
  auto place = [&](const std::string& id, const std::string& other, bool is_stop, Decimal price) {
    RestingOrder exit;
    exit.parent = entry.parent;
    exit.side = entry.side == Side::kBuy ? Side::kSell : Side::kBuy;
    exit.qty = executed;
    if (is_stop) {
      exit.stop = price;
    } else {
      exit.limit = price;
    }
    exit.time_in_force = events::TimeInForce::kGtc;
    exit.decided_ns = entry.decided_ns;
    exit.oco = other;
    events::Envelope event = make_event(events::kTypeExecReport, events::ReportId(id, 1));
    event.payload = events::ToJson(AcceptedReport(id, exit));
    exit.stated_ns = event.StampOf("filled").value_or(0);
    exits.messages.push_back({events::ReportSubject(entry.parent.symbol), event.id, events::Serialize(event)});
    exits.orders.emplace_back(id, std::move(exit));
  };
  const bool pair = entry.take_profit && entry.stop_loss;
  if (entry.take_profit) place(tp_id, pair ? sl_id : std::string(), false, *entry.take_profit);
  if (entry.stop_loss) place(sl_id, pair ? tp_id : std::string(), true, *entry.stop_loss);
  return exits;
}

namespace {

// One tick's work: the orders as they change during it, and what it publishes. An order is
// copied only when the tick changes it (most resting orders wait: copying them all made a tick
// over 100,000 orders take longer than the tick interval, docs/trading-core.md section 7).
class TickRun {
 public:
  TickRun(const RestingList& orders, int64_t tick_ns, int64_t filled_ns, TickResult& result)
      : orders_(orders), tick_ns_(tick_ns), filled_ns_(filled_ns), result_(result) {}

  // `id` (whose state before the tick is `original`) as the tick has left it so far; nullptr
  // once ended this tick.
  const RestingOrder* Current(const std::string& id, const RestingOrder& original) const {
    if (ended_.count(id)) return nullptr;
    auto it = working_.find(id);
    return it == working_.end() ? &original : &it->second;
  }

  // The same, to change (copied on the first change).
  RestingOrder* Write(const std::string& id, const RestingOrder& original) {
    if (ended_.count(id)) return nullptr;
    return &working_.try_emplace(id, original).first->second;
  }

  // By id alone (the other of a pair): nullptr when it is not among the orders or ended.
  RestingOrder* Live(const std::string& id) {
    if (ended_.count(id)) return nullptr;
    if (auto it = working_.find(id); it != working_.end()) return &it->second;
    if (index_by_id_.empty()) {
      index_by_id_.reserve(orders_.size());
      for (const auto& [order_id, order] : orders_) index_by_id_.emplace(order_id, order.get());
    }
    auto original = index_by_id_.find(id);
    return original == index_by_id_.end() ? nullptr : Write(id, *original->second);
  }

  void Fill(const std::string& id, RestingOrder& order, Decimal qty, Decimal price) {
    const Wide notional =
        static_cast<Wide>(order.avg_price.units()) * order.cum.units() + static_cast<Wide>(qty.units()) * price.units();
    order.fills += 1;
    order.cum = order.cum + qty;
    // The running average from the last event's values, so a rebuilt order continues exactly.
    order.avg_price = Decimal::FromUnits(static_cast<int64_t>(notional / order.cum.units()));
    events::FillPayload f;
    f.order_id = id;
    f.fill_no = order.fills;
    f.side = order.side;
    f.qty = qty;
    f.price = price;
    f.cum_qty = order.cum;
    f.leaves_qty = order.leaves();
    f.status = f.leaves_qty == Decimal() ? "filled" : "partial";
    f.avg_price = order.avg_price;
    Publish(order, events::kTypeFill, events::FillId(id, f.fill_no), events::ToJson(f), events::FillSubject);
    ++result_.fills;
    Update(id, f.status, order);
  }

  // Ends `order` with an exec_report (its second: the first was its acceptance).
  void End(const std::string& id, RestingOrder& order, const char* status) {
    events::ExecReportPayload r;
    r.order_id = id;
    r.status = status;
    r.filled_qty = order.cum;
    r.leaves_qty = order.leaves() < Decimal() ? Decimal() : order.leaves();
    if (order.cum > Decimal()) r.avg_price = order.avg_price;
    Publish(order, events::kTypeExecReport, events::ReportId(id, 2), events::ToJson(r), events::ReportSubject);
    Update(id, status, order);
  }

  // After `id` executed `qty` this tick: the other of its pair shrinks by it, and is cancelled
  // when `id` is done or nothing is left of it; an entry done places its exits.
  void AfterExecution(const std::string& id, RestingOrder& order, Decimal qty) {
    if (RestingOrder* other = order.oco.empty() ? nullptr : Live(order.oco)) {
      other->qty = other->qty - qty;
      if (order.leaves() == Decimal() || other->leaves() <= Decimal()) {
        End(order.oco, *other, "cancelled");
      } else {
        Update(order.oco, other->cum > Decimal() ? "partial" : "accepted", *other);
      }
    }
    if (order.leaves() == Decimal()) PlaceExitsOf(id, order, order.cum);
  }

  void PlaceExitsOf(const std::string& id, const RestingOrder& order, Decimal executed) {
    Exits exits = PlaceExits(id, order, executed, [&](std::string_view type, std::string event_id) {
      return Stamped(order.parent.Child(type, std::move(event_id)));
    });
    for (auto& m : exits.messages) result_.messages.push_back(std::move(m));
    for (auto& [exit_id, exit] : exits.orders) Update(exit_id, "accepted", exit);
  }

  // States `order`'s terms and state again (RestingFromReport rebuilds it from this report alone).
  void Restate(const std::string& id, RestingOrder& order, uint64_t tick) {
    order.stated_ns = filled_ns_;
    Publish(order, events::kTypeExecReport, events::RestatementId(id, tick), events::ToJson(AcceptedReport(id, order)),
            events::ReportSubject);
    ++result_.restated;
    Update(id, order.cum > Decimal() ? "partial" : "accepted", order);
  }

  void Expire(const std::string& id, RestingOrder& order) {
    End(id, order, "expired");
    ++result_.expired;
    if (order.cum > Decimal()) PlaceExitsOf(id, order, order.cum);
  }

 private:
  events::Envelope Stamped(events::Envelope event) const {
    event.AddStamp("tick", tick_ns_);
    event.AddStamp("filled", filled_ns_);
    return event;
  }

  void Publish(const RestingOrder& order, std::string_view type, std::string id, std::string payload,
               std::string (*subject)(std::string_view)) {
    events::Envelope event = Stamped(order.parent.Child(type, std::move(id)));
    event.payload = std::move(payload);
    result_.messages.push_back({subject(order.parent.symbol), event.id, events::Serialize(event)});
  }

  void Update(const std::string& id, std::string status, const RestingOrder& order) {
    if (status != "accepted" && status != "partial") ended_.insert(id);
    auto [it, inserted] = index_.try_emplace(id, result_.updates.size());
    if (inserted) {
      result_.updates.push_back({id, std::move(status), order});
    } else {
      result_.updates[it->second].status = std::move(status);
      result_.updates[it->second].after = order;
    }
  }

  const RestingList& orders_;
  std::unordered_map<std::string_view, const RestingOrder*> index_by_id_;  // built on first use
  const int64_t tick_ns_;
  const int64_t filled_ns_;
  TickResult& result_;
  std::map<std::string, RestingOrder> working_;  // the orders changed so far
  std::set<std::string> ended_;
  std::map<std::string, size_t> index_;  // order id → its update
};

}  // namespace

TickResult MatchTick(const Market& market, const RestingList& orders, uint64_t tick, int64_t tick_ns, int64_t filled_ns,
                     int64_t touch_fill_bps, Restatements restatements) {
  TickResult result;
  TickRun run(orders, tick_ns, filled_ns, result);
  const int64_t today = UtcDay(tick_ns);
  std::map<std::pair<std::string, Side>, std::vector<Queued>> sides;
  for (const RestingEntry& e : orders) sides[{e.order->parent.symbol, e.order->side}].emplace_back(e);

  for (auto& [where, queue] : sides) {
    const auto& [symbol, side] = where;
    std::sort(queue.begin(), queue.end(), [side](const Queued& a, const Queued& b) { return Ahead(side, a, b); });
    std::vector<Level> levels;  // the side the orders trade against, taken as they fill
    bool have_book = false;
    for (const Queued& q : queue) {
      const RestingEntry* e = q.entry;
      const std::string& id = e->id;
      const RestingOrder* current = run.Current(id, *e->order);
      if (current == nullptr) continue;  // ended this tick (the other of its pair filled)
      if (current->time_in_force == events::TimeInForce::kDay && today > UtcDay(current->decided_ns)) {
        run.Expire(id, *run.Write(id, *e->order));
        continue;
      }
      if (!have_book) {
        Book book = market.TickBookAt(symbol, tick, side);
        levels = std::move(side == Side::kBuy ? book.asks : book.bids);
        have_book = true;
      }
      auto best = std::find_if(levels.begin(), levels.end(), [](const Level& l) { return l.qty > Decimal(); });
      if (best == levels.end()) continue;
      const Decimal before = current->cum;
      RestingOrder* order = nullptr;  // written from here on: it executes
      if (current->stop) {
        // A buy stop triggers when the best ask reaches it from below, a sell stop when the best bid does from above.
        if (side == Side::kBuy ? best->price < *current->stop : best->price > *current->stop) continue;
        order = run.Write(id, *e->order);
        for (auto l = best; l != levels.end() && order->leaves() > Decimal(); ++l) {
          const Decimal part = std::min(l->qty, order->leaves());
          if (part <= Decimal()) continue;
          l->qty = l->qty - part;
          run.Fill(id, *order, part, l->price);
        }
      } else {
        auto within = [&](const Level& l) {
          return side == Side::kBuy ? l.price <= current->limit : l.price >= current->limit;
        };
        if (!within(*best)) continue;
        if (best->price == current->limit &&
            !seeded::Chance(seeded::Mix(seeded::Hash(market.options().seed + 3, id) ^ seeded::Mix(tick)),
                            touch_fill_bps)) {
          continue;  // touched, not crossed: the seeded fill model says no this tick
        }
        Decimal take;
        for (auto l = best; l != levels.end() && within(*l) && take < current->leaves(); ++l) {
          const Decimal part = std::min(l->qty, current->leaves() - take);
          l->qty = l->qty - part;
          take = take + part;
        }
        if (take <= Decimal()) continue;
        order = run.Write(id, *e->order);
        run.Fill(id, *order, take, order->limit);  // a maker fills at its own price
      }
      if (order->cum > before) run.AfterExecution(id, *order, order->cum - before);
    }
  }
  // Exits placed this tick were stated by their accepted reports (they are not among `orders`).
  std::vector<std::pair<int64_t, const RestingEntry*>> due;  // by when last stated, then by id
  for (const RestingEntry& e : orders) {
    // A tick changes no order's statement before this pass: most orders are done with here.
    if (e.order->stated_ns >= restatements.before_ns) continue;
    if (const RestingOrder* current = run.Current(e.id, *e.order)) due.emplace_back(current->stated_ns, &e);
  }
  const size_t now = std::min(due.size(), restatements.per_tick);
  std::partial_sort(due.begin(), due.begin() + static_cast<std::ptrdiff_t>(now), due.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first < b.first : a.second->id < b.second->id;
                    });
  for (size_t i = 0; i < now; ++i) {
    const RestingEntry& e = *due[i].second;
    run.Restate(e.id, *run.Write(e.id, *e.order), tick);
  }
  return result;
}

TickResult CancelResting(const RestingList& orders, int64_t now_ns) {
  TickResult result;
  TickRun run(orders, now_ns, now_ns, result);
  for (const auto& [id, unused] : orders) {
    RestingOrder* order = run.Live(id);
    if (order == nullptr) continue;
    run.End(id, *order, "cancelled");
    if (order->cum > Decimal()) run.PlaceExitsOf(id, *order, order->cum);  // as an expiry: what executed is protected
  }
  return result;
}

size_t RestingBook::Room() const {
  std::lock_guard lock(mu_);
  return orders_.size() >= capacity_ ? 0 : capacity_ - orders_.size();
}

void RestingBook::Add(const std::string& order_id, RestingOrder order) {
  auto shared = std::make_shared<const RestingOrder>(std::move(order));  // made before the lock is taken
  std::lock_guard lock(mu_);
  orders_.try_emplace(order_id, std::move(shared));
}

void RestingBook::Apply(const std::vector<TickUpdate>& updates) {
  std::lock_guard lock(mu_);
  for (const TickUpdate& u : updates) {
    if (u.rests()) {
      orders_.insert_or_assign(u.order_id, std::make_shared<const RestingOrder>(u.after));
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
    // Its first report, or a restatement: the order as it stands at this point of the stream.
    orders_.insert_or_assign(r->order_id, std::make_shared<const RestingOrder>(std::move(*order)));
    return {};
  }
  if (e->type != events::kTypeFill) return {};
  auto f = events::ParseFillPayload(e->payload);
  if (!f) return Status::Error(f.error());
  std::lock_guard lock(mu_);
  auto it = orders_.find(f->order_id);
  if (it == orders_.end() || f->fill_no <= it->second->fills) return {};  // not resting, or from before it rested
  if (!it->second->oco.empty()) {  // an exit's fill shrinks the other of its pair (its end is a report)
    if (auto other = orders_.find(it->second->oco); other != orders_.end()) {
      auto shrunk = std::make_shared<RestingOrder>(*other->second);
      shrunk->qty = shrunk->qty - f->qty;
      other->second = std::move(shrunk);
    }
  }
  if (f->leaves_qty <= Decimal()) {
    orders_.erase(it);
    return {};
  }
  auto moved_on = std::make_shared<RestingOrder>(*it->second);
  moved_on->fills = f->fill_no;
  moved_on->cum = f->cum_qty;
  moved_on->avg_price = f->avg_price;
  it->second = std::move(moved_on);
  return {};
}

RestingList RestingBook::Snapshot() const {
  RestingList list;
  std::lock_guard lock(mu_);
  list.reserve(orders_.size());
  for (const auto& [id, order] : orders_) list.emplace_back(id, order);
  return list;
}

std::optional<RestingOrder> RestingBook::Find(const std::string& order_id) const {
  std::lock_guard lock(mu_);
  auto it = orders_.find(order_id);
  if (it == orders_.end()) return std::nullopt;
  return *it->second;
}

size_t RestingBook::size() const {
  std::lock_guard lock(mu_);
  return orders_.size();
}

Result<Rebuilt> RebuildFromExecutions(bus::Bus& bus, bus::SeenIds& published, RestingBook& book,
                                      metrics::Metrics& metrics) {
  Rebuilt rebuilt;
  auto usage = bus.DescribeStream("EXECUTIONS");
  if (!usage) return Result<Rebuilt>::Error(usage.error());
  rebuilt.first_seq = std::max<uint64_t>(usage->first_seq, 1);
  rebuilt.max_age_ns = usage->max_age_ns;
  auto read = bus.ReadStream("EXECUTIONS", "exec.>", /*headers_only=*/false, [&](const bus::StreamEntry& e) {
    if (!e.msg_id.empty()) published.Insert(e.msg_id, e.stored_ns);
    if (!book.Replay(e.data)) ++rebuilt.unusable;
  });
  if (!read) return Result<Rebuilt>::Error(read.error());
  rebuilt.events = *read;
  spdlog::info("executions already in EXECUTIONS remembered={} resting orders={} unusable={}", rebuilt.events,
               book.size(), rebuilt.unusable);
  if (rebuilt.first_seq > 1) {
    spdlog::warn(
        "EXECUTIONS starts at sequence {}: its first events are older than its age limit and gone; orders resting "
        "since then were rebuilt from their restatements (every quarter of the age limit while exec-sim runs): one "
        "whose last statement is gone too (exec-sim stopped for over three quarters of the age limit) is not",
        rebuilt.first_seq);
  }
  metrics
      .Gauge("tradepipe_execsim_rebuilt_from_partial_history",
             "1 when EXECUTIONS had lost its first events at start (to its age limit: resting orders come back from "
             "their restatements)")
      .Set(rebuilt.first_seq > 1 ? 1.0 : 0.0);
  return rebuilt;
}

}  // namespace tradepipe::execsim
