// The simulated venue's order latency (--order-latency-ms): an order reaches the market that long
// after exec-sim fetched it. A timer queue in front of the order consumer, not a sleep: fetched
// orders wait here, unacknowledged, each until its own due time, while the next ones are fetched —
// N orders take the latency once, not N times, and nothing is acked (or published) before it
// meets the market, so a crash meanwhile loses nothing (the order is redelivered).
//
//   auto delayed = std::make_unique<LatencyConsumer>(std::move(consumer), std::chrono::milliseconds(5), 20'000, gauge);
//   bus::ConsumerLoop loop(std::move(delayed), ...);  // the loop sees each order at its due time
//
// The latency is the same for every order, so orders stay in their arrival order (one symbol's
// orders meet the market in the order the agent decided them). Held orders are bounded
// (`max_held`; at the bound nothing more is fetched until the earliest is due), marked in progress
// while a failing sink holds the loop, and nak'ed when this closes (redelivered at once).
//
// Thread-safety: as a bus::Consumer, one thread.
#pragma once

#include <prometheus/gauge.h>

#include <chrono>
#include <deque>
#include <memory>

#include "tradepipe/bus/bus.hpp"

namespace tradepipe::execsim {

class LatencyConsumer final : public bus::Consumer {
 public:
  // `in_transit` follows how many are held (tradepipe_execsim_orders_in_transit).
  LatencyConsumer(std::unique_ptr<bus::Consumer> inner, std::chrono::milliseconds latency, size_t max_held,
                  prometheus::Gauge& in_transit);
  ~LatencyConsumer() override;

  // Up to `batch` orders whose latency has passed, waiting at most `timeout_ms` for the first.
  Result<std::vector<bus::Message>> Fetch(int batch, int timeout_ms) override;
  std::vector<bus::Message> TakeArrived(int limit) override;
  int64_t ack_wait_ms() const override { return inner_->ack_wait_ms(); }

 private:
  struct Held {
    int64_t due_ns;
    bus::Message message;
  };
  void Hold(std::vector<bus::Message> messages);
  std::vector<bus::Message> TakeDue(int limit);

  std::unique_ptr<bus::Consumer> inner_;
  int64_t latency_ns_;
  size_t max_held_;
  std::deque<Held> held_;  // due times ascending: one latency for all, fetched in order
  prometheus::Gauge& in_transit_;
};

}  // namespace tradepipe::execsim
