// Positions snapshots as pure logic: the JSON kept in AGENT_STATE, the coverage rule that decides
// whether a start can prove its positions, and what a restored account does with the fills it
// already holds.
#include "snapshot.hpp"

#include <gtest/gtest.h>

namespace tradepipe::agent {
namespace {

using events::Decimal;
using events::Side;

Decimal D(const char* text) { return *Decimal::Parse(text); }

PositionsSnapshot Sample() {
  PositionsSnapshot s;
  s.account.symbols["AAPL"] = {D("12.5"), D("0"), D("101.25"), D("-3.75"), D("99.5")};
  s.account.symbols[R"(X","Y":"9)"] = {D("-0.00001"), D("0"), D("7"), D("0"), D("7")};
  s.account.realised_pnl = D("-3.75");
  s.account.day = 20'000;
  s.account.realised_day = D("-1.5");
  s.account.executions_through = 42;
  s.executions_created_ns = 1'700'000'000'123'456'789;
  s.taken_ns = 1'700'000'100'000'000'000;
  s.trading_state = TradingState::kReducing;
  return s;
}

TEST(Snapshot, JsonRoundTripsExactly) {
  const PositionsSnapshot s = Sample();
  const std::string json = SnapshotToJson(s);
  auto back = ParseSnapshot(json);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->account.executions_through, 42u);
  EXPECT_EQ(back->executions_created_ns, s.executions_created_ns);
  EXPECT_EQ(back->taken_ns, s.taken_ns);
  EXPECT_EQ(back->trading_state, TradingState::kReducing);
  EXPECT_EQ(back->account.realised_pnl, D("-3.75"));
  EXPECT_EQ(back->account.day, 20'000);
  EXPECT_EQ(back->account.realised_day, D("-1.5"));
  ASSERT_EQ(back->account.symbols.size(), 2u);
  const SymbolPosition& odd = back->account.symbols.at(R"(X","Y":"9)");  // escaped by the writer
  EXPECT_EQ(odd.qty, D("-0.00001"));
  EXPECT_EQ(back->account.symbols.at("AAPL").avg_price, D("101.25"));
  EXPECT_EQ(back->account.symbols.at("AAPL").last_price, D("99.5"));
  EXPECT_EQ(SnapshotToJson(*back), json);
}

TEST(Snapshot, UnusableSnapshotsAreRefusedWithTheReason) {
  struct Case {
    const char* json;
    const char* says;
  };
  for (const Case& c : {
           Case{"{", "key"},
           Case{R"({"version":2,"executions_through":1})", "version 2"},
           Case{R"({"version":1})", "executions_through"},
           Case{R"({"version":1,"executions_through":1,"trading_state":"paused"})", "paused"},
           Case{R"({"version":1,"executions_through":1,"symbols":{"A":{"qty":"1e400"}}})", "qty"},
           Case{R"({"version":1,"executions_through":1,"symbols":{"A":{"size":"1"}}})", "size"},
       }) {
    auto parsed = ParseSnapshot(c.json);
    ASSERT_FALSE(parsed) << c.json;
    EXPECT_NE(parsed.error().find(c.says), std::string::npos) << c.json << " -> " << parsed.error();
  }
}

constexpr int64_t kMade = 77;  // when the EXECUTIONS of these cases was made

TEST(Snapshot, CoverageIsProvenOnlyWhenNoFillIsMissing) {
  auto stream = [](uint64_t first, uint64_t last, int64_t made = kMade) {
    bus::StreamUsage u;
    u.first_seq = first;
    u.last_seq = last;
    u.created_ns = made;
    return u;
  };
  auto through = [](uint64_t seq, int64_t made = kMade) {
    PositionsSnapshot s;
    s.account.executions_through = seq;
    s.executions_created_ns = made;
    return std::optional<PositionsSnapshot>(s);
  };
  const std::optional<PositionsSnapshot> none;
  struct Case {
    const char* what;
    std::optional<PositionsSnapshot> snapshot;
    bus::StreamUsage executions;
    bool proven;
  };
  for (const Case& c : {
           Case{"a stream that never held a fill", none, stream(0, 0), true},
           Case{"a stream holding everything", none, stream(1, 500), true},
           Case{"the start of the stream is gone, no snapshot", none, stream(2, 500), false},
           Case{"the snapshot ends where the stream starts", through(99), stream(100, 500), true},
           Case{"the snapshot ends inside the stream", through(300), stream(100, 500), true},
           Case{"one event between the snapshot and the stream", through(98), stream(100, 500), false},
           Case{"every event gone, all in the snapshot", through(500), stream(501, 500), true},
           Case{"every event gone, the last ones not in the snapshot", through(499), stream(501, 500), false},
           Case{"the snapshot is of another stream", through(10, 1), stream(1, 500), false},
           Case{"the snapshot goes beyond the stream", through(600), stream(1, 500), false},
       }) {
    EXPECT_EQ(CheckCoverage(c.snapshot, c.executions).ok(), c.proven) << c.what;
  }
  const Status gap = CheckCoverage(through(98), stream(100, 500));
  EXPECT_NE(gap.error().find("EXECUTIONS starts at sequence 100"), std::string::npos) << gap.error();
  EXPECT_NE(gap.error().find("covers up to 98"), std::string::npos) << gap.error();
}

TEST(Snapshot, ARestoredAccountHoldsTheFillsItCoversOnce) {
  Positions before;
  ASSERT_EQ(before.Apply("f1", "o1", "BTC", Side::kBuy, D("2"), D("100"), 1, 1), ApplyOutcome::kApplied);
  ASSERT_EQ(before.Apply("f2", "o2", "BTC", Side::kSell, D("0.5"), D("120"), 2, 2), ApplyOutcome::kApplied);
  before.Saw(3);  // a report
  const AccountState kept = *before.ExportAccount();
  EXPECT_EQ(kept.executions_through, 3u);

  Positions after;
  after.RestoreAccount(kept);
  EXPECT_TRUE(after.OpenOrder("o3", "BTC", Side::kBuy, D("5")));
  // A fill the snapshot covers (read again from the stream, or redelivered): registered, not applied,
  // and still taken from its open order.
  EXPECT_EQ(after.Apply("f3", "o3", "BTC", Side::kBuy, D("1"), D("90"), 3, 3), ApplyOutcome::kDuplicate);
  EXPECT_EQ(after.Of("BTC"), D("1.5"));
  EXPECT_EQ(after.View("BTC", 0).symbol.open_qty, D("4"));
  EXPECT_EQ(after.Apply("f3", "o3", "BTC", Side::kBuy, D("1"), D("90"), 3, 3), ApplyOutcome::kDuplicate);
  // After it: applied.
  EXPECT_EQ(after.Apply("f4", "o3", "BTC", Side::kBuy, D("1"), D("90"), 4, 4), ApplyOutcome::kApplied);
  EXPECT_EQ(after.Of("BTC"), D("2.5"));
  EXPECT_EQ(after.View("BTC", 0).symbol.open_qty, D("3"));
  EXPECT_EQ(after.View("BTC", 0).realised_pnl, D("10"));
  EXPECT_EQ(after.executions_through(), 4u);
}

// After a reconnect the deliveries that were in flight come back only after the ack wait, while
// newer fills are applied at once: no snapshot may claim the missing ones.
TEST(Snapshot, NoSnapshotWhileAnExecutionEventBelowAHandledOneIsMissing) {
  Positions p;
  ASSERT_EQ(p.Apply("f1", "", "BTC", Side::kBuy, D("1"), D("100"), 1, 1), ApplyOutcome::kApplied);
  ASSERT_EQ(p.Apply("f3", "", "BTC", Side::kBuy, D("1"), D("100"), 3, 3), ApplyOutcome::kApplied);
  p.Saw(5);
  EXPECT_EQ(p.executions_through(), 1u);
  EXPECT_FALSE(p.ExportAccount()) << "a snapshot now would claim fill 2 without holding it";
  ASSERT_EQ(p.Apply("f2", "", "BTC", Side::kBuy, D("1"), D("100"), 2, 2), ApplyOutcome::kApplied);
  EXPECT_EQ(p.executions_through(), 3u);
  EXPECT_FALSE(p.ExportAccount());
  p.Saw(4);  // an unusable event, terminated: done with too
  ASSERT_TRUE(p.ExportAccount());
  EXPECT_EQ(p.ExportAccount()->executions_through, 5u);
  EXPECT_EQ(p.ExportAccount()->symbols.at("BTC").qty, D("3"));
  // A repeat below the mark changes nothing; what age removed is not waited for.
  EXPECT_EQ(p.Apply("f2", "", "BTC", Side::kBuy, D("1"), D("100"), 2, 2), ApplyOutcome::kDuplicate);
  p.Saw(9);
  EXPECT_FALSE(p.ExportAccount());
  p.GoneBefore(9);
  EXPECT_EQ(p.executions_through(), 9u);
  EXPECT_TRUE(p.ExportAccount());
}

}  // namespace
}  // namespace tradepipe::agent
