#include "tradepipe/bus/bus.hpp"

#include <nats/nats.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "batch_publisher.hpp"
#include "pull_requests.hpp"
#include "tradepipe/common/clock.hpp"
#include "tradepipe/common/redact.hpp"

namespace tradepipe::bus {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

// cnats' status plus its thread-local last error text, turned into our error message.
std::string ErrorText(natsStatus s, jsErrCode jerr = static_cast<jsErrCode>(0)) {
  std::string text = natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  if (const char* detail = nats_GetLastError(&last); detail != nullptr && *detail != '\0') {
    text += std::string(": ") + detail;
  }
  if (jerr != 0) text += " (jetstream error " + std::to_string(static_cast<int>(jerr)) + ")";
  return text;
}

natsMsg* Raw(void* msg) { return static_cast<natsMsg*>(msg); }

// cnats runs connection callbacks on its own thread, after the event: the disconnect of our own
// close is posted while the destructor runs and could otherwise log through spdlog after main
// returned (a crash at exit). The bus marks its close, and waits for the closed callback, the
// last one cnats posts, before it lets the connection go.
struct ConnectionEvents {
  std::atomic<bool> closing{false};
  std::mutex mu;
  std::condition_variable cv;
  bool closed = false;

  bool WaitClosed(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, [this] { return closed; });
  }
};

void OnDisconnected(natsConnection*, void* closure) {
  if (!static_cast<ConnectionEvents*>(closure)->closing.load()) spdlog::warn("nats disconnected, reconnecting");
}
void OnReconnected(natsConnection*, void*) { spdlog::info("nats reconnected"); }
void OnClosed(natsConnection*, void* closure) {
  auto* events = static_cast<ConnectionEvents*>(closure);
  std::lock_guard lock(events->mu);
  events->closed = true;
  events->cv.notify_all();
}

class PullConsumer final : public Consumer {
 public:
  PullConsumer(natsConnection* nc, const std::string& stream, const std::string& durable, int64_t ack_wait_ms)
      : nc_(nc), pull_(nc, stream, durable), ack_wait_ms_(ack_wait_ms) {}

  Status status() const { return pull_.status(); }

  Result<std::vector<Message>> Fetch(int batch, int timeout_ms) override {
    auto got = pull_.Next(batch, timeout_ms);
    if (!got) return Result<std::vector<Message>>::Error("fetch: " + got.error());
    std::vector<Message> out;
    out.reserve(got->size());
    const int64_t received = WallNanos();
    for (natsMsg* m : *got) out.emplace_back(m, nc_, received);
    return out;
  }

  std::vector<Message> TakeArrived(int limit) override {
    std::vector<Message> out;
    const int64_t received = WallNanos();
    for (natsMsg* m : pull_.TakeArrived(limit)) out.emplace_back(m, nc_, received);
    return out;
  }

  int64_t ack_wait_ms() const override { return ack_wait_ms_; }

 private:
  natsConnection* nc_;
  PullRequests pull_;
  int64_t ack_wait_ms_;
};

// What differs between an existing consumer's settings and the wanted ones, e.g.
// "max_deliver 10 -> 5, ack_wait 30 s -> 10 s"; empty when nothing does.
std::string ConsumerDrift(const jsConsumerConfig& have, const jsConsumerConfig& want) {
  std::string drift;
  auto note = [&](const char* what, const std::string& from, const std::string& to) {
    if (from == to) return;
    if (!drift.empty()) drift += ", ";
    drift += std::string(what) + " " + from + " -> " + to;
  };
  auto text = [](const char* s) { return std::string(s != nullptr ? s : ""); };
  note("filter", text(have.FilterSubject), text(want.FilterSubject));
  note("max_ack_pending", std::to_string(have.MaxAckPending), std::to_string(want.MaxAckPending));
  note("ack_wait", std::to_string(have.AckWait / kNanosPerSecond) + " s",
       std::to_string(want.AckWait / kNanosPerSecond) + " s");
  note("max_deliver", std::to_string(have.MaxDeliver), std::to_string(want.MaxDeliver));
  return drift;
}

class NatsBus final : public Bus {
 public:
  NatsBus(natsOptions* options, natsConnection* connection, std::unique_ptr<ConnectionEvents> events,
          const BusOptions& bus_options)
      : options_(options),
        nc_(connection),
        events_(std::move(events)),
        publish_timeout_ms_(bus_options.publish_timeout_ms),
        max_pending_publishes_(bus_options.max_pending_publishes) {}

  Status InitJetStream(int64_t max_pending) {
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = max_pending;
    jo.PublishAsync.AckHandler = &NatsBus::OnAck;
    jo.PublishAsync.AckHandlerClosure = this;
    // A full publish window answers quickly (the caller turns it into 503), never queues without bound.
    jo.PublishAsync.StallWait = 100;
    if (natsStatus s = natsConnection_JetStream(&js_, nc_, &jo); s != NATS_OK) {
      return Status::Error("jetstream context: " + ErrorText(s));
    }
    return {};
  }

  ~NatsBus() override {
    publishers_->CloseAll();  // their inboxes go while the connection stands
    if (js_ != nullptr) {
      jsPubOptions po;
      jsPubOptions_Init(&po);
      po.MaxWait = 2000;
      js_PublishAsyncComplete(js_, &po);
    }
    FailPending("bus closed");
    if (js_ != nullptr) jsCtx_Destroy(js_);
    events_->closing.store(true);
    natsConnection_Close(nc_);
    // Past the limit cnats still holds the closure: it is left allocated rather than freed under it.
    if (!events_->WaitClosed(std::chrono::seconds(2))) static_cast<void>(events_.release());
    natsConnection_Destroy(nc_);
    natsOptions_Destroy(options_);
  }

  Status Provision(const Topology& topology) override {
    for (const StreamSpec& spec : topology.streams) {
      if (auto s = ProvisionStream(spec); !s) return s;
    }
    for (const ConsumerSpec& spec : topology.consumers) {
      if (auto s = ProvisionConsumer(spec); !s) return s;
    }
    return {};
  }

  Result<PublishAck> Publish(std::string_view subject, std::string_view msg_id, std::string_view data) override {
    const std::string subj(subject), id(msg_id);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.MaxWait = publish_timeout_ms_;
    jsPubAck* pa = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_Publish(&pa, js_, subj.c_str(), data.data(), static_cast<int>(data.size()), &po, &jerr);
    if (s != NATS_OK) return Result<PublishAck>::Error("publish " + subj + ": " + ErrorText(s, jerr));
    PublishAck ack{pa->Stream ? pa->Stream : "", pa->Sequence, pa->Duplicate};
    jsPubAck_Destroy(pa);
    return ack;
  }

  void PublishAsync(std::string_view subject, std::string_view msg_id, std::string_view data, int64_t timeout_ms,
                    PublishCallback done) override {
    const std::string subj(subject), id(msg_id);
    natsMsg* msg = nullptr;
    natsStatus s = natsMsg_Create(&msg, subj.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
    if (s != NATS_OK) return done(Result<PublishAck>::Error("message: " + ErrorText(s)));
    {
      std::lock_guard lock(pending_mu_);
      pending_.emplace(msg, std::move(done));
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.MaxWait = timeout_ms > 0 ? timeout_ms : publish_timeout_ms_;
    natsMsg* owned = msg;
    s = js_PublishMsgAsync(js_, &owned, &po);
    if (s != NATS_OK) {
      // Not sent: the library did not take the message, and no ack callback will come for it.
      PublishCallback callback;
      {
        std::lock_guard lock(pending_mu_);
        auto it = pending_.find(msg);
        callback = std::move(it->second);
        pending_.erase(it);
      }
      natsMsg_Destroy(msg);
      callback(Result<PublishAck>::Error("publish " + subj + ": " + ErrorText(s)));
    }
  }

  std::unique_ptr<BatchPublisher> NewBatchPublisher() override {
    return std::make_unique<NatsBatchPublisher>(
        nc_, publish_timeout_ms_, static_cast<size_t>(std::max<int64_t>(max_pending_publishes_, 1)), publishers_);
  }

  Result<std::unique_ptr<Consumer>> Subscribe(const ConsumerSpec& spec) override {
    using R = Result<std::unique_ptr<Consumer>>;
    // The durable must exist (Provision made it): a pull request to a missing one would only time out.
    jsConsumerInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetConsumerInfo(&info, js_, spec.stream.c_str(), spec.durable.c_str(), nullptr, &jerr);
    if (s != NATS_OK) return R::Error("subscribe " + spec.durable + ": " + ErrorText(s, jerr));
    const int64_t ack_wait_ms = info->Config->AckWait / 1'000'000;
    jsConsumerInfo_Destroy(info);
    auto consumer = std::make_unique<PullConsumer>(nc_, spec.stream, spec.durable, ack_wait_ms);
    if (Status ok = consumer->status(); !ok) return R::Error("subscribe " + spec.durable + ": " + ok.error());
    return std::unique_ptr<Consumer>(std::move(consumer));
  }

  Result<StoredMessage> GetMessage(const std::string& stream, uint64_t sequence) override {
    natsMsg* msg = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetMsg(&msg, js_, stream.c_str(), sequence, nullptr, &jerr);
    const std::string what = stream + " #" + std::to_string(sequence);
    if (s == NATS_NOT_FOUND) return Result<StoredMessage>::Error(what + ": not found");
    if (s != NATS_OK) return Result<StoredMessage>::Error(what + ": " + ErrorText(s, jerr));
    StoredMessage stored{natsMsg_GetSubject(msg),
                         std::string(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)))};
    natsMsg_Destroy(msg);
    return stored;
  }

  Result<uint64_t> ReadStream(const std::string& stream, const std::string& filter, bool headers_only,
                              const std::function<void(const StreamEntry&)>& visit) override {
    using R = Result<uint64_t>;
    jsStreamInfo* sinfo = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&sinfo, js_, stream.c_str(), nullptr, &jerr);
    if (s != NATS_OK) return R::Error("read " + stream + ": " + ErrorText(s, jerr));
    const uint64_t last = sinfo->State.LastSeq;
    jsStreamInfo_Destroy(sinfo);

    // A named consumer of our own (not a durable's state), gone on its own if we die mid-read.
    static std::atomic<uint64_t> readers{0};
    const std::string name =
        "read-" + std::to_string(::getpid()) + "-" + std::to_string(readers.fetch_add(1, std::memory_order_relaxed));
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Name = name.c_str();
    cc.AckPolicy = js_AckNone;
    cc.DeliverPolicy = js_DeliverAll;
    cc.FilterSubject = filter.c_str();
    cc.HeadersOnly = headers_only;
    cc.InactiveThreshold = 30 * kNanosPerSecond;
    jsConsumerInfo* cinfo = nullptr;
    s = js_AddConsumer(&cinfo, js_, stream.c_str(), &cc, nullptr, &jerr);
    if (s != NATS_OK) return R::Error("read " + stream + ": consumer: " + ErrorText(s, jerr));
    const uint64_t matching = cinfo->NumPending;
    jsConsumerInfo_Destroy(cinfo);
    auto remove = [&] { (void)js_DeleteConsumer(js_, stream.c_str(), name.c_str(), nullptr, nullptr); };
    if (matching == 0 || last == 0) {
      remove();
      return uint64_t{0};
    }

    PullRequests pull(nc_, stream, name);
    if (Status ok = pull.status(); !ok) {
      remove();
      return R::Error("read " + stream + ": " + ok.error());
    }
    uint64_t visited = 0;
    int empty_fetches = 0;
    auto next_progress = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    bool done = false;
    std::string error;
    while (!done) {
      auto got = pull.Next(1024, 2000);
      if (!got) {
        error = "read " + stream + ": " + got.error();
        break;
      }
      if (got->empty()) {
        // Nothing more arrives: what matched at the start expired meanwhile.
        if (++empty_fetches == 3) break;
        continue;
      }
      empty_fetches = 0;
      for (natsMsg* msg : *got) {
        if (!done) {
          jsMsgMetaData* meta = nullptr;
          if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
            const uint64_t seq = meta->Sequence.Stream;
            const int64_t stored = meta->Timestamp;
            const uint64_t left = meta->NumPending;
            jsMsgMetaData_Destroy(meta);
            if (seq > last) {  // stored after the call started: not ours to read
              done = true;
            } else {
              const char* msg_id = nullptr;
              if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &msg_id) != NATS_OK) msg_id = nullptr;
              const StreamEntry entry{
                  natsMsg_GetSubject(msg), msg_id != nullptr ? std::string_view(msg_id) : std::string_view(),
                  headers_only
                      ? std::string_view()
                      : std::string_view(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))),
                  seq, stored};
              visit(entry);
              ++visited;
              if (seq == last || left == 0) done = true;
            }
          }
        }
        natsMsg_Destroy(msg);
      }
      if (std::chrono::steady_clock::now() >= next_progress) {
        spdlog::info("reading stream={} filter={} read={} of about {}", stream, filter, visited, matching);
        next_progress += std::chrono::seconds(1);
      }
    }
    remove();
    if (!error.empty()) return R::Error(error);
    return visited;
  }

  bool Connected() const override { return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED; }

  std::string NotReadyReason() const override {
    switch (natsConnection_Status(nc_)) {
      case NATS_CONN_STATUS_CONNECTED:
        return {};
      case NATS_CONN_STATUS_RECONNECTING:
        return "nats: reconnecting";
      case NATS_CONN_STATUS_CLOSED:
        return "nats: connection closed";
      default:
        return "nats: not connected";
    }
  }

 private:
  static void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<NatsBus*>(closure);
    PublishCallback callback;
    {
      std::lock_guard lock(self->pending_mu_);
      if (auto it = self->pending_.find(msg); it != self->pending_.end()) {
        callback = std::move(it->second);
        self->pending_.erase(it);
      }
    }
    if (callback) {
      if (pa != nullptr) {
        callback(PublishAck{pa->Stream ? pa->Stream : "", pa->Sequence, pa->Duplicate});
      } else {
        std::string why = pae != nullptr ? ErrorText(pae->Err, pae->ErrCode) : "unknown publish failure";
        if (pae != nullptr && pae->ErrText != nullptr) why += std::string(": ") + pae->ErrText;
        callback(Result<PublishAck>::Error("publish " + std::string(natsMsg_GetSubject(msg)) + ": " + why));
      }
    }
    natsMsg_Destroy(msg);
  }

  void FailPending(const std::string& why) {
    std::unordered_map<natsMsg*, PublishCallback> left;
    {
      std::lock_guard lock(pending_mu_);
      left.swap(pending_);
    }
    for (auto& [msg, callback] : left) callback(Result<PublishAck>::Error(why));
  }

  Status ProvisionStream(const StreamSpec& spec) {
    std::vector<const char*> subjects;
    for (const auto& s : spec.subjects) subjects.push_back(s.c_str());
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = spec.name.c_str();
    cfg.Subjects = subjects.data();
    cfg.SubjectsLen = static_cast<int>(subjects.size());
    cfg.Storage = js_FileStorage;
    cfg.MaxAge = spec.max_age_s * kNanosPerSecond;
    cfg.MaxBytes = spec.max_bytes;
    cfg.Duplicates = spec.duplicate_window_s * kNanosPerSecond;
    // Full means refused (the publisher answers 503), never deleting what was accepted; a stream
    // of replaced state (a per-subject limit) keeps the newest instead.
    cfg.Discard = spec.max_msgs_per_subject > 0 ? js_DiscardOld : js_DiscardNew;
    cfg.MaxMsgsPerSubject = spec.max_msgs_per_subject;
    cfg.Retention = spec.retention == Retention::kInterest ? js_InterestPolicy : js_LimitsPolicy;

    jsStreamInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&info, js_, spec.name.c_str(), nullptr, &jerr);
    if (s == NATS_NOT_FOUND) {
      s = js_AddStream(&info, js_, &cfg, nullptr, &jerr);
      if (s != NATS_OK) {  // another process may have created it meanwhile
        s = js_UpdateStream(&info, js_, &cfg, nullptr, &jerr);
      }
    } else if (s == NATS_OK) {
      const bool retention_differs = info->Config->Retention != cfg.Retention;
      jsStreamInfo_Destroy(info);
      info = nullptr;
      s = js_UpdateStream(&info, js_, &cfg, nullptr, &jerr);
      if (s != NATS_OK && retention_differs) {
        if (info != nullptr) jsStreamInfo_Destroy(info);
        return Status::Error("stream " + spec.name + ": its retention differs from proto/streams.json and the server " +
                             "cannot change it (" + ErrorText(s, jerr) + "); drain the stream, then delete it " +
                             "(nats stream rm " + spec.name + ") so it is made again");
      }
    }
    if (info != nullptr) jsStreamInfo_Destroy(info);
    if (s != NATS_OK) return Status::Error("stream " + spec.name + ": " + ErrorText(s, jerr));
    return {};
  }

  // Creates the consumer, or brings an existing one to the spec: settings changed in proto/ reach
  // consumers created before. What JetStream cannot change (ack policy, and on 2.9 the filter)
  // stops the start with what to do instead.
  Status ProvisionConsumer(const ConsumerSpec& spec) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = spec.durable.c_str();
    cc.AckPolicy = js_AckExplicit;
    cc.DeliverPolicy = js_DeliverAll;
    cc.FilterSubject = spec.filter.c_str();
    cc.MaxAckPending = spec.max_ack_pending;
    cc.AckWait = spec.ack_wait_s * kNanosPerSecond;
    cc.MaxDeliver = spec.max_deliver;

    jsConsumerInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetConsumerInfo(&info, js_, spec.stream.c_str(), spec.durable.c_str(), nullptr, &jerr);
    const std::string name = "consumer " + spec.stream + "/" + spec.durable;
    if (s == NATS_NOT_FOUND) {
      s = js_AddConsumer(&info, js_, spec.stream.c_str(), &cc, nullptr, &jerr);
    } else if (s == NATS_OK) {
      const jsConsumerConfig& have = *info->Config;
      const std::string drift = ConsumerDrift(have, cc);
      const bool ack_policy_differs = have.AckPolicy != cc.AckPolicy;
      jsConsumerInfo_Destroy(info);
      info = nullptr;
      if (ack_policy_differs) {
        return Status::Error(name +
                             ": its ack policy differs from proto/streams.json and JetStream cannot change it: " +
                             "delete the consumer (`nats consumer rm " + spec.stream + " " + spec.durable +
                             "`) so that it is created again");
      }
      if (!drift.empty()) {
        s = js_UpdateConsumer(&info, js_, spec.stream.c_str(), &cc, nullptr, &jerr);
        if (s != NATS_OK) {
          return Status::Error(name + " differs from proto/streams.json (" + drift + ") and the update was refused: " +
                               ErrorText(s, jerr) + "; delete the consumer so that it is created again");
        }
        spdlog::info("{} updated to proto/streams.json: {}", name, drift);
      }
    }
    if (info != nullptr) jsConsumerInfo_Destroy(info);
    if (s != NATS_OK) return Status::Error(name + ": " + ErrorText(s, jerr));
    return {};
  }

  Result<StreamUsage> DescribeStream(const std::string& stream) override {
    jsStreamInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, &jerr);
    if (s != NATS_OK) return Result<StreamUsage>::Error("stream " + stream + ": " + ErrorText(s, jerr));
    const StreamUsage usage{info->State.Msgs,
                            info->State.Bytes,
                            info->Config->MaxBytes,
                            info->Config->Retention == js_InterestPolicy ? Retention::kInterest : Retention::kLimits,
                            info->State.FirstSeq,
                            info->State.LastSeq,
                            info->Created,
                            info->Config->MaxAge};
    jsStreamInfo_Destroy(info);
    return usage;
  }

  Result<int64_t> WaitingPulls(const std::string& stream, const std::string& durable) override {
    jsConsumerInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetConsumerInfo(&info, js_, stream.c_str(), durable.c_str(), nullptr, &jerr);
    if (s != NATS_OK) return Result<int64_t>::Error("consumer " + durable + ": " + ErrorText(s, jerr));
    const int64_t waiting = info->NumWaiting;
    jsConsumerInfo_Destroy(info);
    return waiting;
  }

  Result<ConsumerSpec> DescribeConsumer(const std::string& stream, const std::string& durable) override {
    jsConsumerInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetConsumerInfo(&info, js_, stream.c_str(), durable.c_str(), nullptr, &jerr);
    if (s != NATS_OK) return Result<ConsumerSpec>::Error("consumer " + durable + ": " + ErrorText(s, jerr));
    const jsConsumerConfig& c = *info->Config;
    ConsumerSpec spec{stream,
                      durable,
                      c.FilterSubject != nullptr ? c.FilterSubject : "",
                      c.MaxAckPending,
                      c.AckWait / kNanosPerSecond,
                      c.MaxDeliver};
    jsConsumerInfo_Destroy(info);
    return spec;
  }

  natsOptions* options_;
  natsConnection* nc_;
  std::unique_ptr<ConnectionEvents> events_;
  jsCtx* js_ = nullptr;
  int64_t publish_timeout_ms_;
  int64_t max_pending_publishes_;
  std::shared_ptr<PublisherSet> publishers_ = std::make_shared<PublisherSet>();
  std::mutex pending_mu_;
  std::unordered_map<natsMsg*, PublishCallback> pending_;
};

}  // namespace

// ---- Message ----

Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    natsMsg_Destroy(Raw(msg_));
    msg_ = std::exchange(other.msg_, nullptr);
    connection_ = other.connection_;
    received_ns_ = other.received_ns_;
    settled_ = std::exchange(other.settled_, false);
  }
  return *this;
}

Message::~Message() { natsMsg_Destroy(Raw(msg_)); }

std::string_view Message::subject() const { return natsMsg_GetSubject(Raw(msg_)); }

std::string_view Message::data() const {
  return {natsMsg_GetData(Raw(msg_)), static_cast<size_t>(natsMsg_GetDataLength(Raw(msg_)))};
}

namespace {
// One field of the JetStream metadata in the message's reply subject; 0 when it has none.
template <typename Field>
uint64_t MetaDataField(void* msg, Field field) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, Raw(msg)) != NATS_OK) return 0;
  const uint64_t value = field(*meta);
  jsMsgMetaData_Destroy(meta);
  return value;
}
}  // namespace

uint64_t Message::stream_sequence() const {
  return MetaDataField(msg_, [](const jsMsgMetaData& m) { return m.Sequence.Stream; });
}

uint64_t Message::num_delivered() const {
  return MetaDataField(msg_, [](const jsMsgMetaData& m) { return m.NumDelivered; });
}

Message::Placement Message::placement() const {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, Raw(msg_)) != NATS_OK) return {};
  const Placement p{meta->Sequence.Stream, static_cast<int64_t>(meta->Timestamp)};
  jsMsgMetaData_Destroy(meta);
  return p;
}

int64_t Message::stored_ns() const {
  return static_cast<int64_t>(
      MetaDataField(msg_, [](const jsMsgMetaData& m) { return static_cast<uint64_t>(m.Timestamp); }));
}

uint64_t Message::num_pending() const {
  return MetaDataField(msg_, [](const jsMsgMetaData& m) { return m.NumPending; });
}

Status Message::Acknowledge(const char* kind) {
  const char* reply = natsMsg_GetReply(Raw(msg_));
  if (reply == nullptr || *reply == '\0') return Status::Error(std::string(kind) + ": not a JetStream delivery");
  const natsStatus s = natsConnection_PublishString(static_cast<natsConnection*>(connection_), reply, kind);
  if (s != NATS_OK) return Status::Error(std::string(kind) + ": " + ErrorText(s));
  return {};
}

Status Message::Ack() {
  Status s = Acknowledge("+ACK");
  if (s) settled_ = true;
  return s;
}

Status Message::Nak() {
  Status s = Acknowledge("-NAK");
  if (s) settled_ = true;
  return s;
}

Status Message::Term() {
  Status s = Acknowledge("+TERM");
  if (s) settled_ = true;
  return s;
}

Status Message::InProgress() { return Acknowledge("+WPI"); }

// ---- Bus ----

Result<std::unique_ptr<Bus>> Bus::Connect(const BusOptions& options) {
  using R = Result<std::unique_ptr<Bus>>;
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK) return R::Error("nats options: out of memory");
  natsOptions_SetURL(opts, options.url.c_str());
  natsOptions_SetName(opts, options.name.c_str());
  natsOptions_SetMaxReconnect(opts, -1);  // reconnect forever; /ready reports the outage
  natsOptions_SetReconnectWait(opts, 250);
  natsOptions_SetSendAsap(opts, options.send_asap);
  // A failed connect posts no callback: the events die with this function unless a bus owns them.
  auto events = std::make_unique<ConnectionEvents>();
  natsOptions_SetDisconnectedCB(opts, &OnDisconnected, events.get());
  natsOptions_SetReconnectedCB(opts, &OnReconnected, nullptr);
  natsOptions_SetClosedCB(opts, &OnClosed, events.get());

  natsConnection* nc = nullptr;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.connect_timeout_ms);
  natsStatus s = NATS_OK;
  bool logged = false;
  while ((s = natsConnection_Connect(&nc, opts)) != NATS_OK) {
    if (std::chrono::steady_clock::now() >= deadline) {
      const std::string why = ErrorText(s);
      natsOptions_Destroy(opts);
      return R::Error("cannot connect to " + RedactUrlCredentials(options.url) + ": " + why);
    }
    if (!logged) {
      spdlog::warn("nats not reachable yet url={} error={}, retrying", RedactUrlCredentials(options.url), ErrorText(s));
      logged = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  auto bus = std::make_unique<NatsBus>(opts, nc, std::move(events), options);
  if (auto js = bus->InitJetStream(options.max_pending_publishes); !js) return R::Error(js.error());
  return std::unique_ptr<Bus>(std::move(bus));
}

Status PublishAll(BatchPublisher& publisher, const std::vector<OutgoingMessage>& messages) {
  for (const auto& m : messages) publisher.Add(m);
  return publisher.Wait();
}

Status ExpectNoOtherConsumer(Bus& bus, const std::vector<ConsumerSpec>& durables, std::chrono::milliseconds settle,
                             std::chrono::milliseconds observe) {
  const auto start = std::chrono::steady_clock::now();
  const auto watched_from = start + settle;
  const auto until = watched_from + observe;
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    for (const ConsumerSpec& d : durables) {
      auto waiting = bus.WaitingPulls(d.stream, d.durable);
      if (!waiting) return Status::Error(waiting.error());
      if (*waiting > 0 && now >= watched_from) {
        return Status::Error("another process consumes " + d.stream + "/" + d.durable + " (" +
                             std::to_string(*waiting) +
                             " pull requests waiting): it would split the messages with this one; stop it first");
      }
    }
    if (now >= until) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// ---- ConsumerLoop ----

std::string ConsumerHealth::LastError() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void ConsumerHealth::SetLastError(std::string error) {
  std::lock_guard lock(mu_);
  last_error_ = std::move(error);
}

ConsumerLoop::ConsumerLoop(std::unique_ptr<Consumer> consumer, std::string name, int batch, BatchHandler handle)
    : consumer_(std::move(consumer)),
      name_(std::move(name)),
      batch_(batch),
      handle_(std::move(handle)),
      thread_([this] { Run(); }) {}

ConsumerLoop::~ConsumerLoop() { Stop(); }

void ConsumerLoop::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    running_.store(false);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  consumer_.reset();  // its subscription goes while the bus (stopped after the loops) still stands
}

bool ConsumerLoop::SleepUnlessStopped(int ms) {
  std::unique_lock lock(wake_mu_);
  return !wake_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return !running_.load(); });
}

void ConsumerLoop::Run() {
  int failures = 0;
  while (running_.load()) {
    auto batch = consumer_->Fetch(batch_, 250);
    if (!batch) {
      // Disconnected or server restarting: back off (up to 2 s) and keep trying.
      if (failures++ % 20 == 0) spdlog::warn("consumer={} fetch failed error={}", name_, batch.error());
      SleepUnlessStopped(std::min(2000, 50 * failures));
      continue;
    }
    failures = 0;
    // An empty fetch waited and got nothing: nothing was pending delivery (nats-server's NumPending
    // of a filtered consumer can stay 1 too high on the last message of a batch).
    health_->pending.store(batch->empty() ? 0 : batch->back().num_pending(), std::memory_order_relaxed);
    if (!batch->empty()) {
      health_->batches.fetch_add(1, std::memory_order_relaxed);
      health_->messages.fetch_add(batch->size(), std::memory_order_relaxed);
      Handle(*batch);
    }
  }
}

void ConsumerLoop::Handle(std::vector<Message>& batch) {
  const int max_backoff_ms = static_cast<int>(std::clamp<int64_t>(consumer_->ack_wait_ms() / 3, 10, 5000));
  int backoff_ms = std::min(100, max_backoff_ms);
  for (int attempt = 1;; ++attempt) {
    const Status status = handle_(batch);
    std::erase_if(batch, [](const Message& m) { return m.settled(); });
    if (status || batch.empty()) {
      if (attempt > 1) {
        spdlog::info("consumer={} sink recovered after {} attempts", name_, attempt);
        health_->stalled_since_ns.store(0);
      }
      return;
    }
    health_->sink_failures.fetch_add(1, std::memory_order_relaxed);
    health_->SetLastError(status.error());
    if (attempt == 1) {
      health_->stalled_since_ns.store(WallNanos());
    }
    // Log the first failure and then every tenth: a long outage stays readable.
    if (attempt % 10 == 1) {
      spdlog::warn("consumer={} sink failed, holding {} messages and retrying (attempt {}) error={}", name_,
                   batch.size(), attempt, status.error());
    }
    if (!SleepUnlessStopped(backoff_ms)) {
      spdlog::warn("consumer={} stopping while the sink fails: {} messages handed back for redelivery", name_,
                   batch.size());
      for (Message& m : batch) (void)m.Nak();
      health_->stalled_since_ns.store(0);
      return;
    }
    backoff_ms = std::min(max_backoff_ms, backoff_ms * 2);
    // Deliveries of the batch asked for ahead wait with the held ones (bounded: one batch).
    for (Message& m : consumer_->TakeArrived(batch_)) batch.push_back(std::move(m));
    for (Message& m : batch) (void)m.InProgress();
  }
}

}  // namespace tradepipe::bus
