// libFuzzer target: the Standard Webhooks verifier over arbitrary header values and bodies.
// Input layout: id \n timestamp \n signature-header \n body. Must never crash, hang or read out of
// bounds, and must accept only what it signed itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tradepipe/crypto/standard_webhooks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  for (auto& part : parts) {
    const size_t nl = rest.find('\n');
    part = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  static const std::string keys[] = {"fuzz-key-one", "fuzz-key-two"};
  const auto outcome = tradepipe::crypto::Verify(keys, parts[0], parts[1], parts[2], rest, 1'700'000'000, 300);
  (void)tradepipe::crypto::ToString(outcome);
  // Whatever was sent, a signature we compute ourselves over it must verify.
  if (!parts[0].empty() && !parts[1].empty()) {
    const std::string own = tradepipe::crypto::Sign(keys[1], parts[0], parts[1], rest);
    const auto again = tradepipe::crypto::Verify(keys, parts[0], parts[1], own, rest, 1'700'000'000, 1LL << 40);
    // The timestamp may be unparsable or out of any window; the signature itself must match.
    if (again == tradepipe::crypto::VerifyOutcome::kBadSignature ||
        again == tradepipe::crypto::VerifyOutcome::kNoSupportedScheme ||
        again == tradepipe::crypto::VerifyOutcome::kMissingHeaders) {
      __builtin_trap();
    }
  }
  (void)tradepipe::crypto::ParseSecret(parts[2]);
  return 0;
}
