// Net position per symbol, built from fills and idempotent by fill id (a redelivered fill
// changes nothing; the applied ids are a bounded bus::SeenIds). Rebuilt at start by reading every
// fill of EXECUTIONS in stream order (ApplyFillEvent), before the agent decides anything.
// Thread-safe (one mutex; fills arrive on one consumer thread, reads come from HTTP threads).
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "tradepipe/bus/seen_ids.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::agent {

enum class ApplyOutcome {
  kApplied,
  kDuplicate,   // this fill id was applied before: nothing changes
  kOutOfRange,  // the position would leave Decimal's range: refused, nothing changes
};

class Positions {
 public:
  explicit Positions(size_t remembered_fills = 250'000) : applied_(remembered_fills) {}
  // `at_ns`: when the fill was produced (0: now); only for the horizon of remembered ids.
  ApplyOutcome Apply(const std::string& fill_id, const std::string& symbol, events::Side side, events::Decimal qty,
                     int64_t at_ns = 0);
  events::Decimal Of(const std::string& symbol) const;
  std::map<std::string, events::Decimal> Snapshot() const;
  size_t fills() const;  // fill ids remembered (at most `remembered_fills`)
  const bus::SeenIds& applied() const { return applied_; }
  // {"<symbol>":"<net quantity>",...}, written with a JSON writer (symbols are escaped, whatever
  // their text).
  std::string ToJson() const;

 private:
  mutable std::mutex mu_;
  bus::SeenIds applied_;
  std::map<std::string, events::Decimal> net_;
};

// Applies one fill event (a message of exec.fill.>); an error for an unusable message (poison).
Result<ApplyOutcome> ApplyFillEvent(Positions& positions, std::string_view data, int64_t at_ns = 0);

// Before the agent decides anything: remembers the decisions already in ORDERS and rebuilds the
// positions from every fill of EXECUTIONS, in stream order. Logs what it read.
Status RebuildFromStreams(bus::Bus& bus, bus::SeenIds& decided, Positions& positions);

}  // namespace tradepipe::agent
