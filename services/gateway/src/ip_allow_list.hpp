// Source IP allow-lists: addresses or CIDR ranges, IPv4 and IPv6 ("52.89.214.238",
// "10.0.0.0/8", "2001:db8::/32"). An empty list allows everyone. Matching is on the TCP peer
// address: behind a proxy or load balancer, filter there (forwarded headers are not trusted).
// Thread-safety: immutable after Parse; Allows() is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tradepipe/common/result.hpp"

namespace tradepipe::gateway {

class IpAllowList {
 public:
  static Result<IpAllowList> Parse(const std::vector<std::string>& entries);

  bool empty() const { return ranges_.empty(); }
  // `address` as text ("1.2.3.4", "::1", IPv4-mapped "::ffff:1.2.3.4" counts as IPv4).
  bool Allows(std::string_view address) const;

 private:
  struct Range {
    std::array<uint8_t, 16> bytes{};  // IPv4 stored as IPv4-mapped IPv6
    int prefix = 128;
  };
  std::vector<Range> ranges_;
};

}  // namespace tradepipe::gateway
