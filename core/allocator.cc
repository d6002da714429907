#include "core/allocator.h"

#include <algorithm>
#include <malloc.h>

#include <cstdlib>
#include <map>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace cortado {

std::string Device::ToString() const {
  const char* kind = type == DeviceType::kCpu    ? "cpu:"
                     : type == DeviceType::kCuda ? "cuda:"
                                                 : "plugin:";
  return kind + std::to_string(index);
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
    if (Cached(size)) {
      absl::MutexLock lock(&mu_);
      // The smallest kept block that fits, if it is at most twice the size asked for.
      auto it = free_.lower_bound(size);
      if (it != free_.end() && it->first <= 2 * size) {
        block = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= it->first;
        if (it->second.empty()) free_.erase(it);
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
    if (Cached(size)) {
      absl::MutexLock lock(&mu_);
      if (cached_bytes_ + size <= kCacheLimit) {
        free_[size].push_back(block);
        cached_bytes_ += size;
        return;
      }
    }
    std::free(block);
  }

  void Trim() override {
    std::map<size_t, std::vector<void*>> blocks;
    {
      absl::MutexLock lock(&mu_);
      blocks.swap(free_);
      cached_bytes_ = 0;
    }
    for (auto& [size, list] : blocks) {
      for (void* block : list) std::free(block);
    }
    malloc_trim(0);
  }

 private:
  // Activations, not weights: blocks up to 32 MiB are kept, 256 MiB in all.
  static constexpr size_t kCachedFrom = size_t{64} << 10;
  static constexpr size_t kCachedUpTo = size_t{32} << 20;
  static constexpr size_t kCacheLimit = size_t{256} << 20;

  static bool Cached(size_t size) {
#if defined(__SANITIZE_ADDRESS__)
    return false;  // under AddressSanitizer every block goes back, so that stale reads are caught
#else
    return size >= kCachedFrom && size <= kCachedUpTo;
#endif
  }

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
