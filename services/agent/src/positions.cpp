#include "positions.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "tradepipe/common/clock.hpp"

namespace tradepipe::agent {
namespace {

using events::Decimal;

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

void WriteDecimal(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key, Decimal value) {
  w.Key(key);
  const std::string text = value.ToString();
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

}  // namespace

ApplyOutcome Positions::Apply(const std::string& fill_id, const std::string& symbol, events::Side side, Decimal qty,
                              Decimal price, int64_t at_ns) {
  const bus::SeenIds::Key key = bus::SeenIds::Digest(fill_id);
  std::lock_guard lock(mu_);
  if (applied_.Contains(key)) return ApplyOutcome::kDuplicate;
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
  symbols_[symbol] = *next;
  realised_ = *total;
  if (day >= day_) {  // a fill of an earlier day (replayed late) counts in the total only
    day_ = day;
    realised_day_ = *today;
  }
  return ApplyOutcome::kApplied;
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
    if (p.qty == Decimal()) continue;
    ++view.open_positions;
    const auto exposure = p.qty.Abs().CheckedMul(p.last_price);
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
  w.StartObject();
  WriteDecimal(w, "realised_pnl", account.realised_pnl);
  WriteDecimal(w, "realised_pnl_today", account.realised_today);
  WriteDecimal(w, "gross_exposure", account.gross_exposure);
  w.Key("open_positions");
  w.Int64(account.open_positions);
  w.Key("symbols");
  w.StartObject();
  for (const auto& [symbol, p] : symbols_) {
    w.Key(symbol.data(), static_cast<rapidjson::SizeType>(symbol.size()));
    w.StartObject();
    WriteDecimal(w, "qty", p.qty);
    WriteDecimal(w, "avg_price", p.avg_price);
    WriteDecimal(w, "realised_pnl", p.realised_pnl);
    WriteDecimal(w, "last_price", p.last_price);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Status RebuildFromStreams(bus::Bus& bus, bus::SeenIds& decided, Positions& positions) {
  auto decisions = bus::RememberPublished(bus, "ORDERS", "orders.>", decided);
  if (!decisions) return Status::Error("rebuilding decisions from ORDERS: " + decisions.error());
  uint64_t unusable = 0;
  auto fills = bus.ReadStream("EXECUTIONS", "exec.fill.>", false, [&](const bus::StreamEntry& e) {
    if (!ApplyFillEvent(positions, e.data, e.stored_ns)) ++unusable;
  });
  if (!fills) return Status::Error("rebuilding positions from EXECUTIONS: " + fills.error());
  spdlog::info("rebuilt from the streams: decisions in ORDERS={} fills in EXECUTIONS={} unusable={} symbols={}",
               *decisions, *fills, unusable, positions.Snapshot().size());
  return {};
}

Result<ApplyOutcome> ApplyFillEvent(Positions& positions, std::string_view data, int64_t at_ns) {
  using R = Result<ApplyOutcome>;
  auto e = events::ParseEnvelope(data);
  if (!e) return R::Error(e.error());
  auto fill = events::ParseFillPayload(e->payload);
  if (!fill) return R::Error(fill.error());
  const int64_t filled = e->StampOf("filled").value_or(at_ns != 0 ? at_ns : WallNanos());
  return positions.Apply(e->id, e->symbol, fill->side, fill->qty, fill->price, filled);
}

}  // namespace tradepipe::agent
