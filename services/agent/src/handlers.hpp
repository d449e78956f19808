// The agent's two consumers, one batch at a time, with their metrics:
//
// - signals (durable agent-signals): each decided (Decider), its orders, cancel requests or
//   rejection published and PubAcked before the signal is acked (bus::ForwardBatch, never again
//   for a decision already in ORDERS); a failed publish abandons the attempt (its orders are
//   closed again) and the loop hands the batch back for a retry, decided anew.
// - executions (durable agent-fills): fills applied to positions (once per fill id), final reports
//   close their open orders; nothing is published, each is acked once applied. A fill that would
//   take its position out of range is terminated as a dead letter.
//
// Thread-safety: OnSignals from the signal consumer's thread, OnExecutions from the fill
// consumer's; they share only Positions (locked) and the counters (atomic).
#pragma once

#include <memory>
#include <vector>

#include "decider.hpp"
#include "positions.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/bus/seen_ids.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::service {
class ConsumeStages;
}

namespace tradepipe::agent {

class BatchHandlers {
 public:
  // `decided`: the decision ids already in ORDERS (bus::RememberPublished), kept up to date.
  // Also exports the open orders of `positions` (tradepipe_agent_open_orders, ..._forgotten_total).
  BatchHandlers(bus::Bus& bus, Decider& decider, bus::SeenIds& decided, Positions& positions,
                metrics::Metrics& metrics);
  ~BatchHandlers();
  BatchHandlers(const BatchHandlers&) = delete;
  BatchHandlers& operator=(const BatchHandlers&) = delete;

  Status OnSignals(std::vector<bus::Message>& batch);
  Status OnExecutions(std::vector<bus::Message>& batch);

 private:
  // One per consumer thread (a publisher is used by one thread); the executions' never publishes.
  std::unique_ptr<bus::BatchPublisher> signal_publisher_;
  std::unique_ptr<bus::BatchPublisher> execution_publisher_;
  Decider& decider_;
  bus::SeenIds& decided_;
  Positions& positions_;
  prometheus::Counter& signals_;
  prometheus::Counter& orders_;
  prometheus::Counter& cancel_requests_;
  prometheus::Family<prometheus::Counter>& rejections_;
  prometheus::Counter& fills_;
  prometheus::Counter& fill_repeats_;
  prometheus::Counter& repeats_;
  prometheus::Counter& dead_;
  std::unique_ptr<service::ConsumeStages> stages_;
};

}  // namespace tradepipe::agent
