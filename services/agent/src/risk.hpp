// The parts of the agent's risk checks that hold state or read the clock: the trading state (the
// kill switch), the per-strategy order throttle and the trading windows. The checks themselves
// run in Decide (decision.hpp), in the order docs/trading-core.md "Risk checks" gives.
// Thread-safety: TradingStateSwitch is safe from any thread; OrderThrottle is for the one thread
// that decides.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "trading_config.hpp"

namespace tradepipe::agent {

// active: every check as configured; reducing: only orders that shrink a position pass;
// halted: every signal is refused (trading_halted).
enum class TradingState { kActive, kReducing, kHalted };
std::string_view ToName(TradingState state);
std::optional<TradingState> TradingStateFromName(std::string_view name);

// Stable rejection reason codes (docs/trading-core.md "Reason codes"), in the order of the checks.
namespace reason {
inline constexpr std::string_view kTradingHalted = "trading_halted";
inline constexpr std::string_view kSymbolNotAllowed = "symbol_not_allowed";
inline constexpr std::string_view kStaleSignal = "stale_signal";
inline constexpr std::string_view kNoPosition = "no_position";              // a close with nothing to close
inline constexpr std::string_view kPositionMismatch = "position_mismatch";  // a reverse into the side held
inline constexpr std::string_view kNoSizing = "no_sizing";                  // no qty and no strategy sizing
inline constexpr std::string_view kNoPrice = "no_price";                    // a price is needed and none is known
inline constexpr std::string_view kSizeZero = "size_zero";                  // sized below the symbol's qty step
inline constexpr std::string_view kOutsideTradingWindow = "outside_trading_window";
inline constexpr std::string_view kReducingOnly = "reducing_only";
inline constexpr std::string_view kReduceOnlyWouldGrow = "reduce_only_would_grow";
inline constexpr std::string_view kDailyLossLimit = "daily_loss_limit";
inline constexpr std::string_view kMaxOpenPositions = "max_open_positions";
inline constexpr std::string_view kMaxOrderQty = "max_order_qty";
inline constexpr std::string_view kMaxOrderNotional = "max_order_notional";
inline constexpr std::string_view kPriceBand = "price_band";
inline constexpr std::string_view kMaxPosition = "max_position";
inline constexpr std::string_view kMaxGrossExposure = "max_gross_exposure";
inline constexpr std::string_view kOrderRate = "order_rate";
// A take-profit or stop-loss on the wrong side of the entry (or of each other).
inline constexpr std::string_view kExitPrices = "exit_prices";
inline constexpr std::string_view kNoOpenOrders = "no_open_orders";  // a cancel with no open order of its symbol
}  // namespace reason

// Every reason code, for documentation and metrics (each is exported at 0 from the start).
const std::vector<std::string_view>& AllReasons();

// The switch the admin endpoint turns; read once per decision.
class TradingStateSwitch {
 public:
  TradingState Get() const { return state_.load(std::memory_order_acquire); }
  void Set(TradingState state) { state_.store(state, std::memory_order_release); }

 private:
  std::atomic<TradingState> state_{TradingState::kActive};
};

// At most N orders per strategy in any 60 s window (the strategy's max_orders_per_minute). Keeps
// the times of the last N orders per configured strategy: bounded by the configuration.
class OrderThrottle {
 public:
  // Whether `orders` more orders fit at `now_ns`; records them when they do.
  bool Admit(std::string_view strategy, int64_t limit, size_t orders, int64_t now_ns);

 private:
  std::map<std::string, std::deque<int64_t>, std::less<>> sent_;
};

// Whether entries are allowed at `now_ns` (UTC): inside one of the windows, or no window set.
bool InTradingWindow(const std::vector<TradingWindow>& windows, int64_t now_ns);

}  // namespace tradepipe::agent
