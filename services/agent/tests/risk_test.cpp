// Table-driven tests of intent resolution, every sizing rule and every risk check (docs/trading-core.md "Sizing",
// "Risk checks"), of the trading configuration file and of the clock-bound helpers.
#include "risk.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "decision.hpp"
#include "trading_config.hpp"

namespace tradepipe::agent {
namespace {

using events::Decimal;
using events::MarketPosition;
using events::QtyKind;
using events::Side;
using events::SignalAction;

Decimal D(const char* text) { return *Decimal::Parse(text); }

constexpr int64_t kSecond = 1'000'000'000;
// 2026-11-30 was a Monday; 14:00 UTC.
constexpr int64_t kMonday1400 = 1'796'047'200LL * kSecond;
constexpr int64_t kDay = 86'400 * kSecond;

SizingInputs Holding(const char* position) {
  SizingInputs in;
  in.position = D(position);
  in.equity = D("100000");
  return in;
}

std::string Describe(const Plan& plan) {
  if (plan.orders.empty()) return std::string(plan.reason);
  std::string out;
  for (const auto& o : plan.orders) {
    if (!out.empty()) out += ", ";
    out += std::string(events::ToString(o.side)) + " " + o.qty.ToString();
  }
  return out;
}

// ---- intent: what a signal means, given the symbol's position ----

struct IntentCase {
  const char* name;
  SignalAction action;
  const char* qty;  // "" = none
  std::optional<MarketPosition> after, before;
  const char* position;
  // expected orders as "side qty" joined by ", ", or the rejection reason
  std::string expected;
};

TEST(Intent, TradingViewAndBridgeSignalsBecomeTheRightOrders) {
  const auto L = MarketPosition::kLong, S = MarketPosition::kShort, F = MarketPosition::kFlat;
  const IntentCase cases[] = {
      // entries: no positions said, or a position on the same side
      {"plain buy", SignalAction::kBuy, "5", {}, {}, "0", "buy 5"},
      {"buy adding to a long", SignalAction::kBuy, "2", L, L, "5", "buy 2"},
      {"first entry from flat", SignalAction::kBuy, "0.00001", L, F, "0", "buy 0.00001"},
      // TradingView's exit: a sell to flat closes the long, never more than held
      {"sell to flat closes the long", SignalAction::kSell, "5", F, L, "5", "sell 5"},
      {"sell to flat never flips", SignalAction::kSell, "8", F, L, "5", "sell 5"},
      {"partial exit", SignalAction::kSell, "2", F, L, "5", "sell 2"},
      {"buy to flat closes the short", SignalAction::kBuy, "3", F, S, "-3", "buy 3"},
      {"exit with nothing held", SignalAction::kSell, "5", F, L, "0", "no_position"},
      {"exit on the wrong side", SignalAction::kSell, "5", F, L, "-5", "no_position"},
      // TradingView's reverse: contracts = the close plus the new position
      {"sell from long to short", SignalAction::kSell, "10", S, L, "5", "sell 5, sell 5"},
      {"buy from short to long", SignalAction::kBuy, "7", L, S, "-3", "buy 3, buy 4"},
      {"reverse without a position opens", SignalAction::kSell, "4", S, L, "0", "sell 4"},
      {"reverse into the side held", SignalAction::kSell, "4", S, L, "-2", "position_mismatch"},
      // explicit actions
      {"close all of it", SignalAction::kClose, "", {}, {}, "-2.5", "buy 2.5"},
      {"close part", SignalAction::kClose, "1", {}, {}, "2.5", "sell 1"},
      {"close_all ignores qty", SignalAction::kCloseAll, "1", {}, {}, "2.5", "sell 2.5"},
      {"close flat", SignalAction::kCloseAll, "", {}, {}, "0", "no_position"},
      {"reverse as large as held", SignalAction::kReverse, "", {}, {}, "2", "sell 2, sell 2"},
      {"reverse to a new size", SignalAction::kReverse, "0.5", {}, {}, "-2", "buy 2, buy 0.5"},
      {"reverse flat", SignalAction::kReverse, "", {}, {}, "0", "no_position"},
  };
  for (const auto& c : cases) {
    events::SignalPayload p;
    p.action = c.action;
    if (*c.qty != '\0') p.qty = D(c.qty);
    p.market_position = c.after;
    p.prev_market_position = c.before;
    EXPECT_EQ(Describe(PlanOrders(p, StrategyConfig{}, Holding(c.position))), c.expected) << c.name;
  }
}

// ---- sizing ----

struct SizingCase {
  const char* name;
  SignalAction action;
  std::optional<std::pair<QtyKind, const char*>> signal_qty;
  std::optional<Sizing> strategy_sizing;
  bool allow_signal_qty;
  const char* position;
  std::optional<const char*> price;
  const char* step;
  std::string expected;
};

TEST(Sizing, EveryRuleGivesTheQuantityItSays) {
  const auto units = QtyKind::kUnits, notional = QtyKind::kNotional, equity = QtyKind::kPercentEquity,
             of_position = QtyKind::kPercentPosition;
  const char* tiny = "0.00000001";
  const SizingCase cases[] = {
      {"signal units", SignalAction::kBuy, {{units, "5"}}, {}, true, "0", {}, tiny, "buy 5"},
      {"signal dollar amount at the signal's price",
       SignalAction::kBuy,
       {{notional, "1000"}},
       {},
       true,
       "0",
       "400",
       tiny,
       "buy 2.5"},
      {"dollar amount rounded down to the step",
       SignalAction::kBuy,
       {{notional, "1000"}},
       {},
       true,
       "0",
       "400",
       "1",
       "buy 2"},
      {"dollar amount without a price", SignalAction::kBuy, {{notional, "1000"}}, {}, true, "0", {}, tiny, "no_price"},
      {"2 % of 100,000 equity at 50,000",
       SignalAction::kBuy,
       {{equity, "2"}},
       {},
       true,
       "0",
       "50000",
       tiny,
       "buy 0.04"},
      {"percent of equity under the step",
       SignalAction::kBuy,
       {{equity, "2"}},
       {},
       true,
       "0",
       "50000",
       "0.1",
       "size_zero"},
      {"percent of the position adds to it",
       SignalAction::kBuy,
       {{of_position, "50"}},
       {},
       true,
       "4",
       {},
       tiny,
       "buy 2"},
      {"percent of a flat position", SignalAction::kBuy, {{of_position, "50"}}, {}, true, "0", {}, tiny, "size_zero"},
      {"the strategy sizes a signal without qty",
       SignalAction::kBuy,
       {},
       Sizing{units, D("3")},
       true,
       "0",
       {},
       tiny,
       "buy 3"},
      {"the strategy's sizing wins when it allows no signal qty",
       SignalAction::kSell,
       {{units, "5"}},
       Sizing{equity, D("1")},
       false,
       "0",
       "100",
       tiny,
       "sell 10"},
      {"a signal qty is used when the strategy has no sizing",
       SignalAction::kSell,
       {{units, "5"}},
       {},
       false,
       "0",
       {},
       tiny,
       "sell 5"},
      {"no qty and no sizing", SignalAction::kBuy, {}, {}, true, "0", {}, tiny, "no_sizing"},
      {"a close is sized from the position, not the strategy",
       SignalAction::kClose,
       {},
       Sizing{units, D("1")},
       true,
       "-4",
       {},
       tiny,
       "buy 4"},
      {"a close of a dollar amount", SignalAction::kClose, {{notional, "100"}}, {}, true, "4", "50", tiny, "sell 2"},
      {"an explicit reverse to a dollar amount",
       SignalAction::kReverse,
       {{notional, "1000"}},
       {},
       true,
       "4",
       "100",
       tiny,
       "sell 4, sell 10"},
  };
  for (const auto& c : cases) {
    events::SignalPayload p;
    p.action = c.action;
    if (c.signal_qty) {
      p.qty_kind = c.signal_qty->first;
      p.qty = D(c.signal_qty->second);
    }
    StrategyConfig strategy;
    strategy.sizing = c.strategy_sizing;
    strategy.allow_signal_qty = c.allow_signal_qty;
    SizingInputs in;
    in.position = D(c.position);
    if (c.price) in.reference_price = D(*c.price);
    in.equity = D("100000");
    in.qty_step = D(c.step);
    EXPECT_EQ(Describe(PlanOrders(p, strategy, in)), c.expected) << c.name;
  }
}

TEST(Sizing, ATradingViewReverseSizedByItsStrategyClosesThenOpensTheStrategysSize) {
  events::SignalPayload p;
  p.action = SignalAction::kSell;
  p.qty = D("10");  // contracts: ignored, the strategy sizes
  p.market_position = MarketPosition::kShort;
  p.prev_market_position = MarketPosition::kLong;
  StrategyConfig strategy;
  strategy.sizing = Sizing{QtyKind::kUnits, D("3")};
  strategy.allow_signal_qty = false;
  SizingInputs in;
  in.position = D("2");
  EXPECT_EQ(Describe(PlanOrders(p, strategy, in)), "sell 2, sell 3");
}

// ---- risk checks ----

events::Envelope SignalEvent(const events::SignalPayload& p, int64_t received) {
  events::Envelope e;
  e.type = events::kTypeSignal;
  e.id = "demo:r1";
  e.correlation_id = e.id;
  e.source = "demo";
  e.symbol = "BTC";
  e.AddStamp("received", received);
  e.payload = events::ToJson(p);
  return e;
}

std::string Describe(const Decision& d) {
  if (d.rejected) return d.reason;
  std::string out;
  for (size_t i = 0; i < d.orders; ++i) {
    auto order = *events::ParseOrderPayload(events::ParseEnvelope(d.messages[i].data)->payload);
    if (!out.empty()) out += ", ";
    out += std::string(events::ToString(order.side)) + " " + order.qty.ToString();
  }
  if (!d.partial_reason.empty()) out += " (open refused: " + d.partial_reason + ")";
  return out;
}

struct World {
  TradingConfig config;
  DecisionContext context;
  events::SignalPayload signal;
  int64_t received = kMonday1400;
};

struct RiskCase {
  const char* name;
  std::function<void(World&)> setup;
  std::string expected;
};

// A buy of 1 BTC at market, nothing held, active, Monday 14:00 UTC, no limit set: "buy 1".
std::string Outcome(const RiskCase& c) {
  World w;
  w.signal.action = SignalAction::kBuy;
  w.signal.qty = D("1");
  w.context.decided_ns = kMonday1400;
  c.setup(w);
  w.context.config = &w.config;
  OrderThrottle throttle;
  auto d = Decide(SignalEvent(w.signal, w.received), w.context, throttle);
  if (!d) return "error: " + d.error();
  return Describe(*d);
}

void Hold(World& w, const char* qty, const char* last_price) {
  w.context.account.symbol.qty = D(qty);
  w.context.account.symbol.last_price = D(last_price);
  w.context.account.has_last_price = true;
  w.context.account.open_positions = D(qty) == Decimal() ? 0 : 1;
  w.context.account.gross_exposure = *D(qty).Abs().CheckedMul(D(last_price));
}

void Close(World& w) {
  w.signal.action = SignalAction::kClose;
  w.signal.qty.reset();
}

TEST(Risk, EveryCheckRefusesWithItsReasonAndLetsTheRestPass) {
  const RiskCase cases[] = {
      {"nothing set", [](World&) {}, "buy 1"},
      // the trading state
      {"halted refuses an entry", [](World& w) { w.context.state = TradingState::kHalted; }, "trading_halted"},
      {"halted refuses a close too",
       [](World& w) {
         w.context.state = TradingState::kHalted;
         Hold(w, "2", "100");
         Close(w);
       },
       "trading_halted"},
      {"reducing refuses an entry", [](World& w) { w.context.state = TradingState::kReducing; }, "reducing_only"},
      {"reducing lets a close pass",
       [](World& w) {
         w.context.state = TradingState::kReducing;
         Hold(w, "2", "100");
         Close(w);
       },
       "sell 2"},
      {"reducing cuts a reverse to its close",
       [](World& w) {
         w.context.state = TradingState::kReducing;
         Hold(w, "2", "100");
         w.signal.action = SignalAction::kReverse;
         w.signal.qty.reset();
       },
       "sell 2 (open refused: reducing_only)"},
      // the symbol allow-list
      {"a symbol off the list", [](World& w) { w.config.risk.allowed_symbols = {"ETH"}; }, "symbol_not_allowed"},
      {"a symbol on the list",
       [](World& w) {
         w.config.risk.allowed_symbols = {"ETH", "BTC"};
       },
       "buy 1"},
      // stale signals
      {"older than the limit",
       [](World& w) {
         w.config.risk.max_signal_age_s = 30;
         w.received = kMonday1400 - 31 * kSecond;
       },
       "stale_signal"},
      {"within the limit",
       [](World& w) {
         w.config.risk.max_signal_age_s = 30;
         w.received = kMonday1400 - 29 * kSecond;
       },
       "buy 1"},
      // trading windows (UTC): Monday to Friday 13:30-20:00
      {"inside the window",
       [](World& w) {
         w.config.risk.trading_windows = {{0x1f, 13 * 60 + 30, 20 * 60}};
       },
       "buy 1"},
      {"an entry on Sunday",
       [](World& w) {
         w.config.risk.trading_windows = {{0x1f, 13 * 60 + 30, 20 * 60}};
         w.context.decided_ns = kMonday1400 - kDay;
         w.received = w.context.decided_ns;
       },
       "outside_trading_window"},
      {"an exit on Sunday",
       [](World& w) {
         w.config.risk.trading_windows = {{0x1f, 13 * 60 + 30, 20 * 60}};
         w.context.decided_ns = kMonday1400 - kDay;
         w.received = w.context.decided_ns;
         Hold(w, "2", "100");
         Close(w);
       },
       "sell 2"},
      // reduce-only strategies
      {"a reduce-only strategy's entry",
       [](World& w) {
         w.config.strategies["hedge"].reduce_only = true;
         w.signal.strategy = "hedge";
       },
       "reduce_only_would_grow"},
      {"a reduce-only strategy's close",
       [](World& w) {
         w.config.strategies["hedge"].reduce_only = true;
         w.signal.strategy = "hedge";
         Hold(w, "-3", "100");
         Close(w);
       },
       "buy 3"},
      {"another strategy is not reduce-only",
       [](World& w) {
         w.config.strategies["hedge"].reduce_only = true;
         w.signal.strategy = "trend";
       },
       "buy 1"},
      // the daily loss limit
      {"at the daily loss limit",
       [](World& w) {
         w.config.risk.daily_loss_limit = D("100");
         w.context.account.realised_today = D("-100");
       },
       "daily_loss_limit"},
      {"under the daily loss limit",
       [](World& w) {
         w.config.risk.daily_loss_limit = D("100");
         w.context.account.realised_today = D("-99.99");
       },
       "buy 1"},
      {"an exit at the daily loss limit",
       [](World& w) {
         w.config.risk.daily_loss_limit = D("100");
         w.context.account.realised_today = D("-500");
         Hold(w, "2", "100");
         Close(w);
       },
       "sell 2"},
      // open positions per strategy
      {"a new position past the maximum",
       [](World& w) {
         w.config.strategies["default"].max_open_positions = 2;
         w.context.account.open_positions = 2;
       },
       "max_open_positions"},
      {"adding to an open position at the maximum",
       [](World& w) {
         w.config.strategies["default"].max_open_positions = 1;
         Hold(w, "1", "100");
       },
       "buy 1"},
      // order quantity and notional
      {"over the maximum quantity",
       [](World& w) {
         w.config.risk.max_order_qty = D("1");
         w.signal.qty = D("1.00000001");
       },
       "max_order_qty"},
      {"over the maximum notional",
       [](World& w) {
         w.config.risk.max_order_notional = D("1000");
         w.signal.price = D("1000.01");
       },
       "max_order_notional"},
      {"at the maximum notional, priced by the last fill",
       [](World& w) {
         w.config.risk.max_order_notional = D("1000");
         Hold(w, "0", "1000");
       },
       "buy 1"},
      {"a notional limit and no price known", [](World& w) { w.config.risk.max_order_notional = D("1000"); },
       "no_price"},
      // the price band against the last fill
      {"outside the band",
       [](World& w) {
         w.config.risk.price_band_percent = D("5");
         Hold(w, "0", "100");
         w.signal.price = D("105.01");
       },
       "price_band"},
      {"at the edge of the band",
       [](World& w) {
         w.config.risk.price_band_percent = D("5");
         Hold(w, "0", "100");
         w.signal.price = D("95");
       },
       "buy 1"},
      // position and gross exposure
      {"past the maximum position",
       [](World& w) {
         w.config.risk.max_position = D("3");
         Hold(w, "2", "100");
         w.signal.qty = D("1.5");
       },
       "max_position"},
      {"open orders count toward the maximum position",
       [](World& w) {
         w.config.risk.max_position = D("3");
         Hold(w, "2", "100");
         w.context.account.symbol.open_qty = D("1");  // decided, not filled yet
       },
       "max_position"},
      {"a close right after its entry closes what the entry opens",
       [](World& w) {
         w.context.account.symbol.open_qty = D("2");
         Close(w);
       },
       "sell 2"},
      {"a sell through flat within the maximum",
       [](World& w) {
         w.config.risk.max_position = D("3");
         Hold(w, "2", "100");
         w.signal.action = SignalAction::kSell;
         w.signal.qty = D("5");
       },
       "sell 5"},
      {"past the gross exposure",
       [](World& w) {
         w.config.risk.max_gross_exposure = D("1000");
         w.context.account.gross_exposure = D("900");
         w.context.account.open_positions = 1;
         w.signal.price = D("100.01");
       },
       "max_gross_exposure"},
      {"at the gross exposure",
       [](World& w) {
         w.config.risk.max_gross_exposure = D("1000");
         w.context.account.gross_exposure = D("900");
         w.signal.price = D("100");
       },
       "buy 1"},
      {"a long's exits on their sides",
       [](World& w) {
         w.signal.price = D("100");
         w.signal.take_profit = D("110");
         w.signal.stop_loss = D("90");
       },
       "buy 1"},
      {"a long's take-profit below its price",
       [](World& w) {
         w.signal.price = D("100");
         w.signal.take_profit = D("95");
       },
       "exit_prices"},
      {"a long's stop-loss above its price",
       [](World& w) {
         w.signal.price = D("100");
         w.signal.stop_loss = D("100");
       },
       "exit_prices"},
      {"the last fill is the price when the signal has none",
       [](World& w) {
         Hold(w, "0", "100");
         w.signal.stop_loss = D("101");
       },
       "exit_prices"},
      {"a take-profit under the stop-loss, no price known",
       [](World& w) {
         w.signal.take_profit = D("90");
         w.signal.stop_loss = D("95");
       },
       "exit_prices"},
      {"a short's exits on their sides",
       [](World& w) {
         w.signal.action = SignalAction::kSell;
         w.signal.price = D("100");
         w.signal.take_profit = D("90");
         w.signal.stop_loss = D("110");
       },
       "sell 1"},
      {"a close does not check exits (it opens nothing)",
       [](World& w) {
         Hold(w, "2", "100");
         w.signal.action = SignalAction::kClose;
         w.signal.qty.reset();
         w.signal.take_profit = D("50");
       },
       "sell 2"},
  };
  for (const auto& c : cases) EXPECT_EQ(Outcome(c), c.expected) << c.name;
}

TEST(Risk, EveryReasonCodeIsListedOnceAndEveryCheckUsesAListedOne) {
  const auto& all = AllReasons();
  std::set<std::string_view> seen(all.begin(), all.end());
  EXPECT_EQ(seen.size(), all.size());
  for (const char* code : {"trading_halted",     "reducing_only",      "outside_trading_window",
                           "stale_signal",       "symbol_not_allowed", "max_order_qty",
                           "max_order_notional", "price_band",         "max_position",
                           "max_gross_exposure", "max_open_positions", "reduce_only_would_grow",
                           "order_rate",         "daily_loss_limit",   "size_zero",
                           "no_price",           "no_sizing",          "no_position",
                           "position_mismatch",  "exit_prices"}) {
    EXPECT_TRUE(seen.contains(code)) << code;
  }
}

// A reverse's exits go with its open, not with its close.
TEST(Risk, OnlyTheOrderThatOpensCarriesTheExits) {
  World w;
  Hold(w, "2", "100");
  w.signal.action = SignalAction::kReverse;
  w.signal.take_profit = D("80");
  w.signal.stop_loss = D("120");
  w.context.decided_ns = kMonday1400;
  w.context.config = &w.config;
  OrderThrottle throttle;
  auto d = Decide(SignalEvent(w.signal, w.received), w.context, throttle);
  ASSERT_TRUE(d) << d.error();
  ASSERT_EQ(d->messages.size(), 2u);
  auto close = events::ParseOrderPayload(events::ParseEnvelope(d->messages[0].data)->payload);
  auto open = events::ParseOrderPayload(events::ParseEnvelope(d->messages[1].data)->payload);
  ASSERT_TRUE(close && open);
  EXPECT_FALSE(close->take_profit || close->stop_loss);
  EXPECT_EQ(open->side, events::Side::kSell);
  EXPECT_EQ(open->take_profit, D("80"));
  EXPECT_EQ(open->stop_loss, D("120"));
}

TEST(Risk, TheOrderRateIsCountedPerStrategyOverAnyMinute) {
  TradingConfig config;
  config.strategies["scalp"].max_orders_per_minute = 2;
  OrderThrottle throttle;
  auto decide = [&](const char* strategy, int64_t at) {
    events::SignalPayload p;
    p.action = SignalAction::kBuy;
    p.qty = D("1");
    p.strategy = strategy;
    DecisionContext context;
    context.config = &config;
    context.decided_ns = at;
    return Describe(*Decide(SignalEvent(p, at), context, throttle));
  };
  EXPECT_EQ(decide("scalp", kMonday1400), "buy 1");
  EXPECT_EQ(decide("scalp", kMonday1400 + kSecond), "buy 1");
  EXPECT_EQ(decide("scalp", kMonday1400 + 2 * kSecond), "order_rate");
  EXPECT_EQ(decide("other", kMonday1400 + 2 * kSecond), "buy 1");   // the default strategy: no limit
  EXPECT_EQ(decide("scalp", kMonday1400 + 60 * kSecond), "buy 1");  // the first has left the minute
  EXPECT_EQ(decide("scalp", kMonday1400 + 60 * kSecond), "order_rate");
}

// ---- the clock ----

TEST(TradingWindow, DaysAndTimesInUtcIncludingWindowsPastMidnight) {
  const std::vector<TradingWindow> weekdays = {{0x1f, 13 * 60 + 30, 20 * 60}};
  EXPECT_TRUE(InTradingWindow({}, kMonday1400));
  EXPECT_TRUE(InTradingWindow(weekdays, kMonday1400));
  EXPECT_FALSE(InTradingWindow(weekdays, kMonday1400 - 31 * 60 * kSecond));   // 13:29
  EXPECT_TRUE(InTradingWindow(weekdays, kMonday1400 - 30 * 60 * kSecond));    // 13:30
  EXPECT_FALSE(InTradingWindow(weekdays, kMonday1400 + 6 * 3600 * kSecond));  // 20:00
  EXPECT_FALSE(InTradingWindow(weekdays, kMonday1400 + 5 * kDay));            // Saturday
  // Sunday 22:00 to Monday 02:00 (a futures week's open), written as Sunday's window.
  const std::vector<TradingWindow> overnight = {{1U << 6, 22 * 60, 2 * 60}};
  EXPECT_TRUE(InTradingWindow(overnight, kMonday1400 - 13 * 3600 * kSecond));   // Monday 01:00
  EXPECT_FALSE(InTradingWindow(overnight, kMonday1400 - 11 * 3600 * kSecond));  // Monday 03:00
  EXPECT_TRUE(InTradingWindow(overnight, kMonday1400 - 15 * 3600 * kSecond));   // Sunday 23:00
  EXPECT_FALSE(InTradingWindow(overnight, kMonday1400 + 6 * 3600 * kSecond));   // Monday 20:00
}

// ---- the configuration file ----

TEST(TradingConfigFile, ReadsEveryKey) {
  auto config = ParseTradingConfig(R"({
    "starting_balance": "25000.5",
    "symbols": {"BTCUSDT": {"qty_step": "0.00001"}},
    "risk": {"allowed_symbols": ["BTCUSDT"], "max_order_qty": 2, "max_order_notional": "50000",
             "max_position": "3", "max_gross_exposure": "100000", "price_band_percent": 2.5,
             "max_signal_age_s": 30, "daily_loss_limit": "500",
             "trading_windows": [{"days": ["mon", "fri"], "from": "09:00", "to": "17:30"}]},
    "strategies": {"trend": {"sizing": {"kind": "percent_equity", "value": "2"}, "allow_signal_qty": false,
                             "reduce_only": true, "max_open_positions": 3, "max_orders_per_minute": 30}}})");
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->starting_balance.ToString(), "25000.5");
  EXPECT_EQ(config->QtyStepOf("BTCUSDT").ToString(), "0.00001");
  EXPECT_EQ(config->QtyStepOf("ETH").ToString(), "0.00000001");
  EXPECT_EQ(config->risk.allowed_symbols, std::vector<std::string>{"BTCUSDT"});
  EXPECT_EQ(config->risk.max_order_qty->ToString(), "2");
  EXPECT_EQ(config->risk.price_band_percent->ToString(), "2.5");
  EXPECT_EQ(config->risk.max_signal_age_s, 30);
  ASSERT_EQ(config->risk.trading_windows.size(), 1u);
  EXPECT_EQ(config->risk.trading_windows[0].days, 0x11u);
  EXPECT_EQ(config->risk.trading_windows[0].from_minute, 540);
  EXPECT_EQ(config->risk.trading_windows[0].to_minute, 1050);
  const StrategyConfig& trend = config->StrategyFor("trend");
  EXPECT_EQ(trend.sizing->kind, QtyKind::kPercentEquity);
  EXPECT_FALSE(trend.allow_signal_qty);
  EXPECT_TRUE(trend.reduce_only);
  EXPECT_EQ(trend.max_orders_per_minute, 30);
  EXPECT_EQ(config->StrategyNameFor("unknown"), "default");
  EXPECT_EQ(config->StrategyNameFor("trend"), "trend");
}

TEST(TradingConfigFile, RefusesWhatIsWrongByName) {
  const std::pair<const char*, const char*> bad[] = {
      {R"({"strategy": {}})", "unknown key (starting_balance"},
      {R"({"risk": {"max_qty": "1"}})", "risk: max_qty: unknown key"},
      {R"({"risk": {"max_order_qty": "-1"}})", "risk: max_order_qty: must be positive"},
      {R"({"risk": {"max_order_qty": 1e3}})", "risk: max_order_qty: '1e3'"},
      {R"({"risk": {"max_order_qty": true}})", "risk: max_order_qty: expected a decimal"},
      {R"({"risk": {"max_signal_age_s": 0}})", "risk: max_signal_age_s: expected an integer from 1"},
      {R"({"risk": {"trading_windows": [{"days": ["mon"], "from": "9:00", "to": "17:00"}]}})",
       "risk: trading_windows: from: expected \"HH:MM\""},
      {R"({"risk": {"trading_windows": [{"days": ["monday"], "from": "09:00", "to": "17:00"}]}})",
       "unknown day 'monday'"},
      {R"({"risk": {"trading_windows": [{"days": ["mon"], "from": "09:00"}]}})", "a window needs from and to"},
      {R"({"strategies": {"t": {"sizing": {"kind": "lots", "value": "1"}}}})", "strategies: t: sizing: kind: expected"},
      {R"({"strategies": {"t": {"sizing": {"kind": "units"}}}})", "sizing needs kind and value"},
      {R"({"strategies": {"t": {"max_orders_per_minute": 0}}})", "max_orders_per_minute: expected an integer"},
      {R"({"symbols": {"BTC": {"step": "0.1"}}})", "symbols: BTC: step: unknown key (qty_step)"},
      {R"([1, 2])", "expected an object"},
      {R"({"risk": )", ""},
  };
  for (const auto& [json, expected] : bad) {
    auto config = ParseTradingConfig(json);
    ASSERT_FALSE(config) << json;
    EXPECT_NE(config.error().find(expected), std::string::npos) << json << " -> " << config.error();
  }
  EXPECT_FALSE(LoadTradingConfig("/nonexistent/trading.json"));
}

}  // namespace
}  // namespace tradepipe::agent
