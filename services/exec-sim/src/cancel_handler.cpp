#include "cancel_handler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "tradepipe/events/envelope.hpp"

namespace tradepipe::execsim {
namespace {

// The order a cancel request names, or why the message is not one.
Result<std::string> CancelledOrderOf(std::string_view data) {
  auto e = events::ParseEnvelope(data);
  if (!e) return Result<std::string>::Error(e.error());
  if (e->type != events::kTypeOrderCancel) return Result<std::string>::Error("type " + e->type + ": not order_cancel");
  auto p = events::ParseOrderCancelPayload(e->payload);
  if (!p) return Result<std::string>::Error(p.error());
  return std::move(p->order_id);
}

}  // namespace

CancelHandler::CancelHandler(Ticker& ticker, metrics::Metrics& metrics)
    : ticker_(ticker),
      requests_(metrics.CounterFamily("tradepipe_execsim_cancel_requests_total",
                                      "cancel requests handled, by result (cancelled: the order rested and is "
                                      "cancelled; not_resting: filled, ended or unknown by then, nothing changed)")),
      cancelled_(requests_.Add({{"result", "cancelled"}})),
      not_resting_(requests_.Add({{"result", "not_resting"}})),
      dead_(metrics.Counter("tradepipe_execsim_dead_cancels_total", "unusable cancel requests terminated")) {}

Status CancelHandler::OnBatch(std::vector<bus::Message>& batch) {
  std::vector<std::string> order_ids;
  std::vector<bus::Message*> requests;
  for (bus::Message& m : batch) {
    auto order_id = CancelledOrderOf(m.data());
    if (!order_id) {
      spdlog::warn("cancel request terminated (unusable) stream_seq={} error={}", m.stream_sequence(),
                   order_id.error());
      (void)m.Term();
      dead_.Increment();
      continue;
    }
    order_ids.push_back(std::move(*order_id));
    requests.push_back(&m);
  }
  if (order_ids.empty()) return {};
  auto cancelled = ticker_.Cancel(order_ids);
  if (!cancelled) return Status::Error(cancelled.error());
  cancelled_.Increment(static_cast<double>(*cancelled));
  if (const size_t late = order_ids.size() - std::min(order_ids.size(), *cancelled); late > 0) {
    not_resting_.Increment(static_cast<double>(late));
    spdlog::info("cancel requests: {} of {} named an order resting no more (filled, ended or unknown): nothing changed",
                 late, order_ids.size());
  }
  for (bus::Message* m : requests) (void)m->Ack();
  return {};
}

}  // namespace tradepipe::execsim
