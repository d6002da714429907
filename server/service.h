// InferenceService: everything the daemon does, behind one protocol-neutral facade that the
// gRPC and HTTP adapters call. It owns the ModelManager (repository, versions, hot reload), the
// scheduler (inference runs on its worker threads, never on network threads) and the metrics.
// Metadata, configuration, statistics and the repository index are returned as the KServe v2
// protobuf messages of proto/grpc_service.proto; the HTTP adapter renders them as JSON.
// Thread-safe: every method may be called from any thread at any time.
#ifndef CORTADO_SERVER_SERVICE_H_
#define CORTADO_SERVER_SERVICE_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "grpc_service.pb.h"
#include "server/byte_budget.h"
#include "server/gpu_monitor.h"
#include "server/inference.h"

namespace prometheus {
class Registry;
}

namespace cortado {

enum class ModelControlMode { kNone, kPoll, kExplicit };

struct ServiceOptions {
  std::string model_repository;
  ModelControlMode model_control_mode = ModelControlMode::kNone;
  int repository_poll_secs = 15;
  std::vector<std::string> load_models;  // explicit mode: models loaded at start ("*" = all)
  int infer_threads = 0;                 // 0: one per hardware thread
  int64_t max_request_bytes = int64_t{256} << 20;
  // The budget of request bytes in flight across the server (0: none); see ByteBudget.
  int64_t max_inflight_bytes = int64_t{1} << 30;
  std::string server_version = "0.1.0";
  // Where the metrics are registered (the daemon exposes it on --metrics-port); null: a private
  // registry.
  std::shared_ptr<prometheus::Registry> metrics_registry;
  // Optional, and must outlive the service: the server is not ready while one of its GPUs has
  // failed. `gpus`: the GPUs KIND_GPU instance groups may use.
  const GpuMonitor* gpu_monitor = nullptr;
  GpuInventory gpus;
};

class InferenceService {
 public:
  using InferCallback = std::function<void(absl::StatusOr<InferResponse>)>;

  static absl::StatusOr<std::unique_ptr<InferenceService>> Create(const ServiceOptions& options);
  virtual ~InferenceService() = default;

  virtual bool Live() const = 0;
  // False until the initial models are loaded, and again once shutdown has begun.
  virtual bool Ready() const = 0;
  virtual inference::ServerMetadataResponse ServerMetadata() const = 0;
  // version "" = the newest ready version.
  virtual bool ModelReady(const std::string& name, const std::string& version) const = 0;
  virtual absl::StatusOr<inference::ModelMetadataResponse> ModelMetadata(
      const std::string& name, const std::string& version) const = 0;
  virtual absl::StatusOr<inference::ModelConfigResponse> ModelConfig(
      const std::string& name, const std::string& version) const = 0;
  // name "" = every model.
  virtual absl::StatusOr<inference::ModelStatisticsResponse> ModelStatistics(
      const std::string& name, const std::string& version) const = 0;
  virtual inference::RepositoryIndexResponse RepositoryIndex(bool ready_only) const = 0;
  // Explicit mode only (FailedPrecondition otherwise). Load returns once the model is ready or
  // has failed; a failed load of a new version leaves the old one serving.
  virtual absl::Status LoadModel(const std::string& name) = 0;
  virtual absl::Status UnloadModel(const std::string& name) = 0;

  // Validates the request against the model, queues it and returns at once; `done` runs on a
  // worker thread with the response or an error (NotFound: unknown model or version;
  // InvalidArgument: wrong input name, shape, dtype or size; Unavailable: shutting down).
  virtual void Infer(InferRequest request, InferCallback done) = 0;

  // Turns readiness off and refuses new requests; waits up to `timeout` for those in flight.
  virtual void Shutdown(std::chrono::milliseconds timeout) = 0;
  const ServiceOptions& options() const { return options_; }
  // The server-wide budget of request bytes in flight, leased by the network adapters.
  ByteBudget& request_bytes() { return request_bytes_; }

 protected:
  explicit InferenceService(ServiceOptions options)
      : options_(std::move(options)), request_bytes_(options_.max_inflight_bytes) {}

 private:
  ServiceOptions options_;
  ByteBudget request_bytes_;
};

}  // namespace cortado

#endif  // CORTADO_SERVER_SERVICE_H_
