// A JetStream publisher that lives on one Asio event loop: the NATS protocol's publish side
// (HPUB with `Nats-Msg-Id`, PubAcks on a wildcard inbox) written directly on a socket owned by
// that loop. The gateway runs one per HTTP thread, so a webhook is read, published, acked and
// answered on the same thread with no hand-off; writes made during one loop turn leave in one
// syscall. Why it exists next to cnats (which still does provisioning and consuming): see
// docs/gateway.md "Publishing on the HTTP threads".
//
//   auto pub = LoopPublisher::Create(ioc, {.url = "nats://127.0.0.1:4222", .name = "gateway"});
//   pub->Start();
//   pub->Publish("signals.demo.AAPL", id, json, [](Result<PublishAck> r) { ... });  // any thread
//
// Every callback runs exactly once: on the loop's thread with the PubAck, JetStream's error, a
// timeout (the call's own, else publish_timeout_ms), or the connection's loss (the message may
// then have been stored; a retry with the same id is dropped by the duplicate window); on the
// caller's thread when
// Publish is refused at once (closed publisher) or by Close (the thread that closes). It
// reconnects by itself, trying the URLs in turn, and leaves a server in lame duck mode.
// Plain TCP only: a server that requires TLS is refused with a clear reason (use cnats then).
// Thread-safety: Publish, Connected, NotReadyReason from any thread; Close (and the destructor)
// only once the loop no longer runs; Publish after Close fails at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tradepipe/bus/bus.hpp"

namespace boost::asio {
class io_context;
}

namespace tradepipe::bus {

struct LoopPublisherOptions {
  std::string url = "nats://127.0.0.1:4222";  // nats://[user:pass@|token@]host:port[,nats://...]
  std::string name = "tradepipe";
  int64_t publish_timeout_ms = 2'500;
  int reconnect_wait_ms = 250;
  int ping_interval_ms = 2'000;    // a server that answers no PING twice in a row is dropped
  int connect_timeout_ms = 2'000;  // TCP connect plus handshake; then the next URL is tried
};

class LoopPublisher {
 public:
  static std::shared_ptr<LoopPublisher> Create(boost::asio::io_context& loop, LoopPublisherOptions options);
  ~LoopPublisher();
  LoopPublisher(const LoopPublisher&) = delete;
  LoopPublisher& operator=(const LoopPublisher&) = delete;

  // Begins connecting (asynchronously, on the loop).
  void Start();
  // Fails what is pending and closes the socket. Call when the loop no longer runs.
  void Close();

  // Publishes with `Nats-Msg-Id: msg_id`; `done` gets the PubAck or fails after `timeout_ms`
  // (<= 0: publish_timeout_ms), at most kTimerGranularityMs late.
  void Publish(std::string_view subject, std::string_view msg_id, std::string_view data, PublishCallback done,
               int64_t timeout_ms = 0);
  static constexpr int64_t kTimerGranularityMs = 50;

  // True when this thread runs the publisher's loop (Publish then sends without a hand-off).
  bool OnLoopThread() const;
  bool Connected() const;
  std::string NotReadyReason() const;  // empty when connected

  struct Impl;  // opaque: Asio stays in loop_publisher.cpp

 private:
  explicit LoopPublisher(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace tradepipe::bus
