// Positions that outlive EXECUTIONS' retention (docs/trading-core.md §5 "As built: snapshots").
//
// The agent's positions are a fold of every fill in EXECUTIONS, which keeps 7 days: a fill older
// than that would be missing from a rebuild. So the agent publishes a snapshot of its account
// (positions, realised P&L, the trading state) to the stream AGENT_STATE (subject
// agent.snapshot, the newest few kept, no age limit) together with the EXECUTIONS sequence it
// covers: at start, after rebuilding, every minute while fills move it or the trading state
// switched (every hour regardless, which keeps the trading state's copy younger than ORDERS'
// retention) and at stop.
//
// At start (RebuildAccount) the newest usable snapshot is loaded and EXECUTIONS is read: events
// after the snapshot's sequence are applied, those it covers only register their ids and take
// from their open orders. The start is refused when positions cannot be proven: EXECUTIONS lost
// events that no snapshot covers (its first message comes after the snapshot's sequence + 1), or
// the snapshot was taken of another EXECUTIONS (deleted and made again: sequences start anew).
// `--allow-unproven-positions` starts anyway, with what is left, and says so in the log.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "positions.hpp"
#include "risk.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/bus/seen_ids.hpp"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace tradepipe::metrics {
class Metrics;
}

namespace tradepipe::agent {

inline constexpr std::string_view kSnapshotStream = "AGENT_STATE";
inline constexpr std::string_view kSnapshotSubject = "agent.snapshot";

struct PositionsSnapshot {
  AccountState account;
  int64_t executions_created_ns = 0;  // the EXECUTIONS stream it covers (when that was made)
  int64_t taken_ns = 0;
  TradingState trading_state = TradingState::kActive;
};

// {"version":1,"taken_ns","executions_created_ns","executions_through","trading_state",
// "realised_pnl","day","realised_day","symbols":{"<symbol>":{"qty","avg_price","realised_pnl",
// "last_price"}}}, written with a JSON writer; decimals as strings.
std::string SnapshotToJson(const PositionsSnapshot& snapshot);
Result<PositionsSnapshot> ParseSnapshot(std::string_view json);

// Whether a rebuild from `snapshot` (nullopt: none) and EXECUTIONS as it is now proves every
// fill: an error saying what is missing and what to do, else ok.
Status CheckCoverage(const std::optional<PositionsSnapshot>& snapshot, const bus::StreamUsage& executions);

struct RebuiltAccount {
  std::optional<TradingState> snapshot_state;  // the trading state the snapshot kept, if any
  int64_t executions_created_ns = 0;
};

// Before the agent decides anything: loads the newest snapshot, checks its coverage (refused
// unless `allow_unproven`), restores it, remembers the decisions already in ORDERS, registers
// their orders as open and applies EXECUTIONS after the snapshot. Logs what it read.
Result<RebuiltAccount> RebuildAccount(bus::Bus& bus, bus::SeenIds& decided, Positions& positions, bool allow_unproven);

// Publishes snapshots (PubAck awaited) on a thread of its own; Stop() writes a last one.
class SnapshotWriter {
 public:
  SnapshotWriter(bus::Bus& bus, const Positions& positions, const TradingStateSwitch& state,
                 int64_t executions_created_ns, metrics::Metrics& metrics);
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // One snapshot now.
  Status Write();
  // Every `period`: a snapshot when fills moved the account or the trading state switched since
  // the last one, or when the last one is an hour old.
  void Start(std::chrono::milliseconds period);
  // Stops the thread and writes a last snapshot (call once the fills no longer move).
  void Stop();

  static constexpr std::chrono::hours kKeepAlive{1};

 private:
  void StopThread();

  bus::Bus& bus_;
  const Positions& positions_;
  const TradingStateSwitch& state_;
  const int64_t executions_created_ns_;
  prometheus::Counter& written_;
  prometheus::Counter& skipped_;
  prometheus::Counter& failed_;
  prometheus::Gauge& through_;
  std::mutex write_mu_;
  uint64_t last_through_ = 0;
  TradingState last_state_ = TradingState::kActive;
  int64_t last_written_ns_ = 0;  // wall clock; 0: none yet
  std::mutex run_mu_;
  std::condition_variable wake_;
  bool running_ = false;
  std::thread thread_;
};

}  // namespace tradepipe::agent
