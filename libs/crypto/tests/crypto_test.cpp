#include "tradepipe/crypto/crypto.hpp"

#include <gtest/gtest.h>

#include "tradepipe/crypto/hex_hmac.hpp"
#include "tradepipe/crypto/standard_webhooks.hpp"

namespace tradepipe::crypto {
namespace {

// Known-answer vector from the Standard Webhooks reference library (libraries/go/webhook_test.go).
constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::string_view kTimestamp = "1614265330";
constexpr std::string_view kBody = R"({"test": 2432232314})";
constexpr std::string_view kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
constexpr int64_t kNow = 1614265330;

std::vector<std::string> Keys(std::initializer_list<std::string_view> secrets) {
  std::vector<std::string> keys;
  for (auto s : secrets) keys.push_back(*ParseSecret(s));
  return keys;
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto decoded = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(decoded) << s;
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_EQ(Base64Encode("tradepipe-demo-secret"), "dHJhZGVwaXBlLWRlbW8tc2VjcmV0");
  EXPECT_FALSE(Base64Decode("abc"));
  EXPECT_FALSE(Base64Decode("ab!="));
}

TEST(Hmac, MatchesRfc4231TestCase2) {
  const Sha256Digest mac = HmacSha256("Jefe", {"what do ya want ", "for nothing?"});
  static constexpr unsigned char kExpected[] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                                                0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                                                0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
  EXPECT_TRUE(std::equal(mac.begin(), mac.end(), std::begin(kExpected)));
}

TEST(Sha256, MatchesTheAbcVector) {
  const Sha256Digest d = Sha256("abc");
  EXPECT_EQ(d[0], 0xba);
  EXPECT_EQ(d[1], 0x78);
  EXPECT_EQ(d[31], 0xad);
}

TEST(ConstantTimeEquals, ComparesLengthAndBytes) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(StandardWebhooks, SignMatchesTheReferenceVector) {
  EXPECT_EQ(Sign(*ParseSecret(kSecret), kId, kTimestamp, kBody), kSignature);
}

struct Case {
  const char* name;
  std::vector<std::string> keys;
  std::string id, timestamp, signature, body;
  int64_t now;
  VerifyOutcome expected;
};

TEST(StandardWebhooks, VerifyTable) {
  const std::string sig(kSignature);
  const std::string id(kId), ts(kTimestamp), body(kBody);
  const auto good = Keys({kSecret});
  const auto wrong = Keys({"whsec_dHJhZGVwaXBlLWRlbW8tc2VjcmV0"});
  const Case cases[] = {
      {"reference vector", good, id, ts, sig, body, kNow, VerifyOutcome::kOk},
      {"secret without prefix", Keys({kSecret.substr(6)}), id, ts, sig, body, kNow, VerifyOutcome::kOk},
      {"wrong secret", wrong, id, ts, sig, body, kNow, VerifyOutcome::kBadSignature},
      {"changed body", good, id, ts, sig, R"({"test": 2432232315})", kNow, VerifyOutcome::kBadSignature},
      {"changed id", good, "msg_other", ts, sig, body, kNow, VerifyOutcome::kBadSignature},
      {"stale timestamp", good, id, ts, sig, body, kNow + 301, VerifyOutcome::kStaleTimestamp},
      {"future timestamp", good, id, ts, sig, body, kNow - 301, VerifyOutcome::kStaleTimestamp},
      {"edge of tolerance", good, id, ts, sig, body, kNow + 300, VerifyOutcome::kOk},
      {"timestamp not a number", good, id, "16142x5330", sig, body, kNow, VerifyOutcome::kBadTimestamp},
      {"missing id", good, "", ts, sig, body, kNow, VerifyOutcome::kMissingHeaders},
      {"missing signature", good, id, ts, "", body, kNow, VerifyOutcome::kMissingHeaders},
      {"v2 only", good, id, ts, "v2,abc", body, kNow, VerifyOutcome::kNoSupportedScheme},
      {"one of several entries", good, id, ts, "v1,AAAA v1a,xyz " + sig, body, kNow, VerifyOutcome::kOk},
      {"rotation: old and new keys", Keys({"whsec_dHJhZGVwaXBlLWRlbW8tc2VjcmV0", kSecret}), id, ts, sig, body, kNow,
       VerifyOutcome::kOk},
      {"truncated signature", good, id, ts, sig.substr(0, sig.size() - 2), body, kNow, VerifyOutcome::kBadSignature},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Verify(c.keys, c.id, c.timestamp, c.signature, c.body, c.now, 300), c.expected) << c.name;
  }
}

TEST(HexHmac, VerifyTable) {
  const std::vector<std::string> keys = {"k-old", "k-new"};
  const std::string body = R"({"symbol":"AAPL"})";
  const std::string ts = "1700000000";
  const std::string sig = SignHexHmac("k-new", ts, body);
  std::string upper = sig;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  // Fixed vector: HMAC-SHA256("k-new", "1700000000.{\"symbol\":\"AAPL\"}"), computed with openssl.
  EXPECT_EQ(sig, "3902bfbfc448be125e1bd05e94b7435204df92b236bcc2848ca927372daf1dff");
  struct HexCase {
    const char* name;
    std::string ts, sig, body;
    int64_t now;
    VerifyOutcome expected;
  } cases[] = {
      {"valid", ts, sig, body, 1700000000, VerifyOutcome::kOk},
      {"uppercase hex", ts, upper, body, 1700000000, VerifyOutcome::kOk},
      {"sha256= prefix", ts, "sha256=" + sig, body, 1700000000, VerifyOutcome::kOk},
      {"changed body", ts, sig, body + " ", 1700000000, VerifyOutcome::kBadSignature},
      {"changed timestamp", "1700000001", sig, body, 1700000000, VerifyOutcome::kBadSignature},
      {"stale", ts, sig, body, 1700000301, VerifyOutcome::kStaleTimestamp},
      {"not hex length", ts, sig.substr(1), body, 1700000000, VerifyOutcome::kBadSignature},
      {"missing timestamp", "", sig, body, 1700000000, VerifyOutcome::kMissingHeaders},
      {"bad timestamp", "17x", sig, body, 1700000000, VerifyOutcome::kBadTimestamp},
  };
  for (const auto& c : cases) EXPECT_EQ(VerifyHexHmac(keys, c.ts, c.sig, c.body, c.now, 300), c.expected) << c.name;
  EXPECT_EQ(VerifyHexHmac(std::vector<std::string>{"k-old"}, ts, sig, body, 1700000000, 300),
            VerifyOutcome::kBadSignature);
}

TEST(StandardWebhooks, MalformedSecretsAreRefused) {
  EXPECT_FALSE(ParseSecret("whsec_"));
  EXPECT_FALSE(ParseSecret("whsec_not base64!"));
}

}  // namespace
}  // namespace tradepipe::crypto
