// GPUs as cortadod sees them: a GpuSource reads each GPU's utilization, memory and health (NVML,
// the NVIDIA driver's management library, opened with dlopen so that cortadod runs without it);
// a GpuMonitor reads its source now and then on its own thread, exports the readings as Triton's
// per-GPU metrics (GpuMetrics) and answers health: the server is not ready while a GPU has failed.
// GpuInventoryOf says which GPUs KIND_GPU instance groups may use. Thread-safe.
#ifndef CORTADO_SERVER_GPU_MONITOR_H_
#define CORTADO_SERVER_GPU_MONITOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "core/status.h"
#include "server/metrics.h"
#include "server/repository/model_config.h"

namespace cortado {

struct GpuStatus {
  int index = 0;
  std::string uuid;        // "GPU-..." as nvidia-smi prints it
  double utilization = 0;  // 0 to 1, over the driver's last sample period
  uint64_t memory_used_bytes = 0, memory_total_bytes = 0;
  absl::Status health;  // an error once the GPU stops answering (fallen off the bus, ...)
};

class GpuSource {
 public:
  virtual ~GpuSource() = default;
  virtual std::vector<GpuStatus> Read() = 0;
};

// NVML's reading of every GPU, or why there is none (no driver library, no GPU).
absl::StatusOr<std::unique_ptr<GpuSource>> OpenNvml();

class GpuMonitor {
 public:
  // Reads `source` now, then every `interval` (never, when it is zero) until destroyed.
  GpuMonitor(std::unique_ptr<GpuSource> source, GpuMetrics* metrics, absl::Duration interval);
  ~GpuMonitor();
  GpuMonitor(const GpuMonitor&) = delete;
  GpuMonitor& operator=(const GpuMonitor&) = delete;

  // One reading now.
  void Refresh();
  // The GPUs of the last reading.
  int count() const;
  // OK, or the first failed GPU's error.
  absl::Status Health() const;

 private:
  const std::unique_ptr<GpuSource> source_;
  GpuMetrics* const metrics_;
  mutable absl::Mutex mu_;
  std::vector<GpuStatus> last_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread thread_;
};

// The GPUs KIND_GPU instances may use: none without a CUDA backend (`cuda_gpus`: the GPUs its
// registered backends cover, 0 to cuda_gpus - 1; 0 without one) or without a monitor
// (`no_monitor` says why), else the first of the monitor's GPUs the CUDA backend covers.
GpuInventory GpuInventoryOf(int cuda_gpus, const GpuMonitor* monitor,
                            const absl::Status& no_monitor);

}  // namespace cortado

#endif  // CORTADO_SERVER_GPU_MONITOR_H_
