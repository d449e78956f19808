#include "store.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>

#include "tradepipe/crypto/crypto.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::audit {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id       TEXT    NOT NULL UNIQUE,
  type           TEXT    NOT NULL,
  correlation_id TEXT    NOT NULL,
  causation_id   TEXT,
  source         TEXT    NOT NULL,
  symbol         TEXT    NOT NULL,
  subject        TEXT    NOT NULL,
  stream_seq     INTEGER NOT NULL,
  produced_ns    INTEGER NOT NULL,
  recorded_ns    INTEGER NOT NULL,
  envelope       TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_correlation ON events (correlation_id, produced_ns);
CREATE TABLE IF NOT EXISTS dead_letters (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  subject     TEXT    NOT NULL,
  stream_seq  INTEGER NOT NULL,
  error       TEXT    NOT NULL,
  data        BLOB    NOT NULL,
  recorded_ns INTEGER NOT NULL,
  UNIQUE (subject, stream_seq)
);
CREATE TABLE IF NOT EXISTS given_up (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  kind        TEXT    NOT NULL,
  stream      TEXT    NOT NULL,
  stream_seq  INTEGER NOT NULL,
  consumer    TEXT    NOT NULL,
  deliveries  INTEGER NOT NULL,
  reason      TEXT    NOT NULL,
  subject     TEXT    NOT NULL,
  data        BLOB    NOT NULL,
  recorded_ns INTEGER NOT NULL,
  UNIQUE (stream, stream_seq, consumer)
);
)sql";

std::string SqliteError(sqlite3* db, const std::string& what) { return what + ": " + sqlite3_errmsg(db); }

Status Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string text = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    return Status::Error(std::string("sqlite: ") + text);
  }
  return {};
}

Result<sqlite3*> OpenConnection(const std::string& path, bool create) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Result<sqlite3*>::Error("cannot open " + path + ": " + why);
  }
  sqlite3_busy_timeout(db, 5000);
  // Closing never checkpoints: after a long run the WAL can hold hundreds of MB, and writing it
  // back at close made a stop outlast its grace period (the soak). Committed data is in the WAL;
  // the next open recovers it. The background loop checkpoints while running.
  sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  return db;
}

struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const auto* text = sqlite3_column_text(s, i);
  return text == nullptr
             ? std::string()
             : std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

}  // namespace

Result<std::unique_ptr<AuditStore>> AuditStore::Open(const std::string& path, int wal_restart_frames) {
  using R = Result<std::unique_ptr<AuditStore>>;
  std::unique_ptr<AuditStore> store(new AuditStore());
  store->path_ = path;
  store->wal_restart_frames_ = wal_restart_frames;
  auto writer = OpenConnection(path, true);
  if (!writer) return R::Error(writer.error());
  store->writer_ = *writer;
  // WAL with synchronous=NORMAL: a commit survives a process kill (it is in the WAL file);
  // checkpoints are ours to run, off the commit path.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA wal_autocheckpoint=0"}) {
    if (auto s = Exec(store->writer_, pragma); !s) return R::Error(s.error());
  }
  // After a restart, a WAL grown past this (a burst) is truncated back to it.
  if (auto s = Exec(store->writer_, "PRAGMA journal_size_limit=268435456"); !s) return R::Error(s.error());
  if (auto s = Exec(store->writer_, kSchema); !s) return R::Error(s.error());
  auto reader = OpenConnection(path, false);
  if (!reader) return R::Error(reader.error());
  store->reader_ = *reader;
  auto checkpointer = OpenConnection(path, false);
  if (!checkpointer) return R::Error(checkpointer.error());
  store->checkpointer_ = *checkpointer;
  // The restart checkpoint holds the WAL's write lock while it waits: never long enough to make a
  // commit (busy timeout 5 s) fail; a busy round leaves it to the next.
  sqlite3_busy_timeout(store->checkpointer_, 200);
  // A connection opens the WAL only once it has read the database: until then a checkpoint on it
  // is a no-op (it answers "not in WAL mode", -1 frames) and the WAL grew by GBs in minutes.
  if (auto s = Exec(store->checkpointer_, "SELECT count(*) FROM sqlite_schema"); !s) return R::Error(s.error());
  store->checkpoint_thread_ = std::thread([s = store.get()] { s->CheckpointLoop(); });
  return store;
}

AuditStore::~AuditStore() {
  running_.store(false);
  if (checkpointer_ != nullptr) sqlite3_interrupt(checkpointer_);  // a checkpoint in progress stops (safe)
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  sqlite3_close(checkpointer_);
  sqlite3_close(reader_);
  sqlite3_close(writer_);
}

void AuditStore::CheckpointLoop() {
  while (running_.load()) {
    for (int i = 0; i < 10 && running_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!running_.load()) break;
    if (auto r = Checkpoint(); !r) spdlog::warn("{}", r.error());
  }
}

Result<CheckpointResult> AuditStore::Checkpoint() {
  CheckpointResult result;
  int rc = sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &result.wal_frames,
                                     &result.checkpointed);
  if (rc == SQLITE_OK && result.wal_frames >= wal_restart_frames_) {
    // Busy timeout (5 s) bounds the wait for the writer; BUSY leaves it for the next round.
    rc = sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_RESTART, &result.wal_frames,
                                   &result.checkpointed);
    result.restarted = rc == SQLITE_OK;
  }
  if (rc != SQLITE_OK && rc != SQLITE_BUSY)
    return Result<CheckpointResult>::Error(SqliteError(checkpointer_, "wal checkpoint"));
  if (result.wal_frames < 0) {
    return Result<CheckpointResult>::Error("wal checkpoint: the checkpoint connection does not see the WAL");
  }
  wal_frames_.store(result.restarted ? 0 : result.wal_frames, std::memory_order_relaxed);
  if (!result.restarted && result.wal_frames >= 2 * wal_restart_frames_) {
    spdlog::warn("audit WAL past twice its bound: frames={} (restart checkpoints kept finding readers or a writer)",
                 result.wal_frames);
  }
  return result;
}

Result<RecordResult> AuditStore::Record(const std::vector<AuditRow>& rows, const std::vector<DeadLetter>& dead) {
  using R = Result<RecordResult>;
  std::lock_guard lock(write_mu_);
  if (auto s = Exec(writer_, "BEGIN IMMEDIATE"); !s) return R::Error(s.error());
  auto rollback = [&](std::string why) {
    (void)Exec(writer_, "ROLLBACK");
    return R::Error(std::move(why));
  };
  RecordResult result;
  {
    Statement insert;
    if (sqlite3_prepare_v2(
            writer_,
            "INSERT OR IGNORE INTO events (event_id, type, correlation_id, causation_id, source, symbol, "
            "subject, stream_seq, produced_ns, recorded_ns, envelope) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            -1, &insert.stmt, nullptr) != SQLITE_OK) {
      return rollback(SqliteError(writer_, "prepare insert"));
    }
    for (const AuditRow& r : rows) {
      sqlite3_reset(insert.stmt);
      BindText(insert.stmt, 1, r.event_id);
      BindText(insert.stmt, 2, r.type);
      BindText(insert.stmt, 3, r.correlation_id);
      if (r.causation_id.empty()) {
        sqlite3_bind_null(insert.stmt, 4);
      } else {
        BindText(insert.stmt, 4, r.causation_id);
      }
      BindText(insert.stmt, 5, r.source);
      BindText(insert.stmt, 6, r.symbol);
      BindText(insert.stmt, 7, r.subject);
      sqlite3_bind_int64(insert.stmt, 8, static_cast<sqlite3_int64>(r.stream_seq));
      sqlite3_bind_int64(insert.stmt, 9, r.produced_ns);
      sqlite3_bind_int64(insert.stmt, 10, r.recorded_ns);
      BindText(insert.stmt, 11, r.envelope);
      if (sqlite3_step(insert.stmt) != SQLITE_DONE) return rollback(SqliteError(writer_, "insert event"));
      if (sqlite3_changes(writer_) == 1) {
        ++result.inserted;
        result.new_rows.push_back(static_cast<size_t>(&r - rows.data()));
      } else {
        ++result.duplicates;
      }
    }
    Statement dead_insert;
    if (!dead.empty()) {
      if (sqlite3_prepare_v2(writer_,
                             "INSERT OR IGNORE INTO dead_letters (subject, stream_seq, error, data, recorded_ns) "
                             "VALUES (?1, ?2, ?3, ?4, ?5)",
                             -1, &dead_insert.stmt, nullptr) != SQLITE_OK) {
        return rollback(SqliteError(writer_, "prepare dead letter"));
      }
    }
    for (const DeadLetter& d : dead) {
      sqlite3_reset(dead_insert.stmt);
      BindText(dead_insert.stmt, 1, d.subject);
      sqlite3_bind_int64(dead_insert.stmt, 2, static_cast<sqlite3_int64>(d.stream_seq));
      BindText(dead_insert.stmt, 3, d.error);
      sqlite3_bind_blob(dead_insert.stmt, 4, d.data.data(), static_cast<int>(d.data.size()), SQLITE_STATIC);
      sqlite3_bind_int64(dead_insert.stmt, 5, d.recorded_ns);
      if (sqlite3_step(dead_insert.stmt) != SQLITE_DONE) return rollback(SqliteError(writer_, "insert dead letter"));
    }
  }
  if (auto s = Exec(writer_, "COMMIT"); !s) return rollback(s.error());
  return result;
}

Result<std::vector<AuditRow>> AuditStore::Trace(const std::string& correlation_id) const {
  using R = Result<std::vector<AuditRow>>;
  std::lock_guard lock(read_mu_);
  Statement q;
  if (sqlite3_prepare_v2(reader_,
                         "SELECT event_id, type, correlation_id, causation_id, source, symbol, subject, stream_seq, "
                         "produced_ns, recorded_ns, envelope FROM events WHERE correlation_id = ?1 "
                         "ORDER BY produced_ns, seq",
                         -1, &q.stmt, nullptr) != SQLITE_OK) {
    return R::Error(SqliteError(reader_, "prepare trace"));
  }
  BindText(q.stmt, 1, correlation_id);
  std::vector<AuditRow> rows;
  int rc = 0;
  while ((rc = sqlite3_step(q.stmt)) == SQLITE_ROW) {
    AuditRow r;
    r.event_id = ColumnText(q.stmt, 0);
    r.type = ColumnText(q.stmt, 1);
    r.correlation_id = ColumnText(q.stmt, 2);
    r.causation_id = ColumnText(q.stmt, 3);
    r.source = ColumnText(q.stmt, 4);
    r.symbol = ColumnText(q.stmt, 5);
    r.subject = ColumnText(q.stmt, 6);
    r.stream_seq = static_cast<uint64_t>(sqlite3_column_int64(q.stmt, 7));
    r.produced_ns = sqlite3_column_int64(q.stmt, 8);
    r.recorded_ns = sqlite3_column_int64(q.stmt, 9);
    r.envelope = ColumnText(q.stmt, 10);
    rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return R::Error(SqliteError(reader_, "trace"));
  return rows;
}

Result<size_t> AuditStore::RecordGivenUp(const std::vector<GivenUpMessage>& given_up) {
  using R = Result<size_t>;
  std::lock_guard lock(write_mu_);
  if (auto s = Exec(writer_, "BEGIN IMMEDIATE"); !s) return R::Error(s.error());
  auto rollback = [&](std::string why) {
    (void)Exec(writer_, "ROLLBACK");
    return R::Error(std::move(why));
  };
  size_t inserted = 0;
  {
    Statement insert;
    if (sqlite3_prepare_v2(writer_,
                           "INSERT OR IGNORE INTO given_up (kind, stream, stream_seq, consumer, deliveries, reason, "
                           "subject, data, recorded_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                           -1, &insert.stmt, nullptr) != SQLITE_OK) {
      return rollback(SqliteError(writer_, "prepare given up"));
    }
    for (const GivenUpMessage& g : given_up) {
      sqlite3_reset(insert.stmt);
      BindText(insert.stmt, 1, g.kind);
      BindText(insert.stmt, 2, g.stream);
      sqlite3_bind_int64(insert.stmt, 3, static_cast<sqlite3_int64>(g.stream_seq));
      BindText(insert.stmt, 4, g.consumer);
      sqlite3_bind_int64(insert.stmt, 5, static_cast<sqlite3_int64>(g.deliveries));
      BindText(insert.stmt, 6, g.reason);
      BindText(insert.stmt, 7, g.subject);
      sqlite3_bind_blob(insert.stmt, 8, g.data.data(), static_cast<int>(g.data.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert.stmt, 9, g.recorded_ns);
      if (sqlite3_step(insert.stmt) != SQLITE_DONE) return rollback(SqliteError(writer_, "insert given up"));
      inserted += static_cast<size_t>(sqlite3_changes(writer_));
    }
  }
  if (auto s = Exec(writer_, "COMMIT"); !s) return rollback(s.error());
  return inserted;
}

Result<std::vector<DeadLetter>> AuditStore::DeadLetters(int limit) const {
  using R = Result<std::vector<DeadLetter>>;
  std::lock_guard lock(read_mu_);
  Statement q;
  if (sqlite3_prepare_v2(reader_,
                         "SELECT subject, stream_seq, error, data, recorded_ns FROM dead_letters "
                         "ORDER BY seq DESC LIMIT ?1",
                         -1, &q.stmt, nullptr) != SQLITE_OK) {
    return R::Error(SqliteError(reader_, "prepare dead letters"));
  }
  sqlite3_bind_int(q.stmt, 1, limit);
  std::vector<DeadLetter> out;
  int rc = 0;
  while ((rc = sqlite3_step(q.stmt)) == SQLITE_ROW) {
    out.push_back({ColumnText(q.stmt, 0), static_cast<uint64_t>(sqlite3_column_int64(q.stmt, 1)), ColumnText(q.stmt, 2),
                   ColumnText(q.stmt, 3), sqlite3_column_int64(q.stmt, 4)});
  }
  if (rc != SQLITE_DONE) return R::Error(SqliteError(reader_, "dead letters"));
  return out;
}

Result<std::vector<GivenUpMessage>> AuditStore::GivenUp(int limit) const {
  using R = Result<std::vector<GivenUpMessage>>;
  std::lock_guard lock(read_mu_);
  Statement q;
  if (sqlite3_prepare_v2(reader_,
                         "SELECT kind, stream, stream_seq, consumer, deliveries, reason, subject, data, recorded_ns "
                         "FROM given_up ORDER BY seq DESC LIMIT ?1",
                         -1, &q.stmt, nullptr) != SQLITE_OK) {
    return R::Error(SqliteError(reader_, "prepare given up"));
  }
  sqlite3_bind_int(q.stmt, 1, limit);
  std::vector<GivenUpMessage> out;
  int rc = 0;
  while ((rc = sqlite3_step(q.stmt)) == SQLITE_ROW) {
    out.push_back({ColumnText(q.stmt, 0), ColumnText(q.stmt, 1), static_cast<uint64_t>(sqlite3_column_int64(q.stmt, 2)),
                   ColumnText(q.stmt, 3), static_cast<uint64_t>(sqlite3_column_int64(q.stmt, 4)), ColumnText(q.stmt, 5),
                   ColumnText(q.stmt, 6), ColumnText(q.stmt, 7), sqlite3_column_int64(q.stmt, 8)});
  }
  if (rc != SQLITE_DONE) return R::Error(SqliteError(reader_, "given up"));
  return out;
}

Result<std::optional<std::pair<std::string, std::string>>> AuditStore::OwnCopy(std::string_view subject_prefix,
                                                                               uint64_t stream_seq) const {
  using Copy = std::optional<std::pair<std::string, std::string>>;
  using R = Result<Copy>;
  std::lock_guard lock(read_mu_);
  // Sequences are per stream and a stream's subjects are its own: (prefix, sequence) is one message.
  // dead_letters first: it is small, and holds what a consumer is likeliest to give up (what the
  // audit could not parse either). events has no index on stream_seq on purpose (every insert
  // would pay for it): this scan runs only for a given-up message its stream no longer holds.
  for (const char* sql : {"SELECT subject, data FROM dead_letters WHERE stream_seq = ?1 "
                          "AND substr(subject, 1, length(?2)) = ?2 LIMIT 1",
                          "SELECT subject, envelope FROM events WHERE stream_seq = ?1 "
                          "AND substr(subject, 1, length(?2)) = ?2 LIMIT 1"}) {
    Statement q;
    if (sqlite3_prepare_v2(reader_, sql, -1, &q.stmt, nullptr) != SQLITE_OK) {
      return R::Error(SqliteError(reader_, "prepare own copy"));
    }
    sqlite3_bind_int64(q.stmt, 1, static_cast<sqlite3_int64>(stream_seq));
    sqlite3_bind_text(q.stmt, 2, subject_prefix.data(), static_cast<int>(subject_prefix.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(q.stmt);
    if (rc == SQLITE_ROW) {
      const auto* data = static_cast<const char*>(sqlite3_column_blob(q.stmt, 1));
      return Copy(std::pair(ColumnText(q.stmt, 0), std::string(data != nullptr ? data : "",
                                                               static_cast<size_t>(sqlite3_column_bytes(q.stmt, 1)))));
    }
    if (rc != SQLITE_DONE) return R::Error(SqliteError(reader_, "own copy"));
  }
  return Copy();
}

Result<int64_t> AuditStore::Count() const {
  std::lock_guard lock(read_mu_);
  Statement q;
  if (sqlite3_prepare_v2(reader_, "SELECT count(*) FROM events", -1, &q.stmt, nullptr) != SQLITE_OK ||
      sqlite3_step(q.stmt) != SQLITE_ROW) {
    return Result<int64_t>::Error(SqliteError(reader_, "count"));
  }
  return static_cast<int64_t>(sqlite3_column_int64(q.stmt, 0));
}

Result<AuditRow> RowFromMessage(std::string_view subject, uint64_t stream_seq, std::string_view data,
                                int64_t recorded_ns) {
  auto e = events::ParseEnvelope(data);
  if (!e) return Result<AuditRow>::Error(e.error());
  AuditRow r;
  r.event_id = e->id;
  r.type = e->type;
  r.correlation_id = e->correlation_id;
  r.causation_id = e->causation_id;
  r.source = e->source;
  r.symbol = e->symbol;
  r.subject = subject;
  r.stream_seq = stream_seq;
  for (const auto& stamp : e->ts) r.produced_ns = std::max(r.produced_ns, stamp.ns);
  r.stamps = std::move(e->ts);
  r.recorded_ns = recorded_ns;
  r.envelope = data;
  return r;
}

std::string TraceJson(const std::string& correlation_id, const std::vector<AuditRow>& rows) {
  using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  auto str = [&](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("correlation_id");
  str(correlation_id);
  w.Key("events");
  w.StartArray();
  const AuditRow* last = nullptr;
  events::Envelope last_envelope;
  for (const AuditRow& r : rows) {
    auto e = events::ParseEnvelope(r.envelope);
    w.StartObject();
    w.Key("type");
    str(r.type);
    w.Key("id");
    str(r.event_id);
    w.Key("subject");
    str(r.subject);
    w.Key("stream_seq");
    w.Uint64(r.stream_seq);
    w.Key("recorded");
    w.Int64(r.recorded_ns);
    if (e) {
      w.Key("ts");
      w.StartObject();
      for (const auto& s : e->ts) {
        w.Key(s.name.c_str());
        w.Int64(s.ns);
      }
      w.EndObject();
      w.Key("payload");
      w.RawValue(e->payload.data(), e->payload.size(), rapidjson::kObjectType);
      if (last == nullptr || r.produced_ns >= last->produced_ns) {
        last = &r;
        last_envelope = std::move(*e);
      }
    }
    w.EndObject();
  }
  w.EndArray();
  // Stage latencies along the path that ended with the last event produced.
  if (last != nullptr) {
    std::vector<events::Stamp> stamps = last_envelope.ts;
    stamps.push_back({"recorded", last->recorded_ns});
    w.Key("stages");
    w.StartArray();
    for (size_t i = 1; i < stamps.size(); ++i) {
      w.StartObject();
      w.Key("from");
      str(stamps[i - 1].name);
      w.Key("to");
      str(stamps[i].name);
      w.Key("ms");
      w.Double(static_cast<double>(stamps[i].ns - stamps[i - 1].ns) / 1e6);
      w.EndObject();
    }
    w.EndArray();
    w.Key("final_type");
    str(last->type);
    w.Key("end_to_end_ms");
    w.Double(static_cast<double>(stamps.back().ns - stamps.front().ns) / 1e6);
    // Wall-clock ns: lets a client measure from its own send time (tp-loadgen --trace).
    w.Key("final_recorded");
    w.Int64(last->recorded_ns);
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace tradepipe::audit

namespace tradepipe::audit {

std::string DeadLettersJson(const std::vector<DeadLetter>& dead, const std::vector<GivenUpMessage>& given_up) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("dead_letters");
  w.StartArray();
  for (const DeadLetter& d : dead) {
    w.StartObject();
    w.Key("subject");
    str(d.subject);
    w.Key("stream_seq");
    w.Uint64(d.stream_seq);
    w.Key("error");
    str(d.error);
    w.Key("recorded_ns");
    w.Int64(d.recorded_ns);
    w.Key("data_base64");
    str(crypto::Base64Encode(d.data));
    w.EndObject();
  }
  w.EndArray();
  w.Key("given_up");
  w.StartArray();
  for (const GivenUpMessage& g : given_up) {
    w.StartObject();
    w.Key("kind");
    str(g.kind);
    w.Key("stream");
    str(g.stream);
    w.Key("stream_seq");
    w.Uint64(g.stream_seq);
    w.Key("consumer");
    str(g.consumer);
    w.Key("deliveries");
    w.Uint64(g.deliveries);
    w.Key("reason");
    str(g.reason);
    w.Key("subject");
    str(g.subject);
    w.Key("recorded_ns");
    w.Int64(g.recorded_ns);
    w.Key("data_base64");
    str(crypto::Base64Encode(g.data));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace tradepipe::audit
