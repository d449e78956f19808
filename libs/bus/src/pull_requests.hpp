// Pull requests for a JetStream consumer, sent and read by us on a plain subscription, instead of
// cnats' natsSubscription_Fetch.
//
// Why (docs/trust.md item 12): Debian 12's cnats 3.4.1 has a heap-buffer overflow in its fetch
// (nats.c PR #749, fixed in 3.9.0): messages left over from an earlier pull request are counted
// against a shrunken batch and written past its array. A newer cnats cannot be had here (Debian
// 13's binary needs glibc 2.38; its sources are not on the mirror this project can reach). The
// JetStream pull protocol is small — publish `{"batch":n,"expires":ns}` to
// `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>` with our inbox as the reply; messages arrive on
// the inbox, each with its `$JS.ACK...` reply; a request ends with its last message or a status
// (404 no messages, 408 expired, 409 refused) — so we do it ourselves, and a message is never
// written anywhere but into the vector handed back: whatever request it belongs to, a message on
// the inbox is a valid delivery, taken at most `batch` at a time, the rest left queued.
//
// One request is open at a time: a new one is sent when the last ended (its batch delivered or a
// status came), or when its end never came (server restart) a second after its expiry. As cnats'
// fetch does, a Next first asks with no_wait (what is there now, read to its 404), and only if
// nothing is, with an expiry: then the first message is handed over with what arrived with it.
// A Next that hands over a full batch asks for the next one before returning (with an expiry), so
// that the server delivers it while the caller works on this one: without it each batch waits a
// round trip and the server's sending, and a drain moves a third less (docs/trading-core.md §7).
// What arrives meanwhile is a delivery like any other: TakeArrived() hands it over without asking
// for more (a consumer loop holding a failed batch keeps it with the batch), and what is still
// queued when this closes is nak'ed, redelivered at once rather than after the ack wait.
//
//   PullRequests pull(nc, "SIGNALS", "agent");
//   auto got = pull.Next(256, 250);  // up to 256 natsMsg*, waiting at most 250 ms for the first
//
// Thread-safety: one thread at a time.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sync_inbox.hpp"
#include "tradepipe/common/result.hpp"

namespace tradepipe::bus {

class PullRequests {
 public:
  // Subscribes on a new inbox; check ok() (the error says why not).
  PullRequests(natsConnection* nc, const std::string& stream, const std::string& consumer);
  ~PullRequests();
  PullRequests(const PullRequests&) = delete;
  PullRequests& operator=(const PullRequests&) = delete;

  Status status() const { return status_; }
  const std::string& inbox() const { return inbox_.name(); }
  // Messages delivered to the inbox and not yet taken by Next.
  int Queued() const { return inbox_.Queued(); }

  // Up to `batch` messages, owned by the caller; waits at most `timeout_ms` for the first, then
  // takes only what has already arrived. Empty when nothing came.
  Result<std::vector<natsMsg*>> Next(int batch, int timeout_ms);
  // What has arrived and not been taken (at most `limit`), without asking for more or waiting.
  std::vector<natsMsg*> TakeArrived(int limit);

 private:
  Status Request(int batch, bool no_wait, int64_t expires_ms);
  // Reads one message from the inbox, waiting at most `wait_ms`: a delivery goes into `out`; a
  // heartbeat or a 404/408 is consumed (the latter two end the open request); any other status,
  // or a failed read, ends the call with its reason in `error`.
  enum class Read { kDelivery, kControl, kNothing, kEnded };
  Read ReadOne(int64_t wait_ms, std::vector<natsMsg*>& out, std::string& error);
  uint64_t Reconnects();

  natsConnection* nc_;
  std::string next_subject_;
  SyncInbox inbox_;  // destroyed after ~PullRequests has nak'ed what it holds
  Status status_;
  bool open_ = false;                // a request of ours may still deliver
  bool open_no_wait_ = false;        // ...and it answers at once (no_wait)
  int open_remaining_ = 0;           // messages it may still deliver
  int64_t open_until_ms_ = 0;        // steady ms after which it is taken as lost
  natsStatistics* stats_ = nullptr;  // read for the reconnect count
  uint64_t reconnects_seen_ = 0;
};

}  // namespace tradepipe::bus
