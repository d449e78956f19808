#include "positions.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_set>

#include "tradepipe/common/clock.hpp"
#include "tradepipe/events/json_write.hpp"

namespace tradepipe::agent {
namespace {

using events::Decimal;
using events::WriteDecimal;

constexpr int64_t kNanosPerDay = 86'400LL * 1'000'000'000LL;

// The position after a fill, or nullopt beyond Decimal's range. `realised` receives the P&L the
// fill realises.
std::optional<SymbolPosition> AfterFill(const SymbolPosition& p, events::Side side, Decimal qty, Decimal price,
                                        Decimal& realised) {
  SymbolPosition next = p;
  next.last_price = price;
  realised = Decimal();
  const Decimal signed_qty = side == events::Side::kBuy ? qty : -qty;
  const auto moved = p.qty.CheckedAdd(signed_qty);
  if (!moved) return std::nullopt;
  next.qty = *moved;
  const bool adds = p.qty == Decimal() || (p.qty > Decimal()) == (side == events::Side::kBuy);
  if (adds) {
    // Quantity-weighted mean of the held and the new.
    const auto held_cost = p.qty.Abs().CheckedMul(p.avg_price);
    const auto new_cost = qty.CheckedMul(price);
    if (!held_cost || !new_cost) return std::nullopt;
    const auto cost = held_cost->CheckedAdd(*new_cost);
    const auto avg = cost ? cost->CheckedDiv(next.qty.Abs()) : std::nullopt;
    if (!avg) return std::nullopt;
    next.avg_price = *avg;
    return next;
  }
  const Decimal closed = std::min(qty, p.qty.Abs());
  const auto per_unit = price.CheckedSub(p.avg_price);
  auto pnl = per_unit ? per_unit->CheckedMul(closed) : std::nullopt;
  if (!pnl) return std::nullopt;
  realised = p.qty > Decimal() ? *pnl : -*pnl;
  const auto total = p.realised_pnl.CheckedAdd(realised);
  if (!total) return std::nullopt;
  next.realised_pnl = *total;
  if (next.qty == Decimal()) {
    next.avg_price = Decimal();
  } else if ((next.qty > Decimal()) != (p.qty > Decimal())) {
    next.avg_price = price;  // through flat: the rest opens at this fill's price
  }
  return next;
}

}  // namespace

ApplyOutcome Positions::Apply(const std::string& fill_id, const std::string& order_id, const std::string& symbol,
                              events::Side side, Decimal qty, Decimal price, int64_t at_ns, uint64_t sequence) {
  const bus::SeenIds::Key key = bus::SeenIds::Digest(fill_id);
  std::lock_guard lock(mu_);
  HandledLocked(sequence);  // whatever comes of it, the event is done with (an unusable fill is terminated)
  if (applied_.Contains(key)) return ApplyOutcome::kDuplicate;
  if (sequence != 0 && sequence <= restored_) {
    // In the snapshot's positions already: what it did to its open order is not.
    applied_.Insert(key, at_ns);
    TakeFromOpenOrder(order_id, qty);
    return ApplyOutcome::kDuplicate;
  }
  const auto it = symbols_.find(symbol);
  const SymbolPosition current = it == symbols_.end() ? SymbolPosition{} : it->second;
  Decimal realised;
  const auto next = AfterFill(current, side, qty, price, realised);
  if (!next) return ApplyOutcome::kOutOfRange;
  const int64_t day = at_ns / kNanosPerDay;
  const auto total = realised_.CheckedAdd(realised);
  const auto today = (day == day_ ? realised_day_ : Decimal()).CheckedAdd(realised);
  if (!total || !today) return ApplyOutcome::kOutOfRange;
  applied_.Insert(key, at_ns);
  TakeFromOpenOrder(order_id, qty);
  // The symbol's open quantity is kept beside its position (TakeFromOpenOrder adjusted it).
  const Decimal open_qty = symbols_[symbol].open_qty;
  symbols_[symbol] = *next;
  symbols_[symbol].open_qty = open_qty;
  realised_ = *total;
  if (day >= day_) {  // a fill of an earlier day (replayed late) counts in the total only
    day_ = day;
    realised_day_ = *today;
  }
  return ApplyOutcome::kApplied;
}

void Positions::HandledLocked(uint64_t sequence) {
  if (sequence == 0 || sequence <= through_) return;
  if (sequence != through_ + 1) {
    // A gap below it: a delivery still to come (lost in flight, redelivered after the ack wait).
    if (ahead_.size() < kMaxAhead) {
      ahead_.insert(sequence);
    } else if (!ahead_overflow_) {
      ahead_overflow_ = true;  // no snapshot until a restart rebuilds from the stream
      spdlog::error("execution events: more than {} handled above a gap at sequence {}: positions snapshots stop",
                    kMaxAhead, through_ + 1);
    }
    return;
  }
  through_ = sequence;
  while (!ahead_.empty() && *ahead_.begin() == through_ + 1) {
    through_ = *ahead_.begin();
    ahead_.erase(ahead_.begin());
  }
}

void Positions::Saw(uint64_t sequence) {
  std::lock_guard lock(mu_);
  HandledLocked(sequence);
}

void Positions::GoneBefore(uint64_t first_seq) {
  std::lock_guard lock(mu_);
  if (first_seq > through_ + 1) through_ = first_seq - 1;
  while (!ahead_.empty() && *ahead_.begin() <= through_ + 1) {
    through_ = std::max(through_, *ahead_.begin());
    ahead_.erase(ahead_.begin());
  }
}

std::optional<AccountState> Positions::ExportAccount() const {
  std::lock_guard lock(mu_);
  if (!ahead_.empty() || ahead_overflow_) return std::nullopt;
  AccountState state{symbols_, realised_, day_, realised_day_, through_};
  for (auto& entry : state.symbols) entry.second.open_qty = Decimal();
  return state;
}

uint64_t Positions::executions_through() const {
  std::lock_guard lock(mu_);
  return through_;
}

void Positions::RestoreAccount(const AccountState& state) {
  std::lock_guard lock(mu_);
  symbols_ = state.symbols;
  for (auto& entry : symbols_) entry.second.open_qty = Decimal();
  realised_ = state.realised_pnl;
  day_ = state.day;
  realised_day_ = state.realised_day;
  through_ = state.executions_through;
  restored_ = state.executions_through;
  ahead_.clear();
}

bool Positions::OpenOrder(const std::string& order_id, const std::string& symbol, events::Side side, Decimal qty) {
  std::lock_guard lock(mu_);
  if (open_.contains(order_id)) return false;  // registered already
  Decimal remaining = qty;
  if (const auto seen = unmatched_.find(order_id); seen != unmatched_.end()) {
    // Its fills or its end came first: only what they left is open.
    remaining = seen->second.ended ? Decimal() : remaining - std::min(seen->second.filled, remaining);
    unmatched_.erase(seen);
  }
  if (remaining <= Decimal()) return false;
  OpenLocked(order_id, symbol, side, remaining);
  return true;
}

bool Positions::OpenStatedOrder(const std::string& order_id, const std::string& symbol, events::Side side,
                                Decimal leaves) {
  std::lock_guard lock(mu_);
  if (open_.contains(order_id)) return false;
  if (const auto seen = unmatched_.find(order_id); seen != unmatched_.end()) {
    if (seen->second.ended) return false;
    unmatched_.erase(seen);  // its fills so far are in `leaves`
  }
  if (leaves <= Decimal()) return false;
  OpenLocked(order_id, symbol, side, leaves);
  return true;
}

void Positions::OpenLocked(const std::string& order_id, const std::string& symbol, events::Side side,
                           Decimal remaining) {
  const Decimal signed_qty = side == events::Side::kBuy ? remaining : -remaining;
  open_.emplace(order_id, Open{symbol, signed_qty});
  symbols_[symbol].open_qty = symbols_[symbol].open_qty + signed_qty;
  open_order_.push_back(order_id);
  while (open_.size() > open_capacity_ && !open_order_.empty()) {
    const auto it = open_.find(open_order_.front());
    open_order_.pop_front();
    if (it == open_.end()) continue;  // closed already
    symbols_[it->second.symbol].open_qty = symbols_[it->second.symbol].open_qty - it->second.remaining;
    open_.erase(it);
    ++forgotten_open_;
  }
  // Closed ids stay in the FIFO until they reach its front; keep it from growing past twice the bound.
  if (open_order_.size() > 2 * open_capacity_) {
    std::deque<std::string> live;
    for (auto& id : open_order_) {
      if (open_.contains(id)) live.push_back(std::move(id));
    }
    open_order_.swap(live);
  }
}

Positions::Unmatched& Positions::UnmatchedOf(const std::string& order_id) {
  auto [it, inserted] = unmatched_.try_emplace(order_id);
  if (inserted) {
    unmatched_order_.push_back(order_id);
    while (unmatched_order_.size() > open_capacity_) {
      unmatched_.erase(unmatched_order_.front());
      unmatched_order_.pop_front();
    }
    it = unmatched_.find(order_id);  // the bound may have rehashed the map
  }
  return it->second;
}

void Positions::CloseOrder(const std::string& order_id) {
  std::lock_guard lock(mu_);
  const auto it = open_.find(order_id);
  if (it == open_.end()) {
    if (!order_id.empty()) UnmatchedOf(order_id).ended = true;
    return;
  }
  symbols_[it->second.symbol].open_qty = symbols_[it->second.symbol].open_qty - it->second.remaining;
  open_.erase(it);
}

void Positions::TakeFromOpenOrder(const std::string& order_id, Decimal qty) {
  const auto it = open_.find(order_id);
  if (it == open_.end()) {  // not open (yet): remembered in case it is registered later
    if (!order_id.empty()) {
      Unmatched& seen = UnmatchedOf(order_id);
      seen.filled = seen.filled.CheckedAdd(qty).value_or(seen.filled);
    }
    return;
  }
  Open& order = it->second;
  const Decimal remaining = order.remaining.Abs();
  const Decimal take = std::min(qty, remaining);
  const Decimal signed_take = order.remaining > Decimal() ? take : -take;
  order.remaining = order.remaining - signed_take;
  symbols_[order.symbol].open_qty = symbols_[order.symbol].open_qty - signed_take;
  if (order.remaining == Decimal()) open_.erase(it);
}

std::vector<std::string> Positions::OpenOrdersOf(const std::string& symbol) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  std::unordered_set<std::string_view> listed;  // an order registered again is in open_order_ twice
  for (const std::string& id : open_order_) {
    auto it = open_.find(id);
    if (it != open_.end() && it->second.symbol == symbol && listed.insert(id).second) ids.push_back(id);
  }
  return ids;
}

size_t Positions::open_orders() const {
  std::lock_guard lock(mu_);
  return open_.size();
}

uint64_t Positions::forgotten_open_orders() const {
  std::lock_guard lock(mu_);
  return forgotten_open_;
}

Decimal Positions::Of(const std::string& symbol) const {
  std::lock_guard lock(mu_);
  auto it = symbols_.find(symbol);
  return it == symbols_.end() ? Decimal() : it->second.qty;
}

AccountView Positions::View(const std::string& symbol, int64_t now_ns) const {
  std::lock_guard lock(mu_);
  return ViewLocked(symbol, now_ns);
}

AccountView Positions::ViewLocked(const std::string& symbol, int64_t now_ns) const {
  AccountView view;
  if (auto it = symbols_.find(symbol); it != symbols_.end()) {
    view.symbol = it->second;
    view.has_last_price = true;
  }
  for (const auto& [name, p] : symbols_) {
    const Decimal held = p.qty + p.open_qty;
    if (held == Decimal()) continue;
    ++view.open_positions;
    // An open order of a symbol never filled has no price yet: it counts when it has one.
    const auto exposure = held.Abs().CheckedMul(p.last_price);
    const auto sum = exposure ? view.gross_exposure.CheckedAdd(*exposure) : std::nullopt;
    // Beyond the range the exposure is as large as it can be: every exposure limit refuses.
    view.gross_exposure = sum ? *sum : Decimal::FromUnits(INT64_MAX);
  }
  view.realised_pnl = realised_;
  view.realised_today = now_ns / kNanosPerDay == day_ ? realised_day_ : Decimal();
  return view;
}

std::map<std::string, SymbolPosition> Positions::Snapshot() const {
  std::lock_guard lock(mu_);
  return symbols_;
}

size_t Positions::fills() const { return applied_.size(); }

std::string Positions::ToJson(int64_t now_ns) const {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  std::lock_guard lock(mu_);
  const AccountView account = ViewLocked({}, now_ns);
  // Unrealised P&L marked at each symbol's last fill (exec-sim publishes no quotes between fills).
  auto unrealised = [](const SymbolPosition& p) {
    const auto per_unit = p.last_price.CheckedSub(p.avg_price);
    return per_unit ? per_unit->CheckedMul(p.qty).value_or(Decimal()) : Decimal();
  };
  Decimal unrealised_total;
  for (const auto& entry : symbols_) {
    unrealised_total = unrealised_total.CheckedAdd(unrealised(entry.second)).value_or(unrealised_total);
  }
  w.StartObject();
  WriteDecimal(w, "realised_pnl", account.realised_pnl);
  WriteDecimal(w, "unrealised_pnl", unrealised_total);
  WriteDecimal(w, "realised_pnl_today", account.realised_today);
  WriteDecimal(w, "gross_exposure", account.gross_exposure);
  w.Key("open_positions");
  w.Int64(account.open_positions);
  w.Key("symbols");
  w.StartObject();
  for (const auto& [symbol, p] : symbols_) {
    events::WriteKey(w, symbol);
    w.StartObject();
    WriteDecimal(w, "qty", p.qty);
    WriteDecimal(w, "open_qty", p.open_qty);
    WriteDecimal(w, "avg_price", p.avg_price);
    WriteDecimal(w, "realised_pnl", p.realised_pnl);
    WriteDecimal(w, "unrealised_pnl", unrealised(p));
    WriteDecimal(w, "last_price", p.last_price);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Status OpenOrderEvent(Positions& positions, std::string_view data) {
  auto e = events::ParseEnvelope(data);
  if (!e) return Status::Error(e.error());
  auto order = events::ParseOrderPayload(e->payload);
  if (!order) return Status::Error(order.error());
  positions.OpenOrder(order->order_id, e->symbol, order->side, order->qty);
  return {};
}

Result<ApplyOutcome> ApplyExecutionEvent(Positions& positions, std::string_view data, int64_t at_ns, uint64_t sequence,
                                         Reading reading) {
  using R = Result<ApplyOutcome>;
  auto e = events::ParseEnvelope(data);
  if (!e) return R::Error(e.error());
  if (e->type == events::kTypeExecReport) {
    auto report = events::ParseExecReportPayload(e->payload);
    if (!report) return R::Error(report.error());
    if (report->status != "accepted") {
      positions.CloseOrder(report->order_id);  // a final state
    } else if (reading == Reading::kRebuild && e->causation_id == report->order_id && report->side) {
      // One of ours (an entry's exits are caused by the entry, and never open here): its decision
      // may be gone from ORDERS, the report says what is left.
      positions.OpenStatedOrder(report->order_id, e->symbol, *report->side, report->leaves_qty);
    }
    positions.Saw(sequence);
    return ApplyOutcome::kReport;
  }
  if (e->type != events::kTypeFill) return R::Error("not an execution event: " + e->type);
  auto fill = events::ParseFillPayload(e->payload);
  if (!fill) return R::Error(fill.error());
  const int64_t filled = e->StampOf("filled").value_or(at_ns != 0 ? at_ns : WallNanos());
  return positions.Apply(e->id, fill->order_id, e->symbol, fill->side, fill->qty, fill->price, filled, sequence);
}

}  // namespace tradepipe::agent
