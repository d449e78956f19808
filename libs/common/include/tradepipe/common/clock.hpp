// Wall-clock stamps for event envelopes (`ts` fields are nanoseconds since the Unix epoch).
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace tradepipe {

inline int64_t WallNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tradepipe
