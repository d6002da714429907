// ModelVersion: one loaded version of a model — its completed configuration, its instances (one
// Predictor per device they run on: the CPU's, each GPU's, each with its own weights, shared by
// every instance on that device), its ExecutionQueue (one slot per instance) and its serving
// statistics. Handed out as std::shared_ptr<const ModelVersion>: the ModelManager holds one while
// the version serves, and every request holds one until it has been answered, so a version that
// is replaced is freed when its last request ends. Immutable after construction except for the
// statistics, which are internally synchronized; thread-safe.
#ifndef CORTADO_SERVER_REPOSITORY_MODEL_VERSION_H_
#define CORTADO_SERVER_REPOSITORY_MODEL_VERSION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpc_service.pb.h"
#include "model_config.pb.h"
#include "predictor/predictor.h"
#include "server/metrics.h"
#include "server/scheduler/scheduler.h"

namespace cortado {

// KServe v2 statistics of one model version (ModelStatistics in grpc_service.proto).
class VersionStats {
 public:
  struct Times {  // nanoseconds
    uint64_t request = 0, queue = 0, compute_input = 0, compute_infer = 0, compute_output = 0;
  };
  // One run of the model on a batch of `batch_size` inferences (Triton's execution_count,
  // inference_count and batch_stats); the times are the batch's, request and queue unused.
  void RecordExecution(uint64_t batch_size, const Times& times);
  // One request answered from an execution; the compute times are its batch's (as Triton's).
  void RecordSuccess(const Times& times, uint64_t now_ms);
  void RecordFailure(uint64_t request_ns, uint64_t now_ms);
  void Fill(inference::ModelStatistics* stats) const;

 private:
  struct Batch {
    uint64_t count = 0, input_ns = 0, infer_ns = 0, output_ns = 0;
  };
  mutable absl::Mutex mu_;
  uint64_t last_inference_ms_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t inference_count_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t execution_count_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t success_count_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t fail_count_ ABSL_GUARDED_BY(mu_) = 0;
  Times success_ns_ ABSL_GUARDED_BY(mu_);
  uint64_t fail_ns_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, Batch> batches_ ABSL_GUARDED_BY(mu_);
};

class ModelVersion {
 public:
  // `instances`: the Predictor each instance runs (InstanceGpus order; at least one).
  ModelVersion(std::string name, int64_t version, inference::ModelConfig config,
               std::vector<std::shared_ptr<const Predictor>> instances, Metrics* metrics);
  ~ModelVersion();  // logs the release and removes the version's metric series
  ModelVersion(const ModelVersion&) = delete;
  ModelVersion& operator=(const ModelVersion&) = delete;

  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }
  const std::string& version_string() const { return version_string_; }
  const inference::ModelConfig& config() const { return config_; }
  // The Predictor of instance `instance` (0 to queue()->max_concurrency() - 1), the one the
  // queue's batches run on.
  const Predictor& predictor(int instance) const { return *instances_[instance]; }
  const std::shared_ptr<ExecutionQueue>& queue() const { return queue_; }
  VersionStats& stats() const { return stats_; }
  // The version's metric series, or null when the manager runs without metrics.
  const Metrics::Version* metrics() const { return metrics_; }

 private:
  const std::string name_;
  const int64_t version_;
  const std::string version_string_;
  const inference::ModelConfig config_;
  const std::vector<std::shared_ptr<const Predictor>> instances_;
  const std::shared_ptr<ExecutionQueue> queue_;
  mutable VersionStats stats_;
  const Metrics::Version* metrics_ = nullptr;
  Metrics* const registry_;  // where metrics_ is registered (null: none); outlives this
};

}  // namespace cortado

#endif  // CORTADO_SERVER_REPOSITORY_MODEL_VERSION_H_
