#include "snapshot.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "tradepipe/common/clock.hpp"
#include "tradepipe/events/json_read.hpp"
#include "tradepipe/events/json_write.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::agent {
namespace {

namespace od = simdjson::ondemand;
using events::Decimal;
using events::ReadDecimal;
using events::WriteDecimal;

constexpr int64_t kVersion = 1;

std::string ReadInt(od::value& value, int64_t& out) { return value.get_int64().get(out) ? "expected an integer" : ""; }

std::string ReadSymbol(od::value& value, SymbolPosition& p) {
  return events::ForEachField(value, [&](const std::string& key, od::value& v) -> std::string {
    if (key == "qty") return ReadDecimal(v, p.qty);
    if (key == "avg_price") return ReadDecimal(v, p.avg_price);
    if (key == "realised_pnl") return ReadDecimal(v, p.realised_pnl);
    if (key == "last_price") return ReadDecimal(v, p.last_price);
    return "unknown key";
  });
}

// The newest usable snapshot of AGENT_STATE; unusable ones are logged and skipped.
Result<std::optional<PositionsSnapshot>> LoadLatestSnapshot(bus::Bus& bus) {
  using R = Result<std::optional<PositionsSnapshot>>;
  std::optional<PositionsSnapshot> newest;
  auto read = bus.ReadStream(
      std::string(kSnapshotStream), std::string(kSnapshotSubject), false, [&](const bus::StreamEntry& e) {
        auto parsed = ParseSnapshot(e.data);
        if (!parsed) {
          spdlog::error("snapshot at {} seq={} is unusable, skipped: {}", kSnapshotStream, e.sequence, parsed.error());
          return;
        }
        newest = std::move(*parsed);  // stream order: the last one read is the newest
      });
  if (!read) return R::Error("reading snapshots from " + std::string(kSnapshotStream) + ": " + read.error());
  return newest;
}

}  // namespace

std::string SnapshotToJson(const PositionsSnapshot& snapshot) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  const AccountState& a = snapshot.account;
  w.StartObject();
  w.Key("version");
  w.Int64(kVersion);
  w.Key("taken_ns");
  w.Int64(snapshot.taken_ns);
  w.Key("executions_created_ns");
  w.Int64(snapshot.executions_created_ns);
  w.Key("executions_through");
  w.Uint64(a.executions_through);
  events::WriteString(w, "trading_state", ToName(snapshot.trading_state));
  WriteDecimal(w, "realised_pnl", a.realised_pnl);
  w.Key("day");
  w.Int64(a.day);
  WriteDecimal(w, "realised_day", a.realised_day);
  w.Key("symbols");
  w.StartObject();
  for (const auto& [symbol, p] : a.symbols) {
    events::WriteKey(w, symbol);
    w.StartObject();
    WriteDecimal(w, "qty", p.qty);
    WriteDecimal(w, "avg_price", p.avg_price);
    WriteDecimal(w, "realised_pnl", p.realised_pnl);
    WriteDecimal(w, "last_price", p.last_price);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<PositionsSnapshot> ParseSnapshot(std::string_view json) {
  using R = Result<PositionsSnapshot>;
  PositionsSnapshot s;
  int64_t version = 0;
  int64_t through = -1;
  auto problem = events::ForEachFieldOfDocument(json, [&](const std::string& key, od::value& v) -> std::string {
    if (key == "version") return ReadInt(v, version);
    if (key == "taken_ns") return ReadInt(v, s.taken_ns);
    if (key == "executions_created_ns") return ReadInt(v, s.executions_created_ns);
    if (key == "executions_through") return ReadInt(v, through);
    if (key == "trading_state") {
      std::string_view text;
      if (v.get_string().get(text)) return "expected a string";
      auto state = TradingStateFromName(text);
      if (!state) return "unknown state '" + std::string(text) + "'";
      s.trading_state = *state;
      return {};
    }
    if (key == "realised_pnl") return ReadDecimal(v, s.account.realised_pnl);
    if (key == "day") return ReadInt(v, s.account.day);
    if (key == "realised_day") return ReadDecimal(v, s.account.realised_day);
    if (key == "symbols") {
      return events::ForEachField(v, [&](const std::string& symbol, od::value& p) -> std::string {
        return ReadSymbol(p, s.account.symbols[symbol]);
      });
    }
    return {};  // a field of a later version: ignored
  });
  if (!problem.empty()) return R::Error(problem);
  if (version != kVersion) return R::Error("version " + std::to_string(version) + " (this agent reads 1)");
  if (through < 0) return R::Error("executions_through is missing");
  s.account.executions_through = static_cast<uint64_t>(through);
  return s;
}

Status CheckCoverage(const std::optional<PositionsSnapshot>& snapshot, const bus::StreamUsage& executions) {
  const uint64_t covered = snapshot ? snapshot->account.executions_through : 0;
  if (snapshot && covered > 0 && snapshot->executions_created_ns != executions.created_ns) {
    return Status::Error("the newest positions snapshot (through EXECUTIONS sequence " + std::to_string(covered) +
                         ") was taken of another EXECUTIONS stream (made at " +
                         std::to_string(snapshot->executions_created_ns) + " ns, this one at " +
                         std::to_string(executions.created_ns) + " ns): its positions cannot be joined to it");
  }
  if (covered > executions.last_seq) {
    return Status::Error("the newest positions snapshot covers EXECUTIONS up to sequence " + std::to_string(covered) +
                         " but the stream ends at " + std::to_string(executions.last_seq));
  }
  // first_seq is 0 for a stream that never held a message; past the last one once all are gone.
  if (executions.first_seq > covered + 1) {
    return Status::Error("EXECUTIONS starts at sequence " + std::to_string(executions.first_seq) +
                         " and no positions snapshot covers the " + std::to_string(executions.first_seq - 1 - covered) +
                         " events before it (" +
                         (snapshot ? "the newest covers up to " + std::to_string(covered)
                                   : "none found in " + std::string(kSnapshotStream)) +
                         "): positions cannot be proven");
  }
  return {};
}

Result<RebuiltAccount> RebuildAccount(bus::Bus& bus, bus::SeenIds& decided, Positions& positions, bool allow_unproven) {
  using R = Result<RebuiltAccount>;
  auto snapshot = LoadLatestSnapshot(bus);
  if (!snapshot) return R::Error(snapshot.error());
  auto executions_usage = bus.DescribeStream("EXECUTIONS");
  if (!executions_usage) return R::Error(executions_usage.error());
  if (auto covered = CheckCoverage(*snapshot, *executions_usage); !covered) {
    if (!allow_unproven) {
      return R::Error(covered.error() +
                      "; start with --allow-unproven-positions to go on with what the stream still holds");
    }
    spdlog::critical("{}; started anyway (--allow-unproven-positions): positions hold only what is left",
                     covered.error());
    if (*snapshot && (*snapshot)->executions_created_ns != executions_usage->created_ns) snapshot->reset();
    // A snapshot beyond the stream's end (it lost its tail): new events reuse those sequences.
    if (*snapshot && (*snapshot)->account.executions_through > executions_usage->last_seq) {
      (*snapshot)->account.executions_through = executions_usage->last_seq;
    }
  }
  RebuiltAccount rebuilt{std::nullopt, executions_usage->created_ns};
  if (*snapshot) {
    positions.RestoreAccount((*snapshot)->account);
    rebuilt.snapshot_state = (*snapshot)->trading_state;
  }

  auto decisions = bus::RememberPublished(bus, "ORDERS", "orders.>", decided);
  if (!decisions) return R::Error("rebuilding decisions from ORDERS: " + decisions.error());
  uint64_t unusable = 0;
  auto orders = bus.ReadStream("ORDERS", "orders.new.>", false, [&](const bus::StreamEntry& e) {
    if (!OpenOrderEvent(positions, e.data)) ++unusable;
  });
  if (!orders) return R::Error("rebuilding open orders from ORDERS: " + orders.error());
  // What age removed is not waited for (proven gone above, or accepted with the flag).
  positions.GoneBefore(executions_usage->first_seq);
  auto executions = bus.ReadStream("EXECUTIONS", "exec.>", false, [&](const bus::StreamEntry& e) {
    if (!ApplyExecutionEvent(positions, e.data, e.stored_ns, e.sequence, Reading::kRebuild)) {
      positions.Saw(e.sequence);
      ++unusable;
    }
  });
  if (!executions) return R::Error("rebuilding positions from EXECUTIONS: " + executions.error());
  spdlog::info(
      "rebuilt: snapshot through EXECUTIONS seq={} (taken_ns={}), decisions in ORDERS={} orders={} executions in "
      "EXECUTIONS={} (first seq={}) unusable={} symbols={} open orders={}",
      *snapshot ? (*snapshot)->account.executions_through : 0, *snapshot ? (*snapshot)->taken_ns : 0, *decisions,
      *orders, *executions, executions_usage->first_seq, unusable, positions.Snapshot().size(),
      positions.open_orders());
  return rebuilt;
}

SnapshotWriter::SnapshotWriter(bus::Bus& bus, const Positions& positions, const TradingStateSwitch& state,
                               int64_t executions_created_ns, metrics::Metrics& metrics)
    : bus_(bus),
      positions_(positions),
      state_(state),
      executions_created_ns_(executions_created_ns),
      written_(metrics.Counter("tradepipe_agent_snapshots_total", "positions snapshots published to AGENT_STATE")),
      skipped_(metrics.Counter("tradepipe_agent_snapshots_skipped_total",
                               "positions snapshots put off while an execution event below a handled one is still "
                               "to come (redelivered after the ack wait)")),
      failed_(metrics.Counter("tradepipe_agent_snapshot_failures_total",
                              "positions snapshots that could not be published (retried at the next period)")),
      through_(metrics.Gauge("tradepipe_agent_snapshot_executions_through",
                             "the EXECUTIONS sequence the last published snapshot covers")) {}

SnapshotWriter::~SnapshotWriter() { StopThread(); }

void SnapshotWriter::StopThread() {
  {
    std::lock_guard lock(run_mu_);
    running_ = false;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status SnapshotWriter::Write() {
  std::lock_guard lock(write_mu_);
  auto account = positions_.ExportAccount();
  if (!account) {
    // The previous snapshot plus the stream still prove the positions: the next period tries again.
    skipped_.Increment();
    spdlog::info("positions snapshot skipped: an execution event above sequence {} is still to come",
                 positions_.executions_through());
    return {};
  }
  PositionsSnapshot snapshot{std::move(*account), executions_created_ns_, WallNanos(), state_.Get()};
  const std::string json = SnapshotToJson(snapshot);
  const std::string id =
      "snapshot/" + std::to_string(snapshot.account.executions_through) + "/" + std::to_string(snapshot.taken_ns);
  auto ack = bus_.Publish(kSnapshotSubject, id, json);
  if (!ack) {
    failed_.Increment();
    spdlog::error("positions snapshot through EXECUTIONS seq={} ({} bytes) not published: {}",
                  snapshot.account.executions_through, json.size(), ack.error());
    return Status::Error(ack.error());
  }
  written_.Increment();
  through_.Set(static_cast<double>(snapshot.account.executions_through));
  last_through_ = snapshot.account.executions_through;
  last_state_ = snapshot.trading_state;
  last_written_ns_ = snapshot.taken_ns;
  spdlog::debug("positions snapshot through EXECUTIONS seq={} published ({} bytes, {} symbols)", last_through_,
                json.size(), snapshot.account.symbols.size());
  return {};
}

void SnapshotWriter::Start(std::chrono::milliseconds period) {
  std::lock_guard guard(run_mu_);
  if (running_) return;
  running_ = true;
  thread_ = std::thread([this, period] {
    std::unique_lock lock(run_mu_);
    while (!wake_.wait_for(lock, period, [this] { return !running_; })) {
      lock.unlock();
      bool due = false;
      {
        std::lock_guard write_lock(write_mu_);
        const int64_t age_ns = WallNanos() - last_written_ns_;
        due = positions_.executions_through() != last_through_ || state_.Get() != last_state_ ||
              age_ns >= std::chrono::duration_cast<std::chrono::nanoseconds>(kKeepAlive).count();
      }
      if (due) (void)Write();  // a failure is logged and counted; the next period tries again
      lock.lock();
    }
  });
}

void SnapshotWriter::Stop() {
  StopThread();
  (void)Write();
}

}  // namespace tradepipe::agent
