#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "tradepipe/common/clock.hpp"
#include "tradepipe/common/percent.hpp"
#include "tradepipe/common/probe_index.hpp"
#include "tradepipe/common/redact.hpp"
#include "tradepipe/common/result.hpp"

namespace tradepipe {
namespace {

TEST(Status, OkAndError) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  Status bad = Status::Error("disk full");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error(), "disk full");
}

TEST(Result, HoldsAValueOrAnError) {
  Result<std::string> value(std::string("x"));
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, "x");
  EXPECT_EQ(value->size(), 1u);
  auto error = Result<std::string>::Error("nope");
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error(), "nope");
}

TEST(PercentDecode, DecodesValidEscapesAndKeepsInvalidOnes) {
  EXPECT_EQ(PercentDecode("demo%3Amsg%2F1"), "demo:msg/1");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecode("%41%62"), "Ab");
}

TEST(RedactUrlCredentials, HidesUserPasswordAndTokenOfEveryUrl) {
  EXPECT_EQ(RedactUrlCredentials("nats://app:s3cret@nats:4222"), "nats://***@nats:4222");
  EXPECT_EQ(RedactUrlCredentials("nats://tok@a:4222, nats://u:p@b:4222"), "nats://***@a:4222, nats://***@b:4222");
  EXPECT_EQ(RedactUrlCredentials("redis://:pa@ss@redis:6379/2"), "redis://***@redis:6379/2");
  EXPECT_EQ(RedactUrlCredentials("app:s3cret@host:4222"), "***@host:4222");  // no scheme
  // Nothing to hide: unchanged, also an '@' after the authority.
  EXPECT_EQ(RedactUrlCredentials("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
  EXPECT_EQ(RedactUrlCredentials("redis://h:6379/0?x=a@b"), "redis://h:6379/0?x=a@b");
  EXPECT_EQ(RedactUrlCredentials(""), "");
}

TEST(WallNanos, IsAfter2025AndMonotoneEnough) {
  const int64_t a = WallNanos();
  const int64_t b = WallNanos();
  EXPECT_GT(a, 1'735'689'600'000'000'000);  // 2025-01-01
  EXPECT_GE(b, a);
}

// Keys whose hashes share their home slot, and some their whole low 32 bits (the part a slot
// keeps), inserted and erased at random against a map: every key stays found at its place, an
// erased one is gone, and the caller is asked only about entries with the same low bits. Fails
// with the shift's home test broken or the shift skipped (a key is lost after an erase), and with
// the slot's bits not compared first.
TEST(ProbeIndex, BehavesAsAMapThroughCollisionsAndErases) {
  constexpr size_t kCapacity = 64;  // 128 slots
  ProbeIndex index(kCapacity);
  std::vector<uint64_t> hash_at(kCapacity);  // the caller's entries: a place's key is its hash
  std::vector<bool> used(kCapacity);
  std::map<uint64_t, size_t> model;  // key -> place
  std::mt19937_64 random(7);
  // 3 homes x 4 low halves x 3 high halves: 36 keys over 3 home slots (runs wrap around the end).
  std::vector<uint64_t> keys;
  for (uint64_t home : {uint64_t{5}, uint64_t{6}, uint64_t{127}}) {
    for (uint64_t low_tag = 0; low_tag < 4; ++low_tag) {
      for (uint64_t high = 1; high <= 3; ++high) keys.push_back((high << 32) | (low_tag << 20) | home);
    }
  }
  size_t asked_about_other_low_bits = 0;  // the index reads its own bits first
  auto find = [&](uint64_t key) {
    return index.SlotOf(key, [&](uint32_t place) {
      if (static_cast<uint32_t>(hash_at[place]) != static_cast<uint32_t>(key)) ++asked_about_other_low_bits;
      return used[place] && hash_at[place] == key;
    });
  };
  for (int step = 0; step < 20'000; ++step) {
    const uint64_t key = keys[random() % keys.size()];
    const size_t slot = find(key);
    const auto it = model.find(key);
    ASSERT_EQ(index.Holds(slot), it != model.end()) << "step " << step;
    if (it != model.end()) {
      ASSERT_EQ(index.PlaceAt(slot), it->second) << "step " << step;
      if (random() % 2 == 0) {
        index.Erase(slot);
        used[it->second] = false;
        model.erase(it);
      }
    } else if (model.size() < kCapacity) {
      size_t place = 0;
      while (used[place]) ++place;
      used[place] = true;
      hash_at[place] = key;
      index.Set(slot, place, key);
      model[key] = place;
    }
  }
  for (const auto& [key, place] : model) {
    const size_t slot = find(key);
    ASSERT_TRUE(index.Holds(slot));
    EXPECT_EQ(index.PlaceAt(slot), place);
  }
  EXPECT_GT(model.size(), 20u);  // the runs were long
  EXPECT_EQ(asked_about_other_low_bits, 0u);
}

}  // namespace
}  // namespace tradepipe
