#include "tradepipe/metrics/metrics.hpp"

#include <dirent.h>
#include <prometheus/collectable.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "build_info.hpp"

namespace tradepipe::metrics {
namespace {

prometheus::MetricFamily ProcessMetric(std::string name, std::string help, double value,
                                       prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {metric}};
}

double BootTimeSeconds() {
  std::ifstream stat("/proc/stat");
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime") {
      stat >> value;
      return value;
    }
    stat.ignore(1 << 16, '\n');
  }
  return 0;
}

// The fields of /proc/<pid>/stat after the parenthesised command name (which may itself contain
// spaces): [0] is field 3 (state), utime is [11], stime [12], starttime [19]. Empty if unreadable.
std::vector<std::string> StatFields(int pid) {
  std::ifstream stat_file(pid == 0 ? std::string("/proc/self/stat") : "/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  std::vector<std::string> fields;
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) return fields;
  std::istringstream rest(stat.substr(close + 2));
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

// process_* metrics read from /proc/self, as the Go and Java clients export them.
class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families;
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));

    if (const auto cpu = ProcessCpuSeconds()) {
      families.push_back(ProcessMetric("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                                       *cpu, prometheus::MetricType::Counter));
    }
    if (const auto fields = StatFields(0); fields.size() > 19) {
      families.push_back(ProcessMetric("process_start_time_seconds",
                                       "Start time of the process since unix epoch in seconds.",
                                       boot_time_ + std::stod(fields[19]) / ticks));
    }
    std::ifstream statm("/proc/self/statm");
    double size_pages = 0, resident_pages = 0;
    if (statm >> size_pages >> resident_pages) {
      families.push_back(
          ProcessMetric("process_resident_memory_bytes", "Resident memory size in bytes.", resident_pages * page));
      families.push_back(
          ProcessMetric("process_virtual_memory_bytes", "Virtual memory size in bytes.", size_pages * page));
    }
    if (DIR* dir = ::opendir("/proc/self/fd")) {
      double fds = -1;  // the DIR itself holds one
      while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.') fds += 1;
      }
      ::closedir(dir);
      families.push_back(ProcessMetric("process_open_fds", "Number of open file descriptors.", fds));
    }
    return families;
  }

 private:
  double boot_time_ = BootTimeSeconds();
};

}  // namespace

std::optional<double> ProcessCpuSeconds(int pid) {
  const auto fields = StatFields(pid);
  if (fields.size() <= 12) return std::nullopt;
  return (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}

prometheus::Counter& Metrics::Counter(const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_).Add({});
}

prometheus::Family<prometheus::Counter>& Metrics::CounterFamily(const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
}

prometheus::Family<prometheus::Gauge>& Metrics::GaugeFamily(const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
}

prometheus::Gauge& Metrics::Gauge(const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add({});
}

prometheus::Histogram& Metrics::Histogram(const std::string& name, const std::string& help,
                                          const prometheus::Histogram::BucketBoundaries& buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_).Add({}, buckets);
}

prometheus::Family<prometheus::Histogram>& Metrics::HistogramFamily(const std::string& name, const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_);
}

prometheus::Histogram& Metrics::Stage(const std::string& service, const std::string& stage) {
  return HistogramFamily("tradepipe_" + service + "_stage_seconds", "time one step of the " + service + "'s work takes")
      .Add({{"stage", stage}}, LatencyBuckets());
}

void Metrics::ExportBuildInfo(const std::string& service) {
  prometheus::BuildGauge()
      .Name("tradepipe_build_info")
      .Help("the running build: always 1, its labels say what it is")
      .Register(*registry_)
      .Add({{"service", service},
            {"version", build::kVersion},
            {"revision", build::kRevision},
            {"compiler", build::kCompiler}})
      .Set(1);
}

void Metrics::OnCollect(std::function<void()> hook) {
  std::lock_guard lock(hooks_mu_);
  hooks_.push_back(std::move(hook));
}

std::string Metrics::Render() const {
  {
    std::lock_guard lock(hooks_mu_);
    for (const auto& hook : hooks_) hook();
  }
  static const ProcessCollector process;
  auto families = registry_->Collect();
  auto extra = process.Collect();
  families.insert(families.end(), std::make_move_iterator(extra.begin()), std::make_move_iterator(extra.end()));
  return prometheus::TextSerializer().Serialize(families);
}

prometheus::Histogram::BucketBoundaries Metrics::LatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};
}

prometheus::Histogram::BucketBoundaries Metrics::PathBuckets() {
  return {0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03,
          0.045,  0.06,  0.1,   0.25,  0.5,   1,      2.5,  5,     10};
}

}  // namespace tradepipe::metrics
