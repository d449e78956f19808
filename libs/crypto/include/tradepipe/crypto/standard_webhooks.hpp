// Verification of Standard Webhooks signatures (https://www.standardwebhooks.com):
// `webhook-signature: v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>`, several
// space-separated entries allowed; secrets written `whsec_<base64 key>`. The body is the
// exact bytes received: never re-serialised before verifying.
//
//   auto secret = ParseSecret("whsec_...");            // at start-up
//   VerifyOutcome r = Verify({*secret}, id, ts, sig, body, now_seconds, 300);
//   if (r != VerifyOutcome::kOk) reply 401 with ToString(r);
//
// Thread-safe: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tradepipe::crypto {

enum class VerifyOutcome {
  kOk,
  kMissingHeaders,     // webhook-id, webhook-timestamp or webhook-signature absent
  kBadTimestamp,       // not a decimal number of seconds
  kStaleTimestamp,     // outside the tolerance window, either direction
  kNoSupportedScheme,  // no `v1,` entry in the signature header
  kBadSignature,       // no entry matches any active secret
};

// The freshness rule of every scheme with a timestamp: at most `tolerance_seconds` away from now,
// in either direction.
constexpr bool WithinTolerance(int64_t timestamp_seconds, int64_t now_seconds, int64_t tolerance_seconds) {
  return timestamp_seconds >= now_seconds - tolerance_seconds && timestamp_seconds <= now_seconds + tolerance_seconds;
}

// Stable machine code for error bodies and metric labels, e.g. "stale_timestamp".
std::string_view ToString(VerifyOutcome outcome);

// A `whsec_<base64>` secret (the prefix is optional) → raw key bytes; nullopt if malformed.
std::optional<std::string> ParseSecret(std::string_view secret);

// Computes the header value `v1,<base64>` for the given key (used by tests and the demo).
std::string Sign(std::string_view key, std::string_view id, std::string_view timestamp, std::string_view body);

// `keys`: every active raw key of the source (rotation: old and new both accepted).
VerifyOutcome Verify(std::span<const std::string> keys, std::string_view id, std::string_view timestamp,
                     std::string_view signature_header, std::string_view body, int64_t now_seconds,
                     int64_t tolerance_seconds);

}  // namespace tradepipe::crypto
