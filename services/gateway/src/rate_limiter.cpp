#include "rate_limiter.hpp"

#include <algorithm>

namespace tradepipe::gateway {

RateLimiter::RateLimiter(double rate_per_s, int64_t burst)
    : interval_ns_(rate_per_s > 0 ? static_cast<int64_t>(1e9 / rate_per_s) : 0),
      tolerance_ns_(interval_ns_ * (std::max<int64_t>(burst, 1) - 1)) {}

RateLimiter::Decision RateLimiter::Allow(int64_t now_ns) {
  if (interval_ns_ == 0) return {true, 0};
  int64_t tat = tat_ns_.load(std::memory_order_relaxed);
  while (true) {
    const int64_t start = std::max(tat, now_ns);
    if (start - now_ns > tolerance_ns_) return {false, start - tolerance_ns_ - now_ns};
    if (tat_ns_.compare_exchange_weak(tat, start + interval_ns_, std::memory_order_relaxed)) return {true, 0};
  }
}

}  // namespace tradepipe::gateway
