#include "gateway_metrics.hpp"

#include <string>

#include "tradepipe/common/clock.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::gateway {
namespace {
double Seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }
}  // namespace

ProcessorObserver ProcessorMetrics(metrics::Metrics& metrics) {
  auto& rejected = metrics.CounterFamily("tradepipe_gateway_rejected_total", "webhooks refused, by error code");
  auto& replays = metrics.Counter("tradepipe_gateway_replays_total", "repeats answered from the idempotency store");
  auto& verify = metrics.Stage("gateway", "verify");
  auto& idempotency = metrics.Stage("gateway", "idempotency");
  return {.rejected =
              [&rejected](std::string_view code) {
                rejected.Add({{"error", std::string(code)}}).Increment();
              },
          .replayed = [&replays] { replays.Increment(); },
          .claimed =
              [&verify, &idempotency](int64_t verify_ns, int64_t idempotency_ns) {
                verify.Observe(Seconds(verify_ns));
                idempotency.Observe(Seconds(idempotency_ns));
              }};
}

void ExportIdempotencyStore(metrics::Metrics& metrics, const IdempotencyStore& store) {
  auto& keys = metrics.Gauge("tradepipe_gateway_idempotency_keys", "keys in the idempotency store");
  auto& capacity = metrics.Gauge("tradepipe_gateway_idempotency_capacity",
                                 "keys the idempotency store keeps at most (-1: Redis bounds them)");
  auto& horizon = metrics.Gauge(
      "tradepipe_gateway_idempotency_horizon_seconds",
      "how far back a repeat is recognised: the TTL, or once capacity evicts, the age of the newest key evicted "
      "(-1: not known here, Redis)");
  auto& evictions = metrics.Counter("tradepipe_gateway_idempotency_evictions_total",
                                    "keys evicted from the memory store (capacity or age)");
  metrics.OnCollect([&keys, &capacity, &horizon, &evictions, &store] {
    keys.Set(static_cast<double>(store.size()));
    capacity.Set(static_cast<double>(store.capacity()));
    const int64_t ns = store.HorizonNs(WallNanos());
    horizon.Set(ns < 0 ? -1.0 : Seconds(ns));
    // A counter that follows the store's own count (which only grows).
    evictions.Increment(static_cast<double>(store.evictions()) - evictions.Value());
  });
}

}  // namespace tradepipe::gateway
