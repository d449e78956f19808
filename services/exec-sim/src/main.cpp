// exec-sim: fills orders against a seeded simulated market. Wiring only; see market.cpp.
#include <spdlog/spdlog.h>

#include "market.hpp"
#include "tradepipe/bus/forward.hpp"
#include "tradepipe/common/clock.hpp"
#include "tradepipe/common/shutdown.hpp"
#include "tradepipe/service/consume_stages.hpp"
#include "tradepipe/service/runtime.hpp"

namespace tp = tradepipe;

int main(int argc, char** argv) {
  tp::BlockShutdownSignals();
  tp::config::CommonConfig common;
  tp::execsim::MarketOptions market_options;
  int batch = 256;
  int64_t remembered_ids = 250'000;
  bool send_asap = false;
  tp::config::Settings settings("exec-sim", "tradepipe exec-sim: orders in, execution reports and fills out");
  tp::config::AddCommon(settings, common, 8004);
  settings.Add("seed", market_options.seed, "market seed: same seed and orders, same fills");
  settings.Add("spread-bps", market_options.spread_bps, "bid-ask spread, basis points")->check(CLI::Range(0, 10'000));
  settings.Add("jitter-bps", market_options.jitter_bps, "per-order mid jitter, ± basis points")
      ->check(CLI::Range(0, 5'000));
  settings.Add("batch", batch, "messages fetched per pull request")->check(CLI::Range(1, 4096));
  settings
      .Add("dedup-capacity", remembered_ids,
           "report and fill ids remembered to recognise repeated orders past the duplicate window")
      ->check(CLI::Range(int64_t{1000}, int64_t{100'000'000}));
  settings.AddFlag("send-asap", send_asap, "cnats SendAsap: lower latency, more nats-server CPU");
  if (auto exit_code = settings.Parse(argc, argv)) return *exit_code;

  auto rt = tp::service::Runtime::Start("exec-sim", common, {.send_asap = send_asap});
  if (!rt) return 1;
  const tp::execsim::Market market(market_options);

  auto& metrics = rt->metrics();
  auto& orders = metrics.Counter("tradepipe_execsim_orders_total", "orders executed (acked)");
  auto& fills = metrics.Counter("tradepipe_execsim_fills_total", "fills published");
  auto& expired = metrics.Counter("tradepipe_execsim_expired_total", "limit orders expired unfilled");
  auto& dead = metrics.Counter("tradepipe_execsim_dead_letters_total", "unusable messages terminated");
  tp::service::ConsumeStages stages(metrics, "execsim", "fill", "publish");

  auto& repeats = metrics.Counter("tradepipe_execsim_repeated_outputs_total",
                                  "reports and fills not published again: already in EXECUTIONS (a repeated order)");
  // Durable de-duplication, rebuilt before the first order: whatever is in EXECUTIONS already is
  // never published again, however late a repeated order comes.
  tp::bus::SeenIds published(static_cast<size_t>(remembered_ids));
  auto remembered = tp::bus::RememberPublished(rt->bus(), "EXECUTIONS", "exec.>", published);
  if (!remembered) {
    spdlog::critical("rebuilding executions from EXECUTIONS: {}", remembered.error());
    return 1;
  }
  spdlog::info("executions already in EXECUTIONS remembered={}", *remembered);
  rt->ExportSeenIds("execsim-outputs", published);

  auto on_orders = [&](std::vector<tp::bus::Message>& batch_msgs) -> tp::Status {
    const int64_t consumed = tp::WallNanos();
    size_t filled = 0, unfilled = 0;
    const auto result = tp::bus::ForwardBatch(
        rt->bus(), batch_msgs,
        [&](tp::bus::Message& m) -> tp::Result<std::vector<tp::bus::OutgoingMessage>> {
          using R = tp::Result<std::vector<tp::bus::OutgoingMessage>>;
          stages.Consumed(m.stored_ns(), consumed);
          const int64_t start = tp::WallNanos();
          auto order = tp::events::ParseEnvelope(m.data());
          if (!order) return R::Error(order.error());
          auto ex = tp::execsim::Execute(*order, market, consumed, tp::WallNanos());
          if (!ex) return R::Error(ex.error());
          stages.Worked(start, tp::WallNanos());
          ++(ex->filled ? filled : unfilled);
          return std::move(ex->messages);
        },
        &published);
    dead.Increment(static_cast<double>(result.dead));
    repeats.Increment(static_cast<double>(result.repeats));
    if (!result.status) return result.status;
    stages.Durable(result.publish_ns, result.forwarded);
    orders.Increment(static_cast<double>(result.forwarded));
    fills.Increment(static_cast<double>(filled));
    expired.Increment(static_cast<double>(unfilled));
    return {};
  };

  auto consumer = rt->bus().Subscribe(tp::bus::DefaultTopology().Consumer("exec-sim-orders"));
  if (!consumer) {
    spdlog::critical("subscribe failed: {}", consumer.error());
    return 1;
  }
  tp::bus::ConsumerLoop loop(std::move(*consumer), "exec-sim-orders", batch, on_orders);
  rt->ExportConsumer(loop);
  return rt->ServeUntilSignal([&] { loop.Stop(); });
}
