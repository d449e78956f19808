#include "ip_allow_list.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace tradepipe::gateway {
namespace {

// Text → 16 bytes (IPv4 as ::ffff:a.b.c.d), and whether it was IPv4.
bool ToBytes(std::string_view text, std::array<uint8_t, 16>& out, bool& v4) {
  const std::string s(text);
  in_addr a4{};
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    out = {};
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &a4, 4);
    v4 = true;
    return true;
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    std::memcpy(out.data(), &a6, 16);
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    v4 = std::memcmp(out.data(), kMapped, 12) == 0;
    return true;
  }
  return false;
}

}  // namespace

Result<IpAllowList> IpAllowList::Parse(const std::vector<std::string>& entries) {
  IpAllowList list;
  for (const std::string& entry : entries) {
    const size_t slash = entry.find('/');
    Range range;
    bool v4 = false;
    if (!ToBytes(std::string_view(entry).substr(0, slash), range.bytes, v4)) {
      return Result<IpAllowList>::Error("'" + entry + "' is not an IP address or CIDR range");
    }
    const int max_prefix = v4 ? 32 : 128;
    int prefix = max_prefix;
    if (slash != std::string::npos) {
      const std::string_view p = std::string_view(entry).substr(slash + 1);
      const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
      if (ec != std::errc() || end != p.data() + p.size() || prefix < 0 || prefix > max_prefix) {
        return Result<IpAllowList>::Error("'" + entry + "' has a bad prefix length");
      }
    }
    range.prefix = v4 ? prefix + 96 : prefix;
    list.ranges_.push_back(range);
  }
  return list;
}

bool IpAllowList::Allows(std::string_view address) const {
  if (ranges_.empty()) return true;
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;
  if (!ToBytes(address, bytes, v4)) return false;
  for (const Range& r : ranges_) {
    const int full = r.prefix / 8, bits = r.prefix % 8;
    if (std::memcmp(bytes.data(), r.bytes.data(), static_cast<size_t>(full)) != 0) continue;
    if (bits != 0) {
      const auto mask = static_cast<uint8_t>(0xff << (8 - bits));
      if ((bytes[static_cast<size_t>(full)] & mask) != (r.bytes[static_cast<size_t>(full)] & mask)) continue;
    }
    return true;
  }
  return false;
}

}  // namespace tradepipe::gateway
