// Metrics: the daemon's Prometheus metrics (prometheus-cpp), registered in one Registry that the
// metrics endpoint (:8002/metrics, StartMetricsServer) exposes together with the standard
// process_* metrics (CPU seconds, resident and virtual memory, open fds, start time).
//
// Per model and version (labels model, version):
//   cortado_inference_requests_total{outcome="success"|"failure", reason}  requests by outcome;
//       reason is "" on success, else the error's status code ("invalid_argument", "not_found",
//       "unavailable", "internal", ...). Requests that name no known model count with model="".
//   cortado_inferences_total, cortado_executions_total   inferences (batch rows), executions
//       (runs of the model; the dynamic batcher runs many requests in one)
//   cortado_request_duration_seconds, cortado_queue_duration_seconds   histograms per request
//   cortado_compute_duration_seconds, cortado_batch_size   histograms per execution
//   cortado_queue_size   gauge: requests waiting for an instance
//   cortado_inference_rejected_total{cause}   answered without running: queue_full, timeout,
//       deadline, cancelled, shutdown
//   cortado_model_loads_total, cortado_model_load_failures_total{reason}
//   cortado_model_load_duration_seconds   histogram of successful loads
// Server-wide: cortado_models_loaded, cortado_model_versions_loaded,
// cortado_inference_requests_in_flight.
//
// A version's series are created when it is loaded (ForVersion) and removed once the last
// ModelVersion object holding them is freed (ReleaseVersion), so that a repository that
// publishes new versions for months does not grow the exposition without bound; a version
// loaded again starts its counters at zero (Prometheus' rate() treats that as a reset).
// Thread-safe: every method may be called from any thread.
#ifndef CORTADO_SERVER_METRICS_H_
#define CORTADO_SERVER_METRICS_H_

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "core/status.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace cortado {

// The label value of a failure reason: the status code in snake case ("invalid_argument").
std::string FailureReason(absl::StatusCode code);

class Metrics {
 public:
  // The series of one model version; pointers stay valid for the life of the Metrics.
  struct Version {
    prometheus::Counter* success = nullptr;
    prometheus::Counter* inferences = nullptr;
    prometheus::Counter* executions = nullptr;
    prometheus::Histogram* request_duration = nullptr;
    prometheus::Histogram* queue_duration = nullptr;
    prometheus::Histogram* compute_duration = nullptr;
    prometheus::Histogram* batch_size = nullptr;
    prometheus::Gauge* queue_size = nullptr;
    int holders = 0;  // guarded by Metrics::mu_
  };

  explicit Metrics(std::shared_ptr<prometheus::Registry> registry);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

  // The series of `model` / `version`, created (at zero) on first use; each call is one holder.
  const Version& ForVersion(const std::string& model, const std::string& version);
  // Drops one holder of `model` / `version`; the last one removes the version's series (its
  // success and failure counts, inferences, executions and histograms).
  void ReleaseVersion(const std::string& model, const std::string& version);
  void RequestFailed(const std::string& model, const std::string& version,
                     absl::StatusCode code);
  // A request answered without running; `cause` is queue_full, timeout, deadline, cancelled or
  // shutdown.
  void RequestRejected(const std::string& model, const std::string& version,
                       absl::string_view cause);
  void ModelLoaded(const std::string& model, const std::string& version, double seconds);
  void ModelLoadFailed(const std::string& model, const std::string& version,
                       absl::StatusCode code);
  void SetLoaded(int models, int versions);
  void AddInFlight(double delta);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& inferences_;
  prometheus::Family<prometheus::Counter>& executions_;
  prometheus::Family<prometheus::Histogram>& request_duration_;
  prometheus::Family<prometheus::Histogram>& queue_duration_;
  prometheus::Family<prometheus::Histogram>& compute_duration_;
  prometheus::Family<prometheus::Histogram>& batch_size_;
  prometheus::Family<prometheus::Gauge>& queue_size_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Family<prometheus::Counter>& loads_;
  prometheus::Family<prometheus::Counter>& load_failures_;
  prometheus::Family<prometheus::Histogram>& load_duration_;
  prometheus::Gauge& models_loaded_;
  prometheus::Gauge& versions_loaded_;
  prometheus::Gauge& in_flight_;

  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Version>> versions_
      ABSL_GUARDED_BY(mu_);
};

// The standard process metrics read from /proc/self at each scrape: process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
// process_max_fds, process_start_time_seconds.
std::shared_ptr<prometheus::Collectable> MakeProcessCollector();

// Per-GPU gauges under Triton's names, labelled gpu_uuid: nv_gpu_utilization (0 to 1),
// nv_gpu_memory_total_bytes and nv_gpu_memory_used_bytes; and cortado_gpu_healthy (1, or 0
// once the GPU stops answering). Set by the GPU monitor (server/gpu_monitor.h). Thread-safe.
class GpuMetrics {
 public:
  explicit GpuMetrics(prometheus::Registry& registry);
  GpuMetrics(const GpuMetrics&) = delete;
  GpuMetrics& operator=(const GpuMetrics&) = delete;
  void Set(const std::string& uuid, bool healthy, double utilization, double memory_used_bytes,
           double memory_total_bytes);

 private:
  prometheus::Family<prometheus::Gauge>& utilization_;
  prometheus::Family<prometheus::Gauge>& memory_used_;
  prometheus::Family<prometheus::Gauge>& memory_total_;
  prometheus::Family<prometheus::Gauge>& healthy_;
};

// The HTTP endpoint serving GET /metrics: the registry and the process metrics in Prometheus'
// text format, on Boost.Beast with one network thread (HTTP/1.1 keep-alive; a connection idle
// or slow for 30 s is closed). Not civetweb (prometheus-cpp's Exposer): its worker threads have
// a fixed 100 KiB stack, which the static TLS of cuBLASLt (94 KiB) leaves too small, so it
// could not start in a process with the CUDA backend.
class MetricsServer {
 public:
  // Serves `registry` and the process metrics on address:port (port 0 picks a free one).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& address, int port, std::shared_ptr<prometheus::Registry> registry);
  ~MetricsServer();  // stops serving
  int port() const;

 private:
  struct State;
  explicit MetricsServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace cortado

#endif  // CORTADO_SERVER_METRICS_H_
