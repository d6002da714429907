#include "server/scheduler/scheduler.h"

#include <utility>

#include "core/thread_pool.h"

namespace cortado {

int ExecutionQueue::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

int ExecutionQueue::waiting() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(pending_.size());
}

Scheduler::Scheduler(int num_threads) {
  if (num_threads < 1) num_threads = AvailableCpus();
  if (num_threads < 1) num_threads = 1;
  threads_.reserve(num_threads);
  for (int i = 0; i < num_threads; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

Scheduler::~Scheduler() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
  // Work that was still waiting for an instance when the last worker left (none, unless it was
  // submitted during destruction) runs here.
  std::deque<Item> rest;
  {
    absl::MutexLock lock(&mu_);
    rest.swap(runnable_);
  }
  for (Item& item : rest) std::move(item.work)();
}

void Scheduler::Submit(std::shared_ptr<ExecutionQueue> queue, Work work) {
  {
    absl::MutexLock lock(&queue->mu_);
    if (queue->running_ >= queue->max_concurrency_) {
      queue->pending_.push_back(std::move(work));
      return;
    }
    ++queue->running_;
  }
  Enqueue(Item{std::move(queue), std::move(work)});
}

bool Scheduler::HasWorkOrStopping() const { return stopping_ || !runnable_.empty(); }

void Scheduler::Post(Work work) { Enqueue(Item{nullptr, std::move(work)}); }

void Scheduler::Enqueue(Item item) {
  absl::MutexLock lock(&mu_);
  runnable_.push_back(std::move(item));
}

void Scheduler::WorkerLoop() {
  for (;;) {
    Item item;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &Scheduler::HasWorkOrStopping));
      if (runnable_.empty()) return;  // stopping, and nothing left to run
      item = std::move(runnable_.front());
      runnable_.pop_front();
    }
    std::move(item.work)();
    item.work = nullptr;  // release what the work held before touching the queue again
    if (item.queue) {
      Work next;
      {
        absl::MutexLock lock(&item.queue->mu_);
        if (item.queue->pending_.empty()) {
          --item.queue->running_;
        } else {
          next = std::move(item.queue->pending_.front());
          item.queue->pending_.pop_front();
        }
      }
      if (next) Enqueue(Item{std::move(item.queue), std::move(next)});
    }
  }
}

}  // namespace cortado
