// An open-addressing index from a 64-bit hash to a place: a position in an array the caller keeps
// (its entries, and so its keys). Linear probing, at most half full, deletion by backward shift;
// memory taken once, at construction, and nothing allocated per entry.
//
// Each slot keeps the low 32 bits of its entry's hash beside the place, so a probe asks the caller
// about an entry (`is(place)`, a read of the caller's array: a cache miss when the array is large)
// only when those bits match, and a deletion finds the home of the entries it shifts without asking.
// Used by the bounded sets on the consumers' hot path (bus::SeenIds, execsim::OrderStates), where
// node-based maps cost a tenth of a service's CPU in a drain (docs/trading-core.md §7).
//
//   ProbeIndex index(capacity);
//   const size_t slot = index.SlotOf(hash, [&](uint32_t place) { return entries[place].key == key; });
//   if (!index.Holds(slot)) index.Set(slot, new_place, hash);
//
// Not thread-safe: the owner locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tradepipe {

class ProbeIndex {
 public:
  // Room for places 0 .. capacity - 1 (capacity <= 2^31: the slots are addressed by the hash's low
  // 32 bits, and a place + 1 fits 32 bits).
  explicit ProbeIndex(size_t capacity) {
    size_t size = 16;
    while (size < 2 * capacity) size *= 2;
    slots_.assign(size, kEmpty);
    mask_ = size - 1;
  }

  // The slot holding the place for which `is(place)` is true among the entries of `hash`, or the
  // empty slot where the probe for it ends.
  template <class Is>
  size_t SlotOf(uint64_t hash, const Is& is) const {
    const uint32_t low = static_cast<uint32_t>(hash);
    size_t slot = Home(low);
    for (;; slot = (slot + 1) & mask_) {
      const uint64_t s = slots_[slot];
      if (s == kEmpty) return slot;
      if (LowOf(s) == low && is(PlaceOf(s))) return slot;
    }
  }
  bool Holds(size_t slot) const { return slots_[slot] != kEmpty; }
  uint32_t PlaceAt(size_t slot) const { return PlaceOf(slots_[slot]); }
  // `hash`: the entry's, as given to SlotOf.
  void Set(size_t slot, size_t place, uint64_t hash) {
    slots_[slot] = (uint64_t{static_cast<uint32_t>(hash)} << 32) | (static_cast<uint64_t>(place) + 1);
  }

  // Empties `slot`. Backward shift: every entry after the hole in its probe run moves into it
  // unless its home lies cyclically in (hole, its slot], so each stays reachable from its home.
  // Slots found before this call may have moved: find them again.
  void Erase(size_t slot) {
    size_t hole = slot;
    for (size_t next = (hole + 1) & mask_; slots_[next] != kEmpty; next = (next + 1) & mask_) {
      const size_t home = Home(LowOf(slots_[next]));
      const bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
      if (stays) continue;
      slots_[hole] = slots_[next];
      hole = next;
    }
    slots_[hole] = kEmpty;
  }

 private:
  // A slot: the hash's low 32 bits, then the place + 1 (0: empty).
  static constexpr uint64_t kEmpty = 0;
  static uint32_t LowOf(uint64_t slot) { return static_cast<uint32_t>(slot >> 32); }
  static uint32_t PlaceOf(uint64_t slot) { return static_cast<uint32_t>(slot) - 1; }
  size_t Home(uint32_t low) const { return low & mask_; }

  std::vector<uint64_t> slots_;  // a power of two, at least twice the capacity
  size_t mask_ = 0;
};

}  // namespace tradepipe
