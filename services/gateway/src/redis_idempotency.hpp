// Idempotency keys in Redis, shared by every gateway replica (hiredis, RESP2).
//
// One round trip per Begin: a Lua script does `SET key "i|<hash>" NX PX <in-flight ttl>` and, if
// the key exists, returns its value, from which new / in flight / mismatch / replay follow.
// Complete stores `d|<hash>|<status>|<body>` for the full TTL; Release deletes the key. The
// in-flight marker has a short TTL (default 60 s) so a gateway that dies mid-request, or a
// Release that fails, cannot block a key for 24 h; the retry then re-publishes the same
// Nats-Msg-Id, which JetStream drops as a duplicate.
//
// Connections: a pool (default 16), each used by one request at a time, so requests on
// different threads never wait for one round trip on a shared connection. A failed connection
// is dropped and re-dialled on next use; errors are returned, never hidden (the gateway then
// answers 503: fail closed). NotReadyReason() reports the last failure until a command succeeds.
//
// Thread-safety: thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "idempotency.hpp"

struct redisContext;
struct redisReply;

namespace tradepipe::gateway {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  size_t pool_size = 16;
  std::chrono::milliseconds timeout{500};  // connect and per-command
  int64_t ttl_ms = 24 * 3600 * 1000;
  int64_t in_flight_ttl_ms = 60 * 1000;
  std::string key_prefix = "tradepipe:idem:";
};

// "redis://host:port[/db]" → options; the error names what is wrong.
Result<RedisOptions> ParseRedisUrl(std::string_view url);

class RedisIdempotencyStore final : public IdempotencyStore {
 public:
  explicit RedisIdempotencyStore(RedisOptions options);
  ~RedisIdempotencyStore() override;

  Result<BeginResult> Begin(const std::string& key, uint64_t body_hash, int64_t now_ns) override;
  Status Complete(const std::string& key, uint64_t body_hash, const StoredResponse& response) override;
  Status Release(const std::string& key) override;
  int64_t size() const override { return -1; }
  std::string NotReadyReason() const override;

  // A PING on a pooled connection (start-up check and /ready refresh).
  Status Ping();

 private:
  struct Lease;
  // One command on a pooled connection; records the outcome for NotReadyReason().
  Result<std::shared_ptr<redisReply>> Execute(int argc, const char** argv, const size_t* lengths);
  Result<redisContext*> Acquire();
  void Return(redisContext* ctx, bool healthy);
  void NoteError(const std::string& error);
  void NoteSuccess();

  RedisOptions options_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<redisContext*> idle_;
  size_t open_ = 0;  // connections created and not closed (idle or leased)
  mutable std::mutex error_mu_;
  std::string last_error_;
};

}  // namespace tradepipe::gateway
