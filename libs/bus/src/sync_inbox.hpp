// A subscription on a fresh inbox, read by one thread with natsSubscription_NextMsg: where the
// answers to our own requests arrive (pull deliveries, PubAcks), taken when that thread is ready
// for them, with no callback thread in between.
//
//   SyncInbox inbox(nc, SyncInbox::Kind::kWildcard);   // "_INBOX.<nuid>.*"
//   if (!inbox.status()) ...
//   natsConnection_PublishRequest(nc, subject, (inbox.name() + ".7").c_str(), ...);
//   natsSubscription_NextMsg(&msg, inbox.sub(), 100);
//
// No pending limit: whoever asks bounds what can arrive (a pull's batch, the publishes in flight);
// a limit would drop answers, and a dropped answer only surfaces as a timeout.
// Thread-safety: one thread at a time.
#pragma once

#include <nats/nats.h>

#include <string>
#include <string_view>

#include "tradepipe/common/result.hpp"

namespace tradepipe::bus {

class SyncInbox {
 public:
  enum class Kind { kExact, kWildcard };  // the inbox itself, or every subject one token below it
  SyncInbox(natsConnection* nc, Kind kind);
  ~SyncInbox();
  SyncInbox(const SyncInbox&) = delete;
  SyncInbox& operator=(const SyncInbox&) = delete;

  Status status() const { return status_; }
  const std::string& name() const { return name_; }  // "_INBOX.<nuid>", without the ".*"
  natsSubscription* sub() const { return sub_; }     // null when status() is an error
  // Messages arrived and not yet read.
  int Queued() const;

 private:
  natsConnection* nc_;
  std::string name_;
  natsSubscription* sub_ = nullptr;
  Status status_;
};

// The status of a control message on an inbox ("404", "503 No Responders" -> "503"...), empty for
// a message with a payload; and its text (the Description header). Views into `msg`.
// A status message has no payload and a Status header; a headers-only read has headers and no
// payload but no Status.
std::string_view StatusOf(natsMsg* msg);
std::string_view StatusDescription(natsMsg* msg);

}  // namespace tradepipe::bus
