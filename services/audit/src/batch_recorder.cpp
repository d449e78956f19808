#include "batch_recorder.hpp"

#include <spdlog/spdlog.h>

#include "tradepipe/common/clock.hpp"

namespace tradepipe::audit {

BatchRecorder::BatchRecorder(AuditStore& store, metrics::Metrics& metrics)
    : store_(store),
      recorded_(
          metrics.CounterFamily("tradepipe_audit_events_recorded_total", "events written to the audit log, by stream")),
      duplicates_(metrics.Counter("tradepipe_audit_duplicates_total", "redelivered events already recorded")),
      dead_(metrics.Counter("tradepipe_audit_dead_letters_total", "unparsable messages kept in dead_letters")),
      commit_failures_(metrics.Counter("tradepipe_audit_commit_failures_total", "batches not committed (redelivered)")),
      stages_(metrics, "audit", "", "write"),
      path_latency_(metrics) {}

bus::ConsumerLoop::BatchHandler BatchRecorder::HandlerFor(const std::string& stream) {
  prometheus::Counter& recorded = recorded_.Add({{"stream", stream}});
  return [this, &recorded](std::vector<bus::Message>& msgs) { return Record(msgs, recorded); };
}

Status BatchRecorder::Record(std::vector<bus::Message>& msgs, prometheus::Counter& recorded) {
  const int64_t now = WallNanos();
  std::vector<AuditRow> rows;
  std::vector<DeadLetter> dead_letters;
  rows.reserve(msgs.size());
  for (auto& m : msgs) {
    const auto [seq, stored_ns] = m.placement();  // parses the message's metadata: once
    stages_.Consumed(stored_ns, now);
    auto row = RowFromMessage(m.subject(), seq, m.data(), now);
    if (row) {
      rows.push_back(std::move(*row));
    } else {
      spdlog::error("dead letter subject={} seq={} error={}", m.subject(), seq, row.error());
      dead_letters.push_back({std::string(m.subject()), seq, row.error(), std::string(m.data()), now});
    }
  }
  auto result = store_.Record(rows, dead_letters);
  const int64_t committed = WallNanos();
  if (!result) {  // the loop holds the batch and retries it: nothing is acked, nothing dropped
    commit_failures_.Increment();
    return Status::Error("audit commit: " + result.error());
  }
  // Committed: now, and only now, acknowledge.
  for (auto& m : msgs) (void)m.Ack();
  stages_.Durable(committed - now, msgs.size());
  for (size_t i : result->new_rows) path_latency_.Observe(rows[i], committed);
  recorded.Increment(static_cast<double>(result->inserted));
  duplicates_.Increment(static_cast<double>(result->duplicates));
  dead_.Increment(static_cast<double>(dead_letters.size()));
  return {};
}

}  // namespace tradepipe::audit
