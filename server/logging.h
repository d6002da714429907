// Logging for the daemon, on spdlog: one process-wide logger writing lines to stderr, either as
// text ("2024-01-02T03:04:05.678Z info message") or as JSON lines
// ({"time":"...","level":"info","msg":"..."}), and an optional access log of one line per
// request (model, version, protocol, status, latency) on the same stream.
// Code logs through spdlog's free functions (spdlog::info(...)) once InitLogging has run; before
// that spdlog's default logger is used. Thread-safe.
#ifndef CORTADO_SERVER_LOGGING_H_
#define CORTADO_SERVER_LOGGING_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "core/status.h"
#include "spdlog/fmt/fmt.h"
#include "spdlog/sinks/sink.h"

// Lets spdlog format absl::string_view (Debian's absl has its own, not std::string_view), so
// that status.message() can be logged directly.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};

namespace cortado {

enum class LogFormat { kText, kJson };

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  LogFormat format = LogFormat::kText;
  bool access_log = false;
  // Where lines go; null: stderr. Tests pass their own sink.
  std::shared_ptr<spdlog::sinks::sink> sink;
};

// Replaces the default logger. InvalidArgument for an unknown level.
absl::Status InitLogging(const LogOptions& options);
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);

bool AccessLogEnabled();

struct AccessRecord {
  absl::string_view protocol;  // "grpc" | "http"
  absl::string_view method;    // "infer", "ready", ... (the operation)
  absl::string_view model;
  absl::string_view version;
  absl::string_view id;        // the request id, if any
  absl::string_view status;    // "OK", "INVALID_ARGUMENT", or an HTTP status such as "404"
  double latency_ms = 0;
};

// Writes one access-log line when the access log is enabled (a no-op otherwise). Who logs what:
// the InferenceService logs every inference request that reaches it (method "infer", status the
// absl code name, with the version that served it), for both protocols; the adapters log their
// other endpoints and the inference requests they reject before handing off (malformed body,
// size limit), with the status they answer. Text:
//   access protocol=grpc method=infer model=m version=1 id= status=OK latency_ms=0.412
// JSON: {"time":...,"level":"info","msg":"access","protocol":"grpc",...,"latency_ms":0.412}
void LogAccess(const AccessRecord& record);

// `s` escaped for use inside a JSON string (quotes not included).
std::string JsonEscape(absl::string_view s);

}  // namespace cortado

#endif  // CORTADO_SERVER_LOGGING_H_
