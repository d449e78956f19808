// Parses the JSON body of a trading-signal webhook into a normalised signal.
//
// Accepted (keys case-insensitive): `symbol` (or `ticker`) string, an exchange prefix stripped
// (TradingView's `{{exchange}}:{{ticker}}`, "BINANCE:BTCUSDT" -> "BTCUSDT"); `action` (or `side`,
// `order_action`) "buy"/"sell"; `qty` (or `quantity`, `contracts`, `size`) as a JSON number or a
// decimal string, "5%" = percent of equity, TradersPost's `quantityType` names the kind; actions
// also `close`, `close_all`, `reverse` (`exit` = close; qty optional for them);
// `market_position` / `prev_market_position` (also TradersPost's `sentiment`, 3Commas'
// `strategy_info`), `time_in_force`, `comment` (<= 256 bytes); `take_profit`/`stop_loss` refused
// (not built); optional
// `price`, `order_type` ("market" default, or "limit", which needs a price) and `strategy`;
// `token` (body-token scheme) is extracted apart and never becomes part of the signal.
// Numbers are read from their JSON text, never through binary floating point.
// Thread-safe (pure function, per-thread parser).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tradepipe/events/envelope.hpp"

namespace tradepipe::gateway {

struct WebhookSignal {
  std::string symbol;
  events::SignalPayload payload;
};

enum class SignalError { kNone, kMalformedJson, kInvalidField };

struct SignalParse {
  SignalError error = SignalError::kNone;
  std::string message;  // names the field for kInvalidField
  WebhookSignal signal;
  std::string token;  // the body's `token` field, if any (body-token scheme); never published
  std::string time;   // the body's `time` field as sent (body-token freshness), if any
};

// Seconds since the epoch of a body `time`: ISO 8601 UTC as TradingView's {{timenow}} renders it
// ("2026-12-02T09:56:00Z", fractional seconds allowed) or unix seconds ("1764669360", "1764669360.25").
std::optional<int64_t> ParseBodyTime(std::string_view text);

SignalParse ParseWebhookSignal(std::string_view body);

// "EXCH:SYMBOL" -> "SYMBOL" when EXCH is a word (letters, digits, `_`); anything else unchanged.
std::string_view WithoutExchangePrefix(std::string_view symbol);

}  // namespace tradepipe::gateway
