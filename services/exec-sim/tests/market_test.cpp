#include "market.hpp"

#include <gtest/gtest.h>

namespace tradepipe::execsim {
namespace {

events::Envelope Order(const std::string& id, events::Side side, const std::string& type = "market",
                       std::optional<std::string> limit = std::nullopt) {
  events::Envelope e;
  e.type = events::kTypeOrder;
  e.id = id;
  e.correlation_id = "demo:s";
  e.causation_id = "demo:s";
  e.source = "demo";
  e.symbol = "AAPL";
  e.AddStamp("received", 1);
  events::OrderPayload p;
  p.order_id = id;
  p.side = side;
  p.qty = events::Decimal::FromInteger(3);
  p.order_type = type;
  if (limit) p.limit_price = *events::Decimal::Parse(*limit);
  e.payload = events::ToJson(p);
  return e;
}

TEST(Market, SameSeedSameFills) {
  const Market a({.seed = 7}), b({.seed = 7}), c({.seed = 8});
  auto x = Execute(Order("o1", events::Side::kBuy), a, 10, 20);
  auto y = Execute(Order("o1", events::Side::kBuy), b, 10, 20);
  auto z = Execute(Order("o1", events::Side::kBuy), c, 10, 20);
  ASSERT_TRUE(x && y && z);
  EXPECT_EQ(x->messages[0].data, y->messages[0].data);
  EXPECT_NE(x->messages[0].data, z->messages[0].data);
}

TEST(Market, BuysPayTheAskSellsGetTheBid) {
  const Market m({.seed = 1, .spread_bps = 100, .jitter_bps = 0});
  const auto mid = m.Mid("AAPL", "o");
  EXPECT_GT(m.Touch("AAPL", "o", events::Side::kBuy), mid);
  EXPECT_LT(m.Touch("AAPL", "o", events::Side::kSell), mid);
  EXPECT_GE(mid, events::Decimal::FromInteger(20));
  EXPECT_LT(mid, events::Decimal::FromInteger(500));
}

TEST(Market, MarketOrderFillsCompletely) {
  const Market m({.seed = 3});
  auto ex = Execute(Order("demo:s/order", events::Side::kSell), m, 10, 20);
  ASSERT_TRUE(ex) << ex.error();
  EXPECT_TRUE(ex->filled);
  // One message: the fill is the execution report (envelope v2).
  ASSERT_EQ(ex->messages.size(), 1u);
  EXPECT_EQ(ex->messages[0].subject, "exec.fill.AAPL");
  EXPECT_EQ(ex->messages[0].msg_id, "demo:s/order/fill/1");
  auto fill_env = events::ParseEnvelope(ex->messages[0].data);
  ASSERT_TRUE(fill_env);
  EXPECT_EQ(fill_env->v, events::kEnvelopeVersion);
  EXPECT_EQ(fill_env->type, "fill");
  EXPECT_EQ(fill_env->correlation_id, "demo:s");
  EXPECT_EQ(fill_env->causation_id, "demo:s/order");
  EXPECT_EQ(fill_env->StampOf("filled"), 20);
  auto fill = events::ParseFillPayload(fill_env->payload);
  ASSERT_TRUE(fill);
  EXPECT_EQ(fill->qty, events::Decimal::FromInteger(3));
  EXPECT_EQ(fill->price, m.Touch("AAPL", "demo:s/order", events::Side::kSell));
  EXPECT_EQ(fill->status, "filled");
  EXPECT_EQ(fill->cum_qty, events::Decimal::FromInteger(3));
  EXPECT_EQ(fill->leaves_qty, events::Decimal());
  EXPECT_EQ(fill->avg_price, fill->price);
}

TEST(Market, NonMarketableLimitExpires) {
  const Market m({.seed = 3});
  auto ex = Execute(Order("o2", events::Side::kBuy, "limit", "0.01"), m, 0, 0);
  ASSERT_TRUE(ex);
  EXPECT_FALSE(ex->filled);
  ASSERT_EQ(ex->messages.size(), 1u);
  EXPECT_EQ(ex->messages[0].subject, "exec.report.AAPL");
  EXPECT_EQ(ex->messages[0].msg_id, "o2/report/1");
  EXPECT_NE(ex->messages[0].data.find("\"status\":\"expired\""), std::string::npos);
  auto marketable = Execute(Order("o3", events::Side::kBuy, "limit", "100000"), m, 0, 0);
  ASSERT_TRUE(marketable);
  EXPECT_TRUE(marketable->filled);
}

TEST(Market, PoisonOrdersAreErrors) {
  auto bad = Order("o4", events::Side::kBuy);
  bad.payload = R"({"order_id":"other","side":"buy","qty":"1","order_type":"market"})";
  EXPECT_FALSE(Execute(bad, Market({}), 0, 0));
  EXPECT_FALSE(Execute(Order("o5", events::Side::kBuy, "stop"), Market({}), 0, 0));
}

}  // namespace
}  // namespace tradepipe::execsim
