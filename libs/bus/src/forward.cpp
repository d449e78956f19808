#include "tradepipe/bus/forward.hpp"

#include <spdlog/spdlog.h>

namespace tradepipe::bus {

ForwardResult ForwardBatch(Bus& bus, std::vector<Message>& batch, const Transform& transform) {
  ForwardResult result;
  std::vector<OutgoingMessage> out;
  std::vector<Message*> good;
  good.reserve(batch.size());
  for (Message& m : batch) {
    auto produced = transform(m);
    if (!produced) {
      spdlog::error("dead letter subject={} seq={} error={}", m.subject(), m.stream_sequence(), produced.error());
      (void)m.Term();
      ++result.dead;
      continue;
    }
    for (auto& o : *produced) out.push_back(std::move(o));
    good.push_back(&m);
  }
  result.forwarded = good.size();
  if (auto s = PublishAll(bus, out); !s) {
    result.status = Status::Error("publish: " + s.error());
    return result;
  }
  for (Message* m : good) (void)m->Ack();
  return result;
}

}  // namespace tradepipe::bus
