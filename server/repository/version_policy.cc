#include "server/repository/version_policy.h"

#include <algorithm>
#include <functional>
#include <set>

namespace cortado {

std::vector<int64_t> CandidateVersions(const inference::ModelVersionPolicy& policy,
                                       std::vector<int64_t> on_disk) {
  std::sort(on_disk.begin(), on_disk.end(), std::greater<int64_t>());
  on_disk.erase(std::unique(on_disk.begin(), on_disk.end()), on_disk.end());
  if (policy.policy_choice_case() == inference::ModelVersionPolicy::kSpecific) {
    std::set<int64_t> listed(policy.specific().versions().begin(),
                             policy.specific().versions().end());
    std::vector<int64_t> out;
    for (int64_t v : on_disk) {
      if (listed.count(v)) out.push_back(v);
    }
    return out;
  }
  return on_disk;
}

size_t WantedVersionCount(const inference::ModelVersionPolicy& policy, size_t candidates) {
  switch (policy.policy_choice_case()) {
    case inference::ModelVersionPolicy::kAll:
    case inference::ModelVersionPolicy::kSpecific:
      return candidates;
    case inference::ModelVersionPolicy::kLatest:
      return std::min<size_t>(candidates, policy.latest().num_versions());
    case inference::ModelVersionPolicy::POLICY_CHOICE_NOT_SET:
      break;
  }
  return std::min<size_t>(candidates, 1);
}

std::vector<int64_t> SelectVersions(const inference::ModelVersionPolicy& policy,
                                    std::vector<int64_t> on_disk) {
  std::vector<int64_t> c = CandidateVersions(policy, std::move(on_disk));
  c.resize(WantedVersionCount(policy, c.size()));
  std::sort(c.begin(), c.end());
  return c;
}

}  // namespace cortado
