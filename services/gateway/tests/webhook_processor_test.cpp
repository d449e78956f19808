#include "webhook_processor.hpp"

#include <gtest/gtest.h>

#include <map>

#include "tradepipe/crypto/hex_hmac.hpp"
#include "tradepipe/crypto/standard_webhooks.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::gateway {
namespace {

constexpr int64_t kNanos = 1'000'000'000;
constexpr int64_t kNow = 1'764'000'000;
const std::string kKey = *crypto::ParseSecret(kDemoSecret);
const std::string kOtherKey = "another-key-entirely";

struct Req {
  std::map<std::string, std::string> headers;
  std::string body;
};

Req Signed(const std::string& id, const std::string& body, int64_t ts = kNow, const std::string& key = kKey) {
  const std::string t = std::to_string(ts);
  return Req{{{"webhook-id", id}, {"webhook-timestamp", t}, {"webhook-signature", crypto::Sign(key, id, t, body)}},
             body};
}

SourceConfig Src(std::string name, std::vector<std::string> keys, double rate = 0, int64_t burst = 1,
                 std::vector<Scheme> schemes = {Scheme::kStandardWebhooks}, std::vector<std::string> tokens = {}) {
  SourceConfig c;
  c.name = std::move(name);
  c.keys = std::move(keys);
  c.rate_per_s = rate;
  c.burst = burst;
  c.schemes = std::move(schemes);
  c.tokens = std::move(tokens);
  return c;
}

SourceConfig Fenced() {
  SourceConfig c = Src("fenced", {kKey});
  c.allow_ips = {"52.89.214.238", "10.0.0.0/8"};
  return c;
}

class ProcessorTest : public ::testing::Test {
 protected:
  std::variant<http::Response, PublishJob> Admit(const std::string& source, const Req& r) {
    return processor_.Admit(
        source,
        [&r](std::string_view name) -> std::string_view {
          auto it = r.headers.find(std::string(name));
          return it == r.headers.end() ? std::string_view() : std::string_view(it->second);
        },
        r.body, kNow* kNanos);
  }
  http::Response AdmitResponse(const std::string& source, const Req& r) {
    auto v = Admit(source, r);
    if (auto* resp = std::get_if<http::Response>(&v)) return *resp;
    return http::Response{-1, "published", "", {}};
  }

  std::vector<std::string> rejected_;
  int replays_ = 0;
  std::vector<int64_t> claim_times_;  // idempotency stage of each claim the store answered
  MemoryIdempotencyStore store_{100, 3600 * kNanos};
  WebhookProcessor processor_{
      {Src("demo", {kKey}), Src("rotating", {kOtherKey, kKey}), Src("slow", {kKey}, 1, 2),
       Src("hex", {kKey}, 0, 1, {Scheme::kHexHmac, Scheme::kStandardWebhooks}),
       Src("tv", {}, 0, 1, {Scheme::kBodyToken}, {"old-token", "tv-token"}), Fenced(),
       Src("loadtest", {}, 0, 1, {Scheme::kLoadTest}, {"load-test-token-0123"})},
      {.tolerance_s = 300},
      store_,
      {.rejected = [this](std::string_view c) { rejected_.emplace_back(c); },
       .replayed = [this] { ++replays_; },
       .claimed = [this](int64_t, int64_t idempotency_ns) { claim_times_.push_back(idempotency_ns); }}};
};

const std::string kGood = R"({"symbol":"AAPL","action":"buy","qty":10,"price":"187.5"})";

TEST_F(ProcessorTest, StatusTable) {
  struct Case {
    const char* name;
    std::string source;
    Req req;
    int status;
    std::string error;
  };
  Req missing_sig = Signed("m1", kGood);
  missing_sig.headers.erase("webhook-signature");
  Req xml = Signed("m3", kGood);
  xml.headers["content-type"] = "application/xml";
  Req tampered = Signed("m2", kGood);
  tampered.body = R"({"symbol":"AAPL","action":"buy","qty":1000,"price":"187.5"})";
  const Case cases[] = {
      {"unknown source", "nope", Signed("a", kGood), 404, "unknown_source"},
      {"missing signature", "demo", missing_sig, 401, "missing_signature_headers"},
      {"wrong content type", "demo", xml, 415, "unsupported_media_type"},
      {"changed body", "demo", tampered, 401, "bad_signature"},
      {"wrong secret", "demo", Signed("b", kGood, kNow, kOtherKey), 401, "bad_signature"},
      {"stale timestamp", "demo", Signed("c", kGood, kNow - 301), 401, "stale_timestamp"},
      {"future timestamp", "demo", Signed("d", kGood, kNow + 301), 401, "stale_timestamp"},
      {"malformed json", "demo", Signed("e", R"({"symbol": "AAPL",)"), 400, "malformed_json"},
      {"not an object", "demo", Signed("f", "[1,2]"), 422, "invalid_signal"},
      {"missing symbol", "demo", Signed("g", R"({"action":"buy","qty":1})"), 422, "invalid_signal"},
      {"bad action", "demo", Signed("h", R"({"symbol":"A","action":"hold","qty":1})"), 422, "invalid_signal"},
      {"negative qty", "demo", Signed("i", R"({"symbol":"A","action":"buy","qty":-1})"), 422, "invalid_signal"},
      {"exponent qty", "demo", Signed("j", R"({"symbol":"A","action":"buy","qty":1e3})"), 422, "invalid_signal"},
      {"limit without price", "demo", Signed("k", R"({"symbol":"A","action":"buy","qty":1,"order_type":"limit"})"), 422,
       "invalid_signal"},
      {"qty beyond the fixed-point range", "demo",
       Signed("o", R"({"symbol":"A","action":"buy","qty":"92233720368.6"})"), 422, "invalid_signal"},
      // A symbol is validated at the door: a quote could forge JSON downstream.
      {"symbol with a quote", "demo", Signed("l", R"({"symbol":"A\",\"B","action":"buy","qty":1})"), 422,
       "invalid_signal"},
      {"symbol with a space", "demo", Signed("m", R"({"symbol":"A B","action":"buy","qty":1})"), 422, "invalid_signal"},
      {"symbol too long", "demo", Signed("n", R"({"symbol":")" + std::string(33, 'A') + R"(","action":"buy","qty":1})"),
       422, "invalid_signal"},
  };
  for (const Case& c : cases) {
    const http::Response r = AdmitResponse(c.source, c.req);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_NE(r.body.find("\"error\":\"" + c.error + "\""), std::string::npos) << c.name << ": " << r.body;
  }
  EXPECT_EQ(rejected_.size(), std::size(cases));
}

TEST_F(ProcessorTest, UnsignedIdempotencyKeyCannotTurnAReplayIntoANewSignal) {
  // The same captured request sent three times with three Idempotency-Key headers: one signal.
  Req r = Signed("msg_captured", kGood);
  auto first = Admit("demo", r);
  ASSERT_TRUE(std::holds_alternative<PublishJob>(first));
  EXPECT_EQ(std::get<PublishJob>(first).signal_id, "demo:msg_captured");
  for (const char* key : {"k1", "k2", "k3"}) {
    r.headers["idempotency-key"] = key;
    EXPECT_EQ(AdmitResponse("demo", r).status, 409) << key;  // the first is still in flight
  }
}

TEST_F(ProcessorTest, KeysCannotCollideWithDerivedEventIds) {
  // A webhook-id "X/order" must not become the id of signal X's decision ("demo:X/order").
  auto v = Admit("demo", Signed("X/order", kGood));
  ASSERT_TRUE(std::holds_alternative<PublishJob>(v));
  EXPECT_EQ(std::get<PublishJob>(v).signal_id, "demo:X%2Forder");
}

TEST(ParseBodyTime, TradingViewTimenowAndUnixSeconds) {
  EXPECT_EQ(ParseBodyTime("2025-11-24T16:00:00Z"), 1764000000);
  EXPECT_EQ(ParseBodyTime("2025-11-24T16:00:00.123Z"), 1764000000);
  EXPECT_EQ(ParseBodyTime("1764000000"), 1764000000);
  EXPECT_EQ(ParseBodyTime("1764000000.75"), 1764000000);
  EXPECT_EQ(ParseBodyTime("1970-01-01T00:00:00Z"), 0);
  for (const char* bad :
       {"", "2025-11-24", "2025-11-24T16:00:00", "2025-11-24T16:00:00+01:00", "2025-02-30T00:00:00Z",
        "2025-11-24T24:00:00Z", "2025-11-24T16:00:00.Z", "-5", "1e9", "2025-11-24T16:00:00Zx", "17.", ".5", "1.2.3"}) {
    EXPECT_FALSE(ParseBodyTime(bad)) << bad;
  }
}

TEST_F(ProcessorTest, OverflowingQuantityIsOutOfRangeNotNegative) {
  const http::Response r = AdmitResponse("demo", Signed("p", R"({"symbol":"A","action":"buy","qty":"92233720368.6"})"));
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("qty: number out of range"), std::string::npos) << r.body;
}

TEST_F(ProcessorTest, BadSymbolAnswerNamesTheField) {
  const http::Response r = AdmitResponse("demo", Signed("q", R"({"symbol":"A\"B","action":"buy","qty":1})"));
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("symbol: only letters, digits"), std::string::npos) << r.body;
}

TEST_F(ProcessorTest, ErrorBodiesNeverContainTheSecret) {
  const http::Response r = AdmitResponse("demo", Signed("x", kGood, kNow, kOtherKey));
  EXPECT_EQ(r.body.find(std::string(kDemoSecret).substr(6)), std::string::npos);
}

TEST_F(ProcessorTest, AcceptedSignalIsAValidEnvelopeOnAnEncodedSubject) {
  auto v = Admit("demo", Signed("msg_1", R"({"Ticker":"BINANCE.BTC","Side":"SELL","contracts":"0.00001"})"));
  ASSERT_TRUE(std::holds_alternative<PublishJob>(v)) << std::get<http::Response>(v).body;
  const PublishJob& job = std::get<PublishJob>(v);
  EXPECT_EQ(job.signal_id, "demo:msg_1");
  EXPECT_EQ(job.subject, "signals.demo.BINANCE%2EBTC");
  auto e = events::ParseEnvelope(job.data);
  ASSERT_TRUE(e) << e.error();
  EXPECT_EQ(e->type, "signal");
  EXPECT_EQ(e->correlation_id, "demo:msg_1");
  EXPECT_TRUE(e->StampOf("received") && e->StampOf("verified") && e->StampOf("published"));
  auto p = events::ParseSignalPayload(e->payload);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->action, events::SignalAction::kSell);
  EXPECT_EQ(p->qty->ToString(), "0.00001");
}

TEST_F(ProcessorTest, LoadTestRequestsAreBearerAuthenticatedAndNeverRepeats) {
  const Req bearer{{{"authorization", "Bearer load-test-token-0123"}}, kGood};
  auto first = Admit("loadtest", bearer);
  auto second = Admit("loadtest", bearer);  // the identical request, as hey sends it
  ASSERT_TRUE(std::holds_alternative<PublishJob>(first)) << std::get<http::Response>(first).body;
  ASSERT_TRUE(std::holds_alternative<PublishJob>(second)) << std::get<http::Response>(second).body;
  const std::string& a = std::get<PublishJob>(first).signal_id;
  const std::string& b = std::get<PublishJob>(second).signal_id;
  EXPECT_NE(a, b) << "no de-duplication: each request is a new signal";
  EXPECT_TRUE(a.starts_with("loadtest:lt-")) << a;
  EXPECT_EQ(replays_, 0);
  EXPECT_TRUE(std::holds_alternative<PublishJob>(
      Admit("loadtest", Req{{{"authorization", "BEARER load-test-token-0123"}}, kGood})));

  // Whatever the request says, it cannot choose its id: a webhook-id header is not read.
  Req with_id = bearer;
  with_id.headers["webhook-id"] = "chosen";
  auto third = Admit("loadtest", with_id);
  ASSERT_TRUE(std::holds_alternative<PublishJob>(third));
  EXPECT_EQ(std::get<PublishJob>(third).signal_id.find("chosen"), std::string::npos);

  EXPECT_EQ(AdmitResponse("loadtest", Req{{}, kGood}).status, 401);
  EXPECT_EQ(AdmitResponse("loadtest", Req{{{"authorization", "Bearer wrong-token-0123456"}}, kGood}).status, 401);
  EXPECT_EQ(AdmitResponse("loadtest", Req{{{"authorization", "load-test-token-0123"}}, kGood}).status, 401);
  EXPECT_EQ(AdmitResponse("loadtest", Req{{{"authorization", "Bearer load-test-token-0123"}}, "{bad"}).status, 400);
  // Other sources do not take the bearer token.
  EXPECT_EQ(AdmitResponse("demo", bearer).status, 401);
  EXPECT_EQ(rejected_, (std::vector<std::string>{"missing_token", "bad_token", "missing_token", "malformed_json",
                                                 "missing_signature_headers"}));
}

TEST_F(ProcessorTest, StagesAreTimedOnlyForWebhooksThatReachTheStore) {
  Req forged = Signed("msg_t1", kGood);
  forged.headers["webhook-signature"] = "v1,AAAA";
  (void)Admit("demo", forged);
  (void)Admit("demo", Signed("msg_t2", "{not json"));
  EXPECT_TRUE(claim_times_.empty()) << "rejected before the store: no idempotency stage";
  ASSERT_TRUE(std::holds_alternative<PublishJob>(Admit("demo", Signed("msg_t3", kGood))));
  (void)Admit("demo", Signed("msg_t3", kGood));  // a replay: the store answered, so it is timed too
  ASSERT_EQ(claim_times_.size(), 2u);
  for (int64_t t : claim_times_) EXPECT_GE(t, 0);
}

TEST_F(ProcessorTest, TradingViewExchangePrefixAndBridgeAliases) {
  auto v = Admit("demo", Signed("msg_tv1", R"({"TICKER":"BINANCE:BTCUSDT","order_action":"buy","size":"0.5"})"));
  ASSERT_TRUE(std::holds_alternative<PublishJob>(v)) << std::get<http::Response>(v).body;
  EXPECT_EQ(std::get<PublishJob>(v).subject, "signals.demo.BTCUSDT");
  auto e = events::ParseEnvelope(std::get<PublishJob>(v).data);
  ASSERT_TRUE(e) << e.error();
  EXPECT_EQ(e->symbol, "BTCUSDT");
  EXPECT_EQ(events::ParseSignalPayload(e->payload)->qty->ToString(), "0.5");
  // Only a word before the colon is an exchange; an empty rest is no symbol.
  EXPECT_EQ(WithoutExchangePrefix("NYSE_ARCA:SPY"), "SPY");
  EXPECT_EQ(WithoutExchangePrefix("BTC/USD"), "BTC/USD");
  EXPECT_EQ(WithoutExchangePrefix(":X"), ":X");
  EXPECT_EQ(WithoutExchangePrefix("A.B:C"), "A.B:C");
  EXPECT_EQ(AdmitResponse("demo", Signed("msg_tv2", R"({"ticker":"NASDAQ:","action":"buy","qty":1})")).status, 422);
}

TEST_F(ProcessorTest, TheSignalContractOfTradingViewTradersPostAnd3Commas) {
  struct Case {
    const char* name;
    std::string body;
    std::string payload;  // the published payload, or "422 <field>" when refused
  };
  const Case cases[] = {
      {"TradingView exit to flat",
       R"({"ticker":"X","action":"sell","contracts":"1.5","market_position":"flat",)"
       R"("prev_market_position":"long"})",
       R"({"action":"sell","qty":"1.5","price":null,"order_type":"market","market_position":"flat",)"
       R"("prev_market_position":"long"})"},
      {"close without qty", R"({"ticker":"X","action":"close"})",
       R"({"action":"close","price":null,"order_type":"market"})"},
      {"TradersPost exit is a close", R"({"ticker":"X","action":"exit","sentiment":"flat"})",
       R"({"action":"close","price":null,"order_type":"market","market_position":"flat"})"},
      {"sentiment bearish", R"({"ticker":"X","action":"sell","quantity":2,"sentiment":"bearish"})",
       R"({"action":"sell","qty":"2","price":null,"order_type":"market","market_position":"short"})"},
      {"percent of equity", R"({"ticker":"X","action":"buy","qty":"2.5%"})",
       R"({"action":"buy","qty":"2.5","qty_kind":"percent_equity","price":null,"order_type":"market"})"},
      {"TradersPost dollar amount", R"({"ticker":"X","action":"buy","quantity":100,"quantityType":"dollar_amount"})",
       R"({"action":"buy","qty":"100","qty_kind":"notional","price":null,"order_type":"market"})"},
      {"3Commas strategy_info",
       R"({"ticker":"X","action":"buy","size":1,"strategy_info":)"
       R"({"market_position":"long","prev_market_position":"short","market_position_size":"1"}})",
       R"({"action":"buy","qty":"1","price":null,"order_type":"market","market_position":"long",)"
       R"("prev_market_position":"short"})"},
      {"time in force and comment", R"({"ticker":"X","action":"buy","qty":1,"timeInForce":"IOC","comment":"tv \"a\""})",
       R"({"action":"buy","qty":"1","price":null,"order_type":"market","time_in_force":"ioc","comment":"tv \"a\""})"},
      {"reverse", R"({"ticker":"X","action":"reverse","qty":"3"})",
       R"({"action":"reverse","qty":"3","price":null,"order_type":"market"})"},
      {"buy needs a qty", R"({"ticker":"X","action":"buy"})", "422 qty"},
      {"unknown position", R"({"ticker":"X","action":"buy","qty":1,"market_position":"up"})", "422 market_position"},
      {"unknown quantity type", R"({"ticker":"X","action":"buy","qty":1,"quantityType":"lots"})", "422 quantityType"},
      {"unknown time in force", R"({"ticker":"X","action":"buy","qty":1,"time_in_force":"gtd"})", "422 time_in_force"},
      {"take-profit and stop-loss", R"({"ticker":"X","action":"buy","qty":1,"take_profit":12.5,"stop_loss":"9"})",
       R"({"action":"buy","qty":"1","price":null,"order_type":"market","take_profit":"12.5","stop_loss":"9"})"},
      {"TradersPost's exit objects",
       R"({"ticker":"X","action":"sell","qty":1,"takeProfit":{"limitPrice":8},"stopLoss":{"type":"stop","stopPrice":11}})",
       R"({"action":"sell","qty":"1","price":null,"order_type":"market","take_profit":"8","stop_loss":"11"})"},
      {"a relative take-profit is refused, not ignored",
       R"({"ticker":"X","action":"buy","qty":1,"takeProfit":{"percent":5}})", "422 take_profit"},
      {"a trailing stop is refused, not ignored",
       R"({"ticker":"X","action":"buy","qty":1,"stopLoss":{"type":"trailing_stop","trailPercent":2}})",
       "422 stop_loss"},
      {"an exit on a close is refused", R"({"ticker":"X","action":"close","stop_loss":9})", "422 stop_loss"},
      {"a negative stop", R"({"ticker":"X","action":"buy","qty":1,"stop_loss":-9})", "422 stop_loss"},
      {"comment over 256 bytes", R"({"ticker":"X","action":"buy","qty":1,"comment":")" + std::string(257, 'c') + "\"}",
       "422 comment"},
      {"percent sign alone", R"({"ticker":"X","action":"buy","qty":"%"})", "422 qty"},
  };
  int n = 0;
  for (const Case& c : cases) {
    auto v = Admit("demo", Signed("contract_" + std::to_string(n++), c.body));
    if (c.payload.starts_with("422 ")) {
      ASSERT_TRUE(std::holds_alternative<http::Response>(v)) << c.name;
      const auto& r = std::get<http::Response>(v);
      EXPECT_EQ(r.status, 422) << c.name << ": " << r.body;
      EXPECT_NE(r.body.find(c.payload.substr(4) + ":"), std::string::npos) << c.name << ": " << r.body;
      continue;
    }
    ASSERT_TRUE(std::holds_alternative<PublishJob>(v)) << c.name << ": " << std::get<http::Response>(v).body;
    auto e = events::ParseEnvelope(std::get<PublishJob>(v).data);
    ASSERT_TRUE(e) << c.name;
    EXPECT_EQ(e->payload, c.payload) << c.name;
  }
}

TEST_F(ProcessorTest, IdempotencyInFlightReplayAndMismatch) {
  const Req first = Signed("dup", kGood);
  auto v = Admit("demo", first);
  ASSERT_TRUE(std::holds_alternative<PublishJob>(v));
  EXPECT_EQ(AdmitResponse("demo", first).status, 409);  // first still in flight

  const http::Response done = processor_.CompleteNow(std::get<PublishJob>(v), bus::PublishAck{"SIGNALS", 7, false});
  EXPECT_EQ(done.status, 202);
  EXPECT_EQ(done.body, R"({"id":"demo:dup","seq":7})");

  const http::Response replay = AdmitResponse("demo", first);
  EXPECT_EQ(replay.status, 202);
  EXPECT_EQ(replay.body, done.body);
  ASSERT_EQ(replay.headers.size(), 1u);
  EXPECT_EQ(replay.headers[0].first, "Idempotent-Replayed");
  EXPECT_EQ(replays_, 1);

  const Req other_body = Signed("dup", R"({"symbol":"MSFT","action":"buy","qty":1})");
  EXPECT_EQ(AdmitResponse("demo", other_body).status, 422);
  // The same key under another source is another request.
  EXPECT_EQ(AdmitResponse("rotating", first).status, -1);
}

TEST_F(ProcessorTest, FailedPublishAnswers503AndLetsTheRetryRun) {
  const Req req = Signed("retry-me", kGood);
  auto v = Admit("demo", req);
  ASSERT_TRUE(std::holds_alternative<PublishJob>(v));
  const http::Response r =
      processor_.CompleteNow(std::get<PublishJob>(v), Result<bus::PublishAck>::Error("nats: timeout"));
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("publish_unavailable"), std::string::npos);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_TRUE(std::holds_alternative<PublishJob>(Admit("demo", req)));
}

TEST_F(ProcessorTest, RotationAcceptsEveryActiveSecret) {
  EXPECT_EQ(AdmitResponse("rotating", Signed("r1", kGood, kNow, kKey)).status, -1);
  EXPECT_EQ(AdmitResponse("rotating", Signed("r2", kGood, kNow, kOtherKey)).status, -1);
  EXPECT_EQ(AdmitResponse("demo", Signed("r3", kGood, kNow, kOtherKey)).status, 401);
}

TEST_F(ProcessorTest, ContentTypesThatAreAccepted) {
  int n = 0;
  for (const char* type : {"application/json", "application/json; charset=utf-8", "TEXT/PLAIN", ""}) {
    Req r = Signed("ct" + std::to_string(n++), kGood);
    r.headers["content-type"] = type;
    EXPECT_EQ(AdmitResponse("demo", r).status, -1) << type;
  }
}

TEST_F(ProcessorTest, RateLimitAnswers429WithRetryAfterAfterTheBurst) {
  EXPECT_EQ(AdmitResponse("slow", Signed("rl1", kGood)).status, -1);
  EXPECT_EQ(AdmitResponse("slow", Signed("rl2", kGood)).status, -1);
  const http::Response limited = AdmitResponse("slow", Signed("rl3", kGood));
  EXPECT_EQ(limited.status, 429);
  EXPECT_NE(limited.body.find("rate_limited"), std::string::npos);
  ASSERT_EQ(limited.headers.size(), 1u);
  EXPECT_EQ(limited.headers[0], (std::pair<std::string, std::string>{"Retry-After", "1"}));
  // Unsigned requests do not count against the source.
  EXPECT_EQ(AdmitResponse("slow", Signed("rl4", kGood, kNow, kOtherKey)).status, 401);
  // Other sources are not affected.
  EXPECT_EQ(AdmitResponse("demo", Signed("rl5", kGood)).status, -1);
}

TEST_F(ProcessorTest, UnavailableIs503WithRetryAfter) {
  const http::Response r = processor_.Unavailable("nats_unavailable", "not connected");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("nats_unavailable"), std::string::npos);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
}

TEST_F(ProcessorTest, HexHmacScheme) {
  const std::string ts = std::to_string(kNow);
  Req r{{{"x-timestamp", ts}, {"x-signature", crypto::SignHexHmac(kKey, ts, kGood)}}, kGood};
  auto v = Admit("hex", r);
  ASSERT_TRUE(std::holds_alternative<PublishJob>(v)) << std::get<http::Response>(v).body;
  // No id header: the key is the body's hash, so the identical request is a repeat...
  EXPECT_EQ(std::get<PublishJob>(v).signal_id.rfind("hex:sha256:", 0), 0u);
  EXPECT_EQ(AdmitResponse("hex", r).status, 409);
  // ...whatever unsigned Idempotency-Key it carries: a header no signature covers names nothing.
  r.headers["idempotency-key"] = "order-77";
  EXPECT_EQ(AdmitResponse("hex", r).status, 409);
  // Standard Webhooks is enabled too on this source; hex is refused where it is not enabled.
  EXPECT_EQ(AdmitResponse("hex", Signed("sw1", kGood)).status, -1);
  EXPECT_EQ(AdmitResponse("demo", r).status, 401);
  Req stale{{{"x-timestamp", std::to_string(kNow - 400)},
             {"x-signature", crypto::SignHexHmac(kKey, std::to_string(kNow - 400), kGood)}},
            kGood};
  EXPECT_EQ(AdmitResponse("hex", stale).body.find("stale_timestamp") != std::string::npos, true);
  Req forged{{{"x-timestamp", ts}, {"x-signature", crypto::SignHexHmac(kOtherKey, ts, kGood)}}, kGood};
  EXPECT_EQ(AdmitResponse("hex", forged).status, 401);
}

TEST_F(ProcessorTest, BodyTokenSchemeForSendersWithoutHeaders) {
  const std::string alert =
      R"({"ticker":"BTCUSD","action":"buy","contracts":"0.5","token":"tv-token","time":"2025-11-24T16:00:00Z"})";
  auto v = Admit("tv", Req{{{"content-type", "text/plain"}}, alert});
  ASSERT_TRUE(std::holds_alternative<PublishJob>(v)) << std::get<http::Response>(v).body;
  const PublishJob& job = std::get<PublishJob>(v);
  EXPECT_EQ(job.data.find("tv-token"), std::string::npos) << "the token must never be published";
  EXPECT_EQ(job.signal_id.rfind("tv:sha256:", 0), 0u);
  // Rotation: the old token still works.
  const std::string old = R"({"ticker":"BTCUSD","action":"buy","contracts":"1","token":"old-token","time":1764000010})";
  EXPECT_EQ(AdmitResponse("tv", Req{{}, old}).status, -1);
  struct TokenCase {
    std::string body;
    int status;
    std::string error;
  } cases[] = {
      {R"({"ticker":"BTCUSD","action":"buy","contracts":"1"})", 401, "missing_token"},
      {R"({"ticker":"BTCUSD","action":"buy","contracts":"1","token":"guess"})", 401, "bad_token"},
      {R"({"ticker":"BTCUSD","action":"buy","contracts":"1","token":"tv-token)", 400, "malformed_json"},
      // Authenticated first, then told what is wrong: the token after a bad field is still read.
      {R"({"ticker":7,"action":"buy","contracts":"1","token":"tv-token","time":1764000000})", 422, "invalid_signal"},
      {R"({"ticker":7,"action":"buy","contracts":"1","token":"nope"})", 401, "bad_token"},
      // Freshness: a captured alert cannot be replayed later (docs/gateway.md).
      {R"({"ticker":"BTCUSD","action":"buy","contracts":"2","token":"tv-token"})", 401, "missing_timestamp"},
      {R"({"ticker":"BTCUSD","action":"buy","contracts":"2","token":"tv-token","time":"2025-11-24T15:54:59Z"})", 401,
       "stale_timestamp"},
      {R"({"ticker":"BTCUSD","action":"buy","contracts":"2","token":"tv-token","time":"1764000301"})", 401,
       "stale_timestamp"},
      {R"({"ticker":"BTCUSD","action":"buy","contracts":"2","token":"tv-token","time":"yesterday"})", 401,
       "bad_timestamp"},
      {R"({"ticker":"BTCUSD","action":"buy","contracts":"2","token":"guess","time":"yesterday"})", 401, "bad_token"},
  };
  for (const auto& c : cases) {
    const http::Response r = AdmitResponse("tv", Req{{}, c.body});
    EXPECT_EQ(r.status, c.status) << c.body << " " << r.body;
    EXPECT_NE(r.body.find(c.error), std::string::npos) << c.body << " " << r.body;
    EXPECT_EQ(r.body.find("tv-token"), std::string::npos);
  }
  // Headers of another scheme do not bypass the token on a token-only source.
  EXPECT_EQ(AdmitResponse("tv", Signed("x", kGood)).status, 401);
}

TEST_F(ProcessorTest, AllowListRefusesOtherAddressesWith403) {
  auto answer = [&](const char* remote) {
    const Req r = Signed(std::string("ip-") + remote, kGood);
    auto v = processor_.Admit(
        "fenced",
        [&r](std::string_view name) -> std::string_view {
          auto it = r.headers.find(std::string(name));
          return it == r.headers.end() ? std::string_view() : std::string_view(it->second);
        },
        r.body, kNow* kNanos, remote);
    return std::holds_alternative<PublishJob>(v) ? -1 : std::get<http::Response>(v).status;
  };
  EXPECT_EQ(answer("52.89.214.238"), -1);
  EXPECT_EQ(answer("10.9.8.7"), -1);
  EXPECT_EQ(answer("203.0.113.1"), 403);
  EXPECT_EQ(answer(""), 403);
}

TEST(ParseSources, ParsesNamesAndSecrets) {
  auto s = ParseSources("tv=whsec_dHJhZGVwaXBlLWRlbW8tc2VjcmV0,whsec_YWJj;other=whsec_YWJj");
  ASSERT_TRUE(s) << s.error();
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].name, "tv");
  EXPECT_EQ((*s)[0].keys.size(), 2u);
  EXPECT_EQ((*s)[1].keys[0], "abc");
}

TEST(ParseSources, RefusesBadEntriesWithoutEchoingSecrets) {
  auto bad = ParseSources("tv=whsec_not!base64");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().find("not!base64"), std::string::npos);
  EXPECT_FALSE(ParseSources("t.v=whsec_YWJj"));
  EXPECT_FALSE(ParseSources("tv="));
  EXPECT_FALSE(ParseSources("=whsec_YWJj"));
}

}  // namespace
}  // namespace tradepipe::gateway
