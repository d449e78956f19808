// The gateway's parts that depend on its settings, built for main: the idempotency store (in
// memory, or Redis with its transport) and what each HTTP thread's event loop gets when the server
// creates it (its own NATS publisher with --publisher loop, its own Redis connection with
// --redis-transport loops; docs/gateway.md).
//
//   auto store = gateway::MakeIdempotencyStore({...});       // the error text on a bad --redis-url
//   gateway::LoopAttachments loops(publisher_options, store->redis_on_loops());
//   http options: .attach = loops.Hook()                      // empty when nothing is per loop
//   ... gateway::LoopPublishPath(loops.publishers())
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "idempotency.hpp"
#include "redis_idempotency.hpp"
#include "tradepipe/bus/loop_publisher.hpp"
#include "tradepipe/common/result.hpp"

namespace tradepipe::gateway {

struct StoreSettings {
  std::string redis_url;  // empty: in memory
  bool redis_on_loops = true;
  size_t redis_lanes = 2;
  size_t memory_capacity = 1'000'000;
  int64_t ttl_s = 24 * 3600;
};

struct ChosenStore {
  std::unique_ptr<IdempotencyStore> store;
  RedisIdempotencyStore* redis = nullptr;  // the same store when it is Redis, else null
  std::optional<RedisOptions> redis_options;
  RedisIdempotencyStore* redis_on_loops() const {
    return redis != nullptr && redis_options->on_loops ? redis : nullptr;
  }
};

// Exists before the HTTP server creates its loops: with Redis on the loops each loop's connection
// is attached as the loop is made.
Result<ChosenStore> MakeIdempotencyStore(const StoreSettings& settings);

class LoopAttachments {
 public:
  // `publisher`: nullopt when webhooks are published through the shared Bus (--publisher cnats).
  LoopAttachments(std::optional<bus::LoopPublisherOptions> publisher, RedisIdempotencyStore* redis_on_loops);

  // The HTTP server's attach hook; empty when nothing is kept per loop.
  std::function<std::shared_ptr<void>(int, boost::asio::io_context&)> Hook();
  // One per HTTP thread once the server has started (kept by reference by LoopPublishPath).
  const std::vector<bus::LoopPublisher*>& publishers() const { return publishers_; }

 private:
  std::optional<bus::LoopPublisherOptions> publisher_;
  RedisIdempotencyStore* redis_;
  std::vector<bus::LoopPublisher*> publishers_;
};

}  // namespace tradepipe::gateway
