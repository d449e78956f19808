#include "decision.hpp"

#include "tradepipe/events/ids.hpp"
#include "tradepipe/events/subject.hpp"

namespace tradepipe::agent {

Result<Decision> Decide(const events::Envelope& signal, const RiskLimits& limits, int64_t consumed_ns,
                        int64_t decided_ns) {
  if (signal.type != events::kTypeSignal) return Result<Decision>::Error("not a signal: " + signal.type);
  if (signal.symbol.empty()) return Result<Decision>::Error("signal without symbol");
  auto payload = events::ParseSignalPayload(signal.payload);
  if (!payload) return Result<Decision>::Error("signal payload: " + payload.error());
  if (payload->qty <= events::Decimal()) return Result<Decision>::Error("signal qty must be positive");

  Decision d;
  const std::string id = events::DecisionId(signal.id);
  if (payload->qty > limits.max_order_qty) {
    d.rejected = true;
    d.reason = kReasonMaxOrderQty;
    d.event = signal.Child(events::kTypeOrderRejected, id);
    d.event.payload = events::ToJson(events::RejectionPayload{
        id, d.reason,
        "qty " + payload->qty.ToString() + " exceeds the maximum order quantity " + limits.max_order_qty.ToString()});
  } else {
    d.event = signal.Child(events::kTypeOrder, id);
    events::OrderPayload order;
    order.order_id = id;
    order.side = payload->action;
    order.qty = payload->qty;
    order.order_type = payload->order_type;
    if (payload->order_type == "limit") order.limit_price = payload->price;
    d.event.payload = events::ToJson(order);
  }
  d.event.AddStamp("agent_consumed", consumed_ns);
  d.event.AddStamp("decided", decided_ns);
  d.message.subject = d.rejected ? events::RejectionSubject(signal.symbol) : events::OrderSubject(signal.symbol);
  d.message.msg_id = id;
  d.message.data = events::Serialize(d.event);
  return d;
}

}  // namespace tradepipe::agent
