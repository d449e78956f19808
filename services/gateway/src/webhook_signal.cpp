#include "webhook_signal.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>

namespace tradepipe::gateway {
namespace {

namespace od = simdjson::ondemand;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The text of a number or string value, as sent.
bool ScalarText(od::value& value, std::string& out) {
  od::json_type type;
  if (value.type().get(type)) return false;
  if (type == od::json_type::string) {
    std::string_view s;
    if (value.get_string().get(s)) return false;
    out = s;
    return true;
  }
  if (type == od::json_type::number) {
    std::string_view raw = value.raw_json_token();
    while (!raw.empty() && std::isspace(static_cast<unsigned char>(raw.back()))) raw.remove_suffix(1);
    out = raw;
    return true;
  }
  return false;
}

}  // namespace

SignalParse ParseWebhookSignal(std::string_view body) {
  SignalParse result;
  auto invalid = [&](std::string field, std::string why) {
    result.error = SignalError::kInvalidField;
    result.message = field + ": " + why;
    return result;
  };
  auto malformed = [&](std::string why) {
    result.error = SignalError::kMalformedJson;
    result.message = std::move(why);
    return result;
  };

  static thread_local od::parser parser;
  simdjson::padded_string padded(body);
  od::document doc;
  if (parser.iterate(padded).get(doc)) return malformed("body is not valid JSON");
  od::object object;
  if (auto error = doc.get_object().get(object)) {
    return error == simdjson::INCORRECT_TYPE ? invalid("body", "expected a JSON object")
                                             : malformed("body is not valid JSON");
  }
  std::string symbol, action, qty, price, order_type = "market", strategy;
  bool have_qty = false, have_price = false;
  // A field of the wrong type is noted and the walk goes on, so a `token` after it is still read
  // (a token source must authenticate before being told what is wrong with its signal).
  std::string field_error;
  auto note = [&](const char* field, const char* why) {
    if (field_error.empty()) field_error = std::string(field) + ": " + why;
  };
  for (auto field : object) {
    std::string_view raw_key;
    if (field.unescaped_key().get(raw_key)) return malformed("body is not valid JSON");
    const std::string key = Lower(raw_key);
    od::value value;
    if (field.value().get(value)) return malformed("body is not valid JSON");
    std::string text;
    std::string_view str;
    if (key == "symbol" || key == "ticker") {
      if (value.get_string().get(str)) {
        note("symbol", "expected a string");
      } else {
        symbol = str;
      }
    } else if (key == "action" || key == "side") {
      if (!ScalarText(value, text)) {
        note("action", "expected \"buy\" or \"sell\"");
      } else {
        action = Lower(text);
      }
    } else if (key == "qty" || key == "quantity" || key == "contracts") {
      have_qty = ScalarText(value, qty);
      if (!have_qty) note("qty", "expected a number or a decimal string");
    } else if (key == "price") {
      od::json_type type;
      if (value.type().get(type)) return malformed("body is not valid JSON");
      if (type != od::json_type::null) {
        have_price = ScalarText(value, price);
        if (!have_price) note("price", "expected a number or a decimal string");
      }
    } else if (key == "order_type") {
      if (!ScalarText(value, text)) {
        note("order_type", "expected \"market\" or \"limit\"");
      } else {
        order_type = Lower(text);
      }
    } else if (key == "strategy") {
      if (!ScalarText(value, strategy)) note("strategy", "expected a string");
    } else if (key == "token") {
      if (value.get_string().get(str)) {
        note("token", "expected a string");
      } else {
        result.token = str;
      }
    }
    // Other keys are the sender's own context: ignored here, kept in nothing we publish.
  }

  if (!field_error.empty()) {
    result.error = SignalError::kInvalidField;
    result.message = field_error;
    return result;
  }
  if (symbol.empty()) return invalid("symbol", "required");
  if (symbol.size() > 64) return invalid("symbol", "longer than 64 characters");
  result.signal.symbol = symbol;

  if (action == "buy") {
    result.signal.payload.action = events::Side::kBuy;
  } else if (action == "sell") {
    result.signal.payload.action = events::Side::kSell;
  } else {
    return invalid("action", action.empty() ? "required" : "expected \"buy\" or \"sell\"");
  }
  if (!have_qty) return invalid("qty", "required");
  auto q = events::Decimal::Parse(qty);
  if (!q) return invalid("qty", q.error());
  if (*q <= events::Decimal()) return invalid("qty", "must be positive");
  result.signal.payload.qty = *q;
  if (have_price) {
    auto p = events::Decimal::Parse(price);
    if (!p) return invalid("price", p.error());
    if (*p <= events::Decimal()) return invalid("price", "must be positive");
    result.signal.payload.price = *p;
  }
  if (order_type != "market" && order_type != "limit") return invalid("order_type", "expected \"market\" or \"limit\"");
  if (order_type == "limit" && !have_price) return invalid("price", "required for a limit order");
  result.signal.payload.order_type = order_type;
  result.signal.payload.strategy = strategy;
  return result;
}

}  // namespace tradepipe::gateway
