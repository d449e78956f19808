#include "positions.hpp"

namespace tradepipe::agent {

bool Positions::Apply(const std::string& fill_id, const std::string& symbol, events::Side side, events::Decimal qty) {
  std::lock_guard lock(mu_);
  if (!applied_.insert(fill_id).second) return false;
  auto& net = net_[symbol];
  net = side == events::Side::kBuy ? net + qty : net - qty;
  return true;
}

events::Decimal Positions::Of(const std::string& symbol) const {
  std::lock_guard lock(mu_);
  auto it = net_.find(symbol);
  return it == net_.end() ? events::Decimal() : it->second;
}

std::map<std::string, events::Decimal> Positions::Snapshot() const {
  std::lock_guard lock(mu_);
  return net_;
}

size_t Positions::fills() const {
  std::lock_guard lock(mu_);
  return applied_.size();
}

}  // namespace tradepipe::agent
