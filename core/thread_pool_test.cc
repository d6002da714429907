#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace cortado {
namespace {

// Restores the thread count a test changes.
class ThreadPoolTest : public ::testing::Test {
 protected:
  void TearDown() override { SetIntraOpThreads(1); }
};

// Runs ParallelFor and returns how many times each index was visited, and the chunks seen.
std::vector<int> Visits(int64_t n, int64_t min_chunk,
                        std::vector<std::pair<int64_t, int64_t>>* chunks = nullptr) {
  std::vector<std::atomic<int>> counts(n);
  absl::Mutex mu;
  std::vector<std::pair<int64_t, int64_t>> seen;
  ParallelFor(n, min_chunk, [&](int64_t begin, int64_t end) {
    EXPECT_LE(0, begin);
    EXPECT_LT(begin, end);
    EXPECT_LE(end, n);
    for (int64_t i = begin; i < end; ++i) counts[i].fetch_add(1);
    absl::MutexLock lock(&mu);
    seen.emplace_back(begin, end);
  });
  if (chunks != nullptr) {
    std::sort(seen.begin(), seen.end());
    *chunks = seen;
  }
  std::vector<int> out;
  for (auto& c : counts) out.push_back(c.load());
  return out;
}

TEST_F(ThreadPoolTest, DefaultIsOneThreadAndRunsInline) {
  EXPECT_EQ(IntraOpThreads(), 1);
  const std::thread::id caller = std::this_thread::get_id();
  int calls = 0;
  ParallelFor(1000, 1, [&](int64_t begin, int64_t end) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 1000);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
}

TEST_F(ThreadPoolTest, SetAndGetThreads) {
  SetIntraOpThreads(3);
  EXPECT_EQ(IntraOpThreads(), 3);
  SetIntraOpThreads(0);
  EXPECT_EQ(IntraOpThreads(), 1);
  SetIntraOpThreads(-5);
  EXPECT_EQ(IntraOpThreads(), 1);
  SetIntraOpThreads(2);
  EXPECT_EQ(IntraOpThreads(), 2);
}

TEST_F(ThreadPoolTest, EmptyRangeCallsNothing) {
  SetIntraOpThreads(4);
  int calls = 0;
  ParallelFor(0, 1, [&](int64_t, int64_t) { ++calls; });
  ParallelFor(-3, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(ParallelChunks(0, 1), 0);
}

TEST_F(ThreadPoolTest, EveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 4, 7}) {
    SetIntraOpThreads(threads);
    for (int64_t n : {1, 2, 3, 5, 7, 64, 100, 1001}) {
      for (int64_t min_chunk : {0, 1, 3, 16, 2000}) {
        std::vector<std::pair<int64_t, int64_t>> chunks;
        const std::vector<int> visits = Visits(n, min_chunk, &chunks);
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(visits[i], 1) << "threads " << threads << " n " << n << " min_chunk "
                                  << min_chunk << " index " << i;
        }
        // The documented static partition.
        const int64_t c = ParallelChunks(n, min_chunk);
        ASSERT_EQ(static_cast<int64_t>(chunks.size()), c);
        for (int64_t k = 0; k < c; ++k) {
          EXPECT_EQ(chunks[k].first, k * n / c);
          EXPECT_EQ(chunks[k].second, (k + 1) * n / c);
          if (c > 1) EXPECT_GE(chunks[k].second - chunks[k].first, std::max<int64_t>(1, min_chunk));
        }
        EXPECT_LE(c, threads);
      }
    }
  }
}

TEST_F(ThreadPoolTest, UsesSeveralThreads) {
  SetIntraOpThreads(2);
  // Each chunk waits (bounded) for the other to start: only possible on two threads.
  std::atomic<int> started{0};
  std::atomic<bool> overlapped{false};
  ParallelFor(2, 1, [&](int64_t, int64_t) {
    started.fetch_add(1);
    for (int i = 0; i < 2000000 && started.load() < 2; ++i) std::this_thread::yield();
    if (started.load() == 2) overlapped = true;
  });
  EXPECT_TRUE(overlapped.load());
}

TEST_F(ThreadPoolTest, NestedCallsRunInline) {
  SetIntraOpThreads(3);
  std::vector<std::atomic<int>> counts(30 * 40);
  ParallelFor(30, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const std::thread::id outer = std::this_thread::get_id();
      ParallelFor(40, 1, [&](int64_t b, int64_t e) {
        EXPECT_EQ(std::this_thread::get_id(), outer);
        for (int64_t j = b; j < e; ++j) counts[i * 40 + j].fetch_add(1);
      });
    }
  });
  for (auto& c : counts) EXPECT_EQ(c.load(), 1);
}

TEST_F(ThreadPoolTest, ConcurrentCallers) {
  SetIntraOpThreads(3);
  constexpr int kCallers = 4, kRounds = 200;
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int t = 0; t < kCallers; ++t) {
    callers.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const int64_t n = 1 + (t * 37 + r * 11) % 300;
        const std::vector<int> visits = Visits(n, 1 + r % 5);
        for (int v : visits) {
          if (v != 1) failures.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(ThreadPoolTest, SetThreadsWhileOthersRun) {
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread caller([&] {
    while (!done.load()) {
      for (int v : Visits(257, 2)) {
        if (v != 1) failures.fetch_add(1);
      }
    }
  });
  for (int i = 0; i < 20; ++i) SetIntraOpThreads(1 + i % 4);
  done = true;
  caller.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(ThreadPoolTest, DeterministicPartialSums) {
  // Per-chunk partial sums reduced in chunk order give the same float result every time.
  std::vector<float> values(10007);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 1.0f / (1.0f + i % 97);
  for (int threads : {1, 2, 4}) {
    SetIntraOpThreads(threads);
    float first = 0;
    for (int rep = 0; rep < 5; ++rep) {
      const int64_t n = static_cast<int64_t>(values.size());
      const int64_t chunks = ParallelChunks(n, 100);
      std::vector<float> partial(chunks, 0.0f);
      ParallelFor(chunks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) {
          for (int64_t i = c * n / chunks; i < (c + 1) * n / chunks; ++i) partial[c] += values[i];
        }
      });
      float total = 0;
      for (float p : partial) total += p;
      if (rep == 0) first = total;
      EXPECT_EQ(total, first);
    }
  }
}

TEST_F(ThreadPoolTest, ExceptionIsRethrown) {
  for (int threads : {1, 3}) {
    SetIntraOpThreads(threads);
    EXPECT_THROW(ParallelFor(100, 1,
                             [](int64_t begin, int64_t) {
                               if (begin == 0) throw std::runtime_error("chunk failed");
                             }),
                 std::runtime_error);
    // The pool still works afterwards.
    for (int v : Visits(100, 1)) EXPECT_EQ(v, 1);
  }
}

// Two kernels that overlap, as two concurrent Runs' kernels do: the first to start takes every
// thread, and the second, while the first still runs, gets only its own thread instead of half
// of them again (the count once taken per start: 4 + 2 threads on 4 cores).
TEST_F(ThreadPoolTest, CoreSharesOfOverlappingKernelsDoNotExceedTheCount) {
  SetIntraOpThreads(4);
  {
    CoreShare first;
    EXPECT_EQ(first.threads(), 4);
    {
      CoreShare second;
      EXPECT_EQ(second.threads(), 1);
    }
    CoreShare again;  // the second's thread is back, but the first still holds all of them
    EXPECT_EQ(again.threads(), 1);
  }
  CoreShare alone;
  EXPECT_EQ(alone.threads(), 4);
  {
    ScopedIntraOpThreads two(2);  // a model with its own count
    CoreShare other;
    EXPECT_EQ(other.threads(), 1);
  }
}

// A kernel starting beside others takes its fair share of the count when that many are free.
TEST_F(ThreadPoolTest, CoreSharesSplitFreeThreadsFairly) {
  SetIntraOpThreads(6);
  auto first = std::make_unique<CoreShare>();
  EXPECT_EQ(first->threads(), 6);
  CoreShare second;
  EXPECT_EQ(second.threads(), 1);
  first.reset();
  CoreShare third;  // beside the second: half of 6, and 5 are free
  EXPECT_EQ(third.threads(), 3);
  CoreShare fourth;  // a third of 6, and 2 are free
  EXPECT_EQ(fourth.threads(), 2);
}

// Kernels starting and ending on many threads at once: the threads they hold beyond their own
// callers never exceed the count minus one, whatever the interleaving.
TEST_F(ThreadPoolTest, ConcurrentCoreSharesNeverOversubscribe) {
  constexpr int kThreads = 4;
  SetIntraOpThreads(kThreads);
  std::atomic<int> extra{0};  // threads held beyond the callers, by the shares alive now
  std::atomic<int> worst{0};
  std::atomic<int> shared{0};   // shares that got more than one thread
  std::atomic<bool> go{false};  // all callers start together
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 20000; ++i) {
        CoreShare share;
        EXPECT_GE(share.threads(), 1);
        EXPECT_LE(share.threads(), kThreads);
        if (share.threads() > 1) shared.fetch_add(1);
        const int now = extra.fetch_add(share.threads() - 1) + share.threads() - 1;
        int seen = worst.load();
        while (now > seen && !worst.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();  // a kernel runs a while: let the others start meanwhile
        extra.fetch_sub(share.threads() - 1);
      }
    });
  }
  go = true;
  for (std::thread& c : callers) c.join();
  EXPECT_LE(worst.load(), kThreads - 1);
  EXPECT_GT(shared.load(), 0);  // some kernels did get more than their own thread
}

}  // namespace
}  // namespace cortado
