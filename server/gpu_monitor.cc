#include "server/gpu_monitor.h"

#include <dlfcn.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cortado {
namespace {

// The NVML entry points read here, declared as the driver's nvml.h declares them (its C ABI is
// stable across driver versions; the header is not on this machine, the library is opened at run
// time).
using nvmlReturn_t = int;  // NVML_SUCCESS is 0
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;
struct nvmlUtilization_t {
  unsigned int gpu, memory;  // percent
};
struct nvmlMemory_t {
  unsigned long long total, free, used;  // bytes
};

class NvmlSource final : public GpuSource {
 public:
  static absl::StatusOr<std::unique_ptr<GpuSource>> Open() {
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      return absl::UnavailableError(absl::StrCat("no NVIDIA driver: ", dlerror()));
    }
    std::unique_ptr<NvmlSource> s(new NvmlSource(lib));
    const bool found =
        s->Bind(s->init_, "nvmlInit_v2") && s->Bind(s->count_, "nvmlDeviceGetCount_v2") &&
        s->Bind(s->handle_, "nvmlDeviceGetHandleByIndex_v2") &&
        s->Bind(s->uuid_, "nvmlDeviceGetUUID") &&
        s->Bind(s->utilization_, "nvmlDeviceGetUtilizationRates") &&
        s->Bind(s->memory_, "nvmlDeviceGetMemoryInfo") && s->Bind(s->error_, "nvmlErrorString") &&
        s->Bind(s->shutdown_, "nvmlShutdown");
    if (!found) return absl::UnavailableError("libnvidia-ml.so.1 lacks an NVML entry point");
    RETURN_IF_ERROR(s->Check(s->init_(), "nvmlInit"));
    s->initialized_ = true;
    unsigned int n = 0;
    RETURN_IF_ERROR(s->Check(s->count_(&n), "nvmlDeviceGetCount"));
    if (n == 0) return absl::UnavailableError("NVML reports no GPU");
    s->devices_ = static_cast<int>(n);
    return std::unique_ptr<GpuSource>(std::move(s));
  }
  ~NvmlSource() override {
    if (initialized_) shutdown_();
    dlclose(lib_);
  }

  std::vector<GpuStatus> Read() override {
    std::vector<GpuStatus> out(devices_);
    for (int i = 0; i < devices_; ++i) {
      GpuStatus& g = out[i];
      g.index = i;
      g.uuid = absl::StrCat("GPU", i);  // until NVML says
      nvmlDevice_t device = nullptr;
      char uuid[96] = {};
      nvmlUtilization_t use{};
      nvmlMemory_t memory{};
      g.health =
          Check(handle_(static_cast<unsigned int>(i), &device), "nvmlDeviceGetHandleByIndex");
      if (g.health.ok()) g.health = Check(uuid_(device, uuid, sizeof uuid), "nvmlDeviceGetUUID");
      if (uuid[0] != '\0') g.uuid = uuid;
      if (g.health.ok()) {
        g.health = Check(utilization_(device, &use), "nvmlDeviceGetUtilizationRates");
      }
      if (g.health.ok()) g.health = Check(memory_(device, &memory), "nvmlDeviceGetMemoryInfo");
      if (!g.health.ok()) {
        g.health = absl::UnavailableError(absl::StrCat("GPU ", i, ": ", g.health.message()));
        continue;
      }
      g.utilization = use.gpu / 100.0;
      g.memory_used_bytes = memory.used;
      g.memory_total_bytes = memory.total;
    }
    return out;
  }

 private:
  explicit NvmlSource(void* lib) : lib_(lib) {}
  template <typename F>
  bool Bind(F*& f, const char* name) {
    f = reinterpret_cast<F*>(dlsym(lib_, name));
    return f != nullptr;
  }
  absl::Status Check(nvmlReturn_t r, const char* what) const {
    if (r == 0) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat(what, ": ", error_(r)));
  }

  void* lib_;
  bool initialized_ = false;
  int devices_ = 0;
  nvmlReturn_t (*init_)() = nullptr;
  nvmlReturn_t (*count_)(unsigned int*) = nullptr;
  nvmlReturn_t (*handle_)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*uuid_)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*utilization_)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*memory_)(nvmlDevice_t, nvmlMemory_t*) = nullptr;
  const char* (*error_)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*shutdown_)() = nullptr;
};

}  // namespace

absl::StatusOr<std::unique_ptr<GpuSource>> OpenNvml() { return NvmlSource::Open(); }

GpuMonitor::GpuMonitor(std::unique_ptr<GpuSource> source, GpuMetrics* metrics,
                       absl::Duration interval)
    : source_(std::move(source)), metrics_(metrics) {
  Refresh();
  if (interval > absl::ZeroDuration()) {
    thread_ = std::thread([this, interval] {
      while (!stop_.WaitForNotificationWithTimeout(interval)) Refresh();
    });
  }
}

GpuMonitor::~GpuMonitor() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void GpuMonitor::Refresh() {
  std::vector<GpuStatus> now = source_->Read();
  for (const GpuStatus& g : now) {
    if (metrics_ != nullptr) {
      metrics_->Set(g.uuid, g.health.ok(), g.utilization, static_cast<double>(g.memory_used_bytes),
                    static_cast<double>(g.memory_total_bytes));
    }
  }
  absl::MutexLock lock(&mu_);
  last_ = std::move(now);
}

int GpuMonitor::count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(last_.size());
}

absl::Status GpuMonitor::Health() const {
  absl::MutexLock lock(&mu_);
  for (const GpuStatus& g : last_) {
    if (!g.health.ok()) return g.health;
  }
  return absl::OkStatus();
}

GpuInventory GpuInventoryOf(int cuda_gpus, const GpuMonitor* monitor,
                            const absl::Status& no_monitor) {
  GpuInventory inventory;  // says: no CUDA backend
  if (cuda_gpus < 1) return inventory;
  if (monitor == nullptr || monitor->count() == 0) {
    inventory.why_none = absl::StrCat("the CUDA backend sees no GPU (", no_monitor.message(), ")");
    return inventory;
  }
  inventory.count = std::min(monitor->count(), cuda_gpus);
  inventory.why_none.clear();
  return inventory;
}

}  // namespace cortado
