#include "tradepipe/events/json_read.hpp"

#include <cctype>

namespace tradepipe::events {

namespace od = simdjson::ondemand;

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

std::string ReadDecimal(od::value& value, Decimal& out, bool positive) {
  std::string text;
  if (!ScalarText(value, text)) return "expected a decimal (a string or a number)";
  auto d = Decimal::Parse(text);
  if (!d) return "'" + text + "': " + d.error();
  if (positive && *d <= Decimal()) return "must be positive";
  out = *d;
  return {};
}

std::string ReadStrings(od::value& value, std::vector<std::string>& out) {
  od::array items;
  if (value.get_array().get(items)) return "expected an array of strings";
  for (auto item : items) {
    std::string_view s;
    if (item.get_string().get(s)) return "expected an array of strings";
    out.emplace_back(s);
  }
  return {};
}

}  // namespace tradepipe::events
