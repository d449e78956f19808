// The gateway's decision logic for `POST /webhook/{source}`, apart from HTTP and NATS wiring:
// Admit() checks source, signature, idempotency and body, and either answers at once or hands
// back the signal to publish; Complete() records the PubAck (or its failure) in the store and
// then gives the answer. Statuses and error codes are decided here and nowhere else.
//
//   auto admitted = processor.Admit(source, headers, body, WallNanos());
//   if (auto* answer = std::get_if<http::Response>(&admitted)) return respond(*answer);
//   auto& job = std::get<PublishJob>(admitted);
//   bus.PublishAsync(job.subject, job.signal_id, job.data, [..](auto ack) { processor.Complete(job, ack, respond); });
//
// Thread-safety: thread-safe (the idempotency store locks; everything else is const).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "idempotency.hpp"
#include "ip_allow_list.hpp"
#include "rate_limiter.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/http/server.hpp"
#include "webhook_signal.hpp"

namespace tradepipe::gateway {

// How a source proves a webhook is its own (docs/gateway.md "Schemes").
enum class Scheme {
  kStandardWebhooks,  // webhook-id, webhook-timestamp, webhook-signature: v1,<base64>
  kHexHmac,           // x-timestamp, x-signature: hex HMAC-SHA256 of "<timestamp>.<body>"
  kBodyToken,         // a shared `token` inside the JSON body (senders that cannot set headers)
  // Load tests only (--load-test-token): `Authorization: Bearer <token>`, no timestamp, and no
  // de-duplication — every request is a new signal under an id the gateway makes up, so tools
  // that repeat one request (hey, ab) measure the whole path, not replays. Never in production.
  kLoadTest,
};

struct SourceConfig {
  std::string name;
  std::vector<std::string> keys;  // raw HMAC keys, every active secret (rotation)
  double rate_per_s = 0;          // 0: unlimited
  int64_t burst = 1;
  std::vector<Scheme> schemes = {Scheme::kStandardWebhooks};
  std::vector<std::string> tokens;     // body-token scheme: every active token (rotation)
  std::vector<std::string> allow_ips;  // addresses or CIDR ranges; empty: any
  // body-token scheme: the body must carry `time` (TradingView's {{timenow}}) within the
  // tolerance. Off, a captured alert replays as long as the idempotency store holds its hash.
  bool require_time = true;
};

struct ProcessorOptions {
  int64_t tolerance_s = 300;
};

struct PublishJob {
  std::string idempotency_key;
  uint64_t body_hash = 0;
  std::string signal_id;
  std::string subject;
  std::string data;
};

// What the wiring exports as metrics: counters (with a stable reason code) and, for each webhook
// that got through verification and its idempotency claim, the two stages' times: verify
// (received → signature and timestamp checked) and idempotency (→ rate limit, body parsed, key
// claimed in the store: the store's answer).
struct ProcessorObserver {
  std::function<void(std::string_view reason)> rejected;
  std::function<void()> replayed;
  std::function<void(int64_t verify_ns, int64_t idempotency_ns)> claimed;
};

class WebhookProcessor {
 public:
  using HeaderLookup = std::function<std::string_view(std::string_view)>;

  // `store` must outlive the processor. Throws std::invalid_argument for a bad allow-list entry
  // (a start-up misconfiguration; the sources file parser reports it first, by source name).
  WebhookProcessor(std::vector<SourceConfig> sources, ProcessorOptions options, IdempotencyStore& store,
                   ProcessorObserver observer = {});

  using Outcome = std::variant<http::Response, PublishJob>;

  // Checks the request, claims its idempotency key and calls `done` once with the answer or the
  // signal to publish — at once, or later from the store's thread. The request may be gone by
  // then: everything needed is copied before the store is asked.
  // `remote` is the peer address, checked against the source's allow-list.
  void Process(std::string_view source, const HeaderLookup& header, std::string_view body, std::string_view remote,
               int64_t received_ns, std::function<void(Outcome)> done);
  // Process() for stores that answer at once (the memory store): tests and simple callers.
  Outcome Admit(std::string_view source, const HeaderLookup& header, std::string_view body, int64_t received_ns,
                std::string_view remote = "127.0.0.1");
  // Turns the PubAck (or its failure) into the answer once the store has recorded it (202, kept
  // for replays) or released the key (503, so the retry runs): a repeat sent right after the
  // answer, to any replica, never finds the key still in flight. `answer` may run on a store thread.
  void Complete(const PublishJob& job, const Result<bus::PublishAck>& ack, std::function<void(http::Response)> answer);
  // For a claimed request whose deadline leaves no time to publish: releases the key (so the
  // retry runs) and answers 503 `deadline_exceeded`. Nothing was published.
  void Abandon(const PublishJob& job, std::function<void(http::Response)> answer);
  // Complete() for stores that answer at once (the memory store): tests and simple callers.
  http::Response CompleteNow(const PublishJob& job, const Result<bus::PublishAck>& ack);
  // 503 + Retry-After when the bus cannot take more (disconnected, too many publishes in flight).
  http::Response Unavailable(std::string_view code, std::string_view message);

  const IdempotencyStore& idempotency() const { return idempotency_; }

 private:
  // What survives the request while the store decides.
  struct Claim {
    std::string scoped_key;
    uint64_t body_hash = 0;
    std::string source;
    WebhookSignal signal;
    int64_t received_ns = 0;
    int64_t verified_ns = 0;
  };
  std::variant<http::Response, Claim> Check(std::string_view source, const HeaderLookup& header, std::string_view body,
                                            std::string_view remote, int64_t received_ns);
  Outcome Resolve(const Claim& claim, const Result<BeginResult>& begun);
  http::Response Reject(int status, std::string_view code, std::string_view message);
  // Forgets the key (its request failed), then answers `failure`.
  void ReleaseThenAnswer(const PublishJob& job, http::Response failure, std::function<void(http::Response)> answer);

  struct Source {
    SourceConfig config;
    std::unique_ptr<RateLimiter> limiter;
    IpAllowList allow;
  };
  std::unordered_map<std::string, Source> sources_;
  ProcessorOptions options_;
  ProcessorObserver observer_;
  IdempotencyStore& idempotency_;
  // Load-test ids: "lt-<this process's random nonce>-<counter>", unique across restarts and replicas.
  const uint64_t load_test_nonce_;
  std::atomic<uint64_t> load_test_next_{0};
};

// Parses "name=whsec_a,whsec_b;other=whsec_c" into sources; error names the bad entry.
Result<std::vector<SourceConfig>> ParseSources(std::string_view text);

// The demo source: documented demo key, only active with --demo.
inline constexpr std::string_view kDemoSource = "demo";
inline constexpr std::string_view kDemoSecret = "whsec_dHJhZGVwaXBlLWRlbW8tc2VjcmV0";
// The load-test source: only with --load-test-token (scheme kLoadTest).
inline constexpr std::string_view kLoadTestSource = "loadtest";

}  // namespace tradepipe::gateway
