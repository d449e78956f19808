// End-to-end measurement for tp-loadgen: after the load, every accepted webhook of the measured
// window is looked up in the audit's trace API (GET /trace/{source}:{webhook-id}) until its final
// event (a fill, or a rejection) is recorded. Per webhook this gives
//   - end to end: the client's intended send time (open loop: the due time) to the final event's
//     `recorded` stamp, both wall clock on one machine;
//   - each stage of the path, from the final event's stamps (received, verified, published,
//     agent_consumed, decided, exec_consumed, filled, recorded).
// Lookups run after the load (sequentially, one keep-alive connection), so they never compete with
// it. `recorded` is taken when the audit's write transaction for the batch begins; the commit
// itself is the audit's `tradepipe_audit_stage_seconds{stage="write"}`.
//
// Thread-safety: none; one TraceAll at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "histogram.hpp"

namespace tradepipe::loadgen {

struct Stage {
  std::string from, to;
  int64_t ns = 0;
};

// What tp-loadgen needs from one trace document.
struct ParsedTrace {
  std::string final_type;  // empty while nothing but the signal is recorded
  int64_t final_recorded_ns = 0;
  std::vector<Stage> stages;
};

// Parses the audit's trace JSON; an error names what is missing.
std::optional<ParsedTrace> ParseTrace(std::string_view json, std::string* error = nullptr);

struct TraceTarget {
  std::string correlation_id;  // "{source}:{webhook-id}"
  int64_t intended_wall_ns = 0;
};

struct StageStats {
  std::string name;  // "from->to"
  Histogram latency;
};

struct TraceReport {
  Histogram end_to_end;            // intended send → final event recorded
  std::vector<StageStats> stages;  // in path order, as first seen
  std::map<std::string, uint64_t> final_types;
  uint64_t looked_up = 0;
  uint64_t not_final = 0;  // no final event within the wait (lost, or the pipeline is behind)
  uint64_t lookup_errors = 0;
  double wait_s = 0;  // how long the lookups took after the load ended
  // Span from the first traced webhook's intended send to the last final event recorded:
  // final events per second over it is the end-to-end throughput (as the bare ceiling counts it).
  int64_t first_intended_ns = 0;
  int64_t last_final_recorded_ns = 0;
  double Throughput() const {
    const int64_t span = last_final_recorded_ns - first_intended_ns;
    return span > 0 ? static_cast<double>(end_to_end.count()) * 1e9 / static_cast<double>(span) : 0;
  }
};

struct TraceOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8005;
  double wait_s = 60;  // give up on webhooks not final this long after the load ended
  std::set<std::string> final_types = {"fill", "order_rejected"};
};

// Looks every target up until final or the wait ends. `progress(done, total)` is called now and then.
TraceReport TraceAll(const std::vector<TraceTarget>& targets, const TraceOptions& options,
                     const std::function<void(uint64_t, uint64_t)>& progress);

}  // namespace tradepipe::loadgen
