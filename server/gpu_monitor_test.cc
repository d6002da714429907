// The GPU monitor on a fake source (no GPU here): Triton's per-GPU metrics in the exposition, a
// failed GPU in the health answer, and the GPUs KIND_GPU may use. NVML itself is tried too: on a
// machine without the NVIDIA driver it must say so, not crash.
#include "server/gpu_monitor.h"

#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace cortado {
namespace {

class FakeSource final : public GpuSource {
 public:
  explicit FakeSource(std::vector<GpuStatus>* gpus) : gpus_(gpus) {}
  std::vector<GpuStatus> Read() override { return *gpus_; }

 private:
  std::vector<GpuStatus>* gpus_;
};

GpuStatus Gpu(int index, double utilization, uint64_t used, uint64_t total) {
  GpuStatus g;
  g.index = index;
  g.uuid = "GPU-fake-" + std::to_string(index);
  g.utilization = utilization;
  g.memory_used_bytes = used;
  g.memory_total_bytes = total;
  return g;
}

TEST(GpuMonitorTest, ExportsTritonsMetricsAndReportsAFailedGpu) {
  std::vector<GpuStatus> gpus = {Gpu(0, 0.25, 1 << 30, 80ull << 30), Gpu(1, 0.5, 2 << 20, 1 << 30)};
  prometheus::Registry registry;
  GpuMetrics metrics(registry);
  GpuMonitor monitor(std::make_unique<FakeSource>(&gpus), &metrics, absl::ZeroDuration());
  auto text = [&] { return prometheus::TextSerializer().Serialize(registry.Collect()); };
  EXPECT_EQ(monitor.count(), 2);
  EXPECT_TRUE(monitor.Health().ok());
  for (const char* want : {"nv_gpu_utilization{gpu_uuid=\"GPU-fake-0\"} 0.25",
                           "nv_gpu_memory_used_bytes{gpu_uuid=\"GPU-fake-0\"} 1073741824",
                           "nv_gpu_memory_total_bytes{gpu_uuid=\"GPU-fake-0\"} 85899345920",
                           "nv_gpu_utilization{gpu_uuid=\"GPU-fake-1\"} 0.5",
                           "cortado_gpu_healthy{gpu_uuid=\"GPU-fake-1\"} 1"}) {
    EXPECT_NE(text().find(want), std::string::npos) << want << "\n" << text();
  }
  gpus[1].health = absl::UnavailableError("GPU 1: nvmlDeviceGetMemoryInfo: GPU is lost");
  monitor.Refresh();
  EXPECT_EQ(monitor.Health(),
            absl::UnavailableError("GPU 1: nvmlDeviceGetMemoryInfo: GPU is lost"));
  EXPECT_NE(text().find("cortado_gpu_healthy{gpu_uuid=\"GPU-fake-1\"} 0"), std::string::npos);
  gpus[1].health = absl::OkStatus();
  monitor.Refresh();
  EXPECT_TRUE(monitor.Health().ok());
}

TEST(GpuMonitorTest, InventoryForKindGpu) {
  std::vector<GpuStatus> gpus = {Gpu(0, 0, 0, 1), Gpu(1, 0, 0, 1)};
  GpuMonitor monitor(std::make_unique<FakeSource>(&gpus), nullptr, absl::ZeroDuration());
  const absl::Status none = absl::UnavailableError("no NVIDIA driver");
  EXPECT_EQ(GpuInventoryOf(0, &monitor, none).count, 0);
  EXPECT_NE(GpuInventoryOf(0, &monitor, none).why_none.find("no CUDA backend"), std::string::npos);
  EXPECT_EQ(GpuInventoryOf(8, &monitor, none).count, 2);  // both of the monitor's GPUs
  EXPECT_EQ(GpuInventoryOf(1, &monitor, none).count, 1);  // those the CUDA backend covers
  const GpuInventory without = GpuInventoryOf(8, nullptr, none);
  EXPECT_EQ(without.count, 0);
  EXPECT_EQ(without.why_none, "the CUDA backend sees no GPU (no NVIDIA driver)");
}

TEST(GpuMonitorTest, NvmlSaysWhyThereIsNone) {
  auto nvml = OpenNvml();
  if (nvml.ok()) {
    GTEST_SKIP() << "this machine has an NVIDIA GPU; tools/gpu_check.sh reads it";
  }
  EXPECT_EQ(nvml.status().code(), absl::StatusCode::kUnavailable);
  std::printf("NVML: %s\n", std::string(nvml.status().message()).c_str());
}

}  // namespace
}  // namespace cortado
