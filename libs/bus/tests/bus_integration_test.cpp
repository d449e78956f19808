// Against a real nats-server (started per test, ephemeral port, temporary directory).
#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "nats_server.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/bus/seen_ids.hpp"

namespace tradepipe::bus {
namespace {

const char* kTopology = R"({
  "streams": [{"name": "T", "subjects": ["t.>"], "max_age_s": 60, "max_bytes": 10000000, "duplicate_window_s": 60}],
  "consumers": [{"stream": "T", "durable": "reader", "filter": "t.>", "max_ack_pending": 1000, "ack_wait_s": 1, "max_deliver": 5}]
})";

// Publishes `payload` (ids m0, m1, ...) until the stream refuses one or `limit` were accepted:
// {how many were accepted, the refusal (empty if none)}.
std::pair<int, std::string> PublishUntilRefused(Bus& bus, const std::string& subject, const std::string& payload,
                                                int limit) {
  int accepted = 0;
  for (int i = 0; i < limit; ++i) {
    auto ack = bus.Publish(subject, "m" + std::to_string(i), payload);
    if (!ack) return {accepted, ack.error()};
    ++accepted;
  }
  return {accepted, {}};
}

class BusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto connected = Bus::Connect({.url = server_.url(), .name = "bus-test", .connect_timeout_ms = 5000});
    ASSERT_TRUE(connected) << connected.error();
    bus_ = std::move(*connected);
    topology_ = *ParseTopology(kTopology);
    ASSERT_TRUE(bus_->Provision(topology_).ok());
  }

  testing::NatsServer server_;
  std::unique_ptr<Bus> bus_;
  Topology topology_;
};

TEST_F(BusTest, ProvisionIsIdempotent) {
  EXPECT_TRUE(bus_->Provision(topology_).ok());
  EXPECT_TRUE(bus_->Provision(topology_).ok());
  EXPECT_TRUE(bus_->NotReadyReason().empty());
}

// cnats posts the disconnect of our own close to its callback thread; logged after the bus is gone
// it ran during static destruction once the service's main had returned (a crash at exit). The
// default logger writes to the console: what it prints is captured.
TEST_F(BusTest, ClosingTheBusLeavesNoCallbackBehind) {
  auto consumer = bus_->Subscribe(topology_.Consumer("reader"));
  ASSERT_TRUE(consumer) << consumer.error();
  ConsumerLoop loop(std::move(*consumer), "reader", 16, [](std::vector<Message>&) { return Status(); });
  loop.Stop();
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  bus_.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  spdlog::default_logger()->flush();
  const std::string printed = ::testing::internal::GetCapturedStdout() + ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(printed.find("disconnected"), std::string::npos) << printed;
}

TEST_F(BusTest, DuplicateMsgIdIsStoredOnce) {
  auto first = bus_->Publish("t.a", "id-1", "one");
  ASSERT_TRUE(first) << first.error();
  EXPECT_FALSE(first->duplicate);
  auto again = bus_->Publish("t.a", "id-1", "one");
  ASSERT_TRUE(again) << again.error();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sequence, first->sequence);
}

TEST_F(BusTest, AsyncPublishesAreAckedAndConsumedWithExplicitAck) {
  std::vector<OutgoingMessage> out;
  for (int i = 0; i < 100; ++i) out.push_back({"t.x", "m" + std::to_string(i), "payload " + std::to_string(i)});
  ASSERT_TRUE(PublishAll(*bus_->NewBatchPublisher(), out).ok());

  auto consumer = bus_->Subscribe(topology_.Consumer("reader"));
  ASSERT_TRUE(consumer) << consumer.error();
  int seen = 0;
  // Until all came: a fetch hands over what has arrived (a batch asked for ahead comes in parts).
  for (const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       seen < 100 && std::chrono::steady_clock::now() < until;) {
    auto batch = (*consumer)->Fetch(64, 500);
    ASSERT_TRUE(batch) << batch.error();
    for (auto& m : *batch) {
      EXPECT_EQ(m.data(), "payload " + std::to_string(seen));
      EXPECT_EQ(m.num_delivered(), 1u);
      ASSERT_TRUE(m.Ack().ok());
      ++seen;
    }
  }
  EXPECT_EQ(seen, 100);
}

// A bus on `server` with the test topology, `options` as given (url and name filled in).
std::unique_ptr<Bus> ConnectWithTopology(const testing::NatsServer& server, BusOptions options) {
  options.url = server.url();
  options.name = "batch";
  auto connected = Bus::Connect(options);
  EXPECT_TRUE(connected) << connected.error();
  if (!connected) return nullptr;
  EXPECT_TRUE((*connected)->Provision(*ParseTopology(kTopology)).ok());
  return std::move(*connected);
}

// The batch publisher reads its PubAcks on its own inbox: rounds one after another on one
// publisher, more messages than may be in flight (Add reads answers first), and a duplicate id
// answered as a success. Every message is stored once.
TEST(BatchPublisher, RoundsBeyondTheInFlightBoundAreAllStoredOnce) {
  testing::NatsServer server;
  auto owned = ConnectWithTopology(server, {.max_pending_publishes = 8});
  ASSERT_TRUE(owned);
  Bus& bus = *owned;
  auto publisher = bus.NewBatchPublisher();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 50; ++i) {
      const std::string id = "r" + std::to_string(round) + "-" + std::to_string(i);
      publisher->Add({"t.batch", id, id});
    }
    publisher->Add({"t.batch", "r0-0", "r0-0"});  // stored in round 0: a duplicate, not an error
    const Status waited = publisher->Wait();
    ASSERT_TRUE(waited) << "round " << round << ": " << waited.error();
  }
  auto usage = bus.DescribeStream("T");
  ASSERT_TRUE(usage) << usage.error();
  EXPECT_EQ(usage->messages, 150u);
}

// A subject no stream stores fails its round by name (no responders, at once, not by the
// timeout); the publisher's next round is not touched by it.
TEST(BatchPublisher, AnUnstoredSubjectFailsItsRoundOnly) {
  testing::NatsServer server;
  auto owned = ConnectWithTopology(server, {.publish_timeout_ms = 10'000});
  ASSERT_TRUE(owned);
  Bus& bus = *owned;
  auto publisher = bus.NewBatchPublisher();
  publisher->Add({"t.ok", "a", "a"});
  publisher->Add({"nowhere.x", "b", "b"});
  publisher->Add({"t.ok", "c", "c"});
  const auto start = std::chrono::steady_clock::now();
  const Status failed = publisher->Wait();
  ASSERT_FALSE(failed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_NE(failed.error().find("nowhere.x"), std::string::npos) << failed.error();
  EXPECT_NE(failed.error().find("no responders"), std::string::npos) << failed.error();

  publisher->Add({"t.ok", "d", "d"});
  const Status next = publisher->Wait();
  EXPECT_TRUE(next) << next.error();
  auto usage = bus.DescribeStream("T");
  ASSERT_TRUE(usage) << usage.error();
  EXPECT_EQ(usage->messages, 3u);  // a, c, d
}

// A server that does not answer (stopped with SIGSTOP): the round fails after the publish timeout
// and says so, naming a subject. Once the server runs again, the next round on the same publisher
// starts clean (the late PubAcks of the given-up round are dropped, its error is not carried) and
// succeeds; the given-up messages were stored all the same.
TEST(BatchPublisher, NoAnswerWithinTheTimeoutFailsTheRoundAndLateAnswersAreDropped) {
  testing::NatsServer server;
  auto owned = ConnectWithTopology(server, {.publish_timeout_ms = 400});
  ASSERT_TRUE(owned);
  Bus& bus = *owned;
  auto publisher = bus.NewBatchPublisher();
  publisher->Add({"t.warm", "w", "w"});  // the inbox is subscribed before the server stops
  ASSERT_TRUE(publisher->Wait());

  ASSERT_EQ(::kill(server.pid(), SIGSTOP), 0);
  for (int i = 0; i < 5; ++i) publisher->Add({"t.late", "late" + std::to_string(i), "x"});
  const Status timed_out = publisher->Wait();
  ASSERT_EQ(::kill(server.pid(), SIGCONT), 0);
  ASSERT_FALSE(timed_out);
  EXPECT_NE(timed_out.error().find("no PubAck within 400 ms for 5 message(s)"), std::string::npos) << timed_out.error();
  EXPECT_NE(timed_out.error().find("t.late"), std::string::npos) << timed_out.error();

  for (int i = 0; i < 5; ++i) publisher->Add({"t.next", "next" + std::to_string(i), "y"});
  const Status next = publisher->Wait();
  ASSERT_TRUE(next) << next.error();
  auto usage = bus.DescribeStream("T");
  ASSERT_TRUE(usage) << usage.error();
  EXPECT_EQ(usage->messages, 11u);  // the late ones were stored: given up on, not lost
}

// A service's handlers (which own publishers) outlive its bus: the bus releases the publishers'
// inboxes before its connection goes, and a publisher used after that says so instead of touching
// a freed connection (the sanitizer build would see that).
TEST(BatchPublisher, OutlivesItsBusAndThenFailsClearly) {
  testing::NatsServer server;
  std::unique_ptr<Bus> bus = ConnectWithTopology(server, {});
  ASSERT_TRUE(bus);
  auto publisher = bus->NewBatchPublisher();
  publisher->Add({"t.before", "before", "x"});
  ASSERT_TRUE(publisher->Wait());
  bus.reset();
  publisher->Add({"t.after", "after", "x"});
  const Status after = publisher->Wait();
  ASSERT_FALSE(after);
  EXPECT_NE(after.error().find("bus closed"), std::string::npos) << after.error();
}

TEST_F(BusTest, UnackedMessageIsRedelivered) {
  ASSERT_TRUE(bus_->Publish("t.r", "r1", "again").ok());
  auto consumer = bus_->Subscribe(topology_.Consumer("reader"));
  ASSERT_TRUE(consumer);
  {
    auto batch = (*consumer)->Fetch(1, 1000);
    ASSERT_TRUE(batch);
    ASSERT_EQ(batch->size(), 1u);
    ASSERT_TRUE((*batch)[0].Nak().ok());
  }
  auto again = (*consumer)->Fetch(1, 2000);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].data(), "again");
  EXPECT_EQ((*again)[0].num_delivered(), 2u);
}

TEST_F(BusTest, ConsumerLoopReportsTheLagOfItsLastBatch) {
  std::vector<OutgoingMessage> out;
  for (int i = 0; i < 50; ++i) out.push_back({"t.lag", "lag" + std::to_string(i), "x"});
  ASSERT_TRUE(PublishAll(*bus_->NewBatchPublisher(), out).ok());
  auto consumer = bus_->Subscribe(topology_.Consumer("reader"));
  ASSERT_TRUE(consumer) << consumer.error();

  std::promise<uint64_t> first_batch_lag;
  std::atomic<size_t> first_batch_size{0};
  std::promise<void> go;
  auto released = go.get_future().share();
  std::atomic<int> batches{0};
  std::atomic<int> handled{0};
  ConsumerLoop loop(std::move(*consumer), "reader", 10, [&](std::vector<Message>& batch) {
    if (batches++ == 0) {
      first_batch_size = batch.size();
      first_batch_lag.set_value(batch.back().num_pending());
      released.wait_for(std::chrono::seconds(10));  // hold the loop while the test reads its lag
    }
    for (auto& m : batch) EXPECT_TRUE(m.Ack().ok());
    handled += static_cast<int>(batch.size());
    return Status{};
  });
  auto first = first_batch_lag.get_future();
  ASSERT_EQ(first.wait_for(std::chrono::seconds(10)), std::future_status::ready) << "no batch fetched";
  const uint64_t expected_lag = 50 - first_batch_size.load();  // usually 10 of 50 delivered
  EXPECT_LE(first_batch_size.load(), 10u);
  EXPECT_EQ(first.get(), expected_lag);
  EXPECT_EQ(loop.Pending(), expected_lag);
  go.set_value();
  for (int i = 0; i < 100 && handled.load() < 50; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(handled.load(), 50);
  EXPECT_EQ(loop.Pending(), 0u);  // drained
  EXPECT_EQ(loop.name(), "reader");
}

// A failing sink (publish refused, disk full) must not burn deliveries: the loop holds the batch,
// keeps it in progress past the ack wait (1 s here), fetches nothing else, and retries it.
TEST_F(BusTest, ConsumerLoopHoldsItsBatchWhileTheSinkFailsAndUsesNoDeliveries) {
  std::vector<OutgoingMessage> out;
  for (int i = 0; i < 3; ++i) out.push_back({"t.sink", "sink" + std::to_string(i), "m" + std::to_string(i)});
  ASSERT_TRUE(PublishAll(*bus_->NewBatchPublisher(), out).ok());
  auto consumer = bus_->Subscribe(topology_.Consumer("reader"));
  ASSERT_TRUE(consumer) << consumer.error();

  constexpr int kFailures = 9;  // ~2.4 s of back-off: more than twice the ack wait, more attempts than max_deliver
  std::atomic<int> attempts{0};
  std::atomic<bool> done{false};
  std::vector<size_t> sizes;
  std::vector<uint64_t> deliveries;
  ConsumerLoop loop(std::move(*consumer), "reader", 10, [&](std::vector<Message>& batch) -> Status {
    sizes.push_back(batch.size());
    for (auto& m : batch) deliveries.push_back(m.num_delivered());
    if (attempts++ < kFailures) return Status::Error("disk full");
    for (auto& m : batch) EXPECT_TRUE(m.Ack().ok());
    done = true;
    return {};
  });
  // Another instance of the same durable gets nothing while the batch is held: no redelivery.
  // It starts once the loop holds its batch (before, it could simply be served first).
  for (int i = 0; i < 200 && attempts.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto rival = bus_->Subscribe(topology_.Consumer("reader"));
  ASSERT_TRUE(rival) << rival.error();
  for (int i = 0; i < 40 && !done.load(); ++i) {
    auto stolen = (*rival)->Fetch(10, 100);
    ASSERT_TRUE(stolen) << stolen.error();
    EXPECT_TRUE(stolen->empty()) << "a held message was redelivered: " << (*stolen)[0].data();
    if (attempts.load() > 0 && !done.load()) {
      EXPECT_GT(loop.Health()->stalled_since_ns.load(), 0);
      EXPECT_EQ(loop.Health()->LastError(), "disk full");
    }
  }
  for (int i = 0; i < 100 && !done.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  loop.Stop();
  ASSERT_TRUE(done.load());
  EXPECT_EQ(attempts.load(), kFailures + 1);
  EXPECT_EQ(loop.Health()->sink_failures.load(), static_cast<uint64_t>(kFailures));
  EXPECT_EQ(loop.Health()->stalled_since_ns.load(), 0);
  for (size_t n : sizes) EXPECT_EQ(n, 3u);         // the same batch every time, nothing fetched meanwhile
  for (uint64_t d : deliveries) EXPECT_EQ(d, 1u);  // and never redelivered
  auto after = (*rival)->Fetch(10, 1500);          // past the ack wait: acked, so nothing comes back
  ASSERT_TRUE(after) << after.error();
  EXPECT_TRUE(after->empty());
}

// A full batch asks for the next one at once (delivered while the first is worked on). If the sink
// then fails, what was delivered ahead joins the held batch: marked in progress with it, never
// redelivered, handled (and acked) when the sink recovers.
TEST_F(BusTest, ConsumerLoopKeepsTheBatchAskedForAheadWithTheHeldOne) {
  std::vector<OutgoingMessage> out;
  for (int i = 0; i < 25; ++i) out.push_back({"t.ahead", "ahead" + std::to_string(i), "m" + std::to_string(i)});
  ASSERT_TRUE(PublishAll(*bus_->NewBatchPublisher(), out).ok());
  auto consumer = bus_->Subscribe(topology_.Consumer("reader"));
  ASSERT_TRUE(consumer) << consumer.error();

  constexpr int kFailures = 7;  // ~1.6 s of back-off: past the ack wait (1 s)
  std::atomic<int> attempts{0};
  std::mutex mu;
  std::vector<size_t> sizes;
  std::map<std::string, uint64_t> handled;  // data -> deliveries when acked
  ConsumerLoop loop(std::move(*consumer), "reader", 10, [&](std::vector<Message>& batch) -> Status {
    std::lock_guard lock(mu);
    sizes.push_back(batch.size());
    if (attempts++ < kFailures) return Status::Error("disk full");
    for (auto& m : batch) {
      EXPECT_TRUE(handled.emplace(std::string(m.data()), m.num_delivered()).second) << "twice: " << m.data();
      EXPECT_TRUE(m.Ack().ok());
    }
    return {};
  });
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mu);
      if (handled.size() == 25) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  loop.Stop();
  std::lock_guard lock(mu);
  ASSERT_EQ(handled.size(), 25u);
  for (const auto& [data, deliveries] : handled) EXPECT_EQ(deliveries, 1u) << data << " was redelivered";
  ASSERT_GE(sizes.size(), static_cast<size_t>(kFailures + 1));
  EXPECT_EQ(sizes.front(), 10u);
  EXPECT_EQ(sizes[kFailures], 20u) << "the batch asked for ahead did not join the held one";
}

// What was delivered ahead and never handed over goes back when the consumer closes: the next
// consumer gets it at once (the ack wait is 1 s), as its second delivery.
TEST_F(BusTest, ClosingAConsumerHandsBackTheBatchAskedForAhead) {
  std::vector<OutgoingMessage> out;
  for (int i = 0; i < 20; ++i) out.push_back({"t.back", "back" + std::to_string(i), "m" + std::to_string(i)});
  ASSERT_TRUE(PublishAll(*bus_->NewBatchPublisher(), out).ok());
  {
    auto consumer = bus_->Subscribe(topology_.Consumer("reader"));
    ASSERT_TRUE(consumer) << consumer.error();
    auto first = (*consumer)->Fetch(10, 1000);
    ASSERT_TRUE(first) << first.error();
    ASSERT_EQ(first->size(), 10u);
    for (auto& m : *first) ASSERT_TRUE(m.Ack().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the next ten arrive meanwhile
  }
  auto again = bus_->Subscribe(topology_.Consumer("reader"));
  ASSERT_TRUE(again) << again.error();
  auto batch = (*again)->Fetch(10, 400);
  ASSERT_TRUE(batch) << batch.error();
  ASSERT_EQ(batch->size(), 10u);
  for (auto& m : *batch) {
    EXPECT_EQ(m.num_delivered(), 2u) << m.data();
    EXPECT_TRUE(m.Ack().ok());
  }
  EXPECT_EQ((*batch)[0].data(), "m10");
}

TEST_F(BusTest, ConsumerLoopStoppedWhileTheSinkFailsHandsItsBatchBack) {
  ASSERT_TRUE(bus_->Publish("t.back", "back", "held").ok());
  auto consumer = bus_->Subscribe(topology_.Consumer("reader"));
  ASSERT_TRUE(consumer) << consumer.error();
  std::atomic<int> attempts{0};
  auto loop = std::make_unique<ConsumerLoop>(std::move(*consumer), "reader", 10, [&](std::vector<Message>&) {
    ++attempts;
    return Status::Error("broken output");
  });
  for (int i = 0; i < 100 && attempts.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  loop.reset();  // nak'ed: the next consumer gets it at once, not after the ack wait
  auto again = bus_->Subscribe(topology_.Consumer("reader"));
  ASSERT_TRUE(again) << again.error();
  auto batch = (*again)->Fetch(10, 500);
  ASSERT_TRUE(batch) << batch.error();
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_EQ((*batch)[0].data(), "held");
  EXPECT_EQ((*batch)[0].num_delivered(), 2u);
}

TEST_F(BusTest, GetMessageReadsByStreamSequence) {
  auto ack = bus_->Publish("t.get", "get-1", "stored");
  ASSERT_TRUE(ack) << ack.error();
  auto got = bus_->GetMessage("T", ack->sequence);
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(got->subject, "t.get");
  EXPECT_EQ(got->data, "stored");
  auto missing = bus_->GetMessage("T", ack->sequence + 100);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("not found"), std::string::npos) << missing.error();
}

TEST_F(BusTest, ReadStreamVisitsWhatWasStoredInOrder) {
  std::vector<OutgoingMessage> out;
  for (int i = 0; i < 2500; ++i) out.push_back({i % 2 == 0 ? "t.even" : "t.odd", "r" + std::to_string(i), "d"});
  ASSERT_TRUE(PublishAll(*bus_->NewBatchPublisher(), out).ok());
  std::vector<std::string> ids;
  uint64_t last_seq = 0;
  bool in_order = true;
  auto read = bus_->ReadStream("T", "t.even", true, [&](const StreamEntry& e) {
    ids.emplace_back(e.msg_id);
    in_order = in_order && e.sequence > last_seq && e.data.empty() && e.stored_ns > 0;
    last_seq = e.sequence;
  });
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(*read, 1250u);
  ASSERT_EQ(ids.size(), 1250u);
  EXPECT_EQ(ids.front(), "r0");
  EXPECT_EQ(ids.back(), "r2498");
  EXPECT_TRUE(in_order);
  SeenIds seen(10'000);
  auto remembered = RememberPublished(*bus_, "T", "t.>", seen);
  ASSERT_TRUE(remembered) << remembered.error();
  EXPECT_EQ(*remembered, 2500u);
  EXPECT_TRUE(seen.Contains("r2499"));
  auto payloads = bus_->ReadStream("T", "t.odd", false, [&](const StreamEntry& e) { EXPECT_EQ(e.data, "d"); });
  ASSERT_TRUE(payloads);
  EXPECT_EQ(*payloads, 1250u);
  auto empty = bus_->ReadStream("T", "t.none", true, [&](const StreamEntry&) { ADD_FAILURE(); });
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, 0u);
}

TEST_F(BusTest, ASecondConsumerOfADurableIsSeenBeforeItSubscribes) {
  const std::vector<ConsumerSpec> reader = {topology_.Consumer("reader")};
  EXPECT_TRUE(ExpectNoOtherConsumer(*bus_, reader, std::chrono::milliseconds(0), std::chrono::milliseconds(300)));
  // Another process consuming (an idle consumer loop keeps a pull request waiting).
  auto other_bus = Bus::Connect({.url = server_.url(), .name = "other", .connect_timeout_ms = 5000});
  ASSERT_TRUE(other_bus) << other_bus.error();
  auto consumer = (*other_bus)->Subscribe(topology_.Consumer("reader"));
  ASSERT_TRUE(consumer) << consumer.error();
  auto loop = std::make_unique<ConsumerLoop>(std::move(*consumer), "reader", 16,
                                             [](std::vector<Message>&) { return Status(); });
  const Status seen = ExpectNoOtherConsumer(*bus_, reader);
  ASSERT_FALSE(seen);
  EXPECT_NE(seen.error().find("another process consumes T/reader"), std::string::npos) << seen.error();
  // Gone (its last request expires within the fetch timeout): the next one may start.
  loop.reset();
  other_bus->reset();
  EXPECT_TRUE(ExpectNoOtherConsumer(*bus_, reader));
}

TEST_F(BusTest, ConsumerSettingsChangedInProtoReachTheExistingConsumer) {
  auto before = bus_->DescribeConsumer("T", "reader");
  ASSERT_TRUE(before) << before.error();
  EXPECT_EQ(before->max_deliver, 5);
  Topology changed = topology_;
  changed.consumers[0].max_deliver = 3;
  changed.consumers[0].ack_wait_s = 2;
  changed.consumers[0].max_ack_pending = 500;
  ASSERT_TRUE(bus_->Provision(changed).ok());
  auto after = bus_->DescribeConsumer("T", "reader");
  ASSERT_TRUE(after) << after.error();
  EXPECT_EQ(after->max_deliver, 3);
  EXPECT_EQ(after->ack_wait_s, 2);
  EXPECT_EQ(after->max_ack_pending, 500);
  EXPECT_EQ(after->filter, "t.>");
}

TEST_F(BusTest, RetentionChangedInProtoReachesTheExistingStream) {
  // nats-server 2.10 changes limits to interest in place (a server that cannot gets an error
  // naming the fix: drain, `nats stream rm`). Deployments made before SIGNALS became interest
  // are brought to it by their next start.
  Topology changed = topology_;
  changed.streams[0].retention = Retention::kInterest;
  const Status provisioned = bus_->Provision(changed);
  ASSERT_TRUE(provisioned) << provisioned.error();
  auto usage = bus_->DescribeStream("T");
  ASSERT_TRUE(usage) << usage.error();
  EXPECT_EQ(usage->retention, Retention::kInterest);
}

TEST(BusFullStream, InterestStreamFullWhileItsConsumerIsAwayRefusesThenFreesWhenItReturns) {
  // Scenario 5's core: with interest retention a stream holds only what its consumers have not
  // acked yet, so full means "backlog at its limit": refused (503 at the gateway), nothing
  // dropped, and room again once the consumer is back and acks.
  testing::NatsServer server;
  auto bus = Bus::Connect({.url = server.url(), .name = "bus-interest", .connect_timeout_ms = 5000});
  ASSERT_TRUE(bus) << bus.error();
  auto topology = ParseTopology(R"({
    "streams": [{"name": "I", "subjects": ["i.>"], "retention": "interest", "max_age_s": 600, "max_bytes": 8192,
                 "duplicate_window_s": 60}],
    "consumers": [{"stream": "I", "durable": "r", "filter": "i.>", "max_ack_pending": 1000, "ack_wait_s": 5,
                   "max_deliver": 5}]})");
  ASSERT_TRUE(topology) << topology.error();
  ASSERT_TRUE((*bus)->Provision(*topology).ok());
  const std::string payload(200, 'x');
  const auto [accepted, refusal] = PublishUntilRefused(**bus, "i.x", payload, 200);
  ASSERT_FALSE(refusal.empty()) << "8 KiB never filled";
  EXPECT_GT(accepted, 10);
  // The consumer returns and takes everything: each accepted message exactly once.
  auto consumer = (*bus)->Subscribe(topology->Consumer("r"));
  ASSERT_TRUE(consumer) << consumer.error();
  int read = 0;
  // Until all came: a fetch hands over what has arrived (a batch asked for ahead comes in parts).
  for (const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       read < accepted && std::chrono::steady_clock::now() < until;) {
    auto batch = (*consumer)->Fetch(64, 200);
    ASSERT_TRUE(batch) << batch.error();
    for (auto& m : *batch) {
      EXPECT_EQ(m.data(), payload);
      ASSERT_TRUE(m.Ack().ok());
      ++read;
    }
  }
  EXPECT_EQ(read, accepted);
  // Acked means gone: room again, without waiting for any age limit.
  bool room = false;
  for (int i = 0; i < 100 && !room; ++i) {
    auto usage = (*bus)->DescribeStream("I");
    ASSERT_TRUE(usage) << usage.error();
    room = usage->messages == 0;
    if (!room) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(room) << "acked messages still take the space";
  auto again = (*bus)->Publish("i.x", "after-return", payload);
  EXPECT_TRUE(again) << again.error();
}

TEST(BusFullStream, RefusesNewMessagesAndKeepsEveryAcceptedOne) {
  testing::NatsServer server;
  auto bus = Bus::Connect({.url = server.url(), .name = "bus-full", .connect_timeout_ms = 5000});
  ASSERT_TRUE(bus) << bus.error();
  auto topology = ParseTopology(R"({
    "streams": [{"name": "F", "subjects": ["f.>"], "max_age_s": 60, "max_bytes": 4096, "duplicate_window_s": 60}],
    "consumers": [{"stream": "F", "durable": "r", "filter": "f.>", "max_ack_pending": 1000, "ack_wait_s": 5,
                   "max_deliver": 5}]})");
  ASSERT_TRUE(topology) << topology.error();
  ASSERT_TRUE((*bus)->Provision(*topology).ok());
  const std::string payload(200, 'x');
  const auto [accepted, refusal] = PublishUntilRefused(**bus, "f.a", payload, 100);
  ASSERT_FALSE(refusal.empty()) << "a full stream must refuse, not delete the oldest";
  EXPECT_GT(accepted, 5);
  // Every accepted message is still there, the first one included.
  auto consumer = (*bus)->Subscribe(topology->Consumer("r"));
  ASSERT_TRUE(consumer) << consumer.error();
  int seen = 0;
  uint64_t first_seq = 0;
  // Until all came: a fetch hands over what has arrived (a batch asked for ahead comes in parts).
  for (const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       seen < accepted && std::chrono::steady_clock::now() < until;) {
    auto batch = (*consumer)->Fetch(256, 500);
    ASSERT_TRUE(batch) << batch.error();
    for (auto& m : *batch) {
      if (seen++ == 0) first_seq = m.stream_sequence();
      ASSERT_TRUE(m.Ack().ok());
    }
  }
  EXPECT_EQ(seen, accepted);
  EXPECT_EQ(first_seq, 1u);
}

TEST(BusConnect, UnreachableServerIsAClearError) {
  auto bus =
      Bus::Connect({.url = "nats://127.0.0.1:" + std::to_string(testing::FreePort()), .connect_timeout_ms = 300});
  ASSERT_FALSE(bus);
  EXPECT_NE(bus.error().find("cannot connect"), std::string::npos) << bus.error();
}

}  // namespace
}  // namespace tradepipe::bus
