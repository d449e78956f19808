// Resting orders: their report and rebuild, matching at the ticks' market (crossed, touched,
// price-time priority, DAY expiry), determinism, and the rebuilt state equal to the live one.
#include "resting.hpp"

#include <gtest/gtest.h>

#include <random>

#include "market.hpp"
#include "published.hpp"

namespace tradepipe::execsim {
namespace {

using events::Decimal;
using events::Side;
using events::TimeInForce;

Decimal D(const char* text) { return *Decimal::Parse(text); }

constexpr int64_t kDay = 86'400LL * 1'000'000'000LL;
constexpr int64_t kNoon = 20'000 * kDay + kDay / 2;  // a UTC noon

RestingOrder Resting(const std::string& id, Side side, Decimal qty, Decimal limit, TimeInForce tif = TimeInForce::kGtc,
                     int64_t decided_ns = kNoon, const std::string& symbol = "AAPL") {
  RestingOrder o;
  o.parent.type = events::kTypeOrder;
  o.parent.id = id;
  o.parent.correlation_id = "demo:s";
  o.parent.source = "demo";
  o.parent.symbol = symbol;
  o.parent.AddStamp("decided", decided_ns);
  o.parent.AddStamp("exec_consumed", decided_ns + 1);
  o.side = side;
  o.qty = qty;
  o.limit = limit;
  o.time_in_force = tif;
  o.decided_ns = decided_ns;
  return o;
}

std::vector<events::FillPayload> FillsOf(const TickResult& r) { return FillsIn(r.messages); }

const MarketOptions kOptions{.seed = 21, .levels = 3, .depth_qty = D("10")};

TEST(Resting, TheAcceptedReportCarriesWhatRebuildsTheOrder) {
  const Market m(kOptions);
  events::Envelope order;
  order.type = events::kTypeOrder;
  order.id = "demo:r/order";
  order.correlation_id = "demo:r";
  order.causation_id = "demo:r";
  order.source = "demo";
  order.symbol = "AAPL";
  order.AddStamp("decided", kNoon);
  events::OrderPayload p;
  p.order_id = order.id;
  p.qty = D("2.5");
  p.order_type = "limit";
  p.limit_price = D("0.01");  // far below the book: nothing executes
  p.time_in_force = TimeInForce::kGtc;
  order.payload = events::ToJson(p);
  auto ex = Execute(order, 7, m, kNoon + 10, kNoon + 20);
  ASSERT_TRUE(ex) << ex.error();
  ASSERT_TRUE(ex->rest);
  ASSERT_EQ(ex->messages.size(), 1u);
  auto report = events::ParseEnvelope(ex->messages[0].data);
  ASSERT_TRUE(report);
  auto payload = events::ParseExecReportPayload(report->payload);
  ASSERT_TRUE(payload);
  auto rebuilt = RestingFromReport(*report, *payload);
  ASSERT_TRUE(rebuilt);
  for (const RestingOrder* o : {&*ex->rest, &*rebuilt}) {
    EXPECT_EQ(o->parent.id, order.id);
    EXPECT_EQ(o->parent.symbol, "AAPL");
    ASSERT_EQ(o->parent.ts.size(), 2u);  // the order's stamps and exec_consumed: not the report's "filled"
    EXPECT_EQ(o->parent.ts[1].name, "exec_consumed");
    EXPECT_EQ(o->side, Side::kBuy);
    EXPECT_EQ(o->qty, D("2.5"));
    EXPECT_EQ(o->limit, D("0.01"));
    EXPECT_EQ(o->time_in_force, TimeInForce::kGtc);
    EXPECT_EQ(o->cum, Decimal());
    EXPECT_EQ(o->fills, 0);
    EXPECT_EQ(o->decided_ns, kNoon);
  }
  payload->status = "cancelled";
  EXPECT_FALSE(RestingFromReport(*report, *payload));  // only an accepted report rests
  payload->status = "accepted";
  payload->limit_price.reset();
  EXPECT_FALSE(RestingFromReport(*report, *payload));  // nor without the order's terms
}

TEST(Resting, ACrossedLimitFillsAtItsOwnPriceWithTheDepthWithinIt) {
  const Market m(kOptions);
  const uint64_t tick = 1000;
  const Book book = m.TickBookAt("AAPL", tick, Side::kBuy);
  const Decimal limit = book.asks[1].price;  // crosses the best ask, takes two levels
  const Decimal within = book.asks[0].qty + book.asks[1].qty;
  const RestingList orders = {{"a", Resting("a", Side::kBuy, within + D("5"), limit)}};
  const TickResult r = MatchTick(m, orders, tick, kNoon, kNoon + 1, 10'000);
  const auto fills = FillsOf(r);
  ASSERT_EQ(fills.size(), 1u);  // one fill per tick, at the order's price
  EXPECT_EQ(fills[0].price, limit);
  EXPECT_EQ(fills[0].qty, within);
  EXPECT_EQ(fills[0].status, "partial");
  EXPECT_EQ(fills[0].fill_no, 1);
  EXPECT_EQ(r.messages[0].msg_id, "a/fill/1");
  EXPECT_EQ(r.messages[0].subject, "exec.fill.AAPL");
  ASSERT_EQ(r.updates.size(), 1u);
  EXPECT_TRUE(r.updates[0].rests());
  EXPECT_EQ(r.updates[0].after.leaves(), D("5"));
  auto event = events::ParseEnvelope(r.messages[0].data);
  EXPECT_EQ(event->causation_id, "a");  // caused by the order
  EXPECT_EQ(event->StampOf("tick"), kNoon);

  // A limit below the best ask: nothing; a sell limit above the best bid: nothing.
  const RestingList away = {
      {"b", Resting("b", Side::kBuy, D("1"), book.asks[0].price - D("0.01"))},
      {"c", Resting("c", Side::kSell, D("1"), m.TickBookAt("AAPL", tick).bids[0].price + D("0.01"))}};
  EXPECT_TRUE(MatchTick(m, away, tick, kNoon, kNoon, 10'000).messages.empty());
}

TEST(Resting, ATouchedLimitFillsWithTheSeededProbability) {
  const Market m(kOptions);
  auto touched_fills = [&](int64_t bps) {
    int filled = 0;
    for (uint64_t tick = 1; tick <= 400; ++tick) {
      const Decimal best = m.TickBookAt("AAPL", tick, Side::kBuy).asks[0].price;
      const RestingList orders = {{"t", Resting("t", Side::kBuy, D("1"), best)}};
      filled += MatchTick(m, orders, tick, kNoon, kNoon, bps).fills > 0 ? 1 : 0;
    }
    return filled;
  };
  EXPECT_EQ(touched_fills(0), 0);
  EXPECT_EQ(touched_fills(10'000), 400);
  const int half = touched_fills(5'000);
  EXPECT_GT(half, 140);
  EXPECT_LT(half, 260);
  EXPECT_EQ(half, touched_fills(5'000));  // seeded: the same ticks every time
}

TEST(Resting, TheTicksDepthGoesByPriceThenTime) {
  const Market m(kOptions);
  const uint64_t tick = 77;
  const Book book = m.TickBookAt("AAPL", tick, Side::kBuy);
  const Decimal limit = book.asks[0].price + D("0.01");  // crosses only the best level
  const Decimal depth = book.asks[0].qty;
  const RestingList orders = {
      {"late", Resting("late", Side::kBuy, depth, limit, TimeInForce::kGtc, kNoon + 5)},
      {"early", Resting("early", Side::kBuy, depth - D("1"), limit, TimeInForce::kGtc, kNoon)},
      {"higher", Resting("higher", Side::kBuy, D("0.5"), limit + D("1"), TimeInForce::kGtc, kNoon + 9)},
  };
  const TickResult r = MatchTick(m, orders, tick, kNoon, kNoon, 10'000);
  const auto fills = FillsOf(r);
  ASSERT_EQ(fills.size(), 3u);
  EXPECT_EQ(fills[0].order_id, "higher");  // the better price first
  EXPECT_EQ(fills[0].qty, D("0.5"));
  EXPECT_EQ(fills[1].order_id, "early");  // then the earlier decided
  EXPECT_EQ(fills[1].qty, depth - D("1"));
  EXPECT_EQ(fills[2].order_id, "late");  // what is left of the best level; the next is beyond its limit
  EXPECT_EQ(fills[2].qty, D("0.5"));
  Decimal taken;
  for (const auto& f : fills) taken = taken + f.qty;
  EXPECT_EQ(taken, depth);  // the level is shared, never taken twice
}

TEST(Resting, ADayOrderExpiresOnTheNextUtcDayAndAGtcOrderStays) {
  const Market m(kOptions);
  const RestingList orders = {{"d", Resting("d", Side::kBuy, D("1"), D("0.01"), TimeInForce::kDay)},
                              {"g", Resting("g", Side::kBuy, D("1"), D("0.01"), TimeInForce::kGtc)}};
  EXPECT_TRUE(MatchTick(m, orders, 5, kNoon + kDay / 2 - 1, kNoon, 10'000).messages.empty());  // 23:59:59.9
  const TickResult next_day = MatchTick(m, orders, 6, kNoon + kDay / 2, kNoon, 10'000);
  ASSERT_EQ(next_day.messages.size(), 1u);
  EXPECT_EQ(next_day.messages[0].msg_id, "d/report/2");
  EXPECT_EQ(next_day.messages[0].subject, "exec.report.AAPL");
  EXPECT_NE(next_day.messages[0].data.find("\"status\":\"expired\""), std::string::npos);
  EXPECT_EQ(next_day.expired, 1u);
  ASSERT_EQ(next_day.updates.size(), 1u);
  EXPECT_FALSE(next_day.updates[0].rests());
}

// Resting orders as the checks below compare them.
void ExpectSameBooks(const RestingList& a, const RestingList& b, const std::string& where) {
  EXPECT_EQ(a.size(), b.size()) << where;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    EXPECT_EQ(a[i].id, b[i].id) << where;
    EXPECT_EQ(a[i].order->cum, b[i].order->cum) << where;
    EXPECT_EQ(a[i].order->avg_price, b[i].order->avg_price) << where;
    EXPECT_EQ(a[i].order->fills, b[i].order->fills) << where;
    EXPECT_EQ(a[i].order->qty, b[i].order->qty) << where;
    EXPECT_EQ(a[i].order->leaves(), b[i].order->leaves()) << where;
    EXPECT_EQ(a[i].order->oco, b[i].order->oco) << where;
    EXPECT_EQ(a[i].order->stop, b[i].order->stop) << where;
    EXPECT_EQ(a[i].order->limit, b[i].order->limit) << where;
    EXPECT_EQ(a[i].order->take_profit, b[i].order->take_profit) << where;
    EXPECT_EQ(a[i].order->decided_ns, b[i].order->decided_ns) << where;
    EXPECT_EQ(a[i].order->stated_ns, b[i].order->stated_ns) << where;
    EXPECT_LE(a[i].order->cum, a[i].order->qty) << where;
  }
}

// Random resting orders through many ticks, twice: the same bytes; and the book rebuilt from the
// published events equals the live one after every tick. Orders stated more than an hour ago (6
// ticks) are restated: the book rebuilt from the last 10 ticks' events alone (as from an
// EXECUTIONS whose older events aged out) equals the live one too.
TEST(Resting, TicksAreDeterministicAndTheRebuiltBookEqualsTheLiveOne) {
  auto run = [](uint64_t seed, bool check_rebuild) {
    const Market m({.seed = seed, .walk_bps = 80, .levels = 3, .depth_qty = D("4")});
    std::mt19937_64 random(5);
    RestingBook live(1000);
    RestingBook rebuilt(1000);
    std::vector<std::pair<uint64_t, std::string>> stream;  // every event with its tick
    constexpr uint64_t kTicks = 300;
    std::string all;
    for (uint64_t tick = 1; tick <= kTicks; ++tick) {
      if (tick % 3 == 1) {  // a new resting order now and then, near the market
        const std::string id = "o" + std::to_string(tick);
        const Side side = random() % 2 == 0 ? Side::kBuy : Side::kSell;
        const Decimal mid = m.TickBookAt("S", tick).mid;
        const auto offset = static_cast<int64_t>(random() % 200) - 100;  // ± 1 %
        const Decimal limit = Decimal::FromUnits(mid.units() / 10'000 * (10'000 + offset));
        RestingOrder o = Resting(id, side, Decimal::FromUnits(static_cast<int64_t>(1 + random() % 1'000'000'000)),
                                 limit, random() % 4 == 0 ? TimeInForce::kDay : TimeInForce::kGtc,
                                 kNoon + static_cast<int64_t>(tick) * 1'000'000'000LL * 600, "S");
        if (random() % 2 == 0) {  // an entry with exits around its price
          const int64_t sign = side == Side::kBuy ? 1 : -1;
          o.take_profit = Decimal::FromUnits(limit.units() / 10'000 * (10'000 + sign * 40));
          o.stop_loss = Decimal::FromUnits(limit.units() / 10'000 * (10'000 - sign * 40));
        }
        events::ExecReportPayload accepted;
        accepted.order_id = id;
        accepted.status = "accepted";
        accepted.leaves_qty = o.qty;
        accepted.side = o.side;
        accepted.qty = o.qty;
        accepted.limit_price = o.limit;
        accepted.time_in_force = o.time_in_force;
        accepted.fills = 0;
        accepted.take_profit = o.take_profit;
        accepted.stop_loss = o.stop_loss;
        events::Envelope report = o.parent.Child(events::kTypeExecReport, id + "/report/1");
        report.AddStamp("filled", o.decided_ns);
        report.payload = events::ToJson(accepted);
        EXPECT_TRUE(rebuilt.Replay(events::Serialize(report)));
        stream.emplace_back(tick, events::Serialize(report));
        o.stated_ns = o.decided_ns;  // its report's time
        live.Add(id, std::move(o));
      }
      const int64_t tick_ns = kNoon + static_cast<int64_t>(tick) * 1'000'000'000LL * 600;  // 10 minutes a tick
      const int64_t an_hour = 3'600LL * 1'000'000'000LL;
      const TickResult r =
          MatchTick(m, live.Snapshot(), tick, tick_ns, tick_ns + 1, 5'000, {.before_ns = tick_ns - an_hour});
      for (const auto& msg : r.messages) {
        all += msg.msg_id + " " + msg.data + "\n";
        EXPECT_TRUE(rebuilt.Replay(msg.data));
        stream.emplace_back(tick, msg.data);
      }
      live.Apply(r.updates);
      if (check_rebuild) ExpectSameBooks(live.Snapshot(), rebuilt.Snapshot(), "tick " + std::to_string(tick));
    }
    if (check_rebuild) {
      RestingBook tail(1000);
      for (const auto& [tick, data] : stream) {
        if (tick > kTicks - 10) {
          EXPECT_TRUE(tail.Replay(data));
        }
      }
      EXPECT_GT(live.size(), 5u);
      ExpectSameBooks(live.Snapshot(), tail.Snapshot(), "rebuilt from the last 10 ticks");
    }
    return all;
  };
  const std::string first = run(42, true);
  EXPECT_EQ(first, run(42, false));
  EXPECT_NE(first, run(43, false));
  EXPECT_NE(first.find("\"status\":\"partial\""), std::string::npos) << "some orders should fill in parts";
  EXPECT_NE(first.find("\"status\":\"filled\""), std::string::npos) << "and some completely";
  EXPECT_NE(first.find("\"status\":\"expired\""), std::string::npos) << "and DAY orders expire";
  EXPECT_NE(first.find("/tp/fill/1 "), std::string::npos) << "take-profits fill";
  EXPECT_NE(first.find("/sl/fill/1 "), std::string::npos) << "stop-losses trigger";
  EXPECT_NE(first.find("/sl/report/2 "), std::string::npos) << "and the other of a pair is cancelled";
  EXPECT_NE(first.find("/restated/"), std::string::npos) << "orders resting for over an hour are restated";
}

// A restatement: only for an order stated before the limit, an accepted report with the order's
// terms and its state now, from which alone the order is rebuilt as it stands.
TEST(Resting, AnOrderStatedBeforeTheLimitIsRestatedAndRebuiltFromThatAlone) {
  const Market m(kOptions);
  const uint64_t tick = 77;
  RestingOrder o = Resting("demo:q/order/sl", Side::kSell, D("3"), Decimal());
  o.parent.id = "demo:q/order";  // an exit: its entry is the parent
  o.stop = D("0.01");            // far below the market: it never triggers
  o.oco = "demo:q/order/tp";
  o.cum = D("1");
  o.avg_price = D("0.02");
  o.fills = 2;
  o.stated_ns = kNoon + 5;
  const RestingList book = {{"demo:q/order/sl", o}};
  EXPECT_TRUE(MatchTick(m, book, tick, kNoon + 100, kNoon + 101, 10'000, {.before_ns = kNoon + 5}).messages.empty())
      << "stated at the limit: not yet";
  const TickResult r = MatchTick(m, book, tick, kNoon + 100, kNoon + 101, 10'000, {.before_ns = kNoon + 6});
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.restated, 1u);
  EXPECT_EQ(r.messages[0].msg_id, "demo:q/order/sl/restated/77");
  ASSERT_EQ(r.updates.size(), 1u);
  EXPECT_TRUE(r.updates[0].rests());
  EXPECT_EQ(r.updates[0].after.stated_ns, kNoon + 101);
  RestingBook rebuilt(10);
  ASSERT_TRUE(rebuilt.Replay(r.messages[0].data));
  const auto again = rebuilt.Find("demo:q/order/sl");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->parent.id, "demo:q/order");
  EXPECT_EQ(again->parent.ts.size(), o.parent.ts.size());  // the order's stamps, not the tick's
  EXPECT_EQ(again->side, Side::kSell);
  EXPECT_EQ(again->qty, D("3"));
  EXPECT_EQ(again->stop, D("0.01"));
  EXPECT_EQ(again->oco, "demo:q/order/tp");
  EXPECT_EQ(again->cum, D("1"));
  EXPECT_EQ(again->avg_price, D("0.02"));
  EXPECT_EQ(again->fills, 2);
  EXPECT_EQ(again->decided_ns, o.decided_ns);
  EXPECT_EQ(again->stated_ns, kNoon + 101);
  EXPECT_EQ(again->time_in_force, TimeInForce::kGtc);
}

// Orders come due in a burst: at most `per_tick` are restated in a tick, the longest unstated
// first; the others at the next ticks, none twice.
TEST(Resting, RestatementsPerTickAreBoundedLongestUnstatedFirst) {
  const Market m(kOptions);
  RestingBook book(10);
  for (int i = 0; i < 5; ++i) {
    const std::string id = "demo:b" + std::to_string(i) + "/order";
    RestingOrder o = Resting(id, Side::kBuy, D("1"), D("0.01"));
    o.stated_ns = kNoon + 10 - i;  // b4 the longest unstated
    book.Add(id, std::move(o));
  }
  ASSERT_EQ(book.size(), 5u);
  std::vector<std::string> order;
  for (uint64_t tick = 1; tick <= 4; ++tick) {
    const TickResult r =
        MatchTick(m, book.Snapshot(), tick, kNoon + 100, kNoon + 101, 10'000, {.before_ns = kNoon + 50, .per_tick = 2});
    EXPECT_EQ(r.restated, tick <= 2 ? 2u : tick == 3 ? 1u : 0u) << "tick " << tick;
    for (const auto& msg : r.messages) order.push_back(msg.msg_id);
    book.Apply(r.updates);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"demo:b4/order/restated/1", "demo:b3/order/restated/1",
                                             "demo:b2/order/restated/2", "demo:b1/order/restated/2",
                                             "demo:b0/order/restated/3"}));
}

// Take-profit and stop-loss: placed when an entry has executed, one cancelling the other.
TEST(Exits, AnEntryFilledOnArrivalPlacesItsTakeProfitAndStopLoss) {
  const Market m(kOptions);
  events::Envelope order;
  order.type = events::kTypeOrder;
  order.id = "demo:e/order";
  order.correlation_id = "demo:e";
  order.source = "demo";
  order.symbol = "AAPL";
  order.AddStamp("decided", kNoon);
  events::OrderPayload p;
  p.order_id = order.id;
  p.qty = D("3");
  p.take_profit = D("1000");
  p.stop_loss = D("1");
  order.payload = events::ToJson(p);
  auto ex = Execute(order, 3, m, kNoon + 1, kNoon + 2);
  ASSERT_TRUE(ex) << ex.error();
  ASSERT_TRUE(ex->filled);
  ASSERT_EQ(ex->exits.size(), 2u);
  EXPECT_EQ(ex->exits[0].first, "demo:e/order/tp");
  EXPECT_EQ(ex->exits[0].second.limit, D("1000"));
  EXPECT_EQ(ex->exits[0].second.oco, "demo:e/order/sl");
  EXPECT_EQ(ex->exits[1].first, "demo:e/order/sl");
  EXPECT_EQ(ex->exits[1].second.stop, D("1"));
  for (const auto& [id, exit] : ex->exits) {
    EXPECT_EQ(exit.side, Side::kSell);
    EXPECT_EQ(exit.qty, D("3"));
    EXPECT_EQ(exit.time_in_force, TimeInForce::kGtc);
  }
  // Their accepted reports follow the fills and rebuild them.
  const auto& last = ex->messages.back();
  EXPECT_EQ(last.msg_id, "demo:e/order/sl/report/1");
  auto report = events::ParseEnvelope(last.data);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->causation_id, order.id);
  auto rebuilt = RestingFromReport(*report, *events::ParseExecReportPayload(report->payload));
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(rebuilt->stop, D("1"));
  EXPECT_EQ(rebuilt->oco, "demo:e/order/tp");
  EXPECT_EQ(rebuilt->parent.id, order.id);
  // With no room in the resting book they are cancelled at once, never silently dropped.
  auto full = Execute(order, 3, m, kNoon + 1, kNoon + 2, /*room=*/1);  // two are needed
  ASSERT_TRUE(full);
  EXPECT_TRUE(full->exits.empty());
  EXPECT_TRUE(full->rest_refused);
  EXPECT_NE(full->messages.back().data.find("\"status\":\"cancelled\""), std::string::npos);
  // No exits for an order that executed nothing.
  p.order_type = "limit";
  p.limit_price = D("0.01");
  p.time_in_force = TimeInForce::kIoc;
  order.payload = events::ToJson(p);
  EXPECT_TRUE(Execute(order, 3, m, 0, 0)->exits.empty());
}

RestingList Pair(const std::string& entry, Decimal qty, Decimal take_profit, Decimal stop_loss) {
  RestingOrder tp = Resting(entry + "/tp", Side::kSell, qty, take_profit);
  tp.parent.id = entry;
  tp.oco = entry + "/sl";
  RestingOrder sl = Resting(entry + "/sl", Side::kSell, qty, Decimal());
  sl.parent.id = entry;
  sl.stop = stop_loss;
  sl.oco = entry + "/tp";
  return {{entry + "/sl", sl}, {entry + "/tp", tp}};
}

TEST(Exits, TheTakeProfitFillsAndCancelsTheStopLoss) {
  const Market m(kOptions);
  const uint64_t tick = 40;
  const Book book = m.TickBookAt("AAPL", tick, Side::kSell);
  const RestingList pair = Pair("x", D("1"), book.bids[0].price - D("0.01"), D("0.01"));
  const TickResult r = MatchTick(m, pair, tick, kNoon, kNoon, 10'000);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].msg_id, "x/tp/fill/1");
  EXPECT_EQ(FillsOf(r)[0].price, book.bids[0].price - D("0.01"));
  EXPECT_EQ(r.messages[1].msg_id, "x/sl/report/2");
  EXPECT_NE(r.messages[1].data.find("\"status\":\"cancelled\""), std::string::npos);
  RestingBook live(10);
  for (const auto& [id, o] : pair) live.Add(id, *o);
  live.Apply(r.updates);
  EXPECT_EQ(live.size(), 0u);
}

TEST(Exits, TheStopTriggersAsAMarketOrderAndShrinksTheTakeProfit) {
  const Market m(kOptions);
  const uint64_t tick = 41;
  const Book book = m.TickBookAt("AAPL", tick, Side::kSell);
  const Decimal depth = book.bids[0].qty + book.bids[1].qty + book.bids[2].qty;
  // A sell stop the best bid has reached, larger than the bids: a fill per level, the rest waits.
  const RestingList pair = Pair("y", depth + D("2"), D("100000"), book.bids[0].price + D("0.01"));
  const TickResult r = MatchTick(m, pair, tick, kNoon, kNoon, 10'000);
  const auto fills = FillsOf(r);
  ASSERT_EQ(fills.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(fills[i].order_id, "y/sl");
    EXPECT_EQ(fills[i].price, book.bids[i].price);  // the book's prices: slippage
  }
  RestingBook live(10);
  RestingBook rebuilt(10);
  for (const auto& [id, o] : pair) live.Add(id, *o);
  for (const auto& [id, o] : pair) rebuilt.Add(id, *o);
  live.Apply(r.updates);
  for (const auto& msg : r.messages) EXPECT_TRUE(rebuilt.Replay(msg.data));
  EXPECT_EQ(live.Find("y/sl")->leaves(), D("2"));
  EXPECT_EQ(live.Find("y/tp")->qty, D("2"));  // shrunk by what the stop executed
  EXPECT_EQ(rebuilt.Find("y/tp")->qty, D("2"));
  EXPECT_EQ(rebuilt.Find("y/sl")->leaves(), D("2"));
  // A stop the market has not reached does nothing.
  const RestingList away = Pair("z", D("1"), D("100000"), book.bids[0].price - D("0.01"));
  EXPECT_TRUE(MatchTick(m, away, tick, kNoon, kNoon, 10'000).messages.empty());
}

TEST(Exits, ARestingEntryDonePlacesItsExits) {
  const Market m(kOptions);
  const uint64_t tick = 42;
  const Book book = m.TickBookAt("AAPL", tick, Side::kBuy);
  RestingOrder entry = Resting("w", Side::kBuy, D("1"), book.asks[0].price + D("0.01"));
  entry.take_profit = D("100000");
  entry.stop_loss = D("0.01");
  const TickResult r = MatchTick(m, {{"w", entry}}, tick, kNoon, kNoon, 10'000);
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].msg_id, "w/fill/1");
  EXPECT_EQ(r.messages[1].msg_id, "w/tp/report/1");
  EXPECT_EQ(r.messages[2].msg_id, "w/sl/report/1");
  RestingBook live(10);
  live.Add("w", entry);
  live.Apply(r.updates);
  EXPECT_FALSE(live.Find("w"));
  ASSERT_TRUE(live.Find("w/tp"));
  EXPECT_EQ(live.Find("w/tp")->qty, D("1"));
  EXPECT_EQ(live.Find("w/sl")->stop, D("0.01"));
}

TEST(Resting, TheBookIsBoundedAndARepeatDoesNotResetProgress) {
  RestingBook book(2);
  EXPECT_EQ(book.Room(), 2u);
  book.Add("a", Resting("a", Side::kBuy, D("3"), D("1")));
  RestingOrder progressed = Resting("b", Side::kBuy, D("3"), D("1"));
  progressed.cum = D("1");
  progressed.fills = 1;
  book.Add("b", progressed);
  EXPECT_EQ(book.Room(), 0u);
  book.Add("b", Resting("b", Side::kBuy, D("3"), D("1")));  // a repeated order
  EXPECT_EQ(book.Find("b")->cum, D("1"));
  EXPECT_EQ(book.size(), 2u);
}

}  // namespace
}  // namespace tradepipe::execsim
