// Beast plumbing, after Beast's own advanced_server example: a session owns its stream, buffer
// and a fresh parser per request, with the limits applied before every read. Unlike the example,
// each server thread runs its own io_context and the one acceptor hands connections out round
// robin: a connection lives on one thread, so it needs no strand and threads share no queue
// (the "one io_context per core" design, without SO_REUSEPORT so a port in use stays an error).
#include "tradepipe/http/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>

namespace tradepipe::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using BeastRequest = bhttp::request<bhttp::string_body>;

std::string_view View(beast::string_view s) { return {s.data(), s.size()}; }

std::string_view LookupHeader(const void* raw, std::string_view name) {
  const auto& req = *static_cast<const BeastRequest*>(raw);
  auto it = req.find(beast::string_view(name.data(), name.size()));
  return it == req.end() ? std::string_view() : View(it->value());
}

// Conditions that end a connection normally: never logged as errors.
bool IsExpectedClose(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted || ec == beast::error::timeout ||
         ec == net::error::connection_reset || ec == net::error::eof || ec == net::error::broken_pipe;
}

}  // namespace

struct Server::Impl {
  struct Worker {
    net::io_context ioc{1};
    net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
    std::shared_ptr<void> attachment;  // see ServerOptions::attach
  };

  ServerOptions options;
  Handler handler;
  std::atomic<size_t> connections{0};  // before workers: sessions outlive neither
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<tcp::acceptor> acceptor;  // runs on workers[0]
  size_t next_worker = 0;
  std::vector<std::thread> threads;
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};
  uint16_t bound_port = 0;
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> accept_failures{0};
  std::unique_ptr<net::steady_timer> accept_backoff;  // on workers[0], like the acceptor
  std::chrono::milliseconds backoff{0};

  void Accept();
  void OnAccepted(tcp::socket socket);
  void OnAcceptFailed(const beast::error_code& ec);
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Server::Impl& server) : stream_(std::move(socket)), server_(server) {
    server_.connections.fetch_add(1, std::memory_order_relaxed);
  }
  ~Session() { server_.connections.fetch_sub(1, std::memory_order_relaxed); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Run() {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
    // An answer is one write; without this, Nagle would hold it behind a pipelined answer
    // still waiting for its ACK (up to the peer's delayed-ACK timer).
    stream_.socket().set_option(tcp::no_delay(true), ec);
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(server_.options.body_limit);
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
    stream_.expires_after(server_.options.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::body_limit) {
      return WriteFinal(JsonError(413, "body_too_large",
                                  "request body exceeds " + std::to_string(server_.options.body_limit) + " bytes"));
    }
    if (ec == bhttp::error::header_limit) {
      return WriteFinal(JsonError(431, "headers_too_large", "request headers too large"));
    }
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return WriteFinal(JsonError(400, "bad_request", "malformed HTTP request: " + ec.message()));
    }
    if (ec) {
      if (!IsExpectedClose(ec) && ec != bhttp::error::partial_message) {
        spdlog::debug("http read failed error={}", ec.message());
      }
      return Close();
    }
    stream_.expires_never();
    const BeastRequest& req = parser_->get();
    keep_alive_ = req.keep_alive();
    counted_ = true;
    server_.in_flight.fetch_add(1, std::memory_order_relaxed);
    Request view(View(req.method_string()), View(req.target()), req.body(), &req, &LookupHeader, remote_);
    auto self = shared_from_this();
    server_.handler(view, [self](Response response) {
      net::post(self->stream_.get_executor(),
                [self, response = std::move(response)]() mutable { self->Write(std::move(response)); });
    });
  }

  void WriteFinal(Response response) {
    keep_alive_ = false;
    Write(std::move(response));
  }

  // The answer is written as one string: status line, our few headers, body. Cheaper than Beast's
  // serializer with its allocated field list (docs/benchmarks.md), and all we ever send.
  void Write(Response response) {
    if (response.status < 200 || response.status > 599) {  // 1xx and others are never ours to send
      spdlog::error("http: handler answered status {}; sent as 500", response.status);
      response = JsonError(500, "internal", "invalid answer");
    }
    keep_alive_after_write_ = keep_alive_ && !server_.stopping.load(std::memory_order_relaxed);
    const bool bodyless = response.status == 204 || response.status == 304;
    out_.clear();
    out_ += "HTTP/1.1 ";
    out_ += std::to_string(response.status);
    out_ += ' ';
    const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(response.status));
    out_.append(reason.data(), reason.size());
    out_ += "\r\nServer: tradepipe\r\n";
    if (!bodyless) AppendHeader("Content-Type", response.content_type, /*framing_allowed=*/true);
    for (const auto& [name, value] : response.headers) AppendHeader(name, value, /*framing_allowed=*/false);
    if (!bodyless) {
      out_ += "Content-Length: ";
      out_ += std::to_string(response.body.size());
      out_ += "\r\n";
    }
    out_ += keep_alive_after_write_ ? "\r\n" : "Connection: close\r\n\r\n";
    if (!bodyless) out_ += response.body;
    stream_.expires_after(server_.options.read_timeout);
    net::async_write(stream_, net::buffer(out_), beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
  }

  // Handlers set only fixed names and values they built; still, a control character could split
  // the answer and a framing header of theirs would contradict ours: such a header is dropped
  // (and logged) rather than sent.
  void AppendHeader(std::string_view name, std::string_view value, bool framing_allowed) {
    const auto is_control = [](char c) { return static_cast<unsigned char>(c) < ' ' && c != '\t'; };
    const bool bad_name = name.empty() || std::any_of(name.begin(), name.end(), [&](char c) {
                            return is_control(c) || c == ':' || c == ' ' || c == '\t';
                          });
    if (bad_name || std::any_of(value.begin(), value.end(), is_control)) {
      spdlog::error("http: a handler's header was dropped: control character, space or ':' in it");
      return;
    }
    static constexpr std::string_view kFraming[] = {"content-length", "transfer-encoding", "connection", "server",
                                                    "content-type"};
    if (!framing_allowed && std::any_of(std::begin(kFraming), std::end(kFraming), [&](std::string_view f) {
          return beast::iequals(beast::string_view(name.data(), name.size()), beast::string_view(f.data(), f.size()));
        })) {
      spdlog::error("http: a handler's header {} was dropped: the server sets it", name);
      return;
    }
    out_ += name;
    out_ += ": ";
    out_ += value;
    out_ += "\r\n";
  }

  void OnWrite(beast::error_code ec, std::size_t) {
    if (counted_) {
      counted_ = false;
      server_.in_flight.fetch_sub(1, std::memory_order_relaxed);
    }
    if (ec) {
      if (!IsExpectedClose(ec)) spdlog::debug("http write failed error={}", ec.message());
      return Close();
    }
    if (!keep_alive_after_write_) return Close();
    Read();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string out_;  // the answer being written
  Server::Impl& server_;
  bool keep_alive_ = false;
  bool keep_alive_after_write_ = false;
  bool counted_ = false;
  std::string remote_;  // the peer's address, read once per connection
};

}  // namespace

void Server::Impl::Accept() {
  auto& target = workers[next_worker++ % workers.size()]->ioc;
  acceptor->async_accept(target.get_executor(), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping.load()) return;
    if (ec == net::error::operation_aborted) return;
    if (ec) return OnAcceptFailed(ec);
    backoff = std::chrono::milliseconds(0);
    OnAccepted(std::move(socket));
    Accept();
  });
}

void Server::Impl::OnAccepted(tcp::socket socket) {
  if (connections.load(std::memory_order_relaxed) >= options.max_connections) {
    // Closed at once: a slow 503 would hold the descriptor the cap exists to save.
    if (refused.fetch_add(1, std::memory_order_relaxed) % 1000 == 0) {
      spdlog::warn("http connection refused: {} connections open (max_connections), {} refused so far",
                   connections.load(), refused.load());
    }
    beast::error_code ignored;
    socket.close(ignored);
    return;
  }
  std::make_shared<Session>(std::move(socket), *this)->Run();
}

void Server::Impl::OnAcceptFailed(const beast::error_code& ec) {
  // EMFILE, ENFILE, ENOBUFS...: accepting again at once would fail again at once. Wait, doubling
  // up to 1 s; connections keep being served meanwhile and free descriptors as they close.
  accept_failures.fetch_add(1, std::memory_order_relaxed);
  backoff = std::clamp(backoff * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
  spdlog::warn("http accept failed error={}, retrying in {} ms", ec.message(), backoff.count());
  accept_backoff->expires_after(backoff);
  accept_backoff->async_wait([this](beast::error_code wait_ec) {
    if (!wait_ec && !stopping.load()) Accept();
  });
}

Server::Server(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i)
    impl_->workers.push_back(std::make_unique<Impl::Worker>());
  impl_->acceptor = std::make_unique<tcp::acceptor>(impl_->workers[0]->ioc);
  impl_->accept_backoff = std::make_unique<net::steady_timer>(impl_->workers[0]->ioc);
}

Server::~Server() { Stop(); }

Status Server::Start() {
  beast::error_code ec;
  const auto address = net::ip::make_address(impl_->options.host, ec);
  if (ec) return Status::Error("bad listen address '" + impl_->options.host + "': " + ec.message());
  const tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = *impl_->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); ec) return Status::Error("socket: " + ec.message());
  if (acceptor.set_option(net::socket_base::reuse_address(true), ec); ec) return Status::Error(ec.message());
  if (acceptor.bind(endpoint, ec); ec) {
    return Status::Error("cannot listen on " + impl_->options.host + ":" + std::to_string(impl_->options.port) + ": " +
                         ec.message());
  }
  if (acceptor.listen(net::socket_base::max_listen_connections, ec); ec) return Status::Error(ec.message());
  impl_->bound_port = acceptor.local_endpoint().port();
  impl_->Accept();
  if (impl_->options.attach) {
    for (size_t i = 0; i < impl_->workers.size(); ++i) {
      impl_->workers[i]->attachment = impl_->options.attach(static_cast<int>(i), impl_->workers[i]->ioc);
    }
  }
  for (auto& worker : impl_->workers) {
    impl_->threads.emplace_back([w = worker.get()] { w->ioc.run(); });
  }
  return {};
}

uint16_t Server::port() const { return impl_->bound_port; }
size_t Server::open_connections() const { return impl_->connections.load(); }
uint64_t Server::refused_connections() const { return impl_->refused.load(); }
uint64_t Server::accept_failures() const { return impl_->accept_failures.load(); }

void Server::Stop() {
  if (impl_->threads.empty() || impl_->stopping.exchange(true)) return;
  net::post(impl_->acceptor->get_executor(), [this] {
    beast::error_code ignored;
    impl_->acceptor->close(ignored);
    impl_->accept_backoff->cancel();
  });
  const auto deadline = std::chrono::steady_clock::now() + impl_->options.drain_timeout;
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (const int left = impl_->in_flight.load(); left > 0) {
    spdlog::warn("http stop: {} request(s) still in flight after the drain deadline", left);
  }
  if (impl_->options.on_drained) impl_->options.on_drained();
  for (auto& worker : impl_->workers) {
    worker->work.reset();
    worker->ioc.stop();
  }
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // Attachments may hand work to any loop when they close: release them all before any loop goes.
  for (auto& worker : impl_->workers) worker->attachment.reset();
}

}  // namespace tradepipe::http
