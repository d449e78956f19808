#include "tradepipe/events/decimal.hpp"

#include <limits>

namespace tradepipe::events {
namespace {

Result<Decimal> OutOfRange() {
  return Result<Decimal>::Error("number out of range (at most 92233720368.54775807 in magnitude)");
}

}  // namespace

Result<Decimal> Decimal::Parse(std::string_view text) {
  if (text.empty()) return Result<Decimal>::Error("empty number");
  bool negative = false;
  size_t i = 0;
  if (text[0] == '-') {
    negative = true;
    i = 1;
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t whole = 0;
  size_t whole_digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++whole_digits) {
    const int digit = text[i] - '0';
    if (whole > (kMax / kOne - digit) / 10) return OutOfRange();
    whole = whole * 10 + digit;
  }
  if (whole_digits == 0) return Result<Decimal>::Error("not a decimal number: expected a digit");
  int64_t fraction = 0;
  int fraction_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (++fraction_digits > kScale) return Result<Decimal>::Error("more than 8 decimal places");
      fraction = fraction * 10 + (text[i] - '0');
    }
    if (fraction_digits == 0) return Result<Decimal>::Error("not a decimal number: no digit after '.'");
  }
  if (i != text.size()) return Result<Decimal>::Error("not a plain decimal number (exponents and signs not accepted)");
  for (int d = fraction_digits; d < kScale; ++d) fraction *= 10;
  if (whole > (kMax - fraction) / kOne) return OutOfRange();  // whole * kOne + fraction > kMax
  const int64_t units = whole * kOne + fraction;
  return Decimal(negative ? -units : units);
}

std::optional<Decimal> Decimal::CheckedAdd(Decimal o) const {
  int64_t sum = 0;
  if (__builtin_add_overflow(units_, o.units_, &sum)) return std::nullopt;
  return Decimal(sum);
}

std::optional<Decimal> Decimal::CheckedSub(Decimal o) const {
  int64_t difference = 0;
  if (__builtin_sub_overflow(units_, o.units_, &difference)) return std::nullopt;
  return Decimal(difference);
}

namespace {
__extension__ using Wide = __int128;  // GCC and Clang; the extension keeps -Wpedantic quiet
std::optional<Decimal> Narrow(Wide units) {
  if (units > INT64_MAX || units < INT64_MIN) return std::nullopt;
  return Decimal::FromUnits(static_cast<int64_t>(units));
}
}  // namespace

std::optional<Decimal> Decimal::CheckedMul(Decimal o) const {
  return Narrow(static_cast<Wide>(units_) * o.units_ / kOne);
}

std::optional<Decimal> Decimal::CheckedDiv(Decimal o) const {
  if (o.units_ == 0) return std::nullopt;
  return Narrow(static_cast<Wide>(units_) * kOne / o.units_);
}

Decimal Decimal::TruncatedTo(Decimal step) const {
  if (step.units_ <= 0) return *this;
  return Decimal(units_ / step.units_ * step.units_);
}

std::string Decimal::ToString() const {
  const bool negative = units_ < 0;
  // Magnitude as unsigned so INT64_MIN's negation is defined.
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(units_) : static_cast<uint64_t>(units_);
  std::string out = negative ? "-" : "";
  out += std::to_string(magnitude / kOne);
  uint64_t fraction = magnitude % kOne;
  if (fraction != 0) {
    std::string digits = std::to_string(fraction);
    digits.insert(0, static_cast<size_t>(kScale) - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += '.' + digits;
  }
  return out;
}

}  // namespace tradepipe::events
