// The InferenceService implementation: a ModelManager for the repository, a Scheduler whose
// worker threads run every inference, ExecutionThreads that share the intra-op threads among the
// inferences and loads running at once, and the metrics. Requests are validated against the
// version they resolve to, hold that version until they are answered, and are counted so that
// Shutdown can wait for them.
#include "server/service.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <numeric>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/shape.h"
#include "core/thread_pool.h"
#include "prometheus/registry.h"
#include "server/exception_status.h"
#include "server/logging.h"
#include "server/metrics.h"
#include "server/repository/model_config.h"
#include "server/repository/model_manager.h"
#include "server/scheduler/batch_tensors.h"
#include "server/scheduler/execution_threads.h"
#include "server/scheduler/scheduler.h"
#include "server/wire/kserve_wire.h"
#include "spdlog/spdlog.h"

namespace cortado {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t Nanos(Clock::duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  return ns < 0 ? 0 : static_cast<uint64_t>(ns);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

absl::string_view ProtocolName(Protocol p) { return p == Protocol::kGrpc ? "grpc" : "http"; }

std::string TypeString(DType dtype, const Shape& shape) {
  return absl::StrCat(KServeDatatype(dtype), " ", ShapeToString(shape));
}

int64_t ByteSize(const Tensor& t) {
  if (t.dtype() != DType::kString) return static_cast<int64_t>(t.nbytes());
  int64_t n = 0;
  const std::string* s = t.data<std::string>();
  for (int64_t i = 0; i < t.num_elements(); ++i) n += static_cast<int64_t>(s[i].size()) + 4;
  return n;
}

// Checks the request's inputs and requested outputs against the version's configuration.
absl::Status Validate(const InferRequest& request, const ModelVersion& model,
                      int64_t max_request_bytes, uint64_t* batch_size) {
  const inference::ModelConfig& config = model.config();
  const std::string where = absl::StrCat("model '", model.name(), "' version ", model.version());
  std::vector<std::string> input_names;
  for (const auto& in : config.input()) input_names.push_back(in.name());
  std::set<std::string> seen;
  int64_t bytes = 0;
  int64_t batch = -1;
  for (const auto& [name, tensor] : request.inputs) {
    const inference::ModelInput* spec = nullptr;
    for (const auto& in : config.input()) {
      if (in.name() == name) spec = &in;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, " has no input '", name,
                                                     "'; its inputs are: ",
                                                     absl::StrJoin(input_names, ", ")));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("input '", name, "' is given twice"));
    }
    if (!tensor.defined()) {
      return absl::InvalidArgumentError(absl::StrCat("input '", name, "' has no data"));
    }
    ASSIGN_OR_RETURN(DType want, DTypeFromConfig(spec->data_type()));
    const Shape expected = FullShape(config, spec->dims());
    if (tensor.dtype() != want) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", name, "' has datatype ", KServeDatatype(tensor.dtype()), "; ", where,
          " expects ", TypeString(want, expected)));
    }
    bool shape_ok = tensor.shape().size() == expected.size();
    for (size_t i = 0; shape_ok && i < expected.size(); ++i) {
      shape_ok = expected[i] < 0 || expected[i] == tensor.shape()[i];
    }
    if (!shape_ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", name, "' has shape ", ShapeToString(tensor.shape()), "; ", where,
          " expects ", TypeString(want, expected), " (-1: any size)"));
    }
    if (config.max_batch_size() > 0) {
      const int64_t b = tensor.shape()[0];
      if (b > config.max_batch_size()) {
        return absl::InvalidArgumentError(absl::StrCat("input '", name, "' has batch size ", b,
                                                       ", more than the max_batch_size ",
                                                       config.max_batch_size(), " of ", where));
      }
      if (batch >= 0 && b != batch) {
        return absl::InvalidArgumentError(absl::StrCat(
            "inputs have different batch sizes (", batch, " and ", b, " for '", name, "')"));
      }
      batch = b;
    }
    bytes += ByteSize(tensor);
  }
  if (bytes > max_request_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("the request's inputs hold ", bytes,
                                                   " bytes, more than the limit of ",
                                                   max_request_bytes, " bytes"));
  }
  for (const auto& in : config.input()) {
    if (!seen.count(in.name()) && !in.optional()) {
      auto want = DTypeFromConfig(in.data_type());
      return absl::InvalidArgumentError(absl::StrCat(
          "missing input '", in.name(), "' (",
          TypeString(want.ok() ? *want : DType::kUndefined, FullShape(config, in.dims())),
          ") for ", where));
    }
  }
  std::set<std::string> outputs_seen;
  for (const std::string& out : request.requested_outputs) {
    bool known = false;
    std::vector<std::string> names;
    for (const auto& o : config.output()) {
      known = known || o.name() == out;
      names.push_back(o.name());
    }
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(where, " has no output '", out,
                                                     "'; its outputs are: ",
                                                     absl::StrJoin(names, ", ")));
    }
    if (!outputs_seen.insert(out).second) {
      return absl::InvalidArgumentError(absl::StrCat("output '", out, "' is requested twice"));
    }
  }
  *batch_size = batch >= 0 ? static_cast<uint64_t>(batch) : 1;
  return absl::OkStatus();
}

// Where a request waits and until when: the queue policy (Triton's ModelQueuePolicy) of its
// priority level when the model has dynamic_batching, and the client's own deadline.
struct Admission {
  QueueSlot slot;
  Clock::time_point policy_expiry = Clock::time_point::max();  // timeout_action REJECT
  Clock::time_point delay_after = Clock::time_point::max();    // timeout_action DELAY
  Clock::time_point client_deadline = Clock::time_point::max();
};

Admission Admit(const inference::ModelConfig& config, const InferRequest& request) {
  Admission a;
  a.client_deadline = request.deadline;
  if (!config.has_dynamic_batching()) return a;
  const inference::ModelDynamicBatching& batching = config.dynamic_batching();
  uint64_t level = request.priority == 0 ? batching.default_priority_level() : request.priority;
  if (batching.priority_levels() > 0 && level > batching.priority_levels()) {
    level = batching.default_priority_level();
  }
  auto it = batching.priority_queue_policy().find(level);
  const inference::ModelQueuePolicy& policy =
      it != batching.priority_queue_policy().end() ? it->second : batching.default_queue_policy();
  a.slot = QueueSlot{level, policy.max_queue_size()};
  // A request may shorten the default timeout, never lengthen it (Triton).
  uint64_t timeout = policy.default_timeout_microseconds();
  if (policy.allow_timeout_override() && request.timeout_us > 0) {
    timeout = timeout == 0 ? request.timeout_us : std::min(timeout, request.timeout_us);
  }
  if (timeout > 0) {
    const Clock::time_point expiry = request.received + std::chrono::microseconds(timeout);
    (policy.timeout_action() == inference::ModelQueuePolicy::REJECT ? a.policy_expiry
                                                                    : a.delay_after) = expiry;
  }
  return a;
}

// Why a queued request must not run now (its client has gone, or its time is up), or OK.
absl::Status DropReason(const InferRequest& request, const Admission& admission) {
  if (request.cancelled && request.cancelled()) {
    return absl::CancelledError("the client cancelled the request before it ran");
  }
  const Clock::time_point now = Clock::now();
  if (now >= admission.client_deadline) {
    return absl::DeadlineExceededError("the client's deadline passed before the request ran");
  }
  if (now >= admission.policy_expiry) {
    return absl::UnavailableError(absl::StrCat(
        "request timeout expired: it waited ",
        std::chrono::duration_cast<std::chrono::microseconds>(now - request.received).count(),
        " us, more than its queue policy allows"));
  }
  return absl::OkStatus();
}

// A request waiting in its version's queue, with what answers it.
struct Queued : QueueEntry {
  std::shared_ptr<const ModelVersion> version;
  InferRequest request;
  InferenceService::InferCallback done;
  Admission admission;
};

// Requests batch together only when their inputs agree in name, dtype and every dimension past
// the batch dimension. The inputs must be sorted by name.
std::string BatchKey(const InferRequest& request) {
  std::vector<std::string> parts;
  for (const auto& [name, tensor] : request.inputs) {
    const Shape rest(tensor.shape().begin() + 1, tensor.shape().end());
    parts.push_back(absl::StrCat(name, ":", DTypeName(tensor.dtype()), ShapeToString(rest)));
  }
  return absl::StrJoin(parts, ";");
}

class ServiceImpl : public InferenceService {
 public:
  explicit ServiceImpl(ServiceOptions options) : InferenceService(std::move(options)) {}

  ~ServiceImpl() override {
    {
      absl::MutexLock lock(&mu_);
      shutting_down_ = true;
      ready_ = false;
    }
    if (manager_) manager_->Stop();
    scheduler_.reset();  // answers everything queued
    manager_.reset();
  }

  absl::Status Init() {
    const ServiceOptions& o = options();
    if (o.model_repository.empty()) {
      return absl::InvalidArgumentError("no model repository given");
    }
    registry_ = o.metrics_registry ? o.metrics_registry : std::make_shared<prometheus::Registry>();
    metrics_ = std::make_unique<Metrics>(registry_);
    execution_threads_ = std::make_unique<ExecutionThreads>(IntraOpThreads());
    scheduler_ = std::make_unique<Scheduler>(
        o.infer_threads, [this](ExecutionQueue& queue, int instance, Batch batch) {
          return RunBatch(queue, instance, std::move(batch));
        });
    ModelManagerOptions mo;
    mo.repository = o.model_repository;
    mo.poll = o.model_control_mode == ModelControlMode::kPoll;
    mo.poll_secs = o.repository_poll_secs;
    mo.metrics = metrics_.get();
    mo.gpus = o.gpus;
    mo.execution_threads = execution_threads_.get();
    ASSIGN_OR_RETURN(manager_, ModelManager::Create(mo));

    if (o.model_control_mode == ModelControlMode::kExplicit) {
      for (const std::string& name : o.load_models) {
        absl::Status s = name == "*" ? manager_->LoadAll() : manager_->Load(name);
        if (!s.ok()) spdlog::error("--load-model {}: {}", name, s.message());
      }
    } else {
      absl::Status s = manager_->LoadAll();
      if (!s.ok()) spdlog::warn("not every model loaded: {}", s.message());
    }
    std::vector<std::string> serving = manager_->ServingModels();
    spdlog::info("{} model(s) serving from {}: {}", serving.size(), o.model_repository,
                 absl::StrJoin(serving, ", "));
    absl::MutexLock lock(&mu_);
    ready_ = true;
    return absl::OkStatus();
  }

  bool Live() const override { return true; }

  bool Ready() const override {
    absl::MutexLock lock(&mu_);
    return ready_ && !shutting_down_ &&
           (options().gpu_monitor == nullptr || options().gpu_monitor->Health().ok());
  }

  inference::ServerMetadataResponse ServerMetadata() const override {
    inference::ServerMetadataResponse r;
    r.set_name("cortado");
    r.set_version(options().server_version);
    // "schedule_policy": Triton's dynamic_batching (batching, queue policies, priorities).
    for (const char* ext : {"binary_tensor_data", "model_repository", "model_configuration",
                            "schedule_policy", "statistics"}) {
      r.add_extensions(ext);
    }
    return r;
  }

  bool ModelReady(const std::string& name, const std::string& version) const override {
    if (ShuttingDown()) return false;
    return manager_->Get(name, version).ok();
  }

  absl::StatusOr<inference::ModelMetadataResponse> ModelMetadata(
      const std::string& name, const std::string& version) const override {
    ASSIGN_OR_RETURN(auto model, manager_->Get(name, version));
    inference::ModelMetadataResponse r;
    r.set_name(name);
    for (const auto& v : manager_->Versions(name)) r.add_versions(v->version_string());
    const inference::ModelConfig& config = model->config();
    r.set_platform(config.platform());
    for (const auto& in : config.input()) {
      auto* t = r.add_inputs();
      t->set_name(in.name());
      auto dtype = DTypeFromConfig(in.data_type());
      t->set_datatype(std::string(KServeDatatype(dtype.ok() ? *dtype : DType::kUndefined)));
      for (int64_t d : FullShape(config, in.dims())) t->add_shape(d);
    }
    for (const auto& out : config.output()) {
      auto* t = r.add_outputs();
      t->set_name(out.name());
      auto dtype = DTypeFromConfig(out.data_type());
      t->set_datatype(std::string(KServeDatatype(dtype.ok() ? *dtype : DType::kUndefined)));
      for (int64_t d : FullShape(config, out.dims())) t->add_shape(d);
    }
    return r;
  }

  absl::StatusOr<inference::ModelConfigResponse> ModelConfig(
      const std::string& name, const std::string& version) const override {
    ASSIGN_OR_RETURN(auto model, manager_->Get(name, version));
    inference::ModelConfigResponse r;
    *r.mutable_config() = model->config();
    return r;
  }

  absl::StatusOr<inference::ModelStatisticsResponse> ModelStatistics(
      const std::string& name, const std::string& version) const override {
    std::vector<std::shared_ptr<const ModelVersion>> versions;
    if (name.empty()) {
      for (const std::string& m : manager_->ServingModels()) {
        for (auto& v : manager_->Versions(m)) versions.push_back(std::move(v));
      }
    } else if (version.empty()) {
      RETURN_IF_ERROR(manager_->Get(name, "").status());
      versions = manager_->Versions(name);
    } else {
      ASSIGN_OR_RETURN(auto v, manager_->Get(name, version));
      versions.push_back(std::move(v));
    }
    inference::ModelStatisticsResponse r;
    for (const auto& v : versions) {
      auto* s = r.add_model_stats();
      s->set_name(v->name());
      s->set_version(v->version_string());
      v->stats().Fill(s);
    }
    return r;
  }

  inference::RepositoryIndexResponse RepositoryIndex(bool ready_only) const override {
    return manager_->Index(ready_only);
  }

  absl::Status LoadModel(const std::string& name) override {
    RETURN_IF_ERROR(CheckModelControl());
    return manager_->Load(name);
  }

  absl::Status UnloadModel(const std::string& name) override {
    RETURN_IF_ERROR(CheckModelControl());
    return manager_->Unload(name);
  }

  void Infer(InferRequest request, InferCallback done) override {
    {
      absl::MutexLock lock(&mu_);
      ++in_flight_;
    }
    metrics_->AddInFlight(1);
    if (ShuttingDown()) {
      Reject(std::move(request), absl::UnavailableError("the server is shutting down"), nullptr,
             std::move(done));
      return;
    }
    auto model = manager_->Get(request.model_name, request.model_version);
    if (!model.ok()) {
      Reject(std::move(request), model.status(), nullptr, std::move(done));
      return;
    }
    uint64_t batch_size = 1;
    absl::Status valid =
        Validate(request, **model, options().max_request_bytes, &batch_size);
    if (!valid.ok()) {
      Reject(std::move(request), valid, *model, std::move(done));
      return;
    }
    std::shared_ptr<const ModelVersion> version = *std::move(model);
    const std::shared_ptr<ExecutionQueue>& queue = version->queue();
    auto entry = std::make_unique<Queued>();
    entry->admission = Admit(version->config(), request);
    entry->slot = entry->admission.slot;
    entry->delay_after = entry->admission.delay_after;
    entry->rows = static_cast<int64_t>(batch_size);
    if (queue->policy().max_batch_size > 1) {
      std::sort(request.inputs.begin(), request.inputs.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      entry->batch_key = BatchKey(request);
    }
    entry->version = version;
    entry->request = std::move(request);
    entry->done = std::move(done);
    std::unique_ptr<QueueEntry> queued = std::move(entry);
    absl::Status s = scheduler_->Submit(queue, &queued);
    if (const Metrics::Version* m = version->metrics()) m->queue_size->Set(queue->waiting());
    if (!s.ok()) {  // the queue is full: answered at once (503 / UNAVAILABLE)
      auto& refused = static_cast<Queued&>(*queued);
      metrics_->RequestRejected(version->name(), version->version_string(), "queue_full");
      Reject(std::move(refused.request), absl::UnavailableError(Where(*version, s.message())),
             version, std::move(refused.done));
    }
  }

  void Shutdown(std::chrono::milliseconds timeout) override {
    int64_t pending;
    {
      absl::MutexLock lock(&mu_);
      shutting_down_ = true;
      ready_ = false;
      pending = in_flight_;
    }
    scheduler_->Flush();  // batches waiting for their queue delay go now
    spdlog::info("shutting down: not ready, refusing new requests; waiting up to {} ms for {} "
                 "request(s) in flight",
                 timeout.count(), pending);
    bool drained;
    {
      absl::MutexLock lock(&mu_);
      drained = mu_.AwaitWithTimeout(absl::Condition(this, &ServiceImpl::Drained),
                                     absl::FromChrono(timeout));
      pending = in_flight_;
    }
    if (drained) {
      spdlog::info("every request in flight has been answered");
    } else {
      past_exit_timeout_ = true;  // what is still queued is answered without running
      spdlog::warn(
          "{} request(s) still in flight after {} ms; those not yet running are "
          "answered UNAVAILABLE",
          pending, timeout.count());
      AnswerQueued();
    }
    manager_->Stop();
  }

 private:
  bool ShuttingDown() const {
    absl::MutexLock lock(&mu_);
    return shutting_down_;
  }
  bool Drained() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; }

  // Past the exit timeout: every request still waiting for an instance is answered now, on this
  // thread (each only answers UNAVAILABLE, since past_exit_timeout_ is set), rather than when an
  // instance frees up, which a long inference may not do before the process is forced out.
  void AnswerQueued() {
    for (const std::string& name : manager_->ServingModels()) {
      for (const auto& version : manager_->Versions(name)) {
        Batch waiting = version->queue()->TakeWaiting();
        if (waiting.empty()) continue;
        // No instance (-1): past the exit timeout, every entry is dropped without running.
        for (auto& answer : RunBatch(*version->queue(), -1, std::move(waiting))) {
          std::move(answer)();
        }
      }
    }
  }

  absl::Status CheckModelControl() const {
    if (ShuttingDown()) return absl::UnavailableError("the server is shutting down");
    if (options().model_control_mode != ModelControlMode::kExplicit) {
      return absl::FailedPreconditionError(
          "explicit model load and unload are disabled; start cortadod with "
          "--model-control-mode=explicit");
    }
    return absl::OkStatus();
  }

  // Counts and logs a finished request, answers it and ends its in-flight count.
  void Finish(const InferRequest& request, const absl::Status& status, const std::string& model,
              const std::string& version, InferCallback& done,
              absl::StatusOr<InferResponse> result) {
    if (!status.ok()) metrics_->RequestFailed(model, version, status.code());
    if (AccessLogEnabled()) {
      AccessRecord a;
      a.protocol = ProtocolName(request.protocol);
      a.method = "infer";
      a.model = request.model_name;
      a.version = version.empty() ? absl::string_view(request.model_version) : version;
      a.id = request.id;
      const std::string code = absl::StatusCodeToString(status.code());
      a.status = code;
      a.latency_ms = Seconds(Clock::now() - request.received) * 1e3;
      LogAccess(a);
    }
    done(std::move(result));
    metrics_->AddInFlight(-1);
    absl::MutexLock lock(&mu_);
    --in_flight_;
  }

  // Answers a request that will not run, on a worker thread.
  void Reject(InferRequest request, absl::Status status,
              std::shared_ptr<const ModelVersion> model, InferCallback done) {
    std::string model_label, version_label;
    if (model) {
      model_label = model->name();
      version_label = model->version_string();
      model->stats().RecordFailure(Nanos(Clock::now() - request.received), NowMs());
    } else if (manager_ && manager_->Known(request.model_name)) {
      model_label = request.model_name;  // a known model; the version did not resolve
    }
    scheduler_->Post([this, request = std::move(request), status = std::move(status),
                      model_label = std::move(model_label),
                      version_label = std::move(version_label), done = std::move(done)]() mutable {
      Finish(request, status, model_label, version_label, done, status);
    });
  }

  // Why a queued request is answered without running (and the rejection cause for the
  // metrics), or OK.
  absl::Status Dropped(const Queued& q, const char** cause) const {
    absl::Status drop = DropReason(q.request, q.admission);
    *cause = drop.code() == absl::StatusCode::kCancelled          ? "cancelled"
             : drop.code() == absl::StatusCode::kDeadlineExceeded ? "deadline"
                                                                  : "timeout";
    if (drop.ok() && past_exit_timeout_) {
      drop = absl::UnavailableError(
          "the server is shutting down and its exit timeout has passed; the request was not run");
      *cause = "shutdown";
    }
    return drop;
  }

  // The Scheduler's BatchRunner: runs one batch of a version's queue on a worker thread and
  // returns each request's answer. Requests whose client has gone or whose time is up are
  // answered without running; the rest run as one execution on the version's instance `instance`.
  std::vector<Scheduler::Work> RunBatch(ExecutionQueue& queue, int instance, Batch batch) {
    std::vector<std::shared_ptr<Queued>> entries;
    for (auto& e : batch) entries.emplace_back(static_cast<Queued*>(e.release()));
    const ModelVersion& model = *entries[0]->version;
    if (const Metrics::Version* m = model.metrics()) m->queue_size->Set(queue.waiting());
    std::vector<Scheduler::Work> answers(entries.size());
    std::vector<size_t> live;
    for (size_t i = 0; i < entries.size(); ++i) {
      const char* cause;
      absl::Status drop = Dropped(*entries[i], &cause);
      if (drop.ok()) {
        live.push_back(i);
        continue;
      }
      metrics_->RequestRejected(model.name(), model.version_string(), cause);
      model.stats().RecordFailure(Nanos(Clock::now() - entries[i]->request.received), NowMs());
      answers[i] = Answer(entries[i], absl::Status(drop.code(), Where(model, drop.message())));
    }
    if (!live.empty()) RunLive(model, instance, entries, live, answers);
    return answers;
  }

  // Runs the requests `live` of a batch as one execution and fills their answers. When a batch
  // of several fails (one request's bad input, or outputs that do not split by rows), each of
  // them runs again alone, so that every request gets its own answer.
  void RunLive(const ModelVersion& model, int instance,
               const std::vector<std::shared_ptr<Queued>>& entries, const std::vector<size_t>& live,
               std::vector<Scheduler::Work>& answers) {
    const Clock::time_point start = Clock::now();
    std::vector<int64_t> rows;
    for (size_t i : live) rows.push_back(entries[i]->rows);
    VersionStats::Times t;
    // An exception (std::bad_alloc for an output too large to allocate) answers the batch with an
    // error instead of ending the process.
    absl::StatusOr<std::vector<TensorMap>> outputs =
        Guarded("inference", [&] { return Execute(model, instance, entries, live, rows, &t); });
    const Clock::time_point end = Clock::now();
    if (!outputs.ok() && live.size() > 1) {
      for (size_t i : live) RunLive(model, instance, entries, {i}, answers);
      return;
    }
    if (!outputs.ok()) {
      for (size_t i : live) {
        model.stats().RecordFailure(Nanos(end - entries[i]->request.received), NowMs());
        answers[i] = Answer(entries[i], absl::Status(outputs.status().code(),
                                                     Where(model, outputs.status().message())));
      }
      return;
    }
    const int64_t batch_size = std::accumulate(rows.begin(), rows.end(), int64_t{0});
    model.stats().RecordExecution(static_cast<uint64_t>(batch_size), t);
    if (const Metrics::Version* m = model.metrics()) {
      m->inferences->Increment(static_cast<double>(batch_size));
      m->executions->Increment();
      m->compute_duration->Observe(Seconds(end - start));
      m->batch_size->Observe(static_cast<double>(batch_size));
    }
    for (size_t k = 0; k < live.size(); ++k) {
      Queued& q = *entries[live[k]];
      InferResponse response;
      response.model_name = model.name();
      response.model_version = model.version_string();
      response.id = q.request.id;
      TensorMap& mine = (*outputs)[k];
      auto add = [&](const std::string& name) {
        auto it = mine.find(name);
        if (it != mine.end()) response.outputs.emplace_back(name, std::move(it->second));
      };
      if (q.request.requested_outputs.empty()) {
        for (const auto& out : model.config().output()) add(out.name());
      } else {
        for (const std::string& name : q.request.requested_outputs) add(name);
      }
      t.request = Nanos(end - q.request.received);
      t.queue = Nanos(start - q.enqueued);
      model.stats().RecordSuccess(t, NowMs());
      if (const Metrics::Version* m = model.metrics()) {
        m->success->Increment();
        m->request_duration->Observe(Seconds(end - q.request.received));
        m->queue_duration->Observe(Seconds(start - q.enqueued));
      }
      answers[live[k]] = Answer(entries[live[k]], std::move(response));
    }
  }

  // Runs the live requests of a batch as one execution: their inputs joined along the batch
  // dimension (a request alone runs on its own tensors, which it gives up), the outputs split
  // back. Fills the compute times. The inputs of a batch of several are kept until it has run,
  // for RunLive to run each request alone should the batch fail.
  absl::StatusOr<std::vector<TensorMap>> Execute(
      const ModelVersion& model, int instance, const std::vector<std::shared_ptr<Queued>>& entries,
      const std::vector<size_t>& live, const std::vector<int64_t>& rows, VersionStats::Times* t) {
    const Clock::time_point start = Clock::now();
    TensorMap inputs;
    if (live.size() == 1) {
      for (auto& [name, tensor] : entries[live[0]]->request.inputs) {
        inputs.emplace(name, std::move(tensor));
      }
    } else {
      const auto& first = entries[live[0]]->request.inputs;
      for (size_t n = 0; n < first.size(); ++n) {
        std::vector<const Tensor*> parts;
        for (size_t i : live) parts.push_back(&entries[i]->request.inputs[n].second);
        ASSIGN_OR_RETURN(Tensor joined, ConcatRows(parts));
        inputs.emplace(first[n].first, std::move(joined));
      }
    }
    const Clock::time_point infer_start = Clock::now();
    absl::StatusOr<TensorMap> run;
    execution_threads_->Run([&] { run = model.predictor(instance).Run(inputs); });
    ASSIGN_OR_RETURN(TensorMap outputs, std::move(run));
    for (size_t i : live) entries[i]->request.inputs.clear();
    const Clock::time_point infer_end = Clock::now();
    std::vector<TensorMap> per_request(live.size());
    if (live.size() == 1) {
      per_request[0] = std::move(outputs);
    } else {
      for (auto& [name, whole] : outputs) {
        ASSIGN_OR_RETURN(std::vector<Tensor> pieces, SplitRows(whole, rows));
        for (size_t k = 0; k < pieces.size(); ++k)
          per_request[k].emplace(name, std::move(pieces[k]));
      }
    }
    t->compute_input = Nanos(infer_start - start);
    t->compute_infer = Nanos(infer_end - infer_start);
    t->compute_output = Nanos(Clock::now() - infer_end);
    return per_request;
  }

  static std::string Where(const ModelVersion& model, absl::string_view message) {
    return absl::StrCat("model '", model.name(), "' version ", model.version(), ": ", message);
  }

  // The work that answers `q` with `result` (run by the Scheduler, in order when the model
  // preserves ordering).
  Scheduler::Work Answer(std::shared_ptr<Queued> q, absl::StatusOr<InferResponse> result) {
    return [this, q = std::move(q), result = std::move(result)]() mutable {
      const absl::Status status = result.status();
      Finish(q->request, status, q->version->name(), q->version->version_string(), q->done,
             std::move(result));
    };
  }

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ExecutionThreads> execution_threads_;  // outlives the scheduler and the manager
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<ModelManager> manager_;

  mutable absl::Mutex mu_;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> past_exit_timeout_{false};
};

}  // namespace

absl::StatusOr<std::unique_ptr<InferenceService>> InferenceService::Create(
    const ServiceOptions& options) {
  auto service = std::make_unique<ServiceImpl>(options);
  RETURN_IF_ERROR(service->Init());
  return std::unique_ptr<InferenceService>(std::move(service));
}

}  // namespace cortado
