#include "order_states.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <functional>

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

OrderStates::OrderStates(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)), index_(capacity_) {
  ring_.reserve(std::min<size_t>(capacity_, 1 << 20));  // address space only until used; no moves on the way
}

uint64_t OrderStates::HashOf(std::string_view order_id) { return std::hash<std::string_view>{}(order_id); }

size_t OrderStates::SlotOf(std::string_view order_id, uint64_t hash) const {
  return index_.SlotOf(hash,
                       [&](uint32_t place) { return ring_[place].hash == hash && ring_[place].order_id == order_id; });
}

void OrderStates::Record(std::string_view order_id, OrderState state) {
  const uint64_t hash = HashOf(order_id);
  std::lock_guard lock(mu_);
  size_t slot = SlotOf(order_id, hash);
  if (index_.Holds(slot)) {  // a repeat: the same order, its place kept
    ring_[index_.PlaceAt(slot)].state = std::move(state);
    return;
  }
  size_t place = ring_.size();
  if (ring_.size() < capacity_) {
    ring_.emplace_back();
  } else {  // full: the oldest is forgotten and its place taken
    place = head_;
    const Entry& oldest = ring_[place];
    index_.Erase(SlotOf(oldest.order_id, oldest.hash));
    head_ = (head_ + 1) % capacity_;
    slot = SlotOf(order_id, hash);  // the erase may have moved the end of this probe
  }
  Entry& entry = ring_[place];
  entry.order_id.assign(order_id);  // reuses the forgotten id's buffer
  entry.hash = hash;
  entry.state = std::move(state);
  index_.Set(slot, place, hash);
}

std::optional<OrderState> OrderStates::Find(std::string_view order_id) const {
  const uint64_t hash = HashOf(order_id);
  std::lock_guard lock(mu_);
  const size_t slot = SlotOf(order_id, hash);
  if (!index_.Holds(slot)) return std::nullopt;
  return ring_[index_.PlaceAt(slot)].state;
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
