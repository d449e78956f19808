// tp-loadgen: the project's HTTP load generator for the gateway.
//
//   tp-loadgen --rate 10000 --duration 10          # open loop: fixed arrival rate
//   tp-loadgen --rate 0 --connections 64           # closed loop: as fast as possible
//   tp-loadgen --get /health --rate 0              # the HTTP ceiling, for a same-run baseline
//
// Open loop: request i is due at start + i/rate whatever happened before; its latency is
// measured from that due time, so a slow server cannot hide its queueing (no coordinated
// omission). Every webhook is uniquely signed (Standard Webhooks), so none is an idempotent
// replay. One io thread, keep-alive connections, one request in flight per connection.
// Output: a summary, or one JSON line with --json (for scripts). End-to-end measurement
// (matching ids with the audit trail) is meant to hook in at `Recorder`.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "histogram.hpp"
#include "tradepipe/crypto/standard_webhooks.hpp"

namespace net = boost::asio;
using tcp = net::ip::tcp;
using tradepipe::loadgen::Histogram;

namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 8001;
  std::string source = "demo";
  std::string secret = "whsec_dHJhZGVwaXBlLWRlbW8tc2VjcmV0";  // the public DEMO key
  std::string get_path;                                       // non-empty: GET this path instead of signed webhooks
  int connections = 32;
  double rate = 0;  // 0: closed loop
  double duration_s = 10;
  double warmup_s = 1;
  bool json = false;
};

// Builds uniquely signed webhook requests (or plain GETs).
class RequestFactory {
 public:
  explicit RequestFactory(const Options& o)
      : o_(o), key_(o.get_path.empty() ? *tradepipe::crypto::ParseSecret(o.secret) : std::string()) {
    run_ = std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1'000'000'000);
  }

  // Built with few allocations: the generator's own CPU counts against the machine it measures.
  std::string Make(uint64_t seq) {
    if (!o_.get_path.empty()) return "GET " + o_.get_path + " HTTP/1.1\r\nHost: tradepipe\r\n\r\n";
    static const char* kSymbols[] = {"AAPL", "MSFT", "NVDA", "BTCUSD"};
    id_.assign("lg").append(run_).append("_").append(std::to_string(seq));
    const std::string ts = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    body_.assign("{\"symbol\":\"")
        .append(kSymbols[seq % 4])
        .append("\",\"action\":\"")
        .append(seq % 2 ? "buy" : "sell")
        .append("\",\"qty\":")
        .append(std::to_string(1 + seq % 10))
        .append("}");
    std::string r;
    r.reserve(384 + body_.size());
    r.append("POST /webhook/")
        .append(o_.source)
        .append(" HTTP/1.1\r\nHost: tradepipe\r\nContent-Type: application/json\r\nwebhook-id: ")
        .append(id_)
        .append("\r\nwebhook-timestamp: ")
        .append(ts)
        .append("\r\nwebhook-signature: ")
        .append(tradepipe::crypto::Sign(key_, id_, ts, body_))
        .append("\r\nContent-Length: ")
        .append(std::to_string(body_.size()))
        .append("\r\n\r\n")
        .append(body_);
    return r;
  }

 private:
  const Options& o_;
  std::string key_;
  std::string run_;
  std::string id_, body_;  // reused from one request to the next
};

// Counts and latencies of the measured window.
struct Recorder {
  Histogram latency;
  std::map<int, uint64_t> statuses;
  uint64_t errors = 0;
  void Record(int status, int64_t latency_ns) {
    ++statuses[status];
    latency.Record(latency_ns);
  }
};

class Generator;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& ioc, Generator& gen) : socket_(ioc), gen_(gen) {}
  void Start(const tcp::endpoint& endpoint);
  bool idle() const { return ready_ && !busy_; }
  void Send(std::string request, int64_t intended_ns);

 private:
  void Read();
  void OnData(size_t n);
  void Fail();

  tcp::socket socket_;
  Generator& gen_;
  std::string out_;
  std::string in_;
  std::array<char, 16384> chunk_{};
  bool ready_ = false;
  bool busy_ = false;
  int64_t intended_ns_ = 0;
  tcp::endpoint endpoint_;
};

class Generator {
 public:
  Generator(net::io_context& ioc, const Options& o) : ioc_(ioc), o_(o), factory_(o), timer_(ioc) {}

  void Run() {
    tcp::resolver resolver(ioc_);
    const tcp::endpoint endpoint = *resolver.resolve(o_.host, std::to_string(o_.port)).begin();
    start_ = Now() + 100'000'000;  // 100 ms to connect
    measure_from_ = start_ + static_cast<int64_t>(o_.warmup_s * 1e9);
    stop_at_ = measure_from_ + static_cast<int64_t>(o_.duration_s * 1e9);
    for (int i = 0; i < o_.connections; ++i) {
      conns_.push_back(std::make_shared<Connection>(ioc_, *this));
      conns_.back()->Start(endpoint);
    }
    Tick();
    ioc_.run();
  }

  // A connection is free: give it the oldest due request (open loop) or the next one (closed).
  void OnIdle(Connection& c) {
    const int64_t now = Now();
    if (now >= stop_at_) return MaybeFinish();
    if (o_.rate <= 0) {
      if (now >= start_) c.Send(factory_.Make(seq_++), now);
      return;
    }
    if (next_due_ns() <= now) {
      const int64_t due = next_due_ns();
      c.Send(factory_.Make(seq_++), due);
    }
  }

  void OnResponse(int status, int64_t intended_ns) {
    --outstanding_;
    if (intended_ns >= measure_from_ && intended_ns < stop_at_) {
      recorder_.Record(status, Now() - intended_ns);
      ++completed_in_window_;
    }
  }
  void OnError() {
    --outstanding_;
    ++recorder_.errors;
  }
  void AddOutstanding() { ++outstanding_; }

  const Recorder& recorder() const { return recorder_; }
  uint64_t sent() const { return seq_; }
  double window_s() const { return o_.duration_s; }

 private:
  int64_t next_due_ns() const { return start_ + static_cast<int64_t>(static_cast<double>(seq_) * 1e9 / o_.rate); }

  void Tick() {
    const int64_t now = Now();
    if (now >= stop_at_) return MaybeFinish();
    for (auto& c : conns_) {
      if (o_.rate > 0 && next_due_ns() > now) break;
      if (c->idle()) OnIdle(*c);
    }
    // Wake for the next due request, or poll every 200 µs while all connections are busy.
    const int64_t wait = o_.rate > 0 ? std::clamp<int64_t>(next_due_ns() - Now(), 0, 1'000'000) : 5'000'000;
    timer_.expires_after(std::chrono::nanoseconds(std::max<int64_t>(wait, 50'000)));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) Tick();
    });
  }

  void MaybeFinish() {
    if (finishing_) return;
    finishing_ = true;
    // Give outstanding requests up to 5 s, then stop.
    auto wait = std::make_shared<net::steady_timer>(ioc_);
    auto poll = std::make_shared<std::function<void(int)>>();
    *poll = [this, wait, poll](int left) {
      if (outstanding_ <= 0 || left == 0) return ioc_.stop();
      wait->expires_after(std::chrono::milliseconds(10));
      wait->async_wait([poll, left](boost::system::error_code) { (*poll)(left - 1); });
    };
    (*poll)(500);
  }

  net::io_context& ioc_;
  const Options& o_;
  RequestFactory factory_;
  net::steady_timer timer_;
  std::vector<std::shared_ptr<Connection>> conns_;
  Recorder recorder_;
  uint64_t seq_ = 0;
  int64_t outstanding_ = 0;
  uint64_t completed_in_window_ = 0;
  int64_t start_ = 0, measure_from_ = 0, stop_at_ = 0;
  bool finishing_ = false;
};

void Connection::Start(const tcp::endpoint& endpoint) {
  endpoint_ = endpoint;
  socket_.async_connect(endpoint, [self = shared_from_this()](boost::system::error_code ec) {
    if (ec) return self->Fail();
    self->socket_.set_option(tcp::no_delay(true));
    self->ready_ = true;
    self->Read();
    self->gen_.OnIdle(*self);
  });
}

void Connection::Send(std::string request, int64_t intended_ns) {
  busy_ = true;
  intended_ns_ = intended_ns;
  out_ = std::move(request);
  gen_.AddOutstanding();
  net::async_write(socket_, net::buffer(out_), [self = shared_from_this()](boost::system::error_code ec, size_t) {
    if (ec) self->Fail();
  });
}

void Connection::Read() {
  socket_.async_read_some(net::buffer(chunk_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
    if (ec) return self->Fail();
    self->OnData(n);
    self->Read();
  });
}

void Connection::OnData(size_t n) {
  in_.append(chunk_.data(), n);
  while (true) {
    const std::string_view in(in_);
    const size_t header_end = in.find("\r\n\r\n");
    if (header_end == std::string_view::npos) return;
    size_t content_length = 0;
    for (const std::string_view name : {"Content-Length: ", "content-length: "}) {
      const size_t at = in.find(name);
      if (at != std::string_view::npos && at < header_end) {
        std::from_chars(in.data() + at + name.size(), in.data() + header_end, content_length);
      }
    }
    const size_t total = header_end + 4 + content_length;
    if (in.size() < total) return;
    int status = 0;
    if (in.size() > 12) std::from_chars(in.data() + 9, in.data() + 12, status);
    in_.erase(0, total);
    if (!busy_) continue;  // an unsolicited answer (e.g. 408): ignore
    busy_ = false;
    gen_.OnResponse(status, intended_ns_);
    gen_.OnIdle(*this);
  }
}

void Connection::Fail() {
  if (busy_) gen_.OnError();
  busy_ = false;
  ready_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
  // Reconnect after a short pause, as a real client pool would.
  auto timer = std::make_shared<net::steady_timer>(socket_.get_executor());
  timer->expires_after(std::chrono::milliseconds(50));
  timer->async_wait([self = shared_from_this(), timer](boost::system::error_code) {
    self->socket_ = tcp::socket(self->socket_.get_executor());
    self->in_.clear();
    self->Start(self->endpoint_);
  });
}

double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app("tp-loadgen: signed webhooks against the tradepipe gateway, open or closed loop");
  app.add_option("--host", o.host, "gateway host")->capture_default_str();
  app.add_option("--port", o.port, "gateway port")->capture_default_str();
  app.add_option("--source", o.source, "webhook source")->capture_default_str();
  app.add_option("--secret", o.secret, "whsec_ secret of the source (default: the public DEMO key)");
  app.add_option("--get", o.get_path, "GET this path instead (HTTP baseline, e.g. /health)");
  app.add_option("--connections,-c", o.connections, "keep-alive connections")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--rate,-r", o.rate, "requests per second (open loop); 0 = as fast as possible (closed loop)")
      ->check(CLI::Range(0.0, 1e7))
      ->capture_default_str();
  app.add_option("--duration,-d", o.duration_s, "measured seconds")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "seconds sent before measuring")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  app.add_flag("--json", o.json, "print one JSON line");
  CLI11_PARSE(app, argc, argv);
  if (o.get_path.empty() && !tradepipe::crypto::ParseSecret(o.secret)) {
    std::cerr << "tp-loadgen: --secret is not whsec_<base64>\n";
    return 2;
  }

  net::io_context ioc(1);
  Generator gen(ioc, o);
  try {
    gen.Run();
  } catch (const std::exception& e) {
    std::cerr << "tp-loadgen: " << e.what() << "\n";
    return 1;
  }
  const Recorder& r = gen.recorder();
  const Histogram& h = r.latency;
  const double throughput = static_cast<double>(h.count()) / o.duration_s;
  uint64_t ok = 0;
  std::string statuses;
  for (auto [status, n] : r.statuses) {
    if (status >= 200 && status < 300) ok += n;
    statuses += (statuses.empty() ? "" : ",") + ("\"" + std::to_string(status) + "\":" + std::to_string(n));
  }
  if (o.json) {
    std::printf(
        "{\"mode\":\"%s\",\"target_rate\":%.0f,\"connections\":%d,\"duration_s\":%.1f,\"completed\":%lu,"
        "\"throughput\":%.1f,\"ok_throughput\":%.1f,\"errors\":%lu,\"statuses\":{%s},\"p50_ms\":%.3f,"
        "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
        o.rate > 0 ? "open" : "closed", o.rate, o.connections, o.duration_s, static_cast<unsigned long>(h.count()),
        throughput, static_cast<double>(ok) / o.duration_s, static_cast<unsigned long>(r.errors), statuses.c_str(),
        Ms(h.Percentile(50)), Ms(h.Percentile(90)), Ms(h.Percentile(99)), Ms(h.Percentile(99.9)), Ms(h.max()));
  } else {
    std::printf("%s loop, %d connections, %.1f s measured after %.1f s warm-up%s\n", o.rate > 0 ? "open" : "closed",
                o.connections, o.duration_s, o.warmup_s,
                o.rate > 0 ? (", target " + std::to_string(static_cast<long>(o.rate)) + "/s").c_str() : "");
    std::printf("  completed %lu (%.0f/s), 2xx %.0f/s, connection errors %lu, statuses {%s}\n",
                static_cast<unsigned long>(h.count()), throughput, static_cast<double>(ok) / o.duration_s,
                static_cast<unsigned long>(r.errors), statuses.c_str());
    std::printf("  latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (histogram error < 0.8 %%)\n",
                Ms(h.Percentile(50)), Ms(h.Percentile(90)), Ms(h.Percentile(99)), Ms(h.Percentile(99.9)), Ms(h.max()));
  }
  return r.errors > 0 && h.count() == 0 ? 1 : 0;
}
