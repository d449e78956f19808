#include "tradepipe/config/settings.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace tradepipe::config {
namespace {

struct EnvGuard {
  explicit EnvGuard(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~EnvGuard() { ::unsetenv(name_); }
  const char* name_;
};

TEST(Settings, DefaultsApplyWithoutEnvironmentOrFlags) {
  CommonConfig common;
  Settings s("testsvc", "test");
  AddCommon(s, common, 8123);
  const char* argv[] = {"testsvc"};
  EXPECT_EQ(s.ParseForTest(1, argv), "");
  EXPECT_EQ(common.http_port, 8123);
  EXPECT_EQ(common.nats_url, "nats://127.0.0.1:4222");
}

TEST(Settings, EnvironmentIsReadAndFlagsOverrideIt) {
  EnvGuard port("TRADEPIPE_TESTSVC_HTTP_PORT", "9001");
  EnvGuard url("TRADEPIPE_NATS_URL", "nats://10.0.0.1:4222");
  CommonConfig common;
  Settings s("testsvc", "test");
  AddCommon(s, common, 8123);
  const char* argv[] = {"testsvc", "--http-port", "9002"};
  EXPECT_EQ(s.ParseForTest(3, argv), "");
  EXPECT_EQ(common.http_port, 9002);
  EXPECT_EQ(common.nats_url, "nats://10.0.0.1:4222");
}

TEST(Settings, BadValueNamesTheSetting) {
  EnvGuard port("TRADEPIPE_TESTSVC_HTTP_PORT", "70000");
  CommonConfig common;
  Settings s("testsvc", "test");
  AddCommon(s, common, 8123);
  const char* argv[] = {"testsvc"};
  const std::string error = s.ParseForTest(1, argv);
  EXPECT_NE(error.find("http-port"), std::string::npos) << error;
}

TEST(Settings, NonNumericValueIsRefused) {
  CommonConfig common;
  Settings s("testsvc", "test");
  AddCommon(s, common, 8123);
  const char* argv[] = {"testsvc", "--http-threads", "many"};
  EXPECT_NE(s.ParseForTest(3, argv), "");
}

TEST(Settings, UnknownServiceVariableIsRefusedByName) {
  EnvGuard typo("TRADEPIPE_TESTSVC_HTTP_PROT", "1");
  CommonConfig common;
  Settings s("testsvc", "test");
  AddCommon(s, common, 8123);
  const char* argv[] = {"testsvc"};
  const std::string error = s.ParseForTest(1, argv);
  EXPECT_NE(error.find("TRADEPIPE_TESTSVC_HTTP_PROT"), std::string::npos) << error;
}

TEST(Settings, AllowedPrefixesAreNotRefused) {
  EnvGuard extra("TRADEPIPE_TESTSVC_SOURCE_TV_TOKENS", "x");
  CommonConfig common;
  Settings s("testsvc", "test");
  AddCommon(s, common, 8123);
  s.AllowEnvPrefix("TRADEPIPE_TESTSVC_SOURCE_");
  const char* argv[] = {"testsvc"};
  EXPECT_EQ(s.ParseForTest(1, argv), "");
}

TEST(Settings, EnvNamesFollowTheConvention) {
  Settings s("exec-sim", "test");
  EXPECT_EQ(s.EnvName("max-qty", Scope::kService), "TRADEPIPE_EXEC_SIM_MAX_QTY");
  EXPECT_EQ(s.EnvName("nats-url", Scope::kShared), "TRADEPIPE_NATS_URL");
}

}  // namespace
}  // namespace tradepipe::config
