// One signal message to its decision, as the agent's signal consumer runs it: the signal parsed,
// the account read (filled plus open orders), Decide, and the decision's orders registered as
// open before they are published (never again for a decision already in ORDERS). An attempt
// whose publish fails is abandoned: the orders it opened are closed (the batch is decided again).
// Thread-safety: one deciding thread (the throttle and the attempt's list are its own).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "decision.hpp"
#include "positions.hpp"
#include "risk.hpp"
#include "tradepipe/bus/seen_ids.hpp"
#include "trading_config.hpp"

namespace tradepipe::agent {

class Decider {
 public:
  Decider(const TradingConfig& config, Positions& positions, const TradingStateSwitch& state,
          const bus::SeenIds& decided)
      : config_(config), positions_(positions), state_(state), decided_(decided) {}

  // Starts a batch's attempt: nothing opened yet.
  void BeginAttempt() { opened_.clear(); }
  // The decision for one signal event; an error for an unusable message (a poison message).
  Result<Decision> Decide(std::string_view data, int64_t consumed_ns, int64_t now_ns);
  // The attempt's publish failed: its orders are not open.
  void AbandonAttempt();

 private:
  const TradingConfig& config_;
  Positions& positions_;
  const TradingStateSwitch& state_;
  const bus::SeenIds& decided_;
  OrderThrottle throttle_;
  std::vector<std::string> opened_;  // open orders registered by this attempt
};

}  // namespace tradepipe::agent
