#include "server/repository/model_manager.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "predictor/model_io.h"
#include "server/exception_status.h"
#include "server/logging.h"
#include "server/repository/model_config.h"
#include "server/repository/version_policy.h"
#include "spdlog/spdlog.h"

namespace cortado {
namespace {

constexpr char kReady[] = "READY";
constexpr char kLoading[] = "LOADING";
constexpr char kUnavailable[] = "UNAVAILABLE";

// The backends a plan for instances on GPU `gpu` (-1: the CPU) may use, from `allowed` (every
// registered one when empty), which names GPU 0's CUDA backends: none of them on the CPU; on GPU
// g, each swapped for its twin there (DeviceBackendName); other GPUs' left out.
absl::StatusOr<std::vector<std::string>> BackendsOn(const std::vector<std::string>& allowed,
                                                    int gpu) {
  std::vector<std::string> out;
  for (const Backend* b : BackendRegistry::Global().ByPriority()) {
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), b->name()) == allowed.end()) {
      continue;
    }
    if (b->device().type != DeviceType::kCuda) {
      out.push_back(b->name());
      continue;
    }
    if (gpu < 0 || b->device().index != 0) continue;
    const std::string twin = DeviceBackendName(b->name(), gpu);
    const Backend* on = BackendRegistry::Global().Find(twin);
    if (on == nullptr || on->device() != Device{DeviceType::kCuda, gpu}) {
      return absl::InvalidArgumentError(absl::StrCat("GPU ", gpu, " has no backend '", twin,
                                                     "' (the twin of '", b->name(), "')"));
    }
    out.push_back(twin);
  }
  return out;
}

std::string VersionList(const std::vector<int64_t>& versions) {
  return absl::StrJoin(versions, ", ");
}

}  // namespace

absl::StatusOr<std::unique_ptr<ModelManager>> ModelManager::Create(ModelManagerOptions options) {
  RepositorySource source(options.repository);
  RETURN_IF_ERROR(source.CheckRoot());
  if (options.poll_secs < 1) options.poll_secs = 1;
  std::unique_ptr<ModelManager> manager(new ModelManager(std::move(options)));
  manager->loader_ = std::thread([m = manager.get()] { m->LoaderLoop(); });
  return manager;
}

ModelManager::ModelManager(ModelManagerOptions options)
    : options_(std::move(options)),
      source_(options_.repository),
      serving_(std::make_shared<const Serving>()) {}

ModelManager::~ModelManager() { Stop(); }

void ModelManager::Stop() {
  {
    absl::MutexLock lock(&loader_mu_);
    stopping_ = true;
  }
  if (loader_.joinable()) loader_.join();
}

absl::Status ModelManager::RunOnLoader(std::function<absl::Status()> fn) {
  std::future<absl::Status> result;
  {
    absl::MutexLock lock(&loader_mu_);
    if (stopping_) return absl::UnavailableError("the model manager is shutting down");
    tasks_.push_back(Task{std::move(fn), {}});
    result = tasks_.back().done.get_future();
  }
  return result.get();
}

bool ModelManager::LoaderHasWork() const { return stopping_ || !tasks_.empty(); }

void ModelManager::LoaderLoop() {
  absl::Time next_poll = absl::Now() + absl::Seconds(options_.poll_secs);
  for (;;) {
    Task task;
    bool poll_now = false;
    {
      absl::MutexLock lock(&loader_mu_);
      if (options_.poll) {
        loader_mu_.AwaitWithDeadline(absl::Condition(this, &ModelManager::LoaderHasWork),
                                     next_poll);
      } else {
        loader_mu_.Await(absl::Condition(this, &ModelManager::LoaderHasWork));
      }
      if (stopping_) {
        for (Task& t : tasks_) {
          t.done.set_value(absl::UnavailableError("the model manager is shutting down"));
        }
        tasks_.clear();
        return;
      }
      if (!tasks_.empty()) {
        task = std::move(tasks_.front());
        tasks_.pop_front();
      } else {
        poll_now = options_.poll && absl::Now() >= next_poll;
      }
    }
    if (task.fn) {
      task.done.set_value(task.fn());
    } else if (poll_now) {
      ReconcileAll(/*force=*/false).IgnoreError();
      next_poll = absl::Now() + absl::Seconds(options_.poll_secs);
    }
  }
}

absl::Status ModelManager::LoadAll() {
  return RunOnLoader([this] { return ReconcileAll(/*force=*/false); });
}

absl::Status ModelManager::Poll() {
  return RunOnLoader([this] { return ReconcileAll(/*force=*/false); });
}

absl::Status ModelManager::Load(const std::string& name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  return RunOnLoader([this, name] { return Reconcile(name, /*force=*/true); });
}

absl::Status ModelManager::Unload(const std::string& name) {
  RETURN_IF_ERROR(ValidateModelName(name));
  return RunOnLoader([this, name]() -> absl::Status {
    bool known;
    {
      absl::MutexLock lock(&mu_);
      known = records_.count(name) > 0;
    }
    if (!known && !source_.HasModelFolder(name)) {
      return absl::NotFoundError(absl::StrCat("unknown model '", name, "'"));
    }
    Publish(name, {});
    absl::MutexLock lock(&mu_);
    ModelRecord& rec = records_[name];
    rec.reason.clear();
    rec.last_status = absl::OkStatus();
    for (auto& [v, vr] : rec.versions) {
      vr.handle.reset();
      vr.key.clear();
      vr.failed_key.clear();
      vr.state = kUnavailable;
      vr.reason = "unloaded";
    }
    spdlog::info("model '{}' unloaded", name);
    return absl::OkStatus();
  });
}

absl::Status ModelManager::ReconcileAll(bool force) {
  auto names = source_.ListModels();
  if (!names.ok()) {
    spdlog::error("cannot read the model repository: {}", names.status().message());
    return names.status();
  }
  absl::Status first;
  std::set<std::string> on_disk(names->begin(), names->end());
  for (const std::string& name : *names) {
    absl::Status s = Reconcile(name, force);
    if (first.ok() && !s.ok()) first = s;
  }
  std::vector<std::string> gone;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, rec] : records_) {
      if (!on_disk.count(name)) gone.push_back(name);
    }
  }
  for (const std::string& name : gone) RemoveModel(name);
  return first;
}

void ModelManager::RemoveModel(const std::string& name) {
  Publish(name, {});
  absl::MutexLock lock(&mu_);
  if (records_.erase(name)) {
    spdlog::info("model '{}' removed from the repository; unloaded", name);
  }
}

void ModelManager::SetVersionState(const std::string& name, int64_t version,
                                   const std::string& state, const std::string& reason) {
  absl::MutexLock lock(&mu_);
  VersionRecord& vr = records_[name].versions[version];
  vr.state = state;
  vr.reason = reason;
}

// Reconcile is a list of named steps: read the folder, parse config.pbtxt, load the versions the
// policy wants, swap the serving set, work out the model's status, record the outcome.
absl::Status ModelManager::Reconcile(const std::string& name, bool force) {
  ASSIGN_OR_RETURN(ModelDir dir, ReadModelFolder(name));
  ModelRecord rec;
  {
    absl::MutexLock lock(&mu_);
    rec = records_[name];
  }
  VersionMap serving;
  for (const auto& [v, vr] : rec.versions) {
    if (vr.handle) serving[v] = vr.handle;
  }
  ASSIGN_OR_RETURN(inference::ModelConfig config, ParseConfig(dir, rec, serving.empty(), force));
  std::vector<int64_t> on_disk;
  for (const VersionDir& v : dir.versions) on_disk.push_back(v.version);
  const std::vector<int64_t> candidates = CandidateVersions(config.version_policy(), on_disk);
  const LoadOutcome outcome = LoadWantedVersions(dir, config, candidates, rec, force);
  const std::vector<int64_t> released = SwapServing(name, serving, outcome.taken);
  std::string model_reason;
  const absl::Status status = ModelStatus(dir, candidates, outcome, &model_reason);
  RecordOutcome(dir, outcome, released, status, model_reason);
  for (int64_t v : released) {
    spdlog::info("model '{}' version {} unloaded; it is freed once its last request ends", name, v);
  }
  return status;
}

absl::StatusOr<ModelDir> ModelManager::ReadModelFolder(const std::string& name) {
  auto dir = source_.ReadModel(name);
  if (dir.ok()) return dir;
  if (absl::IsNotFound(dir.status())) {
    RemoveModel(name);
  } else {
    spdlog::error("model '{}': {}", name, dir.status().message());
    absl::MutexLock lock(&mu_);
    records_[name].reason = std::string(dir.status().message());
  }
  return dir.status();
}

absl::StatusOr<inference::ModelConfig> ModelManager::ParseConfig(const ModelDir& dir,
                                                                 const ModelRecord& rec,
                                                                 bool none_serving, bool force) {
  inference::ModelConfig parsed;
  if (dir.has_config) {
    auto config = ParseModelConfig(dir.config_text);
    if (!config.ok()) {
      // The same broken text as last time: nothing new to report.
      if (!force && rec.failed_config == dir.config_text && !rec.last_status.ok()) {
        return rec.last_status;
      }
      absl::Status status = absl::InvalidArgumentError(
          absl::StrCat("model '", dir.name, "': ", config.status().message()));
      if (none_serving) {
        spdlog::error("{}; the model is unavailable", status.message());
      } else {
        spdlog::error("{}; its loaded versions keep serving", status.message());
      }
      if (options_.metrics) options_.metrics->ModelLoadFailed(dir.name, "", status.code());
      absl::MutexLock lock(&mu_);
      ModelRecord& r = records_[dir.name];
      r.reason = std::string(config.status().message());
      r.failed_config = dir.config_text;
      r.last_status = status;
      return status;
    }
    parsed = *std::move(config);
  }
  if (!parsed.has_version_policy()) {
    parsed.mutable_version_policy()->mutable_latest()->set_num_versions(1);
  }
  return parsed;
}

ModelManager::LoadOutcome ModelManager::LoadWantedVersions(const ModelDir& dir,
                                                           const inference::ModelConfig& config,
                                                           const std::vector<int64_t>& candidates,
                                                           const ModelRecord& rec, bool force) {
  const std::string& name = dir.name;
  const std::string config_key = absl::StrCat(dir.has_config ? "1" : "0", dir.config_text);
  std::map<int64_t, const VersionDir*> by_version;
  for (const VersionDir& v : dir.versions) by_version[v.version] = &v;
  const size_t wanted = WantedVersionCount(config.version_policy(), candidates.size());
  static const VersionRecord kNoRecord;

  LoadOutcome out;
  for (int64_t v : candidates) {
    if (out.taken.size() >= wanted) break;
    const VersionDir& vdir = *by_version[v];
    const std::string key = absl::StrCat(vdir.fingerprint, "\n", config_key);
    auto found = rec.versions.find(v);
    const VersionRecord& vr = found != rec.versions.end() ? found->second : kNoRecord;
    if (vr.handle && vr.key == key) {
      out.taken[v] = vr.handle;
      out.keys[v] = key;
      continue;
    }
    if (!force && vr.failed_key == key) {
      if (vr.handle) {  // reload failed before; the loaded one keeps serving
        out.taken[v] = vr.handle;
        out.keys[v] = vr.key;
        out.kept_reason[v] = vr.reason;
      }
      continue;
    }
    if (!vr.handle) SetVersionState(name, v, kLoading, "");
    bool retry = false;
    auto loaded = LoadVersion(name, vdir, config, &retry);
    if (loaded.ok()) {
      out.taken[v] = *loaded;
      out.keys[v] = key;
      continue;
    }
    const std::string reason(loaded.status().message());
    out.failures.push_back(absl::StrCat("version ", v, ": ", reason));
    out.retry_later = out.retry_later || retry;
    if (!retry) out.failed[v] = {key, reason};
    if (vr.handle) {
      out.taken[v] = vr.handle;
      out.keys[v] = vr.key;
      out.kept_reason[v] = absl::StrCat("reload failed: ", reason);
      spdlog::error("model '{}' version {} failed to reload: {}; the loaded one keeps serving",
                    name, v, reason);
    } else {
      SetVersionState(name, v, kUnavailable, reason);
      spdlog::error("model '{}' version {} failed to load: {}", name, v, reason);
    }
    if (options_.metrics) {
      options_.metrics->ModelLoadFailed(name, std::to_string(v), loaded.status().code());
    }
  }
  return out;
}

std::vector<int64_t> ModelManager::SwapServing(const std::string& name, const VersionMap& serving,
                                               const VersionMap& taken) {
  std::vector<int64_t> released;
  for (const auto& [v, handle] : serving) {
    if (!taken.count(v)) released.push_back(v);
  }
  bool changed = !released.empty() || taken.size() != serving.size();
  for (const auto& [v, handle] : taken) {
    auto it = serving.find(v);
    changed = changed || it == serving.end() || it->second != handle;
  }
  if (changed) Publish(name, taken);
  return released;
}

absl::Status ModelManager::ModelStatus(const ModelDir& dir, const std::vector<int64_t>& candidates,
                                       const LoadOutcome& outcome, std::string* model_reason) {
  model_reason->clear();
  if (dir.versions.empty()) {
    *model_reason = absl::StrCat("no version folders in ", dir.path);
  } else if (candidates.empty()) {
    *model_reason = "no version on disk matches the version policy";
  } else if (outcome.taken.empty() && !outcome.failures.empty()) {
    *model_reason = "no version could be loaded";
  }
  if (!outcome.failures.empty()) {
    std::vector<int64_t> ready;
    for (const auto& [v, handle] : outcome.taken) ready.push_back(v);
    return absl::Status(
        outcome.retry_later ? absl::StatusCode::kUnavailable : absl::StatusCode::kInvalidArgument,
        absl::StrCat(
            "model '", dir.name, "': ", absl::StrJoin(outcome.failures, "; "),
            ready.empty() ? "" : absl::StrCat(" (serving versions: ", VersionList(ready), ")")));
  }
  if (!model_reason->empty()) {
    absl::Status status =
        absl::UnavailableError(absl::StrCat("model '", dir.name, "': ", *model_reason));
    spdlog::warn("{}", status.message());
    return status;
  }
  return absl::OkStatus();
}

void ModelManager::RecordOutcome(const ModelDir& dir, const LoadOutcome& outcome,
                                 const std::vector<int64_t>& released, const absl::Status& status,
                                 const std::string& model_reason) {
  std::set<int64_t> on_disk;
  for (const VersionDir& v : dir.versions) on_disk.insert(v.version);
  absl::MutexLock lock(&mu_);
  ModelRecord& r = records_[dir.name];
  r.reason = model_reason;
  r.failed_config.clear();
  r.last_status = status;
  for (const auto& [v, handle] : outcome.taken) {
    VersionRecord& vr = r.versions[v];
    auto kept = outcome.kept_reason.find(v);
    vr.handle = handle;
    vr.key = outcome.keys.at(v);
    vr.state = kReady;
    vr.reason = kept != outcome.kept_reason.end() ? kept->second : "";
    if (kept == outcome.kept_reason.end()) vr.failed_key.clear();
  }
  for (const auto& [v, fk] : outcome.failed) {
    VersionRecord& vr = r.versions[v];
    vr.failed_key = fk.first;
    if (!vr.handle) {
      vr.state = kUnavailable;
      vr.reason = fk.second;
    }
  }
  for (int64_t v : released) {
    VersionRecord& vr = r.versions[v];
    vr.handle.reset();
    vr.key.clear();
    vr.state = kUnavailable;
    vr.reason = "unloaded";
  }
  // Forget versions that are gone from disk and no longer serve.
  for (auto it = r.versions.begin(); it != r.versions.end();) {
    if (!on_disk.count(it->first) && !it->second.handle) {
      it = r.versions.erase(it);
    } else {
      if (it->second.state == kLoading) it->second.state = kUnavailable;  // retry later
      ++it;
    }
  }
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> ModelManager::LoadVersion(
    const std::string& name, const VersionDir& dir, const inference::ModelConfig& config,
    bool* retry_later) {
  const auto start = std::chrono::steady_clock::now();
  auto exists = [](const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
  };
  // model.onnx (or default_model_filename), else a NetDef pair in the folder.
  std::string file;
  absl::string_view platform = kOnnxPlatform;
  if (!config.default_model_filename().empty()) {
    file = absl::StrCat(dir.path, "/", config.default_model_filename());
    if (!exists(file)) return absl::NotFoundError(absl::StrCat("no model file ", file));
  } else if (exists(absl::StrCat(dir.path, "/", kDefaultModelFile))) {
    file = absl::StrCat(dir.path, "/", kDefaultModelFile);
  } else if (exists(absl::StrCat(dir.path, "/", kNetDefPredictNet)) ||
             exists(absl::StrCat(dir.path, "/", kNetDefPredictNet, "txt"))) {
    file = dir.path;  // Predictor::FromFile reads the NetDef pair in the folder
    platform = kNetDefPlatform;
  } else {
    return absl::NotFoundError(absl::StrCat("no ", kDefaultModelFile, " (nor ", kNetDefInitNet,
                                            " + ", kNetDefPredictNet, ") in ", dir.path));
  }
  spdlog::info("loading model '{}' version {} from {}", name, dir.version, file);
  // Where the instances run: the instance groups, completed (on a copy: CompleteModelConfig below
  // completes the configuration itself).
  inference::ModelConfig groups = config;
  if (absl::Status s = CompleteInstanceGroups(groups, options_.gpus); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("bad configuration: ", s.message()));
  }
  const std::vector<int> instance_gpus = InstanceGpus(groups);
  // One Predictor per device (by GPU; -1: the CPU), each with its own weights there, shared by
  // the instances on it. Guarded: a model that asks for more memory than there is (a few bytes of
  // NetDef can fill a tensor of any shape) fails its load, with the versions already loaded still
  // serving.
  std::map<int, std::shared_ptr<const Predictor>> on_device;
  absl::Status built;
  auto load = [&] {
    built = Guarded("loading the model", [&]() -> absl::Status {
      ASSIGN_OR_RETURN(Graph graph, LoadGraph(file));
      // Types the model leaves open (a NetDef declares none) come from config.pbtxt, so that
      // planning can infer the rest.
      for (ValueInfo& in : graph.inputs) {
        for (const auto& c : config.input()) {
          if (c.name() != in.name) continue;
          auto dtype = DTypeFromConfig(c.data_type());
          if (in.type.dtype == DType::kUndefined && dtype.ok()) in.type.dtype = *dtype;
          if (!in.type.shape && (c.dims_size() > 0 || c.data_type() != inference::TYPE_INVALID)) {
            in.type.shape = FullShape(config, c.dims());
          }
        }
      }
      PredictorOptions options = options_.predictor;
      if (config.has_optimization()) {
        options.plan.graph_level = config.optimization().graph().level();
      }
      ASSIGN_OR_RETURN(const std::string precision, PrecisionSuffix(config));
      if (!precision.empty()) {
        std::vector<std::string> registered;
        for (const Backend* b : BackendRegistry::Global().ByPriority()) {
          registered.push_back(b->name());
        }
        options.plan.backends = TwinBackends(options.plan.backends, registered, precision);
      }
      if (auto it = config.parameters().find("executor"); it != config.parameters().end()) {
        options.executor = it->second.string_value();
      }
      if (auto it = config.parameters().find("intra_op_thread_count");
          it != config.parameters().end() &&
          !absl::SimpleAtoi(it->second.string_value(), &options.intra_op_threads)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "parameters intra_op_thread_count: '", it->second.string_value(), "' is not a number"));
      }
      for (int gpu : instance_gpus) {
        if (on_device.count(gpu)) continue;
        PredictorOptions on = options;
        ASSIGN_OR_RETURN(on.plan.backends, BackendsOn(options.plan.backends, gpu));
        ASSIGN_OR_RETURN(on_device[gpu], Predictor::FromGraph(graph, on));
      }
      return absl::OkStatus();
    });
  };
  // Pre-packing and folding share the intra-op threads with the inferences running meanwhile.
  if (options_.execution_threads != nullptr) {
    options_.execution_threads->Run(load);
  } else {
    load();
  }
  if (!built.ok()) {
    built = absl::Status(built.code(), absl::StrCat(file, ": ", built.message()));
  }
  if (FingerprintFolder(dir.path) != dir.fingerprint) {
    *retry_later = true;
    return absl::UnavailableError(absl::StrCat(
        "the files of ", dir.path,
        " changed while it was loading (still being copied?); it is retried at the next "
        "rescan. Publish versions by renaming a finished folder into place."));
  }
  if (!built.ok()) return built;
  const Predictor& any = *on_device.begin()->second;  // all have the same inputs and outputs
  auto completed =
      CompleteModelConfig(config, name, any.inputs(), any.outputs(), platform, options_.gpus);
  if (!completed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad configuration: ", completed.status().message()));
  }
  std::vector<std::shared_ptr<const Predictor>> instances;
  for (int gpu : instance_gpus) instances.push_back(on_device.at(gpu));
  auto version = std::make_shared<const ModelVersion>(name, dir.version, *std::move(completed),
                                                      std::move(instances), options_.metrics);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options_.metrics) options_.metrics->ModelLoaded(name, version->version_string(), seconds);
  spdlog::info("model '{}' version {} loaded in {:.3f} s ({} instance(s))", name, dir.version,
               seconds, version->queue()->max_concurrency());
  return version;
}

void ModelManager::Publish(const std::string& name, VersionMap versions) {
  int models = 0, count = 0;
  {
    absl::MutexLock lock(&serving_mu_);
    auto next = std::make_shared<Serving>(*serving_);
    if (versions.empty()) {
      next->erase(name);
    } else {
      (*next)[name] = std::move(versions);
    }
    for (const auto& [n, vs] : *next) {
      ++models;
      count += static_cast<int>(vs.size());
    }
    serving_ = std::move(next);
  }
  if (options_.metrics) options_.metrics->SetLoaded(models, count);
}

std::shared_ptr<const ModelManager::Serving> ModelManager::Snapshot() const {
  absl::MutexLock lock(&serving_mu_);
  return serving_;
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> ModelManager::Get(
    const std::string& name, const std::string& version) const {
  RETURN_IF_ERROR(ValidateModelName(name));
  int64_t number = -1;
  if (!version.empty()) {
    ASSIGN_OR_RETURN(number, ParseVersion(version));
  }
  auto snapshot = Snapshot();
  auto it = snapshot->find(name);
  if (it != snapshot->end() && !it->second.empty()) {
    if (number < 0) return it->second.rbegin()->second;
    auto v = it->second.find(number);
    if (v != it->second.end()) return v->second;
    std::vector<int64_t> ready;
    for (const auto& [n, h] : it->second) ready.push_back(n);
    return absl::NotFoundError(absl::StrCat("model '", name, "' has no version ", version,
                                            " serving; serving versions: ", VersionList(ready)));
  }
  absl::MutexLock lock(&mu_);
  auto rec = records_.find(name);
  if (rec == records_.end()) {
    return absl::NotFoundError(absl::StrCat("unknown model '", name, "'"));
  }
  std::string reason = rec->second.reason;
  if (reason.empty()) {
    for (const auto& [v, vr] : rec->second.versions) {
      if (!vr.reason.empty() && vr.reason != "unloaded") {
        reason = absl::StrCat("version ", v, ": ", vr.reason);
      }
    }
  }
  if (reason.empty()) {
    return absl::NotFoundError(absl::StrCat("model '", name, "' is not loaded"));
  }
  return absl::UnavailableError(absl::StrCat("model '", name, "' is unavailable: ", reason));
}

std::vector<std::shared_ptr<const ModelVersion>> ModelManager::Versions(
    const std::string& name) const {
  std::vector<std::shared_ptr<const ModelVersion>> out;
  auto snapshot = Snapshot();
  auto it = snapshot->find(name);
  if (it == snapshot->end()) return out;
  for (const auto& [v, h] : it->second) out.push_back(h);
  return out;
}

std::vector<std::string> ModelManager::ServingModels() const {
  std::vector<std::string> out;
  for (const auto& [name, vs] : *Snapshot()) out.push_back(name);
  return out;
}

bool ModelManager::Known(const std::string& name) const {
  if (!ValidateModelName(name).ok()) return false;
  {
    absl::MutexLock lock(&mu_);
    if (records_.count(name)) return true;
  }
  return source_.HasModelFolder(name);
}

inference::RepositoryIndexResponse ModelManager::Index(bool ready_only) const {
  inference::RepositoryIndexResponse index;
  std::set<std::string> names;
  auto on_disk = source_.ListModels();
  if (on_disk.ok()) names.insert(on_disk->begin(), on_disk->end());
  absl::MutexLock lock(&mu_);
  for (const auto& [name, rec] : records_) names.insert(name);
  for (const std::string& name : names) {
    auto rec = records_.find(name);
    if (rec == records_.end()) {
      if (!ready_only) index.add_models()->set_name(name);
      continue;
    }
    bool any = false;
    for (const auto& [v, vr] : rec->second.versions) {
      if (vr.state.empty() || (ready_only && vr.state != kReady)) continue;
      auto* m = index.add_models();
      m->set_name(name);
      m->set_version(std::to_string(v));
      m->set_state(vr.state);
      m->set_reason(vr.reason);
      any = true;
    }
    if (!ready_only && (!rec->second.reason.empty() || !any)) {
      auto* m = index.add_models();
      m->set_name(name);
      if (!rec->second.reason.empty()) {
        m->set_state(kUnavailable);
        m->set_reason(rec->second.reason);
      }
    }
  }
  return index;
}

}  // namespace cortado
