// NATS JetStream on cnats: connect (reconnecting forever), provision streams and durable
// consumers, publish with `Nats-Msg-Id` and wait for the PubAck, pull-consume with explicit acks.
// cnats types stay in bus.cpp.
//
//   auto bus = Bus::Connect({.url = "nats://127.0.0.1:4222", .name = "agent"});
//   if (!bus) die(bus.error());
//   (*bus)->Provision(DefaultTopology());
//   (*bus)->PublishAsync("orders.new.AAPL", order_id, json, [](Result<PublishAck> r) { ... });
//   auto consumer = (*bus)->Subscribe(DefaultTopology().Consumer("agent-signals"));
//
// Thread-safety: Bus is thread-safe (cnats connections are). A Consumer is used by one thread.
// PublishAsync callbacks run on a cnats thread: never block there, never touch Asio objects
// directly (post to their executor).
#pragma once

#include <atomic>
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
};

// One JetStream message; acknowledge it only after its effect is durable.
class Message {
 public:
  explicit Message(void* msg) : msg_(msg) {}
  Message(Message&& other) noexcept : msg_(std::exchange(other.msg_, nullptr)) {}
  Message& operator=(Message&& other) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message();

  std::string_view subject() const;
  std::string_view data() const;
  uint64_t stream_sequence() const;
  uint64_t num_delivered() const;
  // Messages of the stream not yet delivered to this consumer after this one (its lag).
  uint64_t num_pending() const;

  Status Ack();
  Status Nak();   // redeliver (transient failure)
  Status Term();  // never redeliver (poison message, recorded by the caller)

 private:
  void* msg_;
};

class Consumer {
 public:
  virtual ~Consumer() = default;
  // Up to `batch` messages, waiting at most `timeout_ms` for the first. Empty on timeout.
  virtual Result<std::vector<Message>> Fetch(int batch, int timeout_ms) = 0;
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

  // Synchronous publish: returns after the PubAck (or the timeout).
  virtual Result<PublishAck> Publish(std::string_view subject, std::string_view msg_id, std::string_view data) = 0;
  // Asynchronous publish; `done` runs once, with the PubAck or the error, on a cnats thread.
  virtual void PublishAsync(std::string_view subject, std::string_view msg_id, std::string_view data,
                            PublishCallback done) = 0;

  virtual Result<std::unique_ptr<Consumer>> Subscribe(const ConsumerSpec& spec) = 0;

  virtual bool Connected() const = 0;
  // Empty when connected, else why not (for /ready).
  virtual std::string NotReadyReason() const = 0;
};

// Publishes several messages asynchronously and waits for all PubAcks. Returns the first error.
struct OutgoingMessage {
  std::string subject;
  std::string msg_id;
  std::string data;
};
Status PublishAll(Bus& bus, const std::vector<OutgoingMessage>& messages);

// Runs `handle(batch)` for every fetched batch on its own thread until Stop().
// The handler acks (or naks) each message itself, after its effect is durable.
class ConsumerLoop {
 public:
  using BatchHandler = std::function<void(std::vector<Message>&)>;
  ConsumerLoop(std::unique_ptr<Consumer> consumer, std::string name, int batch, BatchHandler handle);
  ~ConsumerLoop();
  // Stops fetching and waits for the batch in hand to finish.
  void Stop();

  const std::string& name() const { return name_; }
  // The consumer's lag as of the last fetch: messages of the stream not yet delivered to it
  // (JetStream's NumPending of the batch's last message; 0 after a fetch that waited and got
  // nothing). Any thread; the shared handle stays valid after the loop is gone (metrics hooks).
  uint64_t Pending() const { return pending_->load(std::memory_order_relaxed); }
  std::shared_ptr<const std::atomic<uint64_t>> PendingHandle() const { return pending_; }

 private:
  void Run();
  std::unique_ptr<Consumer> consumer_;
  std::string name_;
  int batch_;
  BatchHandler handle_;
  std::atomic<bool> running_{true};
  std::shared_ptr<std::atomic<uint64_t>> pending_ = std::make_shared<std::atomic<uint64_t>>(0);
  std::mutex wake_mu_;
  std::condition_variable wake_;  // cuts a back-off short on Stop()
  std::thread thread_;            // last: started after everything it uses
};

}  // namespace tradepipe::bus
