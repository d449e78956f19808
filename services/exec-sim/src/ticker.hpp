// The timer that matches the resting orders (resting.hpp): a thread of its own wakes at every
// tick boundary (tick = wall time / interval), so no consumer thread ever sleeps for the market.
// A tick's events are published and PubAcked before the tick is applied to the book; when the
// publish fails, the same events are published again at the next wake (a later tick is not
// computed until they are stored), so an event id never stands for two different effects.
//
// Thread-safety: Start/Stop from one thread; RunTick from the timer thread (or a test's, with the
// timer not started); Cancel from any thread (the cancel consumer's).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "market.hpp"
#include "order_states.hpp"
#include "resting.hpp"
#include "tradepipe/bus/bus.hpp"
#include "tradepipe/metrics/metrics.hpp"

namespace tradepipe::execsim {

struct TickerOptions {
  std::chrono::milliseconds interval{250};
  int64_t touch_fill_bps = 10'000;  // probability that a touched (not crossed) limit fills, basis points
  // A resting order whose terms were last stated this long ago is stated again (MatchTick): a
  // quarter of EXECUTIONS' max age, so that a restart finds them after exec-sim was stopped for up
  // to three quarters of it; 0: never (the stream keeps everything).
  std::chrono::nanoseconds restate_after{0};
  size_t max_restated_per_tick = 1'000;  // the rest of those due wait for the next tick
};

class Ticker {
 public:
  Ticker(bus::Bus& bus, const Market& market, RestingBook& book, OrderStates& states, metrics::Metrics& metrics,
         TickerOptions options);
  ~Ticker();
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  void Start();
  void Stop();  // waits for a running tick to end

  // Runs tick `tick` (whose wall time is `tick_ns`) unless it ran already; false when its publish
  // failed (the next call publishes the same events again first).
  bool RunTick(uint64_t tick, int64_t tick_ns);

  // Cancels those of `order_ids` that rest now, between two ticks (never during one): their
  // reports are published and PubAcked, then the book moves on. Returns how many were cancelled
  // (the others rest no more, or never did: filled, ended, unknown); an error when the publish
  // failed, or a tick's events are not stored yet — nothing changed, the caller tries again.
  // Any thread.
  Result<size_t> Cancel(const std::vector<std::string>& order_ids);

 private:
  void Run();
  // The book and the order states after `result` was stored.
  void Applied(const TickResult& result);

  std::unique_ptr<bus::BatchPublisher> publisher_;  // under run_mu_
  const Market& market_;
  RestingBook& book_;
  OrderStates& states_;
  const TickerOptions options_;
  prometheus::Counter& ticks_;
  prometheus::Counter& fills_;
  prometheus::Counter& expired_;
  prometheus::Counter& publish_failures_;
  prometheus::Counter& restated_;

  std::mutex run_mu_;                  // a tick or a cancel at a time: each sees the other's effect
  std::optional<TickResult> pending_;  // a tick's events not yet stored
  uint64_t last_tick_ = 0;
  prometheus::Counter& cancelled_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tradepipe::execsim
