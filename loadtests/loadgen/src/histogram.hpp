// A log-linear latency histogram in the spirit of HdrHistogram (which is not packaged for
// C/C++ in Debian): values below 256 are exact; above, each power of two is split into 128
// equal buckets, so a reported value is at most 1/128 (0.79 %) above the true one. Fixed size
// (~60 KiB), no allocation while recording, mergeable. Values are nanoseconds.
//
//   Histogram h;  h.Record(1'234'567);  h.Percentile(99.0);  // ns, upper edge of its bucket
//
// Thread-safety: none; keep one per thread and Merge().
#pragma once

#include <array>
#include <cstdint>

namespace tradepipe::loadgen {

class Histogram {
 public:
  static constexpr int kSubBits = 7;                   // 128 buckets per power of two
  static constexpr int kLinear = 1 << (kSubBits + 1);  // 256 exact values
  static constexpr int kBuckets = kLinear + (63 - kSubBits - 1) * (1 << kSubBits);

  void Record(int64_t value);
  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }
  int64_t max() const { return max_; }
  int64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }
  // The smallest bucket upper edge below which `percent` % of the values lie (0 < percent <= 100).
  int64_t Percentile(double percent) const;

  static int BucketOf(int64_t value);
  static int64_t UpperEdge(int bucket);  // the largest value mapped to `bucket`

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
  double sum_ = 0;  // for the mean only
};

}  // namespace tradepipe::loadgen
