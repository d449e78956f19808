// PathLatency: the golden path's latencies from a final event's stamps, in /metrics.
#include "path_latency.hpp"

#include <gtest/gtest.h>

namespace tradepipe::audit {
namespace {

AuditRow Row(std::string type, std::vector<events::Stamp> stamps) {
  AuditRow r;
  r.type = std::move(type);
  r.stamps = std::move(stamps);
  return r;
}

// The value of one rendered series, e.g. `tradepipe_end_to_end_seconds_count`; -1 if absent.
double Value(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(PathLatency, FinalEventsGiveEndToEndAndEveryStage) {
  metrics::Metrics m;
  PathLatency latency(m);
  const int64_t ms = 1'000'000;
  latency.Observe(Row("fill", {{"received", 0},
                               {"verified", 1 * ms},
                               {"published", 2 * ms},
                               {"agent_consumed", 4 * ms},
                               {"decided", 5 * ms},
                               {"exec_consumed", 6 * ms},
                               {"filled", 7 * ms}}),
                  8 * ms);
  const std::string text = m.Render();
  EXPECT_EQ(Value(text, "tradepipe_end_to_end_seconds_count"), 1);
  EXPECT_DOUBLE_EQ(Value(text, "tradepipe_end_to_end_seconds_sum"), 0.008);
  EXPECT_EQ(Value(text, R"(tradepipe_end_to_end_seconds_bucket{le="0.0075"})"), 0);
  EXPECT_EQ(Value(text, R"(tradepipe_end_to_end_seconds_bucket{le="0.01"})"), 1);
  EXPECT_DOUBLE_EQ(Value(text, R"(tradepipe_stage_seconds_sum{stage="agent_consumed"})"), 0.002);
  EXPECT_DOUBLE_EQ(Value(text, R"(tradepipe_stage_seconds_sum{stage="recorded"})"), 0.001);
  EXPECT_EQ(Value(text, R"(tradepipe_stage_seconds_count{stage="filled"})"), 1);
}

TEST(PathLatency, OnlyFinalEventsAndOnlyKnownStampsCount) {
  metrics::Metrics m;
  PathLatency latency(m);
  latency.Observe(Row("signal", {{"received", 0}, {"verified", 10}}), 20);  // not final
  latency.Observe(Row("order_rejected", {{"received", 0}, {"injected_by_a_publisher", 5}, {"decided", 10}}), 20);
  const std::string text = m.Render();
  EXPECT_EQ(Value(text, "tradepipe_end_to_end_seconds_count"), 1);
  EXPECT_EQ(Value(text, R"(tradepipe_stage_seconds_count{stage="verified"})"), 0);
  EXPECT_EQ(Value(text, R"(tradepipe_stage_seconds_count{stage="decided"})"), 1);
  EXPECT_EQ(text.find("injected_by_a_publisher"), std::string::npos);  // never a label
}

TEST(PathLatency, ARestingOrdersTickEventsAreNotThePipelinesLatency) {
  metrics::Metrics m;
  PathLatency latency(m);
  const int64_t s = 1'000'000'000;
  // Filled at a tick an hour after the order arrived: the hour is the market's, not the path's.
  latency.Observe(
      Row("fill",
          {{"received", 0}, {"decided", 1}, {"exec_consumed", 2}, {"tick", 3600 * s}, {"filled", 3600 * s + 5}}),
      3600 * s + 9);
  latency.Observe(Row("exec_report", {{"received", 0}, {"exec_consumed", 2}, {"tick", 86'400 * s}}), 86'400 * s);
  const std::string text = m.Render();
  EXPECT_EQ(Value(text, "tradepipe_end_to_end_seconds_count"), 0);
  EXPECT_EQ(Value(text, R"(tradepipe_stage_seconds_count{stage="filled"})"), 0);
}

}  // namespace
}  // namespace tradepipe::audit
