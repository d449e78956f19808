#include <gtest/gtest.h>

#include "decision.hpp"
#include "positions.hpp"
#include "tradepipe/events/ids.hpp"

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

TradingConfig WithMaxQty(const char* max_order_qty) {
  TradingConfig config;
  config.risk.max_order_qty = D(max_order_qty);
  return config;
}

// The decision for an account holding `position` in the signal's symbol.
Result<Decision> DecideAt(const events::Envelope& signal, const TradingConfig& config, Decimal position,
                          int64_t consumed = 0, int64_t decided = 0) {
  OrderThrottle throttle;
  DecisionContext context{&config, {}, TradingState::kActive, consumed, decided, {}};
  context.account.symbol.qty = position;
  return Decide(signal, context, throttle);
}

// A flat position: what the earlier tests assume.
Result<Decision> DecideFlat(const events::Envelope& signal, const TradingConfig& config, int64_t consumed = 0,
                            int64_t decided = 0) {
  return DecideAt(signal, config, Decimal(), consumed, decided);
}

events::OrderPayload OrderOf(const bus::OutgoingMessage& m) {
  return *events::ParseOrderPayload(events::ParseEnvelope(m.data)->payload);
}

TEST(Decide, OrderWithinLimits) {
  auto d = DecideFlat(Signal("10"), WithMaxQty("100"), 200, 300);
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
  auto d = DecideFlat(Signal("1", "limit"), TradingConfig{});
  ASSERT_TRUE(d);
  auto order = OrderOf(d->messages.at(0));
  ASSERT_TRUE(order.limit_price);
  EXPECT_EQ(order.limit_price->ToString(), "410.5");
}

TEST(Decide, OverTheMaximumIsRejectedWithAReason) {
  const TradingConfig limits = WithMaxQty("100");
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
  auto a = DecideFlat(Signal("5"), TradingConfig{}, 7, 8);
  auto b = DecideFlat(Signal("5"), TradingConfig{}, 7, 8);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->messages[0].data, b->messages[0].data);
}

TEST(Decide, PoisonSignalsAreErrors) {
  events::Envelope bad = Signal("1");
  bad.payload = R"({"action":"hold","qty":"1"})";
  EXPECT_FALSE(DecideFlat(bad, TradingConfig{}));
  events::Envelope wrong_type = Signal("1");
  wrong_type.type = "fill";
  EXPECT_FALSE(DecideFlat(wrong_type, TradingConfig{}));
}

TEST(Decide, AReverseIsOneDecisionWithTheCloseFirst) {
  events::Envelope e = Signal("10");
  events::SignalPayload p = *events::ParseSignalPayload(e.payload);
  p.market_position = MarketPosition::kShort;
  p.prev_market_position = MarketPosition::kLong;
  e.payload = events::ToJson(p);
  auto d = DecideAt(e, TradingConfig{}, D("4"), 1, 2);
  ASSERT_TRUE(d) << d.error();
  EXPECT_FALSE(d->rejected);
  ASSERT_EQ(d->messages.size(), 2u);
  EXPECT_EQ(d->orders, 2u);
  EXPECT_EQ(d->messages[0].msg_id, "demo:s1/order");    // the close
  EXPECT_EQ(d->messages[1].msg_id, "demo:s1/order/2");  // then the open
  EXPECT_EQ(OrderOf(d->messages[0]).qty.ToString(), "4");
  EXPECT_EQ(OrderOf(d->messages[1]).qty.ToString(), "6");
  EXPECT_EQ(OrderOf(d->messages[1]).order_id, "demo:s1/order/2");
  // Each order is checked against the limits: an open of 6 over a limit of 5 is refused alone
  // (its rejection has the open's id) and the close still goes out; a close over it refuses all.
  auto open_refused = DecideAt(e, WithMaxQty("5"), D("4"), 1, 2);
  ASSERT_TRUE(open_refused);
  EXPECT_FALSE(open_refused->rejected);
  EXPECT_EQ(open_refused->partial_reason, "max_order_qty");
  EXPECT_EQ(open_refused->orders, 1u);
  ASSERT_EQ(open_refused->messages.size(), 2u);
  EXPECT_EQ(OrderOf(open_refused->messages[0]).qty.ToString(), "4");
  EXPECT_EQ(open_refused->messages[1].msg_id, "demo:s1/order/2");
  EXPECT_EQ(open_refused->messages[1].subject, "orders.rejected.BRK%2EB");
  auto refused = DecideAt(e, WithMaxQty("3"), D("4"), 1, 2);
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->rejected);
  EXPECT_EQ(refused->reason, "max_order_qty");
  EXPECT_EQ(refused->messages.size(), 1u);
}

TEST(Positions, AppliesEachFillOnce) {
  Positions p;
  EXPECT_EQ(p.Apply("f1", "", "AAPL", Side::kBuy, D("10"), D("100"), 1), ApplyOutcome::kApplied);
  EXPECT_EQ(p.Apply("f1", "", "AAPL", Side::kBuy, D("10"), D("100"), 1), ApplyOutcome::kDuplicate);
  EXPECT_EQ(p.Apply("f2", "", "AAPL", Side::kSell, D("2.5"), D("100"), 2), ApplyOutcome::kApplied);
  EXPECT_EQ(p.Of("AAPL").ToString(), "7.5");
  EXPECT_EQ(p.Of("MSFT").ToString(), "0");
  EXPECT_EQ(p.fills(), 2u);
}

TEST(Positions, SumsThatWouldOverflowAreRefusedAndChangeNothing) {
  Positions p;
  const auto big = D("92233720368");
  ASSERT_EQ(p.Apply("f1", "", "X", Side::kBuy, big, D("1"), 1), ApplyOutcome::kApplied);
  EXPECT_EQ(p.Apply("f2", "", "X", Side::kBuy, big, D("1"), 1), ApplyOutcome::kOutOfRange);
  EXPECT_EQ(p.Of("X"), big);
  // Refused, not recorded: the id is not taken, and a fill that fits still applies.
  EXPECT_EQ(p.Apply("f2", "", "X", Side::kSell, big, D("1"), 1), ApplyOutcome::kApplied);
  EXPECT_EQ(p.Of("X").ToString(), "0");
}

// Average price, realised P&L and the day's P&L, fill by fill (netting).
TEST(Positions, AveragePriceAndRealisedPnlFollowTheFills) {
  constexpr int64_t kDay = 86'400LL * 1'000'000'000LL;
  struct Step {
    const char* what;
    Side side;
    const char* qty;
    const char* price;
    int64_t at;
    const char* expect_qty;
    const char* expect_avg;
    const char* expect_realised;
  };
  const Step steps[] = {
      {"open long", Side::kBuy, "2", "100", kDay, "2", "100", "0"},
      {"add at a higher price", Side::kBuy, "1", "130", kDay, "3", "110", "0"},
      {"take profit on part", Side::kSell, "1", "150", kDay, "2", "110", "40"},
      // sells 2 at 90 against 110 (-40), and the third opens a short at 90
      {"through flat", Side::kSell, "3", "90", kDay, "-1", "90", "0"},
      {"cover the short at a loss", Side::kBuy, "1", "95.5", 2 * kDay, "0", "0", "-5.5"},
      {"a fractional short", Side::kSell, "0.3", "10", 2 * kDay, "-0.3", "10", "-5.5"},
  };
  Positions p;
  int n = 0;
  for (const auto& step : steps) {
    ASSERT_EQ(p.Apply("f" + std::to_string(++n), "", "BTC", step.side, D(step.qty), D(step.price), step.at),
              ApplyOutcome::kApplied)
        << step.what;
    const auto position = p.Snapshot().at("BTC");
    EXPECT_EQ(position.qty.ToString(), step.expect_qty) << step.what;
    EXPECT_EQ(position.avg_price.ToString(), step.expect_avg) << step.what;
    EXPECT_EQ(position.last_price.ToString(), step.price) << step.what;
    EXPECT_EQ(position.realised_pnl.ToString(), step.expect_realised) << step.what;
  }
  const AccountView day2 = p.View("BTC", 2 * kDay + 5);
  EXPECT_EQ(day2.realised_pnl.ToString(), "-5.5");  // 40 - 40 - 5.5
  EXPECT_EQ(day2.realised_today.ToString(), "-5.5");
  EXPECT_EQ(p.View("BTC", 3 * kDay).realised_today.ToString(), "0");  // a new day starts at 0
  EXPECT_EQ(day2.open_positions, 1);
  EXPECT_EQ(day2.gross_exposure.ToString(), "3");  // |-0.3| x 10
  EXPECT_TRUE(day2.has_last_price);
  EXPECT_FALSE(p.View("ETH", 0).has_last_price);
}

TEST(Positions, JsonIsWrittenWithEscapingWhateverTheSymbol) {
  Positions p;
  ASSERT_EQ(p.Apply("f1", "", "BRK.B", Side::kBuy, D("3"), D("2"), 1), ApplyOutcome::kApplied);
  ASSERT_EQ(p.Apply("f2", "", R"(X","Y":"9)", Side::kSell, D("1"), D("5"), 1), ApplyOutcome::kApplied);
  EXPECT_EQ(p.ToJson(1), R"({"realised_pnl":"0","unrealised_pnl":"0","realised_pnl_today":"0","gross_exposure":"11",)"
                         R"("open_positions":2,"symbols":{)"
                         R"("BRK.B":{"qty":"3","open_qty":"0","avg_price":"2","realised_pnl":"0","unrealised_pnl":"0",)"
                         R"("last_price":"2"},)"
                         R"("X\",\"Y\":\"9":{"qty":"-1","open_qty":"0","avg_price":"5","realised_pnl":"0",)"
                         R"("unrealised_pnl":"0","last_price":"5"}}})");
  // Marked at the last fill: 3 more bought at 4 → average 3, last 4, unrealised (4 - 3) × 6 = 6.
  ASSERT_EQ(p.Apply("f3", "", "BRK.B", Side::kBuy, D("3"), D("4"), 1), ApplyOutcome::kApplied);
  EXPECT_NE(p.ToJson(1).find(R"("BRK.B":{"qty":"6","open_qty":"0","avg_price":"3","realised_pnl":"0",)"
                             R"("unrealised_pnl":"6","last_price":"4"})"),
            std::string::npos)
      << p.ToJson(1);
  EXPECT_EQ(p.ToJson(1).rfind(R"({"realised_pnl":"0","unrealised_pnl":"6",)", 0), 0u);
}

// Orders decided and not yet filled count in the position the checks use, until their fills or a
// final report take them out.
TEST(Positions, OpenOrdersCountUntilFilledOrEnded) {
  Positions p(3);
  p.OpenOrder("s1/order", "BTC", Side::kBuy, D("2"));
  p.OpenOrder("s1/order", "BTC", Side::kBuy, D("2"));  // a repeated decision adds nothing
  p.OpenOrder("s2/order", "BTC", Side::kSell, D("0.5"));
  EXPECT_EQ(p.View("BTC", 0).symbol.open_qty.ToString(), "1.5");
  EXPECT_EQ(p.View("BTC", 0).open_positions, 1);
  // A partial fill takes from its order, the rest is still open; a fill of another order leaves it.
  ASSERT_EQ(p.Apply("s1/order/fill/1", "s1/order", "BTC", Side::kBuy, D("0.75"), D("100"), 1), ApplyOutcome::kApplied);
  EXPECT_EQ(p.View("BTC", 0).symbol.qty.ToString(), "0.75");
  EXPECT_EQ(p.View("BTC", 0).symbol.open_qty.ToString(), "0.75");  // 1.25 - 0.5
  ASSERT_EQ(p.Apply("s1/order/fill/1", "s1/order", "BTC", Side::kBuy, D("0.75"), D("100"), 1),
            ApplyOutcome::kDuplicate);
  EXPECT_EQ(p.View("BTC", 0).symbol.open_qty.ToString(), "0.75");  // a repeated fill takes nothing
  // A final report ends what is left of its order.
  p.CloseOrder("s1/order");
  EXPECT_EQ(p.View("BTC", 0).symbol.open_qty.ToString(), "-0.5");
  EXPECT_EQ(p.open_orders(), 1u);
  // At the bound (3) the oldest open order is forgotten, and counted.
  for (const char* id : {"a", "b", "c"}) p.OpenOrder(id, "ETH", Side::kBuy, D("1"));
  EXPECT_EQ(p.open_orders(), 3u);
  EXPECT_EQ(p.forgotten_open_orders(), 1u);
  EXPECT_EQ(p.View("BTC", 0).symbol.open_qty.ToString(), "0");  // s2 was the oldest
  EXPECT_EQ(p.View("ETH", 0).symbol.open_qty.ToString(), "3");
}

// A batch whose publish failed is decided again; if its order was stored after all and filled
// before it is registered again, only what the fills left is open, and an ended one not at all.
TEST(Positions, AnOrderRegisteredAfterItsFillsOrItsEndOpensOnlyWhatIsLeft) {
  Positions p;
  ASSERT_EQ(p.Apply("o1/fill/1", "o1", "BTC", Side::kBuy, D("1.5"), D("10"), 1), ApplyOutcome::kApplied);
  EXPECT_TRUE(p.OpenOrder("o1", "BTC", Side::kBuy, D("2")));
  EXPECT_EQ(p.View("BTC", 0).symbol.open_qty.ToString(), "0.5");
  ASSERT_EQ(p.Apply("o2/fill/1", "o2", "BTC", Side::kBuy, D("3"), D("10"), 1), ApplyOutcome::kApplied);
  EXPECT_FALSE(p.OpenOrder("o2", "BTC", Side::kBuy, D("3")));  // filled already: nothing open
  p.CloseOrder("o3");
  EXPECT_FALSE(p.OpenOrder("o3", "BTC", Side::kSell, D("1")));  // ended already
  EXPECT_EQ(p.View("BTC", 0).symbol.open_qty.ToString(), "0.5");
  EXPECT_EQ(p.open_orders(), 1u);
}

// The envelope of the agent's order for signal `signal_id` (its payload left to the test).
events::Envelope OrderOf(const std::string& signal_id, const std::string& symbol) {
  events::Envelope order;
  order.type = events::kTypeOrder;
  order.id = events::DecisionId(signal_id);
  order.correlation_id = signal_id;
  order.source = "demo";
  order.symbol = symbol;
  return order;
}

TEST(Positions, ExecutionEventsFillAndEndOpenOrders) {
  Positions p;
  events::Envelope order = OrderOf("demo:x", "AAPL");
  events::OrderPayload placed;
  placed.order_id = "demo:x/order";
  placed.qty = D("10");
  order.payload = events::ToJson(placed);
  ASSERT_TRUE(OpenOrderEvent(p, events::Serialize(order)));
  events::Envelope fill = order.Child(events::kTypeFill, "demo:x/order/fill/1");
  fill.AddStamp("filled", 5);
  events::FillPayload f;
  f.order_id = order.id;
  f.side = Side::kBuy;
  f.qty = D("4");
  f.price = D("10");
  f.status = "partial";
  f.cum_qty = D("4");
  f.leaves_qty = D("6");
  f.avg_price = D("10");
  fill.payload = events::ToJson(f);
  EXPECT_EQ(*ApplyExecutionEvent(p, events::Serialize(fill), 0), ApplyOutcome::kApplied);
  EXPECT_EQ(p.View("AAPL", 0).symbol.open_qty.ToString(), "6");
  events::ExecReportPayload end;
  end.order_id = order.id;
  end.status = "accepted";  // resting at exec-sim: still open
  end.filled_qty = D("4");
  end.leaves_qty = D("6");
  end.avg_price = D("10");
  events::Envelope report = order.Child(events::kTypeExecReport, "demo:x/order/report/1");
  report.payload = events::ToJson(end);
  EXPECT_EQ(*ApplyExecutionEvent(p, events::Serialize(report), 0), ApplyOutcome::kReport);
  EXPECT_EQ(p.View("AAPL", 0).symbol.open_qty.ToString(), "6");
  end.status = "cancelled";
  report = order.Child(events::kTypeExecReport, "demo:x/order/report/2");
  report.payload = events::ToJson(end);
  EXPECT_EQ(*ApplyExecutionEvent(p, events::Serialize(report), 0), ApplyOutcome::kReport);
  EXPECT_EQ(p.View("AAPL", 0).symbol.open_qty.ToString(), "0");
  EXPECT_EQ(p.View("AAPL", 0).symbol.qty.ToString(), "4");
  EXPECT_FALSE(ApplyExecutionEvent(p, events::Serialize(order), 0));  // an order is not an execution
}

// At start, when ORDERS no longer holds an order's decision (older than its max age), exec-sim's
// accepted report or restatement opens it with what it leaves after the fills before it; live, a
// report never opens anything (a restatement redelivered after the last fill would reopen it); an
// entry's exits are never open here; an order open already is not opened twice.
TEST(Positions, InARebuildAnAcceptedReportOpensAnOrderOrdersNoLongerHolds) {
  events::Envelope order = OrderOf("demo:y", "AAPL");
  auto fill = [&](int n, const char* qty, const char* cum, const char* leaves) {
    events::Envelope e = order.Child(events::kTypeFill, events::FillId(order.id, n));
    e.AddStamp("filled", 5);
    events::FillPayload f;
    f.order_id = order.id;
    f.fill_no = n;
    f.side = Side::kSell;
    f.qty = D(qty);
    f.price = D("10");
    f.status = "partial";
    f.cum_qty = D(cum);
    f.leaves_qty = D(leaves);
    f.avg_price = D("10");
    e.payload = events::ToJson(f);
    return events::Serialize(e);
  };
  auto accepted = [&](const std::string& order_id, const std::string& event_id, const char* filled,
                      const char* leaves) {
    events::Envelope e = order.Child(events::kTypeExecReport, event_id);
    events::ExecReportPayload r;
    r.order_id = order_id;
    r.status = "accepted";
    r.side = Side::kSell;
    r.qty = D("10");
    r.limit_price = D("99");
    r.filled_qty = D(filled);
    r.leaves_qty = D(leaves);
    e.payload = events::ToJson(r);
    return events::Serialize(e);
  };
  const std::string restated = accepted(order.id, events::RestatementId(order.id, 9), "4", "6");
  {
    Positions p;  // a rebuild: the decision is gone, fill 1 came before the restatement
    ASSERT_TRUE(ApplyExecutionEvent(p, fill(1, "4", "4", "6"), 0, 1, Reading::kRebuild));
    EXPECT_EQ(p.View("AAPL", 0).symbol.open_qty.ToString(), "0");
    ASSERT_TRUE(ApplyExecutionEvent(p, restated, 0, 2, Reading::kRebuild));
    EXPECT_EQ(p.View("AAPL", 0).symbol.open_qty.ToString(), "-6");
    ASSERT_TRUE(ApplyExecutionEvent(p, fill(2, "2", "6", "4"), 0, 3, Reading::kRebuild));
    EXPECT_EQ(p.View("AAPL", 0).symbol.open_qty.ToString(), "-4");
    EXPECT_EQ(p.View("AAPL", 0).symbol.qty.ToString(), "-6");
    // An exit of it (caused by the entry, its own order id) is not one of the agent's orders.
    ASSERT_TRUE(ApplyExecutionEvent(p, accepted(order.id + "/tp", order.id + "/tp/report/1", "0", "6"), 0, 4,
                                    Reading::kRebuild));
    EXPECT_EQ(p.View("AAPL", 0).symbol.open_qty.ToString(), "-4");
    EXPECT_EQ(p.open_orders(), 1u);
  }
  {
    Positions p;  // live: nothing opens
    ASSERT_TRUE(ApplyExecutionEvent(p, restated, 0, 2, Reading::kLive));
    EXPECT_EQ(p.open_orders(), 0u);
  }
  {
    Positions p;  // the decision is still in ORDERS: open once, whatever reports follow
    events::OrderPayload placed;
    placed.order_id = order.id;
    placed.side = Side::kSell;
    placed.qty = D("10");
    order.payload = events::ToJson(placed);
    ASSERT_TRUE(OpenOrderEvent(p, events::Serialize(order)));
    ASSERT_TRUE(ApplyExecutionEvent(p, fill(1, "4", "4", "6"), 0, 1, Reading::kRebuild));
    ASSERT_TRUE(ApplyExecutionEvent(p, restated, 0, 2, Reading::kRebuild));
    EXPECT_EQ(p.View("AAPL", 0).symbol.open_qty.ToString(), "-6");
  }
}

events::Envelope CancelSignal() {
  events::Envelope e = Signal("1");
  events::SignalPayload p;
  p.action = SignalAction::kCancel;
  e.payload = events::ToJson(p);
  return e;
}

// A cancel asks exec-sim to cancel each open order of its symbol, in every trading state (it only
// takes risk away), with deterministic ids; with none open it is refused (no_open_orders).
TEST(Decide, ACancelRequestsEachOpenOrderOfItsSymbolInEveryState) {
  const TradingConfig config;
  OrderThrottle throttle;
  for (const TradingState state : {TradingState::kActive, TradingState::kReducing, TradingState::kHalted}) {
    DecisionContext context{&config, {}, state, 10, 20, {}};
    context.open_orders = [] { return std::vector<std::string>{"demo:a/order", "demo:b/order/2"}; };
    auto d = Decide(CancelSignal(), context, throttle);
    ASSERT_TRUE(d) << d.error();
    EXPECT_FALSE(d->rejected);
    EXPECT_EQ(d->orders, 0u);
    EXPECT_EQ(d->cancels, 2u);
    ASSERT_EQ(d->messages.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      const auto& m = d->messages[i];
      EXPECT_EQ(m.subject, "orders.cancel.BRK%2EB");
      EXPECT_EQ(m.msg_id, "demo:s1/cancel/" + std::to_string(i + 1));
      auto e = events::ParseEnvelope(m.data);
      ASSERT_TRUE(e);
      EXPECT_EQ(e->type, events::kTypeOrderCancel);
      EXPECT_EQ(e->causation_id, "demo:s1");
      EXPECT_EQ(e->StampOf("decided"), 20);
      EXPECT_EQ(events::ParseOrderCancelPayload(e->payload)->order_id, i == 0 ? "demo:a/order" : "demo:b/order/2");
    }
  }
  DecisionContext none{&config, {}, TradingState::kActive, 10, 20, {}};
  none.open_orders = [] { return std::vector<std::string>{}; };
  auto refused = Decide(CancelSignal(), none, throttle);
  ASSERT_TRUE(refused) << refused.error();
  EXPECT_TRUE(refused->rejected);
  EXPECT_EQ(refused->reason, "no_open_orders");
  ASSERT_EQ(refused->messages.size(), 1u);
  EXPECT_EQ(refused->messages[0].msg_id, "demo:s1/order");
}

TEST(Positions, OpenOrdersOfASymbolOldestFirstEachOnce) {
  Positions p;
  p.OpenOrder("s1/order", "BTC", Side::kBuy, D("2"));
  p.OpenOrder("s2/order", "ETH", Side::kBuy, D("1"));
  p.OpenOrder("s3/order", "BTC", Side::kSell, D("1"));
  p.OpenOrder("s4/order", "BTC", Side::kSell, D("1"));
  p.CloseOrder("s3/order");
  p.OpenOrder("s1/order", "BTC", Side::kBuy, D("2"));  // registered again: listed once
  EXPECT_EQ(p.OpenOrdersOf("BTC"), (std::vector<std::string>{"s1/order", "s4/order"}));
  EXPECT_EQ(p.OpenOrdersOf("ETH"), std::vector<std::string>{"s2/order"});
  EXPECT_TRUE(p.OpenOrdersOf("SOL").empty());
}

}  // namespace
}  // namespace tradepipe::agent
