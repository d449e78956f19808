// Test fixture helper: a real redis-server on an ephemeral loopback port, no persistence, in a
// temporary directory; killed and deleted with the object. Stop()/Start() simulate an outage.
// Header-only; for integration tests.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "nats_server.hpp"  // FreePort, PortAccepts

namespace tradepipe::testing {

class RedisServer {
 public:
  RedisServer() {
    char tmpl[] = "/tmp/tradepipe-redis-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    port_ = FreePort();
    Start();
  }
  ~RedisServer() {
    Stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  uint16_t port() const { return port_; }

  void Start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string port = std::to_string(port_);
      ::execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", port.c_str(), "--save", "",
               "--appendonly", "no", "--dir", dir_.c_str(), "--logfile", (dir_ + "/redis.log").c_str(),
               static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!PortAccepts(port_)) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("redis-server did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tradepipe::testing
