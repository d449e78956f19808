// LoopPublisher against a real nats-server (started per test, ephemeral port, temporary
// directory): acks, duplicates, bad input, no stream, server restart, stalled server, auth.
#include "tradepipe/bus/loop_publisher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "nats_server.hpp"
#include "tradepipe/bus/bus.hpp"

namespace tradepipe::bus {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

const char* kTopology = R"({
  "streams": [{"name": "T", "subjects": ["t.>"], "max_age_s": 60, "max_bytes": 100000000, "duplicate_window_s": 60}],
  "consumers": [{"stream": "T", "durable": "reader", "filter": "t.>", "max_ack_pending": 5000, "ack_wait_s": 5, "max_deliver": 5}]
})";

// A loop on its own thread, and a publisher on it.
class Loop {
 public:
  explicit Loop(LoopPublisherOptions options) : thread_([this] { io_.run(); }) {
    publisher_ = LoopPublisher::Create(io_, std::move(options));
    publisher_->Start();
  }
  ~Loop() {
    guard_.reset();
    io_.stop();
    thread_.join();
    publisher_.reset();  // closes after the loop stopped
  }
  LoopPublisher& publisher() { return *publisher_; }
  net::io_context& io() { return io_; }

  bool WaitConnected(std::chrono::milliseconds within = 5s) { return WaitFor(true, within); }
  bool WaitDisconnected(std::chrono::milliseconds within = 5s) { return WaitFor(false, within); }

  Result<PublishAck> PublishAndWait(std::string subject, std::string id, std::string data) {
    std::promise<Result<PublishAck>> done;
    auto answer = done.get_future();
    publisher_->Publish(subject, id, data, [&done](Result<PublishAck> r) { done.set_value(std::move(r)); });
    if (answer.wait_for(10s) != std::future_status::ready)
      return Result<PublishAck>::Error("test: no callback in 10 s");
    return answer.get();
  }

 private:
  net::io_context io_{1};
  net::executor_work_guard<net::io_context::executor_type> guard_{io_.get_executor()};
  std::shared_ptr<LoopPublisher> publisher_;
  std::thread thread_;

  bool WaitFor(bool connected, std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (publisher_->Connected() != connected) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }
};

class LoopPublisherTest : public ::testing::Test {
 protected:
  void Provision(const std::string& url) {
    auto connected = Bus::Connect({.url = url, .name = "provision", .connect_timeout_ms = 5000});
    ASSERT_TRUE(connected) << connected.error();
    bus_ = std::move(*connected);
    ASSERT_TRUE(bus_->Provision(*ParseTopology(kTopology)).ok());
  }
  std::unique_ptr<Bus> bus_;
};

TEST_F(LoopPublisherTest, EveryPublishIsAckedOnceAndDuplicatesAreDetected) {
  testing::NatsServer server;
  Provision(server.url());
  Loop loop({.url = server.url(), .name = "test"});
  ASSERT_TRUE(loop.WaitConnected());

  // 2,000 publishes made within one loop turn (one write) plus 500 from another thread.
  constexpr int kOnLoop = 2000, kOffLoop = 500;
  std::mutex mu;
  std::set<uint64_t> sequences;
  std::vector<std::string> errors;
  std::promise<void> all_done;
  int left = kOnLoop + kOffLoop;
  auto record = [&](Result<PublishAck> r) {
    std::lock_guard lock(mu);
    if (r) {
      EXPECT_EQ(r->stream, "T");
      EXPECT_FALSE(r->duplicate);
      sequences.insert(r->sequence);
    } else {
      errors.push_back(r.error());
    }
    if (--left == 0) all_done.set_value();
  };
  net::post(loop.io(), [&] {
    for (int i = 0; i < kOnLoop; ++i) loop.publisher().Publish("t.on", "on-" + std::to_string(i), "payload", record);
  });
  for (int i = 0; i < kOffLoop; ++i) loop.publisher().Publish("t.off", "off-" + std::to_string(i), "payload", record);
  ASSERT_EQ(all_done.get_future().wait_for(20s), std::future_status::ready);
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(sequences.size(), static_cast<size_t>(kOnLoop + kOffLoop));
  EXPECT_EQ(*sequences.begin(), 1u);
  EXPECT_EQ(*sequences.rbegin(), static_cast<uint64_t>(kOnLoop + kOffLoop));

  auto first = loop.PublishAndWait("t.dup", "dup-1", "x");
  ASSERT_TRUE(first) << first.error();
  auto again = loop.PublishAndWait("t.dup", "dup-1", "x");
  ASSERT_TRUE(again) << again.error();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sequence, first->sequence);

  // What was stored is what was sent: read it back with the cnats consumer.
  auto consumer = bus_->Subscribe(ParseTopology(kTopology)->Consumer("reader"));
  ASSERT_TRUE(consumer) << consumer.error();
  size_t read = 0;
  // A fetch hands over what has arrived (a batch asked for ahead comes in parts): read until done.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (read < sequences.size() + 1 && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*consumer)->Fetch(500, 500);
    ASSERT_TRUE(batch) << batch.error();
    for (auto& m : *batch) {
      EXPECT_TRUE(m.data() == "payload" || m.data() == "x") << m.data();
      ++read;
      ASSERT_TRUE(m.Ack().ok());
    }
  }
  EXPECT_EQ(read, sequences.size() + 1);
}

TEST_F(LoopPublisherTest, RefusesBadInputAndStaysUsable) {
  testing::NatsServer server;
  Provision(server.url());
  Loop loop({.url = server.url(), .name = "test"});
  ASSERT_TRUE(loop.WaitConnected());

  auto spaced = loop.PublishAndWait("t.a b", "id-1", "x");
  ASSERT_FALSE(spaced);
  EXPECT_NE(spaced.error().find("subject"), std::string::npos) << spaced.error();
  auto crlf = loop.PublishAndWait("t.a", "id\r\nX-Injected: 1", "x");
  ASSERT_FALSE(crlf);
  EXPECT_NE(crlf.error().find("control characters"), std::string::npos) << crlf.error();
  auto empty_id = loop.PublishAndWait("t.a", "", "x");
  ASSERT_FALSE(empty_id);
  EXPECT_NE(empty_id.error().find("empty"), std::string::npos) << empty_id.error();
  auto huge = loop.PublishAndWait("t.a", "id-2", std::string(2 << 20, 'x'));  // server default max_payload: 1 MiB
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().find("max_payload"), std::string::npos) << huge.error();

  // A subject no stream stores: answered at once by "no responders", not by the timeout.
  Loop patient({.url = server.url(), .name = "test", .publish_timeout_ms = 60'000});
  ASSERT_TRUE(patient.WaitConnected());
  auto nowhere = patient.PublishAndWait("nostream.x", "id-3", "x");
  ASSERT_FALSE(nowhere);
  EXPECT_NE(nowhere.error().find("no responders"), std::string::npos) << nowhere.error();

  auto fine = loop.PublishAndWait("t.a", "id-4", "x");
  EXPECT_TRUE(fine) << fine.error();
}

TEST_F(LoopPublisherTest, ServerRestartFailsFastThenReconnects) {
  testing::NatsServer server;
  Provision(server.url());
  bus_.reset();
  Loop loop({.url = server.url(), .name = "test", .reconnect_wait_ms = 100});
  ASSERT_TRUE(loop.WaitConnected());
  auto before = loop.PublishAndWait("t.r", "r-1", "x");
  ASSERT_TRUE(before) << before.error();

  server.Stop();
  ASSERT_TRUE(loop.WaitDisconnected());
  EXPECT_NE(loop.publisher().NotReadyReason(), "");
  auto during = loop.PublishAndWait("t.r", "r-2", "x");
  ASSERT_FALSE(during);
  EXPECT_NE(during.error().find("nats"), std::string::npos) << during.error();

  server.Start();  // same port and storage
  ASSERT_TRUE(loop.WaitConnected(10s)) << loop.publisher().NotReadyReason();
  EXPECT_EQ(loop.publisher().NotReadyReason(), "");
  Result<PublishAck> after = Result<PublishAck>::Error("not tried");
  for (int i = 0; i < 50 && !after; ++i) {  // JetStream may need a moment to recover the stream
    after = loop.PublishAndWait("t.r", "r-3", "x");
    if (!after) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(after) << after.error();
  EXPECT_EQ(after->sequence, before->sequence + 1);
}

TEST_F(LoopPublisherTest, StalledServerTimesOutEveryPublish) {
  testing::NatsServer server;
  Provision(server.url());
  bus_.reset();
  Loop loop({.url = server.url(), .name = "test", .publish_timeout_ms = 300, .ping_interval_ms = 60'000});
  ASSERT_TRUE(loop.WaitConnected());
  server.Pause();
  auto stalled = loop.PublishAndWait("t.s", "s-1", "x");
  server.Resume();
  ASSERT_FALSE(stalled);
  EXPECT_NE(stalled.error().find("no PubAck within 300 ms"), std::string::npos) << stalled.error();
  // The late PubAck of s-1 is ignored; the connection goes on.
  auto next = loop.PublishAndWait("t.s", "s-2", "x");
  ASSERT_TRUE(next) << next.error();
}

TEST_F(LoopPublisherTest, EachPublishTimesOutByItsOwnTimeoutWhateverWasSentBefore) {
  // The gateway gives each publish what is left of its request's deadline: a short timeout behind
  // a long one must fail by its own, not wait for the one in front.
  testing::NatsServer server;
  Provision(server.url());
  bus_.reset();
  Loop loop({.url = server.url(), .name = "test", .publish_timeout_ms = 5'000, .ping_interval_ms = 60'000});
  ASSERT_TRUE(loop.WaitConnected());
  server.Pause();
  std::promise<Result<PublishAck>> long_done, short_done;
  auto long_answer = long_done.get_future(), short_answer = short_done.get_future();
  const auto sent = std::chrono::steady_clock::now();
  loop.publisher().Publish("t.s", "long-1", "x", [&](Result<PublishAck> r) { long_done.set_value(std::move(r)); });
  loop.publisher().Publish(
      "t.s", "short-1", "x", [&](Result<PublishAck> r) { short_done.set_value(std::move(r)); }, 200);
  ASSERT_EQ(short_answer.wait_for(2s), std::future_status::ready) << "the short timeout waited for the long one";
  const auto waited = std::chrono::steady_clock::now() - sent;
  EXPECT_EQ(long_answer.wait_for(0s), std::future_status::timeout) << "the long one is still waiting";
  server.Resume();
  auto failed = short_answer.get();
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().find("no PubAck within 200 ms"), std::string::npos) << failed.error();
  EXPECT_GE(waited, 200ms);
  // Resumed in time, the long one gets its PubAck.
  ASSERT_EQ(long_answer.wait_for(10s), std::future_status::ready);
  auto stored = long_answer.get();
  EXPECT_TRUE(stored) << stored.error();
}

TEST_F(LoopPublisherTest, StalledFirstServerIsLeftForTheNextUrl) {
  // The first server accepts TCP (the kernel does, even for a stopped process) but never sends
  // INFO: the handshake deadline moves the publisher on to the second URL.
  testing::NatsServer stalled;
  testing::NatsServer healthy;
  Provision(healthy.url());
  stalled.Pause();
  Loop loop({.url = stalled.url() + "," + healthy.url(), .name = "test", .connect_timeout_ms = 300});
  const bool connected = loop.WaitConnected(5s);
  stalled.Resume();
  ASSERT_TRUE(connected) << loop.publisher().NotReadyReason();
  auto published = loop.PublishAndWait("t.failover", "f-1", "x");
  EXPECT_TRUE(published) << published.error();
}

TEST_F(LoopPublisherTest, AuthenticatesWithUserAndPassword) {
  testing::NatsServer server({"--user", "tp", "--pass", "s3cret"});
  const std::string url = "nats://tp:s3cret@127.0.0.1:" + std::to_string(server.port());
  Provision(url);
  Loop good({.url = url, .name = "test"});
  ASSERT_TRUE(good.WaitConnected()) << good.publisher().NotReadyReason();
  auto published = good.PublishAndWait("t.auth", "a-1", "x");
  EXPECT_TRUE(published) << published.error();

  Loop bad({.url = "nats://tp:wrong@127.0.0.1:" + std::to_string(server.port()), .name = "test"});
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(bad.publisher().Connected());
  const std::string why = bad.publisher().NotReadyReason();
  EXPECT_NE(why.find("Authorization Violation"), std::string::npos) << why;
  EXPECT_EQ(why.find("wrong"), std::string::npos) << "the password must not appear: " << why;
}

TEST_F(LoopPublisherTest, ServerErrorForOnePublishDoesNotDropTheConnection) {
  // A user who may not publish to t.denied: the server answers that publish with -ERR and keeps
  // the connection; the publish then ends by its deadline, the next one goes through.
  char tmpl[] = "/tmp/tradepipe-nats-conf-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  const std::string config =
      R"(authorization { users: [ {user: "tp", password: "pw", permissions: {publish: {deny: ["t.denied"]}}} ] })";
  ASSERT_EQ(::write(fd, config.data(), config.size()), static_cast<ssize_t>(config.size()));
  ::close(fd);
  testing::NatsServer server({"-c", tmpl});
  const std::string url = "nats://tp:pw@127.0.0.1:" + std::to_string(server.port());
  Provision(url);
  Loop loop({.url = url, .name = "test", .publish_timeout_ms = 300});
  ASSERT_TRUE(loop.WaitConnected()) << loop.publisher().NotReadyReason();
  auto denied = loop.PublishAndWait("t.denied", "d-1", "x");
  ASSERT_FALSE(denied);
  EXPECT_NE(denied.error().find("no PubAck"), std::string::npos) << denied.error();
  EXPECT_TRUE(loop.publisher().Connected());
  auto allowed = loop.PublishAndWait("t.allowed", "d-2", "x");
  EXPECT_TRUE(allowed) << allowed.error();
  ::unlink(tmpl);
}

TEST_F(LoopPublisherTest, BadUrlIsReported) {
  Loop loop({.url = "nats://:4222", .name = "test"});
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(loop.publisher().Connected());
  EXPECT_NE(loop.publisher().NotReadyReason().find("bad NATS URL"), std::string::npos)
      << loop.publisher().NotReadyReason();
  auto refused = loop.PublishAndWait("t.x", "id", "x");
  EXPECT_FALSE(refused);
}

}  // namespace
}  // namespace tradepipe::bus
