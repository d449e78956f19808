#include "tradepipe/crypto/standard_webhooks.hpp"

#include <charconv>

#include "tradepipe/crypto/crypto.hpp"

namespace tradepipe::crypto {

std::string_view ToString(VerifyOutcome outcome) {
  switch (outcome) {
    case VerifyOutcome::kOk:
      return "ok";
    case VerifyOutcome::kMissingHeaders:
      return "missing_signature_headers";
    case VerifyOutcome::kBadTimestamp:
      return "bad_timestamp";
    case VerifyOutcome::kStaleTimestamp:
      return "stale_timestamp";
    case VerifyOutcome::kNoSupportedScheme:
      return "unsupported_signature_scheme";
    case VerifyOutcome::kBadSignature:
      return "bad_signature";
  }
  return "unknown";
}

std::optional<std::string> ParseSecret(std::string_view secret) {
  if (secret.starts_with("whsec_")) secret.remove_prefix(6);
  auto key = Base64Decode(secret);
  if (!key || key->empty()) return std::nullopt;
  return key;
}

std::string Sign(std::string_view key, std::string_view id, std::string_view timestamp, std::string_view body) {
  const Sha256Digest mac = HmacSha256(key, {id, ".", timestamp, ".", body});
  return "v1," + Base64Encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

VerifyOutcome Verify(std::span<const std::string> keys, std::string_view id, std::string_view timestamp,
                     std::string_view signature_header, std::string_view body, int64_t now_seconds,
                     int64_t tolerance_seconds) {
  if (id.empty() || timestamp.empty() || signature_header.empty()) return VerifyOutcome::kMissingHeaders;
  int64_t ts = 0;
  const auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size()) return VerifyOutcome::kBadTimestamp;
  if (!WithinTolerance(ts, now_seconds, tolerance_seconds)) return VerifyOutcome::kStaleTimestamp;

  // Expected signatures, one per active key, computed once.
  std::string expected[8];
  const size_t n_keys = std::min<size_t>(keys.size(), std::size(expected));
  for (size_t i = 0; i < n_keys; ++i) {
    const Sha256Digest mac = HmacSha256(keys[i], {id, ".", timestamp, ".", body});
    expected[i] = Base64Encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  }

  bool saw_v1 = false;
  bool matched = false;
  std::string_view rest = signature_header;
  while (!rest.empty()) {
    const size_t space = rest.find(' ');
    std::string_view entry = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (!entry.starts_with("v1,")) continue;
    saw_v1 = true;
    entry.remove_prefix(3);
    // Compare against every key without stopping early, so timing says nothing about which matched.
    for (size_t i = 0; i < n_keys; ++i) matched |= ConstantTimeEquals(entry, expected[i]);
  }
  if (!saw_v1) return VerifyOutcome::kNoSupportedScheme;
  return matched ? VerifyOutcome::kOk : VerifyOutcome::kBadSignature;
}

}  // namespace tradepipe::crypto
