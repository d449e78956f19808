#include "tradepipe/events/subject.hpp"

#include "tradepipe/common/percent.hpp"

namespace tradepipe::events {
namespace {

bool NeedsEncoding(unsigned char c) { return c <= 0x20 || c == 0x7f || c == '.' || c == '*' || c == '>' || c == '%'; }

}  // namespace

std::string SymbolProblem(std::string_view symbol) {
  if (symbol.empty()) return "required";
  if (symbol.size() > kMaxSymbolLength) return "longer than " + std::to_string(kMaxSymbolLength) + " characters";
  for (const char c : symbol) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("._-/:!=^&+").find(c) == std::string_view::npos) {
      return "only letters, digits and . _ - / : ! = ^ & + are allowed";
    }
  }
  return {};
}

std::string EncodeToken(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (NeedsEncoding(c)) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  if (out.empty()) out = "%00";  // an empty token would make an invalid subject
  return out;
}

std::string DecodeToken(std::string_view token) { return token == "%00" ? std::string() : PercentDecode(token); }

std::string SignalSubject(std::string_view source, std::string_view symbol) {
  return "signals." + EncodeToken(source) + "." + EncodeToken(symbol);
}
std::string OrderSubject(std::string_view symbol) { return "orders.new." + EncodeToken(symbol); }
std::string RejectionSubject(std::string_view symbol) { return "orders.rejected." + EncodeToken(symbol); }
std::string FillSubject(std::string_view symbol) { return "exec.fill." + EncodeToken(symbol); }
std::string ReportSubject(std::string_view symbol) { return "exec.report." + EncodeToken(symbol); }

std::string CancelSubject(std::string_view symbol) { return "orders.cancel." + EncodeToken(symbol); }

}  // namespace tradepipe::events
