#include "server/scheduler/scheduler.h"

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace cortado {
namespace {

using Clock = SchedulerClock;

// Waits (generously) until `pred` holds; returns whether it did.
template <typename Pred>
bool WaitFor(Pred pred) {
  for (int i = 0; i < 20000 && !pred(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

// A test request: its id, and a gate its batch waits on before running.
struct Entry : QueueEntry {
  int id = 0;
  absl::Notification* gate = nullptr;
};

std::unique_ptr<QueueEntry> Make(int id, std::string key = "", int64_t rows = 1,
                                 QueueSlot slot = {}, absl::Notification* gate = nullptr) {
  auto e = std::make_unique<Entry>();
  e->id = id;
  e->batch_key = std::move(key);
  e->rows = rows;
  e->slot = slot;
  e->gate = gate;
  return e;
}

// A Scheduler whose runner records each batch (as entry ids) and each answer, in order.
class Recorder {
 public:
  explicit Recorder(int threads)
      : scheduler_(threads,
                   [this](ExecutionQueue&, int, Batch batch) { return Run(std::move(batch)); }) {}

  Scheduler& scheduler() { return scheduler_; }
  absl::Status Submit(const std::shared_ptr<ExecutionQueue>& q, std::unique_ptr<QueueEntry> e) {
    return scheduler_.Submit(q, &e);
  }
  std::vector<std::vector<int>> batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }
  std::vector<int> answers() {
    absl::MutexLock lock(&mu_);
    return answers_;
  }
  bool WaitAnswers(size_t n) {
    return WaitFor([&] { return answers().size() >= n; });
  }

 private:
  std::vector<Scheduler::Work> Run(Batch batch) {
    std::vector<int> ids;
    for (auto& e : batch) ids.push_back(static_cast<Entry&>(*e).id);
    {
      absl::MutexLock lock(&mu_);
      batches_.push_back(ids);
    }
    for (auto& e : batch) {
      if (auto* gate = static_cast<Entry&>(*e).gate) gate->WaitForNotification();
    }
    std::vector<Scheduler::Work> answers;
    for (int id : ids) {
      answers.push_back([this, id] {
        absl::MutexLock lock(&mu_);
        answers_.push_back(id);
      });
    }
    return answers;
  }

  absl::Mutex mu_;
  std::vector<std::vector<int>> batches_ ABSL_GUARDED_BY(mu_);
  std::vector<int> answers_ ABSL_GUARDED_BY(mu_);
  Scheduler scheduler_;  // last: its threads stop before the records go
};

// FormBatch on entries given as (key, rows), all enqueued at `t0`.
BatchChoice Form(const BatchPolicy& policy, const std::vector<std::pair<std::string, int>>& spec,
                 Clock::time_point t0, Clock::time_point now, bool flush = false) {
  std::vector<std::unique_ptr<QueueEntry>> owned;
  std::vector<const QueueEntry*> queued;
  for (const auto& [key, rows] : spec) {
    owned.push_back(Make(0, key, rows));
    owned.back()->enqueued = t0;
    queued.push_back(owned.back().get());
  }
  return FormBatch(policy, queued, now, flush);
}

BatchPolicy Policy(int64_t max, std::vector<int64_t> preferred = {},
                   Clock::duration delay = Clock::duration::zero()) {
  BatchPolicy p;
  p.max_batch_size = max;
  p.preferred_batch_sizes = std::move(preferred);
  p.max_queue_delay = delay;
  return p;
}

TEST(FormBatchTest, WithoutBatchingEveryEntryRunsAlone) {
  const auto t0 = Clock::now();
  EXPECT_EQ(Form(BatchPolicy{}, {{"a", 1}, {"a", 1}}, t0, t0).count, 1u);
  EXPECT_EQ(Form(Policy(1), {{"a", 1}, {"a", 1}}, t0, t0).count, 1u);
  EXPECT_EQ(Form(Policy(8), {}, t0, t0).count, 0u);
}

TEST(FormBatchTest, TakesTheRunOfEqualKeysThatFits) {
  const auto t0 = Clock::now();
  // Different non-batch shapes never mix: the batch stops at the first other key.
  EXPECT_EQ(Form(Policy(8), {{"a", 1}, {"a", 2}, {"b", 1}, {"a", 1}}, t0, t0).count, 2u);
  EXPECT_EQ(Form(Policy(8), {{"b", 1}, {"a", 2}}, t0, t0).count, 1u);
  // Rows add up to at most max_batch_size.
  EXPECT_EQ(Form(Policy(4), {{"a", 2}, {"a", 1}, {"a", 2}}, t0, t0).count, 2u);
  EXPECT_EQ(Form(Policy(4), {{"a", 2}, {"a", 2}, {"a", 1}}, t0, t0).count, 2u);
}

TEST(FormBatchTest, PreferredSizesAndTheQueueDelay) {
  const auto t0 = Clock::now();
  const auto delay = std::chrono::milliseconds(100);
  const BatchPolicy p = Policy(16, {4, 8}, delay);
  // 3 rows can still grow towards a preferred size: wait until the head has waited the delay.
  BatchChoice c = Form(p, {{"a", 1}, {"a", 1}, {"a", 1}}, t0, t0);
  EXPECT_EQ(c.count, 0u);
  EXPECT_EQ(c.wait_until, t0 + delay);
  // ... then send what there is; and at once on shutdown (flush).
  EXPECT_EQ(Form(p, {{"a", 1}, {"a", 1}, {"a", 1}}, t0, t0 + delay).count, 3u);
  EXPECT_EQ(Form(p, {{"a", 1}, {"a", 1}, {"a", 1}}, t0, t0, /*flush=*/true).count, 3u);
  // A preferred size is sent at once.
  EXPECT_EQ(Form(p, {{"a", 2}, {"a", 2}}, t0, t0).count, 2u);
  // Past the largest preferred size: cut back to the largest preferred size reached.
  EXPECT_EQ(Form(p, {{"a", 4}, {"a", 2}, {"a", 2}, {"a", 1}}, t0, t0).count, 3u);
  // A batch that cannot grow (the next entry has another key) goes without waiting, cut to
  // the largest preferred size it passed.
  EXPECT_EQ(Form(p, {{"a", 1}, {"a", 1}, {"b", 1}}, t0, t0).count, 2u);
  EXPECT_EQ(Form(p, {{"a", 4}, {"a", 1}, {"b", 1}}, t0, t0).count, 1u);
  // No delay: what there is goes at once.
  EXPECT_EQ(Form(Policy(16, {4, 8}), {{"a", 1}, {"a", 1}, {"a", 1}}, t0, t0).count, 3u);
}

TEST(SchedulerTest, RunsEveryEntryOnWorkerThreads) {
  std::atomic<int> ran{0}, posted{0}, on_caller{0};
  const auto caller = std::this_thread::get_id();
  // The queue outlives the scheduler, as a model's queue outlives cortadod's scheduler: declared
  // after it, the queue went first, taking its last four entries with it whenever no batch of
  // it was still running (about half the runs on a 2-core AMD EPYC).
  auto q = std::make_shared<ExecutionQueue>(2, Policy(8, {}, std::chrono::hours(1)));
  {
    Scheduler s(3, [&](ExecutionQueue&, int, Batch batch) {
      if (std::this_thread::get_id() == caller) ++on_caller;
      std::vector<Scheduler::Work> answers;
      for (size_t i = 0; i < batch.size(); ++i) answers.push_back([&] { ++ran; });
      return answers;
    });
    EXPECT_EQ(s.num_threads(), 3);
    for (int i = 0; i < 100; ++i) {
      auto e = Make(i, "k");
      ASSERT_TRUE(s.Submit(q, &e).ok());
      s.Post([&] { ++posted; });
    }
  }  // the destructor runs everything queued, without waiting out the hour's delay
  EXPECT_EQ(ran.load(), 100);
  EXPECT_EQ(posted.load(), 100);
  EXPECT_EQ(on_caller.load(), 0);
}

// ... and each running batch holds an instance of its own.
TEST(SchedulerTest, InstanceCountBoundsConcurrencyPerQueue) {
  std::atomic<int> running{0}, max_running{0};
  absl::Notification release;
  absl::Mutex mu;
  std::set<int> held, used;
  bool shared = false;
  Scheduler s(6, [&](ExecutionQueue&, int instance, Batch batch) {
    {
      absl::MutexLock lock(&mu);
      shared = shared || !held.insert(instance).second || instance < 0 || instance > 1;
      used.insert(instance);
    }
    int now = ++running;
    int prev = max_running.load();
    while (now > prev && !max_running.compare_exchange_weak(prev, now)) {
    }
    release.WaitForNotification();
    {
      absl::MutexLock lock(&mu);
      held.erase(instance);
    }
    --running;
    std::vector<Scheduler::Work> answers;
    for (size_t i = 0; i < batch.size(); ++i) answers.push_back([] {});
    return answers;
  });
  auto q = std::make_shared<ExecutionQueue>(2);  // no batching
  for (int i = 0; i < 6; ++i) {
    auto e = Make(i);
    ASSERT_TRUE(s.Submit(q, &e).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return running.load() == 2; }));
  EXPECT_EQ(q->running(), 2);
  EXPECT_EQ(q->waiting(), 4);  // four wait for an instance even though workers are free
  release.Notify();
  ASSERT_TRUE(WaitFor([&] { return q->running() == 0 && q->waiting() == 0; }));
  EXPECT_EQ(max_running.load(), 2);
  absl::MutexLock lock(&mu);
  EXPECT_FALSE(shared) << "two running batches held one instance, or one outside 0 and 1";
  EXPECT_EQ(used, (std::set<int>{0, 1}));
}

// Batches that run one at a time take the instances in turn.
TEST(SchedulerTest, FreeInstancesAreTakenInTurn) {
  absl::Mutex mu;
  std::vector<int> instances;
  Scheduler s(1, [&](ExecutionQueue&, int instance, Batch batch) {
    absl::MutexLock lock(&mu);
    instances.push_back(instance);
    std::vector<Scheduler::Work> answers;
    for (size_t i = 0; i < batch.size(); ++i) answers.push_back([] {});
    return answers;
  });
  auto q = std::make_shared<ExecutionQueue>(3);
  for (int i = 0; i < 5; ++i) {
    auto e = Make(i);
    ASSERT_TRUE(s.Submit(q, &e).ok());
    ASSERT_TRUE(WaitFor([&] { return q->running() == 0 && q->waiting() == 0; }));
  }
  absl::MutexLock lock(&mu);
  EXPECT_EQ(instances, (std::vector<int>{0, 1, 2, 0, 1}));
}

// While the one instance is busy, requests gather; the next execution takes all that fit, and
// requests with another batch key wait for an execution of their own.
TEST(SchedulerTest, RequestsThatArriveWhileTheInstanceIsBusyRunAsOneBatch) {
  Recorder r(2);
  auto q = std::make_shared<ExecutionQueue>(1, Policy(4));
  absl::Notification gate;
  ASSERT_TRUE(r.Submit(q, Make(0, "a", 1, {}, &gate)).ok());
  ASSERT_TRUE(WaitFor([&] { return q->running() == 1; }));
  const std::vector<std::pair<int, std::string>> next = {{1, "a"}, {2, "a"}, {3, "a"}, {4, "a"},
                                                         {5, "a"}, {6, "b"}, {7, "a"}};
  for (const auto& [id, key] : next) ASSERT_TRUE(r.Submit(q, Make(id, key)).ok());
  EXPECT_EQ(q->waiting(), 7);
  gate.Notify();
  ASSERT_TRUE(r.WaitAnswers(8));
  EXPECT_EQ(r.batches(), (std::vector<std::vector<int>>{{0}, {1, 2, 3, 4}, {5}, {6}, {7}}));
}

TEST(SchedulerTest, APartialBatchWaitsForItsPreferredSize) {
  Recorder r(2);
  // An hour's delay: only reaching the preferred size (or shutdown) sends the batch.
  auto q = std::make_shared<ExecutionQueue>(1, Policy(8, {4}, std::chrono::hours(1)));
  for (int id = 0; id < 3; ++id) ASSERT_TRUE(r.Submit(q, Make(id, "a")).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(r.batches().empty());
  EXPECT_EQ(q->waiting(), 3);
  ASSERT_TRUE(r.Submit(q, Make(3, "a")).ok());
  ASSERT_TRUE(r.WaitAnswers(4));
  EXPECT_EQ(r.batches(), (std::vector<std::vector<int>>{{0, 1, 2, 3}}));
}

TEST(SchedulerTest, APartialBatchGoesOnceTheDelayHasPassed) {
  Recorder r(2);
  auto q = std::make_shared<ExecutionQueue>(1, Policy(8, {4}, std::chrono::milliseconds(20)));
  for (int id = 0; id < 3; ++id) ASSERT_TRUE(r.Submit(q, Make(id, "a")).ok());
  ASSERT_TRUE(r.WaitAnswers(3));  // no fourth request comes; the timer sends the three
  EXPECT_EQ(r.batches().size(), 1u);
  EXPECT_EQ(r.batches()[0].size(), 3u);
}

TEST(SchedulerTest, FlushSendsBatchesWaitingForTheirDelay) {
  Recorder r(2);
  auto q = std::make_shared<ExecutionQueue>(1, Policy(8, {4}, std::chrono::hours(1)));
  for (int id = 0; id < 2; ++id) ASSERT_TRUE(r.Submit(q, Make(id, "a")).ok());
  r.scheduler().Flush();
  ASSERT_TRUE(r.WaitAnswers(2));
  EXPECT_EQ(r.batches(), (std::vector<std::vector<int>>{{0, 1}}));
}

// Triton's max_queue_size: a level that already holds that many waiting entries refuses the
// next one at once (Unavailable), leaving it with the caller; other levels are not affected.
TEST(SchedulerTest, AFullLevelRefusesAtOnce) {
  Recorder r(1);
  auto q = std::make_shared<ExecutionQueue>(1);
  absl::Notification gate;
  ASSERT_TRUE(r.Submit(q, Make(0, "", 1, {}, &gate)).ok());  // takes the instance
  ASSERT_TRUE(WaitFor([&] { return q->running() == 1; }));
  const QueueSlot slot{/*priority=*/0, /*max_queue_size=*/2};
  ASSERT_TRUE(r.Submit(q, Make(1, "", 1, slot)).ok());
  ASSERT_TRUE(r.Submit(q, Make(2, "", 1, slot)).ok());
  std::unique_ptr<QueueEntry> refused = Make(3, "", 1, slot);
  absl::Status full = r.scheduler().Submit(q, &refused);
  EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(full.message().find("exceeds the maximum queue size (2 requests waiting)"),
            std::string::npos)
      << full;
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(static_cast<Entry&>(*refused).id, 3);
  EXPECT_TRUE(r.Submit(q, Make(4, "", 1, QueueSlot{1, 2})).ok());  // another level has room
  EXPECT_EQ(q->waiting(), 3);
  gate.Notify();
  ASSERT_TRUE(r.WaitAnswers(4));
  EXPECT_EQ(r.answers(), (std::vector<int>{0, 1, 2, 4}));  // 3 never ran
}

TEST(SchedulerTest, LowerPriorityLevelsRunFirstAndBatchTogether) {
  Recorder r(1);
  auto q = std::make_shared<ExecutionQueue>(1, Policy(2));
  absl::Notification gate;
  ASSERT_TRUE(r.Submit(q, Make(0, "a", 1, {}, &gate)).ok());
  ASSERT_TRUE(WaitFor([&] { return q->running() == 1; }));
  const std::vector<std::pair<int, uint64_t>> next = {{1, 3}, {2, 1}, {3, 2}, {4, 1}, {5, 3}};
  for (const auto& [id, level] : next) {
    ASSERT_TRUE(r.Submit(q, Make(id, "a", 1, QueueSlot{level, 0})).ok());
  }
  gate.Notify();
  ASSERT_TRUE(r.WaitAnswers(6));
  EXPECT_EQ(r.batches(), (std::vector<std::vector<int>>{{0}, {2, 4}, {3, 1}, {5}}));
}

// timeout_action DELAY: an entry past its timeout waits behind the entries of its level that
// are still in time, but still runs.
TEST(SchedulerTest, DelayedEntriesYieldToThoseInTime) {
  Recorder r(1);
  auto q = std::make_shared<ExecutionQueue>(1);
  absl::Notification gate;
  ASSERT_TRUE(r.Submit(q, Make(0, "", 1, {}, &gate)).ok());
  ASSERT_TRUE(WaitFor([&] { return q->running() == 1; }));
  for (int id = 1; id <= 4; ++id) {
    std::unique_ptr<QueueEntry> e = Make(id);
    if (id % 2 == 1) e->delay_after = Clock::now();  // timed out already
    ASSERT_TRUE(r.scheduler().Submit(q, &e).ok());
  }
  gate.Notify();
  ASSERT_TRUE(r.WaitAnswers(5));
  EXPECT_EQ(r.answers(), (std::vector<int>{0, 2, 4, 1, 3}));
}

// With two instances the second batch finishes first; preserve_ordering still answers in
// submission order, and without it the answers come as the batches finish.
TEST(SchedulerTest, PreserveOrderingAnswersInSubmissionOrder) {
  for (bool preserve : {true, false}) {
    Recorder r(3);
    BatchPolicy p;
    p.preserve_ordering = preserve;
    auto q = std::make_shared<ExecutionQueue>(2, p);
    absl::Notification gate;
    ASSERT_TRUE(r.Submit(q, Make(0, "", 1, {}, &gate)).ok());
    ASSERT_TRUE(r.Submit(q, Make(1)).ok());
    ASSERT_TRUE(WaitFor([&] { return r.batches().size() == 2; }));
    if (!preserve) {
      ASSERT_TRUE(r.WaitAnswers(1));
    }
    gate.Notify();
    ASSERT_TRUE(r.WaitAnswers(2));
    EXPECT_EQ(r.answers(), preserve ? (std::vector<int>{0, 1}) : (std::vector<int>{1, 0}))
        << "preserve_ordering " << preserve;
  }
}

TEST(SchedulerTest, QueuesDoNotBlockEachOther) {
  Recorder r(2);
  auto slow = std::make_shared<ExecutionQueue>(1);
  auto fast = std::make_shared<ExecutionQueue>(1);
  absl::Notification gate;
  ASSERT_TRUE(r.Submit(slow, Make(0, "", 1, {}, &gate)).ok());
  ASSERT_TRUE(r.Submit(slow, Make(1)).ok());  // waits behind the first, without a worker
  ASSERT_TRUE(r.Submit(fast, Make(2)).ok());
  ASSERT_TRUE(r.WaitAnswers(1));
  EXPECT_EQ(r.answers(), (std::vector<int>{2}));
  gate.Notify();
  ASSERT_TRUE(r.WaitAnswers(3));
}

// Shutdown past the exit timeout takes the waiting entries to answer them at once, while the
// running one goes on; the scheduler never runs the taken entries itself.
TEST(SchedulerTest, TakeWaitingRemovesWaitingEntriesInRunOrder) {
  Recorder r(1);
  auto q = std::make_shared<ExecutionQueue>(1);
  absl::Notification gate;
  ASSERT_TRUE(r.Submit(q, Make(0, "", 1, {}, &gate)).ok());
  ASSERT_TRUE(WaitFor([&] { return q->running() == 1; }));
  for (const auto& [id, level] : std::vector<std::pair<int, uint64_t>>{{1, 2}, {2, 0}, {3, 1}}) {
    ASSERT_TRUE(r.Submit(q, Make(id, "", 1, QueueSlot{level, 0})).ok());
  }
  ASSERT_EQ(q->waiting(), 3);
  Batch taken = q->TakeWaiting();
  EXPECT_EQ(q->waiting(), 0);
  std::vector<int> ids;
  for (const auto& e : taken) ids.push_back(static_cast<const Entry&>(*e).id);
  EXPECT_EQ(ids, (std::vector<int>{2, 3, 1}));
  gate.Notify();
  ASSERT_TRUE(r.WaitAnswers(1));
  ASSERT_TRUE(WaitFor([&] { return q->running() == 0; }));
  EXPECT_EQ(r.batches(), (std::vector<std::vector<int>>{{0}}));  // only the running entry ran
}

}  // namespace
}  // namespace cortado
