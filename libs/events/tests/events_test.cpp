#include <gtest/gtest.h>

#include <limits>

#include "tradepipe/events/decimal.hpp"
#include "tradepipe/events/envelope.hpp"
#include "tradepipe/events/ids.hpp"
#include "tradepipe/events/subject.hpp"

namespace tradepipe::events {
namespace {

TEST(Decimal, ParsesExactly) {
  EXPECT_EQ(Decimal::Parse("0.3")->units(), 30'000'000);
  EXPECT_EQ(Decimal::Parse("0.00001")->units(), 1'000);
  EXPECT_EQ(Decimal::Parse("-12.5")->units(), -1'250'000'000);
  EXPECT_EQ(Decimal::Parse("100")->units(), 10'000'000'000);
  EXPECT_EQ(Decimal::Parse("0.3")->ToString(), "0.3");
  EXPECT_EQ(Decimal::Parse("-0.00000001")->ToString(), "-0.00000001");
  EXPECT_EQ(Decimal::Parse("42.10")->ToString(), "42.1");
}

TEST(Decimal, RefusesWhatItCannotHoldInsteadOfWrapping) {
  EXPECT_EQ(Decimal::Parse("92233720368.54775807")->units(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Decimal::Parse("-92233720368.54775807")->units(), -std::numeric_limits<int64_t>::max());
  for (const char* big :
       {"92233720368.6", "92233720368.54775808", "92233720369", "-92233720368.6", "100000000000000000000"}) {
    auto d = Decimal::Parse(big);
    ASSERT_FALSE(d) << big << " parsed as " << d->ToString();
    EXPECT_NE(d.error().find("out of range"), std::string::npos) << d.error();
  }
  const Decimal max = Decimal::FromUnits(std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(max.CheckedAdd(Decimal::FromUnits(1)));
  EXPECT_FALSE((-max).CheckedSub(Decimal::FromUnits(2)));
  EXPECT_EQ(max.CheckedSub(Decimal::FromUnits(1))->units(), std::numeric_limits<int64_t>::max() - 1);
  EXPECT_EQ(Decimal::FromInteger(2).CheckedAdd(*Decimal::Parse("0.5"))->ToString(), "2.5");
}

TEST(Decimal, MultipliesDividesAndTruncatesExactly) {
  auto d = [](const char* text) { return *Decimal::Parse(text); };
  EXPECT_EQ(d("0.3").CheckedMul(d("50000"))->ToString(), "15000");
  EXPECT_EQ(d("0.00001").CheckedMul(d("0.00001"))->ToString(), "0");  // below 8 places: truncated
  EXPECT_EQ(d("-2.5").CheckedMul(d("1.5"))->ToString(), "-3.75");
  EXPECT_EQ(d("1000").CheckedDiv(d("3"))->ToString(), "333.33333333");
  EXPECT_EQ(d("-1").CheckedDiv(d("3"))->ToString(), "-0.33333333");  // toward zero
  EXPECT_FALSE(d("1").CheckedDiv(Decimal()));
  EXPECT_FALSE(d("92233720368").CheckedMul(d("2")));
  EXPECT_FALSE(d("92233720368").CheckedDiv(d("0.5")));
  EXPECT_EQ(d("0.123456").TruncatedTo(d("0.001")).ToString(), "0.123");
  EXPECT_EQ(d("-0.129").TruncatedTo(d("0.01")).ToString(), "-0.12");
  EXPECT_EQ(d("7").TruncatedTo(Decimal()).ToString(), "7");
  EXPECT_EQ(d("-7").Abs().ToString(), "7");
  EXPECT_EQ(Decimal::FromUnits(std::numeric_limits<int64_t>::min()).Abs().units(), std::numeric_limits<int64_t>::max());
}

TEST(Decimal, RefusesWhatIsNotAPlainDecimal) {
  for (const char* bad : {"", "-", "1.", ".5", "1e3", "+1", " 1", "1.123456789", "abc", "99999999999999"}) {
    EXPECT_FALSE(Decimal::Parse(bad)) << bad;
  }
}

TEST(Symbol, AcceptsTheDocumentedSetOnly) {
  for (const char* good : {"AAPL", "BRK.B", "BTC/USD", "ES1!", "NQ=F", "^SPX", "BINANCE:BTCUSDT", "M&M", "EUR-USD",
                           "A_B+C", "12345678901234567890123456789012"}) {
    EXPECT_EQ(SymbolProblem(good), "") << good;
  }
  EXPECT_EQ(SymbolProblem(""), "required");
  EXPECT_EQ(SymbolProblem("123456789012345678901234567890123"), "longer than 32 characters");
  for (const std::string& bad :
       std::vector<std::string>{"A\"B", "A B", "A\\B", "A*", "A>", "A%2E", "A{", "A,B", std::string("A\0B", 3),
                                std::string("A\nB"), std::string("\xc3\xa9")}) {
    EXPECT_NE(SymbolProblem(bad), "") << bad;
  }
}

TEST(Ids, AreUnambiguousWhateverTheKey) {
  EXPECT_EQ(SignalId("demo", "msg_1"), "demo:msg_1");
  EXPECT_EQ(DecisionId(SignalId("demo", "X")), "demo:X/order");
  EXPECT_EQ(SignalId("demo", "X/order"), "demo:X%2Forder");
  EXPECT_EQ(SignalId("demo", "a%2Fb"), "demo:a%252Fb");  // distinct from the key "a/b"
  EXPECT_NE(SignalId("demo", "a%2Fb"), SignalId("demo", "a/b"));
  EXPECT_EQ(FillId(DecisionId("demo:X"), 1), "demo:X/order/fill/1");
  EXPECT_EQ(ReportId(DecisionId("demo:X"), 2), "demo:X/order/report/2");
}

TEST(Subject, EncodesSeparatorsAndWildcards) {
  EXPECT_EQ(EncodeToken("AAPL"), "AAPL");
  EXPECT_EQ(EncodeToken("BRK.B"), "BRK%2EB");
  EXPECT_EQ(EncodeToken("a*b>c d%"), "a%2Ab%3Ec%20d%25");
  EXPECT_EQ(EncodeToken(std::string("x\ny", 3)), "x%0Ay");
  EXPECT_EQ(EncodeToken(""), "%00");
  for (const std::string& s : std::vector<std::string>{"BRK.B", "a*b>c d%", "plain", "%41"})
    EXPECT_EQ(DecodeToken(EncodeToken(s)), s);
  EXPECT_EQ(SignalSubject("tv", "BTC.USD"), "signals.tv.BTC%2EUSD");
}

TEST(Envelope, RoundTrips) {
  Envelope e;
  e.type = "signal";
  e.id = "demo:msg_1";
  e.correlation_id = e.id;
  e.source = "demo";
  e.symbol = "AAPL \"quoted\"";
  e.AddStamp("received", 1764000000123456789);
  e.AddStamp("published", 1764000000123501234);
  SignalPayload signal;
  signal.action = SignalAction::kSell;
  signal.qty = *Decimal::Parse("0.3");
  signal.strategy = "s1";
  e.payload = ToJson(signal);

  const std::string text = Serialize(e);
  auto parsed = ParseEnvelope(text);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->id, e.id);
  EXPECT_EQ(parsed->symbol, e.symbol);
  EXPECT_EQ(parsed->causation_id, "");
  ASSERT_EQ(parsed->ts.size(), 2u);
  EXPECT_EQ(parsed->StampOf("published"), 1764000000123501234);
  EXPECT_EQ(Serialize(*parsed), text);

  auto payload = ParseSignalPayload(parsed->payload);
  ASSERT_TRUE(payload) << payload.error();
  EXPECT_EQ(payload->action, SignalAction::kSell);
  EXPECT_EQ(payload->qty->ToString(), "0.3");
  EXPECT_FALSE(payload->price);
  EXPECT_EQ(payload->strategy, "s1");
}

// Every control character is escaped, also in long strings and after others (rapidjson 1.1.0's
// SSE2 scan, RAPIDJSON_SSE2, dropped the 0x1C of this one: docs/toolchain.md).
TEST(Envelope, ControlCharactersInLongStringsAreEscapedEveryOne) {
  std::string comment = "8aaaaaaaaaaaaakarkeaaa";
  comment += std::string(13, '\x13');
  comment += "&&&&&&&&" + std::string(35, 'N') + "&&&&&&";
  comment += '\x1c';
  comment += "&&&&&&&&\"\\end";
  for (int c = 1; c < 0x20; ++c) comment += static_cast<char>(c);
  SignalPayload signal;
  signal.action = SignalAction::kBuy;
  signal.qty = *Decimal::Parse("1");
  signal.comment = comment;
  const std::string json = ToJson(signal);
  EXPECT_NE(json.find("&&&&&&\\u001C&&&&&&&&"), std::string::npos) << json;
  for (const char c : json) EXPECT_GE(static_cast<unsigned char>(c), 0x20u) << json;
  auto back = ParseSignalPayload(json);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->comment, comment);
}

TEST(SignalPayload, Version3FieldsRoundTripAndOlderSignalsStillRead) {
  SignalPayload p;
  p.action = SignalAction::kCloseAll;
  p.qty_kind = QtyKind::kPercentPosition;
  p.qty = *Decimal::Parse("50");
  p.time_in_force = TimeInForce::kIoc;
  p.market_position = MarketPosition::kFlat;
  p.prev_market_position = MarketPosition::kLong;
  p.comment = "exit \"tp\"";
  const std::string json = ToJson(p);
  EXPECT_EQ(json,
            R"({"action":"close_all","qty":"50","qty_kind":"percent_position","price":null,"order_type":"market",)"
            R"("time_in_force":"ioc","market_position":"flat","prev_market_position":"long","comment":"exit \"tp\""})");
  auto back = ParseSignalPayload(json);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(ToJson(*back), json);
  // A close without qty (the whole position) is a signal; a buy without qty is not.
  EXPECT_TRUE(ParseSignalPayload(R"({"action":"close","price":null,"order_type":"market"})"));
  EXPECT_FALSE(ParseSignalPayload(R"({"action":"buy","price":null,"order_type":"market"})"));
  EXPECT_FALSE(ParseSignalPayload(R"({"action":"hold","qty":"1"})"));
  EXPECT_FALSE(ParseSignalPayload(R"({"action":"buy","qty":"1","market_position":"sideways"})"));
  // A v2 signal (as streams still hold): units.
  auto v2 = ParseSignalPayload(R"({"action":"buy","qty":"0.3","price":null,"order_type":"market"})");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->qty_kind, QtyKind::kUnits);
  EXPECT_EQ(ToName(v2->action), "buy");
  EXPECT_EQ(FromName<SignalAction>("reverse"), SignalAction::kReverse);
  EXPECT_FALSE(FromName<TimeInForce>("gtd"));
}

TEST(Envelope, ChildInheritsCorrelationAndStamps) {
  Envelope parent;
  parent.type = "signal";
  parent.id = "demo:1";
  parent.correlation_id = "demo:1";
  parent.AddStamp("received", 1);
  Envelope child = parent.Child(kTypeOrder, "demo:1/order");
  EXPECT_EQ(child.correlation_id, "demo:1");
  EXPECT_EQ(child.causation_id, "demo:1");
  EXPECT_EQ(child.StampOf("received"), 1);
}

TEST(Envelope, RejectsMalformedInput) {
  EXPECT_FALSE(ParseEnvelope("not json"));
  EXPECT_FALSE(ParseEnvelope("[1,2]"));
  EXPECT_FALSE(ParseEnvelope(R"({"v":1,"type":"signal","id":"x","correlation_id":"x"})"));  // no payload
  EXPECT_FALSE(ParseEnvelope(R"({"v":4,"type":"signal","id":"x","correlation_id":"x","payload":{}})"));
  EXPECT_FALSE(ParseEnvelope(R"({"v":0,"type":"signal","id":"x","correlation_id":"x","payload":{}})"));
  // v1 (before the fill carried the order's state) is still read: streams keep old events.
  EXPECT_TRUE(ParseEnvelope(R"({"v":1,"type":"signal","id":"x","correlation_id":"x","payload":{}})"));
  EXPECT_FALSE(ParseEnvelope(R"({"v":1,"type":"signal","id":"x","correlation_id":"x","ts":{"a":"b"},"payload":{}})"));
}

TEST(Payloads, OrderAndFillRoundTrip) {
  OrderPayload o;
  o.order_id = "demo:1/order";
  o.qty = *Decimal::Parse("5");
  o.limit_price = *Decimal::Parse("101.25");
  o.order_type = "limit";
  o.time_in_force = TimeInForce::kGtc;
  EXPECT_EQ(ToJson(o).find("take_profit"), std::string::npos);  // only when the signal set them
  o.take_profit = *Decimal::Parse("110");
  o.stop_loss = *Decimal::Parse("95.5");
  auto parsed = ParseOrderPayload(ToJson(o));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->take_profit, *Decimal::Parse("110"));
  EXPECT_EQ(parsed->stop_loss, *Decimal::Parse("95.5"));
  EXPECT_EQ(parsed->order_id, o.order_id);
  EXPECT_EQ(parsed->limit_price->ToString(), "101.25");
  EXPECT_EQ(parsed->time_in_force, TimeInForce::kGtc);
  o.time_in_force.reset();  // absent before v3, and when the signal said nothing
  EXPECT_EQ(ToJson(o).find("time_in_force"), std::string::npos);
  EXPECT_FALSE(ParseOrderPayload(ToJson(o))->time_in_force);

  ExecReportPayload r;
  r.order_id = "demo:1/order";
  r.status = "cancelled";
  r.filled_qty = *Decimal::Parse("3");
  r.leaves_qty = *Decimal::Parse("2");
  r.avg_price = *Decimal::Parse("101");
  auto report = ParseExecReportPayload(ToJson(r));
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->status, "cancelled");
  EXPECT_EQ(report->filled_qty.ToString(), "3");
  EXPECT_EQ(report->leaves_qty.ToString(), "2");
  EXPECT_EQ(report->avg_price->ToString(), "101");
  EXPECT_EQ(ToJson(r).find("limit_price"), std::string::npos);  // the terms only in an accepted report
  EXPECT_FALSE(report->side || report->qty || report->limit_price || report->time_in_force || report->fills);
  // An accepted report carries the order's terms: a resting order is rebuilt from it alone.
  r.status = "accepted";
  r.side = Side::kSell;
  r.qty = *Decimal::Parse("5");
  r.limit_price = *Decimal::Parse("101.5");
  r.time_in_force = TimeInForce::kGtc;
  r.fills = 2;
  report = ParseExecReportPayload(ToJson(r));
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->side, Side::kSell);
  EXPECT_EQ(report->qty->ToString(), "5");
  EXPECT_EQ(report->limit_price->ToString(), "101.5");
  EXPECT_EQ(report->time_in_force, TimeInForce::kGtc);
  EXPECT_EQ(report->fills, 2);

  FillPayload f;
  f.order_id = "demo:1/order";
  f.side = Side::kSell;
  f.qty = *Decimal::Parse("2.5");
  f.price = *Decimal::Parse("99.99");
  f.status = "partial";
  f.cum_qty = *Decimal::Parse("2.5");
  f.leaves_qty = *Decimal::Parse("7.5");
  f.avg_price = f.price;
  auto fill = ParseFillPayload(ToJson(f));
  ASSERT_TRUE(fill) << fill.error();
  EXPECT_EQ(fill->qty, f.qty);
  EXPECT_EQ(fill->price, f.price);
  EXPECT_EQ(fill->side, Side::kSell);
  EXPECT_EQ(fill->status, "partial");
  EXPECT_EQ(fill->cum_qty, f.cum_qty);
  EXPECT_EQ(fill->leaves_qty, f.leaves_qty);
  EXPECT_EQ(fill->avg_price, f.avg_price);

  // A v1 fill (the execution only) still reads: the agent rebuilds positions from old streams.
  auto v1 = ParseFillPayload(R"({"order_id":"o","fill_no":1,"side":"buy","qty":"1","price":"2"})");
  ASSERT_TRUE(v1) << v1.error();
  EXPECT_TRUE(v1->status.empty());
  EXPECT_EQ(v1->qty, *Decimal::Parse("1"));
}

}  // namespace
}  // namespace tradepipe::events
