#include "decider.hpp"

namespace tradepipe::agent {

Result<Decision> Decider::Decide(std::string_view data, int64_t consumed_ns, int64_t now_ns) {
  auto signal = events::ParseEnvelope(data);
  if (!signal) return Result<Decision>::Error(signal.error());
  DecisionContext context{&config_, positions_.View(signal->symbol, now_ns), state_.Get(), consumed_ns, now_ns, {}};
  context.open_orders = [&] { return positions_.OpenOrdersOf(signal->symbol); };
  auto d = agent::Decide(*signal, context, throttle_);
  if (!d) return d;
  // Open before published, so that no fill can come first; not again for a decision already in
  // ORDERS (a redelivered signal: its order may be filled and closed).
  for (const auto& [order_id, order] : d->placed) {
    if (decided_.Contains(bus::SeenIds::Digest(order_id))) continue;
    if (positions_.OpenOrder(order_id, signal->symbol, order.side, order.qty)) opened_.push_back(order_id);
  }
  return d;
}

void Decider::AbandonAttempt() {
  // One that was stored after all and is filled first is opened for what is left (positions.hpp).
  for (const auto& id : opened_) positions_.CloseOrder(id);
  opened_.clear();
}

}  // namespace tradepipe::agent
