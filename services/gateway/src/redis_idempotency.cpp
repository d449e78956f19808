#include "redis_idempotency.hpp"

#include <hiredis/hiredis.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <deque>
#include <functional>
#include <future>
#include <utility>

#include "tradepipe/common/clock.hpp"

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

// A command in RESP: an array of bulk strings.
void AppendCommand(std::string& out, const std::vector<std::string>& parts) {
  out += '*';
  out += std::to_string(parts.size());
  out += "\r\n";
  for (const auto& part : parts) {
    out += '$';
    out += std::to_string(part.size());
    out += "\r\n";
    out += part;
    out += "\r\n";
  }
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
      store_.Deliver(static_cast<redisReply*>(raw), batch[i].on_reply);
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

// One connection on one event loop: commands written as they come (flushed once per loop turn),
// replies matched in order, every callback run on the loop's thread. Dialled on first use and
// again after a failure; a reply (or the connection) not back within `timeout` fails everything
// pending and drops the connection.
class RedisIdempotencyStore::LoopConnection : public std::enable_shared_from_this<LoopConnection> {
 public:
  LoopConnection(boost::asio::io_context& loop, const RedisOptions& options, RedisIdempotencyStore& store)
      : loop_(loop), options_(options), store_(store), socket_(loop), resolver_(loop), tick_(loop) {}

  ~LoopConnection() {
    Close();
    if (reader_ != nullptr) redisReaderFree(reader_);
  }

  boost::asio::io_context& loop() { return loop_; }
  bool OnLoopThread() const { return loop_.get_executor().running_in_this_thread(); }

  // Starts the deadline tick and dials with a PING, so /ready knows Redis's state from the start.
  void Start() {
    boost::asio::post(loop_, [self = shared_from_this()] {
      self->Tick();
      self->Send({"PING"}, [](Result<Reply>) {});
    });
  }

  // On the loop's thread only.
  void Send(const std::vector<std::string>& command, std::function<void(Result<Reply>)> on_reply) {
    if (closed_) return on_reply(Result<Reply>::Error("redis: store closed"));
    AppendCommand(out_, command);
    pending_.push_back({std::move(on_reply), SteadyMillis() + options_.timeout.count()});
    if (state_ == State::kIdle) return Connect();
    if (state_ == State::kConnected) ScheduleFlush();
  }

  // On the loop's thread, or on any thread once the loop no longer runs. Idempotent.
  void Close() {
    if (closed_) return;
    closed_ = true;
    tick_.cancel();
    Drop();
    FailAll("redis: store closed");
  }

 private:
  // kSelecting: connected, SELECT written, the commands queued behind it held until it succeeds
  // (written behind it, they would run on database 0 if it failed).
  enum class State { kIdle, kConnecting, kSelecting, kConnected };
  struct Pending {
    std::function<void(Result<Reply>)> on_reply;
    int64_t deadline_ms;
  };
  using tcp = boost::asio::ip::tcp;

  void Connect() {
    state_ = State::kConnecting;
    const uint64_t gen = ++generation_;
    if (reader_ != nullptr) redisReaderFree(reader_);
    reader_ = redisReaderCreate();
    if (options_.db != 0) {  // answered before whatever was queued meanwhile
      select_.clear();
      AppendCommand(select_, {"SELECT", std::to_string(options_.db)});
      // Only its own error reply drops the connection: when the connection is lost or closed
      // (generation bumped), it is failed like every other pending command.
      pending_.push_front({[this, gen](Result<Reply> r) {
                             if (gen != generation_) return;
                             if (!r)
                               return Lost("redis: SELECT " + std::to_string(options_.db) + " failed: " + r.error());
                             state_ = State::kConnected;
                             Flush();
                           },
                           SteadyMillis() + options_.timeout.count()});
    }
    resolver_.async_resolve(
        options_.host, std::to_string(options_.port),
        [self = shared_from_this(), gen](boost::system::error_code ec, tcp::resolver::results_type results) {
          if (gen != self->generation_) return;
          if (ec) return self->Lost(self->CannotConnect(ec));
          boost::asio::async_connect(self->socket_, results,
                                     [self, gen](boost::system::error_code ec2, const tcp::endpoint&) {
                                       if (gen != self->generation_) return;
                                       if (ec2) return self->Lost(self->CannotConnect(ec2));
                                       boost::system::error_code ignored;
                                       self->socket_.set_option(tcp::no_delay(true), ignored);
                                       self->Read();
                                       if (self->options_.db == 0) {
                                         self->state_ = State::kConnected;
                                         return self->Flush();
                                       }
                                       self->state_ = State::kSelecting;
                                       self->WriteSelect();
                                     });
        });
  }

  std::string CannotConnect(const boost::system::error_code& ec) const {
    return "redis: cannot connect to " + options_.host + ":" + std::to_string(options_.port) + ": " + ec.message();
  }

  void ScheduleFlush() {
    if (write_active_ || flush_posted_) return;
    flush_posted_ = true;
    // Behind the handlers already queued: what they send leaves in the same write.
    boost::asio::post(loop_, [self = shared_from_this(), gen = generation_] {
      self->flush_posted_ = false;
      if (gen == self->generation_) self->Flush();
    });
  }

  void WriteSelect() {
    writing_.swap(select_);
    WriteOut();
  }

  void Flush() {
    if (write_active_ || out_.empty() || state_ != State::kConnected) return;
    writing_.swap(out_);
    out_.clear();
    WriteOut();
  }

  // Writes writing_; then whatever was queued meanwhile (once SELECT, if any, has succeeded).
  void WriteOut() {
    write_active_ = true;
    boost::asio::async_write(socket_, boost::asio::buffer(writing_),
                             [self = shared_from_this(), gen = generation_](boost::system::error_code ec, size_t) {
                               if (gen != self->generation_) return;
                               self->write_active_ = false;
                               self->writing_.clear();
                               if (ec) return self->Lost("redis: write: " + ec.message());
                               self->Flush();
                             });
  }

  void Read() {
    socket_.async_read_some(boost::asio::buffer(in_),
                            [self = shared_from_this(), gen = generation_](boost::system::error_code ec, size_t n) {
                              if (gen != self->generation_) return;
                              if (ec) return self->Lost("redis: connection lost: " + ec.message());
                              if (redisReaderFeed(self->reader_, self->in_.data(), n) != REDIS_OK) {
                                return self->Lost("redis: unreadable reply");
                              }
                              while (true) {
                                void* raw = nullptr;
                                if (redisReaderGetReply(self->reader_, &raw) != REDIS_OK) {
                                  return self->Lost(std::string("redis: bad reply: ") + self->reader_->errstr);
                                }
                                if (raw == nullptr) break;
                                auto* r = static_cast<redisReply*>(raw);
                                if (self->pending_.empty()) {
                                  freeReplyObject(r);
                                  return self->Lost("redis: a reply to no command");
                                }
                                auto on_reply = std::move(self->pending_.front().on_reply);
                                self->pending_.pop_front();
                                self->store_.Deliver(r, on_reply);
                                if (gen != self->generation_)
                                  return;  // a callback's SELECT failure dropped the connection
                              }
                              self->Read();
                            });
  }

  // Fails what is pending and drops the connection; the next command dials again.
  void Lost(const std::string& error) {
    Drop();
    store_.NoteError(error);
    FailAll(error);
  }

  // Ends the connection (its late handlers see another generation) and what was to be written.
  void Drop() {
    ++generation_;
    state_ = State::kIdle;
    boost::system::error_code ignored;
    socket_.close(ignored);
    resolver_.cancel();
    out_.clear();
    write_active_ = false;
  }

  void FailAll(const std::string& error) {
    std::deque<Pending> failed;
    failed.swap(pending_);
    for (auto& p : failed) p.on_reply(Result<Reply>::Error(error));
  }

  void Tick() {
    if (closed_) return;
    if (!pending_.empty() && SteadyMillis() >= pending_.front().deadline_ms) {
      Lost(state_ == State::kConnected || state_ == State::kSelecting
               ? "redis: no reply within " + std::to_string(options_.timeout.count()) + " ms"
               : "redis: cannot connect to " + options_.host + ":" + std::to_string(options_.port) +
                     ": no answer within " + std::to_string(options_.timeout.count()) + " ms");
    }
    tick_.expires_after(std::chrono::milliseconds(kTimerGranularityMs));
    tick_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->Tick();
    });
  }

  boost::asio::io_context& loop_;
  const RedisOptions& options_;
  RedisIdempotencyStore& store_;
  tcp::socket socket_;
  tcp::resolver resolver_;
  boost::asio::steady_timer tick_;
  State state_ = State::kIdle;
  bool closed_ = false;
  uint64_t generation_ = 0;  // bumped when a connection ends: its late handlers do nothing
  std::string out_, writing_, select_;
  bool write_active_ = false, flush_posted_ = false;
  std::array<char, 16384> in_{};
  redisReader* reader_ = nullptr;
  std::deque<Pending> pending_;
};

namespace {
// A callback carried by a handler posted to a loop: if the loop stops before the handler runs,
// the handler's destruction still answers it (exactly once either way).
struct OwedReply {
  explicit OwedReply(std::function<void(Result<RedisIdempotencyStore::Reply>)> f) : fn(std::move(f)) {}
  OwedReply(OwedReply&& other) noexcept : fn(std::exchange(other.fn, nullptr)) {}
  OwedReply(const OwedReply&) = delete;
  OwedReply& operator=(const OwedReply&) = delete;
  OwedReply& operator=(OwedReply&&) = delete;
  ~OwedReply() {
    if (fn) fn(Result<RedisIdempotencyStore::Reply>::Error("redis: store closed"));
  }
  std::function<void(Result<RedisIdempotencyStore::Reply>)> Take() { return std::exchange(fn, nullptr); }
  std::function<void(Result<RedisIdempotencyStore::Reply>)> fn;
};

// The loop connection of the calling thread, if it runs one (of which store).
thread_local struct {
  const void* store = nullptr;
  void* connection = nullptr;
} tl_loop_connection;
}  // namespace

RedisIdempotencyStore::RedisIdempotencyStore(RedisOptions options) : options_(std::move(options)) {
  if (options_.on_loops) {
    // Not ready until a command succeeds: the connections dial when their loops run.
    NoteError("redis: not connected yet");
    return;
  }
  for (size_t i = 0; i < std::max<size_t>(1, options_.lanes); ++i) {
    lanes_.push_back(std::make_unique<Lane>(options_, *this));
  }
}

RedisIdempotencyStore::~RedisIdempotencyStore() { lanes_.clear(); }

void RedisIdempotencyStore::Shutdown() {
  closed_.store(true, std::memory_order_release);
  for (auto& lane : lanes_) lane->Stop();
  std::lock_guard lock(loops_mu_);
  for (auto& weak : loops_) {
    if (auto c = weak.lock()) boost::asio::post(c->loop(), [c] { c->Close(); });
  }
}

std::shared_ptr<void> RedisIdempotencyStore::AttachLoop(boost::asio::io_context& loop) {
  auto connection = std::make_shared<LoopConnection>(loop, options_, *this);
  {
    std::lock_guard lock(loops_mu_);
    loops_.push_back(connection);
  }
  boost::asio::post(loop, [this, c = connection.get()] { tl_loop_connection = {this, c}; });
  connection->Start();
  // Released once the loop no longer runs (the server joins its threads first): what is still
  // pending is failed then, not when the io_context destroys the last handler holding it.
  return std::shared_ptr<void>(nullptr, [connection](void*) { connection->Close(); });
}

void RedisIdempotencyStore::Enqueue(const std::string& key, std::vector<std::string> command,
                                    std::function<void(Result<Reply>)> on_reply) {
  if (!options_.on_loops) {
    lanes_[std::hash<std::string>{}(key) % lanes_.size()]->Push({std::move(command), std::move(on_reply)});
    return;
  }
  if (closed_.load(std::memory_order_acquire)) return on_reply(Result<Reply>::Error("redis: store closed"));
  if (tl_loop_connection.store == this) {
    return static_cast<LoopConnection*>(tl_loop_connection.connection)->Send(command, std::move(on_reply));
  }
  std::shared_ptr<LoopConnection> target;
  {
    std::lock_guard lock(loops_mu_);
    if (!loops_.empty()) target = loops_[std::hash<std::string>{}(key) % loops_.size()].lock();
  }
  if (!target) return on_reply(Result<Reply>::Error("redis: no event loop attached"));
  boost::asio::post(target->loop(),
                    [target, command = std::move(command), owed = OwedReply(std::move(on_reply))]() mutable {
                      target->Send(command, owed.Take());
                    });
}

void RedisIdempotencyStore::Deliver(redisReply* r, const std::function<void(Result<Reply>)>& on_reply) {
  if (r->type == REDIS_REPLY_ERROR) {
    const std::string error = "redis: " + std::string(r->str, r->len);
    freeReplyObject(r);
    NoteError(error);
    return on_reply(Result<Reply>::Error(error));
  }
  Reply reply{r->type, r->str != nullptr ? std::string(r->str, r->len) : std::string()};
  freeReplyObject(r);
  NoteSuccess();
  on_reply(std::move(reply));
}

void RedisIdempotencyStore::NoteError(const std::string& error) {
  std::lock_guard lock(error_mu_);
  last_error_ = error;
  has_error_.store(true, std::memory_order_release);
}

void RedisIdempotencyStore::NoteSuccess() {
  if (!has_error_.load(std::memory_order_acquire)) return;  // the common case: no lock per reply
  std::lock_guard lock(error_mu_);
  last_error_.clear();
  has_error_.store(false, std::memory_order_release);
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

std::string RedisIdempotencyStore::ReadinessAfterPing() {
  if (NotReadyReason().empty()) return {};
  if (options_.on_loops) {
    PingAsync();
  } else {
    (void)Ping();
  }
  return NotReadyReason();
}

void RedisIdempotencyStore::PingAsync() {
  if (closed_.load(std::memory_order_acquire)) return;
  for (auto& lane : lanes_) lane->Push({{"PING"}, [](Result<Reply>) {}});
  std::lock_guard lock(loops_mu_);
  for (auto& weak : loops_) {
    if (auto c = weak.lock()) {
      boost::asio::post(c->loop(), [c] { c->Send({"PING"}, [](Result<Reply>) {}); });
    }
  }
}

Status RedisIdempotencyStore::Ping() {
  if (options_.on_loops && tl_loop_connection.store == this) return Status::Error("redis: Ping on a loop's thread");
  if (closed_.load(std::memory_order_acquire)) return Status::Error("redis: store closed");
  std::vector<std::future<Status>> answers;
  auto waited = [&answers] {
    auto promise = std::make_shared<std::promise<Status>>();
    answers.push_back(promise->get_future());
    return [promise](Result<Reply> r) { promise->set_value(r ? Status() : Status::Error(r.error())); };
  };
  for (auto& lane : lanes_) lane->Push({{"PING"}, waited()});
  {
    std::lock_guard lock(loops_mu_);
    for (auto& weak : loops_) {
      if (auto c = weak.lock()) {
        boost::asio::post(c->loop(), [c, owed = OwedReply(waited())]() mutable { c->Send({"PING"}, owed.Take()); });
      }
    }
  }
  if (answers.empty()) return Status::Error("redis: no connection attached");
  for (auto& answer : answers) {
    if (answer.wait_for(options_.timeout * 3) != std::future_status::ready) return Status::Error("redis: no answer");
    if (auto s = answer.get(); !s) return s;
  }
  return {};
}

}  // namespace tradepipe::gateway
