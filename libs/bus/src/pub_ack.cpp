#include "pub_ack.hpp"

namespace tradepipe::bus {

Result<PublishAck> PubAckDecoder::Decode(std::string_view status, std::string_view description,
                                         std::string_view payload) {
  using R = Result<PublishAck>;
  if (status == "503") return R::Error("no JetStream stream stores this subject (no responders)");
  if (payload.empty()) {
    std::string why = "JetStream answered without a PubAck";
    if (!status.empty()) why += ": " + std::string(status);
    if (!description.empty()) why += " " + std::string(description);
    return R::Error(why);
  }
  padded_.assign(payload);
  padded_.resize(payload.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (parser_.iterate(padded_.data(), payload.size(), padded_.size()).get(doc) || doc.get_object().get(obj)) {
    return R::Error("unreadable PubAck");
  }
  PublishAck ack;
  bool have_seq = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return R::Error("unreadable PubAck");
    if (key == "stream") {
      std::string_view v;
      if (!field.value().get_string().get(v)) ack.stream = v;
    } else if (key == "seq") {
      have_seq = !field.value().get_uint64().get(ack.sequence);
    } else if (key == "duplicate") {
      bool duplicate = false;
      if (!field.value().get_bool().get(duplicate)) ack.duplicate = duplicate;
    } else if (key == "error") {
      std::string why = "jetstream error";
      simdjson::ondemand::object err;
      if (!field.value().get_object().get(err)) {
        for (auto e : err) {
          std::string_view k;
          if (e.unescaped_key().get(k)) break;
          std::string_view text;
          int64_t code = 0;
          if (k == "description" && !e.value().get_string().get(text)) {
            why += ": " + std::string(text);
          } else if (k == "err_code" && !e.value().get_int64().get(code)) {
            why += " " + std::to_string(code);
          }
        }
      }
      return R::Error(why);
    }
  }
  if (!have_seq) return R::Error("PubAck without a sequence");
  return ack;
}

}  // namespace tradepipe::bus
