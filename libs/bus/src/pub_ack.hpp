// Reads JetStream's answer to a publish, whichever publisher sent it (LoopPublisher on its own
// socket, the batch publisher on a cnats inbox):
//   {"stream":"ORDERS","seq":42[,"duplicate":true]}                          -> the PubAck
//   {"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}} -> its error
//   a status without a payload (503: no stream stores the subject)            -> its error
//
// Thread-safety: one thread at a time (it keeps a parser and a padded buffer).
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "tradepipe/bus/bus.hpp"

namespace tradepipe::bus {

class PubAckDecoder {
 public:
  // `status`: the reply's status code ("503", ...), empty when it has none; `description`: the
  // status's text. `payload`: the reply's body.
  Result<PublishAck> Decode(std::string_view status, std::string_view description, std::string_view payload);

 private:
  std::string padded_;  // simdjson reads past the text's end
  simdjson::ondemand::parser parser_;
};

}  // namespace tradepipe::bus
