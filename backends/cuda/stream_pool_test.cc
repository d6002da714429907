// StreamPool on the host with a fake stream state: every run in flight holds its own, none is
// lent to two runs at once, and a finished run's is reused rather than a new one made.
#include "backends/cuda/stream_pool.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace cortado {
namespace {

struct FakeState {
  std::atomic<int> users{0};
};

TEST(StreamPoolTest, OnePerRunInFlightAndReused) {
  StreamPool<FakeState> pool;
  std::atomic<int> made{0};
  auto make = [&]() -> absl::StatusOr<std::unique_ptr<FakeState>> {
    ++made;
    return std::make_unique<FakeState>();
  };
  // Three runs at once: three states, all different.
  std::vector<std::unique_ptr<FakeState>> runs;
  for (int i = 0; i < 3; ++i) runs.push_back(*pool.Take(make));
  EXPECT_EQ(made, 3);
  EXPECT_EQ(std::set<FakeState*>({runs[0].get(), runs[1].get(), runs[2].get()}).size(), 3u);
  FakeState* first = runs[0].get();
  pool.Give(std::move(runs[0]));
  EXPECT_EQ(pool.idle(), 1u);
  // The next run takes the one given back.
  std::unique_ptr<FakeState> next = *pool.Take(make);
  EXPECT_EQ(next.get(), first);
  EXPECT_EQ(made, 3);
  pool.Give(std::move(next));
  pool.Give(std::move(runs[1]));
  pool.Give(std::move(runs[2]));
  EXPECT_EQ(pool.idle(), 3u);
}

TEST(StreamPoolTest, ConcurrentRunsNeverShareAState) {
  StreamPool<FakeState> pool;
  std::atomic<int> made{0}, shared{0};
  auto make = [&]() -> absl::StatusOr<std::unique_ptr<FakeState>> {
    ++made;
    return std::make_unique<FakeState>();
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        std::unique_ptr<FakeState> s = *pool.Take(make);
        if (++s->users != 1) ++shared;
        std::this_thread::yield();
        --s->users;
        pool.Give(std::move(s));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(shared, 0);
  EXPECT_LE(made, 8);  // never more than the runs in flight
  EXPECT_EQ(pool.idle(), static_cast<size_t>(made.load()));
}

TEST(StreamPoolTest, AFailedMakeIsAnError) {
  StreamPool<FakeState> pool;
  auto failing = []() -> absl::StatusOr<std::unique_ptr<FakeState>> {
    return absl::InternalError("cudaStreamCreate: out of memory");
  };
  auto s = pool.Take(failing);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "cudaStreamCreate: out of memory");
}

}  // namespace
}  // namespace cortado
