#include "tradepipe/config/settings.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <iostream>

namespace tradepipe::config {
namespace {

std::string ToEnvToken(std::string text) {
  for (char& c : text) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

Settings::Settings(std::string service, const std::string& description)
    : service_(std::move(service)),
      env_prefix_("TRADEPIPE_" + ToEnvToken(service_) + "_"),
      app_(description, service_) {
  app_.option_defaults()->always_capture_default();
}

std::string Settings::EnvName(const std::string& key, Scope scope) const {
  return scope == Scope::kShared ? "TRADEPIPE_" + ToEnvToken(key) : env_prefix_ + ToEnvToken(key);
}

std::string Settings::UnknownEnvironment() const {
  std::string unknown;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with(env_prefix_)) continue;
    std::string name(entry.substr(0, entry.find('=')));
    const bool allowed = std::any_of(allowed_prefixes_.begin(), allowed_prefixes_.end(),
                                     [&](const std::string& p) { return name.starts_with(p); });
    if (!allowed && !known_env_.contains(name)) unknown += (unknown.empty() ? "" : ", ") + name;
  }
  return unknown;
}

std::string Settings::ParseForTest(int argc, const char* const* argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  if (auto unknown = UnknownEnvironment(); !unknown.empty()) return "unknown setting(s): " + unknown;
  return {};
}

std::optional<int> Settings::Parse(int argc, const char* const* argv) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app_.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app_.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << service_ << ": configuration error: " << e.what() << "\n"
              << "run `" << service_ << " --help` for every setting and its environment variable\n";
    return 2;
  }
  if (auto unknown = UnknownEnvironment(); !unknown.empty()) {
    std::cerr << service_ << ": configuration error: unknown setting(s) in the environment: " << unknown << "\n";
    return 2;
  }
  return std::nullopt;
}

void AddCommon(Settings& settings, CommonConfig& common, uint16_t default_port) {
  common.http_port = default_port;
  settings.Add("http-host", common.http_host, "address the HTTP server binds");
  settings.Add("http-port", common.http_port, "HTTP port (0 = any free port)")->check(CLI::Range(0, 65535));
  settings.Add("http-threads", common.http_threads, "HTTP server threads")->check(CLI::Range(1, 256));
  settings
      .Add("http-max-connections", common.http_max_connections,
           "open HTTP connections at most; more are closed at once (counted in /metrics)")
      ->check(CLI::Range(1, 1'000'000));
  settings.Add("nats-url", common.nats_url, "NATS server URL", Scope::kShared);
  settings
      .Add("nats-connect-timeout-s", common.nats_connect_timeout_s,
           "keep retrying the first NATS connection this long, seconds", Scope::kShared)
      ->check(CLI::Range(0, 3600));
  settings.Add("log-level", common.log_level, "trace, debug, info, warn, error", Scope::kShared)
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  settings.Add("log-format", common.log_format, "text (key=value) or json", Scope::kShared)
      ->check(CLI::IsMember({"text", "json"}));
  settings
      .Add("stream-max-bytes", common.stream_max_bytes,
           "bytes each stream of events may hold before it refuses new messages (0 = proto/streams.json)",
           Scope::kShared)
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 50));
  settings
      .Add("signals-max-bytes", common.signals_max_bytes,
           "bytes of not yet consumed signals SIGNALS may hold before webhooks get 503 (0 = --stream-max-bytes)",
           Scope::kShared)
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 50));
  settings
      .Add("stream-max-age-s", common.stream_max_age_s,
           "seconds a message is kept in each stream of events (0 = proto/streams.json; the agent's snapshots in "
           "AGENT_STATE are kept whatever their age)",
           Scope::kShared)
      ->check(CLI::Range(int64_t{0}, int64_t{10} * 365 * 86400));
  settings
      .Add("stream-duplicate-window-s", common.stream_duplicate_window_s,
           "seconds JetStream drops a repeated Nats-Msg-Id in each stream (0 = proto/streams.json); its memory "
           "is rate x window ids, and repeats later than it are caught by the services' own dedup sets",
           Scope::kShared)
      ->check(CLI::Range(int64_t{0}, int64_t{7} * 86400));
}

}  // namespace tradepipe::config
