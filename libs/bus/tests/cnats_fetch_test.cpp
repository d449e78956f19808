// The fetch defect of cnats 3.4.1 (nats.c PR #749, docs/trust.md item 12), against a real
// nats-server: why our consumers pull with bus::PullRequests instead of natsSubscription_Fetch.
//
// The state the defect needs: user messages queued on a pull subscription's inbox that the fetch
// did not ask for (late deliveries of an earlier, expired request), and more arriving during the
// fetch. 3.4.1 takes the c queued ones, asks the server for Batch - c, then loops until its count
// equals Batch - c: with c > (Batch - c) it never does, and every further message is written past
// the Batch-sized array (ASan: heap-buffer-overflow; a plain build returns more than Batch
// messages, or the heap is corrupt: "malloc(): invalid size"). The scenario: 10 queued by a
// hand-made request, a fetch of 12 (its own request gets the 2 it asks for), then during the
// fetch another pull request of 10 on the same inbox and 20 new messages.
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <sys/wait.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>

#include "cnats_stream.hpp"
#include "nats_server.hpp"
#include "pull_requests.hpp"

namespace tradepipe::bus {
namespace {

using namespace std::chrono_literals;

constexpr int kBatch = 12;
const char* kNext = "$JS.API.CONSUMER.MSG.NEXT.F.d";

// A stream F with a durable pull consumer d, on a server of its own.
struct Fixture {
  testing::NatsServer server;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;

  Fixture() {
    if (natsConnection_ConnectTo(&nc, server.url().c_str()) != NATS_OK) throw std::runtime_error("connect");
    if (natsConnection_JetStream(&js, nc, nullptr) != NATS_OK) throw std::runtime_error("jetstream");
    testing::AddStream(js, "F", "f.>");
    testing::AddDurable(js, "F", "d");
  }
  ~Fixture() {
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }

  void Publish(int from, int n) {
    for (int i = from; i < from + n; ++i) {
      const std::string data = "m" + std::to_string(i);
      if (js_Publish(nullptr, js, "f.x", data.data(), static_cast<int>(data.size()), nullptr, nullptr) != NATS_OK) {
        throw std::runtime_error("publish");
      }
    }
  }

  // Sets up the state above on `inbox` (read with `queued`), then runs `fetch` while another
  // request and 20 messages arrive. Returns what `fetch` returned.
  int Scenario(const std::string& inbox, const std::function<int()>& queued, const std::function<int()>& fetch) {
    Publish(0, 10);
    natsConnection_PublishRequestString(nc, kNext, inbox.c_str(), R"({"batch":10})");
    for (int i = 0; i < 500 && queued() < 10; ++i) std::this_thread::sleep_for(10ms);
    if (queued() != 10) throw std::runtime_error("the hand-made request's 10 messages are not queued");
    Publish(10, 2);
    std::thread late([this, inbox] {
      std::this_thread::sleep_for(300ms);
      natsConnection_PublishRequestString(nc, kNext, inbox.c_str(), R"({"batch":10})");
      Publish(12, 20);
    });
    const int got = fetch();
    late.join();
    return got;
  }
};

// The canary: cnats' own fetch overruns its batch (or corrupts the heap) in this state. It runs in
// a child process, which may crash. When this fails, the linked cnats is fixed (3.9.0+) and
// PullRequests could give way to natsSubscription_Fetch again.
TEST(CnatsFetch, LinkedCnatsFetchOverrunsItsBatchSoOurConsumersDoNotCallIt) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        Fixture f;
        natsSubscription* sub = nullptr;
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = "F";
        so.Consumer = "d";
        if (js_PullSubscribe(&sub, f.js, "f.>", "d", nullptr, &so, nullptr) != NATS_OK) std::_Exit(10);
        const int got = f.Scenario(
            natsSubscription_GetSubject(sub),
            [sub] {
              int msgs = 0, bytes = 0;
              natsSubscription_GetPending(sub, &msgs, &bytes);
              return msgs;
            },
            [sub] {
              natsMsgList list{};
              if (natsSubscription_Fetch(&list, sub, kBatch, 2000, nullptr) != NATS_OK) return -1;
              const int count = list.Count;
              natsMsgList_Destroy(&list);
              return count;
            });
        std::_Exit(got > kBatch ? 3 : 0);  // 3: the defect, seen without a crash
      },
      [](int status) { return WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 3); }, "");
}

TEST(CnatsFetch, PullRequestsNeverHandOverMoreThanTheBatchAndLoseNothing) {
  Fixture f;
  PullRequests pull(f.nc, "F", "d");
  ASSERT_TRUE(pull.status().ok()) << pull.status().error();
  std::set<std::string> seen;
  int most = 0;
  auto take = [&](int timeout_ms) {
    auto got = pull.Next(kBatch, timeout_ms);
    if (!got) throw std::runtime_error(got.error());
    most = std::max(most, static_cast<int>(got->size()));
    for (natsMsg* m : *got) {
      seen.emplace(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
      natsConnection_PublishString(f.nc, natsMsg_GetReply(m), "+ACK");
      natsMsg_Destroy(m);
    }
    return static_cast<int>(got->size());
  };
  f.Scenario(
      pull.inbox(), [&] { return pull.Queued(); }, [&] { return take(2000); });
  for (int i = 0; i < 50 && seen.size() < 32; ++i) take(100);
  EXPECT_LE(most, kBatch);
  EXPECT_EQ(seen.size(), 32u) << "every message published is handed over once";
}

}  // namespace
}  // namespace tradepipe::bus
