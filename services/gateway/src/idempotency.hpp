// Idempotency stores for webhook keys, with the semantics of Stripe's Idempotency-Key: the first
// request with a key runs; a repeat after it completed replays its answer; a repeat while it is
// in flight is told so (409); the same key with a different body is refused (422). A failed
// attempt (5xx) releases its key so the sender's retry can run.
//
// IdempotencyStore is the interface the gateway uses; MemoryIdempotencyStore keeps keys in this
// process, RedisIdempotencyStore (redis_idempotency.hpp) shares them between gateway replicas.
// A store that cannot answer returns an error and the gateway fails closed (503).
//
// MemoryIdempotencyStore is bounded: entries live `ttl` and, beyond `capacity`, the oldest are
// evicted (never blocks, never refuses because it is full). Sharded by key hash (64 shards, each
// with its own mutex and an equal share of the capacity), so concurrent requests almost never
// wait for one another.
//
// Thread-safety: all methods of both stores are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "tradepipe/common/result.hpp"

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

// Stores answer through callbacks: the memory store at once, on the caller's thread; the Redis
// store later, on its own threads (requests are pipelined, never waited for on an HTTP thread).
class IdempotencyStore {
 public:
  using BeginCallback = std::function<void(Result<BeginResult>)>;
  using DoneCallback = std::function<void(Status)>;

  virtual ~IdempotencyStore() = default;
  // Claims `key` for a request whose body hashes to `body_hash`, or says why not.
  virtual void Begin(const std::string& key, uint64_t body_hash, int64_t now_ns, BeginCallback done) = 0;
  // Records the answer to replay; the key lives on for the store's TTL.
  virtual void Complete(const std::string& key, uint64_t body_hash, const StoredResponse& response,
                        DoneCallback done) = 0;
  // Forgets a key whose request failed, so a retry runs.
  virtual void Release(const std::string& key, DoneCallback done) = 0;
  // Keys held (memory store) or -1 when not known locally (shared store).
  virtual int64_t size() const = 0;
  // Entries dropped for capacity or age (memory store); 0 where the server does it (Redis).
  virtual uint64_t evictions() const { return 0; }
  // Keys kept at most, or -1 where the server bounds them (Redis: its TTL and memory policy).
  virtual int64_t capacity() const { return -1; }
  // How far back a repeat is recognised at `now_ns`: every key claimed since then is still held
  // (the configured TTL until capacity evicts a key; then the age of the newest key evicted,
  // the effective window at the current rate); -1 where not known locally.
  virtual int64_t HorizonNs(int64_t /*now_ns*/) const { return -1; }
  // The longest a Begin, Complete or Release takes before it fails, in ms (0: answered at once).
  // The gateway keeps this much of each request's deadline for recording its answer.
  virtual int64_t OperationBoundMs() const { return 0; }
  // Empty when usable, else why not (for /ready).
  virtual std::string NotReadyReason() const { return {}; }
  // Finishes background work (Redis lanes) so nothing completes later; further calls fail at once.
  virtual void Shutdown() {}
};

class MemoryIdempotencyStore final : public IdempotencyStore {
 public:
  static constexpr size_t kShards = 64;

  MemoryIdempotencyStore(size_t capacity, int64_t ttl_ns);

  // The same operations, answered directly.
  Result<BeginResult> BeginNow(const std::string& key, uint64_t body_hash, int64_t now_ns);
  void CompleteNow(const std::string& key, const StoredResponse& response);
  void ReleaseNow(const std::string& key);

  void Begin(const std::string& key, uint64_t body_hash, int64_t now_ns, BeginCallback done) override {
    done(BeginNow(key, body_hash, now_ns));
  }
  void Complete(const std::string& key, uint64_t, const StoredResponse& response, DoneCallback done) override {
    CompleteNow(key, response);
    if (done) done(Status());
  }
  void Release(const std::string& key, DoneCallback done) override {
    ReleaseNow(key);
    if (done) done(Status());
  }
  int64_t size() const override;

  uint64_t evictions() const override { return evictions_.load(std::memory_order_relaxed); }
  int64_t capacity() const override { return static_cast<int64_t>(shard_capacity_ * kShards); }
  int64_t HorizonNs(int64_t now_ns) const override;

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
    int64_t evicted_up_to_ns = 0;  // created time of the newest record evicted: all younger are held
  };
  Shard& ShardOf(const std::string& key);
  void EvictLocked(Shard& shard, int64_t now_ns);

  const size_t shard_capacity_;
  const int64_t ttl_ns_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> evictions_{0};
};

}  // namespace tradepipe::gateway
