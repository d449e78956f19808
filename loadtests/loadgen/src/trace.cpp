#include "trace.hpp"

#include <simdjson.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <thread>

namespace tradepipe::loadgen {

namespace od = simdjson::ondemand;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::optional<ParsedTrace> ParseTrace(std::string_view json, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<ParsedTrace> {
    if (error) *error = why;
    return std::nullopt;
  };
  od::parser parser;
  simdjson::padded_string padded(json);
  od::document doc;
  if (parser.iterate(padded).get(doc)) return fail("not JSON");
  ParsedTrace t;
  // Keys in any order; the audit writes `stages`, `final_type`, `final_recorded` once the path
  // has an event with stamps.
  od::object root;
  if (doc.get_object().get(root)) return fail("not a JSON object");
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return fail("bad key");
    if (key == "final_type") {
      std::string_view v;
      if (field.value().get_string().get(v)) return fail("final_type: expected a string");
      t.final_type = v;
    } else if (key == "final_recorded") {
      if (field.value().get_int64().get(t.final_recorded_ns)) return fail("final_recorded: expected an integer");
    } else if (key == "stages") {
      od::array stages;
      if (field.value().get_array().get(stages)) return fail("stages: expected an array");
      for (auto s : stages) {
        Stage stage;
        std::string_view from, to;
        double ms = 0;
        od::object o;
        if (s.get_object().get(o) || o["from"].get_string().get(from) || o["to"].get_string().get(to) ||
            o["ms"].get_double().get(ms)) {
          return fail("stages: expected {from, to, ms}");
        }
        stage.from = from;
        stage.to = to;
        stage.ns = std::llround(ms * 1e6);
        t.stages.push_back(std::move(stage));
      }
    }
  }
  if (!t.final_type.empty() && t.final_recorded_ns == 0) return fail("final_type without final_recorded");
  return t;
}

namespace {

// One keep-alive connection to the audit, reconnected on any error.
class TraceClient {
 public:
  explicit TraceClient(const TraceOptions& o) : o_(o), socket_(ioc_) {}

  // The status and body of GET /trace/{id}; status 0 when the audit could not be reached.
  std::pair<unsigned, std::string> Get(const std::string& correlation_id) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      boost::system::error_code ec;
      if (!socket_.is_open()) {
        tcp::resolver resolver(ioc_);
        auto endpoints = resolver.resolve(o_.host, std::to_string(o_.port), ec);
        if (ec) return {0, ec.message()};
        boost::asio::connect(socket_, endpoints, ec);
        if (ec) {
          socket_.close(ec);
          return {0, "connect: " + ec.message()};
        }
      }
      http::request<http::empty_body> req(http::verb::get, "/trace/" + correlation_id, 11);
      req.set(http::field::host, o_.host);
      http::write(socket_, req, ec);
      http::response<http::string_body> res;
      if (!ec) http::read(socket_, buffer_, res, ec);
      if (ec) {  // the server closed an idle connection: once more on a new one
        socket_.close(ec);
        buffer_.clear();
        continue;
      }
      if (!res.keep_alive()) socket_.close(ec);
      return {res.result_int(), std::move(res.body())};
    }
    return {0, "the audit closed the connection twice"};
  }

 private:
  const TraceOptions& o_;
  boost::asio::io_context ioc_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

StageStats& StageOf(std::vector<StageStats>& stages, const Stage& s) {
  const std::string name = s.from + "->" + s.to;
  for (auto& st : stages) {
    if (st.name == name) return st;
  }
  stages.push_back({name, {}});
  return stages.back();
}

}  // namespace

TraceReport TraceAll(const std::vector<TraceTarget>& targets, const TraceOptions& options,
                     const std::function<void(uint64_t, uint64_t)>& progress) {
  TraceReport report;
  TraceClient client(options);
  const auto started = std::chrono::steady_clock::now();
  const auto give_up = started + std::chrono::duration<double>(options.wait_s);
  std::vector<size_t> pending(targets.size());
  for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  uint64_t done = 0;
  auto last_progress = started;
  while (!pending.empty()) {
    std::vector<size_t> again;
    for (size_t i : pending) {
      const TraceTarget& target = targets[i];
      auto [status, body] = client.Get(target.correlation_id);
      ++report.looked_up;
      std::optional<ParsedTrace> trace;
      if (status == 200) trace = ParseTrace(body);
      if (status != 200 && status != 404) ++report.lookup_errors;
      if (!trace || !options.final_types.count(trace->final_type)) {
        again.push_back(i);  // not recorded yet (404), or its final event is not
        continue;
      }
      ++done;
      ++report.final_types[trace->final_type];
      report.end_to_end.Record(std::max<int64_t>(0, trace->final_recorded_ns - target.intended_wall_ns));
      if (report.first_intended_ns == 0 || target.intended_wall_ns < report.first_intended_ns) {
        report.first_intended_ns = target.intended_wall_ns;
      }
      report.last_final_recorded_ns = std::max(report.last_final_recorded_ns, trace->final_recorded_ns);
      for (const Stage& s : trace->stages) StageOf(report.stages, s).latency.Record(std::max<int64_t>(0, s.ns));
      const auto now = std::chrono::steady_clock::now();
      if (now - last_progress > std::chrono::seconds(2)) {
        last_progress = now;
        progress(done, targets.size());
      }
    }
    pending = std::move(again);
    if (pending.empty() || std::chrono::steady_clock::now() >= give_up) break;
    progress(done, targets.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  report.not_final = pending.size();
  report.wait_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace tradepipe::loadgen
