#include "tradepipe/log/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace tradepipe::log {
namespace {

TEST(Log, TextLinesCarryLevelAndService) {
  std::ostringstream out;
  auto logger = MakeLogger("gw", "info", "text", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  logger->info("listening port={}", 8001);
  const std::string line = out.str();
  EXPECT_NE(line.find("level=info service=gw listening port=8001"), std::string::npos) << line;
}

TEST(Log, JsonLinesEscapeTheMessage) {
  std::ostringstream out;
  auto logger = MakeLogger("gw", "info", "json", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  logger->warn("bad \"input\"\nline");
  const std::string line = out.str();
  EXPECT_NE(line.find(R"("level":"warning","service":"gw","msg":"bad \"input\"\nline"})"), std::string::npos) << line;
}

TEST(Log, LevelFiltersLowerMessages) {
  std::ostringstream out;
  auto logger = MakeLogger("gw", "warn", "text", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  logger->info("hidden");
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace tradepipe::log
