#include "server/logging.h"

#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"

namespace cortado {
namespace {

class LoggingTest : public ::testing::Test {
 protected:
  void Init(LogFormat format, bool access, const std::string& level = "info") {
    LogOptions o;
    o.format = format;
    o.access_log = access;
    o.level = level;
    o.sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    ASSERT_TRUE(InitLogging(o).ok());
  }
  std::vector<std::string> Lines() {
    std::vector<std::string> lines = absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
    return lines;
  }
  std::ostringstream out_;
};

AccessRecord Record() {
  AccessRecord r;
  r.protocol = "grpc";
  r.method = "infer";
  r.model = "m";
  r.version = "2";
  r.id = "a \"quoted\" id";
  r.status = "OK";
  r.latency_ms = 1.25;
  return r;
}

TEST_F(LoggingTest, TextLines) {
  Init(LogFormat::kText, /*access=*/true);
  spdlog::info("hello {}", 42);
  spdlog::debug("not shown at info");
  LogAccess(Record());
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u) << out_.str();
  EXPECT_TRUE(absl::EndsWith(lines[0], " info hello 42")) << lines[0];
  EXPECT_TRUE(absl::StrContains(
      lines[1],
      "info access protocol=grpc method=infer model=m version=2 id=\"a \\\"quoted\\\" id\" "
      "status=OK latency_ms=1.250"))
      << lines[1];
}

TEST_F(LoggingTest, JsonLines) {
  Init(LogFormat::kJson, /*access=*/true, "debug");
  spdlog::warn("tab\there \"q\" back\\slash");
  spdlog::debug("shown at debug");
  LogAccess(Record());
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 3u) << out_.str();
  EXPECT_TRUE(absl::StartsWith(lines[0], "{\"time\":\"")) << lines[0];
  EXPECT_TRUE(absl::EndsWith(
      lines[0], "\",\"level\":\"warn\",\"msg\":\"tab\\there \\\"q\\\" back\\\\slash\"}"))
      << lines[0];
  EXPECT_TRUE(absl::StrContains(lines[1], "\"level\":\"debug\"")) << lines[1];
  EXPECT_TRUE(absl::EndsWith(
      lines[2],
      "\"level\":\"info\",\"msg\":\"access\",\"protocol\":\"grpc\",\"method\":\"infer\","
      "\"model\":\"m\",\"version\":\"2\",\"id\":\"a \\\"quoted\\\" id\",\"status\":\"OK\","
      "\"latency_ms\":1.250}"))
      << lines[2];
}

TEST_F(LoggingTest, AccessLogIsOptional) {
  Init(LogFormat::kText, /*access=*/false);
  EXPECT_FALSE(AccessLogEnabled());
  LogAccess(Record());
  EXPECT_TRUE(out_.str().empty()) << out_.str();
}

TEST(LoggingOptionsTest, BadLevelAndFormat) {
  LogOptions o;
  o.level = "loud";
  EXPECT_EQ(InitLogging(o).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseLogFormat("xml").ok());
  EXPECT_EQ(ParseLogFormat("json").value(), LogFormat::kJson);
  EXPECT_EQ(JsonEscape("a\nb\x01"), "a\\nb\\u0001");
}

}  // namespace
}  // namespace cortado
