// The kill switch: POST /admin/trading-state {"state": "halted", "reason": "..."} with
// `Authorization: Bearer <admin token>` switches the agent's trading state (active, reducing,
// halted); GET /admin/trading-state shows it. A switch is durable before it is answered: it is
// published as a `trading_state` event on ORDERS (subject orders.state, PubAck awaited), which
// the audit records and the agent reads back at start (the last one wins), then every second
// (Follow): a switch made on one agent replica reaches the others within that period. Without an
// admin token configured the switch is refused (403): never an open door.
// Thread-safety: handlers may run on any HTTP thread; switches and follow-ups are serialised.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "risk.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/http/server.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::agent {

inline constexpr std::string_view kTypeTradingState = "trading_state";
inline constexpr std::string_view kTradingStateSubject = "orders.state";

class TradingStateAdmin {
 public:
  TradingStateAdmin(bus::Bus& bus, TradingStateSwitch& state, std::string admin_token)
      : bus_(bus), state_(state), token_(std::move(admin_token)) {}
  ~TradingStateAdmin() { StopFollowing(); }

  // Sets the switch from the last trading_state event in ORDERS; none there (never switched, or
  // the switch is older than ORDERS' retention): `kept`, the copy a positions snapshot kept, else
  // active. Logs it.
  Status Restore(std::optional<TradingState> kept = std::nullopt);
  // Reads the last switch again every `period` on a thread of its own (another replica's switch);
  // StopFollowing() before the bus goes.
  void Follow(std::chrono::milliseconds period);
  void StopFollowing();
  // tradepipe_agent_trading_state{state}: 1 for the state in force, read at each scrape.
  void ExportMetrics(metrics::Metrics& metrics) const;
  http::Response Switch(const http::Request& request);
  http::Response Show() const;

 private:
  // The last recorded state (nullopt: none); `unusable` counts events that could not be read.
  Result<std::optional<TradingState>> LastRecorded(uint64_t& read, uint64_t& unusable);

  bus::Bus& bus_;
  TradingStateSwitch& state_;
  const std::string token_;
  std::mutex switching_;
  std::mutex follow_mu_;
  std::condition_variable follow_wake_;
  bool following_ = false;
  std::thread follower_;
};

}  // namespace tradepipe::agent
