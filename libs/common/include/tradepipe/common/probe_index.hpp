// An open-addressing index from a 64-bit hash to a place: a position in an array the caller keeps
// (its entries, and so its keys). Linear probing, at most half full, deletion by backward shift;
// memory taken once, at construction, and nothing allocated per entry. Lookups ask the caller
// whether the entry at a place is the one sought; a deletion asks for the hash of an entry.
// Used by the bounded sets on the consumers' hot path (bus::SeenIds, execsim::OrderStates), where
// node-based maps cost a tenth of a service's CPU in a drain (docs/trading-core.md §7).
//
//   ProbeIndex index(capacity);
//   const size_t slot = index.SlotOf(hash, [&](uint32_t place) { return entries[place].key == key; });
//   if (!index.Holds(slot)) index.Set(slot, new_place);
//
// Not thread-safe: the owner locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tradepipe {

class ProbeIndex {
 public:
  // Room for places 0 .. capacity - 1 (capacity < 2^32 - 1).
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
    size_t slot = Home(hash);
    while (slots_[slot] != kEmpty && !is(slots_[slot] - 1)) slot = (slot + 1) & mask_;
    return slot;
  }
  bool Holds(size_t slot) const { return slots_[slot] != kEmpty; }
  uint32_t PlaceAt(size_t slot) const { return slots_[slot] - 1; }
  void Set(size_t slot, size_t place) { slots_[slot] = static_cast<uint32_t>(place + 1); }

  // Empties `slot`. Backward shift: every entry after the hole in its probe run moves into it
  // unless its home lies cyclically in (hole, its slot], so each stays reachable from its home.
  // `hash_of(place)`: the hash the entry at `place` was set with. Slots found before this call
  // may have moved: find them again.
  template <class HashOf>
  void Erase(size_t slot, const HashOf& hash_of) {
    size_t hole = slot;
    for (size_t next = (hole + 1) & mask_; slots_[next] != kEmpty; next = (next + 1) & mask_) {
      const size_t home = Home(hash_of(slots_[next] - 1));
      const bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
      if (stays) continue;
      slots_[hole] = slots_[next];
      hole = next;
    }
    slots_[hole] = kEmpty;
  }

 private:
  static constexpr uint32_t kEmpty = 0;  // a slot holds its place + 1
  size_t Home(uint64_t hash) const { return static_cast<size_t>(hash) & mask_; }

  std::vector<uint32_t> slots_;  // a power of two, at least twice the capacity
  size_t mask_ = 0;
};

}  // namespace tradepipe
