#include "trading_config.hpp"

#include <simdjson.h>

#include <array>
#include <cctype>
#include <fstream>
#include <iterator>

#include "tradepipe/events/json_read.hpp"

namespace tradepipe::agent {
namespace {

namespace od = simdjson::ondemand;
using events::Decimal;

constexpr std::array<std::string_view, 7> kDayNames = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

using events::ForEachField;
using events::ReadDecimal;

std::string ReadOptionalDecimal(od::value& value, std::optional<Decimal>& out) {
  Decimal d;
  if (auto e = ReadDecimal(value, d, true); !e.empty()) return e;
  out = d;
  return {};
}

std::string ReadCount(od::value& value, std::optional<int64_t>& out, int64_t low, int64_t high) {
  int64_t n = 0;
  if (value.get_int64().get(n) || n < low || n > high) {
    return "expected an integer from " + std::to_string(low) + " to " + std::to_string(high);
  }
  out = n;
  return {};
}

// "HH:MM" (00:00 to 24:00) as minutes of the day.
std::optional<int> MinuteOfDay(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  for (size_t i : {0, 1, 3, 4}) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) return std::nullopt;
  }
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (minutes > 59 || hours > 24 || (hours == 24 && minutes != 0)) return std::nullopt;
  return hours * 60 + minutes;
}

std::string ReadWindow(od::value& value, TradingWindow& window) {
  bool has_from = false;
  bool has_to = false;
  auto e = ForEachField(value, [&](const std::string& key, od::value& v) -> std::string {
    if (key == "days") {
      std::vector<std::string> days;
      if (auto bad = events::ReadStrings(v, days); !bad.empty()) return bad;
      window.days = 0;
      for (const auto& day : days) {
        const auto it = std::find(kDayNames.begin(), kDayNames.end(), day);
        if (it == kDayNames.end()) return "unknown day '" + day + "' (mon ... sun)";
        window.days |= 1U << static_cast<unsigned>(it - kDayNames.begin());
      }
      return {};
    }
    if (key == "from" || key == "to") {
      std::string_view text;
      std::optional<int> minute;
      if (v.get_string().get(text) || !(minute = MinuteOfDay(text))) return "expected \"HH:MM\" (UTC)";
      (key == "from" ? window.from_minute : window.to_minute) = *minute;
      (key == "from" ? has_from : has_to) = true;
      return {};
    }
    return "unknown key (days, from, to)";
  });
  if (!e.empty()) return e;
  if (!has_from || !has_to) return "a window needs from and to";
  if (window.days == 0) return "a window needs at least one day";
  return {};
}

std::string ReadRisk(od::value& value, RiskLimits& risk) {
  return ForEachField(value, [&](const std::string& key, od::value& v) -> std::string {
    if (key == "allowed_symbols") return events::ReadStrings(v, risk.allowed_symbols);
    if (key == "max_order_qty") return ReadOptionalDecimal(v, risk.max_order_qty);
    if (key == "max_order_notional") return ReadOptionalDecimal(v, risk.max_order_notional);
    if (key == "max_position") return ReadOptionalDecimal(v, risk.max_position);
    if (key == "max_gross_exposure") return ReadOptionalDecimal(v, risk.max_gross_exposure);
    if (key == "price_band_percent") return ReadOptionalDecimal(v, risk.price_band_percent);
    if (key == "daily_loss_limit") return ReadOptionalDecimal(v, risk.daily_loss_limit);
    if (key == "max_signal_age_s") return ReadCount(v, risk.max_signal_age_s, 1, 86'400 * 7);
    if (key == "trading_windows") {
      od::array windows;
      if (v.get_array().get(windows)) return "expected an array of windows";
      for (auto item : windows) {
        od::value w;
        if (item.get(w)) return "bad window";
        TradingWindow window;
        if (auto e = ReadWindow(w, window); !e.empty()) return e;
        risk.trading_windows.push_back(window);
      }
      return {};
    }
    return "unknown key (allowed_symbols, max_order_qty, max_order_notional, max_position, max_gross_exposure, "
           "price_band_percent, max_signal_age_s, daily_loss_limit, trading_windows)";
  });
}

std::string ReadSizing(od::value& value, Sizing& sizing) {
  bool has_kind = false;
  bool has_value = false;
  auto e = ForEachField(value, [&](const std::string& key, od::value& v) -> std::string {
    if (key == "kind") {
      std::string_view name;
      std::optional<events::QtyKind> kind;
      if (v.get_string().get(name) || !(kind = events::FromName<events::QtyKind>(name))) {
        return "expected units, notional, percent_equity or percent_position";
      }
      sizing.kind = *kind;
      has_kind = true;
      return {};
    }
    if (key == "value") {
      has_value = true;
      return ReadDecimal(v, sizing.value, true);
    }
    return "unknown key (kind, value)";
  });
  if (!e.empty()) return e;
  if (!has_kind || !has_value) return "sizing needs kind and value";
  return {};
}

std::string ReadStrategy(od::value& value, StrategyConfig& strategy) {
  return ForEachField(value, [&](const std::string& key, od::value& v) -> std::string {
    if (key == "sizing") {
      Sizing sizing;
      if (auto e = ReadSizing(v, sizing); !e.empty()) return e;
      strategy.sizing = sizing;
      return {};
    }
    if (key == "allow_signal_qty") return v.get_bool().get(strategy.allow_signal_qty) ? "expected true or false" : "";
    if (key == "reduce_only") return v.get_bool().get(strategy.reduce_only) ? "expected true or false" : "";
    if (key == "max_open_positions") return ReadCount(v, strategy.max_open_positions, 1, 1'000'000);
    if (key == "max_orders_per_minute") return ReadCount(v, strategy.max_orders_per_minute, 1, 1'000'000);
    return "unknown key (sizing, allow_signal_qty, reduce_only, max_open_positions, max_orders_per_minute)";
  });
}

}  // namespace

std::string_view TradingConfig::StrategyNameFor(std::string_view name) const {
  return strategies.contains(name) ? strategies.find(name)->first : kDefaultStrategy;
}

const StrategyConfig& TradingConfig::StrategyFor(std::string_view name) const {
  return strategies.find(StrategyNameFor(name))->second;
}

Decimal TradingConfig::QtyStepOf(std::string_view symbol) const {
  auto it = qty_steps.find(symbol);
  return it == qty_steps.end() ? Decimal::FromUnits(1) : it->second;
}

Result<TradingConfig> ParseTradingConfig(std::string_view json) {
  using R = Result<TradingConfig>;
  TradingConfig config;
  auto e = events::ForEachFieldOfDocument(json, [&](const std::string& key, od::value& v) -> std::string {
    if (key == "starting_balance") return ReadDecimal(v, config.starting_balance, true);
    if (key == "risk") return ReadRisk(v, config.risk);
    if (key == "symbols") {
      return ForEachField(v, [&](const std::string& symbol, od::value& s) -> std::string {
        return ForEachField(s, [&](const std::string& field, od::value& step) -> std::string {
          if (field != "qty_step") return "unknown key (qty_step)";
          Decimal d;
          if (auto bad = ReadDecimal(step, d, true); !bad.empty()) return bad;
          config.qty_steps[symbol] = d;
          return {};
        });
      });
    }
    if (key == "strategies") {
      return ForEachField(v, [&](const std::string& name, od::value& s) -> std::string {
        if (name.empty() || name.size() > 64) return "a strategy name has 1 to 64 characters";
        return ReadStrategy(s, config.strategies[name]);
      });
    }
    return "unknown key (starting_balance, symbols, risk, strategies)";
  });
  if (!e.empty()) return R::Error(e);
  return config;
}

Result<TradingConfig> LoadTradingConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Result<TradingConfig>::Error(path + ": cannot be read");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto config = ParseTradingConfig(text);
  if (!config) return Result<TradingConfig>::Error(path + ": " + config.error());
  return config;
}

}  // namespace tradepipe::agent
