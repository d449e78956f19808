// Wall-clock stamps for event envelopes (`ts` fields are nanoseconds since the Unix epoch), and
// the monotonic milliseconds that deadlines are counted in.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace tradepipe {

inline int64_t WallNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Milliseconds on the monotonic clock: for deadlines, never for stamps.
inline int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace tradepipe
