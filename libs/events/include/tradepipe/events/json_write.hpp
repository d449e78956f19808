// Small writers over rapidjson's Writer, shared by the JSON documents the services write
// (include only where rapidjson is used).
#pragma once

#include <rapidjson/writer.h>

#include <string>
#include <string_view>

#include "tradepipe/events/decimal.hpp"

namespace tradepipe::events {

template <typename Writer>
void WriteKey(Writer& w, std::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

template <typename Writer>
void WriteString(Writer& w, std::string_view key, std::string_view value) {
  WriteKey(w, key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

// A decimal as its exact text (a JSON string: never through a double).
template <typename Writer>
void WriteDecimal(Writer& w, std::string_view key, Decimal value) {
  WriteString(w, key, value.ToString());
}

}  // namespace tradepipe::events
