// exec-sim: fills orders against a seeded simulated market. Wiring only; see market.cpp.
#include <spdlog/spdlog.h>

#include <chrono>

#include "cancel_handler.hpp"
#include "endpoints.hpp"
#include "order_handler.hpp"
#include "order_latency.hpp"
#include "ticker.hpp"
#include "tradepipe/common/shutdown.hpp"
#include "tradepipe/service/runtime.hpp"

namespace tp = tradepipe;

// Orders (and, separately, cancels) waiting out the venue's latency at once; max_ack_pending (20,000,
// proto/streams.json) bounds them first.
constexpr size_t kMaxHeldInTransit = 20'000;

int main(int argc, char** argv) {
  tp::BlockShutdownSignals();
  tp::config::CommonConfig common;
  tp::execsim::MarketOptions market_options;
  int batch = 1024;
  int64_t remembered_ids = 250'000;
  int64_t remembered_orders = 100'000;
  int64_t max_resting = 100'000;
  int tick_ms = 250;
  int order_latency_ms = 0;
  int cancel_latency_ms = 0;
  tp::execsim::TickerOptions ticker_options;
  std::string depth_qty = "1000";
  bool send_asap = false;
  tp::config::Settings settings("exec-sim", "tradepipe exec-sim: orders in, execution reports and fills out");
  tp::config::AddCommon(settings, common, 8004);
  settings.Add("seed", market_options.seed, "market seed: same seed and orders, same fills");
  settings.Add("spread-bps", market_options.spread_bps, "bid-ask spread, basis points")->check(CLI::Range(0, 10'000));
  settings.Add("walk-bps", market_options.walk_bps, "how far the mid wanders from its base, ± basis points")
      ->check(CLI::Range(0, 5'000));
  settings.Add("levels", market_options.levels, "price levels per side of the book")->check(CLI::Range(1, 20));
  settings.Add("level-step-bps", market_options.level_step_bps, "distance between levels, basis points of mid")
      ->check(CLI::Range(0, 1'000));
  settings.Add("depth-qty", depth_qty, "mean size of the best level (level n holds about n times it); exact decimal")
      ->check([](const std::string& v) {
        auto d = tp::events::Decimal::Parse(v);
        if (!d) return d.error();
        return *d <= tp::events::Decimal() || *d > tp::events::Decimal::FromInteger(1'000'000)
                   ? std::string("from 0.00000001 to 1000000")
                   : std::string();
      });
  settings
      .Add("reject-bps", market_options.reject_bps,
           "share of orders the simulated venue rejects (seeded by order id), basis points")
      ->check(CLI::Range(0, 10'000));
  settings
      .Add("order-latency-ms", order_latency_ms,
           "the simulated venue's latency: an order meets the market this long after it is fetched, ms")
      ->check(CLI::Range(0, 10'000));  // a third of the consumer's ack wait (30 s): held orders are never redelivered
  settings
      .Add("cancel-latency-ms", cancel_latency_ms,
           "the simulated venue's latency for cancel requests: a cancel takes effect this long after it is fetched, ms")
      ->check(CLI::Range(0, 10'000));
  settings.Add("tick-ms", tick_ms, "interval of the timer that matches resting orders against the market, ms")
      ->check(CLI::Range(10, 60'000));
  settings
      .Add("touch-fill-bps", ticker_options.touch_fill_bps,
           "probability that a resting limit the market touches (not crosses) fills in a tick, basis points")
      ->check(CLI::Range(0, 10'000));
  settings.Add("max-resting", max_resting, "resting DAY/GTC orders kept; beyond, a new rest is cancelled")
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}));
  settings.Add("order-states", remembered_orders, "orders whose last state GET /orders/{id} shows (the newest)")
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}));
  settings.Add("batch", batch, "messages fetched per pull request")->check(CLI::Range(1, 4096));
  settings
      .Add("dedup-capacity", remembered_ids,
           "report and fill ids remembered to recognise repeated orders past the duplicate window")
      ->check(CLI::Range(int64_t{1000}, int64_t{100'000'000}));
  settings.AddFlag("send-asap", send_asap, "cnats SendAsap: lower latency, more nats-server CPU");
  if (auto exit_code = settings.Parse(argc, argv)) return *exit_code;

  auto rt = tp::service::Runtime::Start("exec-sim", common, {.send_asap = send_asap});
  if (!rt) return 1;
  // One exec-sim keeps the resting orders (two would both fill them at their own ticks).
  if (!rt->ExpectSoleConsumer({"exec-sim-orders", "exec-sim-cancels"})) return 1;
  const auto& topology = tp::bus::DefaultTopology();
  market_options.depth_qty = *tp::events::Decimal::Parse(depth_qty);
  const tp::execsim::Market market(market_options);
  tp::execsim::OrderStates order_states(static_cast<size_t>(remembered_orders));
  tp::execsim::RestingBook resting(static_cast<size_t>(max_resting));
  auto& metrics = rt->metrics();

  tp::bus::SeenIds published(static_cast<size_t>(remembered_ids));
  auto rebuilt = tp::execsim::RebuildFromExecutions(rt->bus(), published, resting, metrics);
  if (!rebuilt) {
    spdlog::critical("rebuilding from EXECUTIONS: {}", rebuilt.error());
    return 1;
  }
  rt->ExportSeenIds("execsim-outputs", published);
  // Resting orders are stated again before their last statement ages out of EXECUTIONS.
  ticker_options.restate_after = std::chrono::nanoseconds(rebuilt->max_age_ns / 4);

  tp::execsim::OrderHandler handler(rt->bus(), market, order_states, resting, published, metrics);
  ticker_options.interval = std::chrono::milliseconds(tick_ms);
  tp::execsim::Ticker ticker(rt->bus(), market, resting, order_states, metrics, ticker_options);
  tp::execsim::AddEndpoints(rt->router(), market, order_states, resting, handler.last_sequence());

  auto consumer = rt->bus().Subscribe(topology.Consumer("exec-sim-orders"));
  if (!consumer) {
    spdlog::critical("subscribe failed: {}", consumer.error());
    return 1;
  }
  auto in_venue_transit = std::make_unique<tp::execsim::LatencyConsumer>(
      std::move(*consumer), std::chrono::milliseconds(order_latency_ms), kMaxHeldInTransit,
      metrics.Gauge("tradepipe_execsim_orders_in_transit",
                    "orders fetched and waiting out the venue's latency (--order-latency-ms)"));
  tp::bus::ConsumerLoop loop(std::move(in_venue_transit), "exec-sim-orders", batch,
                             [&](std::vector<tp::bus::Message>& orders) { return handler.OnBatch(orders); });
  rt->ExportConsumer(loop);

  tp::execsim::CancelHandler cancels(ticker, metrics);
  auto cancel_consumer = rt->bus().Subscribe(topology.Consumer("exec-sim-cancels"));
  if (!cancel_consumer) {
    spdlog::critical("subscribe failed: {}", cancel_consumer.error());
    return 1;
  }
  auto cancels_in_transit = std::make_unique<tp::execsim::LatencyConsumer>(
      std::move(*cancel_consumer), std::chrono::milliseconds(cancel_latency_ms), kMaxHeldInTransit,
      metrics.Gauge("tradepipe_execsim_cancels_in_transit",
                    "cancel requests fetched and waiting out the venue's latency (--cancel-latency-ms)"));
  tp::bus::ConsumerLoop cancel_loop(std::move(cancels_in_transit), "exec-sim-cancels", batch,
                                    [&](std::vector<tp::bus::Message>& requests) { return cancels.OnBatch(requests); });
  rt->ExportConsumer(cancel_loop);
  ticker.Start();
  return rt->ServeUntilSignal([&] {
    cancel_loop.Stop();
    ticker.Stop();
    loop.Stop();
  });
}
