#include "tradepipe/metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace tradepipe::metrics {
namespace {

double ValueOf(const std::string& text, const std::string& name) {
  std::smatch m;
  std::regex line("(^|\\n)" + name + " ([0-9.e+-]+)");
  if (!std::regex_search(text, m, line)) return -1;
  return std::stod(m[2]);
}

TEST(Metrics, CounterRendersInTextFormat) {
  Metrics m;
  auto& c = m.Counter("tp_test_accepted_total", "accepted things");
  c.Increment(3);
  const std::string text = m.Render();
  EXPECT_NE(text.find("# HELP tp_test_accepted_total accepted things"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE tp_test_accepted_total counter"), std::string::npos) << text;
  EXPECT_EQ(ValueOf(text, "tp_test_accepted_total"), 3);
}

TEST(Metrics, HistogramRendersCumulativeBuckets) {
  Metrics m;
  auto& h = m.Histogram("tp_test_latency_seconds", "latency", {0.001, 0.01});
  h.Observe(0.0005);
  h.Observe(0.005);
  h.Observe(0.5);
  const std::string text = m.Render();
  EXPECT_NE(text.find("tp_test_latency_seconds_bucket{le=\"0.001\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("tp_test_latency_seconds_bucket{le=\"0.01\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("tp_test_latency_seconds_bucket{le=\"+Inf\"} 3"), std::string::npos) << text;
  EXPECT_EQ(ValueOf(text, "tp_test_latency_seconds_count"), 3);
}

TEST(Metrics, ProcessMetricsArePresentAndPlausible) {
  Metrics m;
  const std::string text = m.Render();
  EXPECT_GT(ValueOf(text, "process_resident_memory_bytes"), 1024 * 1024);
  EXPECT_GE(ValueOf(text, "process_cpu_seconds_total"), 0);
  EXPECT_GT(ValueOf(text, "process_start_time_seconds"), 1.6e9);
  EXPECT_GE(ValueOf(text, "process_open_fds"), 3);
}

TEST(Metrics, CollectHooksRunBeforeRendering) {
  Metrics m;
  auto& g = m.Gauge("tp_test_queue_size", "size");
  int size = 0;
  m.OnCollect([&] { g.Set(++size); });
  EXPECT_EQ(ValueOf(m.Render(), "tp_test_queue_size"), 1);
  EXPECT_EQ(ValueOf(m.Render(), "tp_test_queue_size"), 2);
}

TEST(Metrics, StagesOfOneServiceShareOneFamily) {
  Metrics m;
  m.Stage("agent", "decide").Observe(0.00002);
  m.Stage("agent", "publish").Observe(0.003);
  m.Stage("agent", "publish").Observe(0.004);
  const std::string text = m.Render();
  EXPECT_EQ(ValueOf(text, "tradepipe_agent_stage_seconds_count\\{stage=\"decide\"\\}"), 1) << text;
  EXPECT_EQ(ValueOf(text, "tradepipe_agent_stage_seconds_count\\{stage=\"publish\"\\}"), 2) << text;
  EXPECT_EQ(text.find("# TYPE tradepipe_agent_stage_seconds histogram"),
            text.rfind("# TYPE tradepipe_agent_stage_seconds histogram"));
}

TEST(Metrics, BuildInfoNamesTheServiceVersionAndRevision) {
  Metrics m;
  m.ExportBuildInfo("audit");
  const std::string text = m.Render();
  std::smatch match;
  ASSERT_TRUE(std::regex_search(text, match, std::regex(R"re(tradepipe_build_info\{([^}]*)\} 1)re"))) << text;
  const std::string labels = match[1];
  EXPECT_NE(labels.find("service=\"audit\""), std::string::npos) << labels;
  EXPECT_TRUE(std::regex_search(labels, std::regex(R"re(version="[0-9]+\.[0-9]+\.[0-9]+")re"))) << labels;
  EXPECT_TRUE(std::regex_search(labels, std::regex(R"re(revision="([0-9a-f]{7,}|unknown)")re"))) << labels;
  EXPECT_TRUE(std::regex_search(labels, std::regex(R"re(compiler="(gcc|clang) [^"]+")re"))) << labels;
}

TEST(Metrics, DuplicateRegistrationIsRefused) {
  Metrics m;
  m.Counter("tp_test_dup_total", "x");
  EXPECT_ANY_THROW(m.Gauge("tp_test_dup_total", "x"));
}

}  // namespace
}  // namespace tradepipe::metrics
