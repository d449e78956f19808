// AckGate: when an ack-all consumer may ack a handled batch without acknowledging a delivery it
// never handled.
#include "ack_gate.hpp"

#include <gtest/gtest.h>

namespace tradepipe::bus {
namespace {

using View = AckGate::ServerView;

AckGate::AskServer Answer(std::optional<View> view, int* asked = nullptr) {
  return [view, asked] {
    if (asked) ++*asked;
    return view;
  };
}

TEST(AckGate, NothingPendingAtOpenAcksEachBatchThroughItsHighestSequence) {
  AckGate gate;
  gate.Start({.last_delivered_consumer_seq = 40, .ack_pending = 0});
  EXPECT_TRUE(gate.proven());
  int asked = 0;
  for (uint64_t dseq : {41, 42, 43}) gate.Received(dseq);
  EXPECT_EQ(gate.Handled({7, 9, 8}, 5, Answer(std::nullopt, &asked)), 9u);
  EXPECT_EQ(asked, 0);  // a proven gate never asks
  EXPECT_EQ(gate.handled_unacked(), 0u);
}

TEST(AckGate, DeliveriesLeftByAnEarlierIncarnationHoldEveryAckUntilTheyAreHandled) {
  AckGate gate;
  // A dead process left 10 deliveries pending (stream 1..10, consumer 1..10).
  gate.Start({.last_delivered_consumer_seq = 10, .ack_pending = 10});
  EXPECT_FALSE(gate.proven());
  for (uint64_t dseq = 11; dseq <= 15; ++dseq) gate.Received(dseq);  // new messages 11..15
  // Acking 15 would acknowledge 1..10 unseen: refused while the server counts 15 pending.
  EXPECT_EQ(gate.Handled({11, 12, 13, 14, 15}, 0, Answer(View{15, 15})), 0u);
  // After the ack wait the strays come back (consumer 16..25) and are handled.
  for (uint64_t dseq = 16; dseq <= 25; ++dseq) gate.Received(dseq);
  EXPECT_EQ(gate.Handled({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0, Answer(View{25, 15})), 10u);
  EXPECT_TRUE(gate.proven());
  // 11..15 stay in the handled set (above the ack) and are covered by the next ack.
  EXPECT_EQ(gate.handled_unacked(), 5u);
  gate.Received(26);
  EXPECT_EQ(gate.Handled({16}, 0, Answer(std::nullopt)), 16u);
  EXPECT_EQ(gate.handled_unacked(), 0u);
}

TEST(AckGate, AnUnprovenGateWaitsWhileDeliveriesAreQueuedOrInFlight) {
  AckGate gate;
  gate.Start({.last_delivered_consumer_seq = 0, .ack_pending = 3});
  gate.Received(1);
  int asked = 0;
  // Queued deliveries may be strays below the ack: not even asked.
  EXPECT_EQ(gate.Handled({4}, 2, Answer(View{1, 1}, &asked)), 0u);
  EXPECT_EQ(asked, 0);
  // The server delivered beyond what arrived here: in flight, unknown.
  EXPECT_EQ(gate.Handled({4}, 0, Answer(View{2, 1}, &asked)), 0u);
  // The server cannot be asked.
  EXPECT_EQ(gate.Handled({4}, 0, Answer(std::nullopt, &asked)), 0u);
  EXPECT_EQ(asked, 2);
  EXPECT_FALSE(gate.proven());
  // Counts agree and nothing is in flight: everything pending was handled here.
  EXPECT_EQ(gate.Handled({4}, 0, Answer(View{1, 1})), 4u);
}

TEST(AckGate, AGapInConsumerSequencesMakesItUnprovenAgain) {
  AckGate gate;
  gate.Start({.last_delivered_consumer_seq = 0, .ack_pending = 0});
  gate.Received(1);
  EXPECT_EQ(gate.Handled({1}, 0, Answer(std::nullopt)), 1u);
  gate.Received(3);  // consumer sequence 2 went elsewhere (a broken connection)
  EXPECT_FALSE(gate.proven());
  EXPECT_EQ(gate.Handled({3}, 0, Answer(View{3, 2})), 0u);  // 2 is still pending: not ours
  gate.Received(4);                                         // 2 redelivered to us
  // Acked through this batch's highest (2): 3, handled in an earlier batch, waits for the next.
  EXPECT_EQ(gate.Handled({2}, 0, Answer(View{4, 2})), 2u);
  EXPECT_TRUE(gate.proven());
  EXPECT_EQ(gate.handled_unacked(), 1u);
}

TEST(AckGate, ARedeliveryOfAHandledMessageCountsOnce) {
  AckGate gate;
  gate.Start({.last_delivered_consumer_seq = 0, .ack_pending = 1});
  gate.Received(1);
  EXPECT_EQ(gate.Handled({5}, 0, Answer(View{1, 2})), 0u);  // a stray is pending
  gate.Received(2);
  gate.Received(3);
  // Message 5 again (redelivered after the ack wait) and the stray, 2: pending {2, 5}.
  EXPECT_EQ(gate.Handled({5, 2}, 0, Answer(View{3, 2})), 5u);
}

TEST(AckGate, AnEmptyBatchAcksNothing) {
  AckGate gate;
  gate.Start({});
  EXPECT_EQ(gate.Handled({}, 0, Answer(std::nullopt)), 0u);
}

}  // namespace
}  // namespace tradepipe::bus
