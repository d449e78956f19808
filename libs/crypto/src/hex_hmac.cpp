#include "tradepipe/crypto/hex_hmac.hpp"

#include <cctype>
#include <charconv>

#include "tradepipe/crypto/crypto.hpp"

namespace tradepipe::crypto {
namespace {

std::string LowerHex(const Sha256Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

}  // namespace

std::string SignHexHmac(std::string_view key, std::string_view timestamp, std::string_view body) {
  return LowerHex(HmacSha256(key, {timestamp, ".", body}));
}

VerifyOutcome VerifyHexHmac(std::span<const std::string> keys, std::string_view timestamp, std::string_view signature,
                            std::string_view body, int64_t now_seconds, int64_t tolerance_seconds) {
  if (timestamp.empty() || signature.empty()) return VerifyOutcome::kMissingHeaders;
  int64_t ts = 0;
  const auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size()) return VerifyOutcome::kBadTimestamp;
  if (!WithinTolerance(ts, now_seconds, tolerance_seconds)) return VerifyOutcome::kStaleTimestamp;
  if (signature.starts_with("sha256=")) signature.remove_prefix(7);
  if (signature.size() != 64) return VerifyOutcome::kBadSignature;
  std::string lower(signature);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool matched = false;
  for (const std::string& key : keys) matched |= ConstantTimeEquals(lower, SignHexHmac(key, timestamp, body));
  return matched ? VerifyOutcome::kOk : VerifyOutcome::kBadSignature;
}

}  // namespace tradepipe::crypto
