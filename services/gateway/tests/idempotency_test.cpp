#include "idempotency.hpp"

#include <gtest/gtest.h>

namespace tradepipe::gateway {
namespace {

TEST(IdempotencyStore, CapacityEvictsTheOldest) {
  IdempotencyStore store(2, 1'000'000);
  EXPECT_EQ(store.Begin("a", 1, 0).outcome, BeginOutcome::kNew);
  EXPECT_EQ(store.Begin("b", 1, 1).outcome, BeginOutcome::kNew);
  EXPECT_EQ(store.Begin("c", 1, 2).outcome, BeginOutcome::kNew);
  EXPECT_EQ(store.Begin("d", 1, 3).outcome, BeginOutcome::kNew);  // evicts a (and b on the way)
  EXPECT_LE(store.size(), 3u);
  EXPECT_GE(store.evictions(), 1u);
  EXPECT_EQ(store.Begin("a", 1, 4).outcome, BeginOutcome::kNew);  // forgotten
}

TEST(IdempotencyStore, EntriesExpireAfterTheTtl) {
  IdempotencyStore store(100, 10);
  EXPECT_EQ(store.Begin("k", 1, 0).outcome, BeginOutcome::kNew);
  store.Complete("k", {202, "{}"});
  EXPECT_EQ(store.Begin("k", 1, 5).outcome, BeginOutcome::kReplay);
  EXPECT_EQ(store.Begin("k", 1, 10).outcome, BeginOutcome::kNew);
}

TEST(IdempotencyStore, ReleaseLetsTheKeyRunAgain) {
  IdempotencyStore store(100, 1000);
  EXPECT_EQ(store.Begin("k", 1, 0).outcome, BeginOutcome::kNew);
  EXPECT_EQ(store.Begin("k", 1, 1).outcome, BeginOutcome::kInFlight);
  store.Release("k");
  EXPECT_EQ(store.Begin("k", 1, 2).outcome, BeginOutcome::kNew);
}

}  // namespace
}  // namespace tradepipe::gateway
