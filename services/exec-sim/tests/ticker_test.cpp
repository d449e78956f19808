// The ticker's publish-then-apply rule, with a fake bus (the publish outcome is the only input):
// a tick whose publish fails leaves the book as it was, and the next wake publishes the very same
// events again before any later tick is computed; a cancel between ticks. The real bus is exercised
// by e2e_resting_orders.
#include "ticker.hpp"

#include <gtest/gtest.h>

namespace tradepipe::execsim {
namespace {

using events::Decimal;
using events::Side;

struct FakeStream {
  int failures_left = 0;
  std::vector<bus::OutgoingMessage> stored;
  std::vector<std::string> attempts;  // every msg id offered, in order
};

// Stores what is added, or fails it while the stream has failures left.
class FakePublisher final : public bus::BatchPublisher {
 public:
  explicit FakePublisher(FakeStream& stream) : stream_(stream) {}
  void Add(const bus::OutgoingMessage& message) override {
    stream_.attempts.push_back(message.msg_id);
    if (stream_.failures_left > 0) {
      --stream_.failures_left;
      failed_ = true;
      return;
    }
    stream_.stored.push_back(message);
  }
  Status Wait() override { return std::exchange(failed_, false) ? Status::Error("fake: no PubAck") : Status(); }

 private:
  FakeStream& stream_;
  bool failed_ = false;
};

class FakeBus final : public bus::Bus {
 public:
  FakeStream stream;

  std::unique_ptr<bus::BatchPublisher> NewBatchPublisher() override { return std::make_unique<FakePublisher>(stream); }
  void PublishAsync(std::string_view, std::string_view, std::string_view, int64_t, bus::PublishCallback done) override {
    done(Result<bus::PublishAck>::Error("fake"));
  }
  Status Provision(const bus::Topology&) override { return Status::Error("fake"); }
  Result<bus::StreamUsage> DescribeStream(const std::string&) override {
    return Result<bus::StreamUsage>::Error("fake");
  }
  Result<int64_t> WaitingPulls(const std::string&, const std::string&) override { return int64_t{0}; }
  Result<bus::ConsumerSpec> DescribeConsumer(const std::string&, const std::string&) override {
    return Result<bus::ConsumerSpec>::Error("fake");
  }
  Result<bus::PublishAck> Publish(std::string_view, std::string_view, std::string_view) override {
    return Result<bus::PublishAck>::Error("fake");
  }
  Result<std::unique_ptr<bus::Consumer>> Subscribe(const bus::ConsumerSpec&) override {
    return Result<std::unique_ptr<bus::Consumer>>::Error("fake");
  }
  Result<bus::StoredMessage> GetMessage(const std::string&, uint64_t) override {
    return Result<bus::StoredMessage>::Error("fake");
  }
  Result<uint64_t> ReadStream(const std::string&, const std::string&, bool,
                              const std::function<void(const bus::StreamEntry&)>&) override {
    return Result<uint64_t>::Error("fake");
  }
  bool Connected() const override { return true; }
  std::string NotReadyReason() const override { return {}; }
};

TEST(Ticker, AFailedPublishLeavesTheBookAndTheSameEventsArePublishedNext) {
  const Market market({.seed = 4, .levels = 2, .depth_qty = *Decimal::Parse("1")});
  FakeBus bus;
  RestingBook book(10);
  OrderStates states(10);
  metrics::Metrics metrics;
  Ticker ticker(bus, market, book, states, metrics, {});

  RestingOrder order;
  order.parent.type = events::kTypeOrder;
  order.parent.id = "demo:t/order";
  order.parent.correlation_id = "demo:t";
  order.parent.source = "demo";
  order.parent.symbol = "AAPL";
  order.side = Side::kBuy;
  order.qty = *Decimal::Parse("1000");  // more than any tick's depth: it keeps resting
  order.limit = market.TickBookAt("AAPL", 10).asks[0].price + Decimal::FromInteger(1000);  // every tick crosses
  order.time_in_force = events::TimeInForce::kGtc;
  book.Add(order.parent.id, order);

  bus.stream.failures_left = 1;
  EXPECT_FALSE(ticker.RunTick(10, 1'000));
  EXPECT_TRUE(bus.stream.stored.empty());
  EXPECT_EQ(book.Find(order.parent.id)->fills, 0);  // not applied
  const std::vector<std::string> first = bus.stream.attempts;
  ASSERT_EQ(first, std::vector<std::string>{"demo:t/order/fill/1"});

  // The next wake names another tick: the stored events are still tick 10's.
  EXPECT_TRUE(ticker.RunTick(11, 2'000));
  ASSERT_EQ(bus.stream.stored.size(), 1u);
  EXPECT_EQ(bus.stream.stored[0].msg_id, "demo:t/order/fill/1");
  auto fill = events::ParseEnvelope(bus.stream.stored[0].data);
  ASSERT_TRUE(fill);
  EXPECT_EQ(fill->StampOf("tick"), 1'000);  // tick 10's events, not 11's
  const auto after = book.Find(order.parent.id);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->fills, 1);
  EXPECT_EQ(after->cum, market.TickBookAt("AAPL", 10, Side::kBuy).asks[0].qty +
                            market.TickBookAt("AAPL", 10, Side::kBuy).asks[1].qty);
  EXPECT_EQ(states.Find(order.parent.id)->status, "partial");

  // Then the ticks go on from the applied state, each once.
  EXPECT_TRUE(ticker.RunTick(11, 2'000));
  ASSERT_EQ(bus.stream.stored.size(), 2u);
  EXPECT_EQ(bus.stream.stored[1].msg_id, "demo:t/order/fill/2");
  EXPECT_TRUE(ticker.RunTick(11, 2'000));
  EXPECT_TRUE(ticker.RunTick(9, 500));
  EXPECT_EQ(bus.stream.stored.size(), 2u);
  EXPECT_EQ(book.Find(order.parent.id)->fills, 2);
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("tradepipe_execsim_tick_publish_failures_total 1"), std::string::npos);
  EXPECT_NE(text.find("tradepipe_execsim_resting_fills_total 2"), std::string::npos);
}

// A GTC buy of 1000 that every tick crosses (more than any tick's depth: it keeps resting).
RestingOrder CrossedBuy(const Market& market, const std::string& id) {
  RestingOrder order;
  order.parent.type = events::kTypeOrder;
  order.parent.id = id;
  order.parent.correlation_id = "demo:c";
  order.parent.source = "demo";
  order.parent.symbol = "AAPL";
  order.side = Side::kBuy;
  order.qty = *Decimal::Parse("1000");
  order.limit = market.TickBookAt("AAPL", 10).asks[0].price + Decimal::FromInteger(1000);
  order.time_in_force = events::TimeInForce::kGtc;
  return order;
}

events::ExecReportPayload ReportIn(const bus::OutgoingMessage& m) {
  auto e = events::ParseEnvelope(m.data);
  EXPECT_TRUE(e) << m.data;
  return *events::ParseExecReportPayload(e->payload);
}

// A cancel ends a resting order between two ticks: its report 2 `cancelled` with what it executed,
// an entry's exits placed for that, the book and /orders moved on, and no tick touches it after.
// A request for an order resting no more changes nothing.
TEST(Ticker, ACancelEndsARestingOrderBetweenTicks) {
  const Market market({.seed = 4, .levels = 2, .depth_qty = *Decimal::Parse("1")});
  FakeBus bus;
  RestingBook book(10);
  OrderStates states(10);
  metrics::Metrics metrics;
  Ticker ticker(bus, market, book, states, metrics, {});
  RestingOrder order = CrossedBuy(market, "demo:c/order");
  order.take_profit = order.limit + Decimal::FromInteger(50);
  book.Add(order.parent.id, order);
  ASSERT_TRUE(ticker.RunTick(10, 1'000));
  const Decimal executed = book.Find(order.parent.id)->cum;
  ASSERT_GT(executed, Decimal());

  auto cancelled = ticker.Cancel({"demo:c/order", "demo:unknown/order", "demo:c/order"});
  ASSERT_TRUE(cancelled) << cancelled.error();
  EXPECT_EQ(*cancelled, 1u);
  ASSERT_EQ(bus.stream.stored.size(), 3u);  // tick 10's fill, the cancel, the take-profit's acceptance
  EXPECT_EQ(bus.stream.stored[1].msg_id, "demo:c/order/report/2");
  const auto report = ReportIn(bus.stream.stored[1]);
  EXPECT_EQ(report.status, "cancelled");
  EXPECT_EQ(report.filled_qty, executed);
  EXPECT_EQ(report.leaves_qty, order.qty - executed);
  EXPECT_EQ(bus.stream.stored[2].msg_id, "demo:c/order/tp/report/1");
  EXPECT_EQ(*ReportIn(bus.stream.stored[2]).qty, executed);  // the exit protects what executed
  EXPECT_FALSE(book.Find("demo:c/order"));
  EXPECT_TRUE(book.Find("demo:c/order/tp"));
  EXPECT_EQ(states.Find("demo:c/order")->status, "cancelled");

  const size_t before = bus.stream.stored.size();
  ASSERT_TRUE(ticker.RunTick(11, 2'000));
  for (size_t i = before; i < bus.stream.stored.size(); ++i) {
    EXPECT_EQ(bus.stream.stored[i].msg_id.rfind("demo:c/order/tp", 0), 0u) << bus.stream.stored[i].msg_id;
  }
  auto again = ticker.Cancel({"demo:c/order"});
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
  EXPECT_NE(metrics.Render().find("tradepipe_execsim_resting_cancelled_total 1"), std::string::npos);
}

// Nothing changes while a tick's events are unstored, or when the cancel's own publish fails: the
// caller tries again, and the report then carries the tick's fill.
TEST(Ticker, ACancelWaitsForAStoredTickAndAFailedPublishChangesNothing) {
  const Market market({.seed = 4, .levels = 2, .depth_qty = *Decimal::Parse("1")});
  FakeBus bus;
  RestingBook book(10);
  OrderStates states(10);
  metrics::Metrics metrics;
  Ticker ticker(bus, market, book, states, metrics, {});
  book.Add("demo:w/order", CrossedBuy(market, "demo:w/order"));

  bus.stream.failures_left = 1;
  ASSERT_FALSE(ticker.RunTick(10, 1'000));
  EXPECT_FALSE(ticker.Cancel({"demo:w/order"}));
  EXPECT_EQ(bus.stream.attempts.size(), 1u);  // the cancel published nothing

  ASSERT_TRUE(ticker.RunTick(11, 2'000));  // tick 10's fill stored
  bus.stream.failures_left = 1;
  EXPECT_FALSE(ticker.Cancel({"demo:w/order"}));
  EXPECT_TRUE(book.Find("demo:w/order"));
  auto cancelled = ticker.Cancel({"demo:w/order"});
  ASSERT_TRUE(cancelled) << cancelled.error();
  EXPECT_EQ(*cancelled, 1u);
  ASSERT_EQ(bus.stream.stored.size(), 2u);
  EXPECT_EQ(bus.stream.stored[1].msg_id, "demo:w/order/report/2");
  EXPECT_GT(ReportIn(bus.stream.stored[1]).filled_qty, Decimal());
  EXPECT_FALSE(book.Find("demo:w/order"));
}

}  // namespace
}  // namespace tradepipe::execsim
