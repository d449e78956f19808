// The simulated market's book and matching: the events of an execution, walking the levels, time in
// force, property tests over random books and orders, and the determinism of the whole event stream.
#include "market.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>

#include "order_states.hpp"
#include "published.hpp"

namespace tradepipe::execsim {
namespace {

using events::Decimal;
using events::Side;
using events::TimeInForce;

Decimal D(const char* text) { return *Decimal::Parse(text); }

events::Envelope Order(const std::string& id, Side side, Decimal qty, std::optional<Decimal> limit = std::nullopt,
                       std::optional<TimeInForce> tif = std::nullopt, const std::string& symbol = "AAPL") {
  events::Envelope e;
  e.type = events::kTypeOrder;
  e.id = id;
  e.correlation_id = "demo:s";
  e.causation_id = "demo:s";
  e.source = "demo";
  e.symbol = symbol;
  events::OrderPayload p;
  p.order_id = id;
  p.side = side;
  p.qty = qty;
  p.order_type = limit ? "limit" : "market";
  p.limit_price = limit;
  p.time_in_force = tif;
  e.payload = events::ToJson(p);
  return e;
}

std::vector<events::FillPayload> FillsOf(const Execution& ex) { return FillsIn(ex.messages); }

std::optional<events::ExecReportPayload> ReportOf(const Execution& ex) {
  for (const auto& m : ex.messages) {
    auto e = events::ParseEnvelope(m.data);
    if (e && e->type == events::kTypeExecReport) return *events::ParseExecReportPayload(e->payload);
  }
  return std::nullopt;
}

Decimal Depth(const std::vector<Level>& levels) {
  Decimal total;
  for (const auto& l : levels) total = total + l.qty;
  return total;
}

TEST(Market, SameSeedSameFills) {
  const Market a({.seed = 7}), b({.seed = 7}), c({.seed = 8});
  auto x = Execute(Order("o1", Side::kBuy, D("3")), 1, a, 10, 20);
  auto y = Execute(Order("o1", Side::kBuy, D("3")), 1, b, 10, 20);
  auto z = Execute(Order("o1", Side::kBuy, D("3")), 1, c, 10, 20);
  ASSERT_TRUE(x && y && z);
  EXPECT_EQ(x->messages[0].data, y->messages[0].data);
  EXPECT_NE(x->messages[0].data, z->messages[0].data);
}

TEST(Market, BuysPayTheAskSellsGetTheBid) {
  const Market m({.seed = 1, .spread_bps = 100, .walk_bps = 0});
  const Book book = m.BookAt("AAPL", 1);
  ASSERT_FALSE(book.asks.empty());
  ASSERT_FALSE(book.bids.empty());
  EXPECT_GT(book.asks[0].price, book.mid);
  EXPECT_LT(book.bids[0].price, book.mid);
  EXPECT_GE(book.mid, events::Decimal::FromInteger(20));
  EXPECT_LT(book.mid, events::Decimal::FromInteger(500));
  for (size_t i = 1; i < book.asks.size(); ++i) EXPECT_GT(book.asks[i].price, book.asks[i - 1].price);
  for (size_t i = 1; i < book.bids.size(); ++i) EXPECT_LT(book.bids[i].price, book.bids[i - 1].price);
}

TEST(Market, MarketOrderFillsCompletely) {
  const Market m({.seed = 3});
  auto ex = Execute(Order("demo:s/order", Side::kSell, D("3")), 5, m, 10, 20);
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
  EXPECT_EQ(fill->qty, D("3"));
  EXPECT_EQ(fill->price, m.BookAt("AAPL", 5).bids[0].price);
  EXPECT_EQ(fill->status, "filled");
  EXPECT_EQ(fill->cum_qty, D("3"));
  EXPECT_EQ(fill->leaves_qty, events::Decimal());
  EXPECT_EQ(fill->avg_price, fill->price);
}

TEST(Market, NonMarketableLimitRests) {
  const Market m({.seed = 3});
  auto ex = Execute(Order("o2", Side::kBuy, D("3"), D("0.01")), 1, m, 0, 0);
  ASSERT_TRUE(ex);
  EXPECT_FALSE(ex->filled);
  ASSERT_EQ(ex->messages.size(), 1u);
  EXPECT_EQ(ex->messages[0].subject, "exec.report.AAPL");
  EXPECT_EQ(ex->messages[0].msg_id, "o2/report/1");
  EXPECT_NE(ex->messages[0].data.find("\"status\":\"accepted\""), std::string::npos);
  ASSERT_TRUE(ex->rest);  // a DAY limit (a limit's default) rests
  EXPECT_EQ(ex->rest->leaves(), D("3"));
  EXPECT_EQ(ex->rest->time_in_force, TimeInForce::kDay);
  auto marketable = Execute(Order("o3", Side::kBuy, D("3"), D("100000")), 1, m, 0, 0);
  ASSERT_TRUE(marketable);
  EXPECT_TRUE(marketable->filled);
}

TEST(Market, PoisonOrdersAreErrors) {
  auto bad = Order("o4", Side::kBuy, D("3"));
  bad.payload = R"({"order_id":"other","side":"buy","qty":"1","order_type":"market"})";
  EXPECT_FALSE(Execute(bad, 1, Market({}), 0, 0));
  auto stop = Order("o5", Side::kBuy, D("3"));
  stop.payload = R"({"order_id":"o5","side":"buy","qty":"3","order_type":"stop"})";
  EXPECT_FALSE(Execute(stop, 1, Market({}), 0, 0));
}

const MarketOptions kThin{.seed = 11, .levels = 3, .depth_qty = D("10")};

TEST(Matching, AMarketOrderWalksTheBookAndPaysMoreForSize) {
  const Market m(kThin);
  const Book book = m.BookAt("AAPL", 9);
  const Decimal beyond_best = book.asks[0].qty + D("1");
  auto ex = Execute(Order("o/big", Side::kBuy, beyond_best), 9, m, 1, 2);
  ASSERT_TRUE(ex) << ex.error();
  const auto fills = FillsOf(*ex);
  ASSERT_EQ(fills.size(), 2u);
  EXPECT_EQ(ex->messages[0].msg_id, "o/big/fill/1");
  EXPECT_EQ(ex->messages[1].msg_id, "o/big/fill/2");
  EXPECT_EQ(fills[0].price, book.asks[0].price);
  EXPECT_EQ(fills[1].price, book.asks[1].price);
  EXPECT_GT(fills[1].price, fills[0].price);
  EXPECT_EQ(fills[0].status, "partial");
  EXPECT_EQ(fills[1].status, "filled");
  EXPECT_EQ(fills[1].qty.ToString(), "1");
  EXPECT_GT(fills[1].avg_price, fills[0].price);  // slippage
  EXPECT_LT(fills[1].avg_price, fills[1].price);
  EXPECT_TRUE(ex->filled);
  EXPECT_FALSE(ReportOf(*ex));
}

TEST(Matching, WhatTheDepthCannotTakeIsCancelledForIocAndMarket) {
  const Market m(kThin);
  const Decimal depth = Depth(m.BookAt("AAPL", 4).bids);
  auto ex = Execute(Order("o/huge", Side::kSell, depth + D("5")), 4, m, 1, 2);
  ASSERT_TRUE(ex);
  EXPECT_EQ(FillsOf(*ex).size(), 3u);
  auto report = ReportOf(*ex);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, "cancelled");
  EXPECT_EQ(report->filled_qty, depth);
  EXPECT_EQ(report->leaves_qty.ToString(), "5");
  EXPECT_EQ(ex->messages.back().msg_id, "o/huge/report/1");
}

TEST(Matching, FillOrKillTakesAllOrNothing) {
  const Market m(kThin);
  const Decimal depth = Depth(m.BookAt("AAPL", 4).asks);
  auto killed =
      Execute(Order("o/fok1", Side::kBuy, depth + D("0.00000001"), std::nullopt, TimeInForce::kFok), 4, m, 1, 2);
  ASSERT_TRUE(killed);
  EXPECT_TRUE(FillsOf(*killed).empty());
  EXPECT_EQ(ReportOf(*killed)->status, "cancelled");
  EXPECT_EQ(ReportOf(*killed)->filled_qty, Decimal());
  auto whole = Execute(Order("o/fok2", Side::kBuy, depth, std::nullopt, TimeInForce::kFok), 4, m, 1, 2);
  ASSERT_TRUE(whole);
  EXPECT_TRUE(whole->filled);
  EXPECT_EQ(FillsOf(*whole).size(), 3u);
}

TEST(Matching, ALimitTakesOnlyLevelsWithinItsPriceThenItsTimeInForceDecides) {
  const Market m(kThin);
  const Book book = m.BookAt("AAPL", 2);
  const Decimal two_levels = book.asks[0].qty + book.asks[1].qty;
  auto ioc =
      Execute(Order("o/ioc", Side::kBuy, two_levels + D("1"), book.asks[1].price, TimeInForce::kIoc), 2, m, 1, 2);
  ASSERT_TRUE(ioc);
  EXPECT_EQ(FillsOf(*ioc).size(), 2u);
  EXPECT_EQ(ReportOf(*ioc)->status, "cancelled");
  auto day = Execute(Order("o/day", Side::kBuy, two_levels + D("1"), book.asks[1].price), 2, m, 1, 2);
  ASSERT_TRUE(day);
  EXPECT_EQ(FillsOf(*day).size(), 2u);
  EXPECT_EQ(ReportOf(*day)->status, "accepted");  // the rest rests, with the order's terms
  EXPECT_EQ(ReportOf(*day)->leaves_qty.ToString(), "1");
  EXPECT_EQ(ReportOf(*day)->fills, 2);
  EXPECT_EQ(ReportOf(*day)->limit_price, book.asks[1].price);
  ASSERT_TRUE(day->rest);
  EXPECT_EQ(day->rest->fills, 2);
  EXPECT_EQ(day->rest->cum, two_levels);
  // A full resting book: the rest is cancelled instead, and said so.
  auto full = Execute(Order("o/full", Side::kBuy, two_levels + D("1"), book.asks[1].price, TimeInForce::kGtc), 2, m, 1,
                      2, /*room=*/0);
  ASSERT_TRUE(full);
  EXPECT_EQ(ReportOf(*full)->status, "cancelled");
  EXPECT_FALSE(full->rest);
  EXPECT_TRUE(full->rest_refused);
  auto last_room = Execute(Order("o/last", Side::kBuy, two_levels + D("1"), book.asks[1].price, TimeInForce::kGtc), 2,
                           m, 1, 2, /*room=*/1);
  ASSERT_TRUE(last_room);
  EXPECT_EQ(ReportOf(*last_room)->status, "accepted");  // one place left is enough for a rest
  // A market order never rests, whatever its time in force.
  auto market =
      Execute(Order("o/mkt", Side::kBuy, Depth(book.asks) + D("1"), std::nullopt, TimeInForce::kGtc), 2, m, 1, 2);
  ASSERT_TRUE(market);
  EXPECT_EQ(ReportOf(*market)->status, "cancelled");
  EXPECT_FALSE(market->rest || market->rest_refused);
}

TEST(Matching, TheMidWandersWithinItsBoundAndMovesSmoothly) {
  const Market still({.seed = 5, .walk_bps = 0});
  const Market walking({.seed = 5, .walk_bps = 100});
  const Decimal base = still.Mid("BTC", 1);
  EXPECT_EQ(still.Mid("BTC", 1), still.Mid("BTC", 5000));
  bool moved = false;
  Decimal previous = walking.Mid("BTC", 0);
  for (uint64_t q = 1; q < 5000; ++q) {
    const Decimal mid = walking.Mid("BTC", q);
    EXPECT_LE((mid - base).Abs().units() * 10'000, base.units() * 100 + 10'000) << q;  // within ±1 %
    EXPECT_LE((mid - previous).Abs().units() * 10'000, base.units() * 4) << q;         // ≤ 4 bps a step
    moved = moved || mid != previous;
    previous = mid;
  }
  EXPECT_TRUE(moved);
}

// Property tests: whatever the book and the order, the matching keeps its invariants.
TEST(Matching, PropertiesHoldForRandomBooksAndOrders) {
  std::mt19937_64 random(20261202);
  const TimeInForce tifs[] = {TimeInForce::kDay, TimeInForce::kGtc, TimeInForce::kIoc, TimeInForce::kFok};
  for (int round = 0; round < 3000; ++round) {
    MarketOptions options;
    options.seed = random();
    options.levels = 1 + static_cast<int>(random() % 8);
    options.spread_bps = static_cast<int64_t>(random() % 200);
    options.level_step_bps = static_cast<int64_t>(random() % 50);
    options.depth_qty = Decimal::FromUnits(static_cast<int64_t>(1 + random() % 100'000'000'000));  // up to 1000
    const Market m(options);
    const uint64_t sequence = random() % 1'000'000;
    const Book book = m.BookAt("SYM" + std::to_string(round % 7), sequence);
    const Side side = random() % 2 == 0 ? Side::kBuy : Side::kSell;
    const auto& levels = side == Side::kBuy ? book.asks : book.bids;
    const Decimal qty = Decimal::FromUnits(static_cast<int64_t>(1 + random() % 500'000'000'000));  // up to 5000
    std::optional<Decimal> limit;
    if (random() % 2 == 0 && !levels.empty()) limit = levels[random() % levels.size()].price;
    const TimeInForce tif = tifs[random() % 4];
    const std::string id = "o" + std::to_string(round);
    auto ex = Execute(Order(id, side, qty, limit, tif, "SYM" + std::to_string(round % 7)), sequence, m, 1, 2);
    ASSERT_TRUE(ex) << ex.error();
    const auto fills = FillsOf(*ex);
    Decimal cum;
    for (size_t i = 0; i < fills.size(); ++i) {
      const auto& f = fills[i];
      cum = cum + f.qty;
      EXPECT_EQ(f.fill_no, static_cast<int>(i + 1));
      EXPECT_GT(f.qty, Decimal());
      EXPECT_EQ(f.cum_qty, cum);  // quantity conserved across partial fills
      EXPECT_EQ(f.leaves_qty, qty - cum);
      EXPECT_EQ(f.status, f.leaves_qty == Decimal() ? "filled" : "partial");
      // A price of the book, on the side the order trades against, within its limit.
      EXPECT_TRUE(std::any_of(levels.begin(), levels.end(), [&](const Level& l) { return l.price == f.price; }));
      EXPECT_TRUE(!limit || (side == Side::kBuy ? f.price <= *limit : f.price >= *limit));
      EXPECT_TRUE(i == 0 || (side == Side::kBuy ? f.price > fills[i - 1].price : f.price < fills[i - 1].price));
      EXPECT_GE(f.avg_price, std::min(fills[0].price, f.price));
      EXPECT_LE(f.avg_price, std::max(fills[0].price, f.price));
    }
    EXPECT_LE(cum, qty);  // never more than ordered
    EXPECT_EQ(cum, ex->filled_qty);
    EXPECT_TRUE(tif != TimeInForce::kFok || cum == Decimal() || cum == qty);
    const auto report = ReportOf(*ex);
    EXPECT_EQ(report.has_value(), cum < qty);  // an end for what is left, and only then
    if (report) {
      EXPECT_EQ(report->filled_qty + report->leaves_qty, qty);
      const bool rests = limit && (tif == TimeInForce::kDay || tif == TimeInForce::kGtc);
      EXPECT_EQ(report->status, rests ? "accepted" : "cancelled");
      EXPECT_EQ(ex->rest.has_value(), rests);
      if (rests) {
        EXPECT_EQ(ex->rest->leaves(), report->leaves_qty);
      }
    }
  }
}

// Same seed and same order sequence: byte-identical events; another seed: different fills.
TEST(Matching, SameSeedAndOrderSequenceGiveByteIdenticalEvents) {
  auto run = [](uint64_t seed) {
    const Market m({.seed = seed, .levels = 4, .depth_qty = D("25")});
    std::mt19937_64 orders(7);  // the same order sequence every run
    std::string all;
    for (uint64_t sequence = 1; sequence <= 500; ++sequence) {
      const Side side = orders() % 2 == 0 ? Side::kBuy : Side::kSell;
      const Decimal qty = Decimal::FromUnits(static_cast<int64_t>(1 + orders() % 10'000'000'000));  // up to 100
      const std::string symbol = "S" + std::to_string(orders() % 3);
      const std::string id = "demo:" + std::to_string(sequence) + "/order";
      auto ex = Execute(Order(id, side, qty, std::nullopt, std::nullopt, symbol), sequence, m, 10, 20);
      if (!ex) return std::string("error: ") + ex.error();
      for (const auto& message : ex->messages)
        all += message.subject + " " + message.msg_id + " " + message.data + "\n";
    }
    return all;
  };
  const std::string first = run(42);
  EXPECT_EQ(first, run(42));
  EXPECT_NE(first, run(43));
  EXPECT_NE(first.find("\"status\":\"partial\""), std::string::npos) << "the sequence should walk levels";
}

TEST(Matching, ASeededShareOfOrdersIsRejectedByTheVenue) {
  MarketOptions options;
  options.seed = 9;
  options.reject_bps = 2'500;
  const Market m(options);
  int rejected = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = "demo:r" + std::to_string(i) + "/order";
    auto ex = Execute(Order(id, Side::kBuy, D("1")), static_cast<uint64_t>(i + 1), m, 1, 2);
    ASSERT_TRUE(ex);
    if (ex->status != "rejected") continue;
    ++rejected;
    EXPECT_TRUE(FillsOf(*ex).empty());
    ASSERT_EQ(ex->messages.size(), 1u);
    EXPECT_EQ(ReportOf(*ex)->leaves_qty.ToString(), "1");
    // The same order is rejected again on a redelivery: the decision is the order id's.
    EXPECT_EQ(Execute(Order(id, Side::kBuy, D("1")), static_cast<uint64_t>(i + 7), m, 1, 2)->status, "rejected");
  }
  EXPECT_GT(rejected, 400);  // 25 % of 2,000, give or take the hash
  EXPECT_LT(rejected, 600);
  auto none = Execute(Order("demo:r0/order", Side::kBuy, D("1")), 1, Market({.seed = 9}), 1, 2);
  EXPECT_EQ(none->status, "filled");
}

TEST(Matching, TheBookIsWrittenAsJson) {
  const Market m({.seed = 1, .levels = 2, .depth_qty = D("10")});
  const Book book = m.BookAt("BRK.B", 3);
  const std::string json = BookJson("BRK.B", 3, book);
  EXPECT_EQ(json.rfind(R"({"symbol":"BRK.B","sequence":3,"mid":")", 0), 0u) << json;
  EXPECT_NE(json.find(R"("asks":[{"price":")" + book.asks[0].price.ToString()), std::string::npos) << json;
  EXPECT_NE(json.find(R"("bids":[{"price":")" + book.bids[0].price.ToString()), std::string::npos) << json;
}

OrderState Ended(const char* status) {
  OrderState state;
  state.symbol = "X";
  state.status = status;
  return state;
}

TEST(OrderStatesTest, KeepsTheNewestAndForgetsTheOldestAtItsBound) {
  OrderStates states(2);
  states.Record("a", Ended("filled"));
  states.Record("b", Ended("cancelled"));
  states.Record("a", Ended("filled"));  // a repeat keeps its place
  states.Record("c", Ended("expired"));
  EXPECT_FALSE(states.Find("a"));
  EXPECT_EQ(states.Find("b")->status, "cancelled");
  EXPECT_EQ(states.Find("c")->status, "expired");
  EXPECT_EQ(OrderStates::ToJson("c", *states.Find("c")).rfind(R"({"order_id":"c","symbol":"X","side":"buy")", 0), 0u);
}

// Against a model (a map and a FIFO of ids), through thousands of inserts, repeats and evictions
// in a small table: its index is nearly always probing past other ids and shifting them back.
TEST(OrderStatesTest, BehavesAsTheModelThroughEvictionsAndRepeats) {
  constexpr size_t kCapacity = 7;
  OrderStates states(kCapacity);
  std::map<std::string, std::string> model;  // id -> status
  std::deque<std::string> fifo;              // ids, oldest first
  std::mt19937 rng(12);
  for (int i = 0; i < 5000; ++i) {
    const std::string id = "o" + std::to_string(rng() % 40);
    const std::string status = "s" + std::to_string(i);
    states.Record(id, Ended(status.c_str()));
    if (!model.contains(id)) {
      fifo.push_back(id);
      if (fifo.size() > kCapacity) {
        model.erase(fifo.front());
        fifo.pop_front();
      }
    }
    model[id] = status;
    for (int k = 0; k < 40; ++k) {
      const std::string probe = "o" + std::to_string(k);
      const auto found = states.Find(probe);
      const auto expected = model.find(probe);
      ASSERT_EQ(found.has_value(), expected != model.end()) << "step " << i << " id " << probe;
      if (found) {
        ASSERT_EQ(found->status, expected->second) << "step " << i << " id " << probe;
      }
    }
  }
}

}  // namespace
}  // namespace tradepipe::execsim
