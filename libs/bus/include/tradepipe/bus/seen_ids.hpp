// Ids of effects already produced (messages published, fills applied), remembered durably enough
// that a repeat is recognised long after JetStream's duplicate window: the set is rebuilt at start
// from the output stream itself (RememberPublished), so it survives restarts, and it is bounded.
//
// Each id is kept as a 128-bit digest (SHA-256, truncated): memory per id is fixed whatever the
// id's length, and a false "seen" (which would drop a real effect) has probability ~n²/2¹²⁹.
// At capacity the oldest id is forgotten (counted): a repeat is recognised for
// max(duplicate window, capacity / rate) after the original — Horizon() says how far back that
// is right now, and the services export it.
//
// Memory is taken once, at construction, for `capacity` ids (about 40 bytes each): a ring of the
// ids in insertion order and an open-addressing index into it (linear probing, at most half full,
// deletion by backward shift). Neither allocates per id: this set is checked and written for
// every message the agent and exec-sim publish, and the node-based set it replaced cost a tenth
// of their CPU in a drain (docs/trading-core.md §7).
//
// Thread-safety: every method is thread-safe (one mutex: the consumer thread writes, metrics read).
#pragma once

#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "tradepipe/bus/bus.hpp"
#include "tradepipe/common/probe_index.hpp"

namespace tradepipe::bus {

class SeenIds {
 public:
  struct Key {
    uint64_t hi = 0;
    uint64_t lo = 0;
    bool operator==(const Key&) const = default;
  };
  // The digest an id is remembered by: compute it once when an id is both checked and inserted.
  static Key Digest(std::string_view id);

  // At most 2^31 ids (the index holds 32-bit places).
  explicit SeenIds(size_t capacity);

  bool Contains(const Key& key) const;
  bool Contains(std::string_view id) const { return Contains(Digest(id)); }
  // Remembers the id as produced at `at_ns` (wall clock); false when it was already there.
  bool Insert(const Key& key, int64_t at_ns);
  bool Insert(std::string_view id, int64_t at_ns) { return Insert(Digest(id), at_ns); }

  size_t size() const;
  size_t capacity() const { return capacity_; }
  uint64_t forgotten() const;  // evicted at capacity since start
  // Wall-clock time of the oldest id still remembered (0 when empty).
  int64_t OldestNanos() const;

 private:
  struct Entry {
    Key key;
    int64_t at_ns = 0;
  };
  // The index slot holding `k`, or the empty slot where its probe ends (digests are uniform:
  // their low half is the hash).
  size_t SlotOf(const Key& k) const;

  const size_t capacity_;
  mutable std::mutex mu_;
  std::vector<Entry> ring_;  // ids in insertion order: ring_[(head_ + i) % capacity_], i < size_
  ProbeIndex index_;         // digest -> ring place
  size_t head_ = 0;          // the oldest id's place
  size_t size_ = 0;
  uint64_t forgotten_ = 0;
};

// Remembers the message id (`Nats-Msg-Id`) of every message of `stream` matching `filter`, as
// stored when the call starts, oldest first (a headers-only read). Logs progress each second on
// long reads. Returns how many messages were read.
Result<uint64_t> RememberPublished(Bus& bus, const std::string& stream, const std::string& filter, SeenIds& seen);

}  // namespace tradepipe::bus
