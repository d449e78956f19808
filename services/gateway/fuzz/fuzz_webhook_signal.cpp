// libFuzzer target: the webhook body parser over arbitrary bytes. Must never crash, and a signal
// it accepts must round-trip through the envelope payload writer and parser unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tradepipe/events/envelope.hpp"
#include "webhook_signal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parsed =
      tradepipe::gateway::ParseWebhookSignal(std::string_view(reinterpret_cast<const char*>(data), size));
  if (parsed.error != tradepipe::gateway::SignalError::kNone) return 0;
  const auto& p = parsed.signal.payload;
  const auto back = tradepipe::events::ParseSignalPayload(tradepipe::events::ToJson(p));
  // Every field survives: the payload written again from what was read is the same text.
  if (!back || tradepipe::events::ToJson(*back) != tradepipe::events::ToJson(p)) __builtin_trap();
  return 0;
}
