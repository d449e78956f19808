#include "webhook_signal.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <tuple>

#include "tradepipe/events/json_read.hpp"
#include "tradepipe/events/subject.hpp"

namespace tradepipe::gateway {
namespace {

namespace od = simdjson::ondemand;

constexpr size_t kMaxComment = 256;  // bytes of the sender's free text carried in the signal

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// A take-profit's or stop-loss's price: a number or decimal string, or TradersPost's object form
// ({"limitPrice": ..} / {"stopPrice": .., "type": "stop"}, also snake_case). Relative forms
// (percent, amount) and other stop types are refused: a sender must not believe an exit is in
// place that is not. Empty when read; else what is wrong.
std::string ExitPrice(od::value& value, std::string_view price_key, std::string& out) {
  od::json_type type;
  if (value.type().get(type)) return "unreadable";
  if (type != od::json_type::object) return events::ScalarText(value, out) ? "" : "not a price";
  od::object object;
  if (value.get_object().get(object)) return "unreadable";
  const std::string camel = price_key == "limit_price" ? "limitprice" : "stopprice";
  for (auto field : object) {
    std::string_view raw_key;
    od::value inner;
    if (field.unescaped_key().get(raw_key) || field.value().get(inner)) return "unreadable";
    const std::string key = Lower(raw_key);
    std::string text;
    if (key == price_key || key == camel || key == "price") {
      if (!events::ScalarText(inner, out)) return "not a price";
    } else if (key == "type") {
      if (!events::ScalarText(inner, text) || Lower(text) != "stop") return "only a plain stop";
    } else {
      return "unknown key";  // percent, amount, limit of a stop-limit...
    }
  }
  return out.empty() ? "no price" : "";
}

}  // namespace

std::string_view WithoutExchangePrefix(std::string_view symbol) {
  const size_t colon = symbol.find(':');
  if (colon == 0 || colon == std::string_view::npos) return symbol;
  const std::string_view exchange = symbol.substr(0, colon);
  const bool word =
      std::all_of(exchange.begin(), exchange.end(), [](unsigned char c) { return std::isalnum(c) != 0 || c == '_'; });
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
  std::string symbol, action, qty, qty_type, price, order_type = "market", strategy, comment, time_in_force;
  std::string market_position, prev_market_position, sentiment, take_profit, stop_loss;
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
      if (!events::ScalarText(value, text)) {
        note("action", "expected \"buy\" or \"sell\"");
      } else {
        action = Lower(text);
      }
    } else if (key == "qty" || key == "quantity" || key == "contracts" || key == "size") {
      have_qty = events::ScalarText(value, qty);
      if (!have_qty) note("qty", "expected a number or a decimal string");
    } else if (key == "quantitytype" || key == "quantity_type" || key == "qty_type") {
      if (!events::ScalarText(value, text)) {
        note("quantityType", "expected a string");
      } else {
        qty_type = Lower(text);
      }
    } else if (key == "market_position" || key == "marketposition") {
      if (!events::ScalarText(value, text)) note("market_position", "expected \"long\", \"short\" or \"flat\"");
      market_position = Lower(text);
    } else if (key == "prev_market_position" || key == "prevmarketposition") {
      if (!events::ScalarText(value, text)) note("prev_market_position", "expected \"long\", \"short\" or \"flat\"");
      prev_market_position = Lower(text);
    } else if (key == "sentiment") {
      if (!events::ScalarText(value, text)) note("sentiment", "expected \"long\", \"short\" or \"flat\"");
      sentiment = Lower(text);
    } else if (key == "strategy_info") {
      // 3Commas: {"market_position": ..., "prev_market_position": ..., sizes}
      od::object info;
      if (value.get_object().get(info)) {
        note("strategy_info", "expected an object");
      } else {
        for (auto inner : info) {
          std::string_view inner_key;
          od::value inner_value;
          if (inner.unescaped_key().get(inner_key) || inner.value().get(inner_value)) {
            return malformed("body is not valid JSON");
          }
          const std::string k = Lower(inner_key);
          if (k != "market_position" && k != "prev_market_position") continue;
          if (!events::ScalarText(inner_value, text)) {
            note("strategy_info", "market positions are strings");
          } else {
            (k == "market_position" ? market_position : prev_market_position) = Lower(text);
          }
        }
      }
    } else if (key == "time_in_force" || key == "timeinforce") {
      if (!events::ScalarText(value, text)) note("time_in_force", "expected \"day\", \"gtc\", \"ioc\" or \"fok\"");
      time_in_force = Lower(text);
    } else if (key == "comment") {
      if (!events::ScalarText(value, comment)) note("comment", "expected a string");
    } else if (key == "take_profit" || key == "takeprofit") {
      if (auto problem = ExitPrice(value, "limit_price", take_profit); !problem.empty()) {
        note("take_profit", "expected a price, or an object with limit_price (an absolute price)");
      }
    } else if (key == "stop_loss" || key == "stoploss") {
      if (auto problem = ExitPrice(value, "stop_price", stop_loss); !problem.empty()) {
        note("stop_loss", "expected a price, or an object with stop_price (an absolute price; a plain stop)");
      }
    } else if (key == "price") {
      od::json_type type;
      if (value.type().get(type)) return malformed("body is not valid JSON");
      if (type != od::json_type::null) {
        have_price = events::ScalarText(value, price);
        if (!have_price) note("price", "expected a number or a decimal string");
      }
    } else if (key == "order_type") {
      if (!events::ScalarText(value, text)) {
        note("order_type", "expected \"market\" or \"limit\"");
      } else {
        order_type = Lower(text);
      }
    } else if (key == "strategy") {
      if (!events::ScalarText(value, strategy)) note("strategy", "expected a string");
    } else if (key == "time" || key == "timenow") {
      if (!events::ScalarText(value, result.time)) note("time", "expected a timestamp string or unix seconds");
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

  events::SignalPayload& payload = result.signal.payload;
  if (action == "exit") action = "close";  // TradersPost
  const auto parsed_action = events::FromName<events::SignalAction>(action);
  if (!parsed_action) {
    return invalid("action",
                   action.empty() ? "required" : "expected buy, sell, close, close_all, reverse, exit or cancel");
  }
  payload.action = *parsed_action;
  const bool sized_from_position =
      payload.action != events::SignalAction::kBuy && payload.action != events::SignalAction::kSell;
  if (!have_qty && !sized_from_position) return invalid("qty", "required");
  if (have_qty) {
    // "5%" is a share of equity; TradersPost's quantityType names the kind explicitly.
    if (!qty.empty() && qty.back() == '%') {
      qty.pop_back();
      payload.qty_kind = events::QtyKind::kPercentEquity;
    }
    if (!qty_type.empty()) {
      static constexpr std::pair<std::string_view, events::QtyKind> kTypes[] = {
          {"fixed_quantity", events::QtyKind::kUnits},
          {"dollar_amount", events::QtyKind::kNotional},
          {"percent_of_equity", events::QtyKind::kPercentEquity},
          {"percent_of_position", events::QtyKind::kPercentPosition}};
      const auto* kind =
          std::find_if(std::begin(kTypes), std::end(kTypes), [&](const auto& t) { return t.first == qty_type; });
      if (kind == std::end(kTypes)) {
        return invalid("quantityType",
                       "expected fixed_quantity, dollar_amount, percent_of_equity or percent_of_position");
      }
      payload.qty_kind = kind->second;
    }
    auto q = events::Decimal::Parse(qty);
    if (!q) return invalid("qty", q.error());
    if (*q <= events::Decimal()) return invalid("qty", "must be positive");
    payload.qty = *q;
  }
  // True when `text` (possibly empty: absent) is a market position; TradersPost's sentiment also
  // says bullish/bearish.
  auto position = [](const std::string& text, std::optional<events::MarketPosition>& out) {
    if (text.empty()) return true;
    const std::string_view name = text == "bullish" ? "long" : text == "bearish" ? "short" : std::string_view(text);
    out = events::FromName<events::MarketPosition>(name);
    return out.has_value();
  };
  constexpr const char* kPositions = "expected \"long\", \"short\" or \"flat\"";
  if (!position(market_position, payload.market_position)) return invalid("market_position", kPositions);
  if (!position(prev_market_position, payload.prev_market_position)) {
    return invalid("prev_market_position", kPositions);
  }
  // TradersPost's sentiment is the position after the order, as market_position is.
  if (!payload.market_position && !position(sentiment, payload.market_position)) {
    return invalid("sentiment", kPositions);
  }
  if (!time_in_force.empty()) {
    payload.time_in_force = events::FromName<events::TimeInForce>(time_in_force);
    if (!payload.time_in_force) return invalid("time_in_force", "expected day, gtc, ioc or fok");
  }
  if (comment.size() > kMaxComment) return invalid("comment", "longer than 256 bytes");
  payload.comment = comment;
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
  // An entry's exits: a position to protect comes only from buy, sell or reverse.
  if (!take_profit.empty() || !stop_loss.empty()) {
    if (payload.action == events::SignalAction::kClose || payload.action == events::SignalAction::kCloseAll ||
        payload.action == events::SignalAction::kCancel) {
      return invalid(take_profit.empty() ? "stop_loss" : "take_profit",
                     "attached to an entry only (buy, sell, reverse)");
    }
    for (auto [name, text, out] : {std::tuple{"take_profit", &take_profit, &payload.take_profit},
                                   std::tuple{"stop_loss", &stop_loss, &payload.stop_loss}}) {
      if (text->empty()) continue;
      auto exit_price = events::Decimal::Parse(*text);
      if (!exit_price) return invalid(name, exit_price.error());
      if (*exit_price <= events::Decimal()) return invalid(name, "must be positive");
      *out = *exit_price;
    }
  }
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
