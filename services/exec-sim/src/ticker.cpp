#include "ticker.hpp"

#include <spdlog/spdlog.h>

#include <set>

#include "tradepipe/common/clock.hpp"

namespace tradepipe::execsim {

Ticker::Ticker(bus::Bus& bus, const Market& market, RestingBook& book, OrderStates& states, metrics::Metrics& metrics,
               TickerOptions options)
    : publisher_(bus.NewBatchPublisher()),
      market_(market),
      book_(book),
      states_(states),
      options_(options),
      ticks_(metrics.Counter("tradepipe_execsim_ticks_total", "timer ticks that matched resting orders")),
      fills_(metrics.Counter("tradepipe_execsim_resting_fills_total", "fills of resting orders, published")),
      expired_(metrics.Counter("tradepipe_execsim_resting_expired_total",
                               "resting DAY orders expired at the end of their UTC day, published")),
      publish_failures_(metrics.Counter("tradepipe_execsim_tick_publish_failures_total",
                                        "ticks whose events could not be published (published again next tick)")),
      restated_(metrics.Counter("tradepipe_execsim_restated_total",
                                "resting orders stated again in EXECUTIONS before their last statement ages out")),
      cancelled_(metrics.Counter("tradepipe_execsim_resting_cancelled_total",
                                 "resting orders cancelled by a cancel request, published")) {
  auto& resting = metrics.Gauge("tradepipe_execsim_resting_orders", "limit orders resting in the simulated market");
  metrics.OnCollect([&resting, &book] { resting.Set(static_cast<double>(book.size())); });
}

Ticker::~Ticker() { Stop(); }

void Ticker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Ticker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Ticker::Run() {
  const int64_t interval = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.interval).count();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const int64_t now = WallNanos();
    const int64_t next = (now / interval + 1) * interval;
    wake_.wait_for(lock, std::chrono::nanoseconds(next - now), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    const int64_t woke = WallNanos();
    RunTick(static_cast<uint64_t>(woke / interval), woke / interval * interval);
    lock.lock();
  }
}

bool Ticker::RunTick(uint64_t tick, int64_t tick_ns) {
  std::lock_guard run(run_mu_);
  if (!pending_) {
    if (tick <= last_tick_) return true;
    last_tick_ = tick;
    const RestingList resting = book_.Snapshot();
    if (resting.empty()) return true;
    ticks_.Increment();
    const int64_t restate_after = options_.restate_after.count();
    TickResult result = MatchTick(
        market_, resting, tick, tick_ns, WallNanos(), options_.touch_fill_bps,
        {.before_ns = restate_after > 0 ? tick_ns - restate_after : 0, .per_tick = options_.max_restated_per_tick});
    if (result.messages.empty()) return true;
    pending_ = std::move(result);
  }
  if (const Status published = bus::PublishAll(*publisher_, pending_->messages); !published) {
    publish_failures_.Increment();
    spdlog::warn("resting orders: publishing a tick's {} events failed, published again at the next tick: {}",
                 pending_->messages.size(), published.error());
    return false;
  }
  Applied(*pending_);
  fills_.Increment(static_cast<double>(pending_->fills));
  expired_.Increment(static_cast<double>(pending_->expired));
  restated_.Increment(static_cast<double>(pending_->restated));
  pending_.reset();
  return true;
}

void Ticker::Applied(const TickResult& result) {
  book_.Apply(result.updates);
  for (const TickUpdate& u : result.updates) {
    const auto before = states_.Find(u.order_id);
    states_.Record(u.order_id, RestingState(u.after, u.status, before ? before->sequence : 0));
  }
}

Result<size_t> Ticker::Cancel(const std::vector<std::string>& order_ids) {
  std::lock_guard run(run_mu_);
  // A tick published in part must be stored before anything else changes these orders.
  if (pending_) return Result<size_t>::Error("a tick's events are not stored yet");
  RestingList targets;
  for (const std::string& id : std::set<std::string>(order_ids.begin(), order_ids.end())) {
    if (auto order = book_.Find(id)) targets.emplace_back(id, std::move(*order));
  }
  if (targets.empty()) return size_t{0};
  const TickResult result = CancelResting(targets, WallNanos());
  if (const Status published = bus::PublishAll(*publisher_, result.messages); !published) {
    return Result<size_t>::Error("publishing cancels: " + published.error());
  }
  Applied(result);
  cancelled_.Increment(static_cast<double>(targets.size()));
  return targets.size();
}

}  // namespace tradepipe::execsim
