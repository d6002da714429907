#include "core/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace cortado {

std::string Device::ToString() const {
  return (type == DeviceType::kCpu ? "cpu:" : "cuda:") + std::to_string(index);
}

namespace {

// Each block starts with a header of kAlignment bytes holding its size class; the caller gets
// the memory after it.
class HostAllocator final : public Allocator {
 public:
  Device device() const override { return Device{}; }

  void* Allocate(size_t nbytes) override {
    const size_t size = SizeClass(nbytes);
    void* block = nullptr;
    if (size >= kCachedFrom) {
      absl::MutexLock lock(&mu_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        block = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= size;
      }
    }
    if (block == nullptr) {
      block = std::aligned_alloc(kAlignment, size + kAlignment);
      if (block == nullptr) return nullptr;
      *static_cast<size_t*>(block) = size;
    }
    return static_cast<char*>(block) + kAlignment;
  }

  void Free(void* ptr) override {
    if (ptr == nullptr) return;
    void* block = static_cast<char*>(ptr) - kAlignment;
    const size_t size = *static_cast<size_t*>(block);
    if (size >= kCachedFrom) {
      absl::MutexLock lock(&mu_);
      if (cached_bytes_ + size <= kCacheLimit) {
        free_[size].push_back(block);
        cached_bytes_ += size;
        return;
      }
    }
    std::free(block);
  }

 private:
  static constexpr size_t kCachedFrom = size_t{64} << 10;
  static constexpr size_t kCacheLimit = size_t{1} << 30;

  // nbytes rounded up to a multiple of kAlignment, and from kCachedFrom on to one of four steps
  // per power of two (at most 25% more), so that similar sizes share blocks.
  static size_t SizeClass(size_t nbytes) {
    size_t size = std::max<size_t>((nbytes + kAlignment - 1) / kAlignment * kAlignment, kAlignment);
    if (size < kCachedFrom) return size;
    size_t power = kCachedFrom;
    while (power * 2 <= size) power *= 2;
    const size_t step = power / 4;
    return (size + step - 1) / step * step;
  }

  absl::Mutex mu_;
  std::map<size_t, std::vector<void*>> free_ ABSL_GUARDED_BY(mu_);  // by size class
  size_t cached_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

Allocator* CpuAllocator() {
  static HostAllocator* allocator = new HostAllocator();
  return allocator;
}

}  // namespace cortado
