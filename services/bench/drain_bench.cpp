// Drain benchmark (docs/trading-core.md "Speed"): pre-loads a stream with N messages, then times a
// consumer emptying it with every output published and PubAcked before its input is acked:
//
//   bare     this process, the services' own consume path (bus::ConsumerLoop + bus::ForwardBatch
//            with its de-duplication set, the same batch size and allocator) with no logic: each input is
//            copied to one output;
//   service  the real agent (SIGNALS -> ORDERS) or exec-sim (ORDERS -> EXECUTIONS) binary.
//
// Rounds alternate bare and service, each on a fresh nats-server (loopback, ephemeral port,
// temporary directory); the drain rate is N / (first delivery -> ack floor at N), read from the
// server's consumer state every 5 ms. Medians over the rounds, and the service as a ratio of the
// bare drain of the same round.
//
//   build/release/services/bench/drain_bench --service agent --messages 100000 --rounds 3
//   build/release/services/bench/drain_bench --service exec-sim --bin-dir build/release/services
//   ... --require-targets   exits 1 unless the medians meet the targets (>= 0.8x bare, >= 50,000 msg/s)
#include <fcntl.h>
#include <nats/nats.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "nats_server.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/bus/forward.hpp"
#include "tradepipe/bus/seen_ids.hpp"
#include "tradepipe/events/envelope.hpp"
#include "tradepipe/events/ids.hpp"
#include "tradepipe/events/subject.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace {

namespace tp = tradepipe;
namespace ev = tradepipe::events;
using Clock = std::chrono::steady_clock;

struct Target {
  std::string binary;       // services/<dir>/<binary>
  std::string stream;       // the input stream
  std::string durable;      // its consumer
  std::string out_subject;  // where the bare drain publishes (the service's output stream)
};

Target TargetOf(const std::string& service) {
  if (service == "agent") return {"agent/agent", "SIGNALS", "agent-signals", "orders.new.BENCH"};
  return {"exec-sim/exec-sim", "ORDERS", "exec-sim-orders", "exec.fill.BENCH"};
}

constexpr int kSymbols = 8;
// Issue 12's drain targets: the logic is not what limits the service, and the rate it must reach.
constexpr double kTargetRatio = 0.8;
constexpr double kTargetRate = 50'000;

// The i-th input: a signal (agent) or a market order (exec-sim), as the services publish them.
tp::bus::OutgoingMessage Input(const std::string& service, int i) {
  const std::string symbol = "SYM" + std::to_string(i % kSymbols);
  ev::Envelope e;
  e.source = "bench";
  e.symbol = symbol;
  e.AddStamp("received", 1);
  e.AddStamp("verified", 2);
  e.AddStamp("published", 3);
  const std::string signal_id = "bench:d" + std::to_string(i);
  if (service == "agent") {
    e.type = ev::kTypeSignal;
    e.id = signal_id;
    e.correlation_id = e.id;
    ev::SignalPayload p;
    p.action = i % 2 == 0 ? ev::SignalAction::kBuy : ev::SignalAction::kSell;
    p.qty = ev::Decimal::FromInteger(1);
    e.payload = ev::ToJson(p);
    return {"signals.bench." + symbol, e.id, ev::Serialize(e)};
  }
  e.type = ev::kTypeOrder;
  e.id = ev::DecisionId(signal_id);
  e.correlation_id = signal_id;
  e.causation_id = signal_id;
  e.AddStamp("agent_consumed", 4);
  e.AddStamp("decided", 5);
  ev::OrderPayload o;
  o.order_id = e.id;
  o.side = i % 2 == 0 ? ev::Side::kBuy : ev::Side::kSell;
  o.qty = ev::Decimal::FromInteger(1);
  o.order_type = "market";
  e.payload = ev::ToJson(o);
  return {ev::OrderSubject(symbol), e.id, ev::Serialize(e)};
}

void Preload(tp::bus::Bus& bus, const std::string& service, int n) {
  std::vector<tp::bus::OutgoingMessage> chunk;
  auto publisher = bus.NewBatchPublisher();
  for (int i = 0; i < n; ++i) {
    chunk.push_back(Input(service, i));
    if (chunk.size() == 2000 || i == n - 1) {
      if (auto s = tp::bus::PublishAll(*publisher, chunk); !s) throw std::runtime_error("preload: " + s.error());
      chunk.clear();
    }
  }
}

// The consumer's delivered and acked stream sequences, straight from the server.
struct ConsumerState {
  uint64_t delivered = 0;
  uint64_t ack_floor = 0;
};

class ConsumerWatch {
 public:
  explicit ConsumerWatch(const std::string& url) {
    if (natsConnection_ConnectTo(&nc_, url.c_str()) != NATS_OK ||
        natsConnection_JetStream(&js_, nc_, nullptr) != NATS_OK) {
      throw std::runtime_error("watch: cannot connect");
    }
  }
  ~ConsumerWatch() {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }
  ConsumerState Read(const Target& t) {
    jsConsumerInfo* info = nullptr;
    ConsumerState s;
    if (js_GetConsumerInfo(&info, js_, t.stream.c_str(), t.durable.c_str(), nullptr, nullptr) == NATS_OK) {
      s.delivered = info->Delivered.Stream;
      s.ack_floor = info->AckFloor.Stream;
      jsConsumerInfo_Destroy(info);
    }
    return s;
  }

 private:
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

// Seconds from the first delivery to the ack floor reaching `n` (the stream's sequences are 1..n).
double TimeDrain(ConsumerWatch& watch, const Target& t, int n, double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  std::optional<Clock::time_point> first;
  while (Clock::now() < deadline) {
    const ConsumerState s = watch.Read(t);
    if (!first && s.delivered > 0) first = Clock::now();
    if (s.ack_floor >= static_cast<uint64_t>(n)) return std::chrono::duration<double>(Clock::now() - *first).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  throw std::runtime_error("the drain did not finish within " + std::to_string(timeout_s) + " s");
}

std::unique_ptr<tp::bus::Bus> Connect(const std::string& url) {
  auto bus = tp::bus::Bus::Connect({.url = url, .name = "drain-bench", .connect_timeout_ms = 5000});
  if (!bus) throw std::runtime_error(bus.error());
  if (auto s = (*bus)->Provision(tp::bus::DefaultTopology()); !s) throw std::runtime_error(s.error());
  return std::move(*bus);
}

// One drain: how long it took and the CPU the server and the consumer used meanwhile.
struct Drain {
  double seconds = 0;
  double server_cpu_s = 0;
  double consumer_cpu_s = 0;
};

// CPU seconds of both processes, before and after `drain` (which returns its seconds).
template <typename Timed>
Drain Measure(pid_t server, pid_t consumer, Timed&& drain) {
  const double server_before = tp::metrics::ProcessCpuSeconds(server).value_or(0);
  const double consumer_before = tp::metrics::ProcessCpuSeconds(consumer).value_or(0);
  Drain d;
  d.seconds = drain();
  d.server_cpu_s = tp::metrics::ProcessCpuSeconds(server).value_or(0) - server_before;
  d.consumer_cpu_s = tp::metrics::ProcessCpuSeconds(consumer).value_or(0) - consumer_before;
  return d;
}

Drain BareDrain(const std::string& service, int n, int batch) {
  tp::testing::NatsServer server;
  auto bus = Connect(server.url());
  Preload(*bus, service, n);
  const Target t = TargetOf(service);
  ConsumerWatch watch(server.url());
  auto consumer = bus->Subscribe(tp::bus::DefaultTopology().Consumer(t.durable));
  if (!consumer) throw std::runtime_error(consumer.error());
  tp::bus::SeenIds published(250'000);  // the services' durable de-duplication, at their default bound
  auto publisher = bus->NewBatchPublisher();
  tp::bus::ConsumerLoop loop(std::move(*consumer), t.durable, batch, [&](std::vector<tp::bus::Message>& msgs) {
    return tp::bus::ForwardBatch(
               *publisher, msgs,
               [&](tp::bus::Message& m) -> tp::Result<std::vector<tp::bus::OutgoingMessage>> {
                 return std::vector<tp::bus::OutgoingMessage>{
                     {t.out_subject, std::string(m.subject()) + "/" + std::to_string(m.stream_sequence()),
                      std::string(m.data())}};
               },
               &published)
        .status;
  });
  // The consumer is this process: its watcher's polling (every 5 ms) counts too, a small excess.
  const Drain d = Measure(server.pid(), 0, [&] { return TimeDrain(watch, t, n, 300); });
  loop.Stop();
  return d;
}

Drain ServiceDrain(const std::string& service, const std::string& bin_dir, int n, int batch) {
  tp::testing::NatsServer server;
  {
    auto bus = Connect(server.url());
    Preload(*bus, service, n);
  }
  const Target t = TargetOf(service);
  ConsumerWatch watch(server.url());
  const std::string binary = bin_dir + "/" + t.binary;
  const std::string port = std::to_string(tp::testing::FreePort());
  const std::string url = server.url();
  const std::string batch_text = std::to_string(batch);
  std::vector<const char*> argv = {binary.c_str(), "--nats-url", url.c_str(), "--http-port",      port.c_str(),
                                   "--log-level",  "warn",       "--batch",   batch_text.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  if (posix_spawn(&pid, binary.c_str(), &actions, nullptr, const_cast<char* const*>(argv.data()), environ) != 0) {
    throw std::runtime_error("cannot start " + binary);
  }
  posix_spawn_file_actions_destroy(&actions);
  Drain d;
  try {
    d = Measure(server.pid(), pid, [&] { return TimeDrain(watch, t, n, 300); });
  } catch (...) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw;
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  return d;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("drain benchmark: a service emptying a pre-loaded stream, beside a bare drain");
  std::string service = "agent";
  std::string bin_dir = "build/release/services";
  int messages = 100'000;
  int rounds = 3;
  int batch = 1024;
  app.add_option("--service", service, "agent or exec-sim")->check(CLI::IsMember({"agent", "exec-sim"}));
  app.add_option("--bin-dir", bin_dir, "where services/<name>/<binary> were built")->check(CLI::ExistingDirectory);
  app.add_option("--messages", messages, "messages pre-loaded per drain")->check(CLI::Range(1000, 10'000'000));
  app.add_option("--rounds", rounds, "rounds (medians over them)")->check(CLI::Range(1, 50));
  bool require_targets = false;
  app.add_flag("--require-targets", require_targets,
               "exit 1 unless the medians meet issue 12's targets (>= 0.8x the bare drain, >= 50,000 msg/s)");
  app.add_option("--batch", batch, "the fetch batch of both drains (the services' default: 1024)")
      ->check(CLI::Range(1, 4096));
  CLI11_PARSE(app, argc, argv);

  std::vector<double> bare, real, ratio, bare_server_us, bare_consumer_us, server_us, consumer_us;
  const double per_message_us = 1e6 / messages;
  try {
    for (int r = 1; r <= rounds; ++r) {
      const Drain b = BareDrain(service, messages, batch);
      const Drain s = ServiceDrain(service, bin_dir, messages, batch);
      bare.push_back(messages / b.seconds);
      real.push_back(messages / s.seconds);
      ratio.push_back(real.back() / bare.back());
      bare_server_us.push_back(b.server_cpu_s * per_message_us);
      bare_consumer_us.push_back(b.consumer_cpu_s * per_message_us);
      server_us.push_back(s.server_cpu_s * per_message_us);
      consumer_us.push_back(s.consumer_cpu_s * per_message_us);
      std::printf(
          "round %d: bare %.0f msg/s (CPU per message: nats-server %.1f µs, drain %.1f µs), %s %.0f msg/s "
          "(nats-server %.1f µs, %s %.1f µs), ratio %.2f\n",
          r, bare.back(), bare_server_us.back(), bare_consumer_us.back(), service.c_str(), real.back(),
          server_us.back(), service.c_str(), consumer_us.back(), ratio.back());
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "drain_bench: %s\n", e.what());
    return 1;
  }
  std::printf("median over %d rounds of %d messages: bare %.0f msg/s, %s %.0f msg/s, ratio %.2f\n", rounds, messages,
              Median(bare), service.c_str(), Median(real), Median(ratio));
  // What a rate would cost at these CPU figures: the cores a drain of 50,000 msg/s needs.
  const double bare_cores = (Median(bare_server_us) + Median(bare_consumer_us)) * 50'000 / 1e6;
  const double service_cores = (Median(server_us) + Median(consumer_us)) * 50'000 / 1e6;
  std::printf(
      "CPU per message (medians): bare nats-server %.1f + drain %.1f µs, %s nats-server %.1f + %.1f µs; 50,000 "
      "msg/s at these costs needs %.2f cores (bare), %.2f (%s); this machine has %u\n",
      Median(bare_server_us), Median(bare_consumer_us), service.c_str(), Median(server_us), Median(consumer_us),
      bare_cores, service_cores, service.c_str(), std::thread::hardware_concurrency());
  const bool ratio_met = Median(ratio) >= kTargetRatio;
  const bool rate_met = Median(real) >= kTargetRate;
  std::printf("targets (medians): ratio >= %.1f %s, %s >= %.0f msg/s %s\n", kTargetRatio, ratio_met ? "met" : "MISSED",
              service.c_str(), kTargetRate, rate_met ? "met" : "MISSED");
  return require_targets && !(ratio_met && rate_met) ? 1 : 0;
}
