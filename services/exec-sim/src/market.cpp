#include "market.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "seeded.hpp"
#include "tradepipe/events/ids.hpp"
#include "tradepipe/events/subject.hpp"

namespace tradepipe::execsim {
namespace {

using events::Decimal;
using seeded::Hash;
using seeded::Mix;

__extension__ using Wide = __int128;  // GCC and Clang; the extension keeps -Wpedantic quiet

constexpr int64_t kCent = Decimal::kOne / 100;
constexpr uint64_t kKnotEvery = 64;  // steps of a clock between two seeded points of the mid's walk
// Mixed into the symbol's hash for the ticks' walk: resting orders meet a market of their own
// clock, around the same base.
constexpr uint64_t kTickWalk = 0x7469636b7469636bull;

int64_t RoundToCent(int64_t units) { return (units + kCent / 2) / kCent * kCent; }

// One of `span` values in [-half, half] from a hash.
int64_t Centered(uint64_t h, int64_t half) {
  return static_cast<int64_t>(h % static_cast<uint64_t>(2 * half + 1)) - half;
}

}  // namespace

Decimal Market::Mid(const std::string& symbol, uint64_t sequence) const {
  const uint64_t symbol_hash = Hash(options_.seed, symbol);
  return MidOf(symbol_hash, symbol_hash, sequence);
}

Decimal Market::MidOf(uint64_t symbol_hash, uint64_t walk_key, uint64_t step) const {
  // A base between 20.00 and 499.99; the walk between seeded knots, in basis points × 64.
  const int64_t base = (2000 + static_cast<int64_t>(symbol_hash % 48000)) * kCent;
  const uint64_t knot = step / kKnotEvery;
  const auto offset = static_cast<int64_t>(step % kKnotEvery);
  const int64_t from = Centered(Mix(walk_key ^ Mix(knot)), options_.walk_bps);
  const int64_t to = Centered(Mix(walk_key ^ Mix(knot + 1)), options_.walk_bps);
  const int64_t bps_x64 = from * (static_cast<int64_t>(kKnotEvery) - offset) + to * offset;
  return Decimal::FromUnits(base * (10'000 * 64 + bps_x64) / (10'000 * 64));
}

Book Market::BookAt(const std::string& symbol, uint64_t sequence, std::optional<events::Side> taker) const {
  const uint64_t symbol_hash = Hash(options_.seed, symbol);
  return BookOf(symbol_hash, symbol_hash, sequence, taker);
}

Book Market::TickBookAt(const std::string& symbol, uint64_t tick, std::optional<events::Side> taker) const {
  const uint64_t symbol_hash = Hash(options_.seed, symbol);
  return BookOf(symbol_hash, Mix(symbol_hash ^ kTickWalk), tick, taker);
}

Book Market::BookOf(uint64_t symbol_hash, uint64_t walk_key, uint64_t step, std::optional<events::Side> taker) const {
  Book book;
  book.mid = MidOf(symbol_hash, walk_key, step);
  const int64_t mid = book.mid.units();
  const int64_t half_spread = mid * options_.spread_bps / 20'000;
  const int64_t level_step = std::max(kCent, RoundToCent(mid * options_.level_step_bps / 10'000));
  const int64_t best_ask = RoundToCent(mid + half_spread);
  const int64_t best_bid = RoundToCent(mid - half_spread);
  const uint64_t here = Mix(walk_key ^ Mix(step));
  auto size = [&](int side, int level) {
    // depth_qty × (level + 1) × a seeded 0.50 .. 1.50
    const auto factor = static_cast<int64_t>(50 + Mix(here ^ static_cast<uint64_t>(side * 64 + level)) % 101);
    return Decimal::FromUnits(options_.depth_qty.units() * (level + 1) / 100 * factor);
  };
  const bool asks = taker != events::Side::kSell;
  const bool bids = taker != events::Side::kBuy;
  for (int i = 0; i < options_.levels; ++i) {
    if (asks) book.asks.push_back({Decimal::FromUnits(best_ask + i * level_step), size(0, i)});
    if (const int64_t bid = best_bid - i * level_step; bids && bid > 0) {
      book.bids.push_back({Decimal::FromUnits(bid), size(1, i)});
    }
  }
  return book;
}

Match MatchOrder(const Book& book, events::Side side, Decimal qty, std::optional<Decimal> limit, bool all_or_none) {
  const std::vector<Level>& levels = side == events::Side::kBuy ? book.asks : book.bids;
  auto within = [&](const Level& l) {
    return !limit || (side == events::Side::kBuy ? l.price <= *limit : l.price >= *limit);
  };
  Match m;
  m.leaves = qty;
  if (all_or_none) {
    Decimal available;
    for (const Level& l : levels) {
      if (!within(l)) break;
      available = available + l.qty;  // bounded: a few levels of a bounded depth
      if (available >= qty) break;
    }
    if (available < qty) return m;
  }
  for (const Level& l : levels) {
    if (m.leaves == Decimal() || !within(l)) break;
    const Decimal take = std::min(l.qty, m.leaves);
    if (take <= Decimal()) continue;
    m.slices.push_back({take, l.price});
    m.filled = m.filled + take;
    m.leaves = m.leaves - take;
  }
  return m;
}

Result<Execution> Execute(const events::Envelope& order, uint64_t sequence, const Market& market, int64_t consumed_ns,
                          int64_t filled_ns, size_t room) {
  using R = Result<Execution>;
  if (order.type != events::kTypeOrder) return R::Error("not an order: " + order.type);
  auto payload = events::ParseOrderPayload(order.payload);
  if (!payload) return R::Error("order payload: " + payload.error());
  if (payload->order_id != order.id) return R::Error("order_id does not match the envelope id");
  if (payload->qty <= Decimal()) return R::Error("order qty must be positive");
  const bool is_limit = payload->order_type == "limit";
  if (is_limit && !payload->limit_price) return R::Error("limit order without limit_price");
  if (!is_limit && payload->order_type != "market") return R::Error("unknown order_type " + payload->order_type);
  const events::TimeInForce tif =
      payload->time_in_force.value_or(is_limit ? events::TimeInForce::kDay : events::TimeInForce::kIoc);

  const bool rejected = seeded::Chance(Mix(Hash(market.options().seed + 2, order.id)), market.options().reject_bps);
  const Match match =
      rejected ? Match{{}, Decimal(), payload->qty}
               : MatchOrder(market.BookAt(order.symbol, sequence, payload->side), payload->side, payload->qty,
                            is_limit ? payload->limit_price : std::nullopt, tif == events::TimeInForce::kFok);

  // One event per state change (docs/events.md): a fill per level taken (carrying the order's
  // state after it), then an exec_report if the order ends with quantity left.
  Execution ex;
  ex.side = payload->side;
  ex.qty = payload->qty;
  auto child = [&](std::string_view type, std::string id) {
    events::Envelope event = order.Child(type, std::move(id));
    event.AddStamp("exec_consumed", consumed_ns);
    event.AddStamp("filled", filled_ns);
    return event;
  };
  Decimal cum;
  // Σ qty × price, exact (1e-16 units; at most qty × the highest price, within 128 bits): the
  // average price is truncated once, so one fill's average is its price.
  Wide notional = 0;
  for (size_t i = 0; i < match.slices.size(); ++i) {
    const Slice& s = match.slices[i];
    notional += static_cast<Wide>(s.qty.units()) * s.price.units();
    cum = cum + s.qty;
    events::FillPayload f;
    f.order_id = order.id;
    f.fill_no = static_cast<int>(i + 1);
    f.side = payload->side;
    f.qty = s.qty;
    f.price = s.price;
    f.cum_qty = cum;
    f.leaves_qty = payload->qty - cum;
    f.status = f.leaves_qty == Decimal() ? "filled" : "partial";
    f.avg_price = Decimal::FromUnits(static_cast<int64_t>(notional / cum.units()));
    events::Envelope event = child(events::kTypeFill, events::FillId(order.id, f.fill_no));
    event.payload = events::ToJson(f);
    ex.messages.push_back({events::FillSubject(order.symbol), event.id, events::Serialize(event)});
    ex.avg_price = f.avg_price;
  }
  ex.fills = match.slices.size();
  ex.filled_qty = cum;
  ex.filled = match.leaves == Decimal();
  ex.status = "filled";
  if (!ex.filled) {
    const bool can_rest =
        !rejected && is_limit && (tif == events::TimeInForce::kDay || tif == events::TimeInForce::kGtc);
    const bool rests = can_rest && room >= 1;
    ex.rest_refused = can_rest && room < 1;
    events::ExecReportPayload r;
    r.order_id = order.id;
    r.status = rejected ? "rejected" : rests ? "accepted" : "cancelled";
    r.filled_qty = cum;
    r.leaves_qty = match.leaves;
    if (cum > Decimal()) r.avg_price = ex.avg_price;
    events::Envelope event = child(events::kTypeExecReport, events::ReportId(order.id, 1));
    if (rests) {
      r.side = payload->side;
      r.qty = payload->qty;
      r.limit_price = payload->limit_price;
      r.time_in_force = tif;
      r.fills = static_cast<int>(ex.fills);
      r.take_profit = payload->take_profit;  // its exits, placed when it ends
      r.stop_loss = payload->stop_loss;
      ex.rest = RestingFromReport(event, r);
    }
    event.payload = events::ToJson(r);
    ex.messages.push_back({events::ReportSubject(order.symbol), event.id, events::Serialize(event)});
    ex.status = r.status;
  }
  if (!ex.rest && cum > Decimal() && (payload->take_profit || payload->stop_loss)) {
    // The order ended having executed: its exits rest (or, with no room, are cancelled at once).
    RestingOrder entry;
    entry.parent = order;
    entry.parent.payload = "{}";
    entry.parent.AddStamp("exec_consumed", consumed_ns);
    entry.side = payload->side;
    entry.take_profit = payload->take_profit;
    entry.stop_loss = payload->stop_loss;
    entry.decided_ns = order.StampOf("decided").value_or(consumed_ns);
    Exits exits = PlaceExits(order.id, entry, cum, child);
    if (exits.orders.size() <= room) {
      for (auto& m : exits.messages) ex.messages.push_back(std::move(m));
      ex.exits = std::move(exits.orders);
    } else {
      for (const auto& [id, exit] : exits.orders) {
        events::ExecReportPayload r;
        r.order_id = id;
        r.status = "cancelled";
        r.leaves_qty = exit.qty;
        events::Envelope event = child(events::kTypeExecReport, events::ReportId(id, 1));
        event.payload = events::ToJson(r);
        ex.messages.push_back({events::ReportSubject(order.symbol), event.id, events::Serialize(event)});
      }
      ex.rest_refused = true;
    }
  }
  return ex;
}

std::string BookJson(const std::string& symbol, uint64_t sequence, const Book& book) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto text = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  auto side = [&](const char* key, const std::vector<Level>& levels) {
    w.Key(key);
    w.StartArray();
    for (const Level& l : levels) {
      w.StartObject();
      text("price", l.price.ToString());
      text("qty", l.qty.ToString());
      w.EndObject();
    }
    w.EndArray();
  };
  w.StartObject();
  text("symbol", symbol);
  w.Key("sequence");
  w.Uint64(sequence);
  text("mid", book.mid.ToString());
  side("bids", book.bids);
  side("asks", book.asks);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace tradepipe::execsim
