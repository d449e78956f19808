#include "tradepipe/bus/forward.hpp"

#include <spdlog/spdlog.h>

#include "tradepipe/common/clock.hpp"

namespace tradepipe::bus {

ForwardResult ForwardBatch(BatchPublisher& publisher, std::vector<Message>& batch, const Transform& transform,
                           SeenIds* published) {
  ForwardResult result;
  std::vector<SeenIds::Key> out_keys;  // digested once: checked now, remembered after the PubAcks
  std::vector<Message*> good;
  good.reserve(batch.size());
  // Each output is on its way as soon as it is made: the server stores it while the rest of the
  // batch is transformed. The inputs are still acked only once every output has its PubAck.
  for (Message& m : batch) {
    auto produced = transform(m);
    if (!produced) {
      spdlog::error("dead letter subject={} seq={} error={}", m.subject(), m.stream_sequence(), produced.error());
      (void)m.Term();
      ++result.dead;
      continue;
    }
    for (const auto& o : *produced) {
      const SeenIds::Key key = SeenIds::Digest(o.msg_id);
      if (published->Contains(key)) {
        ++result.repeats;
        continue;
      }
      out_keys.push_back(key);
      publisher.Add(o);
    }
    good.push_back(&m);
  }
  result.forwarded = good.size();
  const int64_t wait_start = WallNanos();  // the last output handed over
  const Status published_all = publisher.Wait();
  const int64_t now = WallNanos();
  result.publish_ns = now - wait_start;
  if (!published_all) {
    result.status = Status::Error("publish: " + published_all.error());
    return result;
  }
  for (const auto& key : out_keys) published->Insert(key, now);
  for (Message* m : good) (void)m->Ack();
  return result;
}

}  // namespace tradepipe::bus
