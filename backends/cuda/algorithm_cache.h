// AlgorithmCache: the answer of an expensive search made once per key (cuDNN's benchmark of
// convolution algorithms, once per input shape) and reused by every later call with that key,
// from any run. Searches are serialized: a caller that finds its key missing searches while
// holding the cache, so concurrent first calls with one shape search once. A failed search is
// not kept. Host-only (no CUDA headers), so that it is tested without a GPU. Thread-safe.
#ifndef CORTADO_BACKENDS_CUDA_ALGORITHM_CACHE_H_
#define CORTADO_BACKENDS_CUDA_ALGORITHM_CACHE_H_

#include <cstddef>
#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "core/status.h"

namespace cortado {

template <typename Value>
class AlgorithmCache {
 public:
  // The value for `key`, from `search()` the first time.
  template <typename Search>
  absl::StatusOr<Value> GetOrSearch(const std::string& key, Search search) {
    absl::MutexLock lock(&mu_);
    if (auto it = found_.find(key); it != found_.end()) return it->second;
    absl::StatusOr<Value> value = search();
    if (value.ok()) found_.emplace(key, *value);
    return value;
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return found_.size();
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, Value> found_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cortado

#endif  // CORTADO_BACKENDS_CUDA_ALGORITHM_CACHE_H_
