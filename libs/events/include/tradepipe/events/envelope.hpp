// The event envelope every message on the bus carries (see docs/events.md and proto/schemas):
//
//   {"v":2,"type":"signal","id":"demo:abc","correlation_id":"demo:abc","causation_id":null,
//    "source":"demo","symbol":"AAPL","ts":{"received":..,"published":..},"payload":{..}}
//
// Parsed with simdjson (payload kept as its raw JSON text, parsed by the typed payload
// functions below); written with rapidjson's writer, no DOM. Stage stamps accumulate along
// the path: each stage copies its parent's `ts` and adds its own, so the last event of a
// signal carries the whole latency breakdown.
//
// Thread-safe: value types and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tradepipe/common/result.hpp"
#include "tradepipe/events/decimal.hpp"

namespace tradepipe::events {

// The envelope version written; readers accept every version from 1 (docs/events.md, "Versions").
inline constexpr int kEnvelopeVersion = 3;
inline constexpr int kOldestReadableVersion = 1;

inline constexpr std::string_view kTypeSignal = "signal";
inline constexpr std::string_view kTypeOrder = "order";
inline constexpr std::string_view kTypeOrderRejected = "order_rejected";
inline constexpr std::string_view kTypeExecReport = "exec_report";
inline constexpr std::string_view kTypeFill = "fill";
inline constexpr std::string_view kTypeOrderCancel = "order_cancel";

struct Stamp {
  std::string name;
  int64_t ns = 0;
};

struct Envelope {
  int v = kEnvelopeVersion;
  std::string type;
  std::string id;
  std::string correlation_id;
  std::string causation_id;  // empty is written as null
  std::string source;
  std::string symbol;
  std::vector<Stamp> ts;
  std::string payload = "{}";  // a JSON object, as text

  void AddStamp(std::string_view name, int64_t ns) { ts.push_back({std::string(name), ns}); }
  std::optional<int64_t> StampOf(std::string_view name) const;
  // A child event: same correlation, caused by this one, inheriting its stamps.
  Envelope Child(std::string_view child_type, std::string child_id) const;
};

Result<Envelope> ParseEnvelope(std::string_view json);
std::string Serialize(const Envelope& envelope);

// ---- typed payloads ----

enum class Side { kBuy, kSell };
std::string_view ToString(Side side);

// What a signal asks for (docs/events.md "signal"). buy/sell may still mean a close or a reverse:
// the market positions say so (the agent resolves the intent).
enum class SignalAction { kBuy, kSell, kClose, kCloseAll, kReverse, kCancel };
// How a signal's qty is meant: units of the symbol, a percent of equity, an amount of money, or a
// percent of the current position.
enum class QtyKind { kUnits, kPercentEquity, kNotional, kPercentPosition };
// The strategy's position in the symbol, as the sender sees it (TradingView's market_position).
enum class MarketPosition { kLong, kShort, kFlat };
enum class TimeInForce { kDay, kGtc, kIoc, kFok };

// Wire names of the enums above, in declaration order: ToName(SignalAction::kCloseAll) ==
// "close_all"; FromName<QtyKind>("notional") == QtyKind::kNotional, nullopt for an unknown name.
template <typename E>
struct EnumNames;
template <>
struct EnumNames<SignalAction> {
  static constexpr std::string_view kNames[] = {"buy", "sell", "close", "close_all", "reverse", "cancel"};
};
template <>
struct EnumNames<QtyKind> {
  static constexpr std::string_view kNames[] = {"units", "percent_equity", "notional", "percent_position"};
};
template <>
struct EnumNames<MarketPosition> {
  static constexpr std::string_view kNames[] = {"long", "short", "flat"};
};
template <>
struct EnumNames<TimeInForce> {
  static constexpr std::string_view kNames[] = {"day", "gtc", "ioc", "fok"};
};
template <typename E>
constexpr std::string_view ToName(E value) {
  return EnumNames<E>::kNames[static_cast<size_t>(value)];
}
template <typename E>
constexpr std::optional<E> FromName(std::string_view name) {
  for (size_t i = 0; i < std::size(EnumNames<E>::kNames); ++i) {
    if (EnumNames<E>::kNames[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

// Since v3: actions beyond buy/sell, qty optional and of a kind, the market positions, time in
// force, comment. A v1/v2 signal reads as units with a qty.
struct SignalPayload {
  SignalAction action = SignalAction::kBuy;
  std::optional<Decimal>
      qty;  // buy/sell: required; close: absent = the whole position; close_all, reverse: from the position
  QtyKind qty_kind = QtyKind::kUnits;
  std::optional<Decimal> price;
  std::string order_type = "market";  // market | limit
  std::optional<TimeInForce> time_in_force;
  std::optional<MarketPosition> market_position;       // after this order, as the sender sees it
  std::optional<MarketPosition> prev_market_position;  // before it
  std::string strategy;                                // optional, empty when absent
  std::string comment;                                 // optional, empty when absent (the sender's text)
  // Optional, an entry's exits: a take-profit limit price and a stop-loss stop price, kept by
  // exec-sim as a one-cancels-the-other pair once the entry has executed.
  std::optional<Decimal> take_profit;
  std::optional<Decimal> stop_loss;
};

struct OrderPayload {
  std::string order_id;
  Side side = Side::kBuy;
  Decimal qty;
  std::optional<Decimal> limit_price;
  std::string order_type = "market";
  // Since v3, optional: the signal's. Absent: a market order is IOC, a limit order DAY.
  std::optional<TimeInForce> time_in_force;
  std::optional<Decimal> take_profit;  // the signal's, on an entry (SignalPayload)
  std::optional<Decimal> stop_loss;
};

// A request to cancel a resting order (a `cancel` signal's decision: one per open order of the
// symbol). exec-sim cancels it if it still rests when the request reaches the venue.
struct OrderCancelPayload {
  std::string order_id;  // the order to cancel
};

struct RejectionPayload {
  std::string order_id;
  std::string reason;  // stable code, e.g. "max_order_qty"
  std::string detail;  // human text
};

struct ExecReportPayload {
  std::string order_id;
  std::string status;  // accepted, partial, filled, cancelled, rejected, expired
  Decimal filled_qty;
  Decimal leaves_qty;
  std::optional<Decimal> avg_price;
  // The order's terms, written only in an `accepted` report (FIX's ExecutionReport carries them
  // too): a resting order is rebuilt from EXECUTIONS alone after a restart.
  std::optional<Side> side;
  std::optional<Decimal> qty;
  std::optional<Decimal> limit_price;
  std::optional<TimeInForce> time_in_force;
  std::optional<int> fills;            // fills so far: a resting order's next fill is number fills + 1
  std::optional<Decimal> stop_price;   // a stop order (a stop-loss): no limit_price
  std::optional<Decimal> take_profit;  // an entry's exits, placed when it ends having executed
  std::optional<Decimal> stop_loss;
  std::string oco;  // a contingent order: the other of its one-cancels-the-other pair (empty: none)
};

// A fill is the execution report of a state change that executed quantity (FIX's ExecutionReport
// with ExecType Trade): this execution (`qty` at `price`, FIX LastQty/LastPx) and the order's
// state after it. Since envelope v2 no separate exec_report accompanies it; v1 fills carry only
// the execution (the order's state is then absent: `status` empty).
struct FillPayload {
  std::string order_id;
  int fill_no = 1;
  Side side = Side::kBuy;
  Decimal qty;
  Decimal price;
  std::string status;  // "filled" or "partial" (v2); empty in a v1 fill
  Decimal cum_qty;     // executed so far, this fill included
  Decimal leaves_qty;  // still open
  Decimal avg_price;   // over cum_qty
};

std::string ToJson(const SignalPayload& p);
std::string ToJson(const OrderPayload& p);
std::string ToJson(const RejectionPayload& p);
std::string ToJson(const OrderCancelPayload& p);
std::string ToJson(const ExecReportPayload& p);
std::string ToJson(const FillPayload& p);

Result<SignalPayload> ParseSignalPayload(std::string_view json);
Result<OrderPayload> ParseOrderPayload(std::string_view json);
Result<OrderCancelPayload> ParseOrderCancelPayload(std::string_view json);
Result<FillPayload> ParseFillPayload(std::string_view json);
Result<ExecReportPayload> ParseExecReportPayload(std::string_view json);

}  // namespace tradepipe::events
