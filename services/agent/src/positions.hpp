// Net position per symbol, built from fills and idempotent by fill id (a redelivered fill
// changes nothing). Thread-safe (one mutex; fills arrive on one consumer thread, reads come from
// HTTP threads).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <unordered_set>

#include "tradepipe/events/envelope.hpp"

namespace tradepipe::agent {

enum class ApplyOutcome {
  kApplied,
  kDuplicate,   // this fill id was applied before: nothing changes
  kOutOfRange,  // the position would leave Decimal's range: refused, nothing changes
};

class Positions {
 public:
  ApplyOutcome Apply(const std::string& fill_id, const std::string& symbol, events::Side side, events::Decimal qty);
  events::Decimal Of(const std::string& symbol) const;
  std::map<std::string, events::Decimal> Snapshot() const;
  size_t fills() const;
  // {"<symbol>":"<net quantity>",...}, written with a JSON writer (symbols are escaped, whatever
  // their text).
  std::string ToJson() const;

 private:
  mutable std::mutex mu_;
  std::unordered_set<std::string> applied_;
  std::map<std::string, events::Decimal> net_;
};

}  // namespace tradepipe::agent
