#include "advisory.hpp"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <map>
#include <vector>

namespace tradepipe::audit {
namespace {
namespace od = simdjson::ondemand;
constexpr std::string_view kMaxDeliverType = "io.nats.jetstream.advisory.v1.max_deliver";
constexpr std::string_view kTerminatedType = "io.nats.jetstream.advisory.v1.terminated";
}  // namespace

std::string_view GiveUpKindName(GiveUpKind kind) {
  switch (kind) {
    case GiveUpKind::kMaxDeliveries:
      return "max_deliveries";
    case GiveUpKind::kTerminated:
      return "terminated";
  }
  return "unknown";
}

Result<ConsumerAdvisory> ParseConsumerAdvisory(std::string_view json) {
  using R = Result<ConsumerAdvisory>;
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  od::object object;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(object)) return R::Error("advisory: not a JSON object");
  ConsumerAdvisory a;
  std::string_view type;
  bool have_seq = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return R::Error("advisory: bad key");
    std::string_view text;
    uint64_t number = 0;
    if (key == "type" && !field.value().get_string().get(text)) {
      type = text;
      if (type == kMaxDeliverType) {
        a.kind = GiveUpKind::kMaxDeliveries;
      } else if (type == kTerminatedType) {
        a.kind = GiveUpKind::kTerminated;
      }
    } else if (key == "stream" && !field.value().get_string().get(text)) {
      a.stream = text;
    } else if (key == "consumer" && !field.value().get_string().get(text)) {
      a.consumer = text;
    } else if (key == "reason" && !field.value().get_string().get(text)) {
      a.reason = text;
    } else if (key == "stream_seq" && !field.value().get_uint64().get(number)) {
      a.stream_seq = number;
      have_seq = true;
    } else if (key == "deliveries" && !field.value().get_uint64().get(number)) {
      a.deliveries = number;
    }
  }
  if (type != kMaxDeliverType && type != kTerminatedType) {
    return R::Error("advisory: type '" + std::string(type) + "' is neither max_deliver nor terminated");
  }
  if (a.stream.empty() || a.consumer.empty() || !have_seq) {
    return R::Error("advisory: stream, consumer and stream_seq are required");
  }
  return a;
}

Result<GivenUpBatch> ResolveAdvisories(bus::Bus& bus, std::vector<bus::Message>& advisories, int64_t now_ns,
                                       const OwnCopyLookup& own_copy) {
  GivenUpBatch batch;
  for (auto& m : advisories) {
    auto advisory = ParseConsumerAdvisory(m.data());
    if (!advisory) {
      batch.unreadable.push_back(
          {std::string(m.subject()), m.stream_sequence(), advisory.error(), std::string(m.data()), now_ns});
      continue;
    }
    GivenUpMessage g{std::string(GiveUpKindName(advisory->kind)),
                     advisory->stream,
                     advisory->stream_seq,
                     advisory->consumer,
                     advisory->deliveries,
                     advisory->reason,
                     {},
                     {},
                     now_ns};
    auto original = bus.GetMessage(advisory->stream, advisory->stream_seq);
    if (original) {
      g.subject = std::move(original->subject);
      g.data = std::move(original->data);
    } else if (original.error().find("not found") != std::string::npos) {
      auto copy = own_copy(advisory->stream, advisory->stream_seq);
      if (!copy) return Result<GivenUpBatch>::Error("read the audit's own copy: " + copy.error());
      if (*copy) {
        g.subject = std::move((*copy)->first);
        g.data = std::move((*copy)->second);
      } else {
        g.reason += g.reason.empty() ? "original no longer in its stream" : " (original no longer in its stream)";
      }
    } else {
      return Result<GivenUpBatch>::Error("read given-up message back: " + original.error());
    }
    spdlog::warn("consumer gave a message up kind={} consumer={} stream={} seq={} deliveries={} subject={}", g.kind,
                 g.consumer, g.stream, g.stream_seq, g.deliveries, g.subject);
    batch.given_up.push_back(std::move(g));
  }
  return batch;
}

OwnCopyLookup StoreCopies(const AuditStore& store, const bus::Topology& topology) {
  std::map<std::string, std::vector<std::string>> prefixes;  // stream -> what its subjects begin with
  for (const auto& stream : topology.streams) {
    for (std::string prefix : stream.subjects) {
      while (!prefix.empty() && (prefix.back() == '>' || prefix.back() == '*')) prefix.pop_back();
      if (!prefix.empty()) prefixes[stream.name].push_back(std::move(prefix));
    }
  }
  return [&store, prefixes = std::move(prefixes)](
             const std::string& stream, uint64_t seq) -> Result<std::optional<std::pair<std::string, std::string>>> {
    const auto it = prefixes.find(stream);
    if (it != prefixes.end()) {
      for (const auto& prefix : it->second) {
        auto copy = store.OwnCopy(prefix, seq);
        if (!copy || *copy) return copy;
      }
    }
    return std::optional<std::pair<std::string, std::string>>();
  };
}

}  // namespace tradepipe::audit
