// Streams and durable consumers as declared in proto/streams.json.
// Thread-safe: value types and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tradepipe/common/result.hpp"

namespace tradepipe::bus {

// When a stream's messages go: `limits` keeps them for max_age/max_bytes whether consumed or not
// (streams whose history is read back at start); `interest` drops each one once every consumer
// has acked it (its fullness is then the unconsumed backlog).
enum class Retention { kLimits, kInterest };

struct StreamSpec {
  std::string name;
  Retention retention = Retention::kLimits;
  std::vector<std::string> subjects;
  int64_t max_age_s = 0;   // 0: unlimited
  int64_t max_bytes = -1;  // -1: unlimited
  int64_t duplicate_window_s = 120;
  // Messages kept per subject (-1: no such limit). A stream with this limit keeps the newest:
  // its subjects hold state that each new message replaces (the agent's snapshots), so the
  // oldest go, not the new one (every other stream refuses new messages when full).
  int64_t max_msgs_per_subject = -1;
};

struct ConsumerSpec {
  std::string stream;
  std::string durable;
  std::string filter;
  int64_t max_ack_pending = 20000;
  int64_t ack_wait_s = 30;
  int64_t max_deliver = 10;
};

struct Topology {
  std::vector<StreamSpec> streams;
  std::vector<ConsumerSpec> consumers;

  // The consumer named `durable`; throws std::out_of_range if absent (a wiring bug).
  const ConsumerSpec& Consumer(std::string_view durable) const;
};

Result<Topology> ParseTopology(std::string_view json);
// proto/streams.json as compiled in.
const Topology& DefaultTopology();

}  // namespace tradepipe::bus
