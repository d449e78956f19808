#include "tradepipe/service/consume_stages.hpp"

namespace tradepipe::service {
namespace {
double Seconds(int64_t ns) { return static_cast<double>(ns < 0 ? 0 : ns) / 1e9; }
}  // namespace

ConsumeStages::ConsumeStages(metrics::Metrics& metrics, const std::string& service, const std::string& work,
                             const std::string& durable)
    : consume_(metrics.Stage(service, "consume")),
      work_(work.empty() ? nullptr : &metrics.Stage(service, work)),
      durable_(metrics.Stage(service, durable)) {}

void ConsumeStages::Consumed(int64_t stored_ns, int64_t fetched_ns) {
  // Clocks of one machine or synchronised hosts; a message without metadata is not timed.
  if (stored_ns > 0) consume_.Observe(Seconds(fetched_ns - stored_ns));
}

void ConsumeStages::Worked(int64_t start_ns, int64_t end_ns) {
  if (work_ != nullptr) work_->Observe(Seconds(end_ns - start_ns));
}

void ConsumeStages::Durable(int64_t took_ns, size_t messages) {
  const double seconds = Seconds(took_ns);
  for (size_t i = 0; i < messages; ++i) durable_.Observe(seconds);
}

}  // namespace tradepipe::service
