// Google Benchmark of the trading core's per-message logic, as the services run it: one decision
// (the agent: parse the signal's envelope, decide, serialise the order) and one market-order match
// (exec-sim: parse the order's envelope, execute, serialise the fill), and one timer tick over
// the resting orders (exec-sim's MatchTick, by book size); and the two bounded sets every order
// goes through when full (exec-sim's OrderStates, the services' de-duplication set SeenIds).
// Issue 12's target is a p99
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
#include "order_states.hpp"
#include "resting.hpp"
#include "tradepipe/bus/seen_ids.hpp"
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
  p.price = *ev::Decimal::Parse("50100");
  p.strategy = "trend";
  e.payload = ev::ToJson(p);
  return ev::Serialize(e);
}

// Every check configured, so that one decision runs the whole pipeline: sizing by percent of
// equity, the allow-list, the windows, the limits and the throttle.
tradepipe::agent::TradingConfig EveryCheck() {
  auto config = tradepipe::agent::ParseTradingConfig(R"({
    "symbols": {"BTCUSDT": {"qty_step": "0.00001"}},
    "risk": {"allowed_symbols": ["ETHUSDT", "BTCUSDT"], "max_order_qty": "1000", "max_order_notional": "1000000",
             "max_position": "100", "max_gross_exposure": "10000000", "price_band_percent": "5",
             "max_signal_age_s": 86400, "daily_loss_limit": "5000",
             "trading_windows": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "00:00", "to": "24:00"}]},
    "strategies": {"trend": {"sizing": {"kind": "percent_equity", "value": "2"}, "allow_signal_qty": false,
                             "max_open_positions": 10, "max_orders_per_minute": 1000000}}})");
  return std::move(*config);
}

tradepipe::agent::DecisionContext ContextFor(const tradepipe::agent::TradingConfig& config) {
  tradepipe::agent::DecisionContext context;
  context.config = &config;
  context.account.symbol.qty = *ev::Decimal::Parse("0.5");
  context.account.symbol.avg_price = *ev::Decimal::Parse("49000");
  context.account.symbol.last_price = *ev::Decimal::Parse("50000");
  context.account.has_last_price = true;
  context.account.gross_exposure = *ev::Decimal::Parse("25000");
  context.account.open_positions = 1;
  context.consumed_ns = 1'764'669'360'000'030'000;
  context.decided_ns = context.consumed_ns;
  return context;
}

void BM_Decision(benchmark::State& state) {
  const std::string data = SignalJson();
  const auto config = EveryCheck();
  auto context = ContextFor(config);
  tradepipe::agent::OrderThrottle throttle;
  if (auto first = tradepipe::agent::Decide(*ev::ParseEnvelope(data), context, throttle); !first || first->rejected) {
    const std::string why =
        "the benchmark's signal was not decided into an order: " + (first ? first->reason : first.error());
    state.SkipWithError(why.c_str());
    return;
  }
  TimedIterations(state, [&] {
    context.decided_ns += 1'000'000;  // 1 ms apart: the throttle's minute holds 60,000 orders
    auto signal = ev::ParseEnvelope(data);
    auto decision = tradepipe::agent::Decide(*signal, context, throttle);
    benchmark::DoNotOptimize(decision->messages.data());
  });
}
BENCHMARK(BM_Decision);

void BM_MarketOrderMatch(benchmark::State& state) {
  const std::string signal = SignalJson();
  const auto config = EveryCheck();
  tradepipe::agent::OrderThrottle throttle;
  const auto decision = tradepipe::agent::Decide(*ev::ParseEnvelope(signal), ContextFor(config), throttle);
  if (!decision || decision->rejected) {
    state.SkipWithError("the benchmark's signal was not decided into an order");
    return;
  }
  const std::string order = decision->messages.front().data;
  const tradepipe::execsim::Market market({});
  TimedIterations(state, [&] {
    auto parsed = ev::ParseEnvelope(order);
    auto execution = tradepipe::execsim::Execute(*parsed, 1, market, 3, 4);
    benchmark::DoNotOptimize(execution->messages.data());
  });
}
BENCHMARK(BM_MarketOrderMatch);

// One timer tick over `state.range(0)` resting limits (8 symbols, buys and sells), their limits
// spread through and around the tick's book (range(1) = 1: about half fill each tick) or all away
// from it (0: nobody fills, the matching alone). A tick should stay inside its interval (--tick-ms,
// 250 by default) up to --max-resting (100,000).
void BM_TickMatch(benchmark::State& state) {
  const tradepipe::execsim::Market market({});
  tradepipe::execsim::RestingList orders;
  const auto n = static_cast<size_t>(state.range(0));
  orders.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string symbol = "SYM" + std::to_string(i % 8);
    const std::string id = "demo:r" + std::to_string(i) + "/order";
    const auto book = market.TickBookAt(symbol, 1000);
    tradepipe::execsim::RestingOrder order;
    order.parent.type = ev::kTypeOrder;
    order.parent.id = id;
    order.parent.correlation_id = "demo:r" + std::to_string(i);
    order.parent.source = "demo";
    order.parent.symbol = symbol;
    order.side = i % 2 == 0 ? ev::Side::kBuy : ev::Side::kSell;
    order.qty = ev::Decimal::FromInteger(10);
    // Spread: from 2 % through the book to 2 % away from it, by steps of 0.1 % (about half fill
    // each tick); waiting: 1 % to 5 % away (none fills: the matching alone).
    const int64_t step = static_cast<int64_t>(i % 41) * 10;
    const int64_t offset_bps = state.range(1) == 1 ? step - 200 : 100 + step;
    const ev::Decimal touch = order.side == ev::Side::kBuy ? book.asks[0].price : book.bids[0].price;
    const int64_t sign = order.side == ev::Side::kBuy ? -1 : 1;
    order.limit = ev::Decimal::FromUnits(touch.units() + sign * touch.units() / 10'000 * offset_bps);
    order.time_in_force = ev::TimeInForce::kGtc;
    order.decided_ns = 1'764'669'360'000'000'000 + static_cast<int64_t>(i);
    orders.emplace_back(id, std::move(order));
  }
  std::sort(orders.begin(), orders.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  size_t fills = 0;
  uint64_t tick = 1000;
  TimedIterations(state, [&] {
    auto result = tradepipe::execsim::MatchTick(market, orders, tick, static_cast<int64_t>(tick) * 250'000'000,
                                                static_cast<int64_t>(tick) * 250'000'000, 10'000);
    fills += result.fills;
    benchmark::DoNotOptimize(result.messages.data());
    ++tick;
  });
  state.counters["fills_per_tick"] =
      static_cast<double>(fills) / static_cast<double>(std::max<int64_t>(state.iterations(), 1));
}
BENCHMARK(BM_TickMatch)
    ->ArgsProduct({{1'000, 10'000, 100'000}, {0, 1}})
    ->ArgNames({"resting", "crossing"})
    ->Unit(benchmark::kMillisecond);

// Ids not seen for a while: 8x the set's capacity, cycled, so that each one recorded is new and
// forgets the oldest (the sets' state in a long drain).
std::vector<std::string> CycledIds(size_t capacity) {
  std::vector<std::string> ids;
  ids.reserve(8 * capacity);
  for (size_t i = 0; i < 8 * capacity; ++i) ids.push_back("demo:msg_" + std::to_string(i) + "/order");
  return ids;
}

// exec-sim's OrderStates full at its default bound (--order-states 100,000): one order's state
// recorded, forgetting the oldest.
void BM_OrderStatesRecord(benchmark::State& state) {
  constexpr size_t kCapacity = 100'000;
  const std::vector<std::string> ids = CycledIds(kCapacity);
  tradepipe::execsim::OrderStates states(kCapacity);
  tradepipe::execsim::OrderState filled;
  filled.symbol = "BTCUSDT";
  filled.status = "filled";
  size_t i = 0;
  for (; i < kCapacity; ++i) states.Record(ids[i], filled);
  for (auto _ : state) {
    states.Record(ids[i], filled);
    i = i + 1 == ids.size() ? 0 : i + 1;
  }
}
BENCHMARK(BM_OrderStatesRecord);

// The services' de-duplication set full at its default bound (--dedup-capacity 250,000): an
// output's digest checked, then inserted, forgetting the oldest (bus::ForwardBatch's use).
void BM_SeenIdsCheckAndInsert(benchmark::State& state) {
  constexpr size_t kCapacity = 250'000;
  std::vector<tradepipe::bus::SeenIds::Key> keys;
  for (const std::string& id : CycledIds(kCapacity)) keys.push_back(tradepipe::bus::SeenIds::Digest(id));
  tradepipe::bus::SeenIds seen(kCapacity);
  size_t i = 0;
  for (; i < kCapacity; ++i) seen.Insert(keys[i], 1);
  for (auto _ : state) {
    if (!seen.Contains(keys[i])) seen.Insert(keys[i], 1);
    i = i + 1 == keys.size() ? 0 : i + 1;
  }
}
BENCHMARK(BM_SeenIdsCheckAndInsert);

// The ticker's copy of the resting book, taken under the book's lock at every tick (the consumer
// thread waits on that lock to add a rest): `state.range(0)` orders, each with its parent's
// envelope and stamps as exec-sim keeps them.
void BM_RestingSnapshot(benchmark::State& state) {
  tradepipe::execsim::RestingBook book(static_cast<size_t>(state.range(0)));
  for (int64_t i = 0; i < state.range(0); ++i) {
    tradepipe::execsim::RestingOrder order;
    order.parent.type = ev::kTypeOrder;
    order.parent.correlation_id = "demo:msg_2026-12-02T09:56:00Z_" + std::to_string(i);
    order.parent.id = order.parent.correlation_id + "/order";
    order.parent.causation_id = order.parent.correlation_id;
    order.parent.source = "demo";
    order.parent.symbol = "SYM" + std::to_string(i % 8);
    for (const char* stamp : {"received", "verified", "published", "agent_consumed", "decided", "exec_consumed"}) {
      order.parent.AddStamp(stamp, 1'764'669'360'000'000'000 + i);
    }
    order.qty = ev::Decimal::FromInteger(10);
    order.limit = ev::Decimal::FromInteger(100);
    order.time_in_force = ev::TimeInForce::kGtc;
    const std::string id = order.parent.id;
    book.Add(id, std::move(order));
  }
  if (book.size() != static_cast<size_t>(state.range(0))) state.SkipWithError("the book was not filled");
  for (auto _ : state) {
    auto snapshot = book.Snapshot();
    benchmark::DoNotOptimize(snapshot.data());
  }
}
BENCHMARK(BM_RestingSnapshot)->Arg(10'000)->Arg(100'000)->ArgName("resting")->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
