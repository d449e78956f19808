// A service's Prometheus metrics: prometheus-cpp's registry plus the standard `process_*`
// metrics (CPU, resident memory, open fds, start time) that prometheus-cpp 1.0 lacks,
// rendered in text format 0.0.4 for our own HTTP server's `/metrics`.
//
//   tradepipe::metrics::Metrics m;
//   auto& accepted = m.Counter("tradepipe_gateway_accepted_total", "webhooks answered 202");
//   accepted.Increment();
//   std::string text = m.Render();
//
// Thread-safety: counters, gauges and histograms are lock-free/atomic (prometheus-cpp);
// registering new metrics and Render() are safe from any thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace tradepipe::metrics {

// User plus system CPU seconds a process has used, from /proc/<pid>/stat (pid 0: this process);
// nullopt when it cannot be read (the process is gone).
std::optional<double> ProcessCpuSeconds(int pid = 0);

class Metrics {
 public:
  Metrics();

  prometheus::Registry& registry() { return *registry_; }

  // Convenience for a family with one unlabelled child. Each name is registered once.
  prometheus::Counter& Counter(const std::string& name, const std::string& help);
  // A family whose children are told apart by labels: family.Add({{"status", "202"}}).Increment().
  prometheus::Family<prometheus::Counter>& CounterFamily(const std::string& name, const std::string& help);
  prometheus::Gauge& Gauge(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Gauge>& GaugeFamily(const std::string& name, const std::string& help);
  prometheus::Histogram& Histogram(const std::string& name, const std::string& help,
                                   const prometheus::Histogram::BucketBoundaries& buckets);
  // Children: family.Add({{"stage", "decided"}}, buckets).
  prometheus::Family<prometheus::Histogram>& HistogramFamily(const std::string& name, const std::string& help);

  // tradepipe_<service>_stage_seconds{stage="<stage>"}: the time one step of a service's own work
  // takes (docs/metrics.md lists each service's stages), latency buckets. Call once per stage.
  prometheus::Histogram& Stage(const std::string& service, const std::string& stage);

  // tradepipe_build_info{service, version, revision, compiler} = 1: what is running, from the
  // build (revision: the git commit the build was configured at, "unknown" outside a checkout).
  void ExportBuildInfo(const std::string& service);

  // Runs before every Render(): for gauges read from elsewhere (queue sizes, store sizes).
  void OnCollect(std::function<void()> hook);

  // Text exposition format 0.0.4.
  std::string Render() const;

  // Latency buckets in seconds, 50 µs to 10 s.
  static prometheus::Histogram::BucketBoundaries LatencyBuckets();
  // End-to-end buckets, 0.5 ms to 10 s, with edges at issue 11's targets (3, 10, 30 ms) and the
  // baseline's (45, 100 ms), so a histogram_quantile near a target is read between close edges.
  static prometheus::Histogram::BucketBoundaries PathBuckets();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex hooks_mu_;
  std::vector<std::function<void()>> hooks_;
};

}  // namespace tradepipe::metrics
