#include "tradepipe/bus/topology.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>

#include "tradepipe/bus/seen_ids.hpp"

namespace tradepipe::bus {
namespace {

TEST(Topology, CompiledInDefinitionIsValid) {
  const Topology& t = DefaultTopology();
  ASSERT_EQ(t.streams.size(), 5u);
  EXPECT_EQ(t.streams[0].name, "SIGNALS");
  // SIGNALS holds the unconsumed backlog; ORDERS and EXECUTIONS keep the history rebuilt from.
  EXPECT_EQ(t.streams[0].retention, Retention::kInterest);
  EXPECT_EQ(t.streams[1].retention, Retention::kLimits);
  EXPECT_EQ(t.streams[2].retention, Retention::kLimits);
  EXPECT_EQ(t.streams[3].name, "DEADLETTERS");  // consumers' give-up advisories, recorded by the audit
  EXPECT_EQ(t.Consumer("audit-max-deliveries").stream, "DEADLETTERS");
  // The agent's positions snapshots: the newest kept per subject, whatever their age.
  EXPECT_EQ(t.streams[4].name, "AGENT_STATE");
  EXPECT_EQ(t.streams[4].max_msgs_per_subject, 3);
  EXPECT_EQ(t.streams[4].max_age_s, 0);
  EXPECT_EQ(t.Consumer("agent-signals").filter, "signals.>");
  EXPECT_EQ(t.Consumer("exec-sim-orders").stream, "ORDERS");
  EXPECT_THROW(t.Consumer("nope"), std::out_of_range);
}

TEST(Topology, UnknownKeysAreRefusedByName) {
  auto t = ParseTopology(R"({"streams":[{"name":"S","subjects":["s.>"],"max_agee_s":1}]})");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().find("max_agee_s"), std::string::npos) << t.error();
}

TEST(Topology, RetentionIsLimitsOrInterest) {
  auto limits = ParseTopology(R"({"streams":[{"name":"S","subjects":["s.>"]}]})");
  ASSERT_TRUE(limits) << limits.error();
  EXPECT_EQ(limits->streams[0].retention, Retention::kLimits);
  auto interest = ParseTopology(R"({"streams":[{"name":"S","subjects":["s.>"],"retention":"interest"}]})");
  ASSERT_TRUE(interest) << interest.error();
  EXPECT_EQ(interest->streams[0].retention, Retention::kInterest);
  auto bad = ParseTopology(R"({"streams":[{"name":"S","subjects":["s.>"],"retention":"workqueue"}]})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("retention"), std::string::npos) << bad.error();
}

TEST(Topology, MissingRequiredFieldsAreRefused) {
  EXPECT_FALSE(ParseTopology(R"({"streams":[{"name":"S"}]})"));
  EXPECT_FALSE(ParseTopology(R"({"consumers":[{"stream":"S","durable":"d"}]})"));
  EXPECT_FALSE(ParseTopology("not json"));
}

}  // namespace
}  // namespace tradepipe::bus

namespace tradepipe::bus {
namespace {

TEST(SeenIds, RemembersEachIdOnceAndForgetsTheOldestAtCapacity) {
  SeenIds seen(3);
  EXPECT_TRUE(seen.Insert("a/order", 1));
  EXPECT_FALSE(seen.Insert("a/order", 2));  // already there
  EXPECT_TRUE(seen.Insert("b/order", 3));
  EXPECT_TRUE(seen.Insert("c/order", 4));
  EXPECT_TRUE(seen.Contains("a/order"));
  EXPECT_FALSE(seen.Contains("a/order/report/1"));  // ids are compared whole, not by prefix
  EXPECT_EQ(seen.OldestNanos(), 1);
  EXPECT_TRUE(seen.Insert("d/order", 5));  // over capacity: "a" is forgotten
  EXPECT_FALSE(seen.Contains("a/order"));
  EXPECT_TRUE(seen.Contains("d/order"));
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen.forgotten(), 1u);
  EXPECT_EQ(seen.OldestNanos(), 3);
  EXPECT_EQ(SeenIds(0).capacity(), 1u);  // never zero: a set that remembers nothing would be a bug
}

// Keys whose low halves (the index's hash) share a handful of values collide on purpose: long
// probe runs that wrap around the index, evicted from their middle. After every step the set must
// answer as a plain model does (insertion order kept, the oldest forgotten at capacity).
TEST(SeenIds, CollidingKeysBehaveAsTheModelThroughEvictions) {
  for (const size_t capacity : {1u, 3u, 8u, 13u}) {
    SeenIds seen(capacity);
    std::deque<SeenIds::Key> model;
    std::mt19937_64 rng(capacity);
    uint64_t forgotten = 0;
    for (int step = 0; step < 4000; ++step) {
      // hi from a small range too, so that repeats happen; lo across the end of the index (16 or 32
      // places here), so that runs wrap.
      const SeenIds::Key k{rng() % 24, 28 + rng() % 8};
      const bool fresh = std::find(model.begin(), model.end(), k) == model.end();
      ASSERT_EQ(seen.Insert(k, step), fresh) << "capacity " << capacity << " step " << step;
      if (fresh) {
        model.push_back(k);
        if (model.size() > capacity) {
          model.pop_front();
          ++forgotten;
        }
      }
      for (uint64_t hi = 0; hi < 24; ++hi) {
        for (uint64_t lo = 28; lo < 36; ++lo) {
          const SeenIds::Key probe{hi, lo};
          ASSERT_EQ(seen.Contains(probe), std::find(model.begin(), model.end(), probe) != model.end())
              << "capacity " << capacity << " step " << step << " key " << hi << "/" << lo;
        }
      }
      ASSERT_EQ(seen.size(), model.size());
      ASSERT_EQ(seen.forgotten(), forgotten);
    }
  }
}

TEST(SeenIds, ManyDistinctIdsNeverCollide) {
  SeenIds seen(200'000);
  for (int i = 0; i < 200'000; ++i) ASSERT_TRUE(seen.Insert("demo:" + std::to_string(i) + "/order", i));
  EXPECT_EQ(seen.size(), 200'000u);
  EXPECT_FALSE(seen.Contains("demo:200000/order"));
}

}  // namespace
}  // namespace tradepipe::bus
