// RedisIdempotencyStore against a real redis-server (ephemeral port, no persistence), on both
// transports: lane threads, and connections on event loops (as the gateway runs it).
#include "redis_idempotency.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

#include "redis_server.hpp"

namespace tradepipe::gateway {
namespace {

// The store answers on its own threads; these wait for the answer.
Result<BeginResult> Begin(RedisIdempotencyStore& store, const std::string& key, uint64_t hash) {
  std::promise<Result<BeginResult>> p;
  auto f = p.get_future();
  store.Begin(key, hash, 0, [&](Result<BeginResult> r) { p.set_value(std::move(r)); });
  return f.get();
}
Status Complete(RedisIdempotencyStore& store, const std::string& key, uint64_t hash, StoredResponse r) {
  std::promise<Status> p;
  auto f = p.get_future();
  store.Complete(key, hash, r, [&](Status s) { p.set_value(std::move(s)); });
  return f.get();
}
Status Release(RedisIdempotencyStore& store, const std::string& key) {
  std::promise<Status> p;
  auto f = p.get_future();
  store.Release(key, [&](Status s) { p.set_value(std::move(s)); });
  return f.get();
}

// A store on the transport under test; with loops, two event loops on threads of their own, shut
// down as the gateway does it (Shutdown while the loops run, then the loops stop).
class StoreRig {
 public:
  explicit StoreRig(const RedisOptions& o) : store(o) {
    if (!o.on_loops) return;
    for (int i = 0; i < 2; ++i) {
      loops_.push_back(std::make_unique<boost::asio::io_context>(1));
      guards_.emplace_back(loops_.back()->get_executor());
      handles_.push_back(store.AttachLoop(*loops_.back()));
      threads_.emplace_back([l = loops_.back().get()] { l->run(); });
    }
  }
  ~StoreRig() {
    store.Shutdown();
    for (auto& loop : loops_) {  // behind the Shutdown's closes, in each loop's order
      std::promise<void> done;
      boost::asio::post(*loop, [&done] { done.set_value(); });
      done.get_future().wait();
      loop->stop();
    }
    for (auto& t : threads_) t.join();
    handles_.clear();
  }
  boost::asio::io_context& loop(size_t i) { return *loops_.at(i); }
  RedisIdempotencyStore store;

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::vector<std::shared_ptr<void>> handles_;
  std::vector<std::thread> threads_;
};

class RedisStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  RedisOptions Options() {
    RedisOptions o;
    o.port = redis_.port();
    o.on_loops = GetParam();
    o.lanes = 2;
    o.timeout = std::chrono::milliseconds(300);
    o.key_prefix = "test:" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ":";
    return o;
  }
  testing::RedisServer redis_;
};

INSTANTIATE_TEST_SUITE_P(Transports, RedisStoreTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Loops" : "Lanes"; });

TEST(RedisUrl, Parses) {
  auto o = ParseRedisUrl("redis://10.0.0.5:6380/2");
  ASSERT_TRUE(o) << o.error();
  EXPECT_EQ(o->host, "10.0.0.5");
  EXPECT_EQ(o->port, 6380);
  EXPECT_EQ(o->db, 2);
  EXPECT_EQ(ParseRedisUrl("redis://cache")->port, 6379);
  EXPECT_FALSE(ParseRedisUrl("http://x"));
  EXPECT_FALSE(ParseRedisUrl("redis://:6379"));
  EXPECT_FALSE(ParseRedisUrl("redis://h:99999"));
  EXPECT_FALSE(ParseRedisUrl("redis://h:1/x"));
}

TEST_P(RedisStoreTest, NewInFlightMismatchReplayRelease) {
  StoreRig rig(Options());
  RedisIdempotencyStore& store = rig.store;
  ASSERT_TRUE(store.Ping().ok());
  EXPECT_EQ(Begin(store, "k", 1)->outcome, BeginOutcome::kNew);
  EXPECT_EQ(Begin(store, "k", 1)->outcome, BeginOutcome::kInFlight);
  EXPECT_EQ(Begin(store, "k", 2)->outcome, BeginOutcome::kMismatch);
  ASSERT_TRUE(Complete(store, "k", 1, {202, R"({"id":"a|b","seq":7})"}).ok());
  const auto replay = Begin(store, "k", 1);
  ASSERT_TRUE(replay) << replay.error();
  EXPECT_EQ(replay->outcome, BeginOutcome::kReplay);
  EXPECT_EQ(replay->replay.status, 202);
  EXPECT_EQ(replay->replay.body, R"({"id":"a|b","seq":7})");
  EXPECT_EQ(Begin(store, "k", 3)->outcome, BeginOutcome::kMismatch);
  ASSERT_TRUE(Release(store, "k").ok());
  EXPECT_EQ(Begin(store, "k", 3)->outcome, BeginOutcome::kNew);
  EXPECT_EQ(store.NotReadyReason(), "");
}

TEST_P(RedisStoreTest, InFlightMarkerExpiresByItself) {
  RedisOptions o = Options();
  o.in_flight_ttl_ms = 200;
  StoreRig rig(o);
  RedisIdempotencyStore& store = rig.store;
  EXPECT_EQ(Begin(store, "k", 1)->outcome, BeginOutcome::kNew);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(Begin(store, "k", 1)->outcome, BeginOutcome::kNew);
}

TEST_P(RedisStoreTest, TwoReplicasShareKeysAndOnlyOneWins) {
  StoreRig rig_a(Options()), rig_b(Options());
  RedisIdempotencyStore &a = rig_a.store, &b = rig_b.store;
  std::atomic<int> winners{0}, others{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      RedisIdempotencyStore& store = t % 2 ? a : b;
      for (int k = 0; k < 200; ++k) {
        auto r = Begin(store, "shared" + std::to_string(k), 9);
        ASSERT_TRUE(r) << r.error();
        (r->outcome == BeginOutcome::kNew ? winners : others)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 200);
  EXPECT_EQ(others.load(), 7 * 200);
}

TEST_P(RedisStoreTest, OutageFailsClosedAndRecovers) {
  StoreRig rig(Options());
  RedisIdempotencyStore& store = rig.store;
  ASSERT_TRUE(Begin(store, "before", 1));
  redis_.Stop();
  const auto start = std::chrono::steady_clock::now();
  auto during = Begin(store, "during", 1);
  ASSERT_FALSE(during);
  EXPECT_NE(during.error().find("redis"), std::string::npos) << during.error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));  // answers, does not hang
  EXPECT_NE(store.NotReadyReason(), "");
  EXPECT_FALSE(Complete(store, "before", 1, {202, "{}"}));
  redis_.Start();
  auto after = Begin(store, "after", 1);
  ASSERT_TRUE(after) << after.error();
  EXPECT_EQ(after->outcome, BeginOutcome::kNew);
  EXPECT_EQ(store.NotReadyReason(), "");
}

TEST_P(RedisStoreTest, ManyConcurrentRequestsArePipelined) {
  StoreRig rig(Options());
  RedisIdempotencyStore& store = rig.store;
  constexpr int kRequests = 5000;
  std::atomic<int> answered{0}, fresh{0};
  std::promise<void> all;
  for (int i = 0; i < kRequests; ++i) {
    store.Begin("p" + std::to_string(i), 1, 0, [&](Result<BeginResult> r) {
      if (r && r->outcome == BeginOutcome::kNew) ++fresh;
      if (++answered == kRequests) all.set_value();
    });
  }
  ASSERT_EQ(all.get_future().wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_EQ(fresh.load(), kRequests);
}

// Lanes answer on their own threads; loops on the thread that asked, when it runs one of them.
TEST_P(RedisStoreTest, OnALoopsThreadTheAnswerStaysOnThatThread) {
  if (!GetParam()) GTEST_SKIP() << "loops only";
  StoreRig rig(Options());
  // Many keys per loop: a dispatch by key alone would send about half of them to the other loop.
  for (size_t i = 0; i < 2; ++i) {
    for (int k = 0; k < 16; ++k) {
      std::promise<bool> same_thread;
      boost::asio::post(rig.loop(i), [&] {
        rig.store.Begin("t" + std::to_string(i) + "_" + std::to_string(k), 1, 0, [&, i](Result<BeginResult> r) {
          same_thread.set_value(r && rig.loop(i).get_executor().running_in_this_thread());
        });
      });
      EXPECT_TRUE(same_thread.get_future().get()) << "loop " << i << " key " << k;
    }
  }
}

// A database number: SELECT on every connection before any command; a SELECT that fails
// fails the commands instead of running them on database 0.
TEST_P(RedisStoreTest, DatabaseIsSelectedAndAFailedSelectRunsNothing) {
  RedisOptions db1 = Options(), db99 = Options(), db0 = Options();
  db1.db = 1;
  db99.db = 99;  // redis-server has 16 databases by default
  StoreRig on1(db1), on99(db99), on0(db0);
  EXPECT_EQ(Begin(on1.store, "k", 1)->outcome, BeginOutcome::kNew);
  EXPECT_EQ(Begin(on1.store, "k", 1)->outcome, BeginOutcome::kInFlight);
  auto refused = Begin(on99.store, "k", 1);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("SELECT 99"), std::string::npos) << refused.error();
  EXPECT_NE(on99.store.NotReadyReason(), "");
  EXPECT_EQ(Begin(on0.store, "k", 1)->outcome, BeginOutcome::kNew) << "nothing written on database 0";
}

TEST_P(RedisStoreTest, AfterShutdownCallsFailAtOnce) {
  StoreRig rig(Options());
  ASSERT_TRUE(Begin(rig.store, "a", 1));
  rig.store.Shutdown();
  auto r = Begin(rig.store, "b", 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "redis: store closed");
}

// The gateway's order: Shutdown, the loops stopped at once (what Shutdown posted may never run),
// threads joined, handles released. A command still waiting for its reply is answered when its
// handle is released, not left to the io_context's destruction.
TEST(RedisStoreOnLoops, ReleasingTheHandleAnswersWhatIsPending) {
  boost::asio::io_context silent_ctx;  // accepts nothing: the kernel completes the connect, no reply ever comes
  boost::asio::ip::tcp::acceptor silent(silent_ctx, {boost::asio::ip::make_address("127.0.0.1"), 0});
  RedisOptions o;
  o.port = silent.local_endpoint().port();
  o.on_loops = true;
  o.timeout = std::chrono::seconds(30);
  RedisIdempotencyStore store(o);
  boost::asio::io_context loop(1);
  auto guard = boost::asio::make_work_guard(loop);
  auto handle = store.AttachLoop(loop);
  std::thread runner([&] { loop.run(); });
  std::promise<std::string> answer;
  auto answered = answer.get_future();
  store.Begin("k", 1, 0, [&](Result<BeginResult> r) { answer.set_value(r ? "ok" : r.error()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // connected, SET written, no reply
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  // The worst case of the gateway's order: the loop stops before the Close that Shutdown posts.
  loop.stop();
  runner.join();
  store.Shutdown();
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  handle.reset();
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(answered.get(), "redis: store closed");
}

class RedisStoreUnreachable : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Transports, RedisStoreUnreachable, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Loops" : "Lanes"; });

TEST_P(RedisStoreUnreachable, ErrorsInsteadOfHanging) {
  RedisOptions o;
  o.port = testing::FreePort();
  o.on_loops = GetParam();
  o.timeout = std::chrono::milliseconds(200);
  StoreRig rig(o);
  auto r = Begin(rig.store, "k", 1);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("cannot connect"), std::string::npos) << r.error();
  EXPECT_NE(rig.store.NotReadyReason(), "");
}

}  // namespace
}  // namespace tradepipe::gateway
