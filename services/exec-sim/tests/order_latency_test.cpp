// The venue's order latency against a real nats-server (started per test, ephemeral port,
// temporary directory): orders wait out the latency together, in order, unacknowledged, and go
// back at once when exec-sim stops with some still waiting.
#include "order_latency.hpp"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <mutex>
#include <thread>

#include "nats_server.hpp"
#include "tradepipe/common/clock.hpp"

namespace tradepipe::execsim {
namespace {

std::unique_ptr<bus::Bus> Connect(const testing::NatsServer& server) {
  auto bus = bus::Bus::Connect({.url = server.url(), .name = "order-latency-test", .connect_timeout_ms = 5000});
  if (!bus) throw std::runtime_error(bus.error());
  if (auto s = (*bus)->Provision(bus::DefaultTopology()); !s) throw std::runtime_error(s.error());
  return std::move(*bus);
}

void PublishOrders(bus::Bus& bus, int n) {
  std::vector<bus::OutgoingMessage> out;
  for (int i = 0; i < n; ++i) out.push_back({"orders.new.LAT", "lat" + std::to_string(i), std::to_string(i)});
  ASSERT_TRUE(bus::PublishAll(*bus.NewBatchPublisher(), out).ok());
}

std::unique_ptr<bus::Consumer> OrderConsumer(bus::Bus& bus) {
  auto consumer = bus.Subscribe(bus::DefaultTopology().Consumer("exec-sim-orders"));
  if (!consumer) throw std::runtime_error(consumer.error());
  return std::move(*consumer);
}

class OrderLatencyTest : public ::testing::Test {
 protected:
  testing::NatsServer server_;
  std::unique_ptr<bus::Bus> bus_ = Connect(server_);
  prometheus::Registry registry_;
  prometheus::Gauge& in_transit_ = prometheus::BuildGauge().Name("in_transit").Register(registry_).Add({});
};

// 40 orders with 300 ms each: handed over no sooner than 300 ms after their fetch, in the order
// published, and all within about one latency (a sleep per order would take 12 s).
TEST_F(OrderLatencyTest, OrdersWaitOutTheLatencyTogetherAndInOrder) {
  constexpr int kOrders = 40;
  constexpr int64_t kLatencyMs = 300;
  PublishOrders(*bus_, kOrders);
  std::mutex mu;
  std::vector<std::string> seen;
  std::vector<int64_t> waited_ms;
  double held_at_most = 0;
  const int64_t start = WallNanos();
  auto delayed =
      std::make_unique<LatencyConsumer>(OrderConsumer(*bus_), std::chrono::milliseconds(kLatencyMs), 1000, in_transit_);
  bus::ConsumerLoop loop(std::move(delayed), "exec-sim-orders", 8, [&](std::vector<bus::Message>& batch) -> Status {
    std::lock_guard lock(mu);
    for (auto& m : batch) {
      seen.emplace_back(m.data());
      waited_ms.push_back((WallNanos() - m.received_ns()) / 1'000'000);
      EXPECT_EQ(m.num_delivered(), 1u);
      EXPECT_TRUE(m.Ack().ok());
    }
    held_at_most = std::max(held_at_most, in_transit_.Value());
    return {};
  });
  for (int i = 0; i < 300; ++i) {
    {
      std::lock_guard lock(mu);
      if (seen.size() == kOrders) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int64_t elapsed_ms = (WallNanos() - start) / 1'000'000;
  loop.Stop();
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), static_cast<size_t>(kOrders));
  for (int i = 0; i < kOrders; ++i) EXPECT_EQ(seen[i], std::to_string(i));
  for (int64_t w : waited_ms) EXPECT_GE(w, kLatencyMs);
  EXPECT_LT(elapsed_ms, 2'500) << "the orders waited one after another";
  EXPECT_GT(held_at_most, 8) << "more orders were in transit than one batch";
  EXPECT_EQ(in_transit_.Value(), 0);
}

// Stopped with orders still waiting: none was acked, and the next consumer gets them at once (the
// ack wait is 30 s) as their second delivery.
TEST_F(OrderLatencyTest, OrdersStillInTransitGoBackAtOnceWhenItStops) {
  PublishOrders(*bus_, 5);
  {
    LatencyConsumer delayed(OrderConsumer(*bus_), std::chrono::milliseconds(10'000), 1000, in_transit_);
    auto none = delayed.Fetch(10, 300);
    ASSERT_TRUE(none) << none.error();
    EXPECT_TRUE(none->empty()) << "handed over before its latency";
    EXPECT_EQ(in_transit_.Value(), 5);
  }
  auto again = OrderConsumer(*bus_);
  auto batch = again->Fetch(10, 1000);
  ASSERT_TRUE(batch) << batch.error();
  ASSERT_EQ(batch->size(), 5u);
  for (auto& m : *batch) {
    EXPECT_EQ(m.num_delivered(), 2u);
    EXPECT_TRUE(m.Ack().ok());
  }
}

// At its bound nothing more is fetched: the rest stays in the stream until places free.
TEST_F(OrderLatencyTest, HoldsNoMoreThanItsBound) {
  PublishOrders(*bus_, 30);
  LatencyConsumer delayed(OrderConsumer(*bus_), std::chrono::milliseconds(200), 10, in_transit_);
  size_t got = 0;
  for (int i = 0; i < 50 && got < 30; ++i) {
    auto batch = delayed.Fetch(100, 100);
    ASSERT_TRUE(batch) << batch.error();
    EXPECT_LE(in_transit_.Value(), 10);
    EXPECT_LE(batch->size(), 10u);
    for (auto& m : *batch) EXPECT_TRUE(m.Ack().ok());
    got += batch->size();
  }
  EXPECT_EQ(got, 30u);
}

}  // namespace
}  // namespace tradepipe::execsim
