#include "idempotency.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace tradepipe::gateway {
namespace {

TEST(IdempotencyStore, CapacityIsBoundedAndEvictsTheOldest) {
  MemoryIdempotencyStore store(MemoryIdempotencyStore::kShards * 2, 1'000'000'000);  // two keys per shard
  for (int i = 0; i < 10'000; ++i) {
    EXPECT_EQ(store.BeginNow("k" + std::to_string(i), 1, i)->outcome, BeginOutcome::kNew);
  }
  EXPECT_LE(store.size(), static_cast<int64_t>(MemoryIdempotencyStore::kShards * 2));
  EXPECT_GE(store.evictions(), 10'000u - MemoryIdempotencyStore::kShards * 2);
  EXPECT_EQ(store.BeginNow("k0", 1, 10'001)->outcome, BeginOutcome::kNew);          // the oldest was forgotten
  EXPECT_EQ(store.BeginNow("k9999", 1, 10'002)->outcome, BeginOutcome::kInFlight);  // the newest was kept
}

TEST(IdempotencyStore, HorizonIsTheTtlUntilCapacityEvictsThenTheNewestEvictedKeysAge) {
  MemoryIdempotencyStore store(MemoryIdempotencyStore::kShards, 1'000'000);  // one key per shard
  EXPECT_EQ(store.capacity(), static_cast<int64_t>(MemoryIdempotencyStore::kShards));
  EXPECT_EQ(store.HorizonNs(0), 1'000'000) << "nothing evicted: the TTL";
  // Keys claimed at 1, 2, 3, ...: with one key per shard, each key landing on a held shard
  // evicts it, so every key younger than the newest evicted one is still held.
  for (int i = 1; i <= 1000; ++i) (void)store.BeginNow("k" + std::to_string(i), 1, i);
  const int64_t horizon = store.HorizonNs(2000);
  ASSERT_GT(horizon, 1000);  // back past the last claim
  ASSERT_LT(horizon, 2000);  // but not to the first
  const int64_t since = 2000 - horizon;
  for (int i = 1; i <= 1000; ++i) {
    if (i <= since) continue;  // older than the horizon: may have been forgotten
    EXPECT_EQ(store.BeginNow("k" + std::to_string(i), 1, 2000)->outcome, BeginOutcome::kInFlight) << i;
  }
}

TEST(IdempotencyStore, EntriesExpireAfterTheTtl) {
  MemoryIdempotencyStore store(100, 10);
  EXPECT_EQ(store.BeginNow("k", 1, 0)->outcome, BeginOutcome::kNew);
  store.CompleteNow("k", {202, "{}"});
  const auto replay = store.BeginNow("k", 1, 5);
  EXPECT_EQ(replay->outcome, BeginOutcome::kReplay);
  EXPECT_EQ(replay->replay.status, 202);
  EXPECT_EQ(store.BeginNow("k", 1, 10)->outcome, BeginOutcome::kNew);
}

TEST(IdempotencyStore, ReleaseLetsTheKeyRunAgain) {
  MemoryIdempotencyStore store(100, 1000);
  EXPECT_EQ(store.BeginNow("k", 1, 0)->outcome, BeginOutcome::kNew);
  EXPECT_EQ(store.BeginNow("k", 1, 1)->outcome, BeginOutcome::kInFlight);
  EXPECT_EQ(store.BeginNow("k", 2, 1)->outcome, BeginOutcome::kMismatch);
  store.ReleaseNow("k");
  EXPECT_EQ(store.BeginNow("k", 1, 2)->outcome, BeginOutcome::kNew);
}

TEST(IdempotencyStore, ConcurrentFirstRequestsRunExactlyOnce) {
  MemoryIdempotencyStore store(1'000'000, 1'000'000'000);
  constexpr int kThreads = 8, kKeys = 2000;
  std::atomic<int> winners{0}, in_flight{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < kKeys; ++k) {
        const auto r = store.BeginNow("key" + std::to_string(k), 7, 1);
        if (r->outcome == BeginOutcome::kNew) ++winners;
        if (r->outcome == BeginOutcome::kInFlight) ++in_flight;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), kKeys);
  EXPECT_EQ(in_flight.load(), kKeys * (kThreads - 1));
  EXPECT_EQ(store.size(), kKeys);
}

}  // namespace
}  // namespace tradepipe::gateway
