// Scheduler: the worker threads that run inference, so that network threads only parse and hand
// off, and the dynamic batcher (Triton's dynamic_batching in config.pbtxt).
//
// Each model version has an ExecutionQueue. Requests (QueueEntry, subclassed by the caller for
// its payload) wait there by priority level (lower level first, Triton's numbering), in FIFO
// order within a level, each level holding at most its max_queue_size (Triton's
// ModelQueuePolicy). Whenever one of the queue's `max_concurrency` instances (the model's
// instance_group count) is free, the queue forms a batch from the head of the queue, following
// Triton's rules (FormBatch below): entries with equal batch keys, in queue order, up to
// max_batch_size rows, cut to a preferred_batch_size where one is reached, and held back up to
// max_queue_delay for more requests when the batch could still grow. A batch of one entry is
// formed for a queue without batching. An entry whose DELAY timeout has passed moves behind the
// entries of its level that are still in time (timeout_action DELAY).
//
// Each batch runs on one of the queue's instances, numbered 0 to max_concurrency - 1, that no other
// running batch holds; the free instances are handed out in turn (the one free longest first), so
// that instances listed alternately across GPUs share the work between them.
//
// The Scheduler's one BatchRunner (the service's) runs each batch on a worker thread and returns
// one answer per entry; the answers run at once, or in the order the entries were submitted when
// the queue preserves ordering (preserve_ordering). The instance is free again as soon as the
// runner returns, before the answers run. Post() runs work outside any queue
// (answers to rejected requests).
//
// Thread-safe. Flush() (at shutdown) sends the batches waiting for their queue delay at once. The
// destructor forms and runs every batch still queued (without waiting for any queue delay), runs
// all answers, then joins the threads.
#ifndef CORTADO_SERVER_SCHEDULER_SCHEDULER_H_
#define CORTADO_SERVER_SCHEDULER_SCHEDULER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace cortado {

using SchedulerClock = std::chrono::steady_clock;

// How a queue forms batches (Triton's ModelDynamicBatching). The default runs every entry alone.
struct BatchPolicy {
  int64_t max_batch_size = 0;                  // most rows in one batch; < 2: no batching
  std::vector<int64_t> preferred_batch_sizes;  // ascending
  SchedulerClock::duration max_queue_delay{0};
  bool preserve_ordering = false;
};

// Where an entry waits in its ExecutionQueue.
struct QueueSlot {
  uint64_t priority = 0;        // lower levels run first
  uint32_t max_queue_size = 0;  // most entries this level may hold waiting; 0: no limit
};

// One request waiting in a queue; the caller derives its payload from it.
struct QueueEntry {
  virtual ~QueueEntry() = default;
  std::string batch_key;  // entries batch together only when their keys are equal
  int64_t rows = 1;       // the entry's size along the batch dimension
  QueueSlot slot;
  // timeout_action DELAY: after this, the entry waits behind its level's entries still in time.
  SchedulerClock::time_point delay_after = SchedulerClock::time_point::max();
  SchedulerClock::time_point enqueued;  // set by Submit
  uint64_t seq = 0;                     // set by Submit: the entry's place in submission order
};

using Batch = std::vector<std::unique_ptr<QueueEntry>>;

// Which of the queued entries (in queue order; their batch keys, rows and enqueue times count)
// make the next batch: the first `count` of them, or none yet, until `wait_until` (Triton's rules).
// Pure; the queue calls it under its lock, and the unit tests call it directly.
struct BatchChoice {
  size_t count = 0;
  SchedulerClock::time_point wait_until = SchedulerClock::time_point::max();
};
BatchChoice FormBatch(const BatchPolicy& policy, const std::vector<const QueueEntry*>& queued,
                      SchedulerClock::time_point now, bool flush);

class ExecutionQueue {
 public:
  explicit ExecutionQueue(int max_concurrency, BatchPolicy policy = {});
  ExecutionQueue(const ExecutionQueue&) = delete;
  ExecutionQueue& operator=(const ExecutionQueue&) = delete;
  int max_concurrency() const { return max_concurrency_; }
  const BatchPolicy& policy() const { return policy_; }
  int running() const;  // batches running now (for tests and statistics)
  int waiting() const;  // entries waiting, every level
  // Removes every entry still waiting, in the order they would have run, for the caller to
  // answer at once (shutdown past its exit timeout, when none of them will run).
  Batch TakeWaiting();

 private:
  friend class Scheduler;
  struct Level {
    std::deque<std::unique_ptr<QueueEntry>> in_time;
    std::deque<std::unique_ptr<QueueEntry>> delayed;  // past their DELAY timeout
    size_t size() const { return in_time.size() + delayed.size(); }
  };
  // Moves entries whose DELAY timeout has passed to their level's delayed list.
  void DelayExpired(SchedulerClock::time_point now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the next batch off the queue, or returns an empty one (and when to look again).
  Batch TakeBatch(SchedulerClock::time_point now, bool flush,
                  SchedulerClock::time_point* wait_until) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int max_concurrency_;
  const BatchPolicy policy_;
  mutable absl::Mutex mu_;
  std::deque<int> free_ ABSL_GUARDED_BY(mu_);  // instances no batch holds, the longest free first
  std::map<uint64_t, Level> levels_ ABSL_GUARDED_BY(mu_);  // a level is erased when it empties
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  size_t delayable_ ABSL_GUARDED_BY(mu_) = 0;  // in-time entries with a DELAY timeout
  // The earliest wake-up registered with the Scheduler (max: none).
  SchedulerClock::time_point timer_ ABSL_GUARDED_BY(mu_) = SchedulerClock::time_point::max();
  // preserve_ordering: answers ready but not yet due, by seq; the next seq to answer; whether a
  // worker is running answers now (only one does, so that they run in order).
  std::map<uint64_t, absl::AnyInvocable<void() &&>> ready_ ABSL_GUARDED_BY(mu_);
  uint64_t next_answer_ ABSL_GUARDED_BY(mu_) = 0;
  bool answering_ ABSL_GUARDED_BY(mu_) = false;
};

class Scheduler {
 public:
  using Work = absl::AnyInvocable<void() &&>;
  // Runs one batch (its entries in queue order) on the queue's instance `instance` and returns one
  // answer per entry, in the same order. Called on worker threads, for any number of batches at
  // once.
  using BatchRunner =
      std::function<std::vector<Work>(ExecutionQueue& queue, int instance, Batch batch)>;

  // num_threads < 1: one per hardware thread.
  Scheduler(int num_threads, BatchRunner run);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues `*entry` on `queue`, taking it. Unavailable, leaving `*entry` with the caller, when its
  // level already holds slot.max_queue_size entries.
  absl::Status Submit(const std::shared_ptr<ExecutionQueue>& queue,
                      std::unique_ptr<QueueEntry>* entry);
  // From now on batches no longer wait for their queue delay (shutdown): those waiting go now.
  void Flush();
  // Runs `work` on a worker thread, outside any queue.
  void Post(Work work);
  int num_threads() const { return static_cast<int>(threads_.size()); }

 private:
  struct Item {
    std::shared_ptr<ExecutionQueue> queue;  // null for Post()
    int instance = -1;
    Batch batch;
    Work work;  // Post() only
  };
  // Starts as many batches of `queue` as it has free instances and ready entries.
  void Dispatch(const std::shared_ptr<ExecutionQueue>& queue);
  void RunBatch(Item item);
  // Runs a batch's answers (entries `seqs`), holding them back for earlier entries when the
  // queue preserves ordering.
  void Answer(ExecutionQueue& queue, std::vector<Work> answers, const std::vector<uint64_t>& seqs);
  void Enqueue(Item item);
  void WorkerLoop();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const BatchRunner run_;
  absl::Mutex mu_;
  std::deque<Item> runnable_ ABSL_GUARDED_BY(mu_);
  // Queues holding entries back for their queue delay, by when to look again.
  std::multimap<SchedulerClock::time_point, std::weak_ptr<ExecutionQueue>> timers_
      ABSL_GUARDED_BY(mu_);
  uint64_t timers_added_ ABSL_GUARDED_BY(mu_) = 0;  // wakes idle workers for a new timer
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> flush_{false};  // Flush() or stopping: batches no longer wait for their delay
  std::vector<std::thread> threads_;
};

}  // namespace cortado

#endif  // CORTADO_SERVER_SCHEDULER_SCHEDULER_H_
