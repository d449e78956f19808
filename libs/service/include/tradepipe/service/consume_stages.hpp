// The stage histograms of a service that consumes a stream, works on each message and then makes
// the batch's effect durable (agent and exec-sim publish, the audit commits), as
// tradepipe_<service>_stage_seconds{stage}:
//   consume     the stream stored the message → the service fetched it (time waiting in the stream)
//   <work>      the service's own work on one message (decide, fill)
//   <durable>   the batch's effect until durable (publish: the batch's work done → its last
//               PubAck, its publishes having started with its work; write: the commit), observed
//               once per message, since each waited that long
// A batch the consumer loop holds and hands back after a failed publish or commit is observed
// again (its work is done again; its consume time then includes the hold).
//
//   service::ConsumeStages stages(metrics, "agent", "decide", "publish");
//   stages.Consumed(msg.stored_ns(), fetched_ns); ... stages.Worked(start_ns, WallNanos()); ...
//   stages.Durable(result.publish_ns, result.forwarded);
//
// Thread-safety: the histograms are atomic; call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::service {

class ConsumeStages {
 public:
  // An empty `work` leaves that stage out (the audit's work is its write).
  ConsumeStages(metrics::Metrics& metrics, const std::string& service, const std::string& work,
                const std::string& durable);

  // `stored_ns`: Message::stored_ns() (0: not known, not observed).
  void Consumed(int64_t stored_ns, int64_t fetched_ns);
  void Worked(int64_t start_ns, int64_t end_ns);
  void Durable(int64_t took_ns, size_t messages);

 private:
  prometheus::Histogram& consume_;
  prometheus::Histogram* work_;
  prometheus::Histogram& durable_;
};

}  // namespace tradepipe::service
