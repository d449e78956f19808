#include "webhook_processor.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <random>
#include <stdexcept>

#include "tradepipe/common/clock.hpp"
#include "tradepipe/crypto/crypto.hpp"
#include "tradepipe/crypto/hex_hmac.hpp"
#include "tradepipe/crypto/standard_webhooks.hpp"
#include "tradepipe/events/ids.hpp"
#include "tradepipe/events/subject.hpp"
#include "webhook_signal.hpp"

namespace tradepipe::gateway {
namespace {

constexpr int64_t kNanos = 1'000'000'000;

// Compares bodies sent under one idempotency key: the first 8 bytes of SHA-256 suffice.
uint64_t BodyHash(const crypto::Sha256Digest& digest) {
  uint64_t h = 0;
  for (int i = 0; i < 8; ++i) h = (h << 8) | digest[static_cast<size_t>(i)];
  return h;
}

// JSON, or text/plain (TradingView sends it when the alert text is not JSON); absent is taken as JSON.
bool AcceptedContentType(std::string_view value) {
  const std::string_view type = value.substr(0, value.find(';'));
  auto equals = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
  };
  std::string_view trimmed = type;
  while (!trimmed.empty() && trimmed.back() == ' ') trimmed.remove_suffix(1);
  return trimmed.empty() || equals(trimmed, "application/json") || equals(trimmed, "text/plain");
}

// First 16 bytes of SHA-256, hex: the idempotency key of a request that carries none.
std::string BodyKey(const crypto::Sha256Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 16; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

bool ValidIdempotencyKey(std::string_view key) {
  if (key.empty() || key.size() > 255) return false;
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7e) return false;  // visible ASCII only
  }
  return true;
}

}  // namespace

WebhookProcessor::WebhookProcessor(std::vector<SourceConfig> sources, ProcessorOptions options, IdempotencyStore& store,
                                   ProcessorObserver observer)
    : options_(options),
      observer_(std::move(observer)),
      idempotency_(store),
      load_test_nonce_((uint64_t{std::random_device{}()} << 32) | std::random_device{}()) {
  for (auto& s : sources) {
    auto limiter = std::make_unique<RateLimiter>(s.rate_per_s, s.burst);
    auto allow = IpAllowList::Parse(s.allow_ips);
    if (!allow) throw std::invalid_argument("source '" + s.name + "': allow_ips: " + allow.error());
    std::string name = s.name;
    sources_.emplace(std::move(name), Source{std::move(s), std::move(limiter), std::move(*allow)});
  }
}

http::Response WebhookProcessor::Reject(int status, std::string_view code, std::string_view message) {
  if (observer_.rejected) observer_.rejected(code);
  return http::JsonError(status, code, message);
}

std::variant<http::Response, WebhookProcessor::Claim> WebhookProcessor::Check(std::string_view source_name,
                                                                              const HeaderLookup& header,
                                                                              std::string_view body,
                                                                              std::string_view remote,
                                                                              int64_t received_ns) {
  const auto source = sources_.find(std::string(source_name));
  if (source == sources_.end()) return Reject(404, "unknown_source", "no webhook source with this name");
  if (!source->second.allow.Allows(remote)) {
    return Reject(403, "ip_not_allowed", "this address may not send webhooks for this source");
  }

  if (!AcceptedContentType(header("content-type"))) {
    return Reject(415, "unsupported_media_type", "send application/json (or text/plain)");
  }

  const SourceConfig& config = source->second.config;
  auto enabled = [&](Scheme scheme) {
    return std::find(config.schemes.begin(), config.schemes.end(), scheme) != config.schemes.end();
  };
  // The scheme is chosen by what the request carries; each is verified only if the source
  // enables it. A body-token request is parsed first (the token is in the body).
  std::optional<SignalParse> parsed;
  std::string_view webhook_id;
  bool load_test = false;
  crypto::VerifyOutcome verified = crypto::VerifyOutcome::kMissingHeaders;
  const int64_t now_s = received_ns / kNanos;
  if (enabled(Scheme::kStandardWebhooks) && !header("webhook-signature").empty()) {
    webhook_id = header("webhook-id");
    verified = crypto::Verify(config.keys, webhook_id, header("webhook-timestamp"), header("webhook-signature"), body,
                              now_s, options_.tolerance_s);
  } else if (enabled(Scheme::kHexHmac) && !header("x-signature").empty()) {
    verified = crypto::VerifyHexHmac(config.keys, header("x-timestamp"), header("x-signature"), body, now_s,
                                     options_.tolerance_s);
  } else if (enabled(Scheme::kBodyToken)) {
    parsed = ParseWebhookSignal(body);
    if (parsed->error == SignalError::kMalformedJson) return Reject(400, "malformed_json", parsed->message);
    if (parsed->token.empty()) return Reject(401, "missing_token", "no token in the body");
    bool matched = false;
    for (const std::string& token : config.tokens) matched |= crypto::ConstantTimeEquals(parsed->token, token);
    if (!matched) return Reject(401, "bad_token", "the token does not match");
    // Freshness: a token proves the sender, not the moment; the body's time does (docs/gateway.md).
    if (parsed->time.empty()) {
      if (config.require_time) {
        return Reject(401, "missing_timestamp", "the body has no `time` (put {{timenow}} in the alert)");
      }
    } else {
      const std::optional<int64_t> sent = ParseBodyTime(parsed->time);
      if (!sent) return Reject(401, "bad_timestamp", "`time` is not ISO 8601 UTC or unix seconds");
      if (!crypto::WithinTolerance(*sent, now_s, options_.tolerance_s)) {
        return Reject(401, "stale_timestamp", "the timestamp is outside the accepted window");
      }
    }
    verified = crypto::VerifyOutcome::kOk;
  } else if (enabled(Scheme::kLoadTest)) {
    constexpr std::string_view kBearer = "bearer ";  // the scheme name is case-insensitive (RFC 9110)
    const std::string_view authorization = header("authorization");
    const bool bearer = authorization.size() > kBearer.size() &&
                        std::equal(kBearer.begin(), kBearer.end(), authorization.begin(), [](char want, char got) {
                          return want == std::tolower(static_cast<unsigned char>(got));
                        });
    if (!bearer) {
      return Reject(401, "missing_token", "send Authorization: Bearer <load-test token>");
    }
    bool matched = false;
    for (const std::string& token : config.tokens) {
      matched |= crypto::ConstantTimeEquals(authorization.substr(kBearer.size()), token);
    }
    if (!matched) return Reject(401, "bad_token", "the token does not match");
    load_test = true;
    verified = crypto::VerifyOutcome::kOk;
  }
  if (verified != crypto::VerifyOutcome::kOk) {
    return Reject(401, crypto::ToString(verified),
                  verified == crypto::VerifyOutcome::kStaleTimestamp ? "the timestamp is outside the accepted window"
                                                                     : "webhook signature verification failed");
  }
  const int64_t verified_ns = WallNanos();

  // After verification, so unsigned traffic cannot use up a sender's budget.
  if (const auto allowed = source->second.limiter->Allow(verified_ns); !allowed.allowed) {
    http::Response r = Reject(429, "rate_limited", "too many requests for this source");
    r.headers.emplace_back("Retry-After",
                           std::to_string(std::max<int64_t>(1, (allowed.retry_after_ns + kNanos - 1) / kNanos)));
    return r;
  }

  // Key: only what the authentication covers, so a replayed request can never become a new
  // identity: the signed webhook-id, else a hash of the body (hex-hmac and body-token senders;
  // TradingView's alert carries {{timenow}}, so distinct alerts have distinct bodies). An
  // Idempotency-Key header is not signed by any scheme and is ignored.
  const crypto::Sha256Digest body_digest = crypto::Sha256(body);  // once: body hash and fallback key
  // A load test's request is never a repeat: its key is made up here, never read from the request.
  std::string key = load_test ? fmt::format("lt-{:016x}-{}", load_test_nonce_, load_test_next_.fetch_add(1))
                              : std::string(webhook_id);
  if (key.empty()) key = "sha256:" + BodyKey(body_digest);
  if (!ValidIdempotencyKey(key)) {
    return Reject(400, "bad_idempotency_key", "key must be 1-255 visible ASCII characters");
  }
  const std::string scoped_key = events::SignalId(source_name, key);

  // Parse before claiming the key: a body we refuse is not a request that ran.
  if (!parsed) parsed = ParseWebhookSignal(body);
  if (parsed->error == SignalError::kMalformedJson) return Reject(400, "malformed_json", parsed->message);
  if (parsed->error == SignalError::kInvalidField) return Reject(422, "invalid_signal", parsed->message);

  // Everything the rest needs is copied out now: the request itself may be gone by the time an
  // asynchronous store answers.
  Claim claim;
  claim.scoped_key = scoped_key;
  claim.body_hash = BodyHash(body_digest);
  claim.source = source_name;
  claim.signal = std::move(parsed->signal);
  claim.received_ns = received_ns;
  claim.verified_ns = verified_ns;
  return claim;
}

std::variant<http::Response, PublishJob> WebhookProcessor::Resolve(const Claim& claim,
                                                                   const Result<BeginResult>& begun) {
  if (!begun) {
    spdlog::warn("idempotency store failed, answering 503 error={}", begun.error());
    return Unavailable("idempotency_unavailable", "the idempotency store cannot be reached; retry");
  }
  const BeginResult& begin = *begun;
  switch (begin.outcome) {
    case BeginOutcome::kNew:
      break;
    case BeginOutcome::kInFlight:
      return Reject(409, "request_in_progress", "a request with this key is being processed");
    case BeginOutcome::kMismatch:
      return Reject(422, "idempotency_key_reused", "this key was used with a different body");
    case BeginOutcome::kReplay: {
      if (observer_.replayed) observer_.replayed();
      http::Response r = http::Json(begin.replay.status, begin.replay.body);
      r.headers.emplace_back("Idempotent-Replayed", "true");
      return r;
    }
  }

  events::Envelope e;
  e.type = events::kTypeSignal;
  e.id = claim.scoped_key;  // deterministic: the idempotency key scoped by source
  e.correlation_id = e.id;
  e.source = claim.source;
  e.symbol = claim.signal.symbol;
  e.AddStamp("received", claim.received_ns);
  e.AddStamp("verified", claim.verified_ns);
  e.AddStamp("published", WallNanos());
  e.payload = events::ToJson(claim.signal.payload);

  PublishJob job;
  job.idempotency_key = claim.scoped_key;
  job.body_hash = claim.body_hash;
  job.signal_id = e.id;
  job.subject = events::SignalSubject(claim.source, e.symbol);
  job.data = events::Serialize(e);
  return job;
}

void WebhookProcessor::Process(std::string_view source, const HeaderLookup& header, std::string_view body,
                               std::string_view remote, int64_t received_ns,
                               std::function<void(std::variant<http::Response, PublishJob>)> done) {
  auto checked = Check(source, header, body, remote, received_ns);
  if (auto* response = std::get_if<http::Response>(&checked)) return done(std::move(*response));
  auto claim = std::make_shared<Claim>(std::move(std::get<Claim>(checked)));
  idempotency_.Begin(claim->scoped_key, claim->body_hash, received_ns,
                     [this, claim, done = std::move(done)](Result<BeginResult> begun) {
                       if (observer_.claimed) {
                         observer_.claimed(claim->verified_ns - claim->received_ns, WallNanos() - claim->verified_ns);
                       }
                       done(Resolve(*claim, begun));
                     });
}

std::variant<http::Response, PublishJob> WebhookProcessor::Admit(std::string_view source, const HeaderLookup& header,
                                                                 std::string_view body, int64_t received_ns,
                                                                 std::string_view remote) {
  std::optional<std::variant<http::Response, PublishJob>> out;
  Process(source, header, body, remote, received_ns,
          [&](std::variant<http::Response, PublishJob> r) { out = std::move(r); });
  if (!out) throw std::logic_error("Admit needs a store that answers at once (use Process)");
  return std::move(*out);
}

void WebhookProcessor::ReleaseThenAnswer(const PublishJob& job, http::Response failure,
                                         std::function<void(http::Response)> answer) {
  // The sender's retry must be able to run. If even the release fails, the shared store's
  // short in-flight TTL frees the key (docs/gateway.md).
  idempotency_.Release(job.idempotency_key,
                       [failure = std::move(failure), answer = std::move(answer)](Status released) mutable {
                         if (!released) spdlog::warn("idempotency release failed error={}", released.error());
                         answer(std::move(failure));
                       });
}

void WebhookProcessor::Abandon(const PublishJob& job, std::function<void(http::Response)> answer) {
  spdlog::warn("no time left to publish within the request deadline signal_id={}", job.signal_id);
  ReleaseThenAnswer(job,
                    Unavailable("deadline_exceeded", "the request deadline passed before the signal was stored; retry"),
                    std::move(answer));
}

void WebhookProcessor::Complete(const PublishJob& job, const Result<bus::PublishAck>& ack,
                                std::function<void(http::Response)> answer) {
  if (!ack) {
    spdlog::warn("publish failed signal_id={} error={}", job.signal_id, ack.error());
    return ReleaseThenAnswer(job, Unavailable("publish_unavailable", "the event bus did not confirm the signal; retry"),
                             std::move(answer));
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("id");
  w.String(job.signal_id.data(), static_cast<rapidjson::SizeType>(job.signal_id.size()));
  w.Key("seq");
  w.Uint64(ack->sequence);
  w.EndObject();
  std::string body(buffer.GetString(), buffer.GetSize());
  // The signal is durable whatever happens here: answer 202 even if the store cannot record it
  // (a retry then re-publishes the same Nats-Msg-Id, which JetStream drops as a duplicate).
  StoredResponse stored{202, body};
  idempotency_.Complete(
      job.idempotency_key, job.body_hash, stored,
      [id = job.signal_id, body = std::move(body), answer = std::move(answer)](Status recorded) mutable {
        if (!recorded) {
          spdlog::warn("idempotency completion not recorded signal_id={} error={}", id, recorded.error());
        }
        answer(http::Json(202, std::move(body)));
      });
}

http::Response WebhookProcessor::CompleteNow(const PublishJob& job, const Result<bus::PublishAck>& ack) {
  std::optional<http::Response> out;
  Complete(job, ack, [&](http::Response r) { out = std::move(r); });
  if (!out) throw std::logic_error("CompleteNow needs a store that answers at once");
  return std::move(*out);
}

http::Response WebhookProcessor::Unavailable(std::string_view code, std::string_view message) {
  http::Response r = Reject(503, code, message);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

Result<std::vector<SourceConfig>> ParseSources(std::string_view text) {
  using R = Result<std::vector<SourceConfig>>;
  std::vector<SourceConfig> sources;
  while (!text.empty()) {
    const size_t semi = text.find(';');
    std::string_view entry = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
    if (entry.empty()) continue;
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) return R::Error("source entry without name=secret");
    SourceConfig source;
    source.name = entry.substr(0, eq);
    for (unsigned char c : source.name) {
      if (!std::isalnum(c) && c != '-' && c != '_') {
        return R::Error("source name '" + source.name + "': only letters, digits, '-' and '_'");
      }
    }
    std::string_view secrets = entry.substr(eq + 1);
    while (!secrets.empty()) {
      const size_t comma = secrets.find(',');
      const std::string_view secret = secrets.substr(0, comma);
      secrets = comma == std::string_view::npos ? std::string_view() : secrets.substr(comma + 1);
      auto key = crypto::ParseSecret(secret);
      // Never echo the secret itself.
      if (!key) return R::Error("source '" + source.name + "': a secret is not whsec_<base64>");
      source.keys.push_back(*key);
    }
    if (source.keys.empty()) return R::Error("source '" + source.name + "': no secret");
    sources.push_back(std::move(source));
  }
  return sources;
}

}  // namespace tradepipe::gateway
