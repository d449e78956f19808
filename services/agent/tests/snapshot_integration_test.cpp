// Positions snapshots against a real nats-server (started per test, ephemeral port, temporary
// directory): fills older than EXECUTIONS' retention are kept by the snapshot, a start that
// cannot prove its positions is refused, and the writer follows the fills.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <thread>

#include "nats_server.hpp"
#include "snapshot.hpp"
#include "tradepipe/common/clock.hpp"
#include "tradepipe/events/envelope.hpp"
#include "tradepipe/events/ids.hpp"
#include "tradepipe/events/subject.hpp"
#include "tradepipe/metrics/metrics.hpp"
#include "trading_state_admin.hpp"

namespace tradepipe::agent {
namespace {

using events::Decimal;
using events::Side;

std::unique_ptr<bus::Bus> Connect(const testing::NatsServer& server) {
  auto bus = bus::Bus::Connect({.url = server.url(), .name = "snapshot-test", .connect_timeout_ms = 5000});
  if (!bus) throw std::runtime_error(bus.error());
  if (auto s = (*bus)->Provision(bus::DefaultTopology()); !s) throw std::runtime_error(s.error());
  return std::move(*bus);
}

// Fill number `n` of order `order` (one symbol), as exec-sim publishes it.
void PublishFill(bus::Bus& bus, int n, const std::string& symbol, Side side, const char* qty, const char* price) {
  events::Envelope order;
  order.type = events::kTypeOrder;
  order.id = "demo:s" + std::to_string(n) + "/order";
  order.correlation_id = "demo:s" + std::to_string(n);
  order.source = "demo";
  order.symbol = symbol;
  events::Envelope fill = order.Child(events::kTypeFill, events::FillId(order.id, 1));
  fill.AddStamp("filled", 1'000'000'000LL * n);
  events::FillPayload f;
  f.order_id = order.id;
  f.side = side;
  f.qty = *Decimal::Parse(qty);
  f.price = *Decimal::Parse(price);
  f.status = "filled";
  f.cum_qty = f.qty;
  f.leaves_qty = Decimal();
  f.avg_price = f.price;
  fill.payload = events::ToJson(f);
  auto ack = bus.Publish(events::FillSubject(symbol), fill.id, events::Serialize(fill));
  if (!ack) throw std::runtime_error(ack.error());
}

// Removes EXECUTIONS' messages below `sequence`, as its age limit would.
void ExpireBelow(const testing::NatsServer& server, uint64_t sequence) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, server.url().c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Purge.Sequence = sequence;
  EXPECT_EQ(js_PurgeStream(js, "EXECUTIONS", &o, nullptr), NATS_OK);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

// The positions a start rebuilds, as GET /positions shows them.
Result<std::string> Rebuilt(bus::Bus& bus, bool allow_unproven = false, RebuiltAccount* out = nullptr) {
  bus::SeenIds decided(1000);
  Positions positions(1000);
  auto rebuilt = RebuildAccount(bus, decided, positions, allow_unproven);
  if (!rebuilt) return Result<std::string>::Error(rebuilt.error());
  if (out != nullptr) *out = *rebuilt;
  return positions.ToJson(0);
}

TEST(SnapshotTest, PositionsOutliveTheFillsTheStreamNoLongerHolds) {
  testing::NatsServer server;
  auto bus = Connect(server);
  PublishFill(*bus, 1, "AAPL", Side::kBuy, "10", "100");
  PublishFill(*bus, 2, "AAPL", Side::kBuy, "5", "106");
  PublishFill(*bus, 3, "MSFT", Side::kSell, "0.3", "410.5");
  PublishFill(*bus, 4, "AAPL", Side::kSell, "12", "110");

  // The agent as it runs: rebuilt from the stream, snapshotted, halted.
  bus::SeenIds decided(1000);
  Positions live(1000);
  auto rebuilt = RebuildAccount(*bus, decided, live, false);
  ASSERT_TRUE(rebuilt) << rebuilt.error();
  EXPECT_FALSE(rebuilt->snapshot_state);  // none yet
  TradingStateSwitch state;
  state.Set(TradingState::kHalted);
  metrics::Metrics metrics;
  SnapshotWriter writer(*bus, live, state, rebuilt->executions_created_ns, metrics);
  ASSERT_TRUE(writer.Write());

  PublishFill(*bus, 5, "AAPL", Side::kSell, "4", "95");
  PublishFill(*bus, 6, "MSFT", Side::kBuy, "0.1", "400");
  auto everything = Rebuilt(*bus);
  ASSERT_TRUE(everything) << everything.error();

  // Fills 1-2 leave the stream: 3 and 4 are read again but the snapshot holds them already.
  ExpireBelow(server, 3);
  auto overlapping = Rebuilt(*bus);
  ASSERT_TRUE(overlapping) << overlapping.error();
  EXPECT_EQ(*overlapping, *everything);
  // Fills 1-4 leave the stream: the snapshot holds them; 5 and 6 are applied on top.
  ExpireBelow(server, 5);
  RebuiltAccount again;
  auto from_snapshot = Rebuilt(*bus, false, &again);
  ASSERT_TRUE(from_snapshot) << from_snapshot.error();
  EXPECT_EQ(*from_snapshot, *everything);
  ASSERT_TRUE(again.snapshot_state);
  EXPECT_EQ(*again.snapshot_state, TradingState::kHalted);
  // The kill switch's own event is gone from ORDERS (never written here): the snapshot's copy holds.
  TradingStateSwitch restarted;
  TradingStateAdmin admin(*bus, restarted, "");
  ASSERT_TRUE(admin.Restore(again.snapshot_state));
  EXPECT_EQ(restarted.Get(), TradingState::kHalted);

  // Fill 5 goes too: no snapshot covers it, so the positions cannot be proven.
  ExpireBelow(server, 6);
  auto refused = Rebuilt(*bus);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("EXECUTIONS starts at sequence 6"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find("--allow-unproven-positions"), std::string::npos) << refused.error();
  auto anyway = Rebuilt(*bus, true);
  ASSERT_TRUE(anyway) << anyway.error();
  EXPECT_NE(*anyway, *everything);  // fill 5 is missing, as the log says
}

TEST(SnapshotTest, ASnapshotOfAnotherExecutionsStreamIsRefused) {
  testing::NatsServer server;
  auto bus = Connect(server);
  PublishFill(*bus, 1, "AAPL", Side::kBuy, "1", "100");
  bus::SeenIds decided(1000);
  Positions live(1000);
  auto rebuilt = RebuildAccount(*bus, decided, live, false);
  ASSERT_TRUE(rebuilt) << rebuilt.error();
  TradingStateSwitch state;
  metrics::Metrics metrics;
  SnapshotWriter writer(*bus, live, state, rebuilt->executions_created_ns, metrics);
  ASSERT_TRUE(writer.Write());

  // EXECUTIONS deleted and made again: its sequences start anew.
  {
    natsConnection* nc = nullptr;
    jsCtx* js = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(&nc, server.url().c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
    EXPECT_EQ(js_DeleteStream(js, "EXECUTIONS", nullptr, nullptr), NATS_OK);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a creation time of its own
  ASSERT_TRUE(bus->Provision(bus::DefaultTopology()));
  PublishFill(*bus, 2, "AAPL", Side::kBuy, "1", "100");
  auto refused = Rebuilt(*bus);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("another EXECUTIONS stream"), std::string::npos) << refused.error();
}

TEST(SnapshotTest, TheWriterFollowsTheFillsAndWritesALastOneAtStop) {
  testing::NatsServer server;
  auto bus = Connect(server);
  Positions live(1000);
  TradingStateSwitch state;
  metrics::Metrics metrics;
  auto created = bus->DescribeStream("EXECUTIONS");
  ASSERT_TRUE(created) << created.error();
  SnapshotWriter writer(*bus, live, state, created->created_ns, metrics);
  writer.Start(std::chrono::milliseconds(20));
  auto newest = [&]() -> uint64_t {
    uint64_t through = 0;
    auto read = bus->ReadStream(std::string(kSnapshotStream), std::string(kSnapshotSubject), false,
                                [&](const bus::StreamEntry& e) {
                                  if (auto s = ParseSnapshot(e.data)) through = s->account.executions_through;
                                });
    return read ? through : 0;
  };
  live.GoneBefore(7);  // as if the stream began there
  ASSERT_EQ(live.Apply("f1", "", "AAPL", Side::kBuy, *Decimal::Parse("1"), *Decimal::Parse("5"), 1, 7),
            ApplyOutcome::kApplied);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (newest() != 7 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(newest(), 7u) << "no snapshot followed the fill";
  // Nothing moved: no new snapshot each period (the keep-alive is an hour).
  auto usage = bus->DescribeStream(std::string(kSnapshotStream));
  ASSERT_TRUE(usage);
  const uint64_t written = usage->last_seq;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(bus->DescribeStream(std::string(kSnapshotStream))->last_seq, written);
  // A switch of the trading state is snapshotted too, fills or not.
  state.Set(TradingState::kHalted);
  const auto switched = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (bus->DescribeStream(std::string(kSnapshotStream))->last_seq == written &&
         std::chrono::steady_clock::now() < switched) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(bus->DescribeStream(std::string(kSnapshotStream))->last_seq, written) << "the switch was not snapshotted";
  live.Saw(9);  // event 8 still to come: the snapshot at stop is put off, the one before stands
  writer.Stop();
  EXPECT_EQ(newest(), 7u);
  live.Saw(8);
  ASSERT_TRUE(writer.Write());
  EXPECT_EQ(newest(), 9u);
  // The newest few are kept, whatever their number.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(writer.Write());
  EXPECT_EQ(bus->DescribeStream(std::string(kSnapshotStream))->messages, 3u);
}

}  // namespace
}  // namespace tradepipe::agent
