// The agent's trading configuration: sizing per strategy, the risk limits, per-symbol quantity
// steps and the starting balance, read from a JSON file (--trading-file,
// TRADEPIPE_AGENT_TRADING_FILE; docs/trading-core.md "Configuration"):
//
//   {"starting_balance": "100000",
//    "symbols": {"BTCUSDT": {"qty_step": "0.00001"}},
//    "risk": {"allowed_symbols": ["BTCUSDT", "AAPL"], "max_order_qty": "1000",
//             "max_order_notional": "50000", "max_position": "20", "max_gross_exposure": "250000",
//             "price_band_percent": "5", "max_signal_age_s": 30, "daily_loss_limit": "2000",
//             "trading_windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "13:30", "to": "20:00"}]},
//    "strategies": {"default": {"sizing": {"kind": "units", "value": "1"}},
//                   "trend": {"sizing": {"kind": "percent_equity", "value": "2"}, "allow_signal_qty": false,
//                             "max_open_positions": 3, "max_orders_per_minute": 30, "reduce_only": false}}}
//
// Every key is optional; an absent limit does not check. Unknown keys are refused by name, and
// so is a value of the wrong form (decimals are strings or numbers, exact). Thread-safety: a value.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tradepipe/common/result.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::agent {

// How a strategy sizes an entry when the signal brings no quantity (or may not bring one).
struct Sizing {
  events::QtyKind kind = events::QtyKind::kUnits;
  events::Decimal value;
};

struct StrategyConfig {
  std::optional<Sizing> sizing;                  // absent: the signal's quantity is required
  bool allow_signal_qty = true;                  // false: the strategy's sizing wins over the signal's qty
  bool reduce_only = false;                      // orders that would grow a position are refused
  std::optional<int64_t> max_open_positions;     // symbols with a position, when this strategy opens another
  std::optional<int64_t> max_orders_per_minute;  // orders of this strategy in any 60 s
};

// Entries are allowed inside a window (UTC, `from` inclusive, `to` exclusive, minutes of the
// day; `to` < `from` wraps past midnight, its days being the days it starts on).
struct TradingWindow {
  unsigned days = 0x7f;  // bit 0 = Monday ... bit 6 = Sunday
  int from_minute = 0;
  int to_minute = 24 * 60;
};

struct RiskLimits {
  std::vector<std::string> allowed_symbols;  // empty: any symbol
  std::optional<events::Decimal> max_order_qty;
  std::optional<events::Decimal> max_order_notional;
  std::optional<events::Decimal> max_position;        // |net position| per symbol
  std::optional<events::Decimal> max_gross_exposure;  // Σ |position| × last price
  std::optional<events::Decimal> price_band_percent;  // a signal's price against the last known one
  std::optional<int64_t> max_signal_age_s;            // from the gateway's receipt to the decision
  std::optional<events::Decimal> daily_loss_limit;    // realised loss today (UTC) at which entries stop
  std::vector<TradingWindow> trading_windows;         // empty: always
};

inline constexpr std::string_view kDefaultStrategy = "default";

struct TradingConfig {
  events::Decimal starting_balance = events::Decimal::FromInteger(100'000);
  std::map<std::string, events::Decimal, std::less<>> qty_steps;  // per symbol; absent: 0.00000001
  RiskLimits risk;
  std::map<std::string, StrategyConfig, std::less<>> strategies = {{"default", {}}};  // "default" always present

  // The strategy a signal names, or "default" for none or an unknown one: its configured name
  // (so that per-strategy state is bounded by the configuration) and its settings.
  std::string_view StrategyNameFor(std::string_view name) const;
  const StrategyConfig& StrategyFor(std::string_view name) const;
  events::Decimal QtyStepOf(std::string_view symbol) const;
};

// The file's text; the error names the key that is wrong.
Result<TradingConfig> ParseTradingConfig(std::string_view json);
// Reads and parses `path`; the error starts with the path.
Result<TradingConfig> LoadTradingConfig(const std::string& path);

}  // namespace tradepipe::agent
