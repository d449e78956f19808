#include "tradepipe/events/subject.hpp"

namespace tradepipe::events {
namespace {

bool NeedsEncoding(unsigned char c) { return c <= 0x20 || c == 0x7f || c == '.' || c == '*' || c == '>' || c == '%'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

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

std::string DecodeToken(std::string_view token) {
  if (token == "%00") return {};
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '%' && i + 2 < token.size() && HexValue(token[i + 1]) >= 0 && HexValue(token[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(token[i + 1]) * 16 + HexValue(token[i + 2]));
      i += 2;
    } else {
      out += token[i];
    }
  }
  return out;
}

std::string SignalSubject(std::string_view source, std::string_view symbol) {
  return "signals." + EncodeToken(source) + "." + EncodeToken(symbol);
}
std::string OrderSubject(std::string_view symbol) { return "orders.new." + EncodeToken(symbol); }
std::string RejectionSubject(std::string_view symbol) { return "orders.rejected." + EncodeToken(symbol); }
std::string FillSubject(std::string_view symbol) { return "exec.fill." + EncodeToken(symbol); }
std::string ReportSubject(std::string_view symbol) { return "exec.report." + EncodeToken(symbol); }

}  // namespace tradepipe::events
