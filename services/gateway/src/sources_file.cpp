#include "sources_file.hpp"

#include <simdjson.h>

#include <cctype>
#include <fstream>
#include <iterator>
#include <set>

#include "tradepipe/crypto/standard_webhooks.hpp"
#include "tradepipe/events/json_read.hpp"

namespace tradepipe::gateway {
namespace {

namespace od = simdjson::ondemand;

std::string EnvToken(std::string_view name) {
  std::string out;
  for (unsigned char c : name) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

std::vector<std::string> SplitComma(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    if (std::string_view item = text.substr(0, comma); !item.empty()) out.emplace_back(item);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

// One source's object; returns an error text (empty when fine).
std::string ReadSource(od::object& object, SourceConfig& source, std::vector<std::string>& secrets) {
  for (auto field : object) {
    std::string_view raw_key;
    if (field.unescaped_key().get(raw_key)) return "bad key";
    const std::string key(raw_key);
    od::value value;
    if (field.value().get(value)) return key + ": bad value";
    if (key == "schemes") {
      std::vector<std::string> names;
      if (auto e = events::ReadStrings(value, names); !e.empty()) return key + ": " + e;
      source.schemes.clear();
      for (const auto& n : names) {
        if (n == "standard-webhooks") {
          source.schemes.push_back(Scheme::kStandardWebhooks);
        } else if (n == "hex-hmac") {
          source.schemes.push_back(Scheme::kHexHmac);
        } else if (n == "body-token") {
          source.schemes.push_back(Scheme::kBodyToken);
        } else {
          return "schemes: unknown scheme '" + n + "' (standard-webhooks, hex-hmac, body-token)";
        }
      }
    } else if (key == "secrets") {
      if (auto e = events::ReadStrings(value, secrets); !e.empty()) return key + ": " + e;
    } else if (key == "tokens") {
      if (auto e = events::ReadStrings(value, source.tokens); !e.empty()) return key + ": " + e;
    } else if (key == "allow_ips") {
      if (auto e = events::ReadStrings(value, source.allow_ips); !e.empty()) return key + ": " + e;
      if (auto list = IpAllowList::Parse(source.allow_ips); !list) return key + ": " + list.error();
    } else if (key == "rate_per_s") {
      if (value.get_double().get(source.rate_per_s) || source.rate_per_s < 0) return key + ": expected a number >= 0";
    } else if (key == "burst") {
      if (value.get_int64().get(source.burst) || source.burst < 1) return key + ": expected an integer >= 1";
    } else if (key == "require_time") {
      if (value.get_bool().get(source.require_time)) return key + ": expected true or false";
    } else {
      return "unknown key '" + key + "' (schemes, secrets, tokens, allow_ips, rate_per_s, burst, require_time)";
    }
  }
  return {};
}

}  // namespace

Result<std::vector<SourceConfig>> ParseSourcesFile(std::string_view json, const EnvLookup& env) {
  using R = Result<std::vector<SourceConfig>>;
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  od::object root;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(root)) return R::Error("not a JSON object");
  std::vector<SourceConfig> sources;
  for (auto top : root) {
    std::string_view top_key;
    if (top.unescaped_key().get(top_key) || top_key != "sources") {
      return R::Error("unknown key '" + std::string(top_key) + "' (expected \"sources\")");
    }
    od::object by_name;
    if (top.value().get_object().get(by_name)) return R::Error("sources: expected an object");
    for (auto entry : by_name) {
      std::string_view raw_name;
      if (entry.unescaped_key().get(raw_name)) return R::Error("sources: bad key");
      SourceConfig source;
      source.name = raw_name;
      for (unsigned char c : source.name) {
        if (!std::isalnum(c) && c != '-' && c != '_') {
          return R::Error("source '" + source.name + "': names use only letters, digits, '-' and '_'");
        }
      }
      od::object object;
      if (entry.value().get_object().get(object)) return R::Error("source '" + source.name + "': expected an object");
      std::vector<std::string> secrets;
      if (auto e = ReadSource(object, source, secrets); !e.empty())
        return R::Error("source '" + source.name + "': " + e);

      const std::string prefix = std::string(kSourceEnvPrefix) + EnvToken(source.name);
      if (const char* v = env(prefix + "_SECRETS"); v != nullptr) secrets = SplitComma(v);
      if (const char* v = env(prefix + "_TOKENS"); v != nullptr) source.tokens = SplitComma(v);
      for (const auto& secret : secrets) {
        auto key = crypto::ParseSecret(secret);
        if (!key) return R::Error("source '" + source.name + "': a secret is not whsec_<base64>");
        source.keys.push_back(*key);
      }
      for (const auto& token : source.tokens) {
        if (token.size() < 16) return R::Error("source '" + source.name + "': tokens must be at least 16 characters");
      }
      auto has = [&](Scheme s) {
        return std::find(source.schemes.begin(), source.schemes.end(), s) != source.schemes.end();
      };
      if (source.schemes.empty()) return R::Error("source '" + source.name + "': no scheme");
      if ((has(Scheme::kStandardWebhooks) || has(Scheme::kHexHmac)) && source.keys.empty()) {
        return R::Error("source '" + source.name + "': its schemes need secrets (file or " + prefix + "_SECRETS)");
      }
      if (has(Scheme::kBodyToken) && source.tokens.empty()) {
        return R::Error("source '" + source.name + "': body-token needs tokens (file or " + prefix + "_TOKENS)");
      }
      sources.push_back(std::move(source));
    }
  }
  return sources;
}

Result<std::vector<SourceConfig>> LoadSources(const SourceSettings& settings, const EnvLookup& env) {
  using R = Result<std::vector<SourceConfig>>;
  auto sources = ParseSources(settings.sources);
  if (!sources) return R::Error("--sources: " + sources.error());
  if (!settings.sources_file.empty()) {
    std::ifstream in(settings.sources_file);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto from_file = ParseSourcesFile(text, env);
    if (!from_file) return R::Error(settings.sources_file + ": " + from_file.error());
    for (auto& s : *from_file) sources->push_back(std::move(s));
  }
  if (settings.demo) {
    SourceConfig demo;
    demo.name = kDemoSource;
    demo.keys = {*crypto::ParseSecret(kDemoSecret)};
    sources->push_back(std::move(demo));
  }
  if (!settings.load_test_token.empty()) {
    if (settings.load_test_token.size() < 16) return R::Error("--load-test-token: at least 16 characters");
    SourceConfig load_test;
    load_test.name = kLoadTestSource;
    load_test.schemes = {Scheme::kLoadTest};
    load_test.tokens = {settings.load_test_token};
    sources->push_back(std::move(load_test));
  }
  std::set<std::string> names;
  for (auto& source : *sources) {
    if (!names.insert(source.name).second) return R::Error("source '" + source.name + "' is defined twice");
    if (source.rate_per_s == 0) {  // the file may set its own; otherwise the command-line default
      source.rate_per_s = settings.default_rate_per_s;
      source.burst = settings.default_burst;
    }
  }
  if (sources->empty()) return R::Error("no webhook source: set --sources (TRADEPIPE_GATEWAY_SOURCES) or --demo");
  return sources;
}

}  // namespace tradepipe::gateway
