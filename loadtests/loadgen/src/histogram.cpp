#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace tradepipe::loadgen {

int Histogram::BucketOf(int64_t value) {
  if (value < 0) value = 0;
  const auto v = static_cast<uint64_t>(value);
  if (v < static_cast<uint64_t>(kLinear)) return static_cast<int>(v);
  const int exponent = 63 - std::countl_zero(v);  // >= kSubBits + 1
  const int shift = exponent - kSubBits;
  const int mantissa = static_cast<int>(v >> shift);  // in [128, 255]
  return kLinear + (exponent - kSubBits - 1) * (1 << kSubBits) + (mantissa - (1 << kSubBits));
}

int64_t Histogram::UpperEdge(int bucket) {
  if (bucket < kLinear) return bucket;
  const int group = (bucket - kLinear) >> kSubBits;
  const int exponent = group + kSubBits + 1;
  const int shift = exponent - kSubBits;
  const uint64_t mantissa = static_cast<uint64_t>((bucket - kLinear) & ((1 << kSubBits) - 1)) + (1u << kSubBits);
  return static_cast<int64_t>(((mantissa + 1) << shift) - 1);
}

void Histogram::Record(int64_t value) {
  ++counts_[static_cast<size_t>(BucketOf(value))];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value);
}

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

int64_t Histogram::Percentile(double percent) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_)));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[static_cast<size_t>(i)];
    if (seen >= std::max<uint64_t>(rank, 1)) return std::min(UpperEdge(i), max_);
  }
  return max_;
}

}  // namespace tradepipe::loadgen
