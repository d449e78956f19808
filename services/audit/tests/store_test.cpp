#include "store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "advisory.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::audit {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tradepipe-audit-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = AuditStore::Open(dir_ + "/audit.db");
    ASSERT_TRUE(store) << store.error();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::string Event(const std::string& type, const std::string& id, std::vector<events::Stamp> ts) {
    events::Envelope e;
    e.type = type;
    e.id = id;
    e.correlation_id = "demo:1";
    e.source = "demo";
    e.symbol = "AAPL";
    e.ts = std::move(ts);
    e.payload = R"({"k":"v"})";
    return events::Serialize(e);
  }

  // `count` signals with ids and stream sequences from `first`.
  static std::vector<AuditRow> Signals(int first, int count) {
    std::vector<AuditRow> rows;
    for (int i = first; i < first + count; ++i) {
      rows.push_back(*RowFromMessage("signals.demo.AAPL", static_cast<uint64_t>(i + 1),
                                     Event("signal", "demo:" + std::to_string(i), {}), 1));
    }
    return rows;
  }

  std::string dir_;
  std::unique_ptr<AuditStore> store_;
};

TEST_F(StoreTest, RecordsOnceByEventId) {
  auto row = RowFromMessage("signals.demo.AAPL", 1, Event("signal", "demo:1", {{"received", 10}}), 100);
  ASSERT_TRUE(row);
  auto first = store_->Record({*row}, {});
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(first->inserted, 1u);
  auto again = store_->Record({*row, *row}, {});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->inserted, 0u);
  EXPECT_EQ(again->duplicates, 2u);
  EXPECT_EQ(*store_->Count(), 1);
}

TEST_F(StoreTest, DeadLettersAreKept) {
  EXPECT_FALSE(RowFromMessage("signals.x", 2, "not json", 1));
  auto r = store_->Record({}, {{"signals.x", 2, "not json", "not json", 1}});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*store_->Count(), 0);
}

TEST_F(StoreTest, TraceIsInProductionOrderWithStageLatencies) {
  const std::vector<events::Stamp> s1 = {{"received", 1'000'000}, {"published", 2'000'000}};
  std::vector<events::Stamp> s2 = s1;
  s2.push_back({"decided", 4'000'000});
  std::vector<events::Stamp> s3 = s2;
  s3.push_back({"filled", 7'000'000});
  // Recorded out of order, as three independent consumers may.
  ASSERT_TRUE(store_->Record({*RowFromMessage("exec.fill.AAPL", 1, Event("fill", "demo:1/order/fill/1", s3), 9'000'000),
                              *RowFromMessage("signals.demo.AAPL", 1, Event("signal", "demo:1", s1), 3'000'000),
                              *RowFromMessage("orders.new.AAPL", 1, Event("order", "demo:1/order", s2), 5'000'000)},
                             {}));
  auto rows = store_->Trace("demo:1");
  ASSERT_TRUE(rows) << rows.error();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].type, "signal");
  EXPECT_EQ((*rows)[1].type, "order");
  EXPECT_EQ((*rows)[2].type, "fill");
  const std::string json = TraceJson("demo:1", *rows);
  EXPECT_NE(json.find(R"({"from":"received","to":"published","ms":1.0})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"({"from":"filled","to":"recorded","ms":2.0})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("final_type":"fill","end_to_end_ms":8.0,"final_recorded":9000000})"), std::string::npos)
      << json;
  EXPECT_TRUE(store_->Trace("demo:unknown")->empty());
}

TEST_F(StoreTest, SurvivesReopening) {
  ASSERT_TRUE(store_->Record({*RowFromMessage("signals.demo.AAPL", 1, Event("signal", "demo:1", {}), 1)}, {}));
  store_.reset();
  auto reopened = AuditStore::Open(dir_ + "/audit.db");
  ASSERT_TRUE(reopened);
  EXPECT_EQ(*(*reopened)->Count(), 1);
}

TEST_F(StoreTest, TheCheckpointWritesTheWalBackToTheDatabase) {
  for (int batch = 0; batch < 20; ++batch) ASSERT_TRUE(store_->Record(Signals(batch * 50, 50), {}));
  auto r = store_->Checkpoint();
  ASSERT_TRUE(r) << r.error();  // it failed ("does not see the WAL") while the connection had read nothing
  EXPECT_GT(r->wal_frames, 0);
  EXPECT_EQ(r->checkpointed, r->wal_frames) << "nobody else reading or writing: all of it";
  EXPECT_GT(std::filesystem::file_size(dir_ + "/audit.db"), 100u * 1024);
}

TEST_F(StoreTest, AWalOverItsBoundStartsOverInsteadOfGrowing) {
  store_.reset();
  auto small = AuditStore::Open(dir_ + "/audit.db", /*wal_restart_frames=*/8);
  ASSERT_TRUE(small) << small.error();
  for (int batch = 0; batch < 20; ++batch) ASSERT_TRUE((*small)->Record(Signals(batch * 50, 50), {}));
  auto full = (*small)->Checkpoint();
  ASSERT_TRUE(full) << full.error();
  ASSERT_GE(full->wal_frames, 8);
  EXPECT_TRUE(full->restarted);
  ASSERT_TRUE((*small)->Record(Signals(5000, 1), {}));  // this commit writes from the WAL's start
  auto after = (*small)->Checkpoint();
  ASSERT_TRUE(after) << after.error();
  EXPECT_LT(after->wal_frames, full->wal_frames / 4) << "the WAL kept growing";
  EXPECT_EQ(*(*small)->Count(), 1001);
}

TEST_F(StoreTest, ClosingLeavesTheWalForTheNextOpenInsteadOfCheckpointing) {
  // A stop must not spend its grace period writing a large WAL back (seen after a 10-minute soak).
  std::vector<AuditRow> rows;
  for (int i = 0; i < 200; ++i) {
    rows.push_back(*RowFromMessage("signals.demo.AAPL", static_cast<uint64_t>(i + 1),
                                   Event("signal", "demo:" + std::to_string(i), {}), 1));
  }
  ASSERT_TRUE(store_->Record(rows, {}));
  store_.reset();
  const std::string wal = dir_ + "/audit.db-wal";
  ASSERT_TRUE(std::filesystem::exists(wal));
  EXPECT_GT(std::filesystem::file_size(wal), 0u);  // a checkpoint at close would have removed it
  auto reopened = AuditStore::Open(dir_ + "/audit.db");
  ASSERT_TRUE(reopened) << reopened.error();
  EXPECT_EQ(*(*reopened)->Count(), 200);
}

TEST_F(StoreTest, GivenUpMessagesAreRecordedOncePerConsumer) {
  const GivenUpMessage g{"terminated", "ORDERS", 7, "exec-sim-orders", 1, "", "orders.new.X", "{bad", 5};
  EXPECT_EQ(*store_->RecordGivenUp({g}), 1u);
  EXPECT_EQ(*store_->RecordGivenUp({g}), 0u);  // the advisory redelivered
  GivenUpMessage other = g;
  other.consumer = "audit-orders";
  EXPECT_EQ(*store_->RecordGivenUp({other}), 1u);  // the same message, given up by another consumer
  auto listed = store_->GivenUp(10);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].consumer, "audit-orders");  // newest first
  EXPECT_EQ((*listed)[1].data, "{bad");
  const std::string json = DeadLettersJson({}, *listed);
  EXPECT_NE(json.find(R"("data_base64":"e2JhZA==")"), std::string::npos) << json;
}

TEST_F(StoreTest, OwnCopyFindsARecordedEventOrADeadLetterByStreamAndSequence) {
  // Sequence 3 exists in two streams (each counts its own); the subject prefix tells them apart.
  const std::string signal = Event("signal", "demo:3", {{"received", 10}});
  const std::string poison(
      "\xff\x00"
      "bad",
      5);
  ASSERT_TRUE(store_->Record({*RowFromMessage("signals.demo.AAPL", 3, signal, 100)},
                             {{"orders.new.AAPL", 3, "not json", poison, 1}}));
  auto from_events = store_->OwnCopy("signals.", 3);
  ASSERT_TRUE(from_events) << from_events.error();
  ASSERT_TRUE(from_events->has_value());
  EXPECT_EQ((*from_events)->first, "signals.demo.AAPL");
  EXPECT_EQ((*from_events)->second, signal);
  auto from_dead_letters = store_->OwnCopy("orders.", 3);
  ASSERT_TRUE(from_dead_letters && from_dead_letters->has_value());
  EXPECT_EQ((*from_dead_letters)->second, poison) << "bytes as received, NUL included";
  auto none = store_->OwnCopy("exec.", 3);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(store_->OwnCopy("signals.", 4)->has_value());
}

TEST(ConsumerAdvisory, ParsesMaxDeliverAndTerminatedAndRefusesTheRest) {
  auto max = ParseConsumerAdvisory(
      R"({"type":"io.nats.jetstream.advisory.v1.max_deliver","id":"x","timestamp":"2026-12-02T00:00:00Z",)"
      R"("stream":"ORDERS","consumer":"exec-sim-orders","stream_seq":42,"deliveries":10})");
  ASSERT_TRUE(max) << max.error();
  EXPECT_EQ(max->kind, GiveUpKind::kMaxDeliveries);
  EXPECT_EQ(max->stream, "ORDERS");
  EXPECT_EQ(max->consumer, "exec-sim-orders");
  EXPECT_EQ(max->stream_seq, 42u);
  EXPECT_EQ(max->deliveries, 10u);
  auto term = ParseConsumerAdvisory(
      R"({"type":"io.nats.jetstream.advisory.v1.terminated","stream":"S","consumer":"c","consumer_seq":3,)"
      R"("stream_seq":9,"deliveries":1,"reason":"bad payload"})");
  ASSERT_TRUE(term) << term.error();
  EXPECT_EQ(term->kind, GiveUpKind::kTerminated);
  EXPECT_EQ(term->reason, "bad payload");
  EXPECT_EQ(GiveUpKindName(term->kind), "terminated");
  EXPECT_FALSE(ParseConsumerAdvisory(R"({"type":"io.nats.jetstream.advisory.v1.nak","stream":"S","consumer":"c",)"
                                     R"("stream_seq":1})"));
  EXPECT_FALSE(ParseConsumerAdvisory(R"({"type":"io.nats.jetstream.advisory.v1.max_deliver","stream":"S"})"));
  EXPECT_FALSE(ParseConsumerAdvisory("not json"));
}

TEST(AuditStoreOpen, UnwritablePathIsAClearError) {
  auto store = AuditStore::Open("/nonexistent-dir/audit.db");
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().find("cannot open"), std::string::npos) << store.error();
}

}  // namespace
}  // namespace tradepipe::audit
