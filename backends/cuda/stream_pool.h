// StreamPool: one run's device queue and what goes with it (for CUDA: a stream, its cuBLAS and
// cuDNN handles, a pinned staging buffer), lent to one run at a time and kept for the next, so
// steady traffic creates none: Take gives an idle one or makes one, Give takes it back once the
// run has drained it. As many exist as runs were ever in flight at once. Host-only (the CUDA
// backend instantiates it with its StreamState), so that it is tested without a GPU. Thread-safe.
#ifndef CORTADO_BACKENDS_CUDA_STREAM_POOL_H_
#define CORTADO_BACKENDS_CUDA_STREAM_POOL_H_

#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/status.h"

namespace cortado {

template <typename State>
class StreamPool {
 public:
  // An idle state, or a new one from `make()` when all are lent.
  template <typename Make>
  absl::StatusOr<std::unique_ptr<State>> Take(Make make) {
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        std::unique_ptr<State> s = std::move(idle_.back());
        idle_.pop_back();
        return s;
      }
    }
    return make();
  }
  void Give(std::unique_ptr<State> s) {
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(s));
  }
  size_t idle() const {
    absl::MutexLock lock(&mu_);
    return idle_.size();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<State>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cortado

#endif  // CORTADO_BACKENDS_CUDA_STREAM_POOL_H_
