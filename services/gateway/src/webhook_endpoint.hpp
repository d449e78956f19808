// `POST /webhook/{source}` from request to answer: backpressure, one deadline per request, the
// publish and the metrics of every answer, around WebhookProcessor (which decides statuses).
//
// The deadline (docs/gateway.md "One deadline per request"): every webhook is answered within
// `deadline_ms` of its arrival. The idempotency claim runs first (bounded by the store's own
// timeout); the publish then gets what is left minus the store's bound, kept for recording the
// answer (202) or releasing the key (503). Nothing left: 503 `deadline_exceeded`, nothing
// published, the key released.
//
//   WebhookEndpoint endpoint(processor, store, {.deadline_ms = 2500}, publish_path, metrics);
//   router.PostPrefix("/webhook/", [&](const http::Request& r, http::Responder a) { endpoint.Handle(r, a); });
//
// Thread-safety: Handle from any HTTP thread; callbacks may complete on store or bus threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "idempotency.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/http/server.hpp"
#include "webhook_processor.hpp"

namespace prometheus {
class Counter;
template <typename T>
class Family;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace tradepipe::metrics {
class Metrics;
}

namespace tradepipe::bus {
class LoopPublisher;
}

namespace tradepipe::gateway {

struct EndpointOptions {
  int64_t max_in_flight = 4096;  // claims and publishes under way; beyond: 503 `overloaded`
  int64_t deadline_ms = 2500;    // arrival (body read) to answer
};

// Publishes one signal, failing after `timeout_ms`; `done` runs once, on any thread.
using PublishFn = std::function<void(const PublishJob& job, int64_t timeout_ms, bus::PublishCallback done)>;

// Where signals go. `route` runs on the HTTP thread that received the request (so it can pick
// that thread's own publisher, whatever thread the claim completes on later) and returns how to
// publish this request's signal, or an empty function when that way is not connected.
struct PublishPath {
  std::function<PublishFn()> route;
  int64_t late_ms = 0;  // how much later than `timeout_ms` a publish may fail (its timer's granularity)
};

// Through the calling HTTP thread's own publisher among `publishers` (one per HTTP loop, added as
// the loops start; the vector must outlive the path): the publish and its PubAck stay on that
// thread, even when a Redis lane completes the claim (docs/gateway.md).
PublishPath LoopPublishPath(const std::vector<bus::LoopPublisher*>& publishers);
PublishPath LoopPublishPath(std::vector<bus::LoopPublisher*>&&) = delete;  // it keeps a reference
// Why the first of `publishers` that is not ready is not (empty: all are), for /ready.
std::string LoopPublishersNotReady(const std::vector<bus::LoopPublisher*>& publishers);
// Through cnats (the shared Bus; TLS, NKEYs).
PublishPath BusPublishPath(bus::Bus& bus);

class WebhookEndpoint {
 public:
  // A publish is given at least this long; with less left the request is answered 503 at once.
  static constexpr int64_t kMinPublishMs = 20;

  // `processor` and `store` must outlive the endpoint. The deadline must leave room for the
  // store's bound twice (claim, then record or release) plus kMinPublishMs: MinimumDeadlineMs.
  WebhookEndpoint(WebhookProcessor& processor, const IdempotencyStore& store, EndpointOptions options, PublishPath path,
                  metrics::Metrics& metrics);

  void Handle(const http::Request& req, http::Responder respond);

  // The smallest deadline that can ever publish with this store.
  static int64_t MinimumDeadlineMs(const IdempotencyStore& store);

 private:
  void Answer(int64_t received_ns, const http::Responder& respond, http::Response r);
  void Publish(int64_t deadline_ms, int64_t received_ns, const PublishFn& publish, http::Responder respond,
               PublishJob job);

  WebhookProcessor& processor_;
  const int64_t reserve_ms_;  // the store's bound, kept for Complete/Release
  EndpointOptions options_;
  PublishPath path_;
  std::atomic<int64_t> in_flight_{0};
  std::map<int, prometheus::Counter*> by_status_;
  prometheus::Family<prometheus::Counter>& responses_;
  prometheus::Counter& accepted_;
  prometheus::Histogram& publish_seconds_;
  prometheus::Histogram& request_seconds_;
  prometheus::Gauge& in_flight_gauge_;
};

}  // namespace tradepipe::gateway
