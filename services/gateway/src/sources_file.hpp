// Per-source configuration from a JSON file (--sources-file, TRADEPIPE_GATEWAY_SOURCES_FILE),
// with secrets and tokens overridable from the environment so they need not sit in the file:
//
//   {"sources": {
//     "tradingview": {"schemes": ["body-token"], "rate_per_s": 5, "burst": 10},
//     "partner":     {"schemes": ["standard-webhooks", "hex-hmac"], "secrets": ["whsec_..."]}}}
//
//   TRADEPIPE_GATEWAY_SOURCE_TRADINGVIEW_TOKENS=<token>[,<older token>]
//   TRADEPIPE_GATEWAY_SOURCE_PARTNER_SECRETS=whsec_<new>,whsec_<old>
//
// Keys per source: schemes (default ["standard-webhooks"]), secrets, tokens, allow_ips
// (addresses or CIDR ranges; default any), rate_per_s (0 = unlimited), burst. Unknown keys are refused by name; a
// scheme without its credential, a token shorter than 16 characters or a malformed secret is refused naming the source,
// never the value. Thread-safety: pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tradepipe/common/result.hpp"
#include "webhook_processor.hpp"

namespace tradepipe::gateway {

using EnvLookup = std::function<const char*(const std::string& name)>;

// The environment variable prefix of per-source overrides.
inline constexpr std::string_view kSourceEnvPrefix = "TRADEPIPE_GATEWAY_SOURCE_";

Result<std::vector<SourceConfig>> ParseSourcesFile(std::string_view json, const EnvLookup& env);

// Where the gateway's sources come from, as configured.
struct SourceSettings {
  std::string sources;            // --sources: "name=whsec_...;..."
  std::string sources_file;       // --sources-file: a JSON file (above); empty: none
  bool demo = false;              // --demo: the documented DEMO source
  std::string load_test_token;    // --load-test-token: the load-test source; empty: none
  double default_rate_per_s = 0;  // for sources that set no rate of their own
  int64_t default_burst = 1;
};

// Every source of `settings`: --sources, then the file, then the demo and load-test sources; each name once,
// rates defaulted, at least one. The error names the setting that is wrong.
Result<std::vector<SourceConfig>> LoadSources(const SourceSettings& settings, const EnvLookup& env);

}  // namespace tradepipe::gateway
