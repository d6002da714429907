// Restricted API categories, as Triton's --http-restricted-api and --grpc-restricted-protocol
// define them: "CATEGORY[,CATEGORY...]:KEY=VALUE" makes the endpoints of those categories answer
// only requests that carry header KEY (case-insensitive name) with exactly VALUE; others get
// PermissionDenied (HTTP 403, gRPC PERMISSION_DENIED) without the expected value in the
// message. Categories: health, metadata, inference, shared-memory, model-config,
// model-repository, statistics, trace, logging. A value; thread-safe to read.
#ifndef CORTADO_SERVER_RESTRICTED_API_H_
#define CORTADO_SERVER_RESTRICTED_API_H_

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cortado {

enum class ApiCategory {
  kHealth,
  kMetadata,
  kInference,
  kSharedMemory,
  kModelConfig,
  kModelRepository,
  kStatistics,
  kTrace,
  kLogging,
};

class RestrictedApis {
 public:
  // A request header's value by name (names compared case-insensitively), or nullopt.
  using HeaderLookup = std::function<std::optional<std::string>(absl::string_view name)>;

  // Adds one flag value. InvalidArgument for an unknown category, a missing KEY=VALUE, an empty
  // key, or a category already restricted.
  absl::Status Add(absl::string_view spec);
  // OK when `category` is not restricted or `header` carries its key and value.
  absl::Status Check(ApiCategory category, const HeaderLookup& header) const;
  bool empty() const { return rules_.empty(); }

 private:
  struct Rule {
    std::string key;  // lower case
    std::string value;
  };
  std::map<ApiCategory, Rule> rules_;
};

}  // namespace cortado

#endif  // CORTADO_SERVER_RESTRICTED_API_H_
