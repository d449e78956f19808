// The "hex HMAC" webhook scheme, for senders that sign with a plain HMAC header:
//
//   x-timestamp: <unix seconds>
//   x-signature: <lowercase or uppercase hex of HMAC-SHA256(key, "<x-timestamp>.<body>")>
//                (an optional "sha256=" prefix is accepted)
//
// The timestamp is inside the signed string, so a captured request cannot be replayed outside
// the tolerance window. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tradepipe/crypto/standard_webhooks.hpp"

namespace tradepipe::crypto {

// The x-signature value for `key` (tests, demos, the load generator).
std::string SignHexHmac(std::string_view key, std::string_view timestamp, std::string_view body);

// Same outcomes as Standard Webhooks: kMissingHeaders, kBadTimestamp, kStaleTimestamp,
// kBadSignature (also for a value that is not 64 hex digits), kOk.
VerifyOutcome VerifyHexHmac(std::span<const std::string> keys, std::string_view timestamp, std::string_view signature,
                            std::string_view body, int64_t now_seconds, int64_t tolerance_seconds);

}  // namespace tradepipe::crypto
