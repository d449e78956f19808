// Test helper: the fill payloads among messages exec-sim would publish, in order.
#pragma once

#include <vector>

#include "tradepipe/bus/bus.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::execsim {

inline std::vector<events::FillPayload> FillsIn(const std::vector<bus::OutgoingMessage>& messages) {
  std::vector<events::FillPayload> fills;
  for (const auto& m : messages) {
    auto e = events::ParseEnvelope(m.data);
    if (e && e->type == events::kTypeFill) fills.push_back(*events::ParseFillPayload(e->payload));
  }
  return fills;
}

}  // namespace tradepipe::execsim
