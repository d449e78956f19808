#include "tradepipe/service/runtime.hpp"

#include <spdlog/spdlog.h>

#include "tradepipe/common/shutdown.hpp"
#include "tradepipe/http/service_endpoints.hpp"
#include "tradepipe/log/log.hpp"

namespace tradepipe::service {

std::unique_ptr<Runtime> Runtime::Start(const std::string& name, const config::CommonConfig& common,
                                        bus::BusOptions bus_options, http::ServerOptions http_options) {
  log::Init(name, common.log_level, common.log_format);
  std::unique_ptr<Runtime> rt(new Runtime());
  rt->name_ = name;
  http_options.host = common.http_host;
  http_options.port = common.http_port;
  http_options.threads = common.http_threads;
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
  if (auto s = rt->bus_->Provision(bus::DefaultTopology()); !s) {
    spdlog::critical("provisioning streams and consumers failed: {}", s.error());
    return nullptr;
  }
  Runtime* self = rt.get();
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

void Runtime::ExportConsumerLag(const bus::ConsumerLoop& loop) {
  if (consumer_lag_ == nullptr) {
    consumer_lag_ =
        &metrics_.GaugeFamily("tradepipe_consumer_pending_messages",
                              "messages of the stream not yet delivered to the durable consumer, as of its last fetch");
  }
  auto& gauge = consumer_lag_->Add({{"durable", loop.name()}});
  metrics_.OnCollect([&gauge, pending = loop.PendingHandle()] {
    gauge.Set(static_cast<double>(pending->load(std::memory_order_relaxed)));
  });
}

int Runtime::ServeUntilSignal(const std::function<void()>& stop_input) {
  http::Server server(http_options_, router_.AsHandler());
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
  bus_.reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace tradepipe::service
