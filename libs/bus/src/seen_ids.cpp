#include "tradepipe/bus/seen_ids.hpp"

#include <algorithm>
#include <cstring>

#include "tradepipe/crypto/crypto.hpp"

namespace tradepipe::bus {

SeenIds::SeenIds(size_t capacity)
    : capacity_(std::min<size_t>(capacity == 0 ? 1 : capacity, size_t{1} << 31)), ring_(capacity_), index_(capacity_) {}

SeenIds::Key SeenIds::Digest(std::string_view id) {
  const auto digest = crypto::Sha256(id);
  Key k;
  std::memcpy(&k.hi, digest.data(), sizeof k.hi);
  std::memcpy(&k.lo, digest.data() + sizeof k.hi, sizeof k.lo);
  return k;
}

size_t SeenIds::SlotOf(const Key& k) const {
  return index_.SlotOf(k.lo, [&](uint32_t place) { return ring_[place].key == k; });
}

bool SeenIds::Contains(const Key& k) const {
  std::lock_guard lock(mu_);
  return index_.Holds(SlotOf(k));
}

bool SeenIds::Insert(const Key& k, int64_t at_ns) {
  std::lock_guard lock(mu_);
  size_t slot = SlotOf(k);
  if (index_.Holds(slot)) return false;
  if (size_ == capacity_) {  // forget the oldest
    index_.Erase(SlotOf(ring_[head_].key));
    head_ = (head_ + 1) % capacity_;
    --size_;
    ++forgotten_;
    slot = SlotOf(k);  // the eviction's shift may have moved the end of k's probe
  }
  const size_t place = (head_ + size_) % capacity_;
  ring_[place] = {k, at_ns};
  index_.Set(slot, place, k.lo);
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
