#include "backends/cuda/caching_allocator.h"

#include <algorithm>

namespace cortado {

size_t CachingAllocator::SizeClass(size_t nbytes) {
  constexpr size_t kSmall = 512, kLarge = size_t{1} << 20;
  const size_t step = nbytes < kLarge ? kSmall : kLarge;
  return std::max<size_t>(step, (nbytes + step - 1) / step * step);
}

CachingAllocator::~CachingAllocator() {
  absl::MutexLock lock(&mu_);
  for (const Waiting& w : waiting_) memory_->Free(w.ptr);
  ReleaseCacheLocked();
}

void CachingAllocator::ReclaimLocked() {
  while (!waiting_.empty() && memory_->Passed(waiting_.front().fence)) {
    const Waiting& w = waiting_.front();
    free_.emplace(w.size, w.ptr);
    stats_.waiting_bytes -= w.size;
    stats_.cached_bytes += w.size;
    waiting_.pop_front();
  }
}

void CachingAllocator::ReleaseCacheLocked() {
  for (const auto& [size, ptr] : free_) memory_->Free(ptr);
  free_.clear();
  stats_.cached_bytes = 0;
}

void* CachingAllocator::Allocate(size_t nbytes) {
  const size_t size = SizeClass(nbytes);
  absl::MutexLock lock(&mu_);
  ReclaimLocked();
  // The smallest free block that fits, if it is at most twice the size asked for.
  auto it = free_.lower_bound(size);
  void* ptr = nullptr;
  size_t got = size;
  if (it != free_.end() && it->first <= 2 * size) {
    ptr = it->second;
    got = it->first;
    free_.erase(it);
    stats_.cached_bytes -= got;
    ++stats_.reuses;
  } else {
    ptr = memory_->Allocate(size);
    if (ptr == nullptr) {  // full: give the cache back and try once more
      ReleaseCacheLocked();
      ptr = memory_->Allocate(size);
      if (ptr == nullptr) return nullptr;
    }
    ++stats_.device_allocations;
  }
  sizes_[ptr] = got;
  stats_.in_use_bytes += got;
  return ptr;
}

void CachingAllocator::Free(void* ptr) {
  if (ptr == nullptr) return;
  std::shared_ptr<void> fence = memory_->Fence();
  absl::MutexLock lock(&mu_);
  auto it = sizes_.find(ptr);
  if (it == sizes_.end()) return;  // not ours
  const size_t size = it->second;
  sizes_.erase(it);
  stats_.in_use_bytes -= size;
  if (fence == nullptr) {
    memory_->Free(ptr);
    return;
  }
  if (stats_.cached_bytes + stats_.waiting_bytes + size > cache_limit_) {
    ReclaimLocked();
    ReleaseCacheLocked();
  }
  waiting_.push_back({ptr, size, std::move(fence)});
  stats_.waiting_bytes += size;
}

void CachingAllocator::Trim() {
  absl::MutexLock lock(&mu_);
  ReclaimLocked();
  ReleaseCacheLocked();
}

CachingAllocator::Stats CachingAllocator::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace cortado
