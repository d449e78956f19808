// tp-loadgen: the project's HTTP load generator for the gateway.
//
//   tp-loadgen --rate 10000 --duration 10          # open loop: fixed arrival rate
//   tp-loadgen --rate 0 --connections 64           # closed loop: as fast as possible
//   tp-loadgen --get /health --rate 0              # the HTTP ceiling, for a same-run baseline
//   tp-loadgen --rate 1000 --trace 127.0.0.1:8005  # end to end: each webhook until its fill is recorded
//
// Open loop: request i is due at start + i/rate whatever happened before; its latency is
// measured from that due time, so a slow server cannot hide its queueing (no coordinated
// omission). Every webhook is uniquely signed (Standard Webhooks), so none is an idempotent
// replay. One io thread, keep-alive connections, one request in flight per connection.
// Output: a summary, or one JSON line with --json (for scripts); a progress line on stderr every
// 5 s of long runs. With --trace, every webhook accepted in the measured window is looked up in
// the audit afterwards (trace.hpp): end-to-end latency from its intended send time to its final
// event recorded, and the path's stage breakdown.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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
#include "trace.hpp"
#include "tradepipe/crypto/standard_webhooks.hpp"

namespace net = boost::asio;
using tcp = net::ip::tcp;
using tradepipe::loadgen::Histogram;
namespace lg = tradepipe::loadgen;

namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t WallNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
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
  std::string trace;  // host:port of the audit; empty: no end-to-end measurement
  double trace_wait_s = 60;
  double progress_s = 5;  // progress line interval on stderr for runs longer than 3 intervals; 0: none
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
    id_ = IdOf(seq);
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

  std::string IdOf(uint64_t seq) const { return "lg" + run_ + "_" + std::to_string(seq); }

 private:
  const Options& o_;
  std::string key_;
  std::string run_;
  std::string id_, body_;  // reused from one request to the next
};

// Counts and latencies of the measured window, and which webhooks were accepted (for --trace).
struct Recorder {
  Histogram latency;
  std::map<int, uint64_t> statuses;
  uint64_t errors = 0;
  std::vector<std::pair<uint64_t, int64_t>> accepted;  // seq, intended send time (steady ns)
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
  void Send(std::string request, int64_t intended_ns, uint64_t seq);

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
  uint64_t seq_ = 0;
  tcp::endpoint endpoint_;
};

class Generator {
 public:
  Generator(net::io_context& ioc, const Options& o) : ioc_(ioc), o_(o), factory_(o), timer_(ioc) {}

  void Run() {
    tcp::resolver resolver(ioc_);
    const tcp::endpoint endpoint = *resolver.resolve(o_.host, std::to_string(o_.port)).begin();
    start_ = Now() + 100'000'000;  // 100 ms to connect
    wall_minus_steady_ = WallNow() - Now();
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
      if (now >= start_) Send(c, now);
      return;
    }
    if (next_due_ns() <= now) {
      Send(c, next_due_ns());
    }
  }

  void OnResponse(int status, int64_t intended_ns, uint64_t seq) {
    --outstanding_;
    if (intended_ns >= measure_from_ && intended_ns < stop_at_) {
      recorder_.Record(status, Now() - intended_ns);
      if (status == 202 && !o_.trace.empty()) recorder_.accepted.emplace_back(seq, intended_ns);
    }
  }
  void OnError() {
    --outstanding_;
    ++recorder_.errors;
  }
  void AddOutstanding() { ++outstanding_; }

  const Recorder& recorder() const { return recorder_; }
  const RequestFactory& factory() const { return factory_; }
  // Wall-clock time of a steady-clock instant of this run (the audit's stamps are wall clock).
  int64_t WallOf(int64_t steady_ns) const { return steady_ns + wall_minus_steady_; }

 private:
  void Send(Connection& c, int64_t intended_ns) {
    const uint64_t seq = seq_++;
    c.Send(factory_.Make(seq), intended_ns, seq);
  }

  // One line on stderr: where a long run is, so nobody waits blind.
  void MaybeProgress(int64_t now) {
    if (o_.progress_s <= 0 || o_.duration_s + o_.warmup_s < 3 * o_.progress_s) return;
    if (now < next_progress_) return;
    const int64_t interval = static_cast<int64_t>(o_.progress_s * 1e9);
    if (next_progress_ == 0) {
      next_progress_ = start_ + interval;
      return;
    }
    next_progress_ += interval;
    const Histogram& h = recorder_.latency;
    const uint64_t done = h.count();
    const double rate = static_cast<double>(done - progress_count_) / o_.progress_s;
    progress_count_ = done;
    std::fprintf(stderr, "tp-loadgen: %5.0f s  sent %lu  measured %lu (%.0f/s)  errors %lu  p50 %.2f ms  p99 %.2f ms\n",
                 static_cast<double>(now - start_) / 1e9, static_cast<unsigned long>(seq_),
                 static_cast<unsigned long>(done), rate, static_cast<unsigned long>(recorder_.errors),
                 static_cast<double>(h.Percentile(50)) / 1e6, static_cast<double>(h.Percentile(99)) / 1e6);
  }

  int64_t next_due_ns() const { return start_ + static_cast<int64_t>(static_cast<double>(seq_) * 1e9 / o_.rate); }

  void Tick() {
    const int64_t now = Now();
    if (now >= stop_at_) return MaybeFinish();
    MaybeProgress(now);
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
  int64_t start_ = 0, measure_from_ = 0, stop_at_ = 0;
  int64_t wall_minus_steady_ = 0;
  int64_t next_progress_ = 0;
  uint64_t progress_count_ = 0;
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

void Connection::Send(std::string request, int64_t intended_ns, uint64_t seq) {
  busy_ = true;
  intended_ns_ = intended_ns;
  seq_ = seq;
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
    gen_.OnResponse(status, intended_ns_, seq_);
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

// "http://host:port" or "host:port" → options; false when it is neither.
bool ParseAuditAddress(std::string address, lg::TraceOptions& t) {
  if (address.rfind("http://", 0) == 0) address.erase(0, 7);
  while (!address.empty() && address.back() == '/') address.pop_back();
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  unsigned port = 0;
  const char* end = address.data() + address.size();
  auto [p, ec] = std::from_chars(address.data() + colon + 1, end, port);
  if (ec != std::errc() || p != end || port == 0 || port > 65535) return false;
  t.host = address.substr(0, colon);
  t.port = static_cast<uint16_t>(port);
  return true;
}

constexpr double kPercentiles[] = {50, 90, 95, 99, 99.9};
constexpr const char* kPercentileKeys[] = {"p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms"};

void WriteLatencies(rapidjson::Writer<rapidjson::StringBuffer>& w, const Histogram& h) {
  for (size_t i = 0; i < std::size(kPercentiles); ++i) {
    w.Key(kPercentileKeys[i]);
    w.Double(Ms(h.Percentile(kPercentiles[i])));
  }
  w.Key("max_ms");
  w.Double(Ms(h.max()));
  w.Key("mean_ms");
  w.Double(h.mean() / 1e6);
}

// Each stage's share of the path: its mean over the sum of the stages' means.
double MeanSum(const lg::TraceReport& t) {
  double sum = 0;
  for (const auto& st : t.stages) sum += st.latency.mean();
  return sum;
}

// Answers with a 2xx status.
uint64_t OkCount(const Recorder& r) {
  uint64_t ok = 0;
  for (auto [status, n] : r.statuses) ok += status >= 200 && status < 300 ? n : 0;
  return ok;
}

std::string ResultJson(const Options& o, const Recorder& r, const lg::TraceReport* t) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  const Histogram& h = r.latency;
  const uint64_t ok = OkCount(r);
  w.StartObject();
  w.Key("mode");
  w.String(o.rate > 0 ? "open" : "closed");
  w.Key("target_rate");
  w.Double(o.rate);
  w.Key("connections");
  w.Int(o.connections);
  w.Key("duration_s");
  w.Double(o.duration_s);
  w.Key("warmup_s");
  w.Double(o.warmup_s);
  w.Key("completed");
  w.Uint64(h.count());
  w.Key("throughput");
  w.Double(static_cast<double>(h.count()) / o.duration_s);
  w.Key("ok_throughput");
  w.Double(static_cast<double>(ok) / o.duration_s);
  w.Key("errors");
  w.Uint64(r.errors);
  w.Key("statuses");
  w.StartObject();
  for (auto [status, n] : r.statuses) {
    w.Key(std::to_string(status).c_str());
    w.Uint64(n);
  }
  w.EndObject();
  WriteLatencies(w, h);
  if (t != nullptr) {
    w.Key("end_to_end");
    w.StartObject();
    w.Key("accepted");
    w.Uint64(r.accepted.size());
    w.Key("final");
    w.Uint64(t->end_to_end.count());
    w.Key("not_final");
    w.Uint64(t->not_final);
    w.Key("final_types");
    w.StartObject();
    for (const auto& [type, n] : t->final_types) {
      w.Key(type.c_str());
      w.Uint64(n);
    }
    w.EndObject();
    w.Key("lookup_errors");
    w.Uint64(t->lookup_errors);
    w.Key("wait_s");
    w.Double(t->wait_s);
    w.Key("throughput");
    w.Double(t->Throughput());
    WriteLatencies(w, t->end_to_end);
    w.Key("stages");
    w.StartArray();
    const double sum = MeanSum(*t);
    for (const auto& st : t->stages) {
      w.StartObject();
      w.Key("stage");
      w.String(st.name.c_str());
      WriteLatencies(w, st.latency);
      w.Key("share");
      w.Double(sum > 0 ? st.latency.mean() / sum : 0);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

void PrintTable(const Options& o, const Recorder& r, const lg::TraceReport* t) {
  const Histogram& h = r.latency;
  const uint64_t ok = OkCount(r);
  std::string statuses;
  for (auto [status, n] : r.statuses) {
    statuses += (statuses.empty() ? "" : ", ") + std::to_string(status) + ": " + std::to_string(n);
  }
  std::printf("%s loop, %d connections, %.1f s measured after %.1f s warm-up%s\n", o.rate > 0 ? "open" : "closed",
              o.connections, o.duration_s, o.warmup_s,
              o.rate > 0 ? (", target " + std::to_string(static_cast<long>(o.rate)) + "/s").c_str() : "");
  std::printf("  completed %lu (%.0f/s), 2xx %.0f/s, connection errors %lu, statuses {%s}\n",
              static_cast<unsigned long>(h.count()), static_cast<double>(h.count()) / o.duration_s,
              static_cast<double>(ok) / o.duration_s, static_cast<unsigned long>(r.errors), statuses.c_str());
  std::printf("  answer ms:      p50 %8.3f  p95 %8.3f  p99 %8.3f  p99.9 %8.3f  max %8.3f\n", Ms(h.Percentile(50)),
              Ms(h.Percentile(95)), Ms(h.Percentile(99)), Ms(h.Percentile(99.9)), Ms(h.max()));
  if (t == nullptr) return;
  const Histogram& e = t->end_to_end;
  std::printf("  end to end ms:  p50 %8.3f  p95 %8.3f  p99 %8.3f  p99.9 %8.3f  max %8.3f\n", Ms(e.Percentile(50)),
              Ms(e.Percentile(95)), Ms(e.Percentile(99)), Ms(e.Percentile(99.9)), Ms(e.max()));
  std::string types;
  for (const auto& [type, n] : t->final_types) types += (types.empty() ? "" : ", ") + type + ": " + std::to_string(n);
  std::printf("    %lu accepted, %lu final {%s}, %lu not final after %.1f s%s\n",
              static_cast<unsigned long>(r.accepted.size()), static_cast<unsigned long>(e.count()), types.c_str(),
              static_cast<unsigned long>(t->not_final), t->wait_s, t->lookup_errors ? " (audit lookups failed)" : "");
  std::printf("    end-to-end throughput %.0f/s (first send to last final event recorded)\n", t->Throughput());
  std::printf("    %-30s %9s %9s %9s %7s\n", "stage", "p50 ms", "p99 ms", "mean ms", "share");
  const double sum = MeanSum(*t);
  for (const auto& st : t->stages) {
    std::printf("    %-30s %9.3f %9.3f %9.3f %6.1f%%\n", st.name.c_str(), Ms(st.latency.Percentile(50)),
                Ms(st.latency.Percentile(99)), st.latency.mean() / 1e6, sum > 0 ? 100 * st.latency.mean() / sum : 0);
  }
}

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
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "seconds sent before measuring")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  app.add_flag("--json", o.json, "print one JSON line");
  app.add_option("--trace", o.trace,
                 "audit address (host:port): after the load, look every accepted webhook up until its final event "
                 "is recorded; end-to-end latency and the stage breakdown");
  app.add_option("--trace-wait", o.trace_wait_s, "seconds to wait for final events after the load")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--progress", o.progress_s, "seconds between progress lines on stderr (runs over 3 of them); 0: none")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (o.get_path.empty() && !tradepipe::crypto::ParseSecret(o.secret)) {
    std::cerr << "tp-loadgen: --secret is not whsec_<base64>\n";
    return 2;
  }
  lg::TraceOptions trace_options;
  trace_options.wait_s = o.trace_wait_s;
  if (!o.trace.empty() && !ParseAuditAddress(o.trace, trace_options)) {
    std::cerr << "tp-loadgen: --trace expects host:port of the audit, e.g. 127.0.0.1:8005\n";
    return 2;
  }
  if (!o.trace.empty() && !o.get_path.empty()) {
    std::cerr << "tp-loadgen: --trace measures webhooks; it cannot be combined with --get\n";
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
  std::optional<lg::TraceReport> trace;
  if (!o.trace.empty()) {
    std::vector<lg::TraceTarget> targets;
    targets.reserve(r.accepted.size());
    for (auto [seq, intended] : r.accepted) {
      targets.push_back({o.source + ":" + gen.factory().IdOf(seq), gen.WallOf(intended)});
    }
    trace = lg::TraceAll(targets, trace_options, [](uint64_t done, uint64_t total) {
      std::fprintf(stderr, "tp-loadgen: traced %lu of %lu accepted webhooks to their final event\n",
                   static_cast<unsigned long>(done), static_cast<unsigned long>(total));
    });
  }
  const lg::TraceReport* t = trace ? &*trace : nullptr;
  if (o.json) {
    std::printf("%s\n", ResultJson(o, r, t).c_str());
  } else {
    PrintTable(o, r, t);
  }
  if (r.errors > 0 && r.latency.count() == 0) return 1;
  return t != nullptr && t->not_final > 0 ? 3 : 0;
}
