// The consume-transform-publish step shared by the agent and exec-sim: each message of a batch
// is turned into zero or more outgoing events, each published as soon as it is made (the server
// stores it while the rest of the batch is transformed); once all of them are PubAcked, and
// only then, are the inputs acknowledged (ack after the effect is durable). If publishing fails,
// the inputs stay unsettled and the result says why: the ConsumerLoop holds them and calls again
// after a back-off; the deterministic event ids make the re-publish of what did get stored a
// duplicate. A message the transform cannot use is a poison message: terminated (never
// redelivered, announced by JetStream's terminated advisory, which the audit records), logged with
// its reason and counted.
//
// Thread-safety: call from the consumer's thread, with that thread's publisher.
#pragma once

#include <functional>
#include <vector>

#include "tradepipe/bus/bus.hpp"
#include "tradepipe/bus/seen_ids.hpp"

namespace tradepipe::bus {

struct ForwardResult {
  Status status;           // ok: every good input was published and acked
  size_t forwarded = 0;    // good inputs (acked when status is ok, else left unsettled)
  size_t dead = 0;         // poison inputs terminated
  size_t repeats = 0;      // outputs not published again: their id was already in the output stream
  int64_t publish_ns = 0;  // the last input transformed -> the last PubAck (wall clock)
};

using Transform = std::function<Result<std::vector<OutgoingMessage>>(Message&)>;

// `published` holds the ids already in the output stream (rebuilt at start with
// RememberPublished): an output whose id is there is not published again, however long after
// the original (beyond JetStream's duplicate window) the input comes back. Each output is checked
// on its own: after a crash between two outputs of one input, only the missing one is published.
// `published` may be null only for a transform that never produces outputs. `publisher`: the
// consumer thread's own (Bus::NewBatchPublisher), reused batch after batch.
ForwardResult ForwardBatch(BatchPublisher& publisher, std::vector<Message>& batch, const Transform& transform,
                           SeenIds* published);

}  // namespace tradepipe::bus
