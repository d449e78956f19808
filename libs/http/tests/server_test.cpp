#include "tradepipe/http/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "tradepipe/http/service_endpoints.hpp"

namespace tradepipe::http {
namespace {

sockaddr_in LoopbackAddress(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Sends raw bytes, reads until the peer closes or `expect_responses` complete responses arrived.
std::string Exchange(uint16_t port, const std::string& raw, int expect_responses = 1) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in addr = LoopbackAddress(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return "connect failed";
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  size_t sent = 0;
  while (sent < raw.size()) {
    const ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string out;
  char buf[4096];
  while (true) {
    int complete = 0;
    for (size_t pos = 0; (pos = out.find("HTTP/1.1 ", pos)) != std::string::npos; ++pos) ++complete;
    if (complete >= expect_responses && out.rfind("\r\n\r\n") != std::string::npos) {
      // Good enough for these tests: bodies are small and arrive with their headers.
      const auto cl = out.rfind("Content-Length: ");
      const auto hdr_end = out.find("\r\n\r\n", cl);
      if (cl != std::string::npos && hdr_end != std::string::npos &&
          out.size() >= hdr_end + 4 + std::stoul(out.substr(cl + 16))) {
        break;
      }
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Get("/hello", [](const Request&) { return Json(200, R"({"hello":"world"})"); });
    router_.Get("/whoami",
                [](const Request& r) { return Json(200, "{\"remote\":\"" + std::string(r.remote_address()) + "\"}"); });
    router_.Post("/echo", [](const Request& r) {
      return Json(
          200, "{\"len\":" + std::to_string(r.body().size()) + ",\"x\":\"" + std::string(r.Header("X-Test")) + "\"}");
    });
    router_.PostPrefix("/later/", [](const Request& r, Responder respond) {
      std::thread([respond, path = std::string(r.path())] {
        respond(Json(202, "{\"path\":\"" + path + "\"}"));
      }).detach();
    });
    router_.Get("/headers", [](const Request&) {
      Response r = Json(200, "{}");
      r.headers = {{"Retry-After", "1"}, {"X-Split", "a\r\nX-Injected: yes"}, {"content-length", "999"}};
      return r;
    });
    AddServiceEndpoints(router_, metrics_, [] { return std::string("nats disconnected"); });
    ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    options.body_limit = 1024;
    options.header_limit = 2048;
    options.read_timeout = std::chrono::milliseconds(500);
    server_ = std::make_unique<Server>(options, router_.AsHandler());
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override { server_->Stop(); }

  std::string Get(const std::string& path) {
    return Exchange(server_->port(), "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }

  metrics::Metrics metrics_;
  Router router_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, RoutesAndStatuses) {
  EXPECT_NE(Get("/hello").find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(Get("/hello?x=1").find(R"({"hello":"world"})"), std::string::npos);
  const std::string missing = Get("/nope");
  EXPECT_NE(missing.find("HTTP/1.1 404"), std::string::npos);
  EXPECT_NE(missing.find(R"("error":"not_found")"), std::string::npos);
  const std::string wrong_method = Get("/echo");
  EXPECT_NE(wrong_method.find("HTTP/1.1 405"), std::string::npos);
  EXPECT_NE(wrong_method.find("Allow: POST"), std::string::npos);
}

TEST_F(ServerTest, AnswerHeadersAreFramedAndCannotBeSplit) {
  const std::string r = Get("/headers");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("\r\nRetry-After: 1\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\r\nContent-Type: application/json\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\r\nContent-Length: 2\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\r\nConnection: close\r\n\r\n{}"), std::string::npos) << r;  // the client asked to close
  EXPECT_EQ(r.find("X-Injected"), std::string::npos) << r;
  EXPECT_EQ(r.find("999"), std::string::npos) << "a handler's framing header is not sent: " << r;
}

TEST_F(ServerTest, RemoteAddressIsThePeer) {
  EXPECT_NE(Get("/whoami").find(R"({"remote":"127.0.0.1"})"), std::string::npos);
}

TEST_F(ServerTest, ServiceEndpoints) {
  EXPECT_NE(Get("/health").find("HTTP/1.1 200"), std::string::npos);
  const std::string ready = Get("/ready");
  EXPECT_NE(ready.find("HTTP/1.1 503"), std::string::npos);
  EXPECT_NE(ready.find("nats disconnected"), std::string::npos);
  const std::string metrics = Get("/metrics");
  EXPECT_NE(metrics.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(metrics.find("process_resident_memory_bytes"), std::string::npos);
}

TEST_F(ServerTest, AsynchronousResponderFromAnotherThread) {
  const std::string r = Exchange(
      server_->port(), "POST /later/abc HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 202"), std::string::npos);
  EXPECT_NE(r.find(R"({"path":"/later/abc"})"), std::string::npos);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  const std::string one = "POST /echo HTTP/1.1\r\nHost: x\r\nX-Test: first\r\nContent-Length: 3\r\n\r\nabc";
  const std::string two = "POST /echo HTTP/1.1\r\nHost: x\r\nX-Test: second\r\nContent-Length: 5\r\n\r\nabcde";
  const std::string r = Exchange(server_->port(), one + two, 2);
  const auto first = r.find(R"({"len":3,"x":"first"})");
  const auto second = r.find(R"({"len":5,"x":"second"})");
  ASSERT_NE(first, std::string::npos) << r;
  ASSERT_NE(second, std::string::npos) << r;
  EXPECT_LT(first, second);
}

TEST_F(ServerTest, OversizedBodyGets413) {
  const std::string r = Exchange(
      server_->port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'a'));
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
  EXPECT_NE(r.find(R"("error":"body_too_large")"), std::string::npos) << r;
}

TEST_F(ServerTest, OversizedHeadersGet431) {
  const std::string r =
      Exchange(server_->port(), "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'b') + "\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 431"), std::string::npos) << r;
}

TEST_F(ServerTest, GarbageGets400) {
  const std::string r = Exchange(server_->port(), "THIS IS NOT HTTP\r\n\r\n");
  EXPECT_NE(r.find("HTTP/1.1 400"), std::string::npos) << r;
}

TEST_F(ServerTest, StalledClientIsCutOff) {
  // Half a request, then silence: the read timeout (500 ms) closes the connection.
  const auto start = std::chrono::steady_clock::now();
  const std::string r = Exchange(server_->port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_LT(waited, std::chrono::seconds(4));  // closed by the server, not by our 5 s receive timeout
}

// A connected socket that sends nothing (an idle client); -1 when connect fails.
int IdleConnection(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  const sockaddr_in addr = LoopbackAddress(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

template <typename Predicate>
bool WaitFor(Predicate done) {
  for (int i = 0; i < 300 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

class ServerLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Get("/hello", [](const Request&) { return Json(200, R"({"hello":"world"})"); });
    ServerOptions options;
    options.host = "127.0.0.1";
    options.max_connections = 3;
    options.read_timeout = std::chrono::milliseconds(10'000);  // idle clients stay
    server_ = std::make_unique<Server>(options, router_.AsHandler());
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    for (int fd : idle_) ::close(fd);
    server_->Stop();
  }
  std::string Hello() {
    return Exchange(server_->port(), "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }
  Router router_;
  std::unique_ptr<Server> server_;
  std::vector<int> idle_;
};

TEST_F(ServerLimits, ConnectionsBeyondTheCapAreClosedAndServingGoesOn) {
  for (int i = 0; i < 3; ++i) idle_.push_back(IdleConnection(server_->port()));
  ASSERT_TRUE(WaitFor([&] { return server_->open_connections() == 3; })) << server_->open_connections();
  EXPECT_EQ(Hello(), "");  // closed at once, no answer
  EXPECT_EQ(server_->refused_connections(), 1u);
  ::close(idle_.back());
  idle_.pop_back();
  ASSERT_TRUE(WaitFor([&] { return server_->open_connections() == 2; }));
  EXPECT_NE(Hello().find("HTTP/1.1 200"), std::string::npos);
}

TEST_F(ServerLimits, OutOfDescriptorsBacksOffInsteadOfSpinningAndRecovers) {
  rlimit original{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  // Client sockets first, then a limit at the lowest free descriptor (every one below it is in
  // use): the connections then wait in the backlog and the server's accept() fails with EMFILE.
  for (int i = 0; i < 3; ++i) idle_.push_back(::socket(AF_INET, SOCK_STREAM, 0));
  const int lowest_free = ::dup(0);
  ::close(lowest_free);
  rlimit tight = original;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  const sockaddr_in addr = LoopbackAddress(server_->port());
  for (int fd : idle_) ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const uint64_t failures = server_->accept_failures();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &original), 0);
  EXPECT_GT(failures, 0u) << "accept() never failed: the limit was not reached";
  EXPECT_LT(failures, 20u) << "accept() retried in a tight loop";
  for (int fd : idle_) ::close(fd);
  idle_.clear();
  // Serving goes on once descriptors are free again (the back-off is at most 1 s).
  bool served = false;
  for (int i = 0; i < 30 && !served; ++i) {
    served = Hello().find("HTTP/1.1 200") != std::string::npos;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(served);
}

TEST(Server, PortInUseIsAClearError) {
  Router router;
  ServerOptions options;
  options.host = "127.0.0.1";
  Server first(options, router.AsHandler());
  ASSERT_TRUE(first.Start().ok());
  options.port = first.port();
  Server second(options, router.AsHandler());
  const Status s = second.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("cannot listen"), std::string::npos) << s.error();
}

}  // namespace
}  // namespace tradepipe::http
