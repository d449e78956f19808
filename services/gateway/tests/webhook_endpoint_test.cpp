// WebhookEndpoint's deadline: the publish gets what is left of the request's deadline minus the
// store's bound and the publisher's lateness; with nothing left nothing is published, the key is
// released and the answer is 503 `deadline_exceeded`. Pure logic: a fake store whose claims the
// test answers when it likes, a fake publish path that records its timeout.
#include "webhook_endpoint.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <thread>

#include "tradepipe/bus/loop_publisher.hpp"
#include "tradepipe/crypto/standard_webhooks.hpp"
#include "tradepipe/events/ids.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::gateway {
namespace {

using namespace std::chrono_literals;

// The memory store, except that a claim is answered only when the test says so, and that it
// claims a bound like a remote store's.
class HeldStore final : public IdempotencyStore {
 public:
  explicit HeldStore(int64_t bound_ms) : bound_ms_(bound_ms) {}
  void Begin(const std::string& key, uint64_t body_hash, int64_t now_ns, BeginCallback done) override {
    held_.push_back(
        [this, key, body_hash, now_ns, done = std::move(done)] { done(memory_.BeginNow(key, body_hash, now_ns)); });
  }
  void Complete(const std::string& key, uint64_t body_hash, const StoredResponse& response,
                DoneCallback done) override {
    memory_.Complete(key, body_hash, response, std::move(done));
  }
  void Release(const std::string& key, DoneCallback done) override {
    ++releases;
    memory_.Release(key, std::move(done));
  }
  int64_t size() const override { return memory_.size(); }
  int64_t OperationBoundMs() const override { return bound_ms_; }

  void AnswerClaims() {
    auto held = std::move(held_);
    held_.clear();
    for (auto& answer : held) answer();
  }
  int releases = 0;

 private:
  int64_t bound_ms_;
  MemoryIdempotencyStore memory_{100, int64_t{3600} * 1'000'000'000};
  std::vector<std::function<void()>> held_;
};

struct Headers {
  std::map<std::string, std::string, std::less<>> values;
  static std::string_view Lookup(const void* raw, std::string_view name) {
    const auto& v = static_cast<const Headers*>(raw)->values;
    auto it = v.find(name);
    return it == v.end() ? std::string_view() : std::string_view(it->second);
  }
};

class EndpointTest : public ::testing::Test {
 protected:
  EndpointTest() {
    SourceConfig demo;
    demo.name = "demo";
    demo.keys = {key_};
    processor_.emplace(std::vector<SourceConfig>{demo}, ProcessorOptions{}, store_);
  }

  void Start(int64_t deadline_ms, int64_t late_ms) {
    PublishPath path;
    path.route = [this]() -> PublishFn {
      ++routes_;
      if (!connected_) return {};
      return [this](const PublishJob& job, int64_t timeout_ms, bus::PublishCallback done) {
        published_.push_back(job.signal_id);
        timeouts_.push_back(timeout_ms);
        done(ack_);
      };
    };
    path.late_ms = late_ms;
    endpoint_.emplace(*processor_, store_, EndpointOptions{.deadline_ms = deadline_ms}, path, metrics_);
  }

  void Post(const std::string& id) {
    body_ = R"({"symbol":"AAPL","action":"buy","qty":1})";
    const std::string ts = std::to_string(std::time(nullptr));
    headers_.values = {
        {"webhook-id", id}, {"webhook-timestamp", ts}, {"webhook-signature", crypto::Sign(key_, id, ts, body_)}};
    const http::Request req("POST", "/webhook/demo", body_, &headers_, &Headers::Lookup, "127.0.0.1");
    endpoint_->Handle(req, [this](http::Response r) { answers_.push_back(std::move(r)); });
  }

  std::string ErrorCode(const http::Response& r) {
    const auto at = r.body.find("\"error\":\"");
    if (at == std::string::npos) return {};
    const auto begin = at + 9;
    return r.body.substr(begin, r.body.find('"', begin) - begin);
  }

  const std::string key_ = *crypto::ParseSecret(kDemoSecret);
  HeldStore store_{500};
  std::optional<WebhookProcessor> processor_;
  metrics::Metrics metrics_;
  std::optional<WebhookEndpoint> endpoint_;
  Headers headers_;
  std::string body_;
  Result<bus::PublishAck> ack_ = bus::PublishAck{.stream = "SIGNALS", .sequence = 7};
  std::vector<std::string> published_;
  std::vector<int64_t> timeouts_;
  std::vector<http::Response> answers_;
  int routes_ = 0;
  bool connected_ = true;
};

TEST_F(EndpointTest, PublishGetsWhatIsLeftOfTheDeadlineAfterTheClaimAndTheStoresBound) {
  Start(2500, 50);
  Post("left_1");
  ASSERT_TRUE(answers_.empty()) << "the claim is not answered yet";
  std::this_thread::sleep_for(100ms);  // the claim takes at least 100 ms
  store_.AnswerClaims();
  ASSERT_EQ(timeouts_.size(), 1u);
  // 2500 - >=100 (claim) - 500 (kept for recording the answer) - 50 (publisher lateness)
  EXPECT_LE(timeouts_[0], 1850);
  EXPECT_GT(timeouts_[0], 1000);
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_[0].status, 202) << answers_[0].body;
  EXPECT_EQ(answers_[0].body, R"({"id":")" + events::SignalId("demo", "left_1") + R"(","seq":7})");
}

TEST_F(EndpointTest, NoTimeLeftMeansNothingPublishedTheKeyReleasedAnd503) {
  Start(WebhookEndpoint::MinimumDeadlineMs(store_) + 30, 0);
  Post("late_1");
  std::this_thread::sleep_for(600ms);  // a slow claim: more than the deadline leaves after the bound
  store_.AnswerClaims();
  EXPECT_TRUE(published_.empty());
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_[0].status, 503);
  EXPECT_EQ(ErrorCode(answers_[0]), "deadline_exceeded") << answers_[0].body;
  EXPECT_EQ(store_.releases, 1);
  // The sender's retry runs: the key was released, and this time the claim is quick.
  Post("late_1");
  store_.AnswerClaims();
  ASSERT_EQ(published_.size(), 1u);
  EXPECT_EQ(answers_.back().status, 202) << answers_.back().body;
}

TEST_F(EndpointTest, FailedPublishReleasesTheKeyAndAnswers503) {
  Start(2500, 0);
  ack_ = Result<bus::PublishAck>::Error("no PubAck within 1950 ms");
  Post("fail_1");
  store_.AnswerClaims();
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_[0].status, 503);
  EXPECT_EQ(ErrorCode(answers_[0]), "publish_unavailable");
  EXPECT_EQ(store_.releases, 1);
}

TEST_F(EndpointTest, TheWayToPublishIsChosenWhenTheRequestArrivesNotWhenTheClaimReturns) {
  // The claim may complete on a Redis lane thread: the publisher must be the receiving HTTP
  // thread's own, so it is chosen in Handle.
  Start(2500, 0);
  Post("route_1");
  EXPECT_EQ(routes_, 1) << "chosen before the claim is answered";
  store_.AnswerClaims();
  EXPECT_EQ(routes_, 1);
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_[0].status, 202);
}

TEST_F(EndpointTest, DisconnectedBusAnswers503AtOnceWithoutClaiming) {
  Start(2500, 0);
  connected_ = false;
  Post("down_1");
  ASSERT_EQ(answers_.size(), 1u) << "answered without waiting for the store";
  EXPECT_EQ(answers_[0].status, 503);
  EXPECT_EQ(ErrorCode(answers_[0]), "bus_unavailable");
  EXPECT_TRUE(published_.empty());
}

TEST_F(EndpointTest, MinimumDeadlineLeavesRoomForClaimPublishAndRecord) {
  HeldStore remote(550);
  EXPECT_EQ(WebhookEndpoint::MinimumDeadlineMs(remote),
            2 * 550 + WebhookEndpoint::kMinPublishMs + bus::LoopPublisher::kTimerGranularityMs);
}

}  // namespace
}  // namespace tradepipe::gateway
