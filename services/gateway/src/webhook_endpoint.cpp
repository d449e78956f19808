#include "webhook_endpoint.hpp"

#include <memory>
#include <string>
#include <utility>

#include "tradepipe/bus/loop_publisher.hpp"
#include "tradepipe/common/clock.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::gateway {

WebhookEndpoint::WebhookEndpoint(WebhookProcessor& processor, const IdempotencyStore& store, EndpointOptions options,
                                 PublishPath path, metrics::Metrics& metrics)
    : processor_(processor),
      reserve_ms_(store.OperationBoundMs()),
      options_(options),
      path_(std::move(path)),
      responses_(metrics.CounterFamily("tradepipe_gateway_responses_total", "webhook answers by HTTP status")),
      accepted_(metrics.Counter("tradepipe_gateway_accepted_total", "webhooks answered 202 after the PubAck")),
      publish_seconds_(metrics.Stage("gateway", "publish")),
      request_seconds_(metrics.Histogram("tradepipe_gateway_request_seconds", "request received to answer ready",
                                         metrics::Metrics::LatencyBuckets())),
      in_flight_gauge_(metrics.Gauge("tradepipe_gateway_publishes_in_flight", "webhooks claimed or publishing")) {
  // The statuses a webhook can get, resolved once: no label map built and looked up per request
  // (and each series is exported from the start, at 0). Others, if any, go through Add().
  for (int status : {202, 400, 401, 403, 404, 409, 415, 422, 429, 503}) {
    by_status_[status] = &responses_.Add({{"status", std::to_string(status)}});
  }
  metrics.OnCollect([this] { in_flight_gauge_.Set(static_cast<double>(in_flight_.load())); });
}

PublishPath LoopPublishPath(const std::vector<bus::LoopPublisher*>& publishers) {
  PublishPath path;
  path.route = [&publishers]() -> PublishFn {
    // The handler always runs on an HTTP thread: its own publisher.
    bus::LoopPublisher* publisher = nullptr;
    for (auto* p : publishers) {
      if (p->OnLoopThread()) publisher = p;
    }
    if (publisher == nullptr && !publishers.empty()) publisher = publishers.front();
    if (publisher == nullptr || !publisher->Connected()) return {};
    // After a Redis claim this runs on a lane thread: the publisher posts to its loop then.
    return [publisher](const PublishJob& job, int64_t timeout_ms, bus::PublishCallback done) {
      publisher->Publish(job.subject, job.signal_id, job.data, std::move(done), timeout_ms);
    };
  };
  path.late_ms = bus::LoopPublisher::kTimerGranularityMs;
  return path;
}

std::string LoopPublishersNotReady(const std::vector<bus::LoopPublisher*>& publishers) {
  for (auto* p : publishers) {
    if (auto why = p->NotReadyReason(); !why.empty()) return "publisher: " + why;
  }
  return {};
}

PublishPath BusPublishPath(bus::Bus& bus) {
  PublishPath path;
  path.route = [&bus]() -> PublishFn {
    if (!bus.Connected()) return {};
    return [&bus](const PublishJob& job, int64_t timeout_ms, bus::PublishCallback done) {
      bus.PublishAsync(job.subject, job.signal_id, job.data, timeout_ms, std::move(done));
    };
  };
  return path;
}

int64_t WebhookEndpoint::MinimumDeadlineMs(const IdempotencyStore& store) {
  return 2 * store.OperationBoundMs() + kMinPublishMs + bus::LoopPublisher::kTimerGranularityMs;
}

void WebhookEndpoint::Answer(int64_t received_ns, const http::Responder& respond, http::Response r) {
  const auto it = by_status_.find(r.status);
  if (it != by_status_.end()) {
    it->second->Increment();
  } else {
    responses_.Add({{"status", std::to_string(r.status)}}).Increment();
  }
  request_seconds_.Observe(static_cast<double>(WallNanos() - received_ns) / 1e9);
  respond(std::move(r));
}

void WebhookEndpoint::Handle(const http::Request& req, http::Responder respond) {
  const int64_t received = WallNanos();
  const int64_t deadline_ms = SteadyMillis() + options_.deadline_ms;
  // Backpressure: answer at once rather than queue behind a bus that cannot keep up.
  PublishFn publish = path_.route();
  if (!publish) {
    return Answer(received, respond, processor_.Unavailable("bus_unavailable", "the event bus is not connected"));
  }
  if (in_flight_.load(std::memory_order_relaxed) >= options_.max_in_flight) {
    return Answer(received, respond, processor_.Unavailable("overloaded", "too many webhooks awaiting storage; retry"));
  }
  const std::string_view source = req.path().substr(std::string_view("/webhook/").size());
  // Counted from here: the idempotency claim (possibly a Redis round trip) and the publish.
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  processor_.Process(
      source, [&req](std::string_view name) { return req.Header(name); }, req.body(), req.remote_address(), received,
      [this, deadline_ms, received, publish = std::move(publish),
       respond = std::move(respond)](WebhookProcessor::Outcome outcome) mutable {
        if (auto* response = std::get_if<http::Response>(&outcome)) {
          in_flight_.fetch_sub(1, std::memory_order_relaxed);
          return Answer(received, respond, std::move(*response));
        }
        Publish(deadline_ms, received, publish, std::move(respond), std::move(std::get<PublishJob>(outcome)));
      });
}

void WebhookEndpoint::Publish(int64_t deadline_ms, int64_t received_ns, const PublishFn& publish,
                              http::Responder respond, PublishJob job_in) {
  auto job = std::make_shared<PublishJob>(std::move(job_in));
  auto answer = [this, received_ns, respond = std::move(respond)](http::Response r) {
    Answer(received_ns, respond, std::move(r));
  };
  // What the publish may take: the rest of the deadline, minus the store's bound for recording the
  // answer or releasing the key afterwards, minus its timer's lateness.
  const int64_t budget_ms = deadline_ms - SteadyMillis() - reserve_ms_ - path_.late_ms;
  if (budget_ms < kMinPublishMs) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    return processor_.Abandon(*job, std::move(answer));
  }
  const int64_t publish_start = WallNanos();
  publish(*job, budget_ms, [this, job, publish_start, answer = std::move(answer)](Result<bus::PublishAck> ack) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    publish_seconds_.Observe(static_cast<double>(WallNanos() - publish_start) / 1e9);
    if (ack) accepted_.Increment();
    processor_.Complete(*job, ack, answer);
  });
}

}  // namespace tradepipe::gateway
