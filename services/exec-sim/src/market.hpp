// A seeded, reproducible simulated market: every symbol gets a mid price derived from the seed
// and its name, every order a small deterministic price jitter derived from the seed and its id,
// and a fixed spread. Same seed and same orders give the same fills, whatever the arrival
// order or redeliveries.
//
// This is the thin first version: market orders fill completely at once; a limit order fills
// when marketable and otherwise expires (IOC). Depth, partial fills, resting orders, time in
// force, latency and reject rates are not simulated yet (see docs/services.md).
// Thread-safety: pure functions over const state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tradepipe/bus/bus.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::execsim {

struct MarketOptions {
  uint64_t seed = 42;
  int64_t spread_bps = 10;  // full bid-ask spread, basis points of mid
  int64_t jitter_bps = 50;  // per-order mid jitter, ± basis points
};

class Market {
 public:
  explicit Market(MarketOptions options) : options_(options) {}

  events::Decimal Mid(const std::string& symbol, const std::string& order_id) const;
  // The price an order of `side` trades at (ask for buys, bid for sells), rounded to 0.01.
  events::Decimal Touch(const std::string& symbol, const std::string& order_id, events::Side side) const;

 private:
  MarketOptions options_;
};

struct Execution {
  bool filled = false;
  std::vector<bus::OutgoingMessage> messages;  // one event: the fill, or the exec_report of an order ending unfilled
};

// `order` is a parsed order envelope. Fails only for an unusable order (a poison message).
Result<Execution> Execute(const events::Envelope& order, const Market& market, int64_t consumed_ns, int64_t filled_ns);

}  // namespace tradepipe::execsim
