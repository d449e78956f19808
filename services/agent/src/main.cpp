// agent: turns signals into orders or rejections; keeps positions from fills. Wiring only: the
// consumers' batches are handled in handlers.cpp, decisions made in decision.cpp.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "decider.hpp"
#include "handlers.hpp"
#include "positions.hpp"
#include "snapshot.hpp"
#include "tradepipe/common/clock.hpp"
#include "tradepipe/common/shutdown.hpp"
#include "tradepipe/events/subject.hpp"
#include "tradepipe/service/runtime.hpp"
#include "trading_state_admin.hpp"

namespace tp = tradepipe;

int main(int argc, char** argv) {
  tp::BlockShutdownSignals();
  tp::config::CommonConfig common;
  std::string max_order_qty = "1000";
  std::string trading_file;
  std::string admin_token;
  int batch = 1024;
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
  // One agent holds the account (its positions come from every fill): never a second one beside it.
  if (!rt->ExpectSoleConsumer({"agent-signals", "agent-fills"})) return 1;
  const auto& topology = tp::bus::DefaultTopology();

  auto& metrics = rt->metrics();

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
  admin.ExportMetrics(metrics);
  tp::agent::Decider decider(trading, positions, trading_state, decided);
  rt->ExportSeenIds("agent-decisions", decided);
  rt->ExportSeenIds("agent-fills", positions.applied());

  tp::agent::BatchHandlers handlers(rt->bus(), decider, decided, positions, metrics);

  rt->router().Get("/positions",
                   [&](const tp::http::Request&) { return tp::http::Json(200, positions.ToJson(tp::WallNanos())); });
  rt->router().Get("/admin/trading-state", [&](const tp::http::Request&) { return admin.Show(); });
  rt->router().Post("/admin/trading-state", [&](const tp::http::Request& r) { return admin.Switch(r); });

  auto signal_consumer = rt->bus().Subscribe(topology.Consumer("agent-signals"));
  auto fill_consumer = rt->bus().Subscribe(topology.Consumer("agent-fills"));
  if (!signal_consumer || !fill_consumer) {
    spdlog::critical("subscribe failed: {}", !signal_consumer ? signal_consumer.error() : fill_consumer.error());
    return 1;
  }
  tp::bus::ConsumerLoop signal_loop(std::move(*signal_consumer), "agent-signals", batch,
                                    [&](std::vector<tp::bus::Message>& b) { return handlers.OnSignals(b); });
  tp::bus::ConsumerLoop fill_loop(std::move(*fill_consumer), "agent-fills", batch,
                                  [&](std::vector<tp::bus::Message>& b) { return handlers.OnExecutions(b); });
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
