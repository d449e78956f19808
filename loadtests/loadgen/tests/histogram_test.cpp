#include "histogram.hpp"

#include <gtest/gtest.h>

#include <random>

namespace tradepipe::loadgen {
namespace {

TEST(Histogram, BucketsCoverEveryValueWithBoundedError) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200'000; ++i) {
    const int64_t v = static_cast<int64_t>((rng() >> 1) >> (rng() % 62));  // non-negative, all magnitudes
    const int b = Histogram::BucketOf(v);
    ASSERT_GE(b, 0);
    ASSERT_LT(b, Histogram::kBuckets);
    const int64_t upper = Histogram::UpperEdge(b);
    ASSERT_GE(upper, v);
    ASSERT_LE(static_cast<double>(upper - v), static_cast<double>(v) / 128.0 + 1) << v;
    if (b > 0) {
      ASSERT_LT(Histogram::UpperEdge(b - 1), v) << v;
    }
  }
  EXPECT_EQ(Histogram::BucketOf(255), 255);
  EXPECT_EQ(Histogram::UpperEdge(Histogram::BucketOf(INT64_MAX)), INT64_MAX);
}

TEST(Histogram, PercentilesOfAUniformSequence) {
  Histogram h;
  for (int64_t v = 1; v <= 100'000; ++v) h.Record(v * 1000);  // 1 µs .. 100 ms
  EXPECT_EQ(h.count(), 100'000u);
  EXPECT_EQ(h.max(), 100'000'000);
  EXPECT_EQ(h.min(), 1000);
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const double exact = p / 100.0 * 100'000 * 1000;
    EXPECT_GE(static_cast<double>(h.Percentile(p)), exact) << p;
    EXPECT_LE(static_cast<double>(h.Percentile(p)), exact * (1 + 1.0 / 128) + 1) << p;
  }
  EXPECT_EQ(h.Percentile(100), 100'000'000);
}

TEST(Histogram, MergeAddsCounts) {
  Histogram a, b;
  a.Record(10);
  b.Record(1'000'000);
  b.Record(5);
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.min(), 5);
  EXPECT_EQ(a.max(), 1'000'000);
  EXPECT_EQ(a.Percentile(50), 10);
}

}  // namespace
}  // namespace tradepipe::loadgen
