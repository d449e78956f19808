#include "risk.hpp"

#include <array>

namespace tradepipe::agent {
namespace {

constexpr std::array<std::string_view, 3> kStateNames = {"active", "reducing", "halted"};
constexpr int64_t kNanosPerMinute = 60LL * 1'000'000'000LL;
constexpr int64_t kMinutesPerDay = 24 * 60;

}  // namespace

std::string_view ToName(TradingState state) { return kStateNames[static_cast<size_t>(state)]; }

std::optional<TradingState> TradingStateFromName(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<TradingState>(i);
  }
  return std::nullopt;
}

const std::vector<std::string_view>& AllReasons() {
  static const std::vector<std::string_view> all = {reason::kTradingHalted,
                                                    reason::kSymbolNotAllowed,
                                                    reason::kStaleSignal,
                                                    reason::kNoPosition,
                                                    reason::kPositionMismatch,
                                                    reason::kNoSizing,
                                                    reason::kNoPrice,
                                                    reason::kSizeZero,
                                                    reason::kOutsideTradingWindow,
                                                    reason::kReducingOnly,
                                                    reason::kReduceOnlyWouldGrow,
                                                    reason::kDailyLossLimit,
                                                    reason::kMaxOpenPositions,
                                                    reason::kMaxOrderQty,
                                                    reason::kMaxOrderNotional,
                                                    reason::kPriceBand,
                                                    reason::kMaxPosition,
                                                    reason::kMaxGrossExposure,
                                                    reason::kOrderRate,
                                                    reason::kExitPrices};
  return all;
}

bool OrderThrottle::Admit(std::string_view strategy, int64_t limit, size_t orders, int64_t now_ns) {
  auto it = sent_.find(strategy);
  if (it == sent_.end()) it = sent_.emplace(std::string(strategy), std::deque<int64_t>()).first;
  auto& sent = it->second;
  while (!sent.empty() && sent.front() <= now_ns - kNanosPerMinute) sent.pop_front();
  if (static_cast<int64_t>(sent.size() + orders) > limit) return false;
  for (size_t i = 0; i < orders; ++i) sent.push_back(now_ns);
  return true;
}

bool InTradingWindow(const std::vector<TradingWindow>& windows, int64_t now_ns) {
  if (windows.empty()) return true;
  const int64_t minutes = now_ns / kNanosPerMinute;
  const int minute = static_cast<int>(minutes % kMinutesPerDay);
  // 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday = 0).
  const int weekday = static_cast<int>((minutes / kMinutesPerDay + 3) % 7);
  const int yesterday = (weekday + 6) % 7;
  for (const auto& w : windows) {
    auto on = [&](int day) { return (w.days >> static_cast<unsigned>(day) & 1U) != 0; };
    if (w.from_minute <= w.to_minute) {
      if (on(weekday) && minute >= w.from_minute && minute < w.to_minute) return true;
    } else {  // past midnight: the evening part today, the morning part of a window that began yesterday
      if (on(weekday) && minute >= w.from_minute) return true;
      if (on(yesterday) && minute < w.to_minute) return true;
    }
  }
  return false;
}

}  // namespace tradepipe::agent
