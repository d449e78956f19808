// The audit log in SQLite (WAL): one row per event, unique by event id, so a redelivered
// message changes nothing; a dead-letter table for messages that cannot be parsed, so nothing
// is lost. Writes come in batches, one transaction each; the caller acks its messages only
// after Record() returned success.
//
// WAL checkpoints run on a background thread with their own connection, never inside a COMMIT
// (an automatic checkpoint in COMMIT was most of the pipeline's tail latency, TOOLCHAIN.md).
//
// Thread-safety: every method is thread-safe (a write connection and a read connection, each
// behind its own mutex; WAL lets reads run beside the writer).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tradepipe/common/result.hpp"
#include "tradepipe/events/envelope.hpp"

struct sqlite3;

namespace tradepipe::audit {

struct AuditRow {
  std::string event_id;
  std::string type;
  std::string correlation_id;
  std::string causation_id;
  std::string source;
  std::string symbol;
  std::string subject;
  uint64_t stream_seq = 0;
  int64_t produced_ns = 0;  // the event's last stage stamp
  int64_t recorded_ns = 0;
  std::vector<events::Stamp> stamps;  // the envelope's, in path order
  std::string envelope;               // the message as received
};

struct DeadLetter {
  std::string subject;
  uint64_t stream_seq = 0;
  std::string error;
  std::string data;
  int64_t recorded_ns = 0;
};

// A message a consumer gave up on (max deliveries reached, or terminated as poison), from
// JetStream's advisory, with the original message read back from its stream. Unique by (stream,
// stream_seq, consumer): a redelivered advisory changes nothing.
struct GivenUpMessage {
  std::string kind;  // GiveUpKindName(): "max_deliveries" or "terminated"
  std::string stream;
  uint64_t stream_seq = 0;
  std::string consumer;
  uint64_t deliveries = 0;
  std::string reason;
  std::string subject;  // empty when the original is no longer in its stream
  std::string data;
  int64_t recorded_ns = 0;
};

// What one round of the background checkpoint did (frames are WAL pages of 4 KiB).
struct CheckpointResult {
  int wal_frames = 0;      // frames in the WAL after the round
  int checkpointed = 0;    // of them, written back to the database file
  bool restarted = false;  // the WAL was over its bound: the next commit starts it from the beginning
};

struct RecordResult {
  size_t inserted = 0;           // new rows
  size_t duplicates = 0;         // already recorded (redeliveries)
  std::vector<size_t> new_rows;  // indices (into the rows recorded) of the new ones
};

class AuditStore {
 public:
  // `wal_restart_frames`: the WAL's bound (see Checkpoint); smaller only in tests.
  static Result<std::unique_ptr<AuditStore>> Open(const std::string& path, int wal_restart_frames = kWalRestartFrames);
  ~AuditStore();
  AuditStore(const AuditStore&) = delete;
  AuditStore& operator=(const AuditStore&) = delete;

  Result<RecordResult> Record(const std::vector<AuditRow>& rows, const std::vector<DeadLetter>& dead);
  // One transaction; returns how many were new.
  Result<size_t> RecordGivenUp(const std::vector<GivenUpMessage>& given_up);
  // The newest `limit` of each kind, newest first.
  Result<std::vector<DeadLetter>> DeadLetters(int limit) const;
  Result<std::vector<GivenUpMessage>> GivenUp(int limit) const;
  // The audit's own copy of the message at `stream_seq` of the stream whose subjects begin with
  // `subject_prefix`: the event it recorded, else the copy it kept as a dead letter; nullopt when
  // it has neither. {subject, data} as received.
  Result<std::optional<std::pair<std::string, std::string>>> OwnCopy(std::string_view subject_prefix,
                                                                     uint64_t stream_seq) const;
  // Every event of one signal, in the order they were produced.
  Result<std::vector<AuditRow>> Trace(const std::string& correlation_id) const;
  Result<int64_t> Count() const;

  // The background loop's round, once a second (callable for tests): a passive checkpoint, which
  // never waits; when the WAL still holds kWalRestartFrames or more, a restart checkpoint, which
  // waits for the commit in progress and holds the next one while it writes back the last frames,
  // so that the WAL starts over instead of growing without end under a constant stream of commits.
  static constexpr int kWalRestartFrames = 65'536;  // 256 MiB of 4 KiB pages (the default)
  Result<CheckpointResult> Checkpoint();
  // Frames in the WAL as of the last round (for /metrics).
  int64_t wal_frames() const { return wal_frames_.load(std::memory_order_relaxed); }

 private:
  AuditStore() = default;
  void CheckpointLoop();

  std::string path_;
  sqlite3* writer_ = nullptr;
  sqlite3* reader_ = nullptr;
  sqlite3* checkpointer_ = nullptr;
  std::mutex write_mu_;
  mutable std::mutex read_mu_;
  std::atomic<bool> running_{true};
  int wal_restart_frames_ = kWalRestartFrames;
  std::atomic<int64_t> wal_frames_{0};
  std::thread checkpoint_thread_;
};

// Builds the row of one received message; fails when it is not a valid envelope (a dead letter).
Result<AuditRow> RowFromMessage(std::string_view subject, uint64_t stream_seq, std::string_view data,
                                int64_t recorded_ns);

// The body of GET /trace/{correlation_id}: the events with their stamps and the stage-by-stage
// latency of the path, from the last event's accumulated stamps plus its recording time.
std::string TraceJson(const std::string& correlation_id, const std::vector<AuditRow>& rows);

// The body of GET /dead-letters: {"dead_letters":[...], "given_up":[...]}, newest first; message
// bodies as base64 (`data_base64`: they may be anything).
std::string DeadLettersJson(const std::vector<DeadLetter>& dead, const std::vector<GivenUpMessage>& given_up);

}  // namespace tradepipe::audit
