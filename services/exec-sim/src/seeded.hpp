// Seeded, platform-stable pseudo-randomness for the simulated market: every "random" choice is a
// hash of the seed and what it is about (a symbol, an order id, a step of a clock), so the same
// inputs give the same market on every run, delivery and replica (std::hash and <random>'s
// distributions are not stable across platforms).
#pragma once

#include <cstdint>
#include <string_view>

namespace tradepipe::execsim::seeded {

// FNV-1a, seeded.
inline uint64_t Hash(uint64_t seed, std::string_view text) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// SplitMix64's finaliser: a well-mixed number from a combination of numbers.
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// True for a share `bps` (basis points, 0..10,000) of the values of `h`.
inline bool Chance(uint64_t h, int64_t bps) { return static_cast<int64_t>(h % 10'000) < bps; }

}  // namespace tradepipe::execsim::seeded
