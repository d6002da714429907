// Device and Allocator: where tensor memory lives. CpuAllocator() returns the process-wide
// 64-byte-aligned host allocator; it keeps freed blocks of 64 KiB to 32 MiB (256 MiB in all)
// for reuse by size class, so that a run's activations land in memory the last run already
// touched instead of fresh pages that fault on first write. Allocators are thread-safe and
// outlive every tensor they made.
#ifndef CORTADO_CORE_ALLOCATOR_H_
#define CORTADO_CORE_ALLOCATOR_H_

#include <cstddef>
#include <string>

namespace cortado {

// kPlugin: an accelerator behind the plug-in C ABI (backends/plugin/), `index` being the plug-in's.
enum class DeviceType { kCpu, kCuda, kPlugin };

struct Device {
  DeviceType type = DeviceType::kCpu;
  int index = 0;
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string ToString() const;
};

class Allocator {
 public:
  static constexpr size_t kAlignment = 64;
  virtual ~Allocator() = default;
  virtual Device device() const = 0;
  // Returns nullptr when the memory cannot be had.
  virtual void* Allocate(size_t nbytes) = 0;
  virtual void Free(void* ptr) = 0;
  // Gives the memory kept for reuse back to the system (CpuAllocator's cache); by default there
  // is none.
  virtual void Trim() {}
};

Allocator* CpuAllocator();

}  // namespace cortado

#endif  // CORTADO_CORE_ALLOCATOR_H_
