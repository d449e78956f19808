// Exact decimal quantities and prices: a signed 64-bit count of 1e-8 units, parsed from and
// printed to decimal text. Never binary floating point on the order path ("0.3" stays 0.3).
//
//   auto q = Decimal::Parse("0.00001");   // Result<Decimal>
//   q->ToString() == "0.00001"
//
// Range: ±92,233,720,368.54775807: Parse refuses text beyond it, CheckedAdd/CheckedSub report an
// overflow; the plain operators are for values whose range the caller bounds (prices and
// spreads). Thread-safe (a value type).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tradepipe/common/result.hpp"

namespace tradepipe::events {

class Decimal {
 public:
  static constexpr int kScale = 8;
  static constexpr int64_t kOne = 100'000'000;

  constexpr Decimal() = default;
  static constexpr Decimal FromUnits(int64_t units) { return Decimal(units); }
  static constexpr Decimal FromInteger(int64_t value) { return Decimal(value * kOne); }

  // Plain decimal text: optional '-', digits, optional '.' and at most 8 fraction digits.
  // No exponent, no leading '+', no surrounding spaces.
  static Result<Decimal> Parse(std::string_view text);

  constexpr int64_t units() const { return units_; }
  std::string ToString() const;

  constexpr auto operator<=>(const Decimal&) const = default;
  constexpr Decimal operator-() const { return Decimal(-units_); }
  constexpr Decimal operator+(Decimal o) const { return Decimal(units_ + o.units_); }
  constexpr Decimal operator-(Decimal o) const { return Decimal(units_ - o.units_); }
  // nullopt when the result leaves the range.
  std::optional<Decimal> CheckedAdd(Decimal o) const;
  std::optional<Decimal> CheckedSub(Decimal o) const;
  // this × o and this ÷ o, truncated toward zero to 8 places (a 128-bit intermediate); nullopt
  // beyond the range or for a division by zero.
  std::optional<Decimal> CheckedMul(Decimal o) const;
  std::optional<Decimal> CheckedDiv(Decimal o) const;
  // The largest multiple of `step` not beyond this value toward zero (a quantity rounded down to
  // a lot size); unchanged for a step <= 0.
  Decimal TruncatedTo(Decimal step) const;
  // |this|; the one value without a positive twin (the lowest) gives the highest.
  constexpr Decimal Abs() const {
    return units_ >= 0 ? *this : units_ == INT64_MIN ? Decimal(INT64_MAX) : Decimal(-units_);
  }

 private:
  constexpr explicit Decimal(int64_t units) : units_(units) {}
  int64_t units_ = 0;
};

}  // namespace tradepipe::events
