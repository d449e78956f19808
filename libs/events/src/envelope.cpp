#include "tradepipe/events/envelope.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

namespace tradepipe::events {
namespace {

namespace od = simdjson::ondemand;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
// A writer's first buffer: events and their payloads are 200-700 bytes, written in one allocation
// (rapidjson starts at 256 and doubles).
constexpr size_t kBufferBytes = 1024;

void Key(Writer& w, std::string_view key) { w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size())); }
void String(Writer& w, std::string_view value) {
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
void Field(Writer& w, std::string_view key, std::string_view value) {
  Key(w, key);
  String(w, value);
}
void DecimalField(Writer& w, std::string_view key, const Decimal& value) { Field(w, key, value.ToString()); }
void OptionalDecimalField(Writer& w, std::string_view key, const std::optional<Decimal>& value) {
  Key(w, key);
  if (value) {
    String(w, value->ToString());
  } else {
    w.Null();
  }
}

// One parser per thread: simdjson parsers are reusable but not shareable. Its input is copied
// into a buffer of the thread's that keeps its size (simdjson reads past the end of the text, so
// a message's bytes cannot be parsed in place): every event is parsed twice (envelope, payload)
// and a new padded copy each time was an allocation and a copy per parse on the services' path.
// One document at a time per thread: the walks below never nest.
od::parser& ThreadParser() {
  static thread_local od::parser parser;
  return parser;
}

simdjson::padded_string_view ThreadPadded(std::string_view json) {
  static thread_local std::string buffer;
  buffer.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  buffer.assign(json);
  return simdjson::padded_string_view(buffer.data(), buffer.size(), buffer.capacity());
}

// Iterates the top-level fields of a JSON object; `on_field(key, value)` returns an error text or empty.
template <typename OnField>
std::string ForEachField(std::string_view json, OnField&& on_field) {
  od::document doc;
  if (auto error = ThreadParser().iterate(ThreadPadded(json)).get(doc)) return simdjson::error_message(error);
  od::object object;
  if (auto error = doc.get_object().get(object)) return "not a JSON object";
  for (auto field : object) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return simdjson::error_message(error);
    od::value value;
    if (auto error = field.value().get(value)) return simdjson::error_message(error);
    std::string problem = on_field(key, value);
    if (!problem.empty()) return problem;
  }
  return {};
}

std::string ReadString(od::value& value, std::string& out, std::string_view name) {
  std::string_view text;
  if (value.get_string().get(text)) return std::string(name) + ": expected a string";
  out = text;
  return {};
}

std::string ReadDecimal(od::value& value, Decimal& out, std::string_view name) {
  std::string_view text;
  if (value.get_string().get(text)) return std::string(name) + ": expected a decimal string";
  auto parsed = Decimal::Parse(text);
  if (!parsed) return std::string(name) + ": " + parsed.error();
  out = *parsed;
  return {};
}

std::string ReadOptionalDecimal(od::value& value, std::optional<Decimal>& out, std::string_view name) {
  if (value.is_null()) {
    out.reset();
    return {};
  }
  Decimal d;
  auto problem = ReadDecimal(value, d, name);
  if (problem.empty()) out = d;
  return problem;
}

std::string ReadSide(od::value& value, Side& out, std::string_view name) {
  std::string text;
  if (auto problem = ReadString(value, text, name); !problem.empty()) return problem;
  if (text == "buy") {
    out = Side::kBuy;
  } else if (text == "sell") {
    out = Side::kSell;
  } else {
    return std::string(name) + ": expected buy or sell";
  }
  return {};
}

// One of the enum's wire names (EnumNames).
template <typename E>
std::string ReadName(od::value& value, E& out, std::string_view name) {
  std::string text;
  if (auto problem = ReadString(value, text, name); !problem.empty()) return problem;
  const auto parsed = FromName<E>(text);
  if (!parsed) return std::string(name) + ": unknown value '" + text + "'";
  out = *parsed;
  return {};
}

template <typename E>
std::string ReadOptionalName(od::value& value, std::optional<E>& out, std::string_view name) {
  E parsed{};
  auto problem = ReadName(value, parsed, name);
  if (problem.empty()) out = parsed;
  return problem;
}

template <typename T>
Result<T> Finish(std::string problem, T value) {
  if (!problem.empty()) return Result<T>::Error(std::move(problem));
  return value;
}

}  // namespace

std::string_view ToString(Side side) { return side == Side::kBuy ? "buy" : "sell"; }

std::optional<int64_t> Envelope::StampOf(std::string_view name) const {
  for (const auto& s : ts) {
    if (s.name == name) return s.ns;
  }
  return std::nullopt;
}

Envelope Envelope::Child(std::string_view child_type, std::string child_id) const {
  Envelope child;
  child.type = child_type;
  child.id = std::move(child_id);
  child.correlation_id = correlation_id;
  child.causation_id = id;
  child.source = source;
  child.symbol = symbol;
  child.ts = ts;
  return child;
}

Result<Envelope> ParseEnvelope(std::string_view json) {
  Envelope e;
  bool have_payload = false;
  std::string problem = ForEachField(json, [&](std::string_view key, od::value& value) -> std::string {
    if (key == "v") {
      int64_t v = 0;
      if (value.get_int64().get(v)) return "v: expected an integer";
      e.v = static_cast<int>(v);
    } else if (key == "type") {
      return ReadString(value, e.type, key);
    } else if (key == "id") {
      return ReadString(value, e.id, key);
    } else if (key == "correlation_id") {
      return ReadString(value, e.correlation_id, key);
    } else if (key == "causation_id") {
      if (value.is_null()) return {};
      return ReadString(value, e.causation_id, key);
    } else if (key == "source") {
      return ReadString(value, e.source, key);
    } else if (key == "symbol") {
      return ReadString(value, e.symbol, key);
    } else if (key == "ts") {
      od::object stamps;
      if (value.get_object().get(stamps)) return "ts: expected an object";
      for (auto stamp : stamps) {
        std::string_view name;
        int64_t ns = 0;
        if (stamp.unescaped_key().get(name)) return "ts: bad key";
        const std::string name_copy(name);
        if (stamp.value().get_int64().get(ns)) return "ts." + name_copy + ": expected an integer";
        e.ts.push_back({name_copy, ns});
      }
    } else if (key == "payload") {
      od::object payload;
      std::string_view raw;
      if (value.get_object().get(payload) || payload.raw_json().get(raw)) return "payload: expected an object";
      e.payload = raw;
      have_payload = true;
    }
    return {};  // unknown keys are ignored: newer writers may add fields
  });
  if (problem.empty() && (e.v < kOldestReadableVersion || e.v > kEnvelopeVersion)) {
    problem = "v: unsupported envelope version " + std::to_string(e.v);
  }
  if (problem.empty() && (e.type.empty() || e.id.empty() || e.correlation_id.empty())) {
    problem = "type, id and correlation_id are required";
  }
  if (problem.empty() && !have_payload) problem = "payload: required";
  return Finish(std::move(problem), std::move(e));
}

std::string Serialize(const Envelope& e) {
  rapidjson::StringBuffer buffer(nullptr, kBufferBytes);
  Writer w(buffer);
  w.StartObject();
  Key(w, "v");
  w.Int(e.v);
  Field(w, "type", e.type);
  Field(w, "id", e.id);
  Field(w, "correlation_id", e.correlation_id);
  Key(w, "causation_id");
  if (e.causation_id.empty()) {
    w.Null();
  } else {
    String(w, e.causation_id);
  }
  Field(w, "source", e.source);
  Field(w, "symbol", e.symbol);
  Key(w, "ts");
  w.StartObject();
  for (const auto& s : e.ts) {
    Key(w, s.name);
    w.Int64(s.ns);
  }
  w.EndObject();
  Key(w, "payload");
  w.RawValue(e.payload.data(), e.payload.size(), rapidjson::kObjectType);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string ToJson(const SignalPayload& p) {
  rapidjson::StringBuffer buffer(nullptr, kBufferBytes);
  Writer w(buffer);
  w.StartObject();
  Field(w, "action", ToName(p.action));
  if (p.qty) DecimalField(w, "qty", *p.qty);
  if (p.qty_kind != QtyKind::kUnits) Field(w, "qty_kind", ToName(p.qty_kind));
  OptionalDecimalField(w, "price", p.price);
  Field(w, "order_type", p.order_type);
  if (p.time_in_force) Field(w, "time_in_force", ToName(*p.time_in_force));
  if (p.market_position) Field(w, "market_position", ToName(*p.market_position));
  if (p.prev_market_position) Field(w, "prev_market_position", ToName(*p.prev_market_position));
  if (!p.strategy.empty()) Field(w, "strategy", p.strategy);
  if (!p.comment.empty()) Field(w, "comment", p.comment);
  if (p.take_profit) DecimalField(w, "take_profit", *p.take_profit);
  if (p.stop_loss) DecimalField(w, "stop_loss", *p.stop_loss);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string ToJson(const OrderPayload& p) {
  rapidjson::StringBuffer buffer(nullptr, kBufferBytes);
  Writer w(buffer);
  w.StartObject();
  Field(w, "order_id", p.order_id);
  Field(w, "side", ToString(p.side));
  DecimalField(w, "qty", p.qty);
  Field(w, "order_type", p.order_type);
  OptionalDecimalField(w, "limit_price", p.limit_price);
  if (p.time_in_force) Field(w, "time_in_force", ToName(*p.time_in_force));
  if (p.take_profit) DecimalField(w, "take_profit", *p.take_profit);
  if (p.stop_loss) DecimalField(w, "stop_loss", *p.stop_loss);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string ToJson(const RejectionPayload& p) {
  rapidjson::StringBuffer buffer(nullptr, kBufferBytes);
  Writer w(buffer);
  w.StartObject();
  Field(w, "order_id", p.order_id);
  Field(w, "reason", p.reason);
  Field(w, "detail", p.detail);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string ToJson(const OrderCancelPayload& p) {
  rapidjson::StringBuffer buffer(nullptr, kBufferBytes);
  Writer w(buffer);
  w.StartObject();
  Field(w, "order_id", p.order_id);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string ToJson(const ExecReportPayload& p) {
  rapidjson::StringBuffer buffer(nullptr, kBufferBytes);
  Writer w(buffer);
  w.StartObject();
  Field(w, "order_id", p.order_id);
  Field(w, "status", p.status);
  DecimalField(w, "filled_qty", p.filled_qty);
  DecimalField(w, "leaves_qty", p.leaves_qty);
  OptionalDecimalField(w, "avg_price", p.avg_price);
  if (p.side) Field(w, "side", ToString(*p.side));
  if (p.qty) DecimalField(w, "qty", *p.qty);
  if (p.limit_price) DecimalField(w, "limit_price", *p.limit_price);
  if (p.time_in_force) Field(w, "time_in_force", ToName(*p.time_in_force));
  if (p.fills) {
    Key(w, "fills");
    w.Int(*p.fills);
  }
  if (p.stop_price) DecimalField(w, "stop_price", *p.stop_price);
  if (p.take_profit) DecimalField(w, "take_profit", *p.take_profit);
  if (p.stop_loss) DecimalField(w, "stop_loss", *p.stop_loss);
  if (!p.oco.empty()) Field(w, "oco", p.oco);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string ToJson(const FillPayload& p) {
  rapidjson::StringBuffer buffer(nullptr, kBufferBytes);
  Writer w(buffer);
  w.StartObject();
  Field(w, "order_id", p.order_id);
  Key(w, "fill_no");
  w.Int(p.fill_no);
  Field(w, "side", ToString(p.side));
  DecimalField(w, "qty", p.qty);
  DecimalField(w, "price", p.price);
  Field(w, "status", p.status);
  DecimalField(w, "cum_qty", p.cum_qty);
  DecimalField(w, "leaves_qty", p.leaves_qty);
  DecimalField(w, "avg_price", p.avg_price);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<SignalPayload> ParseSignalPayload(std::string_view json) {
  SignalPayload p;
  auto problem = ForEachField(json, [&](std::string_view key, od::value& value) -> std::string {
    if (key == "action") return ReadName(value, p.action, key);
    if (key == "qty") return ReadOptionalDecimal(value, p.qty, key);
    if (key == "qty_kind") return ReadName(value, p.qty_kind, key);
    if (key == "price") return ReadOptionalDecimal(value, p.price, key);
    if (key == "order_type") return ReadString(value, p.order_type, key);
    if (key == "time_in_force") return ReadOptionalName(value, p.time_in_force, key);
    if (key == "market_position") return ReadOptionalName(value, p.market_position, key);
    if (key == "prev_market_position") return ReadOptionalName(value, p.prev_market_position, key);
    if (key == "strategy") return ReadString(value, p.strategy, key);
    if (key == "comment") return ReadString(value, p.comment, key);
    if (key == "take_profit") return ReadOptionalDecimal(value, p.take_profit, key);
    if (key == "stop_loss") return ReadOptionalDecimal(value, p.stop_loss, key);
    return {};
  });
  if (problem.empty() && !p.qty && (p.action == SignalAction::kBuy || p.action == SignalAction::kSell)) {
    problem = "qty: required for buy and sell";
  }
  return Finish(std::move(problem), std::move(p));
}

Result<OrderPayload> ParseOrderPayload(std::string_view json) {
  OrderPayload p;
  auto problem = ForEachField(json, [&](std::string_view key, od::value& value) -> std::string {
    if (key == "order_id") return ReadString(value, p.order_id, key);
    if (key == "side") return ReadSide(value, p.side, key);
    if (key == "qty") return ReadDecimal(value, p.qty, key);
    if (key == "order_type") return ReadString(value, p.order_type, key);
    if (key == "limit_price") return ReadOptionalDecimal(value, p.limit_price, key);
    if (key == "time_in_force") return ReadOptionalName(value, p.time_in_force, key);
    if (key == "take_profit") return ReadOptionalDecimal(value, p.take_profit, key);
    if (key == "stop_loss") return ReadOptionalDecimal(value, p.stop_loss, key);
    return {};
  });
  if (problem.empty() && p.order_id.empty()) problem = "order_id: required";
  return Finish(std::move(problem), std::move(p));
}

Result<ExecReportPayload> ParseExecReportPayload(std::string_view json) {
  ExecReportPayload p;
  auto problem = ForEachField(json, [&](std::string_view key, od::value& value) -> std::string {
    if (key == "order_id") return ReadString(value, p.order_id, key);
    if (key == "status") return ReadString(value, p.status, key);
    if (key == "filled_qty") return ReadDecimal(value, p.filled_qty, key);
    if (key == "leaves_qty") return ReadDecimal(value, p.leaves_qty, key);
    if (key == "avg_price") return ReadOptionalDecimal(value, p.avg_price, key);
    if (key == "side") {
      p.side.emplace();
      return ReadSide(value, *p.side, key);
    }
    if (key == "qty") return ReadOptionalDecimal(value, p.qty, key);
    if (key == "limit_price") return ReadOptionalDecimal(value, p.limit_price, key);
    if (key == "time_in_force") return ReadOptionalName(value, p.time_in_force, key);
    if (key == "fills") {
      int64_t n = 0;
      if (value.get_int64().get(n) || n < 0 || n > 1'000'000) return "fills: expected an integer from 0";
      p.fills = static_cast<int>(n);
      return {};
    }
    if (key == "stop_price") return ReadOptionalDecimal(value, p.stop_price, key);
    if (key == "take_profit") return ReadOptionalDecimal(value, p.take_profit, key);
    if (key == "stop_loss") return ReadOptionalDecimal(value, p.stop_loss, key);
    if (key == "oco") return ReadString(value, p.oco, key);
    return {};
  });
  if (problem.empty() && p.order_id.empty()) problem = "order_id: required";
  return Finish(std::move(problem), std::move(p));
}

Result<OrderCancelPayload> ParseOrderCancelPayload(std::string_view json) {
  OrderCancelPayload p;
  auto problem = ForEachField(json, [&](std::string_view key, od::value& value) -> std::string {
    if (key == "order_id") return ReadString(value, p.order_id, key);
    return {};
  });
  if (problem.empty() && p.order_id.empty()) problem = "order_id: required";
  return Finish(std::move(problem), std::move(p));
}

Result<FillPayload> ParseFillPayload(std::string_view json) {
  FillPayload p;
  auto problem = ForEachField(json, [&](std::string_view key, od::value& value) -> std::string {
    if (key == "order_id") return ReadString(value, p.order_id, key);
    if (key == "fill_no") {
      int64_t n = 0;
      if (value.get_int64().get(n)) return "fill_no: expected an integer";
      p.fill_no = static_cast<int>(n);
      return {};
    }
    if (key == "side") return ReadSide(value, p.side, key);
    if (key == "qty") return ReadDecimal(value, p.qty, key);
    if (key == "price") return ReadDecimal(value, p.price, key);
    if (key == "status") return ReadString(value, p.status, key);
    if (key == "cum_qty") return ReadDecimal(value, p.cum_qty, key);
    if (key == "leaves_qty") return ReadDecimal(value, p.leaves_qty, key);
    if (key == "avg_price") return ReadDecimal(value, p.avg_price, key);
    return {};
  });
  if (problem.empty() && p.order_id.empty()) problem = "order_id: required";
  return Finish(std::move(problem), std::move(p));
}

}  // namespace tradepipe::events
