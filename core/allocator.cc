#include "core/allocator.h"

#include <cstdlib>

namespace cortado {

std::string Device::ToString() const {
  return (type == DeviceType::kCpu ? "cpu:" : "cuda:") + std::to_string(index);
}

namespace {

class HostAllocator final : public Allocator {
 public:
  Device device() const override { return Device{}; }
  void* Allocate(size_t nbytes) override {
    const size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
    return std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  }
  void Free(void* ptr) override { std::free(ptr); }
};

}  // namespace

Allocator* CpuAllocator() {
  static HostAllocator* allocator = new HostAllocator();
  return allocator;
}

}  // namespace cortado
