// The endpoints every service serves: GET /health (alive), GET /ready (dependencies usable),
// GET /metrics (Prometheus text format 0.0.4).
//
//   AddServiceEndpoints(router, metrics, [&] { return bus.Connected() ? "" : "nats disconnected"; });
//
// `not_ready_reason` returns an empty string when ready, else why not (shown in /ready's 503 body).
#pragma once

#include <functional>
#include <string>

#include "tradepipe/http/server.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::http {

void AddServiceEndpoints(Router& router, metrics::Metrics& metrics, std::function<std::string()> not_ready_reason);

}  // namespace tradepipe::http
