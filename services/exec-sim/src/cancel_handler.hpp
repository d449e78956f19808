// exec-sim's handling of one batch of cancel requests (orders.cancel.>, the agent's decisions of
// `cancel` signals), once they have waited out the venue's cancel latency (order_latency.hpp): the
// ones whose order still rests are cancelled between two ticks (Ticker::Cancel: the reports are
// PubAcked before the book moves on); a request whose order rests no more (filled, ended, never
// rested, unknown) changes nothing — counted and logged, as a venue's "too late to cancel". A
// request is acked only after that; when publishing fails the batch is held and retried by the
// consumer loop. An unusable message is terminated, logged and counted.
//
// Thread-safety: OnBatch from the consumer's thread.
#pragma once

#include <vector>

#include "ticker.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::execsim {

class CancelHandler {
 public:
  CancelHandler(Ticker& ticker, metrics::Metrics& metrics);
  Status OnBatch(std::vector<bus::Message>& batch);

 private:
  Ticker& ticker_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Counter& cancelled_;
  prometheus::Counter& not_resting_;
  prometheus::Counter& dead_;
};

}  // namespace tradepipe::execsim
