#include "path_latency.hpp"

#include <algorithm>

#include "tradepipe/events/envelope.hpp"

namespace tradepipe::audit {
namespace {

bool IsFinal(std::string_view type) {
  return type == events::kTypeFill || type == events::kTypeOrderRejected || type == events::kTypeExecReport;
}

// An event of a resting order's tick (exec-sim): its stamps span the time the order rested in the
// market, which is not the pipeline's latency.
bool OfATick(const std::vector<events::Stamp>& stamps) {
  return std::any_of(stamps.begin(), stamps.end(), [](const events::Stamp& s) { return s.name == "tick"; });
}

double Seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

}  // namespace

PathLatency::PathLatency(metrics::Metrics& metrics)
    : end_to_end_(&metrics.Histogram("tradepipe_end_to_end_seconds",
                                     "a signal's path, received at the gateway to its final event committed here",
                                     metrics::Metrics::PathBuckets())) {
  auto& family = metrics.HistogramFamily(
      "tradepipe_stage_seconds",
      "each stage of a signal's path, from the previous stamp to the one named by `stage` (recorded: committed here)");
  for (size_t i = 0; i < kStages.size(); ++i) {
    stages_[i] = &family.Add({{"stage", std::string(kStages[i])}}, metrics::Metrics::PathBuckets());
  }
}

prometheus::Histogram* PathLatency::StageOf(std::string_view stamp) {
  for (size_t i = 0; i < kStages.size(); ++i) {
    if (kStages[i] == stamp) return stages_[i];
  }
  return nullptr;
}

void PathLatency::Observe(const AuditRow& row, int64_t committed_ns) {
  if (!IsFinal(row.type) || row.stamps.empty() || OfATick(row.stamps)) return;
  const events::Stamp& first = row.stamps.front();
  if (first.name == "received") end_to_end_->Observe(Seconds(committed_ns - first.ns));
  for (size_t i = 1; i < row.stamps.size(); ++i) {
    if (auto* h = StageOf(row.stamps[i].name)) h->Observe(Seconds(row.stamps[i].ns - row.stamps[i - 1].ns));
  }
  stages_.back()->Observe(Seconds(committed_ns - row.stamps.back().ns));  // kStages ends with "recorded"
}

}  // namespace tradepipe::audit
