#include "webhook_signal.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

#include "tradepipe/events/subject.hpp"

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

std::string_view WithoutExchangePrefix(std::string_view symbol) {
  const size_t colon = symbol.find(':');
  if (colon == 0 || colon == std::string_view::npos) return symbol;
  const std::string_view exchange = symbol.substr(0, colon);
  const bool word = std::all_of(exchange.begin(), exchange.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '_';
  });
  return word ? symbol.substr(colon + 1) : symbol;  // "NASDAQ:" leaves "", refused as required
}

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
    } else if (key == "action" || key == "side" || key == "order_action") {
      if (!ScalarText(value, text)) {
        note("action", "expected \"buy\" or \"sell\"");
      } else {
        action = Lower(text);
      }
    } else if (key == "qty" || key == "quantity" || key == "contracts" || key == "size") {
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
    } else if (key == "time" || key == "timenow") {
      if (!ScalarText(value, result.time)) note("time", "expected a timestamp string or unix seconds");
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
  symbol = WithoutExchangePrefix(symbol);
  if (const std::string problem = events::SymbolProblem(symbol); !problem.empty()) {
    return invalid("symbol", problem);
  }
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

std::optional<int64_t> ParseBodyTime(std::string_view text) {
  auto digits = [&](size_t at, size_t n) -> std::optional<int> {
    if (at + n > text.size()) return std::nullopt;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  // Unix seconds, optionally with a fraction.
  const std::string_view whole = text.substr(0, text.find('.'));
  const std::string_view fraction = whole.size() < text.size() ? text.substr(whole.size() + 1) : std::string_view("0");
  if (!whole.empty() && whole.size() <= 12 && whole.find_first_not_of("0123456789") == std::string_view::npos &&
      !fraction.empty() && fraction.find_first_not_of("0123456789") == std::string_view::npos) {
    int64_t seconds = 0;
    std::from_chars(whole.data(), whole.data() + whole.size(), seconds);  // digits only, at most 12
    return seconds;
  }
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  const auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  const auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != ' ') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  size_t end = 19;
  if (end < text.size() && text[end] == '.') {
    ++end;
    const size_t fraction_start = end;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    if (end == fraction_start) return std::nullopt;
  }
  if (end + 1 != text.size() || text[end] != 'Z') return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  const auto days = std::chrono::sys_days(date).time_since_epoch().count();
  return static_cast<int64_t>(days) * 86400 + *hour * 3600 + *minute * 60 + *second;
}

}  // namespace tradepipe::gateway
