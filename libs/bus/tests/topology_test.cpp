#include "tradepipe/bus/topology.hpp"

#include <gtest/gtest.h>

namespace tradepipe::bus {
namespace {

TEST(Topology, CompiledInDefinitionIsValid) {
  const Topology& t = DefaultTopology();
  ASSERT_EQ(t.streams.size(), 4u);
  EXPECT_EQ(t.streams[0].name, "SIGNALS");
  EXPECT_EQ(t.streams[3].name, "DEADLETTERS");  // consumers' give-up advisories, recorded by the audit
  EXPECT_EQ(t.Consumer("audit-max-deliveries").stream, "DEADLETTERS");
  EXPECT_EQ(t.Consumer("agent-signals").filter, "signals.>");
  EXPECT_EQ(t.Consumer("exec-sim-orders").stream, "ORDERS");
  EXPECT_THROW(t.Consumer("nope"), std::out_of_range);
}

TEST(Topology, UnknownKeysAreRefusedByName) {
  auto t = ParseTopology(R"({"streams":[{"name":"S","subjects":["s.>"],"max_agee_s":1}]})");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().find("max_agee_s"), std::string::npos) << t.error();
}

TEST(Topology, MissingRequiredFieldsAreRefused) {
  EXPECT_FALSE(ParseTopology(R"({"streams":[{"name":"S"}]})"));
  EXPECT_FALSE(ParseTopology(R"({"consumers":[{"stream":"S","durable":"d"}]})"));
  EXPECT_FALSE(ParseTopology("not json"));
}

}  // namespace
}  // namespace tradepipe::bus
