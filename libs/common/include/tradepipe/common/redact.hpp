// Server URLs made safe to log: the credentials part (`user:password@`, `token@`) of every URL in
// a comma-separated list is replaced by `***@`. Everything that prints a NATS or Redis URL (logs,
// error messages, /ready) goes through it. Thread-safe (pure function).
//
//   RedactUrlCredentials("nats://app:s3cret@nats:4222,nats://tok@b:4222")
//     == "nats://***@nats:4222,nats://***@b:4222"
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace tradepipe {

inline std::string RedactUrlCredentials(std::string_view urls) {
  std::string out;
  out.reserve(urls.size());
  while (true) {
    const size_t comma = urls.find(',');
    std::string_view url = urls.substr(0, comma);
    // The authority runs from after "scheme://" to the first '/', '?' or '#'; credentials end at
    // its last '@' (a password may itself contain '@' when the sender did not encode it).
    const size_t scheme = url.find("://");
    const size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
    const size_t end = std::min(url.size(), url.find_first_of("/?#", start));
    const size_t at = url.substr(0, end).rfind('@');
    if (at != std::string_view::npos && at >= start) {
      out.append(url.substr(0, start)).append("***").append(url.substr(at));
    } else {
      out.append(url);
    }
    if (comma == std::string_view::npos) break;
    out += ',';
    urls.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace tradepipe
