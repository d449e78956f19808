// Resting orders (docs/trading-core.md section 6, "Resting orders"): a DAY or GTC limit order
// with quantity left after its arrival rests here and fills when the market of a timer tick
// crosses its price (touching it: with a seeded probability), at its own price (a maker does not
// get the taker's price improvement). A DAY order expires at the first tick of a later UTC day
// than its decision's; a GTC order rests until filled. Resting orders trade only with the
// simulated market: never with each other or with arriving orders.
//
// State and redelivery: resting orders are the only state exec-sim keeps. Each is rebuilt at
// start from EXECUTIONS alone — its `accepted` report carries the order's terms and each later
// fill its running state; an order resting for longer than a quarter of the stream's max age is
// stated again (a restatement: the same report with its state then), so its terms never age out —
// and a tick's outcome is a function of (seed, symbol, tick, the resting orders), published
// before it is applied: after a crash between the two, the rebuilt state is what was published.
// A single exec-sim instance keeps the resting orders (two would both fill them at their own
// ticks).
//
// Thread-safety: RestingBook is thread-safe (one mutex: the consumer thread adds, the ticker
// matches, HTTP threads read); the free functions are pure.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tradepipe/bus/bus.hpp"
#include "tradepipe/bus/seen_ids.hpp"
#include "tradepipe/common/result.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::metrics {
class Metrics;
}

namespace tradepipe::execsim {

class Market;

struct RestingOrder {
  // The order's envelope as the parent of its later events (id, correlation, source, symbol, the
  // stamps up to exec_consumed); its payload is not used.
  events::Envelope parent;
  events::Side side = events::Side::kBuy;
  events::Decimal qty;                  // ordered (an exit: its entry's executed quantity, less its pair's fills)
  events::Decimal limit;                // a limit order's price
  std::optional<events::Decimal> stop;  // a stop order (a stop-loss): a market order once the market reaches it
  events::TimeInForce time_in_force = events::TimeInForce::kDay;
  std::optional<events::Decimal> take_profit;  // an entry's exits, placed when it ends having executed
  std::optional<events::Decimal> stop_loss;
  std::string oco;            // an exit: the other order of its one-cancels-the-other pair (empty: none)
  events::Decimal cum;        // executed so far
  events::Decimal avg_price;  // over cum (0 while nothing executed)
  int fills = 0;              // fill numbers used so far
  int64_t decided_ns = 0;     // the agent's decision (its `decided` stamp): time priority, a DAY order's day
  // When EXECUTIONS last got its terms (the `filled` stamp of its accepted report or of its last
  // restatement): a restart rebuilds it only while that event is still there.
  int64_t stated_ns = 0;

  events::Decimal leaves() const { return qty - cum; }
};

// The resting order an `accepted` report (envelope and parsed payload) describes; nullopt when
// the report is not an accepted one or lacks the order's terms.
std::optional<RestingOrder> RestingFromReport(const events::Envelope& report, const events::ExecReportPayload& payload);
// The `accepted` report payload of resting order `id`: its terms and its state now (what
// RestingFromReport rebuilds it from).
events::ExecReportPayload AcceptedReport(const std::string& id, const RestingOrder& order);

// Orders placed to rest, by order id (not yet in the book).
using PlacedOrders = std::vector<std::pair<std::string, RestingOrder>>;

// What a tick did to one resting order.
struct TickUpdate {
  std::string order_id;
  std::string status;  // accepted or partial (resting), filled, expired, cancelled
  RestingOrder after;  // the order after the tick

  bool rests() const { return status == "accepted" || status == "partial"; }
};

// The exits of an entry that ended having executed `executed` (`entry` holds its terms, parent and
// take_profit/stop_loss): a take-profit limit `<id>/tp` and a stop-loss stop `<id>/sl` on the
// other side, each for `executed`, one cancelling the other; their accepted reports made by
// `make_event(type, event id)` (stamped as the caller's other events).
struct Exits {
  std::vector<bus::OutgoingMessage> messages;
  PlacedOrders orders;
};
using MakeEvent = std::function<events::Envelope(std::string_view type, std::string id)>;
Exits PlaceExits(const std::string& entry_id, const RestingOrder& entry, events::Decimal executed,
                 const MakeEvent& make_event);
struct TickResult {
  std::vector<bus::OutgoingMessage> messages;  // fills and expiry reports, in order
  std::vector<TickUpdate> updates;
  size_t fills = 0;
  size_t expired = 0;
  size_t restated = 0;
};

// A resting order as the book and the ticks share it: an order in the book is never changed in
// place (a tick or a fill that moves it on puts a new one), so the ticker's view of the book is
// a list of pointers, taken under the book's lock in a few milliseconds at --max-resting 100,000
// (a copy of every order took longer than the tick interval there, docs/trading-core.md §7).
struct RestingEntry {
  RestingEntry(std::string order_id, RestingOrder resting)
      : id(std::move(order_id)), order(std::make_shared<const RestingOrder>(std::move(resting))) {}
  RestingEntry(std::string order_id, std::shared_ptr<const RestingOrder> resting)
      : id(std::move(order_id)), order(std::move(resting)) {}
  std::string id;
  std::shared_ptr<const RestingOrder> order;  // never null
};
using RestingList = std::vector<RestingEntry>;

// What tick number `tick` (its wall time `tick_ns`, the fills stamped `filled_ns`) does to
// `orders`: per symbol and side, the tick's book is shared out in priority — triggered stops
// first, then limits by price and time (a buy at a higher limit first, then the earlier decided).
// An order whose limit the best level crosses takes the depth within its limit in one fill at its
// price, one whose limit it only touches does so with probability touch_fill_bps / 10,000 (seeded
// by the order and the tick). A stop the best level reaches walks the levels like a market order
// (a fill per level). An exit's fill shrinks the other of its pair; an exit done cancels the
// other; an entry done (or expired having executed) places its exits. Then the orders still
// resting whose terms were last stated before `restatements.before_ns` are stated again, the
// longest unstated first and at most `restatements.per_tick` (orders accepted in a burst would
// come due in one tick; the others wait for the next): an `accepted` report
// `{id}/restated/{tick}` with its terms and its state now, so that EXECUTIONS, which forgets
// events after its max age, always holds what rebuilds it (the caller passes the tick's time less
// a quarter of that age; 0: never). Pure: same inputs, same bytes.
struct Restatements {
  int64_t before_ns = 0;
  size_t per_tick = 1'000;
};
TickResult MatchTick(const Market& market, const RestingList& orders, uint64_t tick, int64_t tick_ns, int64_t filled_ns,
                     int64_t touch_fill_bps, Restatements restatements = {});

// Cancels `orders` (resting, found in the book): each one's report 2 `cancelled` (stamped `tick`
// and `filled` with `now_ns`), and for an entry that executed in part its exits, placed as an
// expiry places them. Pure.
TickResult CancelResting(const RestingList& orders, int64_t now_ns);

class RestingBook;

// exec-sim's state at start, from one read of EXECUTIONS: every event's id into `published` (the
// durable de-duplication: whatever is there is never published again, however late a repeated
// order comes) and the resting orders into `book` (RestingBook::Replay). Logs what it read, and
// says (log, tradepipe_execsim_rebuilt_from_partial_history) when EXECUTIONS has lost its first
// events to age: the orders resting since then come back from their restatements.
struct Rebuilt {
  uint64_t events = 0;
  uint64_t unusable = 0;  // events Replay could not use (logged by the caller)
  // Events before this sequence are gone from EXECUTIONS (its age limit; 1 when the stream holds
  // its whole history): an order resting since then is rebuilt from its last restatement, unless
  // exec-sim was stopped for over three quarters of the age limit (then it is not rebuilt).
  uint64_t first_seq = 1;
  int64_t max_age_ns = 0;  // EXECUTIONS' (0: none): the ticker restates resting orders at a quarter of it
};
Result<Rebuilt> RebuildFromExecutions(bus::Bus& bus, bus::SeenIds& published, RestingBook& book,
                                      metrics::Metrics& metrics);

class RestingBook {
 public:
  explicit RestingBook(size_t capacity) : capacity_(capacity) {}

  // How many more orders can rest.
  size_t Room() const;
  // Ignored when the order rests already (a repeated order must not reset its progress).
  void Add(const std::string& order_id, RestingOrder order);
  void Apply(const std::vector<TickUpdate>& updates);
  // Rebuilding at start: one EXECUTIONS event, in stream order (an accepted report adds its order,
  // a later fill moves it on, a fill without leaves or a final report removes it). Other events
  // are ignored; an unusable one is an error (counted by the caller).
  Status Replay(std::string_view event_json);

  RestingList Snapshot() const;  // ordered by order id
  std::optional<RestingOrder> Find(const std::string& order_id) const;
  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const RestingOrder>> orders_;  // replaced, never changed in place
};

}  // namespace tradepipe::execsim
