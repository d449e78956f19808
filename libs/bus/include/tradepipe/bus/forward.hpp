// The consume-transform-publish step shared by the agent and exec-sim: each message of a batch
// is turned into zero or more outgoing events; all of them are published and PubAcked, and
// only then are the inputs acknowledged (ack after the effect is durable). If publishing fails,
// every input is nak'ed for redelivery — the deterministic event ids make the re-publish a
// duplicate that JetStream drops. A message the transform cannot use is a poison message:
// terminated (never redelivered), logged with its reason and counted.
//
// Thread-safety: call from the consumer's thread.
#pragma once

#include <functional>
#include <vector>

#include "tradepipe/bus/bus.hpp"

namespace tradepipe::bus {

struct ForwardResult {
  bool published = false;  // true: every good input was acked
  size_t forwarded = 0;    // inputs acked (or nak'ed when !published)
  size_t dead = 0;         // poison inputs terminated
};

using Transform = std::function<Result<std::vector<OutgoingMessage>>(Message&)>;

ForwardResult ForwardBatch(Bus& bus, std::vector<Message>& batch, const Transform& transform);

}  // namespace tradepipe::bus
