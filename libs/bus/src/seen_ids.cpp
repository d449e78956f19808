#include "tradepipe/bus/seen_ids.hpp"

#include <algorithm>
#include <cstring>

#include "tradepipe/crypto/crypto.hpp"

namespace tradepipe::bus {

namespace {

size_t IndexSizeFor(size_t capacity) {
  size_t size = 16;
  while (size < 2 * capacity) size *= 2;
  return size;
}

}  // namespace

SeenIds::SeenIds(size_t capacity)
    : capacity_(std::min<size_t>(capacity == 0 ? 1 : capacity, size_t{1} << 31)),
      ring_(capacity_),
      index_(IndexSizeFor(capacity_), kEmpty),
      mask_(index_.size() - 1) {}

SeenIds::Key SeenIds::Digest(std::string_view id) {
  const auto digest = crypto::Sha256(id);
  Key k;
  std::memcpy(&k.hi, digest.data(), sizeof k.hi);
  std::memcpy(&k.lo, digest.data() + sizeof k.hi, sizeof k.lo);
  return k;
}

size_t SeenIds::SlotOf(const Key& k) const {
  size_t slot = HomeOf(k);
  while (index_[slot] != kEmpty && !(ring_[index_[slot] - 1].key == k)) slot = (slot + 1) & mask_;
  return slot;
}

void SeenIds::EraseSlot(size_t slot) {
  // Backward shift: every id after the hole in its probe run moves into it unless its home lies
  // cyclically in (hole, its slot], so each remaining id stays reachable from its home.
  size_t hole = slot;
  for (size_t next = (hole + 1) & mask_; index_[next] != kEmpty; next = (next + 1) & mask_) {
    const size_t home = HomeOf(ring_[index_[next] - 1].key);
    const bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
    if (stays) continue;
    index_[hole] = index_[next];
    hole = next;
  }
  index_[hole] = kEmpty;
}

bool SeenIds::Contains(const Key& k) const {
  std::lock_guard lock(mu_);
  return index_[SlotOf(k)] != kEmpty;
}

bool SeenIds::Insert(const Key& k, int64_t at_ns) {
  std::lock_guard lock(mu_);
  size_t slot = SlotOf(k);
  if (index_[slot] != kEmpty) return false;
  if (size_ == capacity_) {  // forget the oldest
    EraseSlot(SlotOf(ring_[head_].key));
    head_ = (head_ + 1) % capacity_;
    --size_;
    ++forgotten_;
    slot = SlotOf(k);  // the eviction's shift may have moved the end of k's probe
  }
  const size_t place = (head_ + size_) % capacity_;
  ring_[place] = {k, at_ns};
  index_[slot] = static_cast<uint32_t>(place + 1);
  ++size_;
  return true;
}

size_t SeenIds::size() const {
  std::lock_guard lock(mu_);
  return size_;
}

uint64_t SeenIds::forgotten() const {
  std::lock_guard lock(mu_);
  return forgotten_;
}

int64_t SeenIds::OldestNanos() const {
  std::lock_guard lock(mu_);
  return size_ == 0 ? 0 : ring_[head_].at_ns;
}

Result<uint64_t> RememberPublished(Bus& bus, const std::string& stream, const std::string& filter, SeenIds& seen) {
  return bus.ReadStream(stream, filter, /*headers_only=*/true, [&](const StreamEntry& entry) {
    if (!entry.msg_id.empty()) seen.Insert(entry.msg_id, entry.stored_ns);
  });
}

}  // namespace tradepipe::bus
