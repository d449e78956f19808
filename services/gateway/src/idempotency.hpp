// In-memory idempotency store for webhook keys, with the semantics of Stripe's
// Idempotency-Key: the first request with a key runs; a repeat after it completed replays its
// answer; a repeat while it is in flight is told so (409); the same key with a different body is
// refused (422). A failed attempt (5xx) releases its key so the sender's retry can run.
//
// Bounded: entries live `ttl` and, beyond `capacity`, the oldest are evicted (never blocks,
// never refuses because it is full). Sharded by key hash (64 shards, each with its own mutex and
// an equal share of the capacity), so concurrent requests almost never wait for one another.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tradepipe::gateway {

struct StoredResponse {
  int status = 0;
  std::string body;
};

enum class BeginOutcome { kNew, kInFlight, kReplay, kMismatch };

struct BeginResult {
  BeginOutcome outcome;
  StoredResponse replay;  // for kReplay
};

class IdempotencyStore {
 public:
  static constexpr size_t kShards = 64;

  IdempotencyStore(size_t capacity, int64_t ttl_ns);

  BeginResult Begin(const std::string& key, uint64_t body_hash, int64_t now_ns);
  void Complete(const std::string& key, StoredResponse response);
  void Release(const std::string& key);

  size_t size() const;
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    uint64_t body_hash;
    int64_t created_ns;
    bool done;
    StoredResponse response;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> entries;
    std::deque<std::pair<std::string, int64_t>> order;  // insertion order, for TTL and capacity
  };
  Shard& ShardOf(const std::string& key);
  void EvictLocked(Shard& shard, int64_t now_ns);

  const size_t shard_capacity_;
  const int64_t ttl_ns_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> evictions_{0};
};

}  // namespace tradepipe::gateway
