// A seeded, reproducible simulated market (docs/trading-core.md "Exec-sim: a market").
//
// The book an order meets is a function of (seed, symbol, the order's sequence in ORDERS): the
// mid wanders within ± walk_bps of a per-symbol base (seeded knots every 64 steps, linearly
// interpolated), the spread is fixed, and `levels` price levels per side, `level_step_bps` apart,
// hold seeded sizes around depth_qty × (level + 1), regenerated at every sequence (depth refills
// between orders). So an order executes the same way on every delivery and after a restart: its
// events are duplicates by id, never new effects. Resting orders meet the book of a timer tick
// instead (TickBookAt: the same base, its own walk, a function of (seed, symbol, tick number)).
//
// Matching: a market order walks the book (one fill per level, slippage growing with size); a
// limit order walks the levels within its price. What is left when the depth runs out: IOC (a
// market order's default) and a market order's rest are cancelled, FOK executes nothing unless
// everything fills, a DAY or GTC limit (a limit's default: DAY) rests (resting.hpp) — or, when
// the resting book is full, is cancelled. Events: one fill per level touched (`O/fill/<n>`,
// status partial then filled, with cum/leaves/avg price), then an exec_report (`O/report/1`)
// when quantity is left: `accepted` (it rests; the report carries the order's terms) or its end.
// A seeded share of orders (reject_bps, chosen by a hash of the seed and the order id) is
// rejected by the venue instead: one exec_report `rejected`, nothing executed.
// Thread-safety: pure functions over const state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "resting.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::execsim {

struct MarketOptions {
  uint64_t seed = 42;
  int64_t spread_bps = 10;     // full bid-ask spread, basis points of mid
  int64_t walk_bps = 50;       // how far the mid wanders from its base, ± basis points
  int levels = 5;              // price levels per side
  int64_t level_step_bps = 5;  // distance between levels, basis points of mid (at least 0.01)
  events::Decimal depth_qty = events::Decimal::FromInteger(1000);  // mean size of the best level
  int64_t reject_bps = 0;  // share of orders the venue rejects (seeded by order id), basis points
};

struct Level {
  events::Decimal price;
  events::Decimal qty;
};

struct Book {
  events::Decimal mid;
  std::vector<Level> bids;  // best (highest) first
  std::vector<Level> asks;  // best (lowest) first
};

class Market {
 public:
  explicit Market(MarketOptions options) : options_(options) {}

  events::Decimal Mid(const std::string& symbol, uint64_t sequence) const;
  // Both sides, or only the side an order of `taker` trades against (a buy: the asks).
  Book BookAt(const std::string& symbol, uint64_t sequence, std::optional<events::Side> taker = std::nullopt) const;
  // The book resting orders meet at timer tick `tick` (wall time / tick interval).
  Book TickBookAt(const std::string& symbol, uint64_t tick, std::optional<events::Side> taker = std::nullopt) const;
  const MarketOptions& options() const { return options_; }

 private:
  // `walk_key` picks the clock's walk: the symbol's hash for the ORDERS sequence, another for ticks.
  events::Decimal MidOf(uint64_t symbol_hash, uint64_t walk_key, uint64_t step) const;
  Book BookOf(uint64_t symbol_hash, uint64_t walk_key, uint64_t step, std::optional<events::Side> taker) const;

  MarketOptions options_;
};

// What one order takes from a book.
struct Slice {
  events::Decimal qty;
  events::Decimal price;
};
struct Match {
  std::vector<Slice> slices;  // in the order the levels were taken
  events::Decimal filled;
  events::Decimal leaves;
};
// Walks the side of `book` an order of `side` trades against, up to `limit` (none: every level),
// taking at most `qty`; `all_or_none` (FOK) takes nothing unless all of `qty` is there.
Match MatchOrder(const Book& book, events::Side side, events::Decimal qty, std::optional<events::Decimal> limit,
                 bool all_or_none);

struct Execution {
  events::Side side = events::Side::kBuy;      // the order's
  events::Decimal qty;                         // the order's
  bool filled = false;                         // completely
  std::string status;                          // the order's last state: filled, accepted, cancelled, rejected
  events::Decimal filled_qty;                  // executed in all
  events::Decimal avg_price;                   // over filled_qty (0 when nothing executed)
  size_t fills = 0;                            // fill events among the messages
  std::vector<bus::OutgoingMessage> messages;  // the fills in order, then the report of an unfilled rest
  std::optional<RestingOrder> rest;            // set when the order rests (status accepted)
  PlacedOrders exits;                          // its take-profit/stop-loss, placed now (it ended having executed)
  bool rest_refused = false;                   // a rest or exits cancelled: the resting book was full
};

// `order` is a parsed order envelope, `sequence` its sequence in ORDERS (the market's clock).
// `room`: how many more orders may rest (RestingBook::Room); a DAY/GTC rest needs one, an entry's
// exits one each — without it they are cancelled at once.
// Fails only for an unusable order (a poison message).
Result<Execution> Execute(const events::Envelope& order, uint64_t sequence, const Market& market, int64_t consumed_ns,
                          int64_t filled_ns, size_t room = SIZE_MAX);

// {"symbol","sequence","mid","bids":[{"price","qty"}...],"asks":[...]}, written with a JSON writer.
std::string BookJson(const std::string& symbol, uint64_t sequence, const Book& book);

}  // namespace tradepipe::execsim
