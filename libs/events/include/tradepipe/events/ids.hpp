// Event ids, deterministic and unambiguous by construction (docs/events.md):
//
//   signal    {source}:{key}          the key with '%' and '/' percent-encoded: no '/' in it
//   decision  {signal}/order          an order or a rejection: one decision per signal
//   report    {decision}/report/{n}
//   fill      {decision}/fill/{n}
//   restated  {order}/restated/{tick} a resting order stated again (an exit's order id is its entry's + /tp or /sl)
//   cancel    {signal}/cancel/{n}    a cancel signal's decision: its n-th cancel request
//
// Source names have no ':' and a signal id no '/', so the first ':' ends the source and the
// number of '/' tells the kind: a sender's key (say "X/order") can never produce another event's
// id. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tradepipe::events {

std::string SignalId(std::string_view source, std::string_view key);
std::string DecisionId(std::string_view signal_id);
std::string ReportId(std::string_view decision_id, int n);
std::string FillId(std::string_view decision_id, int n);
// A resting order's terms and state stated again at timer tick `tick` (exec-sim, before its last
// statement ages out of EXECUTIONS): `{order id}/restated/{tick}`.
std::string RestatementId(std::string_view order_id, uint64_t tick);
std::string CancelId(std::string_view signal_id, int n);

}  // namespace tradepipe::events
