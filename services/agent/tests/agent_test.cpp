#include <gtest/gtest.h>

#include "decision.hpp"
#include "positions.hpp"

namespace tradepipe::agent {
namespace {

using events::Decimal;
using events::MarketPosition;
using events::Side;
using events::SignalAction;

Decimal D(const char* text) { return *Decimal::Parse(text); }

events::Envelope Signal(const std::string& qty, const std::string& order_type = "market") {
  events::Envelope e;
  e.type = events::kTypeSignal;
  e.id = "demo:s1";
  e.correlation_id = e.id;
  e.source = "demo";
  e.symbol = "BRK.B";
  e.AddStamp("received", 100);
  events::SignalPayload p;
  p.action = SignalAction::kSell;
  p.qty = *Decimal::Parse(qty);
  p.order_type = order_type;
  if (order_type == "limit") p.price = *Decimal::Parse("410.5");
  e.payload = events::ToJson(p);
  return e;
}

// A flat position: what the earlier tests assume.
Result<Decision> DecideFlat(const events::Envelope& signal, const RiskLimits& limits, int64_t consumed = 0,
                            int64_t decided = 0) {
  return Decide(signal, limits, Decimal(), consumed, decided);
}

events::OrderPayload OrderOf(const bus::OutgoingMessage& m) {
  return *events::ParseOrderPayload(events::ParseEnvelope(m.data)->payload);
}

TEST(Decide, OrderWithinLimits) {
  auto d = DecideFlat(Signal("10"), RiskLimits{Decimal::FromInteger(100)}, 200, 300);
  ASSERT_TRUE(d) << d.error();
  EXPECT_FALSE(d->rejected);
  ASSERT_EQ(d->messages.size(), 1u);
  EXPECT_EQ(d->orders, 1u);
  EXPECT_EQ(d->messages[0].subject, "orders.new.BRK%2EB");
  EXPECT_EQ(d->messages[0].msg_id, "demo:s1/order");
  auto e = events::ParseEnvelope(d->messages[0].data);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, "order");
  EXPECT_EQ(e->causation_id, "demo:s1");
  EXPECT_EQ(e->correlation_id, "demo:s1");
  EXPECT_EQ(e->StampOf("received"), 100);
  EXPECT_EQ(e->StampOf("decided"), 300);
  auto order = events::ParseOrderPayload(e->payload);
  ASSERT_TRUE(order);
  EXPECT_EQ(order->side, Side::kSell);
  EXPECT_EQ(order->qty.ToString(), "10");
  EXPECT_FALSE(order->limit_price);
}

TEST(Decide, LimitOrderCarriesItsPrice) {
  auto d = DecideFlat(Signal("1", "limit"), RiskLimits{});
  ASSERT_TRUE(d);
  auto order = OrderOf(d->messages.at(0));
  ASSERT_TRUE(order.limit_price);
  EXPECT_EQ(order.limit_price->ToString(), "410.5");
}

TEST(Decide, OverTheMaximumIsRejectedWithAReason) {
  const RiskLimits limits{Decimal::FromInteger(100)};
  auto at_limit = DecideFlat(Signal("100"), limits);
  ASSERT_TRUE(at_limit);
  EXPECT_FALSE(at_limit->rejected);
  auto over = DecideFlat(Signal("100.00000001"), limits);
  ASSERT_TRUE(over);
  EXPECT_TRUE(over->rejected);
  EXPECT_EQ(over->reason, "max_order_qty");
  EXPECT_EQ(over->orders, 0u);
  ASSERT_EQ(over->messages.size(), 1u);
  EXPECT_EQ(over->messages[0].subject, "orders.rejected.BRK%2EB");
  EXPECT_EQ(over->messages[0].msg_id, "demo:s1/order");
  EXPECT_NE(over->messages[0].data.find("\"reason\":\"max_order_qty\""), std::string::npos);
}

TEST(Decide, SameSignalGivesTheSameDecision) {
  auto a = DecideFlat(Signal("5"), RiskLimits{}, 7, 8);
  auto b = DecideFlat(Signal("5"), RiskLimits{}, 7, 8);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->messages[0].data, b->messages[0].data);
}

TEST(Decide, PoisonSignalsAreErrors) {
  events::Envelope bad = Signal("1");
  bad.payload = R"({"action":"hold","qty":"1"})";
  EXPECT_FALSE(DecideFlat(bad, RiskLimits{}));
  events::Envelope wrong_type = Signal("1");
  wrong_type.type = "fill";
  EXPECT_FALSE(DecideFlat(wrong_type, RiskLimits{}));
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

std::string Describe(const Plan& plan) {
  if (plan.orders.empty()) return std::string(plan.reason);
  std::string out;
  for (const auto& o : plan.orders) {
    if (!out.empty()) out += ", ";
    out += std::string(events::ToString(o.side)) + " " + o.qty.ToString();
  }
  return out;
}

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
    EXPECT_EQ(Describe(PlanOrders(p, D(c.position))), c.expected) << c.name;
  }
}

TEST(Intent, QuantityKindsThatNeedSizingAreRefusedUntilSizingIsBuilt) {
  events::SignalPayload p;
  p.action = SignalAction::kBuy;
  p.qty = D("5");
  p.qty_kind = events::QtyKind::kPercentEquity;
  EXPECT_EQ(Describe(PlanOrders(p, Decimal())), "unsupported_qty_kind");
  // A percent of the position is known for a close: half of 3 is 1.5.
  p.action = SignalAction::kClose;
  p.qty = D("50");
  p.qty_kind = events::QtyKind::kPercentPosition;
  EXPECT_EQ(Describe(PlanOrders(p, D("3"))), "sell 1.5");
}

TEST(Decide, AReverseIsOneDecisionWithTheCloseFirst) {
  events::Envelope e = Signal("10");
  events::SignalPayload p = *events::ParseSignalPayload(e.payload);
  p.market_position = MarketPosition::kShort;
  p.prev_market_position = MarketPosition::kLong;
  e.payload = events::ToJson(p);
  auto d = Decide(e, RiskLimits{}, D("4"), 1, 2);
  ASSERT_TRUE(d) << d.error();
  EXPECT_FALSE(d->rejected);
  ASSERT_EQ(d->messages.size(), 2u);
  EXPECT_EQ(d->orders, 2u);
  EXPECT_EQ(d->messages[0].msg_id, "demo:s1/order");    // the close
  EXPECT_EQ(d->messages[1].msg_id, "demo:s1/order/2");  // then the open
  EXPECT_EQ(OrderOf(d->messages[0]).qty.ToString(), "4");
  EXPECT_EQ(OrderOf(d->messages[1]).qty.ToString(), "6");
  EXPECT_EQ(OrderOf(d->messages[1]).order_id, "demo:s1/order/2");
  // Each leg is checked against the limits: a 6 over a limit of 5 refuses the whole decision.
  auto refused = Decide(e, RiskLimits{Decimal::FromInteger(5)}, D("4"), 1, 2);
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->rejected);
  EXPECT_EQ(refused->reason, "max_order_qty");
  EXPECT_EQ(refused->messages.size(), 1u);
}

TEST(Positions, AppliesEachFillOnce) {
  Positions p;
  EXPECT_EQ(p.Apply("f1", "AAPL", events::Side::kBuy, events::Decimal::FromInteger(10)), ApplyOutcome::kApplied);
  EXPECT_EQ(p.Apply("f1", "AAPL", events::Side::kBuy, events::Decimal::FromInteger(10)), ApplyOutcome::kDuplicate);
  EXPECT_EQ(p.Apply("f2", "AAPL", events::Side::kSell, *events::Decimal::Parse("2.5")), ApplyOutcome::kApplied);
  EXPECT_EQ(p.Of("AAPL").ToString(), "7.5");
  EXPECT_EQ(p.Of("MSFT").ToString(), "0");
  EXPECT_EQ(p.fills(), 2u);
}

TEST(Positions, SumsThatWouldOverflowAreRefusedAndChangeNothing) {
  Positions p;
  const auto big = *events::Decimal::Parse("92233720368");
  ASSERT_EQ(p.Apply("f1", "X", events::Side::kBuy, big), ApplyOutcome::kApplied);
  EXPECT_EQ(p.Apply("f2", "X", events::Side::kBuy, big), ApplyOutcome::kOutOfRange);
  EXPECT_EQ(p.Of("X"), big);
  // Refused, not recorded: the id is not taken, and a fill that fits still applies.
  EXPECT_EQ(p.Apply("f2", "X", events::Side::kSell, big), ApplyOutcome::kApplied);
  EXPECT_EQ(p.Of("X").ToString(), "0");
}

TEST(Positions, JsonIsWrittenWithEscapingWhateverTheSymbol) {
  Positions p;
  ASSERT_EQ(p.Apply("f1", "BRK.B", events::Side::kBuy, events::Decimal::FromInteger(3)), ApplyOutcome::kApplied);
  ASSERT_EQ(p.Apply("f2", R"(X","Y":"9)", events::Side::kSell, events::Decimal::FromInteger(1)),
            ApplyOutcome::kApplied);
  EXPECT_EQ(p.ToJson(), R"({"BRK.B":"3","X\",\"Y\":\"9":"-1"})");
}

}  // namespace
}  // namespace tradepipe::agent
