#include "idempotency.hpp"

namespace tradepipe::gateway {

BeginResult IdempotencyStore::Begin(const std::string& key, uint64_t body_hash, int64_t now_ns) {
  std::lock_guard lock(mu_);
  EvictLocked(now_ns);
  auto [it, inserted] = entries_.try_emplace(key, Entry{body_hash, now_ns, false, {}});
  if (inserted) {
    order_.emplace_back(key, now_ns);
    return {BeginOutcome::kNew, {}};
  }
  const Entry& e = it->second;
  if (e.body_hash != body_hash) return {BeginOutcome::kMismatch, {}};
  if (!e.done) return {BeginOutcome::kInFlight, {}};
  return {BeginOutcome::kReplay, e.response};
}

void IdempotencyStore::Complete(const std::string& key, StoredResponse response) {
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    it->second.done = true;
    it->second.response = std::move(response);
  }
}

void IdempotencyStore::Release(const std::string& key) {
  std::lock_guard lock(mu_);
  entries_.erase(key);  // its order_ record is skipped when it comes up for eviction
}

size_t IdempotencyStore::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

uint64_t IdempotencyStore::evictions() const {
  std::lock_guard lock(mu_);
  return evictions_;
}

void IdempotencyStore::EvictLocked(int64_t now_ns) {
  while (!order_.empty() && (order_.size() > capacity_ || order_.front().second + ttl_ns_ <= now_ns)) {
    auto& [key, created] = order_.front();
    // Only erase the entry this record created (a released key may have been reused since).
    if (auto it = entries_.find(key); it != entries_.end() && it->second.created_ns == created) {
      entries_.erase(it);
      ++evictions_;
    }
    order_.pop_front();
  }
}

}  // namespace tradepipe::gateway
