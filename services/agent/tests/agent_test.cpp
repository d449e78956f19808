#include <gtest/gtest.h>

#include "decision.hpp"
#include "positions.hpp"

namespace tradepipe::agent {
namespace {

events::Envelope Signal(const std::string& qty, const std::string& order_type = "market") {
  events::Envelope e;
  e.type = events::kTypeSignal;
  e.id = "demo:s1";
  e.correlation_id = e.id;
  e.source = "demo";
  e.symbol = "BRK.B";
  e.AddStamp("received", 100);
  events::SignalPayload p;
  p.action = events::Side::kSell;
  p.qty = *events::Decimal::Parse(qty);
  p.order_type = order_type;
  if (order_type == "limit") p.price = *events::Decimal::Parse("410.5");
  e.payload = events::ToJson(p);
  return e;
}

TEST(Decide, OrderWithinLimits) {
  auto d = Decide(Signal("10"), RiskLimits{events::Decimal::FromInteger(100)}, 200, 300);
  ASSERT_TRUE(d) << d.error();
  EXPECT_FALSE(d->rejected);
  EXPECT_EQ(d->message.subject, "orders.new.BRK%2EB");
  EXPECT_EQ(d->message.msg_id, "demo:s1/order");
  auto e = events::ParseEnvelope(d->message.data);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, "order");
  EXPECT_EQ(e->causation_id, "demo:s1");
  EXPECT_EQ(e->correlation_id, "demo:s1");
  EXPECT_EQ(e->StampOf("received"), 100);
  EXPECT_EQ(e->StampOf("decided"), 300);
  auto order = events::ParseOrderPayload(e->payload);
  ASSERT_TRUE(order);
  EXPECT_EQ(order->side, events::Side::kSell);
  EXPECT_EQ(order->qty.ToString(), "10");
  EXPECT_FALSE(order->limit_price);
}

TEST(Decide, LimitOrderCarriesItsPrice) {
  auto d = Decide(Signal("1", "limit"), RiskLimits{}, 0, 0);
  ASSERT_TRUE(d);
  auto order = events::ParseOrderPayload(events::ParseEnvelope(d->message.data)->payload);
  ASSERT_TRUE(order && order->limit_price);
  EXPECT_EQ(order->limit_price->ToString(), "410.5");
}

TEST(Decide, OverTheMaximumIsRejectedWithAReason) {
  const RiskLimits limits{events::Decimal::FromInteger(100)};
  auto at_limit = Decide(Signal("100"), limits, 0, 0);
  ASSERT_TRUE(at_limit);
  EXPECT_FALSE(at_limit->rejected);
  auto over = Decide(Signal("100.00000001"), limits, 0, 0);
  ASSERT_TRUE(over);
  EXPECT_TRUE(over->rejected);
  EXPECT_EQ(over->reason, "max_order_qty");
  EXPECT_EQ(over->message.subject, "orders.rejected.BRK%2EB");
  EXPECT_EQ(over->message.msg_id, "demo:s1/order");
  EXPECT_NE(over->message.data.find("\"reason\":\"max_order_qty\""), std::string::npos);
}

TEST(Decide, SameSignalGivesTheSameDecision) {
  auto a = Decide(Signal("5"), RiskLimits{}, 7, 8);
  auto b = Decide(Signal("5"), RiskLimits{}, 7, 8);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->message.data, b->message.data);
}

TEST(Decide, PoisonSignalsAreErrors) {
  events::Envelope bad = Signal("1");
  bad.payload = R"({"action":"hold","qty":"1"})";
  EXPECT_FALSE(Decide(bad, RiskLimits{}, 0, 0));
  events::Envelope wrong_type = Signal("1");
  wrong_type.type = "fill";
  EXPECT_FALSE(Decide(wrong_type, RiskLimits{}, 0, 0));
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
