// The CUDA backend's caching allocator on a fake device: host memory, with fences the test
// completes by hand, so that every reuse decision is visible.
#include "backends/cuda/caching_allocator.h"

#include <cstdlib>
#include <set>

#include "gtest/gtest.h"

namespace cortado {
namespace {

struct FakeState {
  std::set<void*> live;
  int allocations = 0, frees = 0;
  size_t capacity = size_t{1} << 30, used = 0;
  int64_t fences = 0, passed = 0;  // fence n has passed when n <= passed
};

class FakeMemory final : public DeviceMemory {
 public:
  explicit FakeMemory(FakeState* s) : s_(s) {}
  Device device() const override { return Device{DeviceType::kCuda, 3}; }
  void* Allocate(size_t bytes) override {
    if (s_->used + bytes > s_->capacity) return nullptr;
    void* p = std::malloc(bytes);
    s_->live.insert(p);
    s_->used += bytes;
    sizes_[p] = bytes;
    ++s_->allocations;
    return p;
  }
  void Free(void* p) override {
    EXPECT_EQ(s_->live.erase(p), 1u) << "freed twice or never allocated";
    s_->used -= sizes_[p];
    ++s_->frees;
    std::free(p);
  }
  std::shared_ptr<void> Fence() override { return std::make_shared<int64_t>(++s_->fences); }
  bool Passed(const std::shared_ptr<void>& f) override {
    return *static_cast<int64_t*>(f.get()) <= s_->passed;
  }

 private:
  FakeState* s_;
  std::map<void*, size_t> sizes_;
};

TEST(CachingAllocatorTest, SizeClasses) {
  EXPECT_EQ(CachingAllocator::SizeClass(0), 512u);
  EXPECT_EQ(CachingAllocator::SizeClass(1), 512u);
  EXPECT_EQ(CachingAllocator::SizeClass(513), 1024u);
  EXPECT_EQ(CachingAllocator::SizeClass((1 << 20) + 1), 2u << 20);
}

TEST(CachingAllocatorTest, ReusesABlockOnlyAfterItsFencePassed) {
  FakeState s;
  CachingAllocator a(std::make_unique<FakeMemory>(&s), size_t{64} << 20);
  EXPECT_EQ(a.device(), (Device{DeviceType::kCuda, 3}));
  void* p = a.Allocate(1000);
  ASSERT_NE(p, nullptr);
  a.Free(p);  // fence 1, not passed: queued work may still read p
  void* q = a.Allocate(1000);
  EXPECT_NE(q, p);
  EXPECT_EQ(s.allocations, 2);
  s.passed = 1;
  void* r = a.Allocate(900);  // same class, fence passed: p again
  EXPECT_EQ(r, p);
  EXPECT_EQ(a.stats().reuses, 1);
  EXPECT_EQ(a.stats().in_use_bytes, 2048u);
  // A block far larger than asked for is not handed out for a small request.
  void* big = a.Allocate(4 << 20);
  a.Free(big);
  s.passed = s.fences;
  void* small = a.Allocate(1 << 20);
  EXPECT_NE(small, big);
  a.Free(q);
  a.Free(r);
  a.Free(small);
  s.passed = s.fences;
  a.Trim();
  EXPECT_EQ(a.stats().cached_bytes, 0u);
  EXPECT_EQ(s.live.size(), 0u);
  EXPECT_EQ(s.allocations, s.frees);
}

TEST(CachingAllocatorTest, AFullDeviceGetsTheCacheBackFirst) {
  FakeState s;
  s.capacity = 3 << 20;
  CachingAllocator a(std::make_unique<FakeMemory>(&s), size_t{64} << 20);
  void* x = a.Allocate(1 << 20);
  void* y = a.Allocate(1 << 20);
  a.Free(x);
  a.Free(y);
  s.passed = s.fences;            // both cached, 2 MiB of the device's 3
  void* z = a.Allocate(3 << 20);  // fits only once the cache is given back
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(s.frees, 2);
  EXPECT_EQ(a.Allocate(1 << 20), nullptr);  // truly full: nullptr, no crash
  a.Free(z);
}

TEST(CachingAllocatorTest, KeepsAtMostTheLimit) {
  FakeState s;
  CachingAllocator a(std::make_unique<FakeMemory>(&s), size_t{2} << 20);
  std::vector<void*> blocks;
  for (int i = 0; i < 4; ++i) blocks.push_back(a.Allocate(1 << 20));
  for (void* b : blocks) {
    s.passed = s.fences;
    a.Free(b);
  }
  const auto st = a.stats();
  EXPECT_LE(st.cached_bytes + st.waiting_bytes, size_t{2} << 20);
  EXPECT_EQ(st.in_use_bytes, 0u);
}

TEST(CachingAllocatorTest, GivesEverythingBackWhenDestroyed) {
  FakeState s;
  {
    CachingAllocator a(std::make_unique<FakeMemory>(&s), size_t{64} << 20);
    a.Free(a.Allocate(10));  // waiting behind a fence that never passes
    a.Free(a.Allocate(5000));
    s.passed = s.fences;  // this one is cached
  }
  EXPECT_EQ(s.frees, 2);
  EXPECT_EQ(s.live.size(), 0u);
}

}  // namespace
}  // namespace cortado
