#include "market.hpp"

#include "tradepipe/events/ids.hpp"
#include "tradepipe/events/subject.hpp"

namespace tradepipe::execsim {
namespace {

// FNV-1a, seeded: stable across platforms and runs (std::hash is not).
uint64_t Hash(uint64_t seed, std::string_view text) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

constexpr int64_t kCent = events::Decimal::kOne / 100;

events::Decimal RoundToCent(int64_t units) { return events::Decimal::FromUnits((units + kCent / 2) / kCent * kCent); }

}  // namespace

events::Decimal Market::Mid(const std::string& symbol, const std::string& order_id) const {
  // Base mid between 20.00 and 499.99, then ± jitter_bps for this order.
  const int64_t base = (2000 + static_cast<int64_t>(Hash(options_.seed, symbol) % 48000)) * kCent;
  const int64_t span = 2 * options_.jitter_bps + 1;
  const int64_t jitter =
      static_cast<int64_t>(Hash(options_.seed + 1, order_id) % static_cast<uint64_t>(span)) - options_.jitter_bps;
  return events::Decimal::FromUnits(base * (10'000 + jitter) / 10'000);
}

events::Decimal Market::Touch(const std::string& symbol, const std::string& order_id, events::Side side) const {
  const int64_t mid = Mid(symbol, order_id).units();
  const int64_t half_spread = mid * options_.spread_bps / 20'000;
  return RoundToCent(side == events::Side::kBuy ? mid + half_spread : mid - half_spread);
}

Result<Execution> Execute(const events::Envelope& order, const Market& market, int64_t consumed_ns, int64_t filled_ns) {
  if (order.type != events::kTypeOrder) return Result<Execution>::Error("not an order: " + order.type);
  auto payload = events::ParseOrderPayload(order.payload);
  if (!payload) return Result<Execution>::Error("order payload: " + payload.error());
  if (payload->order_id != order.id) return Result<Execution>::Error("order_id does not match the envelope id");
  if (payload->qty <= events::Decimal()) return Result<Execution>::Error("order qty must be positive");

  const events::Decimal price = market.Touch(order.symbol, order.id, payload->side);
  bool marketable = true;
  if (payload->order_type == "limit") {
    if (!payload->limit_price) return Result<Execution>::Error("limit order without limit_price");
    marketable = payload->side == events::Side::kBuy ? price <= *payload->limit_price : price >= *payload->limit_price;
  } else if (payload->order_type != "market") {
    return Result<Execution>::Error("unknown order_type " + payload->order_type);
  }

  // One event per state change (docs/events.md): the fill when the order executes (it carries the
  // order's state after it), an exec_report when it ends without executing.
  Execution ex;
  ex.filled = marketable;
  events::Envelope event = marketable ? order.Child(events::kTypeFill, events::FillId(order.id, 1))
                                      : order.Child(events::kTypeExecReport, events::ReportId(order.id, 1));
  event.AddStamp("exec_consumed", consumed_ns);
  event.AddStamp("filled", filled_ns);
  if (marketable) {
    events::FillPayload f;
    f.order_id = order.id;
    f.side = payload->side;
    f.qty = payload->qty;
    f.price = price;
    f.status = "filled";
    f.cum_qty = payload->qty;
    f.avg_price = price;
    event.payload = events::ToJson(f);
    ex.messages.push_back({events::FillSubject(order.symbol), event.id, events::Serialize(event)});
  } else {
    events::ExecReportPayload r;
    r.order_id = order.id;
    r.status = "expired";
    r.leaves_qty = payload->qty;
    event.payload = events::ToJson(r);
    ex.messages.push_back({events::ReportSubject(order.symbol), event.id, events::Serialize(event)});
  }
  return ex;
}

}  // namespace tradepipe::execsim
