#include "ack_gate.hpp"

#include <algorithm>

namespace tradepipe::bus {

void AckGate::Start(const ServerView& at_open) {
  proven_ = at_open.ack_pending == 0;
  next_consumer_seq_ = at_open.last_delivered_consumer_seq + 1;
  handled_unacked_.clear();
}

void AckGate::Received(uint64_t consumer_seq) {
  if (next_consumer_seq_ != 0 && consumer_seq != next_consumer_seq_) proven_ = false;
  next_consumer_seq_ = consumer_seq + 1;
}

uint64_t AckGate::Handled(const std::vector<uint64_t>& stream_seqs, int queued, const AskServer& ask) {
  if (stream_seqs.empty()) return 0;
  handled_unacked_.insert(stream_seqs.begin(), stream_seqs.end());
  if (!proven_) {
    // A queued delivery may be a stray of a dead incarnation below the ack: wait until none is.
    if (queued != 0 || next_consumer_seq_ == 0) return 0;
    const std::optional<ServerView> view = ask();
    if (!view || view->last_delivered_consumer_seq + 1 != next_consumer_seq_ ||
        view->ack_pending != handled_unacked_.size()) {
      return 0;
    }
    proven_ = true;
  }
  const uint64_t through = *std::max_element(stream_seqs.begin(), stream_seqs.end());
  handled_unacked_.erase(handled_unacked_.begin(), handled_unacked_.upper_bound(through));
  return through;
}

}  // namespace tradepipe::bus
