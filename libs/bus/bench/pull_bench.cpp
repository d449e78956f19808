// Consuming a durable pull consumer: our PullRequests against cnats' natsSubscription_Fetch (the
// baseline, kept only here: it has the 3.4.1 overflow, docs/trust.md item 12), same server, same
// run. Each iteration creates a fresh durable on a stream of kMessages and takes every message in
// batches of 256 (the services' batch), acking each as the services do.
//
//   build/release/libs/bus/pull_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <nats/nats.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "cnats_stream.hpp"
#include "nats_server.hpp"
#include "pull_requests.hpp"

namespace tradepipe::bus {
namespace {

constexpr int kMessages = 20'000;
constexpr int kBatch = 256;

struct Server {
  testing::NatsServer server;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  int durables = 0;

  Server() {
    if (natsConnection_ConnectTo(&nc, server.url().c_str()) != NATS_OK) throw std::runtime_error("connect");
    natsConnection_JetStream(&js, nc, nullptr);
    testing::AddStream(js, "B", "b.>");
    const std::string data(200, 'x');  // about a signal's size
    jsPubOptions po;
    jsPubOptions_Init(&po);
    for (int i = 0; i < kMessages; ++i) {
      js_PublishAsync(js, "b.x", data.data(), static_cast<int>(data.size()), &po);
    }
    js_PublishAsyncComplete(js, nullptr);
  }
  ~Server() {
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  std::string NewDurable() {
    const std::string name = "d" + std::to_string(++durables);
    testing::AddDurable(js, "B", name, 20'000);
    return name;
  }
};

Server& Shared() {
  static auto* server = new Server();  // for the whole run; the process exit stops it
  return *server;
}

void BM_ConsumeWithPullRequests(benchmark::State& state) {
  Server& s = Shared();
  for (auto _ : state) {
    state.PauseTiming();
    const std::string durable = s.NewDurable();
    PullRequests pull(s.nc, "B", durable);
    state.ResumeTiming();
    int taken = 0;
    while (taken < kMessages) {
      auto got = pull.Next(kBatch, 250);
      if (!got) throw std::runtime_error(got.error());
      for (natsMsg* m : *got) {
        natsConnection_PublishString(s.nc, natsMsg_GetReply(m), "+ACK");
        natsMsg_Destroy(m);
      }
      taken += static_cast<int>(got->size());
    }
  }
  state.SetItemsProcessed(state.iterations() * kMessages);
}
BENCHMARK(BM_ConsumeWithPullRequests)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ConsumeWithCnatsFetch(benchmark::State& state) {
  Server& s = Shared();
  for (auto _ : state) {
    state.PauseTiming();
    const std::string durable = s.NewDurable();
    natsSubscription* sub = nullptr;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = "B";
    so.Consumer = durable.c_str();
    if (js_PullSubscribe(&sub, s.js, "b.>", durable.c_str(), nullptr, &so, nullptr) != NATS_OK) {
      throw std::runtime_error("subscribe");
    }
    state.ResumeTiming();
    int taken = 0;
    while (taken < kMessages) {
      natsMsgList list{};
      if (natsSubscription_Fetch(&list, sub, kBatch, 250, nullptr) != NATS_OK) continue;
      for (int i = 0; i < list.Count; ++i) natsMsg_Ack(list.Msgs[i], nullptr);
      taken += list.Count;
      natsMsgList_Destroy(&list);
    }
    state.PauseTiming();
    natsSubscription_Destroy(sub);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kMessages);
}
BENCHMARK(BM_ConsumeWithCnatsFetch)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace tradepipe::bus

BENCHMARK_MAIN();
