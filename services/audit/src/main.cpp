// audit: records every event of every stream in SQLite and serves traces. Wiring only; see store.cpp.
#include <spdlog/spdlog.h>

#include "advisory.hpp"
#include "batch_recorder.hpp"
#include "store.hpp"
#include "tradepipe/common/clock.hpp"
#include "tradepipe/common/percent.hpp"
#include "tradepipe/common/shutdown.hpp"
#include "tradepipe/events/subject.hpp"
#include "tradepipe/service/runtime.hpp"

namespace tp = tradepipe;

int main(int argc, char** argv) {
  tp::BlockShutdownSignals();
  tp::config::CommonConfig common;
  std::string db_path = "tradepipe-audit.db";
  int batch = 512;
  bool send_asap = false;
  tp::config::Settings settings("audit", "tradepipe audit: every event recorded, traces served");
  tp::config::AddCommon(settings, common, 8005);
  settings.Add("db", db_path, "SQLite database file (created if absent)");
  settings.Add("batch", batch, "messages fetched (and committed) per pull request")->check(CLI::Range(1, 8192));
  settings.AddFlag("send-asap", send_asap, "cnats SendAsap: lower latency, more nats-server CPU");
  if (auto exit_code = settings.Parse(argc, argv)) return *exit_code;

  auto rt = tp::service::Runtime::Start("audit", common, {.send_asap = send_asap});
  if (!rt) return 1;
  auto store = tp::audit::AuditStore::Open(db_path);
  if (!store) {
    spdlog::critical("audit database: {}", store.error());
    return 1;
  }
  spdlog::info("audit database path={}", db_path);

  auto& metrics = rt->metrics();
  auto& wal_frames =
      metrics.Gauge("tradepipe_audit_wal_frames",
                    "4 KiB pages in SQLite's WAL as of the last checkpoint; it starts over at 65,536 (256 MiB)");
  metrics.OnCollect([&wal_frames, &db = **store] { wal_frames.Set(static_cast<double>(db.wal_frames())); });
  tp::audit::BatchRecorder recorder(**store, metrics);
  auto& dead = recorder.dead_letters();

  auto& given_up = metrics.CounterFamily("tradepipe_audit_given_up_total",
                                         "messages a consumer gave up on (max deliveries, terminated), recorded");
  // A consumer gave messages up: record each with the original message, read back from its stream.
  const auto own_copies = tp::audit::StoreCopies(**store, tp::bus::DefaultTopology());
  auto on_advisories = [&](std::vector<tp::bus::Message>& msgs) -> tp::Status {
    auto resolved = tp::audit::ResolveAdvisories(rt->bus(), msgs, tp::WallNanos(), own_copies);
    if (!resolved) return tp::Status::Error(resolved.error());  // retried
    if (!resolved->unreadable.empty()) {
      auto r = (*store)->Record({}, resolved->unreadable);
      if (!r) return tp::Status::Error("audit commit: " + r.error());
      dead.Increment(static_cast<double>(resolved->unreadable.size()));
    }
    auto inserted = (*store)->RecordGivenUp(resolved->given_up);
    if (!inserted) return tp::Status::Error("audit commit: " + inserted.error());
    for (auto& m : msgs) (void)m.Ack();
    for (const auto& g : resolved->given_up) given_up.Add({{"kind", g.kind}, {"consumer", g.consumer}}).Increment();
    return {};
  };

  rt->router().Get("/dead-letters", [&](const tp::http::Request&) {
    constexpr int kLimit = 100;
    auto dead_letters = (*store)->DeadLetters(kLimit);
    auto gave_up = (*store)->GivenUp(kLimit);
    if (!dead_letters || !gave_up) {
      spdlog::error("dead letters query failed error={}", !dead_letters ? dead_letters.error() : gave_up.error());
      return tp::http::JsonError(500, "query_failed", "the audit database could not be read");
    }
    return tp::http::Json(200, tp::audit::DeadLettersJson(*dead_letters, *gave_up));
  });

  rt->router().Get("/trace", [](const tp::http::Request&) {
    return tp::http::JsonError(404, "not_found", "use /trace/{correlation_id}");
  });
  // Exact routes come first; everything under /trace/ is a correlation id (percent-decoded).
  rt->router().GetPrefix("/trace/", [&](const tp::http::Request& req) {
    const std::string id = tp::PercentDecode(req.path().substr(std::string_view("/trace/").size()));
    auto rows = (*store)->Trace(id);
    if (!rows) {
      spdlog::error("trace query failed error={}", rows.error());
      return tp::http::JsonError(500, "query_failed", "the audit database could not be read");
    }
    if (rows->empty()) return tp::http::JsonError(404, "unknown_correlation_id", "no events for this correlation id");
    return tp::http::Json(200, tp::audit::TraceJson(id, *rows));
  });

  const auto& topology = tp::bus::DefaultTopology();
  std::vector<std::unique_ptr<tp::bus::ConsumerLoop>> loops;
  for (const auto& [durable, stream] : {std::pair{"audit-signals", "SIGNALS"}, std::pair{"audit-orders", "ORDERS"},
                                        std::pair{"audit-executions", "EXECUTIONS"}}) {
    auto consumer = rt->bus().Subscribe(topology.Consumer(durable));
    if (!consumer) {
      spdlog::critical("subscribe failed: {}", consumer.error());
      return 1;
    }
    loops.push_back(
        std::make_unique<tp::bus::ConsumerLoop>(std::move(*consumer), durable, batch, recorder.HandlerFor(stream)));
    rt->ExportConsumer(*loops.back());
  }
  for (const char* durable : {"audit-max-deliveries", "audit-terminated"}) {
    auto consumer = rt->bus().Subscribe(topology.Consumer(durable));
    if (!consumer) {
      spdlog::critical("subscribe failed: {}", consumer.error());
      return 1;
    }
    loops.push_back(std::make_unique<tp::bus::ConsumerLoop>(std::move(*consumer), durable, batch, on_advisories));
    rt->ExportConsumer(*loops.back());
  }
  return rt->ServeUntilSignal([&] {
    for (auto& loop : loops) loop->Stop();
  });
}
