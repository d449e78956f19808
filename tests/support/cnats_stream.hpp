// Streams and durables made directly with cnats, for tests and benchmarks of the bus itself.
#pragma once

#include <nats/nats.h>

#include <stdexcept>
#include <string>

namespace tradepipe::testing {

// A file stream `name` on `subject`; throws when the server refuses.
inline void AddStream(jsCtx* js, const std::string& name, const std::string& subject) {
  jsStreamConfig stream;
  jsStreamConfig_Init(&stream);
  stream.Name = name.c_str();
  const char* subjects[] = {subject.c_str()};
  stream.Subjects = subjects;
  stream.SubjectsLen = 1;
  if (js_AddStream(nullptr, js, &stream, nullptr, nullptr) != NATS_OK) throw std::runtime_error("stream " + name);
}

// A durable pull consumer with explicit acks; throws when the server refuses.
inline void AddDurable(jsCtx* js, const std::string& stream, const std::string& durable, int64_t max_ack_pending = 0) {
  jsConsumerConfig c;
  jsConsumerConfig_Init(&c);
  c.Durable = durable.c_str();
  c.AckPolicy = js_AckExplicit;
  if (max_ack_pending > 0) c.MaxAckPending = max_ack_pending;
  if (js_AddConsumer(nullptr, js, stream.c_str(), &c, nullptr, nullptr) != NATS_OK) {
    throw std::runtime_error("consumer " + durable);
  }
}

}  // namespace tradepipe::testing
