// Google Benchmark of the trading core's per-message logic, as the services run it: one decision
// (the agent: parse the signal's envelope, decide, serialise the order) and one market-order match
// (exec-sim: parse the order's envelope, execute, serialise the fill). Issue 12's target is a p99
// under 20 µs each; Google Benchmark reports means, so every iteration is also timed on its own
// and the p50/p99 of those times are reported as counters (µs).
//   build/release/services/bench/trading_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "decision.hpp"
#include "market.hpp"
#include "tradepipe/events/envelope.hpp"

namespace {

namespace ev = tradepipe::events;

// Runs `body` once per iteration, timing each; sets p50_us and p99_us.
template <typename Body>
void TimedIterations(benchmark::State& state, Body&& body) {
  std::vector<double> us;
  us.reserve(1 << 20);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    body();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  if (us.empty()) return;
  auto at = [&us](double q) {
    const auto k = static_cast<std::ptrdiff_t>(q * static_cast<double>(us.size() - 1));
    std::nth_element(us.begin(), us.begin() + k, us.end());
    return us[static_cast<size_t>(k)];
  };
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
}

std::string SignalJson() {
  ev::Envelope e;
  e.type = ev::kTypeSignal;
  e.id = "demo:msg_2026-12-02T09:56:00Z_4711";
  e.correlation_id = e.id;
  e.source = "demo";
  e.symbol = "BTCUSDT";
  e.AddStamp("received", 1'764'669'360'000'000'000);
  e.AddStamp("verified", 1'764'669'360'000'010'000);
  e.AddStamp("published", 1'764'669'360'000'020'000);
  ev::SignalPayload p;
  p.action = ev::SignalAction::kBuy;
  p.qty = *ev::Decimal::Parse("0.00125");
  p.strategy = "trend";
  e.payload = ev::ToJson(p);
  return ev::Serialize(e);
}

void BM_Decision(benchmark::State& state) {
  const std::string data = SignalJson();
  const tradepipe::agent::RiskLimits limits{ev::Decimal::FromInteger(1000)};
  TimedIterations(state, [&] {
    auto signal = ev::ParseEnvelope(data);
    auto decision = tradepipe::agent::Decide(*signal, limits, ev::Decimal(), 1, 2);
    benchmark::DoNotOptimize(decision->messages.data());
  });
}
BENCHMARK(BM_Decision);

void BM_MarketOrderMatch(benchmark::State& state) {
  const std::string signal = SignalJson();
  const tradepipe::agent::RiskLimits limits{ev::Decimal::FromInteger(1000)};
  const std::string order =
      tradepipe::agent::Decide(*ev::ParseEnvelope(signal), limits, ev::Decimal(), 1, 2)->messages.front().data;
  const tradepipe::execsim::Market market({});
  TimedIterations(state, [&] {
    auto parsed = ev::ParseEnvelope(order);
    auto execution = tradepipe::execsim::Execute(*parsed, market, 3, 4);
    benchmark::DoNotOptimize(execution->messages.data());
  });
}
BENCHMARK(BM_MarketOrderMatch);

}  // namespace

BENCHMARK_MAIN();
