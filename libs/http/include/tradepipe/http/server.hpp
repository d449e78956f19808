// The HTTP/1.1 server every service uses (Boost.Beast underneath, kept out of this header so
// including it stays cheap). A handler receives a Request and answers once through a
// Responder, which may be called later and from any thread (e.g. after a JetStream PubAck).
//
//   http::Router router;
//   router.Get("/health", [](const http::Request&) { return http::Json(200, R"({"status":"ok"})"); });
//   http::Server server({.host = "0.0.0.0", .port = 8001}, router.AsHandler());
//   if (auto s = server.Start(); !s) die(s.error());
//   ...
//   server.Stop();  // stop accepting, drain in-flight requests (bounded), join threads
//
// Connections are keep-alive; requests on one connection are answered in order, one at a
// time (pipelined requests wait in Beast's read buffer). Limits: body size (413), header size
// (431), read timeout per request (slow or stalled clients are cut off).
// Thread-safety: Start/Stop from one thread; handlers run on the server's threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tradepipe/common/result.hpp"

namespace boost::asio {
class io_context;
}

namespace tradepipe::http {

// A view of one request, valid only during the handler call: copy what outlives it.
class Request {
 public:
  using HeaderLookup = std::string_view (*)(const void* raw, std::string_view name);
  Request(std::string_view method, std::string_view target, std::string_view body, const void* raw, HeaderLookup lookup,
          std::string_view remote_address = {})
      : method_(method), target_(target), body_(body), remote_(remote_address), raw_(raw), lookup_(lookup) {}

  std::string_view method() const { return method_; }
  std::string_view target() const { return target_; }
  // Target without the query string.
  std::string_view path() const { return target_.substr(0, target_.find('?')); }
  std::string_view query() const {
    const auto q = target_.find('?');
    return q == std::string_view::npos ? std::string_view() : target_.substr(q + 1);
  }
  std::string_view body() const { return body_; }
  // The TCP peer's address as text ("127.0.0.1", "::1"); empty if unknown.
  std::string_view remote_address() const { return remote_; }
  // Case-insensitive; empty when absent.
  std::string_view Header(std::string_view name) const { return lookup_ ? lookup_(raw_, name) : std::string_view(); }

 private:
  std::string_view method_, target_, body_, remote_;
  const void* raw_;
  HeaderLookup lookup_;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// JSON response helpers. Every error body is {"error": "<stable code>", "message": "..."}.
Response Json(int status, std::string body);
Response JsonError(int status, std::string_view code, std::string_view message);

// Call exactly once, from any thread.
using Responder = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Responder)>;

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 0;  // 0: any free port, see Server::port()
  int threads = 1;
  size_t body_limit = 64 * 1024;
  size_t header_limit = 8 * 1024;
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds drain_timeout{5'000};
  // Open connections at most; one more is accepted and closed at once (counted), so idle
  // connections cannot use up the process's descriptors.
  size_t max_connections = 10'000;
  // Called by Start for each server thread's event loop before it serves: attach a client that
  // should live on that loop (the gateway's NATS publishers). What it returns is released after
  // every loop stopped (Stop) and before any is destroyed.
  std::function<std::shared_ptr<void>(int worker, boost::asio::io_context& loop)> attach;
  // Called by Stop once the drain is over (or its deadline passed), while the loops still run:
  // stop whatever else could hand work to them later (the gateway's Redis lanes).
  std::function<void()> on_drained;
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the threads. Fails with the reason (e.g. port in use).
  Status Start();
  // The bound port (useful with port 0).
  uint16_t port() const;
  // Two-phase: close the listener, wait for in-flight requests up to drain_timeout, stop.
  void Stop();

  size_t open_connections() const;
  // Connections closed at once because max_connections were open, and accept() failures (such
  // as EMFILE: the listener then waits, up to 1 s, instead of spinning).
  uint64_t refused_connections() const;
  uint64_t accept_failures() const;

  struct Impl;  // opaque: Beast stays in server.cpp

 private:
  std::unique_ptr<Impl> impl_;
};

// Path routing: exact paths and prefixes ("/webhook/"), with JSON 404 and 405 answers.
class Router {
 public:
  using SyncHandler = std::function<Response(const Request&)>;

  void Get(std::string path, SyncHandler handler);
  void Post(std::string path, SyncHandler handler);
  void GetPrefix(std::string prefix, SyncHandler handler);
  // An asynchronous handler for every path that starts with `prefix`.
  void PostPrefix(std::string prefix, Handler handler);

  void Dispatch(const Request& request, Responder respond) const;
  Handler AsHandler() const;

 private:
  struct Route {
    std::string method;
    std::string path;
    bool prefix;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace tradepipe::http
