#include "sources_file.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace tradepipe::gateway {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

constexpr std::string_view kFile = R"({"sources": {
  "tradingview": {"schemes": ["body-token"], "tokens": ["file-token-0123456789"], "rate_per_s": 5, "burst": 10,
                  "require_time": false},
  "partner-x":   {"schemes": ["standard-webhooks", "hex-hmac"], "secrets": ["whsec_YWJj"]}
}})";

TEST(SourcesFile, ParsesSchemesCredentialsAndLimits) {
  auto s = ParseSourcesFile(kFile, Env({}));
  ASSERT_TRUE(s) << s.error();
  ASSERT_EQ(s->size(), 2u);
  const SourceConfig& tv = (*s)[0];
  EXPECT_EQ(tv.name, "tradingview");
  EXPECT_EQ(tv.schemes, std::vector<Scheme>{Scheme::kBodyToken});
  EXPECT_EQ(tv.tokens, std::vector<std::string>{"file-token-0123456789"});
  EXPECT_EQ(tv.rate_per_s, 5);
  EXPECT_EQ(tv.burst, 10);
  EXPECT_FALSE(tv.require_time);
  const SourceConfig& partner = (*s)[1];
  EXPECT_TRUE(partner.require_time);  // the default
  EXPECT_EQ(partner.keys, std::vector<std::string>{"abc"});
  EXPECT_EQ(partner.schemes.size(), 2u);
}

TEST(SourcesFile, EnvironmentOverridesSecretsAndTokens) {
  auto s = ParseSourcesFile(
      kFile, Env({{"TRADEPIPE_GATEWAY_SOURCE_TRADINGVIEW_TOKENS", "env-token-0123456789,older-token-0123456789"},
                  {"TRADEPIPE_GATEWAY_SOURCE_PARTNER_X_SECRETS", "whsec_ZGVm,whsec_YWJj"}}));
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ((*s)[0].tokens, (std::vector<std::string>{"env-token-0123456789", "older-token-0123456789"}));
  EXPECT_EQ((*s)[1].keys, (std::vector<std::string>{"def", "abc"}));
}

TEST(SourcesFile, RefusalsNameTheProblemNotTheSecret) {
  struct BadCase {
    std::string json;
    std::string expected;
  } cases[] = {
      {R"({"sources": {"a": {"secrets": ["whsec_YWJj"], "ratelimit": 1}}})", "unknown key 'ratelimit'"},
      {R"({"sources": {"a": {"schemes": ["basic-auth"], "secrets": ["whsec_YWJj"]}}})", "unknown scheme 'basic-auth'"},
      {R"({"sources": {"a": {"schemes": ["hex-hmac"]}}})", "need secrets"},
      {R"({"sources": {"a": {"schemes": ["body-token"]}}})", "needs tokens"},
      {R"({"sources": {"a": {"schemes": ["body-token"], "tokens": ["short"]}}})", "at least 16"},
      {R"({"sources": {"a": {"secrets": ["whsec_s3cr3t!!"]}}})", "not whsec_"},
      {R"({"sources": {"a.b": {"secrets": ["whsec_YWJj"]}}})", "names use only"},
      {R"({"sorces": {}})", "unknown key 'sorces'"},
      {R"({"sources": {"a": {"burst": 0, "secrets": ["whsec_YWJj"]}}})", "burst"},
      {R"({"sources": {"a": {"allow_ips": ["10.0.0.0/40"], "secrets": ["whsec_YWJj"]}}})", "bad prefix length"},
      {R"({"sources": {"a": {"require_time": "no", "secrets": ["whsec_YWJj"]}}})", "require_time: expected true"},
      {"not json", "not a JSON object"},
  };
  for (const auto& c : cases) {
    auto s = ParseSourcesFile(c.json, Env({}));
    ASSERT_FALSE(s) << c.json;
    EXPECT_NE(s.error().find(c.expected), std::string::npos) << s.error();
    EXPECT_EQ(s.error().find("s3cr3t"), std::string::npos);
  }
}

SourceSettings Settings(bool demo, std::string load_test_token) {
  SourceSettings settings;
  settings.demo = demo;
  settings.load_test_token = std::move(load_test_token);
  return settings;
}

TEST(LoadSources, TheLoadTestSourceExistsOnlyWithItsTokenOfSixteenCharactersOrMore) {
  auto none = LoadSources(Settings(true, ""), Env({}));
  ASSERT_TRUE(none) << none.error();
  for (const auto& s : *none) EXPECT_NE(s.name, kLoadTestSource);

  auto with = LoadSources(Settings(true, "load-test-token-0123"), Env({}));
  ASSERT_TRUE(with) << with.error();
  const auto it = std::find_if(with->begin(), with->end(), [](const auto& s) { return s.name == kLoadTestSource; });
  ASSERT_NE(it, with->end());
  EXPECT_EQ(it->schemes, std::vector<Scheme>{Scheme::kLoadTest});
  EXPECT_EQ(it->tokens, std::vector<std::string>{"load-test-token-0123"});

  auto alone = LoadSources(Settings(false, "load-test-token-0123"), Env({}));
  ASSERT_TRUE(alone) << "a load-test source is a source: the gateway may run with it alone";

  auto short_token = LoadSources(Settings(true, "s3cr3t"), Env({}));
  ASSERT_FALSE(short_token);
  EXPECT_NE(short_token.error().find("--load-test-token: at least 16"), std::string::npos) << short_token.error();
  EXPECT_EQ(short_token.error().find("s3cr3t"), std::string::npos);
}

}  // namespace
}  // namespace tradepipe::gateway
