// exec-sim's handling of one batch of orders: each is executed against the market (market.hpp),
// its fills and report published and PubAcked before the order is acked (bus::ForwardBatch, with
// the durable de-duplication of EXECUTIONS), and an order that rests (or the exits of one that
// ended) is added to the resting book only then — and only when its `accepted` report was
// published now: a repeated order that rests already, or rested and ended, is not put back.
//
// Thread-safety: OnBatch from the consumer's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "market.hpp"
#include "order_states.hpp"
#include "resting.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/bus/seen_ids.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::service {
class ConsumeStages;
}

namespace tradepipe::execsim {

class OrderHandler {
 public:
  // `published`: the ids already in EXECUTIONS (bus::RememberPublished).
  OrderHandler(bus::Bus& bus, const Market& market, OrderStates& states, RestingBook& resting, bus::SeenIds& published,
               metrics::Metrics& metrics);
  ~OrderHandler();

  Status OnBatch(std::vector<bus::Message>& batch);
  // The ORDERS sequence of the last order executed: the market's clock for GET /book.
  const std::atomic<uint64_t>& last_sequence() const { return last_sequence_; }

 private:
  std::unique_ptr<bus::BatchPublisher> publisher_;  // used by the order consumer's thread only
  const Market& market_;
  OrderStates& states_;
  RestingBook& resting_;
  bus::SeenIds& published_;
  std::atomic<uint64_t> last_sequence_{0};

  prometheus::Counter& orders_;
  prometheus::Counter& fills_;
  prometheus::Family<prometheus::Counter>& ended_;
  prometheus::Counter& multi_level_;
  prometheus::Counter& rested_;
  prometheus::Counter& resting_full_;
  prometheus::Counter& dead_;
  prometheus::Counter& repeats_;
  std::unique_ptr<service::ConsumeStages> stages_;
};

}  // namespace tradepipe::execsim
