// The text of proto/streams.json (streams and durable consumers), compiled in.
#pragma once

#include <string_view>

namespace tradepipe::proto {

std::string_view StreamsJson();

}  // namespace tradepipe::proto
