// NATS JetStream on cnats: connect (reconnecting forever), provision streams and durable
// consumers, publish with `Nats-Msg-Id` and wait for the PubAck, pull-consume with explicit acks.
// cnats types stay in bus.cpp.
//
//   auto bus = Bus::Connect({.url = "nats://127.0.0.1:4222", .name = "agent"});
//   if (!bus) die(bus.error());
//   (*bus)->Provision(DefaultTopology());
//   (*bus)->PublishAsync("orders.new.AAPL", order_id, json, /*timeout_ms=*/0, [](Result<PublishAck> r) { ... });
//   auto consumer = (*bus)->Subscribe(DefaultTopology().Consumer("agent-signals"));
//
// Thread-safety: Bus is thread-safe (cnats connections are). A Consumer is used by one thread.
// PublishAsync callbacks run on a cnats thread: never block there, never touch Asio objects
// directly (post to their executor).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tradepipe/bus/topology.hpp"
#include "tradepipe/common/result.hpp"

namespace tradepipe::bus {

struct BusOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::string name = "tradepipe";
  int connect_timeout_ms = 30'000;  // keep retrying the first connection this long
  bool send_asap = false;           // cnats SendAsap: lower latency, more server CPU
  int64_t max_pending_publishes = 4096;
  int64_t publish_timeout_ms = 2'500;
};

struct PublishAck {
  std::string stream;
  uint64_t sequence = 0;
  bool duplicate = false;  // dropped by JetStream's duplicate window: already stored
};

using PublishCallback = std::function<void(Result<PublishAck>)>;

// How full a stream is: it refuses new messages once bytes reach max_bytes (discard new).
struct StreamUsage {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  int64_t max_bytes = -1;  // -1: unlimited
  Retention retention = Retention::kLimits;
  // The sequences of its first and last message (first = last + 1 once its messages are gone;
  // both 0 for a stream that never held one) and when the stream was made (a stream deleted and
  // made again starts its sequences anew).
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  int64_t created_ns = 0;
  int64_t max_age_ns = 0;  // messages older are deleted; 0: kept whatever their age
};

// One JetStream message; acknowledge it only after its effect is durable.
class Message {
 public:
  // `msg` (a natsMsg, owned from here on) was delivered on `connection` (a natsConnection), which
  // carries its acks: it must outlive the message. `received_ns`: when it was fetched (wall clock).
  Message(void* msg, void* connection, int64_t received_ns = 0)
      : msg_(msg), connection_(connection), received_ns_(received_ns) {}
  Message(Message&& other) noexcept
      : msg_(std::exchange(other.msg_, nullptr)),
        connection_(other.connection_),
        received_ns_(other.received_ns_),
        settled_(std::exchange(other.settled_, false)) {}
  Message& operator=(Message&& other) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message();

  std::string_view subject() const;
  std::string_view data() const;
  uint64_t stream_sequence() const;
  uint64_t num_delivered() const;
  // When the stream stored it (the server's wall clock, ns since the epoch; 0 if not known).
  int64_t stored_ns() const;
  // The stream sequence and the stored time at once (each accessor parses the metadata anew).
  struct Placement {
    uint64_t stream_sequence = 0;
    int64_t stored_ns = 0;
  };
  Placement placement() const;
  // Messages of the stream not yet delivered to this consumer after this one (its lag).
  uint64_t num_pending() const;
  // When this process fetched it (wall clock, ns since the epoch; 0 if not known).
  int64_t received_ns() const { return received_ns_; }

  // Ack, Nak and Term settle the message (sent to the server: it is no longer ours to decide).
  Status Ack();
  Status Nak();         // redeliver (transient failure)
  Status Term();        // never redeliver (poison message, recorded by the caller)
  Status InProgress();  // still working on it: restarts the server's ack-wait timer
  bool settled() const { return settled_; }

 private:
  // Publishes JetStream's acknowledgement `kind` ("+ACK", "-NAK", ...) to the message's reply.
  Status Acknowledge(const char* kind);

  void* msg_;
  void* connection_;
  int64_t received_ns_ = 0;
  bool settled_ = false;
};

// A message read from a stream by sequence (not through a consumer).
struct StoredMessage {
  std::string subject;
  std::string data;
};

// One message of a stream read in order (Bus::ReadStream); views valid during the visit only.
struct StreamEntry {
  std::string_view subject;
  std::string_view msg_id;  // its Nats-Msg-Id header, empty if none
  std::string_view data;    // empty on a headers-only read
  uint64_t sequence = 0;
  int64_t stored_ns = 0;  // when the stream stored it (wall clock)
};

struct OutgoingMessage {
  std::string subject;
  std::string msg_id;
  std::string data;
};

class BatchPublisher;

class Consumer {
 public:
  virtual ~Consumer() = default;
  // Up to `batch` messages, waiting at most `timeout_ms` for the first. Empty on timeout.
  // A full batch asks for the next one at once, delivered while the caller works on this one.
  virtual Result<std::vector<Message>> Fetch(int batch, int timeout_ms) = 0;
  // What has been delivered and not fetched yet (at most `limit`), without asking for more.
  virtual std::vector<Message> TakeArrived(int limit) = 0;
  // How long the server waits for an ack before redelivering (the durable's AckWait).
  virtual int64_t ack_wait_ms() const = 0;
};

class Bus {
 public:
  virtual ~Bus() = default;
  [[nodiscard]] static Result<std::unique_ptr<Bus>> Connect(const BusOptions& options);

  // Creates or updates streams and durable consumers to match `topology`. Idempotent, safe to
  // race. A consumer setting JetStream cannot change (ack policy) is an error naming the fix.
  virtual Status Provision(const Topology& topology) = 0;
  virtual Result<StreamUsage> DescribeStream(const std::string& stream) = 0;
  // A durable consumer's settings as the server holds them.
  virtual Result<ConsumerSpec> DescribeConsumer(const std::string& stream, const std::string& durable) = 0;
  // Pull requests waiting at a durable consumer now (JetStream's NumWaiting).
  virtual Result<int64_t> WaitingPulls(const std::string& stream, const std::string& durable) = 0;

  // Synchronous publish: returns after the PubAck (or the timeout).
  virtual Result<PublishAck> Publish(std::string_view subject, std::string_view msg_id, std::string_view data) = 0;
  // Asynchronous publish; `done` runs once, with the PubAck or the error, on a cnats thread.
  // `timeout_ms` bounds the wait for the PubAck (<= 0: BusOptions::publish_timeout_ms).
  virtual void PublishAsync(std::string_view subject, std::string_view msg_id, std::string_view data,
                            int64_t timeout_ms, PublishCallback done) = 0;

  // A publisher for one thread's batches (see BatchPublisher below).
  virtual std::unique_ptr<BatchPublisher> NewBatchPublisher() = 0;

  virtual Result<std::unique_ptr<Consumer>> Subscribe(const ConsumerSpec& spec) = 0;

  // The message stored at `sequence` of `stream`; an error (saying "not found") when it is gone.
  virtual Result<StoredMessage> GetMessage(const std::string& stream, uint64_t sequence) = 0;

  // Visits every message of `stream` matching `filter`, in stream order, up to the last one stored
  // when the call starts (an ephemeral, unacknowledged consumer: no durable state changes).
  // Logs progress each second on long reads. Returns how many were visited.
  virtual Result<uint64_t> ReadStream(const std::string& stream, const std::string& filter, bool headers_only,
                                      const std::function<void(const StreamEntry&)>& visit) = 0;

  virtual bool Connected() const = 0;
  // Empty when connected, else why not (for /ready).
  virtual std::string NotReadyReason() const = 0;
};

// Publishes messages as they are handed over and then waits for all their PubAcks: the server
// stores the first ones while the caller still produces the next (ForwardBatch decides a batch
// with its publishes under way instead of deciding it all, then publishing it all). The PubAcks
// come to its own inbox and are read by the calling thread when it waits: no callback thread, no
// wake-up per PubAck (docs/trading-core.md §7).
//
//   auto publish = bus.NewBatchPublisher();  // once per thread, reused batch after batch
//   for (...) publish->Add(message);
//   if (Status s = publish->Wait(); !s) ...  // the first error
//
// A publisher may outlive its bus: the bus waits for its round in flight and closes its inbox first,
// and later Adds fail ("bus closed"); the threads that publish must have stopped by then.
// At most BusOptions::max_pending_publishes are in flight: Add reads PubAcks first when that many
// are outstanding. A PubAck not back within publish_timeout_ms of the last Add is an error (the
// message may have been stored: a retry with the same id is dropped by the duplicate window).
// Thread-safety: one thread at a time.
class BatchPublisher {
 public:
  virtual ~BatchPublisher() = default;  // implementations wait for what is in flight first
  virtual void Add(const OutgoingMessage& message) = 0;
  // Until every message added since the last Wait has its PubAck (or its error, or the timeout);
  // the first error.
  virtual Status Wait() = 0;
};

// Publishes several messages and waits for all PubAcks. Returns the first error.
//   PublishAll(*bus.NewBatchPublisher(), messages);  // once; a loop keeps its publisher
Status PublishAll(BatchPublisher& publisher, const std::vector<OutgoingMessage>& messages);

// Refuses a second consumer where there must be one: a service that keeps state from its durables
// (the agent's positions, exec-sim's resting orders, the audit's chain) would silently split their
// messages with another copy of itself. Before this process subscribes, watches `durables` for
// `settle` + `observe` and fails, naming the durable, when pull requests wait at one of them after
// `settle` (a crashed predecessor's last request expires within the loop's 250 ms fetch timeout;
// an idle consumer loop keeps one waiting nearly always). Best effort: a copy whose requests are
// all being answered at once (saturated) may go unseen.
Status ExpectNoOtherConsumer(Bus& bus, const std::vector<ConsumerSpec>& durables,
                             std::chrono::milliseconds settle = std::chrono::milliseconds(500),
                             std::chrono::milliseconds observe = std::chrono::milliseconds(1000));

// What a consumer loop says about itself, read from any thread (metrics, /ready). Shared, so
// metric hooks may outlive the loop.
struct ConsumerHealth {
  // The consumer's lag as of the last fetch: messages of the stream not yet delivered to it
  // (JetStream's NumPending of the batch's last message; 0 after a fetch that waited and got
  // nothing).
  std::atomic<uint64_t> pending{0};
  std::atomic<uint64_t> sink_failures{0};    // handler attempts that failed (each one retried)
  std::atomic<int64_t> stalled_since_ns{0};  // wall clock; 0 while the sink works
  std::atomic<uint64_t> batches{0};          // non-empty fetches
  std::atomic<uint64_t> messages{0};         // messages they brought (messages / batches: the mean batch)

  std::string LastError() const;
  void SetLastError(std::string error);

 private:
  mutable std::mutex mu_;
  std::string last_error_;
};

// Runs `handle(batch)` for every fetched batch on its own thread until Stop().
//
// The handler settles each message itself (ack after its effect is durable, term for poison) and
// returns an error when its sink failed (publish refused, commit failed). The loop then keeps the
// unsettled messages, fetches nothing more, marks them in progress (so the server does not
// redeliver them elsewhere) and calls the handler again with them after a back-off of 100 ms
// doubling to 5 s (at most a third of the ack wait, so that the marks keep coming in time), for as
// long as the sink fails. What the consumer had already been delivered (the batch asked for
// ahead) joins the held messages, marked with them. A failing sink therefore uses up no
// deliveries: nothing reaches max_deliver because a disk is full or the bus is restarting. On Stop() while the
// sink fails, the held messages are nak'ed: redelivered at once, to whoever consumes next.
class ConsumerLoop {
 public:
  using BatchHandler = std::function<Status(std::vector<Message>&)>;
  ConsumerLoop(std::unique_ptr<Consumer> consumer, std::string name, int batch, BatchHandler handle);
  ~ConsumerLoop();
  // Stops fetching, waits for the batch in hand to finish (or be handed back) and closes the
  // consumer: call it before the bus goes (services do, in ServeUntilSignal's stop_input).
  void Stop();

  const std::string& name() const { return name_; }
  uint64_t Pending() const { return health_->pending.load(std::memory_order_relaxed); }
  std::shared_ptr<const ConsumerHealth> Health() const { return health_; }

 private:
  void Run();
  void Handle(std::vector<Message>& batch);
  // Waits `ms` or until Stop(); false when stopping.
  bool SleepUnlessStopped(int ms);

  std::unique_ptr<Consumer> consumer_;
  std::string name_;
  int batch_;
  BatchHandler handle_;
  std::atomic<bool> running_{true};
  std::shared_ptr<ConsumerHealth> health_ = std::make_shared<ConsumerHealth>();
  std::mutex wake_mu_;
  std::condition_variable wake_;  // cuts a back-off short on Stop()
  std::thread thread_;            // last: started after everything it uses
};

}  // namespace tradepipe::bus
