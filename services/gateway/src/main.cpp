// gateway: verifies signed trading-signal webhooks and publishes them to JetStream.
// Wiring only; the decisions live in webhook_processor.cpp.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <optional>

#include "gateway_metrics.hpp"
#include "gateway_wiring.hpp"
#include "sources_file.hpp"
#include "tradepipe/common/shutdown.hpp"
#include "tradepipe/config/settings.hpp"
#include "tradepipe/service/runtime.hpp"
#include "webhook_endpoint.hpp"
#include "webhook_processor.hpp"

namespace tp = tradepipe;

namespace {

struct GatewayConfig {
  tp::config::CommonConfig common;
  std::string sources;
  std::string sources_file;
  bool demo = false;
  std::string load_test_token;
  int64_t tolerance_s = 300;
  size_t max_body = 64 * 1024;
  size_t idempotency_capacity = 1'000'000;
  int64_t idempotency_ttl_s = 24 * 3600;
  std::string redis_url;                  // empty: in-memory store
  std::string redis_transport = "loops";  // loops: a connection per HTTP thread; lanes: threads of their own
  size_t redis_lanes = 2;
  int64_t request_deadline_ms = 2500;
  int64_t max_in_flight = 4096;
  int64_t read_timeout_ms = 5000;
  double source_rate = 0;
  int64_t source_burst = 100;
  bool send_asap = false;
  std::string publisher = "loop";  // loop: one NATS connection per HTTP thread; cnats: the shared Bus
};

}  // namespace

int main(int argc, char** argv) {
  tp::BlockShutdownSignals();
  GatewayConfig cfg;
  tp::config::Settings settings("gateway", "tradepipe gateway: signed webhooks in, durable signals out");
  cfg.common.http_threads = 2;
  tp::config::AddCommon(settings, cfg.common, 8001);
  settings.Add("sources", cfg.sources, "webhook sources: name=whsec_KEY[,whsec_OLDKEY][;name2=whsec_...]");
  settings.Add("sources-file", cfg.sources_file,
               "JSON file of sources (schemes, secrets, tokens, rate limits); see docs/gateway.md");
  settings.app().get_option("--sources-file")->check(CLI::ExistingFile);
  settings.AllowEnvPrefix(std::string(tp::gateway::kSourceEnvPrefix));
  settings.AddFlag("demo", cfg.demo, "enable the `demo` source with the documented DEMO key (never in production)");
  settings.Add("load-test-token", cfg.load_test_token,
               "enable the `loadtest` source: Authorization: Bearer <this token>, NO de-duplication (every "
               "request is a new signal), for hey/ab load tests only; at least 16 characters");
  settings.Add("tolerance-s", cfg.tolerance_s, "accepted webhook-timestamp skew, seconds, both directions")
      ->check(CLI::Range(1, 3600));
  settings.Add("max-body", cfg.max_body, "largest accepted body, bytes")->check(CLI::Range(64, 16 << 20));
  settings.Add("idempotency-capacity", cfg.idempotency_capacity, "keys kept in memory")
      ->check(CLI::Range(1, 100'000'000));
  settings.Add("idempotency-ttl-s", cfg.idempotency_ttl_s, "how long a key is remembered, seconds")
      ->check(CLI::Range(1, 30 * 24 * 3600));
  settings.Add("redis-url", cfg.redis_url,
               "redis://host:port[/db] for an idempotency store shared by replicas "
               "(empty: in memory)");
  settings
      .Add("redis-transport", cfg.redis_transport,
           "loops: one Redis connection per HTTP thread, answered on it; lanes: --redis-lanes threads")
      ->check(CLI::IsMember({"loops", "lanes"}));
  settings.Add("redis-lanes", cfg.redis_lanes, "with --redis-transport lanes: Redis connections, each a thread")
      ->check(CLI::Range(1, 64));
  settings
      .Add("request-deadline-ms", cfg.request_deadline_ms,
           "every webhook is answered within this long of its arrival (TradingView gives up after 3 s)")
      ->check(CLI::Range(50, 60'000));
  settings.Add("max-in-flight", cfg.max_in_flight, "publishes awaiting their PubAck before new webhooks get 503")
      ->check(CLI::Range(1, 1'000'000));
  settings.Add("read-timeout-ms", cfg.read_timeout_ms, "time a client has to send a whole request")
      ->check(CLI::Range(100, 600'000));
  settings.Add("source-rate", cfg.source_rate, "per-source limit, requests/s on average (0 = unlimited)")
      ->check(CLI::Range(0.0, 1e9));
  settings.Add("source-burst", cfg.source_burst, "per-source burst above the rate")->check(CLI::Range(1, 1'000'000));
  settings.AddFlag("send-asap", cfg.send_asap, "cnats SendAsap: lower latency, more nats-server CPU");
  settings
      .Add("publisher", cfg.publisher,
           "loop: publish on each HTTP thread's own NATS connection; cnats: through the cnats library")
      ->check(CLI::IsMember({"loop", "cnats"}));
  if (auto exit_code = settings.Parse(argc, argv)) return *exit_code;

  auto sources = tp::gateway::LoadSources({.sources = cfg.sources,
                                           .sources_file = cfg.sources_file,
                                           .demo = cfg.demo,
                                           .load_test_token = cfg.load_test_token,
                                           .default_rate_per_s = cfg.source_rate,
                                           .default_burst = cfg.source_burst},
                                          [](const std::string& name) { return std::getenv(name.c_str()); });
  if (!sources) {
    std::cerr << "gateway: configuration error: " << sources.error() << "\n";
    return 2;
  }
  // Declared before the runtime: the HTTP server's shutdown stops its Redis lanes (on_drained).
  auto chosen = tp::gateway::MakeIdempotencyStore({.redis_url = cfg.redis_url,
                                                   .redis_on_loops = cfg.redis_transport == "loops",
                                                   .redis_lanes = cfg.redis_lanes,
                                                   .memory_capacity = cfg.idempotency_capacity,
                                                   .ttl_s = cfg.idempotency_ttl_s});
  if (!chosen) {
    std::cerr << "gateway: configuration error: " << chosen.error() << "\n";
    return 2;
  }
  tp::gateway::IdempotencyStore& store = *chosen->store;
  tp::gateway::RedisIdempotencyStore* redis = chosen->redis;
  if (cfg.request_deadline_ms < tp::gateway::WebhookEndpoint::MinimumDeadlineMs(store)) {
    std::cerr << "gateway: configuration error: --request-deadline-ms " << cfg.request_deadline_ms
              << " leaves no time to publish: at least " << tp::gateway::WebhookEndpoint::MinimumDeadlineMs(store)
              << " ms with this idempotency store\n";
    return 2;
  }
  // One publisher (and Redis connection) per HTTP thread, on that thread's event loop (docs/gateway.md).
  std::optional<tp::bus::LoopPublisherOptions> loop_publisher;
  if (cfg.publisher == "loop") {
    loop_publisher = {.url = cfg.common.nats_url, .name = "gateway", .publish_timeout_ms = cfg.request_deadline_ms};
  }
  tp::gateway::LoopAttachments loops(loop_publisher, chosen->redis_on_loops());
  auto rt =
      tp::service::Runtime::Start("gateway", cfg.common,
                                  {.send_asap = cfg.send_asap,
                                   .max_pending_publishes = cfg.max_in_flight,
                                   .publish_timeout_ms = cfg.request_deadline_ms},
                                  {.body_limit = cfg.max_body,
                                   .read_timeout = std::chrono::milliseconds(cfg.read_timeout_ms),
                                   .attach = loops.Hook(),
                                   // After the drain and before the loops stop: no Redis completion may publish later.
                                   .on_drained = [&] { store.Shutdown(); }});
  if (!rt) return 1;

  if (cfg.demo) spdlog::warn("demo source enabled with the documented DEMO key: anyone can sign for it");
  if (!cfg.load_test_token.empty()) {
    spdlog::warn("load-test source enabled: requests with its token are never de-duplicated (load tests only)");
  }

  tp::metrics::Metrics& metrics = rt->metrics();
  tp::gateway::ExportIdempotencyStore(metrics, store);

  if (redis != nullptr) {
    // Start even if Redis is down: webhooks get 503 (fail closed) and /ready says why. With
    // loops, each loop's connection dials with a PING when the loops start (after this).
    if (chosen->redis_on_loops() == nullptr) {
      if (auto ping = redis->Ping(); !ping) spdlog::warn("redis not reachable at start error={}", ping.error());
    }
    spdlog::info("idempotency store redis={}:{}/{} transport={}", chosen->redis_options->host,
                 chosen->redis_options->port, chosen->redis_options->db, cfg.redis_transport);
    rt->AddReadinessCheck([redis] { return redis->ReadinessAfterPing(); });
  }

  tp::gateway::WebhookProcessor processor(std::move(*sources), {.tolerance_s = cfg.tolerance_s}, store,
                                          tp::gateway::ProcessorMetrics(metrics));
  if (cfg.publisher == "loop") {
    rt->AddReadinessCheck([&] { return tp::gateway::LoopPublishersNotReady(loops.publishers()); });
  }
  // Not ready from 90 % of SIGNALS' byte limit on: at 100 % every webhook is answered 503.
  rt->AddStreamFullnessCheck("SIGNALS", 0.9);
  const tp::gateway::PublishPath path = cfg.publisher == "loop" ? tp::gateway::LoopPublishPath(loops.publishers())
                                                                : tp::gateway::BusPublishPath(rt->bus());
  tp::gateway::WebhookEndpoint endpoint(
      processor, store, {.max_in_flight = cfg.max_in_flight, .deadline_ms = cfg.request_deadline_ms}, path, metrics);
  rt->router().PostPrefix("/webhook/", [&](const tp::http::Request& req, tp::http::Responder respond) {
    endpoint.Handle(req, std::move(respond));
  });

  return rt->ServeUntilSignal();
}
