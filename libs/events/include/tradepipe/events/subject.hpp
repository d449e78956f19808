// Subject tokens: a source or a symbol is exactly one NATS subject token, whatever its text.
// Characters NATS treats specially ('.', '*', '>', whitespace, control bytes) and '%' itself are
// percent-encoded, so "BRK.B" becomes "BRK%2EB" and can never add or widen a subject level.
// Thread-safe (pure functions).
#pragma once

#include <string>
#include <string_view>

namespace tradepipe::events {

// A trading symbol as the gateway accepts it: 1 to 32 characters, each an ASCII letter, digit or
// one of `. _ - / : ! = ^ & +` ("AAPL", "BRK.B", "BTC/USD", "ES1!", "NQ=F", "^SPX", "BINANCE:BTCUSDT").
// No quotes, backslashes, spaces, control or non-ASCII bytes. Returns why not, or empty when valid.
inline constexpr size_t kMaxSymbolLength = 32;
std::string SymbolProblem(std::string_view symbol);

std::string EncodeToken(std::string_view text);
std::string DecodeToken(std::string_view token);

// signals.{source}.{symbol}, orders.new.{symbol}, ... with both tokens encoded.
std::string SignalSubject(std::string_view source, std::string_view symbol);
std::string OrderSubject(std::string_view symbol);
std::string RejectionSubject(std::string_view symbol);
std::string CancelSubject(std::string_view symbol);  // orders.cancel.{symbol}
std::string FillSubject(std::string_view symbol);
std::string ReportSubject(std::string_view symbol);

}  // namespace tradepipe::events
