#include "order_latency.hpp"

#include <algorithm>
#include <thread>

#include "tradepipe/common/clock.hpp"

namespace tradepipe::execsim {

LatencyConsumer::LatencyConsumer(std::unique_ptr<bus::Consumer> inner, std::chrono::milliseconds latency,
                                 size_t max_held, prometheus::Gauge& in_transit)
    : inner_(std::move(inner)),
      latency_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count()),
      max_held_(std::max<size_t>(max_held, 1)),
      in_transit_(in_transit) {}

LatencyConsumer::~LatencyConsumer() {
  for (Held& h : held_) (void)h.message.Nak();  // never met the market: the next consumer gets them at once
}

void LatencyConsumer::Hold(std::vector<bus::Message> messages) {
  for (bus::Message& m : messages) {
    const int64_t received = m.received_ns() != 0 ? m.received_ns() : WallNanos();
    held_.push_back({received + latency_ns_, std::move(m)});
  }
  in_transit_.Set(static_cast<double>(held_.size()));
}

std::vector<bus::Message> LatencyConsumer::TakeDue(int limit) {
  std::vector<bus::Message> due;
  const int64_t now = WallNanos();
  while (!held_.empty() && static_cast<int>(due.size()) < limit && held_.front().due_ns <= now) {
    due.push_back(std::move(held_.front().message));
    held_.pop_front();
  }
  in_transit_.Set(static_cast<double>(held_.size()));
  return due;
}

Result<std::vector<bus::Message>> LatencyConsumer::Fetch(int batch, int timeout_ms) {
  const int64_t deadline = WallNanos() + static_cast<int64_t>(timeout_ms) * 1'000'000;
  for (;;) {
    if (auto due = TakeDue(batch); !due.empty()) return due;
    const int64_t now = WallNanos();
    if (now >= deadline) return std::vector<bus::Message>{};
    // Wait for new orders until the earliest held one is due (or the call's end).
    const int64_t until = held_.empty() ? deadline : std::min(deadline, held_.front().due_ns);
    const int wait_ms = static_cast<int>(std::max<int64_t>((until - now + 999'999) / 1'000'000, 0));
    if (held_.size() >= max_held_) {  // at the bound: fetch nothing more until one is due
      std::this_thread::sleep_for(std::chrono::milliseconds(std::max(wait_ms, 1)));
      continue;
    }
    const int room = static_cast<int>(std::min<size_t>(max_held_ - held_.size(), static_cast<size_t>(batch)));
    auto got = inner_->Fetch(room, wait_ms);
    if (!got) {
      if (auto due = TakeDue(batch); !due.empty()) return due;  // a fetch error never delays what is due
      return got;
    }
    Hold(std::move(*got));
  }
}

std::vector<bus::Message> LatencyConsumer::TakeArrived(int limit) {
  Hold(inner_->TakeArrived(limit));
  // Called while a failing sink holds the loop: what waits here is kept from redelivery too.
  for (Held& h : held_) (void)h.message.InProgress();
  return TakeDue(limit);
}

}  // namespace tradepipe::execsim
