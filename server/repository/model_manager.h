// ModelManager: owns the loaded model versions of one repository and keeps them in step with the
// disk (TF Serving's Source -> Loader -> Manager). All loading and unloading runs on one
// background loader thread, never on request threads; in poll mode that thread also rescans the
// repository every poll_secs.
//
// Availability-preserving reloads:
// - A new version is loaded fully (Predictor built, configuration completed and checked) before
//   it takes traffic; the set of serving versions is then swapped whole (an immutable snapshot).
// - Requests hold a std::shared_ptr<const ModelVersion>: those in flight finish on the version
//   they started on, and a replaced version is freed when its last request ends.
// - A version that fails to load (corrupt file, unsupported operator, bad configuration) is
//   skipped: the version policy is applied to the versions that load, so the previous version
//   keeps serving. The reason is kept for RepositoryIndex, logged and counted in the metrics; the
//   version is retried when its files or config.pbtxt change (or on an explicit Load).
// - A version whose files change while it loads (a copy still in progress) is not served; it is
//   retried at the next rescan. See RepositorySource for the publish procedure.
// - A config.pbtxt that does not parse makes a model that is not serving unavailable, with the
//   reason; a model already serving keeps its versions and shows the reason. Other models are
//   not affected.
//
// Thread-safe: every public method may be called from any thread. Load, Unload, LoadAll and Poll
// block until the loader thread has done the work.
#ifndef CORTADO_SERVER_REPOSITORY_MODEL_MANAGER_H_
#define CORTADO_SERVER_REPOSITORY_MODEL_MANAGER_H_

#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/status.h"
#include "grpc_service.pb.h"
#include "predictor/predictor.h"
#include "server/metrics.h"
#include "server/repository/model_config.h"
#include "server/repository/model_version.h"
#include "server/repository/source.h"
#include "server/scheduler/execution_threads.h"

namespace cortado {

struct ModelManagerOptions {
  std::string repository;
  bool poll = false;  // rescan the repository every poll_secs
  int poll_secs = 15;
  PredictorOptions predictor;
  Metrics* metrics = nullptr;  // optional; must outlive the manager
  GpuInventory gpus;           // what KIND_GPU instance groups may use
  // Optional; must outlive the manager. Loads run through it (without: on the loader thread with
  // the process's intra-op threads).
  ExecutionThreads* execution_threads = nullptr;
};

class ModelManager {
 public:
  // Checks the repository folder and starts the loader thread; loads nothing yet.
  static absl::StatusOr<std::unique_ptr<ModelManager>> Create(ModelManagerOptions options);
  ~ModelManager();  // stops the loader thread; versions live on while requests hold them
  ModelManager(const ModelManager&) = delete;
  ModelManager& operator=(const ModelManager&) = delete;

  // Brings every model in the repository in step with the disk (loads new and changed versions,
  // unloads removed ones). Returns the first error, if any; the other models are still loaded.
  absl::Status LoadAll();
  // One rescan, exactly as the poll timer does it (LoadAll without retrying unchanged failures).
  absl::Status Poll();
  // Loads (or reloads) one model, retrying versions that failed before. An error reports every
  // version that failed, even when an older version keeps serving.
  absl::Status Load(const std::string& name);
  // Stops serving every version of `name`; requests in flight finish first.
  absl::Status Unload(const std::string& name);
  // Stops the loader thread (pending Load calls fail with Unavailable). Idempotent.
  void Stop();

  // The serving version `version` of `name` ("" = the newest). InvalidArgument: bad name or
  // non-numeric version; NotFound: unknown model or version; Unavailable: the model is known but
  // has no version serving (the reason is in the message).
  absl::StatusOr<std::shared_ptr<const ModelVersion>> Get(const std::string& name,
                                                          const std::string& version) const;
  // Every serving version of `name`, ascending; empty when none.
  std::vector<std::shared_ptr<const ModelVersion>> Versions(const std::string& name) const;
  // Names of the models with at least one version serving, sorted.
  std::vector<std::string> ServingModels() const;
  // Whether `name` is known: in the repository folder or loaded.
  bool Known(const std::string& name) const;
  // Every model in the repository and every version the manager has dealt with: state READY,
  // LOADING or UNAVAILABLE with the reason; models never loaded appear with their name only.
  inference::RepositoryIndexResponse Index(bool ready_only) const;

  const std::string& repository() const { return source_.root(); }

 private:
  using VersionMap = std::map<int64_t, std::shared_ptr<const ModelVersion>>;
  using Serving = std::map<std::string, VersionMap>;

  struct VersionRecord {
    std::string state;  // READY, LOADING, UNAVAILABLE
    std::string reason;
    std::shared_ptr<const ModelVersion> handle;  // while serving
    std::string key;                             // what `handle` was loaded from
    std::string failed_key;                      // what last failed to load
  };
  struct ModelRecord {
    std::string reason;         // model-level problem (config.pbtxt, no versions, ...)
    std::string failed_config;  // config.pbtxt text that last failed to parse
    absl::Status last_status;   // the outcome of the last reconcile
    std::map<int64_t, VersionRecord> versions;
  };

  explicit ModelManager(ModelManagerOptions options);
  // Runs `fn` on the loader thread and waits for its result.
  absl::Status RunOnLoader(std::function<absl::Status()> fn);
  void LoaderLoop();
  bool LoaderHasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(loader_mu_);

  // What loading the wanted versions of one model came to.
  struct LoadOutcome {
    VersionMap taken;                            // serves once the set is swapped
    std::map<int64_t, std::string> keys;         // what each taken version was loaded from
    std::map<int64_t, std::string> kept_reason;  // taken versions whose reload failed
    std::map<int64_t, std::pair<std::string, std::string>> failed;  // version -> (key, reason)
    std::vector<std::string> failures;                              // "version N: reason"
    bool retry_later = false;  // a version's files changed while loading
  };

  // Loader thread only.
  absl::Status ReconcileAll(bool force);
  // Brings one model in step with its folder, in the named steps below.
  absl::Status Reconcile(const std::string& name, bool force);
  // Reads the model's folder; a folder that is gone removes the model.
  absl::StatusOr<ModelDir> ReadModelFolder(const std::string& name);
  // config.pbtxt (or the defaults), with the version policy filled in. A config that does not
  // parse is recorded and returned as the error; the loaded versions keep serving.
  absl::StatusOr<inference::ModelConfig> ParseConfig(const ModelDir& dir, const ModelRecord& rec,
                                                     bool none_serving, bool force);
  // Loads the newest `candidates` the policy wants, keeping versions already loaded from the
  // same files and skipping (unless `force`) those that failed from the same files.
  LoadOutcome LoadWantedVersions(const ModelDir& dir, const inference::ModelConfig& config,
                                 const std::vector<int64_t>& candidates, const ModelRecord& rec,
                                 bool force);
  // Publishes `taken` if it differs from `serving`; returns the versions no longer served.
  std::vector<int64_t> SwapServing(const std::string& name, const VersionMap& serving,
                                   const VersionMap& taken);
  // The outcome as the model's status, and the model-level reason (empty when none).
  static absl::Status ModelStatus(const ModelDir& dir, const std::vector<int64_t>& candidates,
                                  const LoadOutcome& outcome, std::string* model_reason);
  // Brings the records (what Index reports, what is retried) in line with the outcome.
  void RecordOutcome(const ModelDir& dir, const LoadOutcome& outcome,
                     const std::vector<int64_t>& released, const absl::Status& status,
                     const std::string& model_reason);
  absl::StatusOr<std::shared_ptr<const ModelVersion>> LoadVersion(
      const std::string& name, const VersionDir& dir, const inference::ModelConfig& config,
      bool* retry_later);
  void Publish(const std::string& name, VersionMap versions);
  void RemoveModel(const std::string& name);
  void SetVersionState(const std::string& name, int64_t version, const std::string& state,
                       const std::string& reason);

  std::shared_ptr<const Serving> Snapshot() const;

  const ModelManagerOptions options_;
  const RepositorySource source_;

  mutable absl::Mutex serving_mu_;
  std::shared_ptr<const Serving> serving_ ABSL_GUARDED_BY(serving_mu_);

  mutable absl::Mutex mu_;  // records; written only by the loader thread
  std::map<std::string, ModelRecord> records_ ABSL_GUARDED_BY(mu_);

  struct Task {
    std::function<absl::Status()> fn;
    std::promise<absl::Status> done;
  };
  absl::Mutex loader_mu_;
  std::deque<Task> tasks_ ABSL_GUARDED_BY(loader_mu_);
  bool stopping_ ABSL_GUARDED_BY(loader_mu_) = false;
  std::thread loader_;
};

}  // namespace cortado

#endif  // CORTADO_SERVER_REPOSITORY_MODEL_MANAGER_H_
