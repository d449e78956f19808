// Test fixture helper: a real nats-server with JetStream on an ephemeral loopback port and a
// temporary storage directory, killed and deleted when the object goes away (even when the
// test fails). Header-only; for integration tests.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tradepipe::testing {

// A port that was free a moment ago (the kernel's choice for port 0).
inline uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline bool PortAccepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

class NatsServer {
 public:
  // extra_args: more nats-server flags, e.g. {"--user", "u", "--pass", "p"}.
  explicit NatsServer(std::vector<std::string> extra_args = {}) : extra_args_(std::move(extra_args)) {
    char tmpl[] = "/tmp/tradepipe-nats-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    port_ = FreePort();
    Start();
  }
  ~NatsServer() {
    Kill(SIGTERM);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }

  // Restart on the same port and storage (for fault tests).
  void Restart() {
    Kill(SIGTERM);
    Start();
  }
  // Stop() then Start() again, with time in between to observe the outage.
  void Stop() { Kill(SIGTERM); }
  void Start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      // Dies with the test even when the test crashes, and holds none of its pipes (ctest and
      // death tests read them to the end).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (const int null = ::open("/dev/null", O_WRONLY); null >= 0) {
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
      }
      const std::string port = std::to_string(port_);
      const std::string log = dir_ + "/nats.log";
      std::vector<const char*> argv = {"nats-server", "-js", "-a",         "127.0.0.1", "-p",
                                       port.c_str(),  "-sd", dir_.c_str(), "-l",        log.c_str()};
      for (const auto& a : extra_args_) argv.push_back(a.c_str());
      argv.push_back(nullptr);
      ::execvp("nats-server", const_cast<char* const*>(argv.data()));
      std::_Exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!PortAccepts(port_)) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("nats-server did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // SIGSTOP / SIGCONT: a server that accepts bytes but answers nothing.
  // Returns once the kernel reports the process stopped (a signal is delivered asynchronously).
  void Pause() {
    ::kill(pid_, SIGSTOP);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
      std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
      const auto paren = text.rfind(')');
      if (paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'T') return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  void Resume() { ::kill(pid_, SIGCONT); }

 private:
  void Kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::vector<std::string> extra_args_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace tradepipe::testing
