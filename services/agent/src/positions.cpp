#include "positions.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "tradepipe/common/clock.hpp"

namespace tradepipe::agent {

ApplyOutcome Positions::Apply(const std::string& fill_id, const std::string& symbol, events::Side side,
                              events::Decimal qty, int64_t at_ns) {
  const bus::SeenIds::Key key = bus::SeenIds::Digest(fill_id);
  std::lock_guard lock(mu_);
  if (applied_.Contains(key)) return ApplyOutcome::kDuplicate;
  const auto it = net_.find(symbol);
  const events::Decimal current = it == net_.end() ? events::Decimal() : it->second;
  const auto next = side == events::Side::kBuy ? current.CheckedAdd(qty) : current.CheckedSub(qty);
  if (!next) return ApplyOutcome::kOutOfRange;
  applied_.Insert(key, at_ns != 0 ? at_ns : WallNanos());
  net_[symbol] = *next;
  return ApplyOutcome::kApplied;
}

events::Decimal Positions::Of(const std::string& symbol) const {
  std::lock_guard lock(mu_);
  auto it = net_.find(symbol);
  return it == net_.end() ? events::Decimal() : it->second;
}

std::map<std::string, events::Decimal> Positions::Snapshot() const {
  std::lock_guard lock(mu_);
  return net_;
}

size_t Positions::fills() const { return applied_.size(); }

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
  return positions.Apply(e->id, e->symbol, fill->side, fill->qty, at_ns);
}

std::string Positions::ToJson() const {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const auto& [symbol, qty] : Snapshot()) {
    w.Key(symbol.data(), static_cast<rapidjson::SizeType>(symbol.size()));
    const std::string text = qty.ToString();
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace tradepipe::agent
