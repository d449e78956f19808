#include "tradepipe/service/runtime.hpp"

#include <spdlog/spdlog.h>

#include "tradepipe/common/clock.hpp"
#include "tradepipe/common/shutdown.hpp"
#include "tradepipe/http/service_endpoints.hpp"
#include "tradepipe/log/log.hpp"

namespace tradepipe::service {
namespace {

constexpr double kStalledNotReadyAfterSeconds = 5.0;

double StalledSeconds(const bus::ConsumerHealth& health) {
  const int64_t since = health.stalled_since_ns.load(std::memory_order_relaxed);
  return since == 0 ? 0.0 : static_cast<double>(WallNanos() - since) / 1e9;
}

}  // namespace

std::unique_ptr<Runtime> Runtime::Start(const std::string& name, const config::CommonConfig& common,
                                        bus::BusOptions bus_options, http::ServerOptions http_options) {
  log::Init(name, common.log_level, common.log_format);
  std::unique_ptr<Runtime> rt(new Runtime());
  rt->name_ = name;
  rt->metrics_.ExportBuildInfo(name);
  http_options.host = common.http_host;
  http_options.port = common.http_port;
  http_options.threads = common.http_threads;
  http_options.max_connections = static_cast<size_t>(common.http_max_connections);
  rt->http_options_ = http_options;

  bus_options.url = common.nats_url;
  bus_options.name = name;
  bus_options.connect_timeout_ms = common.nats_connect_timeout_s * 1000;
  auto bus = bus::Bus::Connect(bus_options);
  if (!bus) {
    spdlog::critical("{}", bus.error());
    return nullptr;
  }
  rt->bus_ = std::move(*bus);
  bus::Topology topology = bus::DefaultTopology();
  for (auto& stream : topology.streams) {
    // A stream of replaced state (the agent's positions snapshots) keeps proto's limits: it must
    // outlive the events whose age and size these settings bound.
    if (stream.max_msgs_per_subject > 0) continue;
    if (common.stream_max_bytes > 0) stream.max_bytes = common.stream_max_bytes;
    if (common.signals_max_bytes > 0 && stream.name == "SIGNALS") stream.max_bytes = common.signals_max_bytes;
    if (common.stream_max_age_s > 0) stream.max_age_s = common.stream_max_age_s;
    if (common.stream_duplicate_window_s > 0) stream.duplicate_window_s = common.stream_duplicate_window_s;
  }
  if (auto s = rt->bus_->Provision(topology); !s) {
    spdlog::critical("provisioning streams and consumers failed: {}", s.error());
    return nullptr;
  }
  Runtime* self = rt.get();
  // Every stream's fullness, read from the server at each scrape (one request per stream).
  auto& messages = rt->metrics_.GaugeFamily("tradepipe_stream_messages", "messages held by the stream");
  auto& bytes = rt->metrics_.GaugeFamily("tradepipe_stream_bytes", "bytes held by the stream");
  auto& max_bytes = rt->metrics_.GaugeFamily(
      "tradepipe_stream_max_bytes", "bytes at which the stream refuses new messages (discard new); -1 unlimited");
  for (const auto& stream : topology.streams) {
    auto& m = messages.Add({{"stream", stream.name}});
    auto& b = bytes.Add({{"stream", stream.name}});
    auto& limit = max_bytes.Add({{"stream", stream.name}});
    rt->metrics_.OnCollect([self, name = stream.name, &m, &b, &limit] {
      if (auto usage = self->bus_->DescribeStream(name)) {
        m.Set(static_cast<double>(usage->messages));
        b.Set(static_cast<double>(usage->bytes));
        limit.Set(static_cast<double>(usage->max_bytes));
      }
    });
  }
  http::AddServiceEndpoints(rt->router_, rt->metrics_, [self] {
    if (auto why = self->bus_->NotReadyReason(); !why.empty()) return why;
    for (const auto& check : self->readiness_) {
      if (auto why = check(); !why.empty()) return why;
    }
    return std::string();
  });
  return rt;
}

void Runtime::AddReadinessCheck(std::function<std::string()> check) { readiness_.push_back(std::move(check)); }

void Runtime::AddStreamFullnessCheck(const std::string& stream, double ratio) {
  AddReadinessCheck([this, stream, ratio]() -> std::string {
    auto usage = bus_->DescribeStream(stream);
    if (!usage) return usage.error();
    if (usage->max_bytes > 0 && static_cast<double>(usage->bytes) >= ratio * static_cast<double>(usage->max_bytes)) {
      return "stream " + stream + " is " +
             std::to_string(
                 static_cast<int>(100.0 * static_cast<double>(usage->bytes) / static_cast<double>(usage->max_bytes))) +
             "% full: it refuses new messages at 100%";
    }
    return {};
  });
}

void Runtime::ExportConsumer(const bus::ConsumerLoop& loop) {
  if (consumer_lag_ == nullptr) {
    consumer_lag_ =
        &metrics_.GaugeFamily("tradepipe_consumer_pending_messages",
                              "messages of the stream not yet delivered to the durable consumer, as of its last fetch");
    consumer_stalled_ = &metrics_.GaugeFamily(
        "tradepipe_consumer_stalled_seconds",
        "how long the consumer's sink has been failing (its batch held, nothing fetched); 0 while it works");
    consumer_sink_failures_ = &metrics_.CounterFamily("tradepipe_consumer_sink_failures_total",
                                                      "failed attempts to publish or commit a batch (each retried)");
    consumer_batches_ = &metrics_.CounterFamily("tradepipe_consumer_batches_total", "non-empty fetches");
    consumer_messages_ =
        &metrics_.CounterFamily("tradepipe_consumer_messages_total",
                                "messages fetched (rate over tradepipe_consumer_batches_total: the mean batch)");
  }
  const prometheus::Labels labels{{"durable", loop.name()}};
  auto& lag = consumer_lag_->Add(labels);
  auto& stalled = consumer_stalled_->Add(labels);
  auto& failures = consumer_sink_failures_->Add(labels);
  auto& batches = consumer_batches_->Add(labels);
  auto& messages = consumer_messages_->Add(labels);
  metrics_.OnCollect([&lag, &stalled, &failures, &batches, &messages, health = loop.Health()] {
    // Counters kept by the loop, brought up to its totals.
    auto catch_up = [](prometheus::Counter& c, const std::atomic<uint64_t>& total) {
      c.Increment(static_cast<double>(total.load(std::memory_order_relaxed)) - c.Value());
    };
    lag.Set(static_cast<double>(health->pending.load(std::memory_order_relaxed)));
    stalled.Set(StalledSeconds(*health));
    catch_up(failures, health->sink_failures);
    catch_up(batches, health->batches);
    catch_up(messages, health->messages);
  });
  // A sink failing for a while is worth telling load balancers and operators; a blip is not.
  AddReadinessCheck([name = loop.name(), health = loop.Health()]() -> std::string {
    const double seconds = StalledSeconds(*health);
    if (seconds < kStalledNotReadyAfterSeconds) return {};
    return "consumer " + name + ": its sink has been failing for " + std::to_string(static_cast<int64_t>(seconds)) +
           " s (batch held, retried): " + health->LastError();
  });
}

bool Runtime::ExpectSoleConsumer(const std::vector<std::string>& durables) {
  std::vector<bus::ConsumerSpec> specs;
  for (const auto& durable : durables) specs.push_back(bus::DefaultTopology().Consumer(durable));
  if (auto sole = bus::ExpectNoOtherConsumer(*bus_, specs); !sole) {
    spdlog::critical("{}", sole.error());
    return false;
  }
  return true;
}

void Runtime::ExportSeenIds(const std::string& set, const bus::SeenIds& ids) {
  const prometheus::Labels labels{{"set", set}};
  auto& size = metrics_.GaugeFamily("tradepipe_dedup_ids", "ids remembered to recognise repeated effects").Add(labels);
  auto& capacity =
      metrics_.GaugeFamily("tradepipe_dedup_capacity", "ids remembered at most (then the oldest is forgotten)")
          .Add(labels);
  auto& forgotten =
      metrics_.CounterFamily("tradepipe_dedup_forgotten_total", "ids forgotten at capacity since start").Add(labels);
  auto& horizon = metrics_
                      .GaugeFamily("tradepipe_dedup_horizon_seconds",
                                   "age of the oldest id remembered: how far back a repeat is recognised")
                      .Add(labels);
  metrics_.OnCollect([&, ids = &ids] {
    size.Set(static_cast<double>(ids->size()));
    capacity.Set(static_cast<double>(ids->capacity()));
    forgotten.Increment(static_cast<double>(ids->forgotten()) - forgotten.Value());
    const int64_t oldest = ids->OldestNanos();
    horizon.Set(oldest == 0 ? 0.0 : static_cast<double>(WallNanos() - oldest) / 1e9);
  });
}

int Runtime::ServeUntilSignal(const std::function<void()>& stop_input) {
  server_ = std::make_unique<http::Server>(http_options_, router_.AsHandler());
  http::Server& server = *server_;
  auto& open = metrics_.Gauge("tradepipe_http_connections", "open HTTP connections");
  auto& refused = metrics_.Counter("tradepipe_http_connections_refused_total",
                                   "connections closed at once because --http-max-connections were open");
  auto& failures = metrics_.Counter("tradepipe_http_accept_failures_total",
                                    "accept() failures (e.g. out of descriptors); the listener backs off");
  metrics_.OnCollect([this, &open, &refused, &failures] {
    if (!server_) return;
    open.Set(static_cast<double>(server_->open_connections()));
    refused.Increment(static_cast<double>(server_->refused_connections()) - refused.Value());
    failures.Increment(static_cast<double>(server_->accept_failures()) - failures.Value());
  });
  if (auto s = server.Start(); !s) {
    spdlog::critical("{}", s.error());
    if (stop_input) stop_input();
    return 1;
  }
  spdlog::info("{} listening port={}", name_, server.port());
  const int sig = WaitForShutdownSignal();
  spdlog::info("shutting down signal={}", sig);
  if (stop_input) stop_input();
  server.Stop();
  server_.reset();
  bus_.reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace tradepipe::service
