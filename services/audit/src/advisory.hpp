// JetStream's consumer advisories that mean "this consumer gave a message up": max deliveries
// reached (the message will never be delivered to it again) and terminated (the consumer called
// it poison). The DEADLETTERS stream captures both (proto/streams.json); the audit records each one,
// with the original message read back from its stream, so that nothing leaves a stream
// unaccounted for.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/common/result.hpp"

namespace tradepipe::audit {

enum class GiveUpKind { kMaxDeliveries, kTerminated };

std::string_view GiveUpKindName(GiveUpKind kind);  // "max_deliveries", "terminated"

struct ConsumerAdvisory {
  GiveUpKind kind = GiveUpKind::kMaxDeliveries;
  std::string stream;
  std::string consumer;
  uint64_t stream_seq = 0;
  uint64_t deliveries = 0;
  std::string reason;  // terminated: the reason the consumer gave, when the server passes it on
};

// Parses a max_deliver or terminated advisory; any other JSON (or another advisory type) is an
// error naming what is wrong.
Result<ConsumerAdvisory> ParseConsumerAdvisory(std::string_view json);

// What a batch of DEADLETTERS messages records: a given-up row per advisory, with the original
// message read back from its stream (a note in `reason` when it is no longer there), and a dead
// letter per message that is no advisory. Fails when an original cannot be read for another
// reason (the bus is down): the batch is then retried.
struct GivenUpBatch {
  std::vector<GivenUpMessage> given_up;
  std::vector<DeadLetter> unreadable;
};
Result<GivenUpBatch> ResolveAdvisories(bus::Bus& bus, std::vector<bus::Message>& advisories, int64_t now_ns);

}  // namespace tradepipe::audit
