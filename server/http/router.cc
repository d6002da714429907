#include "server/http/router.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace cortado {
namespace http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) {
      return absl::InvalidArgumentError(absl::StrCat("bad percent-encoding in '", s, "'"));
    }
    const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad percent-encoding in '", s, "'"));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Decodes path segments and joins them with '/' (which ValidateModelName then refuses: a model
// name spans one segment).
absl::StatusOr<std::string> ModelName(const std::vector<absl::string_view>& segments, size_t begin,
                                      size_t end) {
  std::vector<std::string> parts;
  for (size_t i = begin; i < end; ++i) {
    ASSIGN_OR_RETURN(std::string part, PercentDecode(segments[i]));
    parts.push_back(std::move(part));
  }
  std::string name = absl::StrJoin(parts, "/");
  RETURN_IF_ERROR(ValidateModelName(name));
  return name;
}

absl::StatusOr<std::string> Version(absl::string_view segment) {
  ASSIGN_OR_RETURN(std::string v, PercentDecode(segment));
  const bool digits = !v.empty() && v.size() <= 18 &&
                      std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    return absl::InvalidArgumentError(
        absl::StrCat("model version '", v, "' is not a number (versions are positive integers)"));
  }
  return v;
}

absl::Status NoEndpoint(absl::string_view path) {
  return absl::NotFoundError(absl::StrCat("no endpoint at '", path, "'"));
}

}  // namespace

absl::Status ValidateModelName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("the model name is empty");
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat("invalid model name '", name, "'"));
  }
  if (name.find_first_of(absl::string_view("/\\\0", 3)) != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid model name '", absl::CHexEscape(name),
                     "': a model name must not contain '/', '\\' or NUL"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Route> ParseRoute(absl::string_view target) {
  absl::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path == "/v2" || path == "/v2/") return Route{Endpoint::kServerMetadata};
  if (!absl::StartsWith(path, "/v2/")) return NoEndpoint(path);
  const std::vector<absl::string_view> seg = absl::StrSplit(path.substr(4), '/');
  const size_t n = seg.size();

  if (seg[0] == "health" && n == 2) {
    if (seg[1] == "live") return Route{Endpoint::kServerLive};
    if (seg[1] == "ready") return Route{Endpoint::kServerReady};
    return NoEndpoint(path);
  }

  if (seg[0] == "models" && n >= 2) {
    if (n == 2 && seg[1] == "stats") return Route{Endpoint::kModelStatistics};
    Route route{Endpoint::kModelMetadata};
    size_t end = n;  // segments [1, end) hold the model name
    if (n >= 3) {
      const absl::string_view action = seg[n - 1];
      if (action == "infer") {
        route.endpoint = Endpoint::kModelInfer;
        route.post = true;
        --end;
      } else if (action == "ready") {
        route.endpoint = Endpoint::kModelReady;
        --end;
      } else if (action == "config") {
        route.endpoint = Endpoint::kModelConfig;
        --end;
      } else if (action == "stats") {
        route.endpoint = Endpoint::kModelStatistics;
        --end;
      }
    }
    if (end >= 4 && seg[end - 2] == "versions") {
      ASSIGN_OR_RETURN(route.version, Version(seg[end - 1]));
      end -= 2;
    }
    ASSIGN_OR_RETURN(route.model, ModelName(seg, 1, end));
    return route;
  }

  if (seg[0] == "repository") {
    if (n == 2 && seg[1] == "index") return Route{Endpoint::kRepositoryIndex, /*post=*/true};
    if (n >= 4 && seg[1] == "models" && (seg[n - 1] == "load" || seg[n - 1] == "unload")) {
      Route route{seg[n - 1] == "load" ? Endpoint::kModelLoad : Endpoint::kModelUnload,
                  /*post=*/true};
      ASSIGN_OR_RETURN(route.model, ModelName(seg, 2, n - 1));
      return route;
    }
  }
  return NoEndpoint(path);
}

}  // namespace http
}  // namespace cortado
