// Ack-all consumers against a real nats-server: why they ack through bus::AckGate, that the gate
// loses nothing a dead incarnation left pending, and the migration from an explicit-ack durable.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "cnats_stream.hpp"
#include "nats_server.hpp"
#include "tradepipe/bus/bus.hpp"

namespace tradepipe::bus {
namespace {

const char* kAckAll = R"({
  "streams": [{"name": "T", "subjects": ["t.>"], "retention": "interest", "max_age_s": 60, "max_bytes": 10000000,
               "duplicate_window_s": 60}],
  "consumers": [{"stream": "T", "durable": "batched", "filter": "t.>", "max_ack_pending": 1000, "ack_wait_s": 1,
                 "max_deliver": 20, "ack": "all"}]
})";

class AckAllTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto connected = Bus::Connect({.url = server_.url(), .name = "ack-all-test", .connect_timeout_ms = 5000});
    ASSERT_TRUE(connected) << connected.error();
    bus_ = std::move(*connected);
  }

  void Provision(const char* json) {
    auto topology = ParseTopology(json);
    ASSERT_TRUE(topology) << topology.error();
    topology_ = *topology;
    auto ok = bus_->Provision(topology_);
    ASSERT_TRUE(ok) << ok.error();
  }

  void PublishN(int n) {
    for (int i = 1; i <= n; ++i) ASSERT_TRUE(bus_->Publish("t.x", "m" + std::to_string(i), "payload"));
  }

  // The consumer's unacknowledged deliveries, as the server counts them (by stream message).
  uint64_t AckPending(const std::string& durable) { return testing::AckPending(server_.url(), "T", durable); }

  // Acks travel asynchronously: the server's count, once it reaches `expected` or after 5 s.
  uint64_t AckPendingSettlesAt(const std::string& durable, uint64_t expected) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (AckPending(durable) != expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return AckPending(durable);
  }

  std::vector<Message> FetchAtLeast(Consumer& c, size_t n) {
    std::vector<Message> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      auto got = c.Fetch(static_cast<int>(n - out.size()), 500);
      if (!got) continue;
      for (auto& m : *got) out.push_back(std::move(m));
    }
    return out;
  }

  // An incarnation of the consumer takes `n` deliveries and ends without acking them (as kill -9).
  void DieWithDeliveriesInHand(size_t n) {
    auto dead = bus_->Subscribe(topology_.Consumer("batched"));
    ASSERT_TRUE(dead);
    ASSERT_EQ(FetchAtLeast(**dead, n).size(), n);
  }

  testing::NatsServer server_;
  std::unique_ptr<Bus> bus_;
  Topology topology_;
};

std::vector<Message*> Pointers(std::vector<Message>& batch) {
  std::vector<Message*> out;
  for (auto& m : batch) out.push_back(&m);
  return out;
}

TEST_F(AckAllTest, OneAckOfALaterMessageAcknowledgesDeliveriesNobodyHandled) {
  // The server's rule, which the gate exists for: an incarnation that dies with 10 deliveries in
  // hand leaves them pending; a plain ack of the next one's last message drops them unseen.
  Provision(kAckAll);
  PublishN(20);
  DieWithDeliveriesInHand(10);
  auto next = bus_->Subscribe(topology_.Consumer("batched"));
  ASSERT_TRUE(next);
  auto batch = FetchAtLeast(**next, 10);
  ASSERT_EQ(batch.size(), 10u);
  EXPECT_EQ(batch.front().stream_sequence(), 11u);
  EXPECT_EQ(AckPending("batched"), 20u);
  ASSERT_TRUE(batch.back().Ack());
  EXPECT_EQ(AckPendingSettlesAt("batched", 0), 0u);  // 1..10 acknowledged, never handled
}

TEST_F(AckAllTest, TheGateHoldsAcksUntilWhatADeadIncarnationLeftIsHandled) {
  Provision(kAckAll);
  PublishN(20);
  DieWithDeliveriesInHand(10);
  auto consumer = bus_->Subscribe(topology_.Consumer("batched"));
  ASSERT_TRUE(consumer);
  std::set<uint64_t> handled;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool first = true;
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = (*consumer)->Fetch(100, 300);
    ASSERT_TRUE(got) << got.error();
    if (got->empty()) {
      if (AckPending("batched") == 0) break;
      continue;
    }
    for (auto& m : *got) handled.insert(m.stream_sequence());
    ASSERT_TRUE(AckHandled(Pointers(*got)));
    if (first) {  // 11..20, with 1..10 pending elsewhere: no ack may go out
      first = false;
      EXPECT_EQ((*consumer)->acks_deferred(), 1u);
      EXPECT_EQ(AckPending("batched"), 20u);
    }
  }
  EXPECT_EQ(AckPending("batched"), 0u);
  std::set<uint64_t> all;
  for (uint64_t i = 1; i <= 20; ++i) all.insert(i);
  EXPECT_EQ(handled, all);  // every message handled before the acks covered it
  // Proven now: the next batch is acked at once, with one ack.
  PublishN(25);  // ids m1..m20 are duplicates (dropped), m21..m25 new
  auto more = FetchAtLeast(**consumer, 5);
  ASSERT_EQ(more.size(), 5u);
  const uint64_t deferred = (*consumer)->acks_deferred();
  ASSERT_TRUE(AckHandled(Pointers(more)));
  EXPECT_EQ((*consumer)->acks_deferred(), deferred);
  EXPECT_EQ(AckPendingSettlesAt("batched", 0), 0u);
}

TEST_F(AckAllTest, NothingPendingAtTheStartAcksTheFirstBatchAtOnce) {
  Provision(kAckAll);
  PublishN(8);
  auto consumer = bus_->Subscribe(topology_.Consumer("batched"));
  ASSERT_TRUE(consumer);
  auto batch = FetchAtLeast(**consumer, 8);
  ASSERT_EQ(batch.size(), 8u);
  ASSERT_TRUE(AckHandled(Pointers(batch)));
  EXPECT_EQ((*consumer)->acks_deferred(), 0u);
  EXPECT_EQ(AckPendingSettlesAt("batched", 0), 0u);
}

TEST_F(AckAllTest, ADurableReplacingAnExplicitOneStartsAfterItsAckFloorAndInterestNeverLapses) {
  Provision(R"({
    "streams": [{"name": "T", "subjects": ["t.>"], "retention": "interest", "max_age_s": 60, "max_bytes": 10000000,
                 "duplicate_window_s": 60}],
    "consumers": [{"stream": "T", "durable": "reader", "filter": "t.>", "max_ack_pending": 1000, "ack_wait_s": 30,
                   "max_deliver": 5}]
  })");
  PublishN(10);
  {
    auto old = bus_->Subscribe(topology_.Consumer("reader"));
    ASSERT_TRUE(old);
    auto batch = FetchAtLeast(**old, 4);
    ASSERT_EQ(batch.size(), 4u);
    for (auto& m : batch) ASSERT_TRUE(m.Ack());
  }
  const auto floor_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (bus_->DescribeStream("T")->messages != 6 && std::chrono::steady_clock::now() < floor_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(bus_->DescribeStream("T")->messages, 6u);  // interest: acked ones are gone

  const char* replacing = R"({
    "streams": [{"name": "T", "subjects": ["t.>"], "retention": "interest", "max_age_s": 60, "max_bytes": 10000000,
                 "duplicate_window_s": 60}],
    "consumers": [{"stream": "T", "durable": "reader-batched", "filter": "t.>", "max_ack_pending": 1000,
                   "ack_wait_s": 30, "max_deliver": 5, "ack": "all", "replaces": "reader"}]
  })";
  Provision(replacing);
  Provision(replacing);                                 // again, as every service does at its start: nothing changes
  EXPECT_FALSE(bus_->DescribeConsumer("T", "reader"));  // the old durable is gone
  auto described = bus_->DescribeConsumer("T", "reader-batched");
  ASSERT_TRUE(described) << described.error();
  EXPECT_EQ(described->ack, AckPolicy::kAll);
  EXPECT_EQ(bus_->DescribeStream("T")->messages, 6u);  // nothing unread was dropped

  auto consumer = bus_->Subscribe(topology_.Consumer("reader-batched"));
  ASSERT_TRUE(consumer);
  auto rest = FetchAtLeast(**consumer, 6);
  ASSERT_EQ(rest.size(), 6u);
  EXPECT_EQ(rest.front().stream_sequence(), 5u);
  EXPECT_EQ(rest.back().stream_sequence(), 10u);
}

}  // namespace
}  // namespace tradepipe::bus
