#include "sync_inbox.hpp"

#include <spdlog/spdlog.h>

namespace tradepipe::bus {

SyncInbox::SyncInbox(natsConnection* nc, Kind kind) : nc_(nc) {
  natsInbox* inbox = nullptr;
  if (natsInbox_Create(&inbox) != NATS_OK) {
    status_ = Status::Error("cannot create an inbox");
    return;
  }
  name_ = inbox;
  natsInbox_Destroy(inbox);
  const std::string subject = kind == Kind::kWildcard ? name_ + ".*" : name_;
  if (natsStatus s = natsConnection_SubscribeSync(&sub_, nc_, subject.c_str()); s != NATS_OK) {
    sub_ = nullptr;
    status_ = Status::Error(std::string("subscribe ") + subject + ": " + natsStatus_GetText(s));
    return;
  }
  natsSubscription_SetPendingLimits(sub_, -1, -1);
}

SyncInbox::~SyncInbox() {
  if (sub_ == nullptr) return;
  // cnats 3.4.1 (Debian 12's) delivers a message to a subscription it looked up before taking a
  // reference on it (fixed upstream in 3.6.1, nats.c #637): a subscription destroyed right then is
  // used after it is freed — seen as an agent that died of SIGSEGV on SIGTERM, the 408 of its last
  // pull request arriving as the loop stopped. So: unsubscribe (no new message finds it), flush (the
  // PONG comes after everything the reader thread had in hand), then destroy. When the flush
  // fails (disconnected) the subscription is left allocated: a few bytes, against a crash.
  natsSubscription_Unsubscribe(sub_);
  if (natsConnection_FlushTimeout(nc_, 2'000) != NATS_OK) {
    spdlog::warn("inbox {}: subscription not confirmed closed (no flush), left allocated", name_);
    return;
  }
  natsSubscription_Destroy(sub_);
}

int SyncInbox::Queued() const {
  int msgs = 0, bytes = 0;
  if (sub_ == nullptr || natsSubscription_GetPending(sub_, &msgs, &bytes) != NATS_OK) return 0;
  return msgs;
}

std::string_view StatusOf(natsMsg* msg) {
  if (natsMsg_GetDataLength(msg) > 0) return {};
  const char* status = nullptr;
  if (natsMsgHeader_Get(msg, "Status", &status) != NATS_OK || status == nullptr) return {};
  return status;
}

std::string_view StatusDescription(natsMsg* msg) {
  const char* text = nullptr;
  if (natsMsgHeader_Get(msg, "Description", &text) != NATS_OK || text == nullptr) return {};
  return text;
}

}  // namespace tradepipe::bus
