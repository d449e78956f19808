#include "idempotency.hpp"

#include <functional>

namespace tradepipe::gateway {

MemoryIdempotencyStore::MemoryIdempotencyStore(size_t capacity, int64_t ttl_ns)
    : shard_capacity_(std::max<size_t>(1, (capacity + kShards - 1) / kShards)), ttl_ns_(ttl_ns) {
  // Buckets for a full shard up front (at most 64 Ki each: 32 MiB in all), so a shard never
  // rehashes while it holds its lock on the request path (8 MiB at the default capacity).
  for (Shard& shard : shards_) shard.entries.reserve(std::min<size_t>(shard_capacity_, size_t{1} << 16));
}

MemoryIdempotencyStore::Shard& MemoryIdempotencyStore::ShardOf(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

Result<BeginResult> MemoryIdempotencyStore::BeginNow(const std::string& key, uint64_t body_hash, int64_t now_ns) {
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  EvictLocked(shard, now_ns);
  auto [it, inserted] = shard.entries.try_emplace(key, Entry{body_hash, now_ns, false, {}});
  if (inserted) {
    shard.order.emplace_back(key, now_ns);
    EvictLocked(shard, now_ns);  // back within capacity: drops the oldest, never the key just added
    return BeginResult{BeginOutcome::kNew, {}};
  }
  const Entry& e = it->second;
  if (e.body_hash != body_hash) return BeginResult{BeginOutcome::kMismatch, {}};
  if (!e.done) return BeginResult{BeginOutcome::kInFlight, {}};
  return BeginResult{BeginOutcome::kReplay, e.response};
}

void MemoryIdempotencyStore::CompleteNow(const std::string& key, const StoredResponse& response) {
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  if (auto it = shard.entries.find(key); it != shard.entries.end()) {
    it->second.done = true;
    it->second.response = response;
  }
}

void MemoryIdempotencyStore::ReleaseNow(const std::string& key) {
  Shard& shard = ShardOf(key);
  std::lock_guard lock(shard.mu);
  shard.entries.erase(key);  // its order record is skipped when it comes up for eviction
}

int64_t MemoryIdempotencyStore::size() const {
  int64_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    total += static_cast<int64_t>(shard.entries.size());
  }
  return total;
}

int64_t MemoryIdempotencyStore::HorizonNs(int64_t now_ns) const {
  int64_t horizon = ttl_ns_;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    if (shard.evicted_up_to_ns > 0) horizon = std::min(horizon, now_ns - shard.evicted_up_to_ns);
  }
  return std::max<int64_t>(horizon, 0);
}

void MemoryIdempotencyStore::EvictLocked(Shard& shard, int64_t now_ns) {
  while (!shard.order.empty() &&
         (shard.order.size() > shard_capacity_ || shard.order.front().second + ttl_ns_ <= now_ns)) {
    auto& [key, created] = shard.order.front();
    // Only erase the entry this record created (a released key may have been reused since).
    if (auto it = shard.entries.find(key); it != shard.entries.end() && it->second.created_ns == created) {
      shard.entries.erase(it);
      evictions_.fetch_add(1, std::memory_order_relaxed);
      shard.evicted_up_to_ns = std::max(shard.evicted_up_to_ns, created);
    }
    shard.order.pop_front();
  }
}

}  // namespace tradepipe::gateway
