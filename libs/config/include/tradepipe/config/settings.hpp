// Typed start-up configuration: every setting is a field of a struct, declared once with a
// flag, an environment variable and a validator. Flags override the environment; unknown
// `TRADEPIPE_<SERVICE>_*` variables are refused by name, so a typo never silently falls
// back to a default.
//
//   GatewayConfig cfg;
//   tradepipe::config::Settings s("gateway", "Webhook ingress");
//   tradepipe::config::AddCommon(s, cfg.common, 8001);
//   s.Add("max-body", cfg.max_body, "largest accepted body in bytes")->check(CLI::Range(1, 1 << 24));
//   if (auto exit_code = s.Parse(argc, argv)) return *exit_code;
//
// Environment names: `TRADEPIPE_<SERVICE>_<KEY>` for a service's own settings (key
// upper-cased, `-` → `_`), `TRADEPIPE_<KEY>` for settings shared by every service.
// Not thread-safe: used once, at start, on the main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tradepipe::config {

enum class Scope { kService, kShared };

// Settings every service has.
struct CommonConfig {
  std::string http_host = "0.0.0.0";
  uint16_t http_port = 0;
  int http_threads = 1;
  int http_max_connections = 10'000;
  std::string nats_url = "nats://127.0.0.1:4222";
  int nats_connect_timeout_s = 30;  // retry the first connection this long
  std::string log_level = "info";
  std::string log_format = "text";  // text (key=value) or json
  // Every stream's limits, when set (0: proto/streams.json's). Give every service the same values:
  // each one provisions the streams at start.
  int64_t stream_max_bytes = 0;
  int64_t signals_max_bytes = 0;  // SIGNALS only (its unconsumed backlog); 0: stream_max_bytes
  int64_t stream_max_age_s = 0;
  int64_t stream_duplicate_window_s = 0;
};

class Settings {
 public:
  Settings(std::string service, const std::string& description);

  // The environment variable a key is read from.
  std::string EnvName(const std::string& key, Scope scope) const;

  template <typename T>
  CLI::Option* Add(const std::string& key, T& field, const std::string& help, Scope scope = Scope::kService) {
    const std::string env = EnvName(key, scope);
    known_env_.insert(env);
    return app_.add_option("--" + key, field, help)->envname(env)->capture_default_str();
  }

  // A boolean switch: `--key` on the command line, or the variable set to true/false/1/0.
  CLI::Option* AddFlag(const std::string& key, bool& field, const std::string& help, Scope scope = Scope::kService) {
    const std::string env = EnvName(key, scope);
    known_env_.insert(env);
    return app_.add_flag("--" + key, field, help)->envname(env);
  }

  // Variables starting with `prefix` are read by the service itself (e.g. per-source secrets):
  // not refused as unknown.
  void AllowEnvPrefix(std::string prefix) { allowed_prefixes_.push_back(std::move(prefix)); }

  // Parses the environment and argv. Returns an exit code when main should stop (bad value,
  // unknown setting, --help), with the reason already printed; nullopt to go on.
  std::optional<int> Parse(int argc, const char* const* argv);

  // Parse without printing; returns the error text (empty on success). For tests.
  std::string ParseForTest(int argc, const char* const* argv);

  CLI::App& app() { return app_; }

 private:
  std::string UnknownEnvironment() const;

  std::string service_;
  std::string env_prefix_;
  CLI::App app_;
  std::set<std::string> known_env_;
  std::vector<std::string> allowed_prefixes_;
};

// Declares the common settings (`--http-port`, `--nats-url`, `--log-level`, ...).
void AddCommon(Settings& settings, CommonConfig& common, uint16_t default_port);

}  // namespace tradepipe::config
