// The last state of the orders exec-sim executed, for GET /orders/{id}: status, quantities, average
// price, fills. Bounded: the newest `capacity` orders (the oldest is forgotten first); kept in
// memory only, so an order from before a restart is not found (its events are in EXECUTIONS and
// the audit). Thread-safe (one mutex: written by the consumer thread, read by HTTP threads).
//
// Written for every order exec-sim executes, so nothing is allocated per order once it is full:
// the states in a ring in insertion order (a forgotten one's place, and its id's buffer, serve
// the next) and a ProbeIndex from the id's hash into it (a node-based map here was the largest
// single cost of exec-sim's consumer thread in a drain, docs/trading-core.md §7).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resting.hpp"
#include "tradepipe/common/probe_index.hpp"
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
  explicit OrderStates(size_t capacity);  // at least 1
  // A repeat (an id already there) updates the state and keeps its place.
  void Record(std::string_view order_id, OrderState state);
  std::optional<OrderState> Find(std::string_view order_id) const;
  // {"order_id", "symbol", "side", "qty", "status", "filled_qty", "leaves_qty", "avg_price",
  // "fills", "sequence"}, written with a JSON writer.
  static std::string ToJson(const std::string& order_id, const OrderState& state);

 private:
  struct Entry {
    std::string order_id;
    uint64_t hash = 0;
    OrderState state;
  };
  static uint64_t HashOf(std::string_view order_id);
  size_t SlotOf(std::string_view order_id, uint64_t hash) const;

  const size_t capacity_;
  mutable std::mutex mu_;
  std::vector<Entry> ring_;  // grows to capacity_, then ring_[(head_ + i) % capacity_] is the i-th oldest
  size_t head_ = 0;
  ProbeIndex index_;  // id hash -> ring place
};

}  // namespace tradepipe::execsim
