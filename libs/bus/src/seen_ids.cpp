#include "tradepipe/bus/seen_ids.hpp"

#include <cstring>

#include "tradepipe/crypto/crypto.hpp"

namespace tradepipe::bus {

SeenIds::SeenIds(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

SeenIds::Key SeenIds::Digest(std::string_view id) {
  const auto digest = crypto::Sha256(id);
  Key k;
  std::memcpy(&k.hi, digest.data(), sizeof k.hi);
  std::memcpy(&k.lo, digest.data() + sizeof k.hi, sizeof k.lo);
  return k;
}

bool SeenIds::Contains(const Key& k) const {
  std::lock_guard lock(mu_);
  return set_.contains(k);
}

bool SeenIds::Insert(const Key& k, int64_t at_ns) {
  std::lock_guard lock(mu_);
  if (!set_.insert(k).second) return false;
  order_.emplace_back(k, at_ns);
  if (order_.size() > capacity_) {
    set_.erase(order_.front().first);
    order_.pop_front();
    ++forgotten_;
  }
  return true;
}

size_t SeenIds::size() const {
  std::lock_guard lock(mu_);
  return order_.size();
}

uint64_t SeenIds::forgotten() const {
  std::lock_guard lock(mu_);
  return forgotten_;
}

int64_t SeenIds::OldestNanos() const {
  std::lock_guard lock(mu_);
  return order_.empty() ? 0 : order_.front().second;
}

Result<uint64_t> RememberPublished(Bus& bus, const std::string& stream, const std::string& filter, SeenIds& seen) {
  return bus.ReadStream(stream, filter, /*headers_only=*/true, [&](const StreamEntry& entry) {
    if (!entry.msg_id.empty()) seen.Insert(entry.msg_id, entry.stored_ns);
  });
}

}  // namespace tradepipe::bus
