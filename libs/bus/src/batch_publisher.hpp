// BatchPublisher on cnats: each message goes out as a plain publish with a `Nats-Msg-Id` header
// and a reply subject of its own, `<inbox>.<n>`; JetStream answers there with the PubAck, and
// Wait reads the answers on the calling thread (SyncInbox). Why not js_PublishMsgAsync: its
// PubAcks reach their callback on a cnats thread, which then has to wake the thread waiting for
// the batch — per message, a wake-up and two mutex hand-offs, a fifth of a service's CPU in a
// drain (docs/trading-core.md §7). Here the answers queue while the caller works and are taken
// in one pass, mostly without waiting.
//
// cnats frees a natsMsg on its garbage-collector thread, woken whenever it was idle: destroyed one
// at a time between publishes, each message costs that thread a wake-up (a futex signal and a
// contended lock; a third of the agent's CPU in a drain, by `perf`). So the messages this
// publisher makes and the answers it reads are destroyed together when the round ends.
//
// An answer is matched by its `n`: those of this round ([first_id_, next_id_)) settle their
// message once; those of a round given up on (timed out) are dropped. The one exception: cnats
// swallows a "503 no responders" status (no stream stores the subject) and reports only that one
// came, not for which message. Every message gets exactly one answer, so those are counted, and
// once all the others have answered, the messages still unsettled are the ones without a stream.
// (A late 503 of a given-up round counted in the next one can only turn that round into an error,
// never into a success.)
#pragma once

#include <nats/nats.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pub_ack.hpp"
#include "sync_inbox.hpp"
#include "tradepipe/bus/bus.hpp"

namespace tradepipe::bus {

class NatsBatchPublisher;

// The publishers of one connection. Their owners (a service's handlers) may outlive the bus, but
// their inboxes must not outlive its connection: the bus releases them all before it closes, and
// a publisher released that way fails every later Add ("bus closed").
struct PublisherSet {
  std::mutex mu;
  std::vector<NatsBatchPublisher*> live;
  bool closed = false;
  void CloseAll();
};

class NatsBatchPublisher final : public BatchPublisher {
 public:
  NatsBatchPublisher(natsConnection* nc, int64_t timeout_ms, size_t max_in_flight, std::shared_ptr<PublisherSet> set);
  ~NatsBatchPublisher() override;
  NatsBatchPublisher(const NatsBatchPublisher&) = delete;
  NatsBatchPublisher& operator=(const NatsBatchPublisher&) = delete;

  void Add(const OutgoingMessage& message) override;
  Status Wait() override;

 private:
  struct Slot {
    std::string subject;  // for the error that names it (the buffer is reused round after round)
    bool settled = false;
  };
  // Reads one answer, waiting at most `wait_ms`; false when none came (or the read failed: then
  // the reason is the round's error).
  bool ReadOne(int64_t wait_ms);
  // Waits until at most `limit` messages are without an answer; gives them up (an error) when
  // none comes by `deadline_ms`.
  void Drain(size_t limit, int64_t deadline_ms);
  void Fail(std::string why);
  // The first unsettled message's subject, and how many others are unsettled.
  std::string Unsettled() const;
  void SettleAll();
  void CollectGarbage();
  // Waits for what is in flight, drops the inbox; no use of the connection after this.
  void Release();
  friend struct PublisherSet;

  natsConnection* nc_;
  std::shared_ptr<PublisherSet> set_;
  bool released_ = false;
  int64_t timeout_ms_;
  size_t max_in_flight_;
  std::unique_ptr<SyncInbox> inbox_;  // subscribed at the first Add (a consumer may publish nothing)
  std::string reply_;                 // "<inbox>.<n>", rebuilt per message
  PubAckDecoder decoder_;
  std::vector<Slot> slots_;  // slots_[i] is message first_id_ + i of this round
  uint64_t first_id_ = 0;
  uint64_t next_id_ = 0;
  size_t in_flight_ = 0;
  size_t no_responders_ = 0;  // 503s of this round whose message cnats does not say
  int64_t last_sent_ms_ = 0;  // steady clock
  std::string first_error_;
  std::vector<natsMsg*> garbage_;  // destroyed together at the end of a round (see above)
};

}  // namespace tradepipe::bus
