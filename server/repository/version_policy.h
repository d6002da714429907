// Version policy (Triton's version_policy): which of a model's versions should serve.
// latest { num_versions: N } serves the N highest versions that load, all serves every version
// that loads, specific { versions: [...] } serves the listed versions that exist and load.
// Pure functions; thread-safe.
#ifndef CORTADO_SERVER_REPOSITORY_VERSION_POLICY_H_
#define CORTADO_SERVER_REPOSITORY_VERSION_POLICY_H_

#include <cstdint>
#include <vector>

#include "model_config.pb.h"

namespace cortado {

// The versions to try, best first, from the versions found on disk: newest first for latest
// and all; for specific, the listed versions that exist, newest first.
std::vector<int64_t> CandidateVersions(const inference::ModelVersionPolicy& policy,
                                       std::vector<int64_t> on_disk);

// How many of the candidates should serve: num_versions for latest, every candidate otherwise.
size_t WantedVersionCount(const inference::ModelVersionPolicy& policy, size_t candidates);

// The versions that serve when every version on disk loads (CandidateVersions truncated to
// WantedVersionCount), ascending.
std::vector<int64_t> SelectVersions(const inference::ModelVersionPolicy& policy,
                                    std::vector<int64_t> on_disk);

}  // namespace cortado

#endif  // CORTADO_SERVER_REPOSITORY_VERSION_POLICY_H_
