// exec-sim: fills orders against a seeded simulated market. Wiring only; see market.cpp.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

#include "endpoints.hpp"
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
  int64_t remembered_orders = 100'000;
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
  market_options.depth_qty = *tp::events::Decimal::Parse(depth_qty);
  const tp::execsim::Market market(market_options);
  tp::execsim::OrderStates order_states(static_cast<size_t>(remembered_orders));
  std::atomic<uint64_t> last_sequence{0};  // of the last order executed: the market's clock

  auto& metrics = rt->metrics();
  auto& orders = metrics.Counter("tradepipe_execsim_orders_total", "orders executed (acked)");
  auto& fills = metrics.Counter("tradepipe_execsim_fills_total", "fills published");
  auto& ended = metrics.CounterFamily("tradepipe_execsim_unfilled_total",
                                      "orders ended with quantity left, by status (cancelled: IOC/FOK/market "
                                      "rest; expired: a DAY/GTC limit rest, resting not built; rejected: "
                                      "by the venue, --reject-bps)");
  for (const char* status : {"cancelled", "expired", "rejected"}) ended.Add({{"status", status}});  // exported at 0
  auto& partial = metrics.Counter("tradepipe_execsim_multi_level_orders_total",
                                  "orders that took more than one level of the book (slippage)");
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
    std::vector<std::pair<std::string, tp::execsim::OrderState>> states;
    const auto result = tp::bus::ForwardBatch(
        rt->bus(), batch_msgs,
        [&](tp::bus::Message& m) -> tp::Result<std::vector<tp::bus::OutgoingMessage>> {
          using R = tp::Result<std::vector<tp::bus::OutgoingMessage>>;
          stages.Consumed(m.stored_ns(), consumed);
          const int64_t start = tp::WallNanos();
          auto order = tp::events::ParseEnvelope(m.data());
          if (!order) return R::Error(order.error());
          const uint64_t sequence = m.stream_sequence();
          auto ex = tp::execsim::Execute(*order, sequence, market, consumed, tp::WallNanos());
          if (!ex) return R::Error(ex.error());
          stages.Worked(start, tp::WallNanos());
          states.emplace_back(order->id,
                              tp::execsim::OrderState{order->symbol, ex->side, ex->qty, ex->status, ex->filled_qty,
                                                      ex->qty - ex->filled_qty, ex->avg_price, ex->fills, sequence});
          return std::move(ex->messages);
        },
        &published);
    dead.Increment(static_cast<double>(result.dead));
    repeats.Increment(static_cast<double>(result.repeats));
    if (!result.status) return result.status;
    stages.Durable(result.publish_ns, result.forwarded);
    orders.Increment(static_cast<double>(result.forwarded));
    for (auto& [id, state] : states) {
      fills.Increment(static_cast<double>(state.fills));
      if (state.fills > 1) partial.Increment();
      if (state.status != "filled") ended.Add({{"status", state.status}}).Increment();
      last_sequence.store(std::max(last_sequence.load(), state.sequence));
      order_states.Record(id, std::move(state));
    }
    return {};
  };

  tp::execsim::AddEndpoints(rt->router(), market, order_states, last_sequence);

  auto consumer = rt->bus().Subscribe(tp::bus::DefaultTopology().Consumer("exec-sim-orders"));
  if (!consumer) {
    spdlog::critical("subscribe failed: {}", consumer.error());
    return 1;
  }
  tp::bus::ConsumerLoop loop(std::move(*consumer), "exec-sim-orders", batch, on_orders);
  rt->ExportConsumer(loop);
  return rt->ServeUntilSignal([&] { loop.Stop(); });
}
