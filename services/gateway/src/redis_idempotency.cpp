#include "redis_idempotency.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

namespace tradepipe::gateway {
namespace {

// SET NX with the in-flight marker; on conflict, the existing value. One round trip.
constexpr std::string_view kBeginScript =
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end "
    "return redis.call('GET', KEYS[1])";

using Reply = std::shared_ptr<redisReply>;

std::string Hex(uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<size_t>(i)] = kHex[v & 0xf];
  return out;
}

timeval ToTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

}  // namespace

Result<RedisOptions> ParseRedisUrl(std::string_view url) {
  using R = Result<RedisOptions>;
  RedisOptions o;
  if (!url.starts_with("redis://")) return R::Error("expected redis://host:port[/db]");
  url.remove_prefix(8);
  const size_t slash = url.find('/');
  std::string_view hostport = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    const std::string_view db = url.substr(slash + 1);
    if (!db.empty()) {
      const auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), o.db);
      if (ec != std::errc() || p != db.data() + db.size() || o.db < 0) return R::Error("bad database number");
    }
  }
  const size_t colon = hostport.rfind(':');
  if (colon != std::string_view::npos) {
    const std::string_view port = hostport.substr(colon + 1);
    const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), o.port);
    if (ec != std::errc() || p != port.data() + port.size() || o.port <= 0 || o.port > 65535) {
      return R::Error("bad port");
    }
    hostport = hostport.substr(0, colon);
  }
  if (hostport.empty()) return R::Error("missing host");
  o.host = hostport;
  return o;
}

// A pooled connection, returned (or closed, if it failed) when the lease ends.
struct RedisIdempotencyStore::Lease {
  RedisIdempotencyStore& store;
  redisContext* ctx;
  bool healthy = true;
  ~Lease() { store.Return(ctx, healthy); }

  Result<Reply> Command(int argc, const char** argv, const size_t* lengths) {
    Reply reply(static_cast<redisReply*>(redisCommandArgv(ctx, argc, argv, lengths)), freeReplyObject);
    if (!reply) {
      healthy = false;
      return Result<Reply>::Error(std::string("redis: ") + (ctx->errstr[0] ? ctx->errstr : "connection lost"));
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      return Result<Reply>::Error("redis: " + std::string(reply->str, reply->len));
    }
    return reply;
  }
};

RedisIdempotencyStore::RedisIdempotencyStore(RedisOptions options) : options_(std::move(options)) {}

RedisIdempotencyStore::~RedisIdempotencyStore() {
  std::lock_guard lock(mu_);
  for (redisContext* c : idle_) redisFree(c);
}

Result<redisContext*> RedisIdempotencyStore::Acquire() {
  {
    std::unique_lock lock(mu_);
    // Bounded wait for a free connection: a pool that is exhausted answers, it does not hang.
    if (!available_.wait_for(lock, options_.timeout, [&] { return !idle_.empty() || open_ < options_.pool_size; })) {
      return Result<redisContext*>::Error("redis: no free connection in the pool");
    }
    if (!idle_.empty()) {
      redisContext* c = idle_.back();
      idle_.pop_back();
      return c;
    }
    ++open_;
  }
  redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port, ToTimeval(options_.timeout));
  std::string error;
  if (c == nullptr) {
    error = "redis: out of memory";
  } else if (c->err) {
    error = "redis: cannot connect to " + options_.host + ":" + std::to_string(options_.port) + ": " + c->errstr;
  } else {
    redisSetTimeout(c, ToTimeval(options_.timeout));
    if (options_.db != 0) {
      Reply r(static_cast<redisReply*>(redisCommand(c, "SELECT %d", options_.db)), freeReplyObject);
      if (!r || r->type == REDIS_REPLY_ERROR) error = "redis: SELECT failed";
    }
  }
  if (!error.empty()) {
    if (c != nullptr) redisFree(c);
    {
      std::lock_guard lock(mu_);
      --open_;
    }
    available_.notify_one();
    return Result<redisContext*>::Error(error);
  }
  return c;
}

void RedisIdempotencyStore::Return(redisContext* ctx, bool healthy) {
  {
    std::lock_guard lock(mu_);
    if (healthy) {
      idle_.push_back(ctx);
    } else {
      redisFree(ctx);
      --open_;
    }
  }
  available_.notify_one();
}

void RedisIdempotencyStore::NoteError(const std::string& error) {
  std::lock_guard lock(error_mu_);
  last_error_ = error;
}

void RedisIdempotencyStore::NoteSuccess() {
  std::lock_guard lock(error_mu_);
  last_error_.clear();
}

std::string RedisIdempotencyStore::NotReadyReason() const {
  std::lock_guard lock(error_mu_);
  return last_error_;
}

Result<Reply> RedisIdempotencyStore::Execute(int argc, const char** argv, const size_t* lengths) {
  auto ctx = Acquire();
  if (!ctx) {
    NoteError(ctx.error());
    return Result<Reply>::Error(ctx.error());
  }
  Lease lease{*this, *ctx};
  auto reply = lease.Command(argc, argv, lengths);
  if (!reply) {
    NoteError(reply.error());
  } else {
    NoteSuccess();
  }
  return reply;
}

Result<BeginResult> RedisIdempotencyStore::Begin(const std::string& key, uint64_t body_hash, int64_t) {
  using R = Result<BeginResult>;
  const std::string full_key = options_.key_prefix + key;
  const std::string marker = "i|" + Hex(body_hash);
  const std::string ttl = std::to_string(options_.in_flight_ttl_ms);
  const char* argv[] = {"EVAL", kBeginScript.data(), "1", full_key.data(), marker.data(), ttl.data()};
  const size_t lengths[] = {4, kBeginScript.size(), 1, full_key.size(), marker.size(), ttl.size()};
  auto reply = Execute(6, argv, lengths);
  if (!reply) return R::Error(reply.error());
  const redisReply* r = reply->get();
  if (r->type == REDIS_REPLY_NIL) return BeginResult{BeginOutcome::kNew, {}};
  if (r->type != REDIS_REPLY_STRING) return R::Error("redis: unexpected reply type " + std::to_string(r->type));
  const std::string_view value(r->str, r->len);
  // "i|<hash>" or "d|<hash>|<status>|<body>"
  if (value.size() < 18 || value[1] != '|') return R::Error("redis: malformed idempotency record");
  if (value.substr(2, 16) != Hex(body_hash)) return BeginResult{BeginOutcome::kMismatch, {}};
  if (value[0] == 'i') return BeginResult{BeginOutcome::kInFlight, {}};
  const std::string_view rest = value.size() > 19 ? value.substr(19) : std::string_view();
  const size_t bar = rest.find('|');
  int status = 0;
  if (value[0] != 'd' || bar == std::string_view::npos ||
      std::from_chars(rest.data(), rest.data() + bar, status).ec != std::errc()) {
    return R::Error("redis: malformed idempotency record");
  }
  return BeginResult{BeginOutcome::kReplay, {status, std::string(rest.substr(bar + 1))}};
}

Status RedisIdempotencyStore::Complete(const std::string& key, uint64_t body_hash, const StoredResponse& response) {
  const std::string full_key = options_.key_prefix + key;
  const std::string value = "d|" + Hex(body_hash) + "|" + std::to_string(response.status) + "|" + response.body;
  const std::string ttl = std::to_string(options_.ttl_ms);
  const char* argv[] = {"SET", full_key.data(), value.data(), "PX", ttl.data()};
  const size_t lengths[] = {3, full_key.size(), value.size(), 2, ttl.size()};
  auto reply = Execute(5, argv, lengths);
  return reply ? Status() : Status::Error(reply.error());
}

Status RedisIdempotencyStore::Release(const std::string& key) {
  const std::string full_key = options_.key_prefix + key;
  const char* argv[] = {"DEL", full_key.data()};
  const size_t lengths[] = {3, full_key.size()};
  auto reply = Execute(2, argv, lengths);
  return reply ? Status() : Status::Error(reply.error());
}

Status RedisIdempotencyStore::Ping() {
  const char* argv[] = {"PING"};
  const size_t lengths[] = {4};
  auto reply = Execute(1, argv, lengths);
  return reply ? Status() : Status::Error(reply.error());
}

}  // namespace tradepipe::gateway
