#include "handlers.hpp"

#include <string>

#include "tradepipe/bus/forward.hpp"
#include "tradepipe/common/clock.hpp"
#include "tradepipe/service/consume_stages.hpp"

namespace tradepipe::agent {

using Outgoing = Result<std::vector<bus::OutgoingMessage>>;

BatchHandlers::BatchHandlers(bus::Bus& bus, Decider& decider, bus::SeenIds& decided, Positions& positions,
                             metrics::Metrics& metrics)
    : signal_publisher_(bus.NewBatchPublisher()),
      execution_publisher_(bus.NewBatchPublisher()),
      decider_(decider),
      decided_(decided),
      positions_(positions),
      signals_(metrics.Counter("tradepipe_agent_signals_total", "signals decided (acked)")),
      orders_(metrics.Counter("tradepipe_agent_orders_total", "orders published")),
      cancel_requests_(metrics.Counter("tradepipe_agent_cancel_requests_total",
                                       "cancel requests published (cancel signals: one per open order)")),
      rejections_(metrics.CounterFamily("tradepipe_agent_rejections_total",
                                        "signals (or a reverse's open order) rejected, by reason code")),
      fills_(metrics.Counter("tradepipe_agent_fills_applied_total", "fills applied to positions")),
      fill_repeats_(metrics.Counter("tradepipe_agent_repeated_fills_total",
                                    "fills not applied again: their fill id was applied")),
      repeats_(metrics.Counter("tradepipe_agent_repeated_decisions_total",
                               "decisions not published again: already in ORDERS (a redelivered signal)")),
      dead_(metrics.Counter("tradepipe_agent_dead_letters_total", "unusable messages terminated")),
      stages_(std::make_unique<service::ConsumeStages>(metrics, "agent", "decide", "publish")) {
  for (const auto reason : AllReasons()) rejections_.Add({{"reason", std::string(reason)}});  // exported at 0
  auto& open_orders = metrics.Gauge("tradepipe_agent_open_orders", "orders decided and not yet filled or ended");
  auto& forgotten_open = metrics.Counter("tradepipe_agent_open_orders_forgotten_total",
                                         "open orders forgotten at the bound (--dedup-capacity): no longer counted");
  metrics.OnCollect([&open_orders, &forgotten_open, &positions] {
    open_orders.Set(static_cast<double>(positions.open_orders()));
    forgotten_open.Increment(static_cast<double>(positions.forgotten_open_orders()) - forgotten_open.Value());
  });
}

BatchHandlers::~BatchHandlers() = default;

Status BatchHandlers::OnSignals(std::vector<bus::Message>& batch) {
  const int64_t consumed = WallNanos();
  std::vector<std::string> reasons;  // per decided signal, empty for orders
  size_t order_count = 0;
  size_t cancel_count = 0;
  decider_.BeginAttempt();
  const auto result = bus::ForwardBatch(
      *signal_publisher_, batch,
      [&](bus::Message& m) -> Outgoing {
        stages_->Consumed(m.stored_ns(), consumed);
        const int64_t start = WallNanos();
        auto d = decider_.Decide(m.data(), consumed, start);
        if (!d) return Outgoing::Error(d.error());
        stages_->Worked(start, WallNanos());
        reasons.push_back(d->reason.empty() ? d->partial_reason : d->reason);
        order_count += d->orders;
        cancel_count += d->cancels;
        return std::move(d->messages);
      },
      &decided_);
  dead_.Increment(static_cast<double>(result.dead));
  repeats_.Increment(static_cast<double>(result.repeats));
  if (!result.status) {
    decider_.AbandonAttempt();  // the batch is decided again on its retry
    return result.status;
  }
  stages_->Durable(result.publish_ns, result.forwarded);
  orders_.Increment(static_cast<double>(order_count));
  cancel_requests_.Increment(static_cast<double>(cancel_count));
  for (const auto& reason : reasons) {
    signals_.Increment();
    if (!reason.empty()) rejections_.Add({{"reason", reason}}).Increment();
  }
  return {};
}

Status BatchHandlers::OnExecutions(std::vector<bus::Message>& batch) {
  // Executions (fills, and the reports that end orders) publish nothing: the same ack/terminate
  // path as signals, with no outgoing events.
  const auto result = bus::ForwardBatch(
      *execution_publisher_, batch,
      [&](bus::Message& m) -> Outgoing {
        auto applied = ApplyExecutionEvent(positions_, m.data(), 0, m.stream_sequence());
        if (!applied) {
          positions_.Saw(m.stream_sequence());  // terminated: done with
          return Outgoing::Error(applied.error());
        }
        switch (*applied) {
          case ApplyOutcome::kApplied:
            fills_.Increment();
            break;
          case ApplyOutcome::kDuplicate:
            fill_repeats_.Increment();
            break;
          case ApplyOutcome::kReport:
            break;
          case ApplyOutcome::kOutOfRange:  // terminated and counted as a dead letter
            return Outgoing::Error("fill would take its position out of range");
        }
        return std::vector<bus::OutgoingMessage>{};
      },
      nullptr);
  dead_.Increment(static_cast<double>(result.dead));
  return result.status;
}

}  // namespace tradepipe::agent
