// In-memory idempotency store for webhook keys, with the semantics of Stripe's
// Idempotency-Key: the first request with a key runs; a repeat after it completed replays its
// answer; a repeat while it is in flight is told so (409); the same key with a different body is
// refused (422). Entries live `ttl` and the oldest are evicted beyond `capacity`, so memory is
// bounded. A failed attempt (5xx) releases its key so the sender's retry can run.
//
// Thread-safety: all methods are thread-safe (one mutex; sharding comes with the gateway's
// performance work, see docs/gateway.md).
#pragma once

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
  IdempotencyStore(size_t capacity, int64_t ttl_ns) : capacity_(capacity), ttl_ns_(ttl_ns) {}

  BeginResult Begin(const std::string& key, uint64_t body_hash, int64_t now_ns);
  void Complete(const std::string& key, StoredResponse response);
  void Release(const std::string& key);

  size_t size() const;
  uint64_t evictions() const;

 private:
  struct Entry {
    uint64_t body_hash;
    int64_t created_ns;
    bool done;
    StoredResponse response;
  };
  void EvictLocked(int64_t now_ns);

  const size_t capacity_;
  const int64_t ttl_ns_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::pair<std::string, int64_t>> order_;  // insertion order, for TTL and capacity eviction
  uint64_t evictions_ = 0;
};

}  // namespace tradepipe::gateway
