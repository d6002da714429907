#include "server/restricted_api.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cortado {
namespace {

struct CategoryName {
  ApiCategory category;
  const char* name;
};
constexpr CategoryName kCategories[] = {
    {ApiCategory::kHealth, "health"},
    {ApiCategory::kMetadata, "metadata"},
    {ApiCategory::kInference, "inference"},
    {ApiCategory::kSharedMemory, "shared-memory"},
    {ApiCategory::kModelConfig, "model-config"},
    {ApiCategory::kModelRepository, "model-repository"},
    {ApiCategory::kStatistics, "statistics"},
    {ApiCategory::kTrace, "trace"},
    {ApiCategory::kLogging, "logging"},
};

const char* NameOf(ApiCategory category) {
  for (const CategoryName& c : kCategories) {
    if (c.category == category) return c.name;
  }
  return "unknown";
}

}  // namespace

absl::Status RestrictedApis::Add(absl::string_view spec) {
  const size_t colon = spec.find(':');
  const size_t equals = spec.find('=', colon == absl::string_view::npos ? 0 : colon);
  if (colon == absl::string_view::npos || equals == absl::string_view::npos ||
      equals == colon + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("restricted API '", spec, "': expected CATEGORY[,CATEGORY...]:KEY=VALUE"));
  }
  Rule rule{absl::AsciiStrToLower(spec.substr(colon + 1, equals - colon - 1)),
            std::string(spec.substr(equals + 1))};
  for (absl::string_view name : absl::StrSplit(spec.substr(0, colon), ',')) {
    const CategoryName* found = nullptr;
    for (const CategoryName& c : kCategories) {
      if (name == c.name) found = &c;
    }
    if (found == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("restricted API: unknown category '", name,
                                                     "' (health, metadata, inference, "
                                                     "shared-memory, model-config, "
                                                     "model-repository, statistics, trace, "
                                                     "logging)"));
    }
    if (!rules_.emplace(found->category, rule).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("restricted API: category '", name, "' is restricted twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status RestrictedApis::Check(ApiCategory category, const HeaderLookup& header) const {
  auto it = rules_.find(category);
  if (it == rules_.end()) return absl::OkStatus();
  const std::optional<std::string> value = header(it->second.key);
  if (value && *value == it->second.value) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("the ", NameOf(category),
                                                  " API is restricted: it needs the header '",
                                                  it->second.key, "' with the right value"));
}

}  // namespace cortado
