// Scheduler: the worker threads that run inference, so that network threads only parse and hand
// off. Work for a model version goes through that version's ExecutionQueue, which lets at most
// `max_concurrency` items (the model's instance_group count) run at once, all sharing the one
// Predictor (and its weights); the rest wait by priority level (lower level first, Triton's
// priority numbering), in FIFO order within a level, each level holding at most its
// max_queue_size (Triton's ModelQueuePolicy). Any number of queues share the pool. Post() runs
// work with no instance limit (completions of rejected requests).
//
// Dynamic batching is not done yet: every request is its own execution.
//
// Thread-safe. The destructor runs all work already submitted (including work still waiting for
// an instance), then joins the threads.
#ifndef CORTADO_SERVER_SCHEDULER_SCHEDULER_H_
#define CORTADO_SERVER_SCHEDULER_SCHEDULER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace cortado {

class ExecutionQueue {
 public:
  explicit ExecutionQueue(int max_concurrency)
      : max_concurrency_(max_concurrency < 1 ? 1 : max_concurrency) {}
  ExecutionQueue(const ExecutionQueue&) = delete;
  ExecutionQueue& operator=(const ExecutionQueue&) = delete;
  int max_concurrency() const { return max_concurrency_; }
  int running() const;  // items running now (for tests and statistics)
  int waiting() const;  // items waiting for an instance, every level
  // Removes every item still waiting for an instance and returns them in the order they would
  // have run, for the caller to run at once (shutdown past its exit timeout, when each item
  // only answers that it was not run).
  std::vector<absl::AnyInvocable<void() &&>> TakeWaiting();

 private:
  friend class Scheduler;
  const int max_concurrency_;
  mutable absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  // Waiting items by priority level; a level is erased when it empties.
  std::map<uint64_t, std::deque<absl::AnyInvocable<void() &&>>> pending_ ABSL_GUARDED_BY(mu_);
};

// Where an item waits in its ExecutionQueue.
struct QueueSlot {
  uint64_t priority = 0;        // lower levels run first
  uint32_t max_queue_size = 0;  // most items this level may hold waiting; 0: no limit
};

class Scheduler {
 public:
  using Work = absl::AnyInvocable<void() &&>;

  explicit Scheduler(int num_threads);  // < 1: one per hardware thread
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs `work` on a worker thread once `queue` has a free instance. Unavailable (and `work` is
  // dropped, not run) when the item would have to wait and its level already holds
  // slot.max_queue_size items.
  absl::Status Submit(std::shared_ptr<ExecutionQueue> queue, Work work, QueueSlot slot = {});
  // Runs `work` on a worker thread, outside any queue.
  void Post(Work work);
  int num_threads() const { return static_cast<int>(threads_.size()); }

 private:
  struct Item {
    std::shared_ptr<ExecutionQueue> queue;  // null for Post()
    Work work;
  };
  void Enqueue(Item item);
  void WorkerLoop();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::deque<Item> runnable_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace cortado

#endif  // CORTADO_SERVER_SCHEDULER_SCHEDULER_H_
