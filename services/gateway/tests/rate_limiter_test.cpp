#include "rate_limiter.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace tradepipe::gateway {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(RateLimiter, UnlimitedAlwaysAllows) {
  RateLimiter r(0, 1);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(r.Allow(0).allowed);
}

TEST(RateLimiter, BurstThenSteadyRate) {
  RateLimiter r(10, 5);  // 10/s, bursts of 5
  const int64_t t0 = 100 * kSecond;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(r.Allow(t0).allowed) << i;
  const auto refused = r.Allow(t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after_ns, 0);
  EXPECT_LE(refused.retry_after_ns, kSecond / 10);
  EXPECT_TRUE(r.Allow(t0 + refused.retry_after_ns).allowed);  // the advertised wait is enough
  // A second later the burst is available again.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(r.Allow(t0 + 2 * kSecond).allowed) << i;
}

TEST(RateLimiter, ConcurrentCallersNeverExceedTheBurst) {
  RateLimiter r(1, 100);  // time frozen: exactly 100 may pass
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) allowed += r.Allow(kSecond).allowed ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 100);
}

}  // namespace
}  // namespace tradepipe::gateway
