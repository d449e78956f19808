// Primitives for webhook authentication: base64, HMAC-SHA256 and constant-time comparison,
// on OpenSSL 3. Thread-safe (no shared state).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tradepipe::crypto {

using Sha256Digest = std::array<unsigned char, 32>;

std::string Base64Encode(std::string_view bytes);
// Standard alphabet with padding; nullopt on any invalid character or length.
std::optional<std::string> Base64Decode(std::string_view text);

// HMAC-SHA256 of the concatenation of `parts` (no copy of the message).
Sha256Digest HmacSha256(std::string_view key, std::initializer_list<std::string_view> parts);

Sha256Digest Sha256(std::string_view bytes);

// Equal length and equal bytes, in time independent of where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace tradepipe::crypto
