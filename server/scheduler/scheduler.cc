#include "server/scheduler/scheduler.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/thread_pool.h"

namespace cortado {

int ExecutionQueue::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

int ExecutionQueue::waiting() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [level, items] : pending_) n += items.size();
  return static_cast<int>(n);
}

std::vector<absl::AnyInvocable<void() &&>> ExecutionQueue::TakeWaiting() {
  absl::MutexLock lock(&mu_);
  std::vector<absl::AnyInvocable<void() &&>> items;
  for (auto& [level, waiting] : pending_) {
    for (auto& item : waiting) items.push_back(std::move(item));
  }
  pending_.clear();
  return items;
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

absl::Status Scheduler::Submit(std::shared_ptr<ExecutionQueue> queue, Work work, QueueSlot slot) {
  {
    absl::MutexLock lock(&queue->mu_);
    if (queue->running_ >= queue->max_concurrency_) {
      auto level = queue->pending_.find(slot.priority);
      const size_t waiting = level == queue->pending_.end() ? 0 : level->second.size();
      if (slot.max_queue_size > 0 && waiting >= slot.max_queue_size) {
        return absl::UnavailableError(absl::StrCat(
            "exceeds the maximum queue size (", slot.max_queue_size, " requests waiting",
            slot.priority > 0 ? absl::StrCat(" at priority ", slot.priority) : "", ")"));
      }
      queue->pending_[slot.priority].push_back(std::move(work));
      return absl::OkStatus();
    }
    ++queue->running_;
  }
  Enqueue(Item{std::move(queue), std::move(work)});
  return absl::OkStatus();
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
        auto& pending = item.queue->pending_;
        if (pending.empty()) {
          --item.queue->running_;
        } else {
          auto level = pending.begin();
          next = std::move(level->second.front());
          level->second.pop_front();
          if (level->second.empty()) pending.erase(level);
        }
      }
      if (next) Enqueue(Item{std::move(item.queue), std::move(next)});
    }
  }
}

}  // namespace cortado
