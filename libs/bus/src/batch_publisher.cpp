#include "batch_publisher.hpp"

#include <algorithm>
#include <charconv>

#include "tradepipe/common/clock.hpp"

namespace tradepipe::bus {

void PublisherSet::CloseAll() {
  std::lock_guard lock(mu);
  for (NatsBatchPublisher* publisher : live) publisher->Release();
  live.clear();
  closed = true;
}

NatsBatchPublisher::NatsBatchPublisher(natsConnection* nc, int64_t timeout_ms, size_t max_in_flight,
                                       std::shared_ptr<PublisherSet> set)
    : nc_(nc), set_(std::move(set)), timeout_ms_(timeout_ms), max_in_flight_(std::max<size_t>(max_in_flight, 1)) {
  std::lock_guard lock(set_->mu);
  if (set_->closed) {
    released_ = true;
  } else {
    set_->live.push_back(this);
  }
}

NatsBatchPublisher::~NatsBatchPublisher() {
  std::lock_guard lock(set_->mu);
  if (released_) return;  // the bus released it (and its connection may be gone)
  Release();
  std::erase(set_->live, this);
}

void NatsBatchPublisher::Release() {
  (void)Wait();    // answers after this are dropped with the inbox
  inbox_.reset();  // while the connection stands
  released_ = true;
}

void NatsBatchPublisher::CollectGarbage() {
  for (natsMsg* msg : garbage_) natsMsg_Destroy(msg);
  garbage_.clear();
}

void NatsBatchPublisher::Fail(std::string why) {
  if (first_error_.empty()) first_error_ = std::move(why);
}

void NatsBatchPublisher::Add(const OutgoingMessage& message) {
  if (released_) return Fail("publish " + message.subject + ": bus closed");
  if (!inbox_) {
    auto inbox = std::make_unique<SyncInbox>(nc_, SyncInbox::Kind::kWildcard);
    if (!inbox->status()) return Fail("publish " + message.subject + ": PubAck inbox: " + inbox->status().error());
    inbox_ = std::move(inbox);
  }
  if (in_flight_ >= max_in_flight_) Drain(max_in_flight_ - 1, SteadyMillis() + timeout_ms_);

  const uint64_t id = next_id_++;
  const size_t index = static_cast<size_t>(id - first_id_);
  if (index == slots_.size()) slots_.emplace_back();
  Slot& slot = slots_[index];
  slot.subject.assign(message.subject);
  slot.settled = true;  // until it is sent: no answer will come for it

  reply_.assign(inbox_->name());
  reply_ += '.';
  char digits[24];
  reply_.append(digits, std::to_chars(digits, digits + sizeof digits, id).ptr);
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, message.subject.c_str(), reply_.c_str(), message.data.data(),
                                static_cast<int>(message.data.size()));
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", message.msg_id.c_str());
  if (s == NATS_OK) s = natsConnection_PublishMsg(nc_, msg);
  if (msg != nullptr) garbage_.push_back(msg);
  if (s != NATS_OK) return Fail("publish " + message.subject + ": " + natsStatus_GetText(s));
  slot.settled = false;
  ++in_flight_;
  last_sent_ms_ = SteadyMillis();
}

bool NatsBatchPublisher::ReadOne(int64_t wait_ms) {
  natsMsg* msg = nullptr;
  const natsStatus s = natsSubscription_NextMsg(&msg, inbox_->sub(), std::max<int64_t>(wait_ms, 0));
  if (s == NATS_TIMEOUT) return false;
  if (s == NATS_NO_RESPONDERS) {  // the message is gone with its subject: see the header
    ++no_responders_;
    return true;
  }
  if (s != NATS_OK) {
    Fail(std::string("PubAck inbox: ") + natsStatus_GetText(s));
    return false;
  }
  // "<inbox>.<n>": anything else, or an `n` not in flight in this round, is late or not ours.
  const std::string_view subject = natsMsg_GetSubject(msg);
  const std::string& inbox = inbox_->name();
  uint64_t id = 0;
  bool ours = subject.size() > inbox.size() + 1 && subject.starts_with(inbox) && subject[inbox.size()] == '.';
  if (ours) {
    const char* begin = subject.data() + inbox.size() + 1;
    const char* end = subject.data() + subject.size();
    ours = std::from_chars(begin, end, id).ptr == end && id >= first_id_ && id < next_id_;
  }
  if (ours && !slots_[id - first_id_].settled) {
    Slot& slot = slots_[id - first_id_];
    slot.settled = true;
    --in_flight_;
    const int length = natsMsg_GetDataLength(msg);
    const std::string_view payload(natsMsg_GetData(msg), static_cast<size_t>(std::max(length, 0)));
    if (auto ack = decoder_.Decode(StatusOf(msg), StatusDescription(msg), payload); !ack) {
      Fail("publish " + slot.subject + ": " + ack.error());
    }
  }
  garbage_.push_back(msg);
  return true;
}

std::string NatsBatchPublisher::Unsettled() const {
  std::string first;
  size_t count = 0;
  for (size_t i = 0; i < next_id_ - first_id_; ++i) {
    if (slots_[i].settled) continue;
    if (count++ == 0) first = slots_[i].subject;
  }
  return count > 1 ? first + " (and " + std::to_string(count - 1) + " more)" : first;
}

void NatsBatchPublisher::SettleAll() {
  for (size_t i = 0; i < next_id_ - first_id_; ++i) slots_[i].settled = true;
  in_flight_ = 0;
  no_responders_ = 0;
}

void NatsBatchPublisher::Drain(size_t limit, int64_t deadline_ms) {
  while (in_flight_ - std::min(no_responders_, in_flight_) > limit) {
    const int64_t left = deadline_ms - SteadyMillis();
    if (left <= 0 || !ReadOne(left)) {
      // Given up: these may still be stored (a retry with the same id is dropped as a duplicate);
      // their late answers find them settled and are dropped.
      Fail("no PubAck within " + std::to_string(timeout_ms_) + " ms for " + std::to_string(in_flight_) +
           " message(s): publish " + Unsettled());
      SettleAll();
    }
  }
}

Status NatsBatchPublisher::Wait() {
  if (in_flight_ > 0) Drain(0, last_sent_ms_ + timeout_ms_);
  if (in_flight_ > 0) {  // all answered, these by a 503
    Fail("publish " + Unsettled() + ": no JetStream stream stores this subject (no responders)");
  }
  SettleAll();
  CollectGarbage();
  Status result = first_error_.empty() ? Status() : Status::Error(first_error_);
  first_error_.clear();
  first_id_ = next_id_;  // a new round (every slot is settled): answers for the old one are late
  return result;
}

}  // namespace tradepipe::bus
