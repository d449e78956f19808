// The account as the fills make it, per symbol: net quantity, average entry price, realised
// P&L and the last fill price; idempotent by fill id (a redelivered fill changes nothing; the
// applied ids are a bounded bus::SeenIds). Rebuilt at start from the newest snapshot and the fills
// of EXECUTIONS after it, in stream order, before the agent decides anything (snapshot.hpp).
//
// Netting: a fill on the side of the position (or from flat) moves the average price to the
// quantity-weighted mean; a fill against it realises (price - average) × closed quantity (sign of
// the position) and keeps the average; one that goes through flat opens the rest at its price.
// The day of a fill (UTC) is its `filled` stamp's, so the daily P&L is the same on a replay.
//
// Open orders: every order the agent publishes is registered before it is published (so its fill
// can never come first) with its signed quantity; its fills take from it and a final
// exec_report (cancelled, expired, rejected) closes it. The risk checks read the position as
// filled + open, so a burst of entries faster than the fills cannot pass a limit together, and a
// close right after its entry finds what it closes. Bounded like the fill ids: at the bound the
// oldest open order is forgotten (counted in forgotten_open_orders()). An order registered again
// after its fills or its end were seen (a batch whose publish failed, retried after its order was
// stored and filled after all) opens only what those left: fills and ends of unknown orders are
// remembered (bounded the same way) for that.
//
// Snapshots (snapshot.hpp): the account part (positions, realised P&L) is exported with the
// EXECUTIONS sequence it covers, `executions_through`, so that positions outlive the stream's
// retention. After RestoreAccount, a fill at or below that sequence is already in the positions:
// it only registers its id and takes from its open order.
// Thread-safe (one mutex; fills arrive on one consumer thread, reads come from HTTP threads).
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "tradepipe/bus/seen_ids.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::agent {

enum class ApplyOutcome {
  kApplied,
  kDuplicate,   // this fill id was applied before: nothing changes
  kOutOfRange,  // a quantity, price or P&L would leave Decimal's range: refused, nothing changes
  kReport,      // an exec_report: a final one closed its open order
};

struct SymbolPosition {
  events::Decimal qty;       // net: positive long, negative short (filled)
  events::Decimal open_qty;  // signed quantity of its open orders, not yet filled
  events::Decimal avg_price;
  events::Decimal realised_pnl;
  events::Decimal last_price;  // of the last fill
};

// What the risk checks read of the account for one symbol at one moment.
struct AccountView {
  SymbolPosition symbol;           // its qty + open_qty is the position the checks use
  bool has_last_price = false;     // the symbol has been filled at least once
  events::Decimal gross_exposure;  // Σ |qty + open_qty| × last price over every symbol
  int64_t open_positions = 0;      // symbols whose qty + open_qty is not 0
  events::Decimal realised_pnl;    // every symbol, since the beginning
  events::Decimal realised_today;  // every symbol, fills of the asked day (UTC)
};

// What a snapshot keeps of the account: every symbol's filled position (open_qty is not kept: open
// orders come back from the streams) and the realised P&L, as of `executions_through`.
struct AccountState {
  std::map<std::string, SymbolPosition> symbols;
  events::Decimal realised_pnl;
  int64_t day = 0;  // UTC day number of realised_day
  events::Decimal realised_day;
  uint64_t executions_through = 0;  // every execution event up to this EXECUTIONS sequence is in it
};

class Positions {
 public:
  explicit Positions(size_t remembered_fills = 250'000) : applied_(remembered_fills), open_capacity_(remembered_fills) {
    open_.reserve(std::min<size_t>(open_capacity_, 1 << 20));  // no rehash on the way to the bound
  }
  // `at_ns`: when the fill happened (its day counts for the daily P&L; the horizon of ids).
  // A fill of `order_id` (empty: none known), which takes from that open order. `sequence`: its
  // EXECUTIONS sequence (0: not known; then no snapshot covers it).
  ApplyOutcome Apply(const std::string& fill_id, const std::string& order_id, const std::string& symbol,
                     events::Side side, events::Decimal qty, events::Decimal price, int64_t at_ns,
                     uint64_t sequence = 0);
  // An execution event that is not a fill was handled (a report, or an unusable message
  // terminated): executions_through moves past it once every event below it is handled too.
  void Saw(uint64_t sequence);
  // The stream holds nothing below `first_seq` any more (its age limit): nothing there to wait for.
  void GoneBefore(uint64_t first_seq);
  // The account as a snapshot keeps it; nullopt while an execution event is missing below one
  // already handled (a snapshot then would claim a fill it does not hold).
  std::optional<AccountState> ExportAccount() const;
  // Every execution event up to this EXECUTIONS sequence is handled (gap-free).
  uint64_t executions_through() const;
  // Before anything is applied: the positions of a snapshot; fills up to its executions_through
  // are in them.
  void RestoreAccount(const AccountState& state);
  // Registers an order about to be published (idempotent by id: a repeated decision adds nothing);
  // true when it is newly open.
  bool OpenOrder(const std::string& order_id, const std::string& symbol, events::Side side, events::Decimal qty);
  // Opens an order that the venue states resting with `leaves` left, after every fill seen before
  // the statement (read in stream order); nothing when it is open already. True when newly open.
  bool OpenStatedOrder(const std::string& order_id, const std::string& symbol, events::Side side,
                       events::Decimal leaves);
  // A final report, or a publish that failed: what is left of the order is no longer open.
  void CloseOrder(const std::string& order_id);
  size_t open_orders() const;
  // The ids of `symbol`'s open orders, oldest first (walks every open order).
  std::vector<std::string> OpenOrdersOf(const std::string& symbol) const;
  uint64_t forgotten_open_orders() const;
  events::Decimal Of(const std::string& symbol) const;
  AccountView View(const std::string& symbol, int64_t now_ns) const;
  std::map<std::string, SymbolPosition> Snapshot() const;
  size_t fills() const;  // fill ids remembered (at most `remembered_fills`)
  const bus::SeenIds& applied() const { return applied_; }
  // {"realised_pnl","unrealised_pnl","realised_pnl_today","gross_exposure","open_positions",
  // "symbols":{"<symbol>":{"qty","open_qty","avg_price","realised_pnl","unrealised_pnl",
  // "last_price"}}}, written with a JSON writer (symbols are escaped, whatever their text);
  // decimals as strings; unrealised P&L marked at the symbol's last fill.
  std::string ToJson(int64_t now_ns) const;

 private:
  AccountView ViewLocked(const std::string& symbol, int64_t now_ns) const;
  void TakeFromOpenOrder(const std::string& order_id, events::Decimal qty);
  // Opens `remaining` (> 0) of an order not open, within the bound (under mu_).
  void OpenLocked(const std::string& order_id, const std::string& symbol, events::Side side, events::Decimal remaining);
  // What was seen of an order not open (yet): filled quantity, or ended.
  struct Unmatched {
    events::Decimal filled;
    bool ended = false;
  };
  Unmatched& UnmatchedOf(const std::string& order_id);

  struct Open {
    std::string symbol;
    events::Decimal remaining;  // signed
  };

  mutable std::mutex mu_;
  bus::SeenIds applied_;
  std::map<std::string, SymbolPosition> symbols_;
  events::Decimal realised_;
  int64_t day_ = 0;  // UTC day number of realised_day_
  events::Decimal realised_day_;
  const size_t open_capacity_;
  std::unordered_map<std::string, Open> open_;
  std::deque<std::string> open_order_;  // ids, oldest first (some may be closed already)
  uint64_t forgotten_open_ = 0;
  std::unordered_map<std::string, Unmatched> unmatched_;
  void HandledLocked(uint64_t sequence);
  static constexpr size_t kMaxAhead = 1'000'000;
  uint64_t through_ = 0;      // every EXECUTIONS sequence up to this one handled
  std::set<uint64_t> ahead_;  // handled above a gap (through_ + 1 not yet handled)
  bool ahead_overflow_ = false;
  uint64_t restored_ = 0;                    // fills up to this sequence are in the restored snapshot
  std::deque<std::string> unmatched_order_;  // ids, oldest first
};

// How execution events reach ApplyExecutionEvent.
enum class Reading {
  kLive,     // from the consumer: after a reconnect a redelivered event can come after newer ones
  kRebuild,  // read at start in stream order
};

// Applies one execution event (a message of exec.>): a fill to the position and its open order, a
// final exec_report (anything but `accepted`) closes its open order (kReport); an error for an
// unusable message (poison). A fill's time is its `filled` stamp, else `at_ns`.
// `sequence`: the event's EXECUTIONS sequence (0: not known).
// In a rebuild an `accepted` report of one of the agent's orders (exec-sim's first report of a
// resting order or its restatement, docs/events.md) also opens the order with what it leaves
// when it is not open: its decision is no longer in ORDERS (older than the stream's max age).
// Not live: a restatement redelivered after the order's last fill would open it again.
Result<ApplyOutcome> ApplyExecutionEvent(Positions& positions, std::string_view data, int64_t at_ns,
                                         uint64_t sequence = 0, Reading reading = Reading::kLive);

// Registers the orders of one order event (a message of orders.new.>) as open; an error for an
// unusable message.
Status OpenOrderEvent(Positions& positions, std::string_view data);

}  // namespace tradepipe::agent
