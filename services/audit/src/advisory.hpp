// JetStream's consumer advisories that mean "this consumer gave a message up": max deliveries
// reached (the message will never be delivered to it again) and terminated (the consumer called
// it poison). The DEADLETTERS stream captures both (proto/streams.json); the audit records each one,
// with the original message read back from its stream, so that nothing leaves a stream
// unaccounted for.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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
// message read back from its stream, else from the audit's own copy (an interest stream drops a
// message once every consumer has settled it, the audit's own consumer included: by then the
// audit has recorded it), else a note in `reason`; and a dead letter per message that is no
// advisory. Fails when an original cannot be read for another reason (the bus is down): the batch
// is then retried.
struct GivenUpBatch {
  std::vector<GivenUpMessage> given_up;
  std::vector<DeadLetter> unreadable;
};
// The audit's own copy of (stream, sequence): {subject, data}, nullopt if it has none.
using OwnCopyLookup = std::function<Result<std::optional<std::pair<std::string, std::string>>>(
    const std::string& stream, uint64_t stream_seq)>;
Result<GivenUpBatch> ResolveAdvisories(bus::Bus& bus, std::vector<bus::Message>& advisories, int64_t now_ns,
                                       const OwnCopyLookup& own_copy);
// OwnCopyLookup over `store`, streams told apart by their subjects in `topology`.
OwnCopyLookup StoreCopies(const AuditStore& store, const bus::Topology& topology);

}  // namespace tradepipe::audit
