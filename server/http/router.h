// Maps a KServe v2 HTTP request line (method and target) to an endpoint with its model name and
// version, percent-decoding path segments and refusing unsafe model names ("..", names with "/")
// and non-numeric versions. Pure functions: thread-safe.
#ifndef CORTADO_SERVER_HTTP_ROUTER_H_
#define CORTADO_SERVER_HTTP_ROUTER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "core/status.h"

namespace cortado {
namespace http {

enum class Endpoint {
  kServerMetadata,   // GET  /v2
  kServerLive,       // GET  /v2/health/live
  kServerReady,      // GET  /v2/health/ready
  kModelMetadata,    // GET  /v2/models/{m}[/versions/{v}]
  kModelReady,       // GET  /v2/models/{m}[/versions/{v}]/ready
  kModelConfig,      // GET  /v2/models/{m}[/versions/{v}]/config
  kModelStatistics,  // GET  /v2/models[/{m}[/versions/{v}]]/stats
  kModelInfer,       // POST /v2/models/{m}[/versions/{v}]/infer
  kRepositoryIndex,  // POST /v2/repository/index
  kModelLoad,        // POST /v2/repository/models/{m}/load
  kModelUnload,      // POST /v2/repository/models/{m}/unload
};

struct Route {
  Endpoint endpoint;
  bool post = false;    // the method the endpoint takes: POST, or GET (HEAD also allowed)
  std::string model;    // decoded; "" for server-wide endpoints (and all-model statistics)
  std::string version;  // decimal digits, or "" for the newest ready version
};

// `target` is the request target (path and optional query). NotFound for a path that is no
// endpoint; InvalidArgument for a bad model name or version, or bad percent-encoding.
absl::StatusOr<Route> ParseRoute(absl::string_view target);

// OK when `name` may name a model: not empty, not "." or "..", no '/', '\\' or NUL.
absl::Status ValidateModelName(absl::string_view name);

}  // namespace http
}  // namespace cortado

#endif  // CORTADO_SERVER_HTTP_ROUTER_H_
