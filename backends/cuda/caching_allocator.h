// CachingAllocator: device memory kept for reuse, because raw device allocation (cudaMalloc,
// cudaFree) is slow and synchronizes the device. Sizes round up to classes (512 B steps below
// 1 MiB, 1 MiB steps above); a freed block waits behind a fence (a marker after all work enqueued
// on the device so far, e.g. an event on CUDA's legacy stream) until the work that may still read
// it has finished, and only then is handed out again, on any stream. When the device is full the
// cache is given back and the allocation tried once more. Written against DeviceMemory so that the
// policy is tested on the host with a fake device. Thread-safe.
#ifndef CORTADO_BACKENDS_CUDA_CACHING_ALLOCATOR_H_
#define CORTADO_BACKENDS_CUDA_CACHING_ALLOCATOR_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/allocator.h"

namespace cortado {

// The raw device memory and fences under a CachingAllocator.
class DeviceMemory {
 public:
  virtual ~DeviceMemory() = default;
  virtual Device device() const = 0;
  virtual void* Allocate(size_t bytes) = 0;  // nullptr when the device is full
  virtual void Free(void* ptr) = 0;
  // A fence after the work enqueued on the device so far (nullptr if it cannot be made: the
  // block is then given back to the device at once), and whether that work has finished.
  virtual std::shared_ptr<void> Fence() = 0;
  virtual bool Passed(const std::shared_ptr<void>& fence) = 0;
};

class CachingAllocator final : public Allocator {
 public:
  // Keeps at most `cache_limit` bytes of free blocks.
  CachingAllocator(std::unique_ptr<DeviceMemory> memory, size_t cache_limit)
      : memory_(std::move(memory)), cache_limit_(cache_limit) {}
  // Gives back every block, also those still waiting (the device is going away).
  ~CachingAllocator() override;

  Device device() const override { return memory_->device(); }
  void* Allocate(size_t nbytes) override;
  void Free(void* ptr) override;
  // Gives every cached block whose fence has passed back to the device.
  void Trim() override;

  static size_t SizeClass(size_t nbytes);

  struct Stats {
    size_t in_use_bytes = 0, cached_bytes = 0, waiting_bytes = 0;
    int64_t device_allocations = 0, reuses = 0;
  };
  Stats stats() const;

 private:
  struct Waiting {
    void* ptr;
    size_t size;
    std::shared_ptr<void> fence;
  };
  // Moves the blocks whose fences have passed to free_.
  void ReclaimLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseCacheLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<DeviceMemory> memory_;
  const size_t cache_limit_;
  mutable absl::Mutex mu_;
  std::map<void*, size_t> sizes_ ABSL_GUARDED_BY(mu_);  // every block handed out: its class
  std::multimap<size_t, void*> free_ ABSL_GUARDED_BY(mu_);
  std::deque<Waiting> waiting_ ABSL_GUARDED_BY(mu_);  // in the order they were freed
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cortado

#endif  // CORTADO_BACKENDS_CUDA_CACHING_ALLOCATOR_H_
