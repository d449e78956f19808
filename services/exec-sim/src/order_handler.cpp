#include "order_handler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "tradepipe/bus/forward.hpp"
#include "tradepipe/common/clock.hpp"
#include "tradepipe/events/ids.hpp"
#include "tradepipe/service/consume_stages.hpp"

namespace tradepipe::execsim {

OrderHandler::OrderHandler(bus::Bus& bus, const Market& market, OrderStates& states, RestingBook& resting,
                           bus::SeenIds& published, metrics::Metrics& metrics)
    : publisher_(bus.NewBatchPublisher()),
      market_(market),
      states_(states),
      resting_(resting),
      published_(published),
      orders_(metrics.Counter("tradepipe_execsim_orders_total", "orders executed (acked)")),
      fills_(metrics.Counter("tradepipe_execsim_fills_total", "fills of arriving orders published")),
      ended_(metrics.CounterFamily("tradepipe_execsim_unfilled_total",
                                   "arriving orders ended with quantity left, by status (cancelled: IOC/FOK/market "
                                   "rest, or a DAY/GTC rest when the resting book is full; rejected: by the venue, "
                                   "--reject-bps)")),
      multi_level_(metrics.Counter("tradepipe_execsim_multi_level_orders_total",
                                   "orders that took more than one level of the book (slippage)")),
      rested_(metrics.Counter("tradepipe_execsim_rested_orders_total",
                              "DAY/GTC limit orders accepted to rest with quantity left")),
      resting_full_(metrics.Counter("tradepipe_execsim_resting_full_total",
                                    "DAY/GTC rests cancelled because the resting book was full (--max-resting)")),
      dead_(metrics.Counter("tradepipe_execsim_dead_letters_total", "unusable messages terminated")),
      repeats_(metrics.Counter("tradepipe_execsim_repeated_outputs_total",
                               "reports and fills not published again: already in EXECUTIONS (a repeated order)")),
      stages_(std::make_unique<service::ConsumeStages>(metrics, "execsim", "fill", "publish")) {
  for (const char* status : {"cancelled", "rejected"}) ended_.Add({{"status", status}});  // exported at 0
}

OrderHandler::~OrderHandler() = default;

Status OrderHandler::OnBatch(std::vector<bus::Message>& batch) {
  // Read once per batch: the ticker only frees places meanwhile, so this errs on the safe side.
  const size_t room_at_start = resting_.Room();
  std::vector<std::pair<std::string, OrderState>> states;
  PlacedOrders rests;  // added once the batch is published
  size_t full = 0;
  const auto result = bus::ForwardBatch(
      *publisher_, batch,
      [&](bus::Message& m) -> Result<std::vector<bus::OutgoingMessage>> {
        using R = Result<std::vector<bus::OutgoingMessage>>;
        // Fetched then; it meets the market now (later by the venue's latency, order_latency.hpp).
        const int64_t consumed = m.received_ns() != 0 ? m.received_ns() : WallNanos();
        stages_->Consumed(m.stored_ns(), consumed);
        const int64_t start = WallNanos();
        auto order = events::ParseEnvelope(m.data());
        if (!order) return R::Error(order.error());
        const uint64_t sequence = m.stream_sequence();
        const size_t room = room_at_start - std::min(room_at_start, rests.size());  // this batch's take theirs
        auto ex = Execute(*order, sequence, market_, consumed, WallNanos(), room);
        if (!ex) return R::Error(ex.error());
        stages_->Worked(start, WallNanos());
        if (ex->rest && !published_.Contains(bus::SeenIds::Digest(events::ReportId(order->id, 1)))) {
          rests.emplace_back(order->id, std::move(*ex->rest));
        }
        for (auto& [exit_id, exit] : ex->exits) {
          if (!published_.Contains(bus::SeenIds::Digest(events::ReportId(exit_id, 1)))) {
            rests.emplace_back(exit_id, std::move(exit));
          }
        }
        if (ex->rest_refused) ++full;
        states.emplace_back(order->id, OrderState{order->symbol, ex->side, ex->qty, ex->status, ex->filled_qty,
                                                  ex->qty - ex->filled_qty, ex->avg_price, ex->fills, sequence});
        return std::move(ex->messages);
      },
      &published_);
  dead_.Increment(static_cast<double>(result.dead));
  repeats_.Increment(static_cast<double>(result.repeats));
  if (!result.status) return result.status;
  stages_->Durable(result.publish_ns, result.forwarded);
  orders_.Increment(static_cast<double>(result.forwarded));
  for (auto& [id, order] : rests) resting_.Add(id, std::move(order));
  rested_.Increment(static_cast<double>(rests.size()));
  if (full > 0) {
    resting_full_.Increment(static_cast<double>(full));
    spdlog::warn("resting book full (--max-resting {}): {} DAY/GTC rests cancelled", resting_.capacity(), full);
  }
  for (auto& [id, state] : states) {
    fills_.Increment(static_cast<double>(state.fills));
    if (state.fills > 1) multi_level_.Increment();
    if (state.status == "cancelled" || state.status == "rejected") ended_.Add({{"status", state.status}}).Increment();
    last_sequence_.store(std::max(last_sequence_.load(), state.sequence));
    states_.Record(std::move(id), std::move(state));
  }
  return {};
}

}  // namespace tradepipe::execsim
