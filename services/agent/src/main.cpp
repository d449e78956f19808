// agent: turns signals into orders or rejections; keeps positions from fills. Wiring only; the
// decision logic lives in decision.cpp.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "decider.hpp"
#include "positions.hpp"
#include "snapshot.hpp"
#include "tradepipe/bus/forward.hpp"
#include "tradepipe/common/clock.hpp"
#include "tradepipe/common/shutdown.hpp"
#include "tradepipe/events/subject.hpp"
#include "tradepipe/service/consume_stages.hpp"
#include "tradepipe/service/runtime.hpp"
#include "trading_state_admin.hpp"

namespace tp = tradepipe;

int main(int argc, char** argv) {
  tp::BlockShutdownSignals();
  tp::config::CommonConfig common;
  std::string max_order_qty = "1000";
  std::string trading_file;
  std::string admin_token;
  int batch = 256;
  int64_t remembered_ids = 250'000;
  bool send_asap = false;
  bool allow_unproven = false;
  int snapshot_period_s = 60;
  tp::config::Settings settings("agent", "tradepipe agent: signals in, orders or rejections out");
  tp::config::AddCommon(settings, common, 8002);
  settings
      .Add("trading-file", trading_file,
           "JSON file of strategies (sizing), risk limits, quantity steps and the starting balance; see "
           "docs/trading-core.md")
      ->check(CLI::ExistingFile);
  settings
      .Add("admin-token", admin_token,
           "token for POST /admin/trading-state (Authorization: Bearer); empty: the switch is refused; at least "
           "16 characters")
      ->check(
          [](const std::string& v) { return v.empty() || v.size() >= 16 ? std::string() : "at least 16 characters"; });
  settings
      .Add("max-order-qty", max_order_qty, "largest order quantity (exact decimal); the file's risk.max_order_qty wins")
      ->check([](const std::string& v) {
        auto d = tp::events::Decimal::Parse(v);
        return !d ? d.error() : *d <= tp::events::Decimal() ? std::string("must be positive") : std::string();
      });
  settings.Add("batch", batch, "messages fetched per pull request")->check(CLI::Range(1, 4096));
  settings
      .Add("dedup-capacity", remembered_ids,
           "decision ids and fill ids remembered (each) to recognise repeats past the duplicate window")
      ->check(CLI::Range(int64_t{1000}, int64_t{100'000'000}));
  settings.AddFlag("send-asap", send_asap, "cnats SendAsap: lower latency, more nats-server CPU");
  settings
      .Add("snapshot-period-s", snapshot_period_s,
           "how often positions are snapshotted to AGENT_STATE while fills move them (they outlive EXECUTIONS' "
           "retention); also at start and stop")
      ->check(CLI::Range(1, 3600));
  settings.AddFlag("allow-unproven-positions", allow_unproven,
                   "start even when EXECUTIONS lost fills that no positions snapshot covers (positions then hold "
                   "only what is left; logged)");
  if (auto exit_code = settings.Parse(argc, argv)) return *exit_code;

  tp::agent::TradingConfig trading;
  if (!trading_file.empty()) {
    auto loaded = tp::agent::LoadTradingConfig(trading_file);
    if (!loaded) {
      std::fprintf(stderr, "agent: configuration error: --trading-file: %s\n", loaded.error().c_str());
      return 2;
    }
    trading = std::move(*loaded);
  }
  if (!trading.risk.max_order_qty) trading.risk.max_order_qty = *tp::events::Decimal::Parse(max_order_qty);

  auto rt = tp::service::Runtime::Start("agent", common, {.send_asap = send_asap});
  if (!rt) return 1;

  auto& metrics = rt->metrics();
  auto& signals = metrics.Counter("tradepipe_agent_signals_total", "signals decided (acked)");
  auto& orders = metrics.Counter("tradepipe_agent_orders_total", "orders published");
  auto& cancel_requests = metrics.Counter("tradepipe_agent_cancel_requests_total",
                                          "cancel requests published (cancel signals: one per open order)");
  auto& rejections = metrics.CounterFamily("tradepipe_agent_rejections_total",
                                           "signals (or a reverse's open order) rejected, by reason code");
  for (const auto reason : tp::agent::AllReasons()) rejections.Add({{"reason", std::string(reason)}});
  auto& state_gauge = metrics.GaugeFamily("tradepipe_agent_trading_state", "1 for the trading state in force");
  auto& fills = metrics.Counter("tradepipe_agent_fills_applied_total", "fills applied to positions");
  auto& open_orders = metrics.Gauge("tradepipe_agent_open_orders", "orders decided and not yet filled or ended");
  auto& forgotten_open = metrics.Counter("tradepipe_agent_open_orders_forgotten_total",
                                         "open orders forgotten at the bound (--dedup-capacity): no longer counted");
  auto& dead = metrics.Counter("tradepipe_agent_dead_letters_total", "unusable messages terminated");
  tp::service::ConsumeStages stages(metrics, "agent", "decide", "publish");
  auto& repeats = metrics.Counter("tradepipe_agent_repeated_decisions_total",
                                  "decisions not published again: already in ORDERS (a redelivered signal)");
  auto& fill_repeats =
      metrics.Counter("tradepipe_agent_repeated_fills_total", "fills not applied again: their fill id was applied");

  // Durable de-duplication, rebuilt from the streams before anything is decided: the decisions
  // already in ORDERS are never published again, and positions are the newest snapshot plus every
  // fill of EXECUTIONS after it.
  tp::bus::SeenIds decided(static_cast<size_t>(remembered_ids));
  tp::agent::Positions positions(static_cast<size_t>(remembered_ids));
  auto rebuilt = tp::agent::RebuildAccount(rt->bus(), decided, positions, allow_unproven);
  if (!rebuilt) {
    spdlog::critical("{}", rebuilt.error());
    return 1;
  }
  tp::agent::TradingStateSwitch trading_state;
  tp::agent::TradingStateAdmin admin(rt->bus(), trading_state, admin_token);
  if (auto restored = admin.Restore(rebuilt->snapshot_state); !restored) {
    spdlog::critical("{}", restored.error());
    return 1;
  }
  for (const auto state :
       {tp::agent::TradingState::kActive, tp::agent::TradingState::kReducing, tp::agent::TradingState::kHalted}) {
    auto& gauge = state_gauge.Add({{"state", std::string(tp::agent::ToName(state))}});
    metrics.OnCollect([&gauge, &trading_state, state] { gauge.Set(trading_state.Get() == state ? 1.0 : 0.0); });
  }
  tp::agent::Decider decider(trading, positions, trading_state, decided);
  metrics.OnCollect([&] {
    open_orders.Set(static_cast<double>(positions.open_orders()));
    forgotten_open.Increment(static_cast<double>(positions.forgotten_open_orders()) - forgotten_open.Value());
  });
  rt->ExportSeenIds("agent-decisions", decided);
  rt->ExportSeenIds("agent-fills", positions.applied());

  auto on_signals = [&](std::vector<tp::bus::Message>& batch_msgs) -> tp::Status {
    const int64_t consumed = tp::WallNanos();
    std::vector<std::string> reasons;  // per decided signal, empty for orders
    size_t order_count = 0;
    size_t cancel_count = 0;
    decider.BeginAttempt();
    const auto result = tp::bus::ForwardBatch(
        rt->bus(), batch_msgs,
        [&](tp::bus::Message& m) -> tp::Result<std::vector<tp::bus::OutgoingMessage>> {
          using R = tp::Result<std::vector<tp::bus::OutgoingMessage>>;
          stages.Consumed(m.stored_ns(), consumed);
          const int64_t start = tp::WallNanos();
          auto d = decider.Decide(m.data(), consumed, start);
          if (!d) return R::Error(d.error());
          stages.Worked(start, tp::WallNanos());
          reasons.push_back(d->reason.empty() ? d->partial_reason : d->reason);
          order_count += d->orders;
          cancel_count += d->cancels;
          return std::move(d->messages);
        },
        &decided);
    dead.Increment(static_cast<double>(result.dead));
    repeats.Increment(static_cast<double>(result.repeats));
    if (!result.status) {
      decider.AbandonAttempt();  // the batch is decided again on its retry
      return result.status;
    }
    stages.Durable(result.publish_ns, result.forwarded);
    orders.Increment(static_cast<double>(order_count));
    cancel_requests.Increment(static_cast<double>(cancel_count));
    for (const auto& reason : reasons) {
      signals.Increment();
      if (!reason.empty()) rejections.Add({{"reason", reason}}).Increment();
    }
    return {};
  };

  // Executions (fills, and the reports that end orders) publish nothing: the same ack/terminate path as signals, with
  // no outgoing events.
  auto on_fills = [&](std::vector<tp::bus::Message>& batch_msgs) -> tp::Status {
    const auto result = tp::bus::ForwardBatch(
        rt->bus(), batch_msgs,
        [&](tp::bus::Message& m) -> tp::Result<std::vector<tp::bus::OutgoingMessage>> {
          using R = tp::Result<std::vector<tp::bus::OutgoingMessage>>;
          auto applied = tp::agent::ApplyExecutionEvent(positions, m.data(), 0, m.stream_sequence());
          if (!applied) return R::Error(applied.error());
          switch (*applied) {
            case tp::agent::ApplyOutcome::kApplied:
              fills.Increment();
              break;
            case tp::agent::ApplyOutcome::kDuplicate:
              fill_repeats.Increment();
              break;
            case tp::agent::ApplyOutcome::kReport:
              break;
            case tp::agent::ApplyOutcome::kOutOfRange:  // terminated and counted as a dead letter
              return R::Error("fill would take its position out of range");
          }
          return std::vector<tp::bus::OutgoingMessage>{};
        },
        nullptr);
    dead.Increment(static_cast<double>(result.dead));
    return result.status;
  };

  rt->router().Get("/positions",
                   [&](const tp::http::Request&) { return tp::http::Json(200, positions.ToJson(tp::WallNanos())); });
  rt->router().Get("/admin/trading-state", [&](const tp::http::Request&) { return admin.Show(); });
  rt->router().Post("/admin/trading-state", [&](const tp::http::Request& r) { return admin.Switch(r); });

  const auto& topology = tp::bus::DefaultTopology();
  auto signal_consumer = rt->bus().Subscribe(topology.Consumer("agent-signals"));
  auto fill_consumer = rt->bus().Subscribe(topology.Consumer("agent-fills"));
  if (!signal_consumer || !fill_consumer) {
    spdlog::critical("subscribe failed: {}", !signal_consumer ? signal_consumer.error() : fill_consumer.error());
    return 1;
  }
  tp::bus::ConsumerLoop signal_loop(std::move(*signal_consumer), "agent-signals", batch, on_signals);
  tp::bus::ConsumerLoop fill_loop(std::move(*fill_consumer), "agent-fills", batch, on_fills);
  rt->ExportConsumer(signal_loop);
  rt->ExportConsumer(fill_loop);
  admin.Follow(std::chrono::seconds(1));
  tp::agent::SnapshotWriter snapshots(rt->bus(), positions, trading_state, rebuilt->executions_created_ns, metrics);
  (void)snapshots.Write();  // the rebuilt account at once (a failure is logged, counted and retried)
  snapshots.Start(std::chrono::seconds(snapshot_period_s));
  return rt->ServeUntilSignal([&] {
    admin.StopFollowing();
    signal_loop.Stop();
    fill_loop.Stop();
    snapshots.Stop();  // the last fills applied
  });
}
