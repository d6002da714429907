#include "server/scheduler/execution_threads.h"

#include <stdexcept>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "core/thread_pool.h"
#include "gtest/gtest.h"

namespace cortado {
namespace {

TEST(ExecutionThreadsTest, WorkAloneRunsOnTheLeaderWithEveryThread) {
  ExecutionThreads threads(4);
  std::thread::id where;
  int count = 0;
  threads.Run([&] {
    where = std::this_thread::get_id();
    count = IntraOpThreads();
  });
  EXPECT_NE(where, std::this_thread::get_id());
  EXPECT_EQ(count, 4);
  // The same leader every time: libgomp keeps one pool of team threads.
  std::thread::id again;
  threads.Run([&] { again = std::this_thread::get_id(); });
  EXPECT_EQ(again, where);
}

TEST(ExecutionThreadsTest, OneThreadRunsInlineWithOne) {
  ExecutionThreads threads(1);
  std::thread::id where;
  int count = 0;
  threads.Run([&] {
    where = std::this_thread::get_id();
    count = IntraOpThreads();
  });
  EXPECT_EQ(where, std::this_thread::get_id());
  EXPECT_EQ(count, 1);
}

TEST(ExecutionThreadsTest, ConcurrentWorkSharesTheThreads) {
  ExecutionThreads threads(4);
  absl::Notification started, release;
  int first_count = 0, second_count = 0, third_count = 0;
  std::thread::id first_where, second_where;
  std::thread first([&] {
    threads.Run([&] {
      first_where = std::this_thread::get_id();
      first_count = IntraOpThreads();
      started.Notify();
      release.WaitForNotification();
    });
  });
  started.WaitForNotification();
  // The leader is taken: the second piece runs here, with one thread.
  threads.Run([&] {
    second_where = std::this_thread::get_id();
    second_count = IntraOpThreads();
  });
  release.Notify();
  first.join();
  EXPECT_EQ(first_count, 4);
  EXPECT_EQ(second_count, 1);
  EXPECT_EQ(second_where, std::this_thread::get_id());
  EXPECT_NE(first_where, second_where);
  // Alone again: every thread, on the leader.
  threads.Run([&] { third_count = IntraOpThreads(); });
  EXPECT_EQ(third_count, 4);
}

TEST(ExecutionThreadsTest, TheLeaderGetsWhatOthersLeave) {
  ExecutionThreads threads(4);
  absl::Notification leading, inline_started, release_leader, release_inline;
  int inline_count = 0;
  std::thread a([&] {
    threads.Run([&] {  // alone: takes the leader
      leading.Notify();
      release_leader.WaitForNotification();
    });
  });
  leading.WaitForNotification();
  std::thread b([&] {
    threads.Run([&] {  // the leader is taken: inline, one thread
      inline_count = IntraOpThreads();
      inline_started.Notify();
      release_inline.WaitForNotification();
    });
  });
  inline_started.WaitForNotification();
  release_leader.Notify();
  a.join();
  // The leader is free again while `b` still runs with its one thread: 4 - 1.
  int count = 0;
  threads.Run([&] { count = IntraOpThreads(); });
  release_inline.Notify();
  b.join();
  EXPECT_EQ(inline_count, 1);
  EXPECT_EQ(count, 3);
}

TEST(ExecutionThreadsTest, ExceptionsReachTheCaller) {
  ExecutionThreads threads(2);
  EXPECT_THROW(threads.Run([] { throw std::runtime_error("leader"); }), std::runtime_error);
  ExecutionThreads one(1);
  EXPECT_THROW(one.Run([] { throw std::runtime_error("inline"); }), std::runtime_error);
  // Still usable afterwards, with every thread.
  int count = 0;
  threads.Run([&] { count = IntraOpThreads(); });
  EXPECT_EQ(count, 2);
}

}  // namespace
}  // namespace cortado
