// Records the event streams' batches: each batch is one transaction (unparsable messages kept as
// dead letters), acknowledged only once committed; a failed commit is handed back to the consumer
// loop, which holds and retries it. Counts, the consume and write stages and the golden path's latencies
// (PathLatency) go to /metrics.
//
// Thread-safety: one handler per consumer loop, each on its own thread; the store serialises
// the writes and the metrics are atomic.
#pragma once

#include <string>
#include <vector>

#include "path_latency.hpp"
#include "store.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/metrics/metrics.hpp"
#include "tradepipe/service/consume_stages.hpp"

namespace tradepipe::audit {

class BatchRecorder {
 public:
  BatchRecorder(AuditStore& store, metrics::Metrics& metrics);

  // The consumer loop's handler for the batches of `stream`.
  bus::ConsumerLoop::BatchHandler HandlerFor(const std::string& stream);
  // Unparsable messages kept in dead_letters (also counted for the advisories' consumers).
  prometheus::Counter& dead_letters() { return dead_; }

 private:
  Status Record(std::vector<bus::Message>& msgs, prometheus::Counter& recorded);

  AuditStore& store_;
  prometheus::Family<prometheus::Counter>& recorded_;
  prometheus::Counter& duplicates_;
  prometheus::Counter& dead_;
  prometheus::Counter& commit_failures_;
  service::ConsumeStages stages_;  // consume, write (the batch's transaction, once per message)
  PathLatency path_latency_;
};

}  // namespace tradepipe::audit
