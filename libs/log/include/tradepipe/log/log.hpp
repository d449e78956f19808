// Process-wide logging on spdlog: one line per event, either `key=value` text or JSON lines.
// Messages are written as `event key=value ...`; never pass secrets, signatures or bodies.
//
//   tradepipe::log::Init("gateway", "info", "json");
//   spdlog::info("listening port={}", port);
//
// Thread-safe after Init (spdlog's multi-threaded sinks).
#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
namespace sinks {
class sink;
}
}  // namespace spdlog

namespace tradepipe::log {

// Installs the default logger. `format` is "text" or "json"; `level` a spdlog level name.
void Init(const std::string& service, const std::string& level, const std::string& format);

// Same, writing to a given sink (tests).
std::shared_ptr<spdlog::logger> MakeLogger(const std::string& service, const std::string& level,
                                           const std::string& format, std::shared_ptr<spdlog::sinks::sink> sink);

}  // namespace tradepipe::log
