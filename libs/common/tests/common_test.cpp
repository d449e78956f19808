#include <gtest/gtest.h>

#include "tradepipe/common/clock.hpp"
#include "tradepipe/common/percent.hpp"
#include "tradepipe/common/redact.hpp"
#include "tradepipe/common/result.hpp"

namespace tradepipe {
namespace {

TEST(Status, OkAndError) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  Status bad = Status::Error("disk full");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error(), "disk full");
}

TEST(Result, HoldsAValueOrAnError) {
  Result<std::string> value(std::string("x"));
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, "x");
  EXPECT_EQ(value->size(), 1u);
  auto error = Result<std::string>::Error("nope");
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error(), "nope");
}

TEST(PercentDecode, DecodesValidEscapesAndKeepsInvalidOnes) {
  EXPECT_EQ(PercentDecode("demo%3Amsg%2F1"), "demo:msg/1");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecode("%41%62"), "Ab");
}

TEST(RedactUrlCredentials, HidesUserPasswordAndTokenOfEveryUrl) {
  EXPECT_EQ(RedactUrlCredentials("nats://app:s3cret@nats:4222"), "nats://***@nats:4222");
  EXPECT_EQ(RedactUrlCredentials("nats://tok@a:4222, nats://u:p@b:4222"), "nats://***@a:4222, nats://***@b:4222");
  EXPECT_EQ(RedactUrlCredentials("redis://:pa@ss@redis:6379/2"), "redis://***@redis:6379/2");
  EXPECT_EQ(RedactUrlCredentials("app:s3cret@host:4222"), "***@host:4222");  // no scheme
  // Nothing to hide: unchanged, also an '@' after the authority.
  EXPECT_EQ(RedactUrlCredentials("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
  EXPECT_EQ(RedactUrlCredentials("redis://h:6379/0?x=a@b"), "redis://h:6379/0?x=a@b");
  EXPECT_EQ(RedactUrlCredentials(""), "");
}

TEST(WallNanos, IsAfter2025AndMonotoneEnough) {
  const int64_t a = WallNanos();
  const int64_t b = WallNanos();
  EXPECT_GT(a, 1'735'689'600'000'000'000);  // 2025-01-01
  EXPECT_GE(b, a);
}

}  // namespace
}  // namespace tradepipe
