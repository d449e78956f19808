// What every service main does the same way: logging, the NATS connection with the streams
// provisioned, the metrics registry, the HTTP server with /health, /ready and /metrics, and a
// two-phase shutdown on SIGINT/SIGTERM.
//
//   tradepipe::BlockShutdownSignals();                 // first thing in main
//   ... parse settings ...
//   auto rt = service::Runtime::Start("agent", cfg.common, {});
//   if (!rt) return rt.exit_code();
//   rt->router().Get("/positions", ...);
//   ... start consumers ...
//   return rt->ServeUntilSignal([&] { consumers.Stop(); });
//
// Thread-safety: Start and ServeUntilSignal on the main thread; accessors from anywhere.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "tradepipe/bus/bus.hpp"
#include "tradepipe/bus/seen_ids.hpp"
#include "tradepipe/config/settings.hpp"
#include "tradepipe/http/server.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::service {

class Runtime {
 public:
  // Logs and returns nullptr on failure (the reason is already logged); exit with code 1.
  static std::unique_ptr<Runtime> Start(const std::string& name, const config::CommonConfig& common,
                                        bus::BusOptions bus_options, http::ServerOptions http_options = {});

  bus::Bus& bus() { return *bus_; }
  metrics::Metrics& metrics() { return metrics_; }
  http::Router& router() { return router_; }

  // Adds a readiness condition besides the NATS connection (empty string: ready).
  void AddReadinessCheck(std::function<std::string()> check);

  // Not ready while `stream` holds `ratio` or more of its byte limit: a full stream refuses
  // publishes (the gateway answers 503), so load balancers should look elsewhere first.
  void AddStreamFullnessCheck(const std::string& stream, double ratio);

  // Exports the loop's health by durable name: lag (tradepipe_consumer_pending_messages), how long
  // its sink has been failing (tradepipe_consumer_stalled_seconds) and failed attempts
  // (tradepipe_consumer_sink_failures_total), batches and messages fetched
  // (tradepipe_consumer_{batches,messages}_total); not ready while the sink has failed for 5 s or more.
  void ExportConsumer(const bus::ConsumerLoop& loop);

  // For a service that must be the only consumer of its `durables` (it keeps state from them):
  // false, with the reason logged, when another process consumes one (bus::ExpectNoOtherConsumer).
  // Call before subscribing; exit with code 1 on false.
  bool ExpectSoleConsumer(const std::vector<std::string>& durables);

  // Exports a de-duplication set by name: tradepipe_dedup_ids, _capacity, _forgotten_total and
  // _horizon_seconds (age of the oldest id remembered: how far back a repeat is recognised).
  void ExportSeenIds(const std::string& set, const bus::SeenIds& ids);

  // Serves HTTP, waits for SIGINT/SIGTERM, then: stop_input() (stop consuming), stop the HTTP
  // server (drain answers), close the bus (wait for outstanding PubAcks). Returns the exit code.
  int ServeUntilSignal(const std::function<void()>& stop_input = {});

 private:
  Runtime() = default;
  std::string name_;
  http::ServerOptions http_options_;
  metrics::Metrics metrics_;
  http::Router router_;
  std::vector<std::function<std::string()>> readiness_;
  prometheus::Family<prometheus::Gauge>* consumer_lag_ = nullptr;
  prometheus::Family<prometheus::Gauge>* consumer_stalled_ = nullptr;
  prometheus::Family<prometheus::Counter>* consumer_sink_failures_ = nullptr;
  prometheus::Family<prometheus::Counter>* consumer_batches_ = nullptr;
  prometheus::Family<prometheus::Counter>* consumer_messages_ = nullptr;
  std::unique_ptr<bus::Bus> bus_;
  std::unique_ptr<http::Server> server_;  // while ServeUntilSignal runs
};

}  // namespace tradepipe::service
