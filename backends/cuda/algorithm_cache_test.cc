// AlgorithmCache on the host, with a search that counts its calls: one search per key, also when
// many threads ask for one new key at once; a failed search is tried again.
#include "backends/cuda/algorithm_cache.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace cortado {
namespace {

TEST(AlgorithmCacheTest, SearchesOncePerKey) {
  AlgorithmCache<int> cache;
  std::atomic<int> searches{0};
  auto search_for = [&](int answer) {
    return [&searches, answer]() -> absl::StatusOr<int> {
      ++searches;
      return answer;
    };
  };
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        const int shape = (t + i) % 3;
        auto v = cache.GetOrSearch("conv [1,3," + std::to_string(shape) + "]", search_for(shape));
        if (!v.ok() || *v != shape) ++wrong;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(searches, 3);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(AlgorithmCacheTest, AFailedSearchIsNotKept) {
  AlgorithmCache<int> cache;
  int calls = 0;
  auto failing = [&]() -> absl::StatusOr<int> {
    ++calls;
    return absl::ResourceExhaustedError("no workspace");
  };
  EXPECT_EQ(cache.GetOrSearch("k", failing).status().code(), absl::StatusCode::kResourceExhausted);
  auto v = cache.GetOrSearch("k", [&]() -> absl::StatusOr<int> {
    ++calls;
    return 7;
  });
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 7);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(*cache.GetOrSearch("k", failing), 7);  // kept now: no third search
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace cortado
