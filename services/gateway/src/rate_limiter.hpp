// Per-source rate limit: a lock-free GCRA (generic cell rate algorithm, the token bucket's
// equivalent kept as one atomic "theoretical arrival time"). `rate_per_s` requests per second
// on average, bursts of up to `burst` at once. Allow() never blocks; a refusal says how long
// until the next request would pass (for Retry-After).
//
// Thread-safety: thread-safe (one atomic compare-and-swap per call).
#pragma once

#include <atomic>
#include <cstdint>

namespace tradepipe::gateway {

class RateLimiter {
 public:
  // rate_per_s <= 0: unlimited.
  RateLimiter(double rate_per_s, int64_t burst);

  struct Decision {
    bool allowed;
    int64_t retry_after_ns;  // when refused
  };
  Decision Allow(int64_t now_ns);

 private:
  int64_t interval_ns_;   // 0: unlimited
  int64_t tolerance_ns_;  // (burst - 1) intervals
  std::atomic<int64_t> tat_ns_{0};
};

}  // namespace tradepipe::gateway
