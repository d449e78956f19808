// The publish half of the NATS client protocol (https://docs.nats.io/reference/reference-protocols/nats-protocol):
//   -> CONNECT {...} / SUB _INBOX.<token>.* 1 / PING        (once per connection)
//   <- INFO {...} / PONG
//   -> HPUB <subject> _INBOX.<token>.<id> <hdr len> <total len>\r\nNATS/1.0\r\nNats-Msg-Id: <id>\r\n\r\n<data>\r\n
//   <- MSG _INBOX.<token>.<id> 1 <len>\r\n{"stream":"SIGNALS","seq":7[,"duplicate":true]}\r\n
//   <- HMSG ... NATS/1.0 503 (no stream stores that subject: "no responders")
// Everything runs on the loop's thread; publishes made during one turn of the loop are written
// together (the flush is posted behind the handlers already queued).
#include "tradepipe/bus/loop_publisher.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <vector>

#include "pub_ack.hpp"
#include "tradepipe/common/clock.hpp"

namespace tradepipe::bus {
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxLine = 1 << 20;  // an INFO line is a few KiB; anything this long is garbage
constexpr std::string_view kCrLf = "\r\n";

struct Endpoint {
  std::string host, port, user, pass, token;
  std::string display() const { return host + ":" + port; }  // never the credentials
};

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      if (std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16).ptr == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

Result<std::vector<Endpoint>> ParseUrls(std::string_view urls) {
  using R = Result<std::vector<Endpoint>>;
  std::vector<Endpoint> out;
  while (!urls.empty()) {
    const size_t comma = urls.find(',');
    std::string_view url = urls.substr(0, comma);
    urls = comma == std::string_view::npos ? std::string_view() : urls.substr(comma + 1);
    while (!url.empty() && url.front() == ' ') url.remove_prefix(1);
    while (!url.empty() && url.back() == ' ') url.remove_suffix(1);
    if (url.empty()) continue;
    if (url.starts_with("tls://")) return R::Error("tls:// is not supported by the loop publisher");
    if (url.starts_with("nats://")) url.remove_prefix(7);
    Endpoint e;
    if (const size_t at = url.rfind('@'); at != std::string_view::npos) {
      const std::string_view userinfo = url.substr(0, at);
      url.remove_prefix(at + 1);
      if (const size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
        e.user = PercentDecode(userinfo.substr(0, colon));
        e.pass = PercentDecode(userinfo.substr(colon + 1));
      } else {
        e.token = PercentDecode(userinfo);
      }
    }
    if (const size_t slash = url.find('/'); slash != std::string_view::npos) url = url.substr(0, slash);
    std::string_view host = url, port = "4222";
    if (url.starts_with('[')) {  // [::1]:4222
      const size_t close = url.find(']');
      if (close == std::string_view::npos) return R::Error("bad NATS URL: unclosed '['");
      host = url.substr(1, close - 1);
      if (close + 1 < url.size() && url[close + 1] == ':') port = url.substr(close + 2);
    } else if (const size_t colon = url.rfind(':'); colon != std::string_view::npos) {
      host = url.substr(0, colon);
      port = url.substr(colon + 1);
    }
    if (host.empty() || port.empty()) return R::Error("bad NATS URL: no host or port");
    e.host = host;
    e.port = port;
    out.push_back(std::move(e));
  }
  if (out.empty()) return R::Error("no NATS URL");
  return out;
}

std::string RandomToken() {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device device;
  std::mt19937_64 rng((static_cast<uint64_t>(device()) << 32) ^ device());
  std::string token(22, ' ');
  for (char& c : token) c = kAlphabet[rng() % kAlphabet.size()];
  return token;
}

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      std::array<char, 8> buf{};
      std::snprintf(buf.data(), buf.size(), "\\u%04x", c);
      out += buf.data();
    } else {
      out += c;
    }
  }
  out += '"';
}

void AppendNumber(std::string& out, uint64_t n) {
  std::array<char, 24> buf{};
  const auto end = std::to_chars(buf.data(), buf.data() + buf.size(), n).ptr;
  out.append(buf.data(), end);
}

// Whitespace-separated tokens of a protocol line (at most 6 are ever needed).
size_t Split(std::string_view line, std::array<std::string_view, 6>& tokens) {
  size_t n = 0;
  size_t i = 0;
  while (i < line.size() && n < tokens.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) tokens[n++] = line.substr(start, i - start);
  }
  return n;
}

bool ToSize(std::string_view s, size_t& out) {
  return !s.empty() && std::from_chars(s.data(), s.data() + s.size(), out).ptr == s.data() + s.size();
}

bool StartsWithOp(std::string_view line, std::string_view op) {
  if (line.size() < op.size()) return false;
  for (size_t i = 0; i < op.size(); ++i) {
    char c = line[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');  // ops are case-insensitive
    if (c != op[i]) return false;
  }
  return line.size() == op.size() || line[op.size()] == ' ' || line[op.size()] == '\t';
}

bool SafeToken(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

struct LoopPublisher::Impl : std::enable_shared_from_this<Impl> {
  enum class State { kWaiting, kConnecting, kHandshake, kConnected, kClosed };
  struct Pending {
    PublishCallback done;
    int64_t deadline_ms;
    int64_t timeout_ms;  // for the error text
  };

  Impl(net::io_context& io, LoopPublisherOptions opts)
      : loop(io), options(std::move(opts)), socket(io), resolver(io), retry_timer(io), tick_timer(io) {
    if (auto parsed = ParseUrls(options.url)) {
      endpoints = std::move(*parsed);
    } else {
      SetReason("nats: " + parsed.error());
    }
    inbox_prefix = "_INBOX." + RandomToken() + ".";
  }

  // ---- any thread ----

  void SetReason(std::string why) {
    std::lock_guard lock(reason_mu);
    reason = std::move(why);
  }

  // ---- loop thread ----

  void Connect() {
    if (state == State::kClosed || endpoints.empty()) return;
    state = State::kConnecting;
    connect_started_ms = SteadyMillis();
    const Endpoint& e = endpoints[next_endpoint++ % endpoints.size()];
    current = &e;
    const uint64_t gen = ++generation;
    resolver.async_resolve(
        e.host, e.port, [self = shared_from_this(), gen](auto ec, tcp::resolver::results_type found) {
          if (gen != self->generation) return;
          if (ec) return self->Lost("cannot resolve " + self->current->display() + ": " + ec.message());
          net::async_connect(self->socket, found, [self, gen](auto ec2, const tcp::endpoint&) {
            if (gen != self->generation) return;
            if (ec2) return self->Lost("cannot connect to " + self->current->display() + ": " + ec2.message());
            boost::system::error_code ignored;
            self->socket.set_option(tcp::no_delay(true), ignored);
            self->state = State::kHandshake;
            self->in.assign(kReadChunk, '\0');
            self->in_begin = self->in_end = 0;
            self->Read();
          });
        });
  }

  void Read() {
    if (in.size() - in_end < kReadChunk / 4) {
      if (in_begin > 0) {  // compact
        std::memmove(in.data(), in.data() + in_begin, in_end - in_begin);
        in_end -= in_begin;
        in_begin = 0;
      }
      if (in.size() - in_end < kReadChunk / 4) in.resize(in.size() * 2);
    }
    const uint64_t gen = generation;
    socket.async_read_some(
        net::buffer(in.data() + in_end, in.size() - in_end),
        [self = shared_from_this(), gen](boost::system::error_code ec, size_t n) {
          if (gen != self->generation) return;
          if (ec) {
            return self->Lost(ec == net::error::eof ? "the server closed the connection" : "read: " + ec.message());
          }
          self->in_end += n;
          if (!self->Parse()) return;  // the connection was dropped
          if (self->in_begin == self->in_end) self->in_begin = self->in_end = 0;
          self->Read();
        });
  }

  // Consumes every complete protocol message in the buffer. False when the connection was dropped.
  bool Parse() {
    const uint64_t gen = generation;
    while (in_begin < in_end) {
      const std::string_view buffered(in.data() + in_begin, in_end - in_begin);
      const size_t eol = buffered.find(kCrLf);
      if (eol == std::string_view::npos) {
        if (buffered.size() > kMaxLine) return Lost("protocol line too long"), false;
        return true;
      }
      const std::string_view line = buffered.substr(0, eol);
      size_t consumed = eol + 2;
      std::array<std::string_view, 6> t{};
      if (StartsWithOp(line, "MSG") || StartsWithOp(line, "HMSG")) {
        const bool with_headers = line[0] == 'H' || line[0] == 'h';
        const size_t n = Split(line, t);
        size_t hdr_len = 0, total = 0;
        const bool ok = with_headers ? (n == 5 || n == 6) && ToSize(t[n - 2], hdr_len) && ToSize(t[n - 1], total) &&
                                           hdr_len <= total
                                     : (n == 4 || n == 5) && ToSize(t[n - 1], total);
        // Our inbox only ever receives PubAcks (tens of bytes): a larger announced size is garbage.
        if (!ok || total > kMaxLine) return Lost("malformed protocol line: " + std::string(line.substr(0, 64))), false;
        if (buffered.size() < consumed + total + 2) return true;  // wait for the payload
        if (buffered.substr(consumed + total, 2) != kCrLf) return Lost("payload not followed by CRLF"), false;
        const std::string_view body = buffered.substr(consumed, total);
        consumed += total + 2;
        OnReply(t[1], body.substr(0, hdr_len), body.substr(hdr_len));
      } else if (StartsWithOp(line, "PING")) {
        out += "PONG\r\n";
        ScheduleFlush();
      } else if (StartsWithOp(line, "PONG")) {
        pings_out = 0;
        if (state == State::kHandshake) OnHandshakeDone();
      } else if (StartsWithOp(line, "+OK")) {
      } else if (StartsWithOp(line, "-ERR")) {
        const std::string text(line.substr(std::min<size_t>(5, line.size())));
        if (state == State::kHandshake) return Lost("server refused the connection: " + text), false;
        spdlog::warn("nats publisher: server error {}", text);
      } else if (StartsWithOp(line, "INFO")) {
        if (!OnInfo(line.substr(std::min<size_t>(5, line.size())))) return false;
      } else {
        return Lost("unexpected protocol line: " + std::string(line.substr(0, 64))), false;
      }
      if (gen != generation) return false;  // a callback closed the connection
      in_begin += consumed;
    }
    return true;
  }

  bool OnInfo(std::string_view json) {
    scratch.assign(json);
    scratch.resize(json.size() + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object info;
    if (parser.iterate(scratch.data(), json.size(), scratch.size()).get(doc) || doc.get_object().get(info)) {
      return Lost("unreadable INFO from the server"), false;
    }
    bool tls_required = false, headers = false, lame_duck = false;
    for (auto field : info) {
      std::string_view key;
      if (field.unescaped_key().get(key)) break;
      if (key == "max_payload") {
        uint64_t v = 0;
        if (!field.value().get_uint64().get(v)) max_payload = v;
      } else if (key == "tls_required") {
        bool v = false;
        tls_required = !field.value().get_bool().get(v) && v;
      } else if (key == "headers") {
        bool v = false;
        headers = !field.value().get_bool().get(v) && v;
      } else if (key == "ldm") {
        bool v = false;
        lame_duck = !field.value().get_bool().get(v) && v;
      }
    }
    if (lame_duck && state == State::kConnected) {  // the server is draining: move on before it closes
      return Lost("the server entered lame duck mode"), false;
    }
    if (state != State::kHandshake || sent_connect) return true;  // a later INFO (cluster change)
    if (tls_required) return Lost("the server requires TLS, which the loop publisher does not speak"), false;
    if (!headers) return Lost("the server does not support headers (nats-server 2.2 or later needed)"), false;
    std::string connect = R"(CONNECT {"verbose":false,"pedantic":false,"tls_required":false,"lang":"cpp-tradepipe",)"
                          R"("version":"1","protocol":1,"headers":true,"no_responders":true,"echo":false,"name":)";
    AppendJsonString(connect, options.name);
    if (!current->user.empty()) {
      connect += ",\"user\":";
      AppendJsonString(connect, current->user);
      connect += ",\"pass\":";
      AppendJsonString(connect, current->pass);
    } else if (!current->token.empty()) {
      connect += ",\"auth_token\":";
      AppendJsonString(connect, current->token);
    }
    connect += "}\r\nSUB ";
    connect += inbox_prefix;
    connect += "* 1\r\nPING\r\n";
    out = std::move(connect);
    sent_connect = true;
    Flush();
    return true;
  }

  void OnHandshakeDone() {
    state = State::kConnected;
    connected.store(true, std::memory_order_release);
    SetReason({});
    failures = 0;
    spdlog::info("nats publisher connected server={}", current->display());
  }

  void OnReply(std::string_view subject, std::string_view headers, std::string_view payload) {
    if (!subject.starts_with(inbox_prefix)) return;
    uint64_t id = 0;
    const std::string_view digits = subject.substr(inbox_prefix.size());
    if (std::from_chars(digits.data(), digits.data() + digits.size(), id).ptr != digits.data() + digits.size()) return;
    const uint64_t front = FrontId();
    if (id < front || id - front >= pending.size() || !pending[id - front].done) return;  // late: timed out
    PublishCallback done = std::move(pending[id - front].done);
    pending[id - front].done = nullptr;
    PopCompleted();
    done(Decode(headers, payload));
  }

  // "NATS/1.0 503 No Responders\r\n...": the status code and its text; empty without a status.
  static std::pair<std::string_view, std::string_view> StatusOf(std::string_view headers) {
    constexpr std::string_view kVersion = "NATS/1.0";
    std::string_view line = headers.substr(0, headers.find(kCrLf));
    if (!line.starts_with(kVersion)) return {};
    line.remove_prefix(kVersion.size());
    while (line.starts_with(' ')) line.remove_prefix(1);
    const std::string_view code = line.substr(0, std::min<size_t>(3, line.size()));
    std::string_view text = line.substr(code.size());
    while (text.starts_with(' ')) text.remove_prefix(1);
    return {code, text};
  }

  Result<PublishAck> Decode(std::string_view headers, std::string_view payload) {
    const auto [status, description] = StatusOf(headers);
    return pub_acks.Decode(status, description, payload);
  }

  // `deadline_ms` (steady) was fixed by Publish, so time spent posted to the loop counts.
  void PublishHere(std::string_view subject, std::string_view msg_id, std::string_view data, int64_t timeout_ms,
                   int64_t deadline_ms, PublishCallback done) {
    using R = Result<PublishAck>;
    if (state != State::kConnected) return done(R::Error(NotReadyReason()));
    if (!SafeToken(subject)) return done(R::Error("subject must be non-empty without spaces or control characters"));
    if (msg_id.empty()) return done(R::Error("message id must not be empty (it is the duplicate check)"));
    for (const char c : msg_id) {
      if (static_cast<unsigned char>(c) < ' ' || c == 0x7f) {
        return done(R::Error("message id must not contain CR, LF or other control characters"));
      }
    }
    constexpr std::string_view kHeadStart = "NATS/1.0\r\nNats-Msg-Id: ";
    constexpr std::string_view kHeadEnd = "\r\n\r\n";
    const size_t hdr_len = kHeadStart.size() + msg_id.size() + kHeadEnd.size();
    const size_t total = hdr_len + data.size();
    if (total > max_payload) {
      return done(R::Error("message of " + std::to_string(total) + " bytes exceeds the server's max_payload of " +
                           std::to_string(max_payload)));
    }
    const uint64_t id = next_id++;
    out.reserve(out.size() + subject.size() + inbox_prefix.size() + total + 64);
    out += "HPUB ";
    out += subject;
    out += ' ';
    out += inbox_prefix;
    AppendNumber(out, id);
    out += ' ';
    AppendNumber(out, hdr_len);
    out += ' ';
    AppendNumber(out, total);
    out += kCrLf;
    out += kHeadStart;
    out += msg_id;
    out += kHeadEnd;
    out += data;
    out += kCrLf;
    pending.push_back({std::move(done), deadline_ms, timeout_ms});
    ScheduleFlush();
  }

  void ScheduleFlush() {
    if (write_active || flush_posted) return;
    flush_posted = true;
    // Behind the handlers already queued: what they publish leaves in the same write.
    net::post(loop, [self = shared_from_this(), gen = generation] {
      self->flush_posted = false;
      if (gen == self->generation) self->Flush();
    });
  }

  void Flush() {
    if (write_active || out.empty() || (state != State::kHandshake && state != State::kConnected)) return;
    writing.swap(out);
    out.clear();
    write_active = true;
    const uint64_t gen = generation;
    net::async_write(socket, net::buffer(writing),
                     [self = shared_from_this(), gen](boost::system::error_code ec, size_t) {
                       if (gen != self->generation) return;
                       self->write_active = false;
                       self->writing.clear();
                       if (ec) return self->Lost("write: " + ec.message());
                       self->Flush();
                     });
  }

  // Ids are handed out in order and only ever leave from the front, so the deque holds the
  // contiguous ids [next_id - size, next_id).
  uint64_t FrontId() const { return next_id - pending.size(); }

  void PopCompleted() {
    while (!pending.empty() && !pending.front().done) pending.pop_front();
  }

  void FailAll(const std::string& why) {
    std::deque<Pending> failed;
    failed.swap(pending);
    for (auto& p : failed) {
      if (p.done) p.done(Result<PublishAck>::Error(why));
    }
  }

  void Lost(const std::string& why) {
    if (state == State::kClosed) return;
    const bool was_connected = state == State::kConnected;
    ++generation;
    boost::system::error_code ignored;
    socket.close(ignored);
    resolver.cancel();
    state = State::kWaiting;
    sent_connect = false;
    connected.store(false, std::memory_order_release);
    write_active = false;
    out.clear();
    writing.clear();
    in_begin = in_end = 0;
    pings_out = 0;
    SetReason("nats: " + why);
    if (was_connected || failures % 40 == 0) spdlog::warn("nats publisher disconnected reason={}, reconnecting", why);
    ++failures;
    FailAll("nats connection lost (" + why + "); the message may have been stored, retry with the same id");
    retry_timer.expires_after(std::chrono::milliseconds(options.reconnect_wait_ms));
    retry_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && self->state == State::kWaiting) self->Connect();
    });
  }

  // Every 50 ms: fail publishes past their deadline, and PING the server now and then so a silent
  // one is noticed. Deadlines differ per publish (a webhook's remaining budget), so the whole
  // queue is looked at; it holds at most the gateway's in-flight bound.
  void Tick() {
    tick_timer.expires_after(std::chrono::milliseconds(LoopPublisher::kTimerGranularityMs));
    tick_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->state == State::kClosed) return;
      const int64_t now = SteadyMillis();
      std::vector<std::pair<PublishCallback, int64_t>> expired;
      for (Pending& p : self->pending) {
        if (p.done && p.deadline_ms <= now) expired.emplace_back(std::move(p.done), p.timeout_ms);
      }
      self->PopCompleted();
      // After the queue is consistent again: a callback may publish.
      for (auto& [done, timeout_ms] : expired) {
        done(Result<PublishAck>::Error("no PubAck within " + std::to_string(timeout_ms) +
                                       " ms; the message may have been stored, retry with the same id"));
      }
      // A server that accepts the TCP connection but never finishes the handshake (stalled, or a
      // peer gone without a reset) is given up on, so the next URL gets its turn.
      if ((self->state == State::kConnecting || self->state == State::kHandshake) &&
          now - self->connect_started_ms >= self->options.connect_timeout_ms) {
        self->Lost("no handshake within " + std::to_string(self->options.connect_timeout_ms) + " ms");
      }
      if (self->state == State::kConnected && now - self->last_ping_ms >= self->options.ping_interval_ms) {
        self->last_ping_ms = now;
        if (self->pings_out >= 2) {
          self->Lost("no PONG to two PINGs");
        } else {
          ++self->pings_out;
          self->out += "PING\r\n";
          self->ScheduleFlush();
        }
      }
      self->Tick();
    });
  }

  std::string NotReadyReason() const {
    if (connected.load(std::memory_order_acquire)) return {};
    std::lock_guard lock(reason_mu);
    return reason.empty() ? "nats: connecting" : reason;
  }

  void Close() {
    closed.store(true, std::memory_order_release);
    if (state == State::kClosed) return;
    state = State::kClosed;
    ++generation;
    connected.store(false);
    SetReason("nats: publisher closed");
    boost::system::error_code ignored;
    socket.close(ignored);
    retry_timer.cancel();
    tick_timer.cancel();
    FailAll("publisher closed");
  }

  net::io_context& loop;
  LoopPublisherOptions options;
  std::vector<Endpoint> endpoints;
  size_t next_endpoint = 0;
  const Endpoint* current = nullptr;
  tcp::socket socket;
  tcp::resolver resolver;
  net::steady_timer retry_timer, tick_timer;

  State state = State::kWaiting;
  uint64_t generation = 0;  // bumped when a connection ends: its late handlers do nothing
  bool sent_connect = false;
  int failures = 0;
  int pings_out = 0;
  int64_t last_ping_ms = 0;
  int64_t connect_started_ms = 0;
  std::atomic<bool> connected{false};
  std::atomic<bool> closed{false};  // set by Close: later Publish calls fail at once
  mutable std::mutex reason_mu;
  std::string reason = "nats: connecting";

  std::string inbox_prefix;  // "_INBOX.<random>."
  size_t max_payload = 1 << 20;
  std::string out, writing;  // bytes to send next / under async_write
  bool write_active = false, flush_posted = false;
  std::vector<char> in;
  size_t in_begin = 0, in_end = 0;
  std::string scratch;                // simdjson needs padding after the text
  simdjson::ondemand::parser parser;  // for INFO
  PubAckDecoder pub_acks;

  std::deque<Pending> pending;  // pending[i] has id FrontId() + i
  uint64_t next_id = 1;
};

std::shared_ptr<LoopPublisher> LoopPublisher::Create(boost::asio::io_context& loop, LoopPublisherOptions options) {
  return std::shared_ptr<LoopPublisher>(new LoopPublisher(std::make_shared<Impl>(loop, std::move(options))));
}

LoopPublisher::LoopPublisher(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

LoopPublisher::~LoopPublisher() { Close(); }

void LoopPublisher::Start() {
  net::post(impl_->loop, [impl = impl_] {
    impl->Connect();
    impl->Tick();
  });
}

void LoopPublisher::Close() { impl_->Close(); }

void LoopPublisher::Publish(std::string_view subject, std::string_view msg_id, std::string_view data,
                            PublishCallback done, int64_t timeout_ms) {
  if (impl_->closed.load(std::memory_order_acquire)) return done(Result<PublishAck>::Error("publisher closed"));
  if (timeout_ms <= 0) timeout_ms = impl_->options.publish_timeout_ms;
  const int64_t deadline_ms = SteadyMillis() + timeout_ms;
  if (OnLoopThread()) return impl_->PublishHere(subject, msg_id, data, timeout_ms, deadline_ms, std::move(done));
  net::post(impl_->loop, [impl = impl_, subject = std::string(subject), msg_id = std::string(msg_id),
                          data = std::string(data), timeout_ms, deadline_ms, done = std::move(done)]() mutable {
    impl->PublishHere(subject, msg_id, data, timeout_ms, deadline_ms, std::move(done));
  });
}

bool LoopPublisher::OnLoopThread() const { return impl_->loop.get_executor().running_in_this_thread(); }

bool LoopPublisher::Connected() const { return impl_->connected.load(std::memory_order_acquire); }

std::string LoopPublisher::NotReadyReason() const { return impl_->NotReadyReason(); }

}  // namespace tradepipe::bus
