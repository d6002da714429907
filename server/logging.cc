#include "server/logging.h"

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "spdlog/details/log_msg.h"
#include "spdlog/formatter.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace cortado {
namespace {

constexpr char kAccessLogger[] = "access";

absl::Mutex g_mu;
std::shared_ptr<spdlog::logger> g_access ABSL_GUARDED_BY(g_mu);
std::atomic<bool> g_access_enabled{false};
std::atomic<LogFormat> g_format{LogFormat::kText};

// "2024-01-02T03:04:05.678Z"
void AppendTime(std::chrono::system_clock::time_point t, spdlog::memory_buf_t& dest) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  time_t secs = static_cast<time_t>(ms / 1000);
  tm parts;
  gmtime_r(&secs, &parts);
  char buf[40];
  int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                        parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                        parts.tm_min, parts.tm_sec, static_cast<int>(ms % 1000));
  dest.append(buf, buf + n);
}

void Append(spdlog::memory_buf_t& dest, absl::string_view s) {
  dest.append(s.data(), s.data() + s.size());
}

absl::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

class TextFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    AppendTime(msg.time, dest);
    Append(dest, " ");
    Append(dest, LevelName(msg.level));
    Append(dest, " ");
    Append(dest, absl::string_view(msg.payload.data(), msg.payload.size()));
    Append(dest, "\n");
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }
};

// Messages of the access logger are already JSON members ("k":v,...) and are spliced in.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    absl::string_view payload(msg.payload.data(), msg.payload.size());
    Append(dest, "{\"time\":\"");
    AppendTime(msg.time, dest);
    Append(dest, "\",\"level\":\"");
    Append(dest, LevelName(msg.level));
    if (absl::string_view(msg.logger_name.data(), msg.logger_name.size()) == kAccessLogger) {
      Append(dest, "\",\"msg\":\"access\",");
      Append(dest, payload);
      Append(dest, "}\n");
    } else {
      Append(dest, "\",\"msg\":\"");
      Append(dest, JsonEscape(payload));
      Append(dest, "\"}\n");
    }
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// Text values with spaces, quotes or '=' are quoted so each line still splits into k=v pairs.
std::string TextValue(absl::string_view v) {
  bool plain = !v.empty();
  for (char c : v) plain = plain && c != ' ' && c != '"' && c != '=' && c >= 0x20;
  return plain ? std::string(v) : absl::StrCat("\"", JsonEscape(v), "\"");
}

}  // namespace

std::string JsonEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log format '", name, "' (expected text or json)"));
}

absl::Status InitLogging(const LogOptions& options) {
  spdlog::level::level_enum level;
  if (options.level == "trace") {
    level = spdlog::level::trace;
  } else if (options.level == "debug") {
    level = spdlog::level::debug;
  } else if (options.level == "info") {
    level = spdlog::level::info;
  } else if (options.level == "warn" || options.level == "warning") {
    level = spdlog::level::warn;
  } else if (options.level == "error") {
    level = spdlog::level::err;
  } else if (options.level == "critical") {
    level = spdlog::level::critical;
  } else if (options.level == "off") {
    level = spdlog::level::off;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown log level '", options.level,
        "' (expected trace, debug, info, warn, error, critical or off)"));
  }
  std::shared_ptr<spdlog::sinks::sink> sink = options.sink;
  if (!sink) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (options.format == LogFormat::kJson) {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink->set_formatter(std::make_unique<TextFormatter>());
  }
  auto main_logger = std::make_shared<spdlog::logger>("cortado", sink);
  main_logger->set_level(level);
  main_logger->flush_on(spdlog::level::trace);
  auto access = std::make_shared<spdlog::logger>(kAccessLogger, sink);
  access->set_level(spdlog::level::info);
  access->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(main_logger);
  {
    absl::MutexLock lock(&g_mu);
    g_access = access;
  }
  g_format = options.format;
  g_access_enabled = options.access_log;
  return absl::OkStatus();
}

bool AccessLogEnabled() { return g_access_enabled.load(std::memory_order_relaxed); }

void LogAccess(const AccessRecord& r) {
  if (!AccessLogEnabled()) return;
  std::shared_ptr<spdlog::logger> logger;
  {
    absl::MutexLock lock(&g_mu);
    logger = g_access;
  }
  if (!logger) return;
  char latency[32];
  std::snprintf(latency, sizeof(latency), "%.3f", r.latency_ms);
  std::string line;
  if (g_format == LogFormat::kJson) {
    line = absl::StrCat("\"protocol\":\"", JsonEscape(r.protocol), "\",\"method\":\"",
                        JsonEscape(r.method), "\",\"model\":\"", JsonEscape(r.model),
                        "\",\"version\":\"", JsonEscape(r.version), "\",\"id\":\"",
                        JsonEscape(r.id), "\",\"status\":\"", JsonEscape(r.status),
                        "\",\"latency_ms\":", latency);
  } else {
    line = absl::StrCat("access protocol=", TextValue(r.protocol), " method=",
                        TextValue(r.method), " model=", TextValue(r.model),
                        " version=", TextValue(r.version), " id=", TextValue(r.id),
                        " status=", TextValue(r.status), " latency_ms=", latency);
  }
  logger->info("{}", line);
}

}  // namespace cortado
