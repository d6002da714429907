#include "server/scheduler/scheduler.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace cortado {
namespace {

// Waits (generously) until `pred` holds; returns whether it did.
template <typename Pred>
bool WaitFor(Pred pred) {
  for (int i = 0; i < 20000 && !pred(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

TEST(SchedulerTest, RunsEveryItemOnWorkerThreads) {
  std::atomic<int> ran{0};
  std::atomic<int> on_caller{0};
  const auto caller = std::this_thread::get_id();
  {
    Scheduler s(3);
    EXPECT_EQ(s.num_threads(), 3);
    auto q = std::make_shared<ExecutionQueue>(2);
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(s.Submit(q, [&] {
                     if (std::this_thread::get_id() == caller) ++on_caller;
                     ++ran;
                   }).ok());
      s.Post([&] { ++ran; });
    }
  }  // the destructor finishes everything submitted
  EXPECT_EQ(ran.load(), 200);
  EXPECT_EQ(on_caller.load(), 0);
}

TEST(SchedulerTest, InstanceCountBoundsConcurrencyPerQueue) {
  Scheduler s(6);
  auto q = std::make_shared<ExecutionQueue>(2);
  std::atomic<int> running{0}, max_running{0}, done{0};
  absl::Notification release;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(s.Submit(q, [&] {
                   int now = ++running;
                   int prev = max_running.load();
                   while (now > prev && !max_running.compare_exchange_weak(prev, now)) {
                   }
                   release.WaitForNotification();
                   --running;
                   ++done;
                 }).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return running.load() == 2; }));
  // Four wait for an instance even though workers are free.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(running.load(), 2);
  EXPECT_EQ(q->running(), 2);
  EXPECT_EQ(q->waiting(), 4);
  release.Notify();
  ASSERT_TRUE(WaitFor([&] { return done.load() == 6; }));
  EXPECT_EQ(max_running.load(), 2);
  ASSERT_TRUE(WaitFor([&] { return q->running() == 0; }));
  EXPECT_EQ(q->waiting(), 0);
}

TEST(SchedulerTest, QueuesDoNotBlockEachOther) {
  Scheduler s(2);
  auto slow = std::make_shared<ExecutionQueue>(1);
  auto fast = std::make_shared<ExecutionQueue>(1);
  absl::Notification release, fast_ran;
  ASSERT_TRUE(s.Submit(slow, [&] { release.WaitForNotification(); }).ok());
  ASSERT_TRUE(s.Submit(slow, [&] {}).ok());  // waits behind the first, without taking a worker
  ASSERT_TRUE(s.Submit(fast, [&] { fast_ran.Notify(); }).ok());
  EXPECT_TRUE(fast_ran.WaitForNotificationWithTimeout(absl::Seconds(60)));
  release.Notify();
}

// Triton's max_queue_size: a level that already holds that many waiting items refuses the next
// one at once (Unavailable) without running it; other levels are not affected.
TEST(SchedulerTest, AFullLevelRefusesAtOnce) {
  Scheduler s(1);
  auto q = std::make_shared<ExecutionQueue>(1);
  absl::Notification release;
  std::atomic<int> ran{0};
  ASSERT_TRUE(s.Submit(q, [&] { release.WaitForNotification(); }).ok());  // takes the instance
  const QueueSlot slot{/*priority=*/0, /*max_queue_size=*/2};
  ASSERT_TRUE(s.Submit(
                   q, [&] { ++ran; }, slot)
                  .ok());
  ASSERT_TRUE(s.Submit(
                   q, [&] { ++ran; }, slot)
                  .ok());
  absl::Status full = s.Submit(
      q, [&] { ran += 100; }, slot);
  EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(full.message().find("exceeds the maximum queue size (2 requests waiting)"),
            std::string::npos)
      << full;
  EXPECT_TRUE(s.Submit(
                   q, [&] { ++ran; }, QueueSlot{1, 2})
                  .ok());  // another level has room
  EXPECT_EQ(q->waiting(), 3);
  release.Notify();
  ASSERT_TRUE(WaitFor([&] { return ran.load() == 3 && q->running() == 0; }));
  EXPECT_EQ(ran.load(), 3);  // the refused item never ran
}

TEST(SchedulerTest, LowerPriorityLevelsRunFirst) {
  Scheduler s(1);
  auto q = std::make_shared<ExecutionQueue>(1);
  absl::Notification release;
  absl::Mutex mu;
  std::vector<int> order;
  ASSERT_TRUE(s.Submit(q, [&] { release.WaitForNotification(); }).ok());
  for (int level : {3, 1, 2, 1}) {
    ASSERT_TRUE(s.Submit(
                     q,
                     [&, level] {
                       absl::MutexLock lock(&mu);
                       order.push_back(level);
                     },
                     QueueSlot{static_cast<uint64_t>(level), 0})
                    .ok());
  }
  release.Notify();
  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&mu);
    return order.size() == 4;
  }));
  EXPECT_EQ(order, (std::vector<int>{1, 1, 2, 3}));
}

// Shutdown past the exit timeout takes the waiting items to answer them at once, while the
// running one goes on; the scheduler never runs the taken items itself.
TEST(SchedulerTest, TakeWaitingRemovesWaitingItemsInRunOrder) {
  Scheduler s(1);
  auto q = std::make_shared<ExecutionQueue>(1);
  absl::Notification release;
  std::atomic<int> ran{0};
  ASSERT_TRUE(s.Submit(q, [&] { release.WaitForNotification(); }).ok());
  std::vector<int> order;
  for (int level : {2, 0, 1}) {
    ASSERT_TRUE(s.Submit(
                     q,
                     [&, level] {
                       order.push_back(level);
                       ++ran;
                     },
                     QueueSlot{static_cast<uint64_t>(level), 0})
                    .ok());
  }
  ASSERT_EQ(q->waiting(), 3);
  auto taken = q->TakeWaiting();
  EXPECT_EQ(q->waiting(), 0);
  ASSERT_EQ(taken.size(), 3u);
  for (auto& work : taken) std::move(work)();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  release.Notify();
  ASSERT_TRUE(WaitFor([&] { return q->running() == 0; }));
  EXPECT_EQ(ran.load(), 3);  // only the three calls above
}

}  // namespace
}  // namespace cortado
