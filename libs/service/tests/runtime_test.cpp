// Runtime against a real nats-server: provisioning, /ready, and the two-phase shutdown on SIGTERM.
#include "tradepipe/service/runtime.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "nats_server.hpp"
#include "tradepipe/common/shutdown.hpp"

namespace tradepipe::service {
namespace {

std::string HttpGet(uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST(Runtime, ServesReadinessAndStopsInOrderOnSigterm) {
  BlockShutdownSignals();  // as a service main does, before any thread starts
  testing::NatsServer nats;
  config::CommonConfig common;
  common.http_host = "127.0.0.1";
  common.http_port = testing::FreePort();
  common.nats_url = nats.url();
  common.log_level = "warn";
  auto rt = Runtime::Start("runtime-test", common, {});
  ASSERT_TRUE(rt);
  std::atomic<bool> extra_ready{false};
  rt->AddReadinessCheck([&] { return extra_ready ? std::string() : std::string("warming up"); });
  std::atomic<bool> input_stopped{false};

  std::thread prober([&] {
    for (int i = 0; i < 200 && HttpGet(common.http_port, "/health").empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const std::string warming = HttpGet(common.http_port, "/ready");
    EXPECT_NE(warming.find("503"), std::string::npos) << warming;
    EXPECT_NE(warming.find("warming up"), std::string::npos) << warming;
    extra_ready = true;
    const std::string ready = HttpGet(common.http_port, "/ready");
    EXPECT_NE(ready.find("200 OK"), std::string::npos) << ready;
    EXPECT_NE(HttpGet(common.http_port, "/metrics").find("process_cpu_seconds_total"), std::string::npos);
    ::kill(::getpid(), SIGTERM);
  });
  const int code = rt->ServeUntilSignal([&] { input_stopped = true; });
  prober.join();
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(input_stopped);
  EXPECT_TRUE(HttpGet(common.http_port, "/health").empty());  // listener closed
}

TEST(Runtime, UnreachableNatsFailsStart) {
  config::CommonConfig common;
  common.nats_url = "nats://127.0.0.1:" + std::to_string(testing::FreePort());
  common.nats_connect_timeout_s = 0;
  common.log_level = "error";
  EXPECT_EQ(Runtime::Start("runtime-test", common, {}), nullptr);
}

}  // namespace
}  // namespace tradepipe::service
