// Result types for hot paths: errors are values, never exceptions (house style 6).
//
//   tradepipe::Status s = DoThing();
//   if (!s) log(s.error());
//   tradepipe::Result<int> r = Parse(text);
//   if (r) use(*r); else report(r.error());
//
// Thread-safety: plain values, no shared state.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace tradepipe {

// Success, or an error message meant for humans (logs, JSON error bodies).
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Error(std::string message) { return Status(std::move(message)); }

  explicit operator bool() const { return !error_.has_value(); }
  bool ok() const { return !error_.has_value(); }
  const std::string& error() const { return *error_; }

 private:
  explicit Status(std::string message) : error_(std::move(message)) {}
  std::optional<std::string> error_;
};

// A value or an error message.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design, like std::optional
  static Result Error(std::string message) { return Result(ErrorTag{}, std::move(message)); }

  explicit operator bool() const { return state_.index() == 0; }
  bool ok() const { return state_.index() == 0; }
  T& operator*() { return std::get<0>(state_); }
  const T& operator*() const { return std::get<0>(state_); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }
  const std::string& error() const { return std::get<1>(state_); }

 private:
  struct ErrorTag {};
  Result(ErrorTag, std::string message) : state_(std::in_place_index<1>, std::move(message)) {}
  std::variant<T, std::string> state_;
};

}  // namespace tradepipe
