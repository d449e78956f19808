#include "tradepipe/events/ids.hpp"

namespace tradepipe::events {

std::string SignalId(std::string_view source, std::string_view key) {
  std::string id;
  id.reserve(source.size() + 1 + key.size());
  id.append(source).append(":");
  for (const char c : key) {
    if (c == '%') {
      id += "%25";
    } else if (c == '/') {
      id += "%2F";
    } else {
      id += c;
    }
  }
  return id;
}

std::string DecisionId(std::string_view signal_id) { return std::string(signal_id) + "/order"; }

std::string ReportId(std::string_view decision_id, int n) {
  return std::string(decision_id) + "/report/" + std::to_string(n);
}

std::string CancelId(std::string_view signal_id, int n) {
  return std::string(signal_id) + "/cancel/" + std::to_string(n);
}

std::string FillId(std::string_view decision_id, int n) {
  return std::string(decision_id) + "/fill/" + std::to_string(n);
}

std::string RestatementId(std::string_view order_id, uint64_t tick) {
  return std::string(order_id) + "/restated/" + std::to_string(tick);
}

}  // namespace tradepipe::events
