#include "tradepipe/bus/topology.hpp"

#include <simdjson.h>

#include <stdexcept>

#include "tradepipe/proto/streams.hpp"

namespace tradepipe::bus {
namespace {

namespace od = simdjson::ondemand;

// Reads one object of the topology; unknown keys are refused by name (a typo must not
// silently become a default).
template <typename OnKey>
std::string ReadObject(od::value value, std::string_view what, OnKey&& on_key) {
  od::object object;
  if (value.get_object().get(object)) return std::string(what) + ": expected an object";
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return std::string(what) + ": bad key";
    const std::string k(key);
    od::value v;
    if (field.value().get(v)) return std::string(what) + "." + k + ": bad value";
    auto problem = on_key(k, v);
    if (!problem.empty()) return std::string(what) + "." + k + ": " + problem;
  }
  return {};
}

std::string Str(od::value& v, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s)) return "expected a string";
  out = s;
  return {};
}

std::string Int(od::value& v, int64_t& out) { return v.get_int64().get(out) ? "expected an integer" : ""; }

}  // namespace

const ConsumerSpec& Topology::Consumer(std::string_view durable) const {
  for (const auto& c : consumers) {
    if (c.durable == durable) return c;
  }
  throw std::out_of_range("no consumer named " + std::string(durable) + " in proto/streams.json");
}

Result<Topology> ParseTopology(std::string_view json) {
  Topology t;
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc)) return Result<Topology>::Error("topology: not JSON");
  od::value root;
  if (doc.get_value().get(root)) return Result<Topology>::Error("topology: not JSON");
  std::string problem = ReadObject(root, "topology", [&](const std::string& key, od::value& v) -> std::string {
    od::array items;
    if (v.get_array().get(items)) return "expected an array";
    for (auto item : items) {
      od::value element;
      if (item.get(element)) return "bad element";
      std::string p;
      if (key == "streams") {
        StreamSpec s;
        p = ReadObject(element, "stream", [&](const std::string& k, od::value& f) -> std::string {
          if (k == "name") return Str(f, s.name);
          if (k == "retention") {
            std::string text;
            if (auto bad = Str(f, text); !bad.empty()) return bad;
            if (text == "limits") {
              s.retention = Retention::kLimits;
            } else if (text == "interest") {
              s.retention = Retention::kInterest;
            } else {
              return "retention must be \"limits\" or \"interest\"";
            }
            return {};
          }
          if (k == "max_age_s") return Int(f, s.max_age_s);
          if (k == "max_bytes") return Int(f, s.max_bytes);
          if (k == "duplicate_window_s") return Int(f, s.duplicate_window_s);
          if (k == "max_msgs_per_subject") return Int(f, s.max_msgs_per_subject);
          if (k == "subjects") {
            od::array subjects;
            if (f.get_array().get(subjects)) return "expected an array";
            for (auto subject : subjects) {
              std::string_view text;
              if (subject.get_string().get(text)) return "expected strings";
              s.subjects.emplace_back(text);
            }
            return {};
          }
          return "unknown key";
        });
        if (p.empty() && (s.name.empty() || s.subjects.empty())) p = "stream: name and subjects are required";
        t.streams.push_back(std::move(s));
      } else if (key == "consumers") {
        ConsumerSpec c;
        p = ReadObject(element, "consumer", [&](const std::string& k, od::value& f) -> std::string {
          if (k == "stream") return Str(f, c.stream);
          if (k == "durable") return Str(f, c.durable);
          if (k == "filter") return Str(f, c.filter);
          if (k == "max_ack_pending") return Int(f, c.max_ack_pending);
          if (k == "ack_wait_s") return Int(f, c.ack_wait_s);
          if (k == "max_deliver") return Int(f, c.max_deliver);
          return "unknown key";
        });
        if (p.empty() && (c.stream.empty() || c.durable.empty() || c.filter.empty())) {
          p = "consumer: stream, durable and filter are required";
        }
        t.consumers.push_back(std::move(c));
      } else {
        return "unknown key";
      }
      if (!p.empty()) return p;
    }
    return {};
  });
  if (!problem.empty()) return Result<Topology>::Error(problem);
  return t;
}

const Topology& DefaultTopology() {
  static const Topology topology = [] {
    auto parsed = ParseTopology(proto::StreamsJson());
    if (!parsed) throw std::runtime_error("proto/streams.json is invalid: " + parsed.error());
    return *parsed;
  }();
  return topology;
}

}  // namespace tradepipe::bus
