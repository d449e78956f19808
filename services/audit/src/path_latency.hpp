// The golden path's latencies in /metrics, from the stage stamps every final event carries
// (docs/architecture.md, "Stage stamps and traces"): when the audit has committed a signal's final
// event (its fill, its rejection, or an order's report of ending unfilled), it observes
//   tradepipe_end_to_end_seconds                 received → committed here
//   tradepipe_stage_seconds{stage="<stamp>"}     the previous stamp → this one; stage="recorded"
//                                                is the last stamp → committed here
// Only the stamp names the services write are labels (a publisher cannot add label values). The
// events of a resting order's tick (a `tick` stamp) are left out: their stamps span the time the
// order rested in the market.
//
// Thread-safety: Observe may be called from any thread (prometheus-cpp histograms are atomic).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "store.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::audit {

class PathLatency {
 public:
  explicit PathLatency(metrics::Metrics& metrics);
  // `row` was committed at `committed_ns` (wall clock); rows that are not final are ignored.
  void Observe(const AuditRow& row, int64_t committed_ns);

 private:
  prometheus::Histogram* StageOf(std::string_view stamp);

  // Every stamp that ends a stage (the first, "received", ends none); "recorded" last.
  static constexpr std::array<std::string_view, 7> kStages = {"verified",      "published", "agent_consumed", "decided",
                                                              "exec_consumed", "filled",    "recorded"};
  prometheus::Histogram* end_to_end_;
  std::array<prometheus::Histogram*, kStages.size()> stages_{};
};

}  // namespace tradepipe::audit
