// The agent's decision for one signal: the orders that carry it out given the symbol's current
// position, or a rejection with a stable reason code. Pure logic (no bus, no clock of its own),
// table-tested in tests/agent_test.cpp.
//
// Intent (docs/trading-core.md "The signal contract"): TradingView's strategy alerts only say
// buy/sell, so the market positions decide: a sell to `flat` closes a long, a sell from `long`
// to `short` reverses it; `close`, `close_all` and `reverse` say so directly. A close never
// flips the position; a reverse is one decision with two orders (the close, then the open), so
// the open can never land first.
//
// Ids are deterministic: the decision for signal S has id "S/order" (an order or a rejection), a
// reverse's second order "S/order/2"; a redelivered signal produces the same events and the
// re-publish is dropped as a duplicate.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "tradepipe/bus/bus.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::agent {

struct RiskLimits {
  events::Decimal max_order_qty = events::Decimal::FromInteger(1000);
};

// Stable rejection reason codes (docs/trading-core.md "Reason codes").
inline constexpr std::string_view kReasonMaxOrderQty = "max_order_qty";
inline constexpr std::string_view kReasonNoPosition = "no_position";                   // a close with nothing to close
inline constexpr std::string_view kReasonPositionMismatch = "position_mismatch";       // a reverse into the side held
inline constexpr std::string_view kReasonUnsupportedQtyKind = "unsupported_qty_kind";  // sizing not built yet

enum class IntentKind { kEntry, kClose, kReverse };

// What a signal means before the position is looked at. `side` is the side of the order that
// opens (entry, reverse) or closes (close); unset when only the position can tell (close,
// close_all and reverse actions).
struct Intent {
  IntentKind kind = IntentKind::kEntry;
  std::optional<events::Side> side;
  bool whole_position = false;  // close_all, or a close without qty: all of it
};
Intent ResolveIntent(const events::SignalPayload& signal);

struct PlannedOrder {
  events::Side side = events::Side::kBuy;
  events::Decimal qty;
};

// The orders carrying out `signal` for a net `position` (positive long, negative short), or the
// reason code it is refused with.
struct Plan {
  std::vector<PlannedOrder> orders;  // empty when refused
  std::string_view reason;
  std::string detail;
};
Plan PlanOrders(const events::SignalPayload& signal, events::Decimal position);

struct Decision {
  bool rejected = false;
  std::string reason;                          // when rejected
  size_t orders = 0;                           // orders published (0, 1, or 2 for a reverse)
  std::vector<bus::OutgoingMessage> messages;  // the orders in execution order, or the rejection
};

// `signal` is the parsed envelope of a signal event; `position` the symbol's net position now.
// Every event stamps `agent_consumed` and `decided`. Fails only when the signal is unusable (a
// poison message).
Result<Decision> Decide(const events::Envelope& signal, const RiskLimits& limits, events::Decimal position,
                        int64_t consumed_ns, int64_t decided_ns);

}  // namespace tradepipe::agent
