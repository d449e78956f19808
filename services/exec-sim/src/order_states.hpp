// The last state of the orders exec-sim executed, for GET /orders/{id}: status, quantities, average
// price, fills. Bounded: the newest `capacity` orders (the oldest is forgotten first); kept in
// memory only, so an order from before a restart is not found (its events are in EXECUTIONS and
// the audit). Thread-safe (one mutex: written by the consumer thread, read by HTTP threads).
#pragma once

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "resting.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::execsim {

struct OrderState {
  std::string symbol;
  events::Side side = events::Side::kBuy;
  events::Decimal qty;
  std::string status;  // filled, accepted (resting), partial (resting), cancelled, expired, rejected
  events::Decimal filled_qty;
  events::Decimal leaves_qty;
  events::Decimal avg_price;
  size_t fills = 0;
  uint64_t sequence = 0;  // in ORDERS: the market it met
};

// The state of a resting order (after a tick: `status` partial, filled or expired); `sequence` the
// ORDERS sequence it arrived at, 0 when not known (rebuilt after a restart).
OrderState RestingState(const RestingOrder& order, std::string status, uint64_t sequence);

class OrderStates {
 public:
  explicit OrderStates(size_t capacity);
  void Record(std::string order_id, OrderState state);
  std::optional<OrderState> Find(const std::string& order_id) const;
  // {"order_id", "symbol", "side", "qty", "status", "filled_qty", "leaves_qty", "avg_price",
  // "fills", "sequence"}, written with a JSON writer.
  static std::string ToJson(const std::string& order_id, const OrderState& state);

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, OrderState> states_;
  std::deque<const std::string*> order_;  // the map's own keys (nodes do not move), oldest first
};

}  // namespace tradepipe::execsim
