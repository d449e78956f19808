// When an ack-all consumer may send its one ack for a handled batch (docs/performance-plan.md,
// "AckAll, safely").
//
// With AckPolicy all, an ack of stream sequence S acknowledges every pending delivery of the
// consumer up to S, also those this process never handled (made to a previous incarnation that
// died mid-batch, or lost on a broken connection). The gate allows an ack only when every pending
// delivery is one handled here:
//   - Start(the server's view when the consumer is opened): proven at once when nothing is pending
//     (no delivery of an earlier incarnation can be left);
//   - Received(consumer_seq) for each delivery, in arrival order: a gap in consumer sequences means
//     a delivery went elsewhere, and the gate is unproven again;
//   - Handled(stream seqs of the batch, ...) once the batch is durable: returns the stream
//     sequence to ack through, or 0 (ack nothing now: the batch stays pending and comes back after
//     the ack wait). An unproven gate asks the server (consumer info) and is proven when the server
//     delivered nothing beyond what arrived here, nothing waits unhanded in the inbox, and the
//     server's ack-pending count equals the messages handled here and not yet acked.
// Pure logic; the server is behind a callback. Requires one process per durable.
//
// Thread-safety: none; the consumer's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <vector>

namespace tradepipe::bus {

class AckGate {
 public:
  // The consumer as the server sees it.
  struct ServerView {
    uint64_t last_delivered_consumer_seq = 0;
    uint64_t ack_pending = 0;
  };
  using AskServer = std::function<std::optional<ServerView>()>;

  void Start(const ServerView& at_open);
  void Received(uint64_t consumer_seq);
  // `queued`: deliveries received but not handed over yet. Returns the stream sequence to ack
  // through (the highest of `stream_seqs`), or 0.
  uint64_t Handled(const std::vector<uint64_t>& stream_seqs, int queued, const AskServer& ask);

  bool proven() const { return proven_; }
  size_t handled_unacked() const { return handled_unacked_.size(); }

 private:
  bool proven_ = false;
  uint64_t next_consumer_seq_ = 0;      // 0: nothing received yet
  std::set<uint64_t> handled_unacked_;  // stream sequences handled here, not yet covered by an ack
};

}  // namespace tradepipe::bus
