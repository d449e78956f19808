// The agent's decision for one signal: the orders that carry it out given the account, or a
// rejection with a stable reason code (risk.hpp, docs/trading-core.md "Reason codes").
// Pure logic apart from the strategy's order throttle (no bus, no clock of its own),
// table-tested in tests/agent_test.cpp.
//
// Intent (docs/trading-core.md "The signal contract"): TradingView's strategy alerts only say
// buy/sell, so the market positions decide: a sell to `flat` closes a long, a sell from `long`
// to `short` reverses it; `close`, `close_all` and `reverse` say so directly. A close never
// flips the position; a reverse is one decision with two orders (the close, then the open), so
// the open can never land first.
//
// Sizing: an entry's quantity is the signal's (if its strategy allows one) or the strategy's
// sizing: units, notional (÷ the reference price), percent of equity (starting balance +
// realised P&L, ÷ the reference price) or percent of the position; rounded down to the symbol's
// quantity step. The reference price is the signal's `price`, else the symbol's last fill.
//
// Cancel (TradersPost's `cancel`): one cancel request per open order of the symbol, ids
// "S/cancel/1", "S/cancel/2"...; none open is refused (no_open_orders). A cancel passes in every
// trading state and every check (it only takes risk away); exec-sim cancels what still rests.
//
// Ids are deterministic: the decision for signal S has id "S/order" (an order or a rejection), a
// reverse's second order "S/order/2" (or its rejection, when only the open is refused); a
// redelivered signal produces the same events and the re-publish is dropped as a duplicate.
// Thread-safety: Decide mutates the throttle it is given; one deciding thread per throttle.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "positions.hpp"
#include "risk.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/events/envelope.hpp"
#include "trading_config.hpp"

namespace tradepipe::agent {

enum class IntentKind { kEntry, kClose, kReverse, kCancel };

// What a signal means before the position is looked at. `side` is the side of the order that
// opens (entry, reverse) or closes (close); unset when only the position can tell (close,
// close_all and reverse actions).
struct Intent {
  IntentKind kind = IntentKind::kEntry;
  std::optional<events::Side> side;
  bool whole_position = false;  // close_all, or a close without qty: all of it
};
Intent ResolveIntent(const events::SignalPayload& signal);

// What sizing reads: the position, the price an amount of money converts at, the equity and the
// symbol's quantity step.
struct SizingInputs {
  events::Decimal position;  // net: positive long, negative short
  std::optional<events::Decimal> reference_price;
  events::Decimal equity;
  events::Decimal qty_step = events::Decimal::FromUnits(1);
};

struct PlannedOrder {
  events::Side side = events::Side::kBuy;
  events::Decimal qty;
};

// The orders carrying out `signal` for the inputs, or the reason code it is refused with.
struct Plan {
  std::vector<PlannedOrder> orders;  // empty when refused
  std::string_view reason;
  std::string detail;
};
Plan PlanOrders(const events::SignalPayload& signal, const StrategyConfig& strategy, const SizingInputs& inputs);

// Everything a decision reads besides the signal. The position it works from is the account's
// filled quantity plus its open orders' (positions.hpp).
struct DecisionContext {
  const TradingConfig* config = nullptr;
  AccountView account;  // of the signal's symbol
  TradingState state = TradingState::kActive;
  int64_t consumed_ns = 0;
  int64_t decided_ns = 0;  // also "now" for the clock-bound checks
  // The signal symbol's open orders, oldest first: what a `cancel` signal cancels (asked only
  // then: it walks every open order).
  std::function<std::vector<std::string>()> open_orders;
};

struct Decision {
  bool rejected = false;                                     // the whole signal was refused
  std::string reason;                                        // when rejected
  std::string partial_reason;                                // a reverse whose open was refused (its close goes out)
  size_t orders = 0;                                         // orders published (0, 1, or 2 for a reverse)
  size_t cancels = 0;                                        // cancel requests published (a cancel signal)
  std::vector<bus::OutgoingMessage> messages;                // the orders in execution order, then any rejection
  std::vector<std::pair<std::string, PlannedOrder>> placed;  // the orders' ids, sides and quantities
};

// `signal` is the parsed envelope of a signal event. Every event stamps `agent_consumed` and
// `decided`. Fails only when the signal is unusable (a poison message).
Result<Decision> Decide(const events::Envelope& signal, const DecisionContext& context, OrderThrottle& throttle);

}  // namespace tradepipe::agent
