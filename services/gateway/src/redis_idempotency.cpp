#include "redis_idempotency.hpp"

#include <hiredis/hiredis.h>

#include <charconv>
#include <functional>
#include <future>

namespace tradepipe::gateway {
namespace {

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

// One connection, one thread, one queue: batches of commands pipelined in one round trip.
class RedisIdempotencyStore::Lane {
 public:
  struct Op {
    std::vector<std::string> command;
    std::function<void(Result<Reply>)> on_reply;
  };

  Lane(const RedisOptions& options, RedisIdempotencyStore& store)
      : options_(options), store_(store), thread_([this] { Run(); }) {}

  ~Lane() {
    Stop();
    if (ctx_ != nullptr) redisFree(ctx_);
  }

  // Runs what is queued, then ends the thread; later Push calls are answered at once.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
    std::lock_guard join(join_mu_);
    if (thread_.joinable()) thread_.join();
  }

  void Push(Op op) {
    bool stopped = false;
    {
      std::unique_lock lock(mu_);
      stopped = stop_;
      if (!stop_ && queue_.size() < options_.max_queue) {
        queue_.push_back(std::move(op));
        lock.unlock();
        wake_.notify_one();
        return;
      }
    }
    op.on_reply(Result<Reply>::Error(stopped ? "redis: store closed" : "redis: request queue full"));
  }

 private:
  void Run() {
    std::vector<Op> batch;
    while (true) {
      {
        std::unique_lock lock(mu_);
        wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_ && queue_.empty()) return;
        batch.swap(queue_);
      }
      Execute(batch);
      batch.clear();
    }
  }

  std::string Connect() {
    ctx_ = redisConnectWithTimeout(options_.host.c_str(), options_.port, ToTimeval(options_.timeout));
    std::string error;
    if (ctx_ == nullptr) {
      error = "redis: out of memory";
    } else if (ctx_->err) {
      error = "redis: cannot connect to " + options_.host + ":" + std::to_string(options_.port) + ": " + ctx_->errstr;
    } else {
      redisSetTimeout(ctx_, ToTimeval(options_.timeout));
      if (options_.db != 0) {
        auto* r = static_cast<redisReply*>(redisCommand(ctx_, "SELECT %d", options_.db));
        if (r == nullptr || r->type == REDIS_REPLY_ERROR)
          error = "redis: SELECT " + std::to_string(options_.db) + " failed";
        if (r != nullptr) freeReplyObject(r);
      }
    }
    if (!error.empty() && ctx_ != nullptr) {
      redisFree(ctx_);
      ctx_ = nullptr;
    }
    return error;
  }

  void FailAll(std::vector<Op>& batch, size_t from, const std::string& error) {
    store_.NoteError(error);
    for (size_t i = from; i < batch.size(); ++i) batch[i].on_reply(Result<Reply>::Error(error));
  }

  void Execute(std::vector<Op>& batch) {
    if (ctx_ == nullptr) {
      if (auto error = Connect(); !error.empty()) return FailAll(batch, 0, error);
    }
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const Op& op : batch) {
      argv.clear();
      lengths.clear();
      for (const auto& part : op.command) {
        argv.push_back(part.data());
        lengths.push_back(part.size());
      }
      redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lengths.data());
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
        const std::string error = std::string("redis: ") + (ctx_->errstr[0] ? ctx_->errstr : "connection lost");
        redisFree(ctx_);  // re-dialled on the next batch
        ctx_ = nullptr;
        return FailAll(batch, i, error);
      }
      auto* r = static_cast<redisReply*>(raw);
      if (r->type == REDIS_REPLY_ERROR) {
        const std::string error = "redis: " + std::string(r->str, r->len);
        freeReplyObject(r);
        store_.NoteError(error);
        batch[i].on_reply(Result<Reply>::Error(error));
        continue;
      }
      Reply reply{r->type, r->str != nullptr ? std::string(r->str, r->len) : std::string()};
      freeReplyObject(r);
      store_.NoteSuccess();
      batch[i].on_reply(std::move(reply));
    }
  }

  const RedisOptions& options_;
  RedisIdempotencyStore& store_;
  redisContext* ctx_ = nullptr;  // used by the lane's thread only
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Op> queue_;
  bool stop_ = false;
  std::mutex join_mu_;
  std::thread thread_;  // last
};

RedisIdempotencyStore::RedisIdempotencyStore(RedisOptions options) : options_(std::move(options)) {
  for (size_t i = 0; i < std::max<size_t>(1, options_.lanes); ++i) {
    lanes_.push_back(std::make_unique<Lane>(options_, *this));
  }
}

RedisIdempotencyStore::~RedisIdempotencyStore() { lanes_.clear(); }

void RedisIdempotencyStore::Shutdown() {
  for (auto& lane : lanes_) lane->Stop();
}

void RedisIdempotencyStore::Enqueue(const std::string& key, std::vector<std::string> command,
                                    std::function<void(Result<Reply>)> on_reply) {
  lanes_[std::hash<std::string>{}(key) % lanes_.size()]->Push({std::move(command), std::move(on_reply)});
}

void RedisIdempotencyStore::NoteError(const std::string& error) {
  std::lock_guard lock(error_mu_);
  last_error_ = error;
}

void RedisIdempotencyStore::NoteSuccess() {
  std::lock_guard lock(error_mu_);
  if (!last_error_.empty()) last_error_.clear();
}

std::string RedisIdempotencyStore::NotReadyReason() const {
  std::lock_guard lock(error_mu_);
  return last_error_;
}

void RedisIdempotencyStore::Begin(const std::string& key, uint64_t body_hash, int64_t, BeginCallback done) {
  const std::string hash = Hex(body_hash);
  // SET NX GET (Redis 7.0+): sets the in-flight marker if the key is new (nil reply), else leaves
  // it and returns the existing value. One native command, no script to run.
  Enqueue(key,
          {"SET", options_.key_prefix + key, "i|" + hash, "NX", "GET", "PX", std::to_string(options_.in_flight_ttl_ms)},
          [hash, done = std::move(done)](Result<Reply> reply) {
            using R = Result<BeginResult>;
            if (!reply) {
              if (reply.error().find("syntax error") != std::string::npos) {
                return done(R::Error(reply.error() + " (SET with NX and GET needs Redis 7.0 or newer)"));
              }
              return done(R::Error(reply.error()));
            }
            if (reply->type == REDIS_REPLY_NIL) return done(BeginResult{BeginOutcome::kNew, {}});
            if (reply->type != REDIS_REPLY_STRING) {
              return done(R::Error("redis: unexpected reply type " + std::to_string(reply->type)));
            }
            // "i|<hash>" or "d|<hash>|<status>|<body>"
            const std::string_view value = reply->text;
            if (value.size() < 18 || value[1] != '|') return done(R::Error("redis: malformed idempotency record"));
            if (value.substr(2, 16) != hash) return done(BeginResult{BeginOutcome::kMismatch, {}});
            if (value[0] == 'i') return done(BeginResult{BeginOutcome::kInFlight, {}});
            const std::string_view rest = value.size() > 19 ? value.substr(19) : std::string_view();
            const size_t bar = rest.find('|');
            int status = 0;
            if (value[0] != 'd' || bar == std::string_view::npos ||
                std::from_chars(rest.data(), rest.data() + bar, status).ec != std::errc()) {
              return done(R::Error("redis: malformed idempotency record"));
            }
            done(BeginResult{BeginOutcome::kReplay, {status, std::string(rest.substr(bar + 1))}});
          });
}

void RedisIdempotencyStore::Complete(const std::string& key, uint64_t body_hash, const StoredResponse& response,
                                     DoneCallback done) {
  Enqueue(key,
          {"SET", options_.key_prefix + key,
           "d|" + Hex(body_hash) + "|" + std::to_string(response.status) + "|" + response.body, "PX",
           std::to_string(options_.ttl_ms)},
          [done = std::move(done)](Result<Reply> reply) {
            if (done) done(reply ? Status() : Status::Error(reply.error()));
          });
}

void RedisIdempotencyStore::Release(const std::string& key, DoneCallback done) {
  Enqueue(key, {"DEL", options_.key_prefix + key}, [done = std::move(done)](Result<Reply> reply) {
    if (done) done(reply ? Status() : Status::Error(reply.error()));
  });
}

Status RedisIdempotencyStore::Ping() {
  std::vector<std::future<Status>> answers;
  for (auto& lane : lanes_) {
    auto promise = std::make_shared<std::promise<Status>>();
    answers.push_back(promise->get_future());
    lane->Push({{"PING"}, [promise](Result<Reply> r) { promise->set_value(r ? Status() : Status::Error(r.error())); }});
  }
  for (auto& answer : answers) {
    if (answer.wait_for(options_.timeout * 3) != std::future_status::ready) return Status::Error("redis: no answer");
    if (auto s = answer.get(); !s) return s;
  }
  return {};
}

}  // namespace tradepipe::gateway
