#include "pull_requests.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "tradepipe/common/clock.hpp"

namespace tradepipe::bus {
namespace {

// A request whose end (last message or status) has not come this long after its expiry is taken
// as lost (the server restarted, or the connection was replaced): a new one is sent.
constexpr int64_t kLostAfterMs = 1'000;

}  // namespace

PullRequests::PullRequests(natsConnection* nc, const std::string& stream, const std::string& consumer)
    : nc_(nc),
      next_subject_("$JS.API.CONSUMER.MSG.NEXT." + stream + "." + consumer),
      inbox_(nc, SyncInbox::Kind::kExact) {
  if (!inbox_.status()) status_ = Status::Error("pull: " + inbox_.status().error());
}

PullRequests::~PullRequests() {
  // Deliveries never handed over go back at once (a nak), not after the ack wait. What the server
  // sends after this still waits out the ack wait.
  for (natsMsg* msg : TakeArrived(std::numeric_limits<int>::max())) {
    if (const char* reply = natsMsg_GetReply(msg); reply != nullptr && *reply != '\0') {
      (void)natsConnection_PublishString(nc_, reply, "-NAK");
    }
    natsMsg_Destroy(msg);
  }
  if (stats_ != nullptr) natsStatistics_Destroy(stats_);
}

uint64_t PullRequests::Reconnects() {
  uint64_t reconnects = 0;
  if (stats_ == nullptr && natsStatistics_Create(&stats_) != NATS_OK) return 0;
  if (natsConnection_GetStats(nc_, stats_) == NATS_OK) {
    natsStatistics_GetCounts(stats_, nullptr, nullptr, nullptr, nullptr, &reconnects);
  }
  return reconnects;
}

Status PullRequests::Request(int batch, bool no_wait, int64_t expires_ms) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("batch");
  w.Int(batch);
  if (no_wait) {
    w.Key("no_wait");
    w.Bool(true);
  } else {
    w.Key("expires");
    w.Int64(expires_ms * 1'000'000);
  }
  w.EndObject();
  const natsStatus s = natsConnection_PublishRequest(nc_, next_subject_.c_str(), inbox_.name().c_str(),
                                                     buffer.GetString(), static_cast<int>(buffer.GetSize()));
  if (s != NATS_OK) return Status::Error(std::string("pull request: ") + natsStatus_GetText(s));
  open_ = true;
  open_no_wait_ = no_wait;
  open_remaining_ = batch;
  open_until_ms_ = SteadyMillis() + (no_wait ? 0 : expires_ms) + kLostAfterMs;
  return {};
}

PullRequests::Read PullRequests::ReadOne(int64_t wait_ms, std::vector<natsMsg*>& out, std::string& error) {
  natsMsg* msg = nullptr;
  const natsStatus s = natsSubscription_NextMsg(&msg, inbox_.sub(), std::max<int64_t>(wait_ms, 0));
  if (s == NATS_TIMEOUT) return Read::kNothing;
  if (s != NATS_OK) {
    error = std::string("pull: ") + natsStatus_GetText(s);
    return Read::kEnded;
  }
  const std::string_view status = StatusOf(msg);
  if (status.empty()) {
    out.push_back(msg);
    if (open_ && --open_remaining_ <= 0) open_ = false;
    return Read::kDelivery;
  }
  // A control message. 100: an idle heartbeat (not asked for); the others end the request.
  const std::string_view code = status.substr(0, 3);
  if (code == "100" || code == "404" || code == "408") {  // heartbeat / nothing (more) there / expired
    if (code != "100") open_ = false;
    natsMsg_Destroy(msg);
    return Read::kControl;
  }
  open_ = false;
  const bool no_responders = code == "503";
  const std::string why = std::string(code) + " " + std::string(StatusDescription(msg));
  natsMsg_Destroy(msg);  // `status` and `code` point into it
  if (no_responders) {
    error = "pull " + next_subject_ + ": no JetStream responders";
    return Read::kEnded;
  }
  // 409 and the like: the server refused or cut the request (consumer deleted, too many
  // waiting requests, leadership change...). The next call asks again.
  spdlog::warn("pull request ended by the server subject={} status={}", next_subject_, why);
  error = "pull " + next_subject_ + ": " + why;
  return Read::kEnded;
}

Result<std::vector<natsMsg*>> PullRequests::Next(int batch, int timeout_ms) {
  using R = Result<std::vector<natsMsg*>>;
  if (!status_) return R::Error(status_.error());
  std::vector<natsMsg*> out;
  // An error ends the call, but what was received is handed over first: those are deliveries.
  auto end_with = [&out](std::string why) { return out.empty() ? R::Error(std::move(why)) : R(std::move(out)); };
  const int64_t end_ms = SteadyMillis() + std::max(timeout_ms, 1);
  bool asked_no_wait = false;
  // A reconnect loses the server's side of an open request: ask again rather than wait for an end
  // that will not come. (Late messages of the old one are still valid deliveries, taken as usual.)
  if (const uint64_t reconnects = Reconnects(); reconnects != reconnects_seen_) {
    reconnects_seen_ = reconnects;
    open_ = false;
  }
  while (static_cast<int>(out.size()) < batch) {
    const int64_t now = SteadyMillis();
    if (!open_ || now >= open_until_ms_) {
      if (!out.empty()) break;  // hand over what came before asking for more
      // What an earlier request left queued is taken first; while disconnected a request would
      // only be buffered (and sent in a heap with the others on reconnect): wait instead.
      if (Queued() == 0 && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED) {
        if (now >= end_ms) break;
        // First what is there now (answered at once: the messages, then 404 if fewer than the
        // batch), and only if nothing is, a request that waits for the first new message.
        const bool no_wait = !asked_no_wait;
        asked_no_wait = true;
        if (Status sent = Request(batch, no_wait, end_ms - now); !sent) return end_with(sent.error());
      }
    }
    // A no-wait request is read to its end (its 404 comes right after what it delivers); a
    // waiting one until its first message, then only what has already arrived.
    const bool wait = out.empty() || (open_ && open_no_wait_);
    std::string error;
    const Read read = ReadOne(wait ? end_ms - SteadyMillis() : 0, out, error);
    if (read == Read::kNothing) break;
    if (read == Read::kEnded) return end_with(std::move(error));
  }
  // A full batch: the next one is asked for now, to arrive while the caller works on this one.
  if (static_cast<int>(out.size()) == batch && !open_ && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED) {
    (void)Request(batch, false, std::max(timeout_ms, 1));  // if it fails, the next call asks again
  }
  return out;
}

std::vector<natsMsg*> PullRequests::TakeArrived(int limit) {
  std::vector<natsMsg*> out;
  if (inbox_.sub() == nullptr) return out;
  std::string error;
  while (static_cast<int>(out.size()) < limit && Queued() > 0) {
    if (ReadOne(0, out, error) == Read::kNothing) break;
  }
  return out;
}

}  // namespace tradepipe::bus
