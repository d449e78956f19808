#include "order_states.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

namespace tradepipe::execsim {

OrderState RestingState(const RestingOrder& order, std::string status, uint64_t sequence) {
  return {order.parent.symbol,
          order.side,
          order.qty,
          std::move(status),
          order.cum,
          order.leaves(),
          order.avg_price,
          static_cast<size_t>(order.fills),
          sequence};
}

OrderStates::OrderStates(size_t capacity) : capacity_(capacity) {
  states_.reserve(std::min<size_t>(capacity, 1 << 20));  // no rehash on the way to a usual bound
}

void OrderStates::Record(std::string order_id, OrderState state) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = states_.insert_or_assign(std::move(order_id), std::move(state));
  if (!inserted) return;  // a repeat: the same order, its place kept
  order_.push_back(&it->first);
  while (order_.size() > capacity_) {
    states_.erase(states_.find(*order_.front()));  // by iterator: the key lives in the node erased
    order_.pop_front();
  }
}

std::optional<OrderState> OrderStates::Find(const std::string& order_id) const {
  std::lock_guard lock(mu_);
  auto it = states_.find(order_id);
  if (it == states_.end()) return std::nullopt;
  return it->second;
}

std::string OrderStates::ToJson(const std::string& order_id, const OrderState& s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto text = [&](const char* key, std::string_view value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  text("order_id", order_id);
  text("symbol", s.symbol);
  text("side", events::ToString(s.side));
  text("qty", s.qty.ToString());
  text("status", s.status);
  text("filled_qty", s.filled_qty.ToString());
  text("leaves_qty", s.leaves_qty.ToString());
  text("avg_price", s.avg_price.ToString());
  w.Key("fills");
  w.Uint64(s.fills);
  w.Key("sequence");
  w.Uint64(s.sequence);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace tradepipe::execsim
