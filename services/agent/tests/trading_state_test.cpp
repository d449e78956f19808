// The kill switch against a real nats-server (started per test, ephemeral port, temporary
// directory): a switch is recorded in ORDERS, read back at start, and reaches another replica.
#include <gtest/gtest.h>

#include <thread>

#include "nats_server.hpp"
#include "trading_state_admin.hpp"

namespace tradepipe::agent {
namespace {

constexpr const char* kToken = "test-admin-token-0123456789";

std::unique_ptr<bus::Bus> Connect(const testing::NatsServer& server) {
  auto bus = bus::Bus::Connect({.url = server.url(), .name = "trading-state-test", .connect_timeout_ms = 5000});
  if (!bus) throw std::runtime_error(bus.error());
  if (auto s = (*bus)->Provision(bus::DefaultTopology()); !s) throw std::runtime_error(s.error());
  return std::move(*bus);
}

// POST /admin/trading-state with `authorization` as its Authorization header.
http::Response Post(TradingStateAdmin& admin, const std::string& authorization, std::string_view body) {
  const http::Request request("POST", "/admin/trading-state", body, &authorization,
                              [](const void* raw, std::string_view name) -> std::string_view {
                                return name == "Authorization" ? *static_cast<const std::string*>(raw)
                                                               : std::string_view();
                              });
  return admin.Switch(request);
}

bool Becomes(const TradingStateSwitch& state, TradingState expected) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (state.Get() == expected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(TradingStateAdminTest, ASwitchIsRecordedReadBackAtStartAndReachesAnotherReplica) {
  testing::NatsServer server;
  auto bus_a = Connect(server);
  auto bus_b = Connect(server);
  TradingStateSwitch state_a, state_b;
  TradingStateAdmin a(*bus_a, state_a, kToken), b(*bus_b, state_b, kToken);
  ASSERT_TRUE(a.Restore());
  ASSERT_TRUE(b.Restore());
  EXPECT_EQ(state_b.Get(), TradingState::kActive);
  b.Follow(std::chrono::milliseconds(50));

  EXPECT_EQ(Post(a, "Bearer wrong-token-0123456789", R"({"state":"halted"})").status, 401);
  EXPECT_EQ(Post(a, std::string("Bearer ") + kToken, R"({"state":"halted","mode":"x"})").status, 422);
  EXPECT_EQ(state_a.Get(), TradingState::kActive);
  const http::Response ok = Post(a, std::string("Bearer ") + kToken, R"({"state":"halted","reason":"drill"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body, R"({"state":"halted","previous":"active","reason":"drill"})");
  EXPECT_EQ(state_a.Get(), TradingState::kHalted);
  EXPECT_TRUE(Becomes(state_b, TradingState::kHalted)) << "the other replica did not follow";
  // And back, from the other replica.
  ASSERT_EQ(Post(b, std::string("Bearer ") + kToken, R"({"state":"reducing"})").status, 200);
  b.StopFollowing();
  a.Follow(std::chrono::milliseconds(50));
  EXPECT_TRUE(Becomes(state_a, TradingState::kReducing));

  // A new agent reads the last switch at start.
  TradingStateSwitch state_c;
  TradingStateAdmin c(*bus_a, state_c, "");
  ASSERT_TRUE(c.Restore());
  EXPECT_EQ(state_c.Get(), TradingState::kReducing);
  EXPECT_EQ(Post(c, std::string("Bearer ") + kToken, R"({"state":"active"})").status, 403);  // no token: disabled
}

}  // namespace
}  // namespace tradepipe::agent
