#include "trading_state_admin.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "tradepipe/common/clock.hpp"
#include "tradepipe/crypto/crypto.hpp"
#include "tradepipe/events/envelope.hpp"

namespace tradepipe::agent {
namespace {

namespace od = simdjson::ondemand;

constexpr size_t kMaxReason = 256;

struct StateRequest {
  TradingState state = TradingState::kActive;
  std::string reason;
};

// {"state": "...", "reason": "..."} (reason optional); the error says what is wrong.
Result<StateRequest> ParseStateRequest(std::string_view body) {
  using R = Result<StateRequest>;
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  od::object object;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(object)) return R::Error("the body is not a JSON object");
  StateRequest request;
  bool has_state = false;
  for (auto field : object) {
    std::string_view key;
    std::string_view text;
    if (field.unescaped_key().get(key)) return R::Error("bad key");
    if (key != "state" && key != "reason") return R::Error("unknown key '" + std::string(key) + "' (state, reason)");
    if (field.value().get_string().get(text)) return R::Error(std::string(key) + ": expected a string");
    if (key == "state") {
      auto state = TradingStateFromName(text);
      if (!state) return R::Error("state: expected active, reducing or halted");
      request.state = *state;
      has_state = true;
    } else {
      if (text.size() > kMaxReason) return R::Error("reason: at most 256 bytes");
      request.reason = text;
    }
  }
  if (!has_state) return R::Error("state: required (active, reducing or halted)");
  return request;
}

std::string StatePayload(TradingState state, TradingState previous, std::string_view reason) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto field = [&](const char* key, std::string_view value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  field("state", ToName(state));
  field("previous", ToName(previous));
  field("reason", reason);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::optional<TradingState> StateOfEvent(std::string_view data) {
  auto e = events::ParseEnvelope(data);
  if (!e || e->type != kTypeTradingState) return std::nullopt;
  simdjson::padded_string padded(e->payload);
  od::parser parser;
  od::document doc;
  std::string_view name;
  if (parser.iterate(padded).get(doc) || doc["state"].get_string().get(name)) return std::nullopt;
  return TradingStateFromName(name);
}

}  // namespace

Result<std::optional<TradingState>> TradingStateAdmin::LastRecorded(uint64_t& read, uint64_t& unusable) {
  std::optional<TradingState> last;
  auto visited = bus_.ReadStream("ORDERS", std::string(kTradingStateSubject), false, [&](const bus::StreamEntry& e) {
    if (auto state = StateOfEvent(e.data)) {
      last = state;
    } else {
      ++unusable;
    }
  });
  if (!visited) return Result<std::optional<TradingState>>::Error(visited.error());
  read = *visited;
  return last;
}

Status TradingStateAdmin::Restore(std::optional<TradingState> kept) {
  std::lock_guard lock(switching_);
  uint64_t read = 0;
  uint64_t unusable = 0;
  auto last = LastRecorded(read, unusable);
  if (!last) return Status::Error("reading the trading state from ORDERS: " + last.error());
  state_.Set(last->value_or(kept.value_or(TradingState::kActive)));
  spdlog::info("trading state={} (switches in ORDERS={} unusable={}{})", ToName(state_.Get()), read, unusable,
               !*last && kept ? "; kept by the positions snapshot" : "");
  return {};
}

void TradingStateAdmin::ExportMetrics(metrics::Metrics& metrics) const {
  auto& family = metrics.GaugeFamily("tradepipe_agent_trading_state", "1 for the trading state in force");
  for (const auto state : {TradingState::kActive, TradingState::kReducing, TradingState::kHalted}) {
    auto& gauge = family.Add({{"state", std::string(ToName(state))}});
    metrics.OnCollect([&gauge, &switch_state = state_, state] { gauge.Set(switch_state.Get() == state ? 1.0 : 0.0); });
  }
}

void TradingStateAdmin::Follow(std::chrono::milliseconds period) {
  std::lock_guard guard(follow_mu_);
  if (following_) return;
  following_ = true;
  follower_ = std::thread([this, period] {
    std::unique_lock wait_lock(follow_mu_);
    while (!follow_wake_.wait_for(wait_lock, period, [this] { return !following_; })) {
      wait_lock.unlock();
      {
        // Under the switch's lock: a local switch is never overwritten by a read from before it.
        std::lock_guard lock(switching_);
        uint64_t read = 0;
        uint64_t unusable = 0;
        auto last = LastRecorded(read, unusable);
        if (!last) {
          spdlog::warn("following the trading state: {}", last.error());
        } else if (*last && **last != state_.Get()) {
          spdlog::warn("trading state {} -> {} (switched on another replica)", ToName(state_.Get()), ToName(**last));
          state_.Set(**last);
        }
      }
      wait_lock.lock();
    }
  });
}

void TradingStateAdmin::StopFollowing() {
  {
    std::lock_guard lock(follow_mu_);
    following_ = false;
  }
  follow_wake_.notify_all();
  if (follower_.joinable()) follower_.join();
}

http::Response TradingStateAdmin::Switch(const http::Request& request) {
  if (token_.empty()) {
    return http::JsonError(403, "admin_disabled", "no admin token is configured (--admin-token)");
  }
  const std::string_view auth = request.Header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!auth.starts_with(kBearer) || !crypto::ConstantTimeEquals(auth.substr(kBearer.size()), token_)) {
    spdlog::warn("trading state switch refused: bad or missing admin token remote={}", request.remote_address());
    return http::JsonError(401, "unauthorized", "Authorization: Bearer <admin token> required");
  }
  auto asked = ParseStateRequest(request.body());
  if (!asked) return http::JsonError(422, "invalid_body", asked.error());

  std::lock_guard lock(switching_);
  const TradingState previous = state_.Get();
  const int64_t now = WallNanos();
  events::Envelope event;
  event.type = kTypeTradingState;
  event.id = "admin:trading-state:" + std::to_string(now);
  event.correlation_id = event.id;
  event.source = "admin";
  event.symbol = "*";
  event.AddStamp("switched", now);
  event.payload = StatePayload(asked->state, previous, asked->reason);
  // Durable first: a switch the audit and a restart cannot see did not happen.
  if (auto ack = bus_.Publish(kTradingStateSubject, event.id, events::Serialize(event)); !ack) {
    spdlog::error("trading state switch to {} not recorded: {}", ToName(asked->state), ack.error());
    return http::JsonError(503, "not_recorded", "the switch could not be recorded in ORDERS: " + ack.error());
  }
  state_.Set(asked->state);
  spdlog::warn("trading state {} -> {} reason={} remote={}", ToName(previous), ToName(asked->state), asked->reason,
               request.remote_address());
  return http::Json(200, StatePayload(asked->state, previous, asked->reason));
}

http::Response TradingStateAdmin::Show() const {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  const std::string_view name = ToName(state_.Get());
  w.StartObject();
  w.Key("state");
  w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  w.EndObject();
  return http::Json(200, {buffer.GetString(), buffer.GetSize()});
}

}  // namespace tradepipe::agent
