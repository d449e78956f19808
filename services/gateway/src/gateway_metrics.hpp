// The gateway's own metrics beyond the endpoint's: what WebhookProcessor reports (refusals by
// code, replays, the verify and idempotency stages) and the idempotency store's size and bounds
// (docs/metrics.md "Gateway").
//
//   WebhookProcessor processor(sources, options, store, ProcessorMetrics(metrics));
//   ExportIdempotencyStore(metrics, store);
//
// Thread-safety: the observer's callbacks run on any thread (the metrics are atomic).
#pragma once

#include "idempotency.hpp"
#include "webhook_processor.hpp"

namespace tradepipe::metrics {
class Metrics;
}

namespace tradepipe::gateway {

// tradepipe_gateway_rejected_total{error}, _replays_total, _stage_seconds{stage="verify"|"idempotency"}.
ProcessorObserver ProcessorMetrics(metrics::Metrics& metrics);

// tradepipe_gateway_idempotency_{keys,capacity,horizon_seconds} and _evictions_total, read from
// `store` at each scrape; `store` must outlive `metrics`' last Render().
void ExportIdempotencyStore(metrics::Metrics& metrics, const IdempotencyStore& store);

}  // namespace tradepipe::gateway
