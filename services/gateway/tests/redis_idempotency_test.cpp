// RedisIdempotencyStore against a real redis-server (ephemeral port, no persistence).
#include "redis_idempotency.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "redis_server.hpp"

namespace tradepipe::gateway {
namespace {

class RedisStoreTest : public ::testing::Test {
 protected:
  RedisOptions Options() {
    RedisOptions o;
    o.port = redis_.port();
    o.pool_size = 4;
    o.timeout = std::chrono::milliseconds(300);
    o.key_prefix = "test:" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ":";
    return o;
  }
  testing::RedisServer redis_;
};

TEST(RedisUrl, Parses) {
  auto o = ParseRedisUrl("redis://10.0.0.5:6380/2");
  ASSERT_TRUE(o) << o.error();
  EXPECT_EQ(o->host, "10.0.0.5");
  EXPECT_EQ(o->port, 6380);
  EXPECT_EQ(o->db, 2);
  EXPECT_EQ(ParseRedisUrl("redis://cache")->port, 6379);
  EXPECT_FALSE(ParseRedisUrl("http://x"));
  EXPECT_FALSE(ParseRedisUrl("redis://:6379"));
  EXPECT_FALSE(ParseRedisUrl("redis://h:99999"));
  EXPECT_FALSE(ParseRedisUrl("redis://h:1/x"));
}

TEST_F(RedisStoreTest, NewInFlightMismatchReplayRelease) {
  RedisIdempotencyStore store(Options());
  ASSERT_TRUE(store.Ping().ok());
  EXPECT_EQ(store.Begin("k", 1, 0)->outcome, BeginOutcome::kNew);
  EXPECT_EQ(store.Begin("k", 1, 0)->outcome, BeginOutcome::kInFlight);
  EXPECT_EQ(store.Begin("k", 2, 0)->outcome, BeginOutcome::kMismatch);
  ASSERT_TRUE(store.Complete("k", 1, {202, R"({"id":"a|b","seq":7})"}).ok());
  const auto replay = store.Begin("k", 1, 0);
  ASSERT_TRUE(replay) << replay.error();
  EXPECT_EQ(replay->outcome, BeginOutcome::kReplay);
  EXPECT_EQ(replay->replay.status, 202);
  EXPECT_EQ(replay->replay.body, R"({"id":"a|b","seq":7})");
  EXPECT_EQ(store.Begin("k", 3, 0)->outcome, BeginOutcome::kMismatch);
  ASSERT_TRUE(store.Release("k").ok());
  EXPECT_EQ(store.Begin("k", 3, 0)->outcome, BeginOutcome::kNew);
  EXPECT_EQ(store.NotReadyReason(), "");
}

TEST_F(RedisStoreTest, InFlightMarkerExpiresByItself) {
  RedisOptions o = Options();
  o.in_flight_ttl_ms = 200;
  RedisIdempotencyStore store(o);
  EXPECT_EQ(store.Begin("k", 1, 0)->outcome, BeginOutcome::kNew);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(store.Begin("k", 1, 0)->outcome, BeginOutcome::kNew);
}

TEST_F(RedisStoreTest, TwoReplicasShareKeysAndOnlyOneWins) {
  RedisIdempotencyStore a(Options()), b(Options());
  std::atomic<int> winners{0}, others{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      RedisIdempotencyStore& store = t % 2 ? a : b;
      for (int k = 0; k < 200; ++k) {
        auto r = store.Begin("shared" + std::to_string(k), 9, 0);
        ASSERT_TRUE(r) << r.error();
        (r->outcome == BeginOutcome::kNew ? winners : others)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 200);
  EXPECT_EQ(others.load(), 7 * 200);
}

TEST_F(RedisStoreTest, OutageFailsClosedAndRecovers) {
  RedisIdempotencyStore store(Options());
  ASSERT_TRUE(store.Begin("before", 1, 0));
  redis_.Stop();
  const auto start = std::chrono::steady_clock::now();
  auto during = store.Begin("during", 1, 0);
  ASSERT_FALSE(during);
  EXPECT_NE(during.error().find("redis"), std::string::npos) << during.error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));  // answers, does not hang
  EXPECT_NE(store.NotReadyReason(), "");
  EXPECT_FALSE(store.Complete("before", 1, {202, "{}"}));
  redis_.Start();
  auto after = store.Begin("after", 1, 0);
  ASSERT_TRUE(after) << after.error();
  EXPECT_EQ(after->outcome, BeginOutcome::kNew);
  EXPECT_EQ(store.NotReadyReason(), "");
}

TEST(RedisStoreUnreachable, ErrorsInsteadOfHanging) {
  RedisOptions o;
  o.port = testing::FreePort();
  o.timeout = std::chrono::milliseconds(200);
  RedisIdempotencyStore store(o);
  auto r = store.Begin("k", 1, 0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("cannot connect"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace tradepipe::gateway
