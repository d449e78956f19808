#include "gateway_wiring.hpp"

namespace tradepipe::gateway {

Result<ChosenStore> MakeIdempotencyStore(const StoreSettings& settings) {
  ChosenStore chosen;
  if (settings.redis_url.empty()) {
    chosen.store =
        std::make_unique<MemoryIdempotencyStore>(settings.memory_capacity, settings.ttl_s * int64_t{1'000'000'000});
    return chosen;
  }
  auto parsed = ParseRedisUrl(settings.redis_url);
  if (!parsed) return Result<ChosenStore>::Error("--redis-url: " + parsed.error());
  chosen.redis_options = *parsed;
  chosen.redis_options->on_loops = settings.redis_on_loops;
  chosen.redis_options->lanes = settings.redis_lanes;
  chosen.redis_options->ttl_ms = settings.ttl_s * 1000;
  auto redis = std::make_unique<RedisIdempotencyStore>(*chosen.redis_options);
  chosen.redis = redis.get();
  chosen.store = std::move(redis);
  return chosen;
}

LoopAttachments::LoopAttachments(std::optional<bus::LoopPublisherOptions> publisher,
                                 RedisIdempotencyStore* redis_on_loops)
    : publisher_(std::move(publisher)), redis_(redis_on_loops) {}

std::function<std::shared_ptr<void>(int, boost::asio::io_context&)> LoopAttachments::Hook() {
  if (!publisher_ && redis_ == nullptr) return {};
  return [this](int, boost::asio::io_context& loop) {
    struct Attached {
      std::shared_ptr<bus::LoopPublisher> publisher;
      std::shared_ptr<void> redis;
    };
    auto attached = std::make_shared<Attached>();
    if (publisher_) {
      attached->publisher = bus::LoopPublisher::Create(loop, *publisher_);
      attached->publisher->Start();
      publishers_.push_back(attached->publisher.get());
    }
    if (redis_ != nullptr) attached->redis = redis_->AttachLoop(loop);
    return std::shared_ptr<void>(std::move(attached));
  };
}

}  // namespace tradepipe::gateway
