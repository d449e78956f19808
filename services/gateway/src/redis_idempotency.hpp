// Idempotency keys in Redis, shared by every gateway replica (hiredis, RESP2).
//
// One round trip per Begin: `SET key "i|<hash>" NX GET PX <in-flight ttl>` (Redis 7.0+) sets the
// marker if the key is new and otherwise returns its value, from which new / in flight /
// mismatch / replay follow.
// Complete stores `d|<hash>|<status>|<body>` for the full TTL; Release deletes the key. The
// in-flight marker has a short TTL (default 60 s) so a gateway that dies mid-request, or a
// Release that fails, cannot block a key for 24 h; the retry then re-publishes the same
// Nats-Msg-Id, which JetStream drops as a duplicate.
//
// Two transports. `loops` (the gateway's default): one connection per HTTP event loop, attached
// with AttachLoop; an operation made on a loop's thread is written on that loop's connection
// (writes of one loop turn leave together) and its reply is handled there: no thread hand-off,
// as with the NATS publisher (docs/gateway.md). An operation from any other thread is posted to
// a loop chosen by its key. `lanes`: the transport below, with threads of its own.
// Pipelined: `lanes` threads (default 2), each with its own connection and a bounded queue.
// A lane takes everything queued, writes all commands, then reads all replies — one round trip
// per batch, however many requests wait — and runs the callbacks on its thread. A key always
// goes to the same lane, so its operations stay in order. HTTP threads never wait for Redis.
// Failures are answered, never hidden: a full queue, a refused connection or a reply not back
// within `timeout` fails the operations (the gateway then answers 503: fail closed); the lane
// re-dials on its next batch. NotReadyReason() reports the last failure until a command succeeds.
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "idempotency.hpp"

namespace boost::asio {
class io_context;
}
struct redisReply;  // hiredis

namespace tradepipe::gateway {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  bool on_loops = false;  // true: connections on the loops given to AttachLoop, no lane threads
  size_t lanes = 2;
  size_t max_queue = 16384;                // per lane; beyond it operations fail at once
  std::chrono::milliseconds timeout{500};  // connect and per-batch reply
  int64_t ttl_ms = 24 * 3600 * 1000;
  int64_t in_flight_ttl_ms = 60 * 1000;
  std::string key_prefix = "tradepipe:idem:";
};

// "redis://host:port[/db]" → options; the error names what is wrong.
Result<RedisOptions> ParseRedisUrl(std::string_view url);

class RedisIdempotencyStore final : public IdempotencyStore {
 public:
  explicit RedisIdempotencyStore(RedisOptions options);
  ~RedisIdempotencyStore() override;  // fails what is still queued, joins the lanes
  void Shutdown() override;           // runs what is queued, joins the lanes; later calls fail at once

  void Begin(const std::string& key, uint64_t body_hash, int64_t now_ns, BeginCallback done) override;
  void Complete(const std::string& key, uint64_t body_hash, const StoredResponse& response, DoneCallback done) override;
  void Release(const std::string& key, DoneCallback done) override;
  int64_t size() const override { return -1; }
  // With `loops`: the timeout plus the 50 ms of the connection's deadline timer. With `lanes` an
  // operation may also wait in its lane's queue, which this does not bound.
  int64_t OperationBoundMs() const override { return options_.timeout.count() + kTimerGranularityMs; }
  static constexpr int64_t kTimerGranularityMs = 50;
  std::string NotReadyReason() const override;

  // A PING through every lane or loop connection, waited for (start-up check, /ready refresh after
  // an outage). Not on a loop's thread with on_loops (it would wait for itself): use PingAsync.
  Status Ping();
  // The same PINGs, not waited for: a success clears NotReadyReason.
  void PingAsync();
  // For /ready: NotReadyReason, refreshed by a PING while not ready (after an outage). /ready runs
  // on an HTTP loop: with on_loops the PING is not waited for (it would wait for its own loop), so
  // the answer after a recovery shows on the next /ready.
  std::string ReadinessAfterPing();

  // on_loops: a connection for this loop (connected on first use, re-dialled after a failure),
  // kept alive by the returned handle; release the handle only once the loop no longer runs.
  std::shared_ptr<void> AttachLoop(boost::asio::io_context& loop);

  // A reply as the lanes hand it over: its type and its text (string, status or error).
  struct Reply {
    int type = 0;
    std::string text;
  };

 private:
  class Lane;
  class LoopConnection;
  // Hands a reply to its callback (and frees it); an error reply fails the operation and is noted.
  void Deliver(redisReply* reply, const std::function<void(Result<Reply>)>& on_reply);
  void Enqueue(const std::string& key, std::vector<std::string> command, std::function<void(Result<Reply>)> on_reply);
  void NoteError(const std::string& error);
  void NoteSuccess();

  RedisOptions options_;
  mutable std::mutex error_mu_;
  std::string last_error_;
  std::atomic<bool> has_error_{false};  // last_error_ is not empty (read without the mutex)
  std::atomic<bool> closed_{false};     // Shutdown was called (on_loops)
  std::mutex loops_mu_;
  std::vector<std::weak_ptr<LoopConnection>> loops_;
  std::vector<std::unique_ptr<Lane>> lanes_;  // last: their threads use the members above
};

}  // namespace tradepipe::gateway
