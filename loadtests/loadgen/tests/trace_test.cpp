// ParseTrace against the audit's trace document (services/audit's TraceJson writes it).
#include "trace.hpp"

#include <gtest/gtest.h>

namespace tradepipe::loadgen {
namespace {

TEST(ParseTrace, ReadsFinalEventAndStages) {
  const std::string json =
      R"({"correlation_id":"demo:1","events":[{"type":"signal","ts":{"received":1}}],)"
      R"("stages":[{"from":"received","to":"verified","ms":0.25},{"from":"filled","to":"recorded","ms":2.0}],)"
      R"("final_type":"fill","end_to_end_ms":8.0,"final_recorded":9000000})";
  std::string error;
  auto t = ParseTrace(json, &error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->final_type, "fill");
  EXPECT_EQ(t->final_recorded_ns, 9'000'000);
  ASSERT_EQ(t->stages.size(), 2u);
  EXPECT_EQ(t->stages[0].from, "received");
  EXPECT_EQ(t->stages[0].to, "verified");
  EXPECT_EQ(t->stages[0].ns, 250'000);
  EXPECT_EQ(t->stages[1].ns, 2'000'000);
}

TEST(ParseTrace, ASignalAloneIsNotFinal) {
  auto t = ParseTrace(R"({"correlation_id":"demo:1","events":[]})");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->final_type.empty());
}

TEST(ParseTrace, RejectsWhatIsNotATrace) {
  std::string error;
  EXPECT_FALSE(ParseTrace("not json", &error));
  EXPECT_FALSE(ParseTrace("[1,2]", &error));
  EXPECT_FALSE(ParseTrace(R"({"stages":[{"from":"a"}]})", &error));
  EXPECT_EQ(error, "stages: expected {from, to, ms}");
  EXPECT_FALSE(ParseTrace(R"({"final_type":"fill"})", &error));
  EXPECT_EQ(error, "final_type without final_recorded");
}

}  // namespace
}  // namespace tradepipe::loadgen
