// The agent's decision for one signal: an order, or a rejection with a stable reason code.
// Pure logic (no bus, no clock of its own), table-tested in tests/decision_test.cpp.
//
// Ids are deterministic: the decision for signal S has id "S/order" whether it is an order or a
// rejection, so a redelivered signal produces the same event and JetStream's duplicate window
// drops the re-publish.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "tradepipe/bus/bus.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::agent {

struct RiskLimits {
  events::Decimal max_order_qty = events::Decimal::FromInteger(1000);
};

// Stable rejection reason codes.
inline constexpr std::string_view kReasonMaxOrderQty = "max_order_qty";

struct Decision {
  bool rejected = false;
  std::string reason;  // when rejected
  events::Envelope event;
  bus::OutgoingMessage message;
};

// `signal` is the parsed envelope of a signal event; stamps `agent_consumed` and `decided`.
// Fails only when the signal's payload is unusable (a poison message).
Result<Decision> Decide(const events::Envelope& signal, const RiskLimits& limits, int64_t consumed_ns,
                        int64_t decided_ns);

}  // namespace tradepipe::agent
