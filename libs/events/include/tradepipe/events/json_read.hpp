// Small readers over simdjson's on-demand values, shared by the parsers of webhooks, the
// gateway's sources file and the agent's trading file (include only where simdjson is used).
#pragma once

#include <simdjson.h>

#include <string>
#include <vector>

namespace tradepipe::events {

// The text of a number or a string value, as sent (a number's digits, never through a double);
// false for any other type.
bool ScalarText(simdjson::ondemand::value& value, std::string& out);

// Appends an array of strings to `out`; the error text, empty when fine.
std::string ReadStrings(simdjson::ondemand::value& value, std::vector<std::string>& out);

}  // namespace tradepipe::events
