// Small readers over simdjson's on-demand values, shared by the parsers of webhooks, the
// gateway's sources file, the agent's trading file and its snapshots (include only where
// simdjson is used).
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tradepipe/events/decimal.hpp"

namespace tradepipe::events {

// Iterates an object's fields, handing each key and value to `read`, which returns an error
// text (empty when fine); the error comes back prefixed with the key.
template <typename Read>
std::string ForEachField(simdjson::ondemand::value& value, Read&& read) {
  simdjson::ondemand::object object;
  if (value.get_object().get(object)) return "expected an object";
  for (auto field : object) {
    std::string_view raw_key;
    if (field.unescaped_key().get(raw_key)) return "bad key";
    const std::string key(raw_key);
    simdjson::ondemand::value v;
    if (field.value().get(v)) return key + ": bad value";
    if (auto e = read(key, v); !e.empty()) return key + ": " + e;
  }
  return {};
}

// ForEachField over a whole document `json` (a file, a stored snapshot); "not JSON" when it is not
// one. Not for hot paths: it allocates a parser per call.
template <typename Read>
std::string ForEachFieldOfDocument(std::string_view json, Read&& read) {
  simdjson::padded_string padded(json);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::value root;
  if (parser.iterate(padded).get(doc) || doc.get_value().get(root)) return "not JSON";
  return ForEachField(root, std::forward<Read>(read));
}

// A decimal given as a JSON string or number, read from its text (never through a double);
// `positive`: zero and below refused. The error text, empty when fine.
std::string ReadDecimal(simdjson::ondemand::value& value, Decimal& out, bool positive = false);

// The text of a number or a string value, as sent (a number's digits, never through a double);
// false for any other type.
bool ScalarText(simdjson::ondemand::value& value, std::string& out);

// Appends an array of strings to `out`; the error text, empty when fine.
std::string ReadStrings(simdjson::ondemand::value& value, std::vector<std::string>& out);

}  // namespace tradepipe::events
