#include "server/scheduler/scheduler.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/cgroup.h"
#include "core/thread_pool.h"

namespace cortado {

using Clock = SchedulerClock;

// Triton's dynamic batcher (dynamic_batch_scheduler.cc, GetDynamicBatch): the batch is the run
// of entries from the head with the head's batch key that fits in max_batch_size. It is sent at
// once when its size is a preferred size, when it cannot grow (the next entry has another key or
// would not fit, or it is full), or when it reached the largest preferred size; then it is cut
// back to the largest preferred size it passed, if any. Otherwise it waits for more entries
// until the head has waited max_queue_delay (no delay: sent at once).
BatchChoice FormBatch(const BatchPolicy& policy, const std::vector<const QueueEntry*>& queued,
                      Clock::time_point now, bool flush) {
  if (queued.empty()) return {};
  if (policy.max_batch_size < 2) return {1};
  const std::vector<int64_t>& preferred = policy.preferred_batch_sizes;
  int64_t rows = 0;
  size_t count = 0, best_preferred = 0;
  bool can_grow = true;
  for (const QueueEntry* e : queued) {
    if (e->batch_key != queued[0]->batch_key || rows + e->rows > policy.max_batch_size) {
      can_grow = false;
      break;
    }
    rows += e->rows;
    ++count;
    if (std::binary_search(preferred.begin(), preferred.end(), rows)) best_preferred = count;
  }
  if (count == 0) return {1};  // the head alone is larger than a batch: it runs alone
  if (rows == policy.max_batch_size) can_grow = false;
  if (best_preferred == count) return {count};
  if (!can_grow || (!preferred.empty() && rows >= preferred.back())) {
    return {best_preferred > 0 ? best_preferred : count};
  }
  const Clock::time_point deadline = queued[0]->enqueued + policy.max_queue_delay;
  if (flush || policy.max_queue_delay <= Clock::duration::zero() || now >= deadline) {
    return {count};
  }
  return {0, deadline};
}

ExecutionQueue::ExecutionQueue(int max_concurrency, BatchPolicy policy)
    : max_concurrency_(max_concurrency < 1 ? 1 : max_concurrency), policy_(std::move(policy)) {
  for (int i = 0; i < max_concurrency_; ++i) free_.push_back(i);
}

int ExecutionQueue::running() const {
  absl::MutexLock lock(&mu_);
  return max_concurrency_ - static_cast<int>(free_.size());
}

int ExecutionQueue::waiting() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [priority, level] : levels_) n += level.size();
  return static_cast<int>(n);
}

void ExecutionQueue::DelayExpired(Clock::time_point now) {
  if (delayable_ == 0) return;
  delayable_ = 0;
  for (auto& [priority, level] : levels_) {
    auto& in_time = level.in_time;
    auto late = std::stable_partition(in_time.begin(), in_time.end(),
                                      [now](const auto& e) { return e->delay_after > now; });
    for (auto it = late; it != in_time.end(); ++it) level.delayed.push_back(std::move(*it));
    in_time.erase(late, in_time.end());
    for (const auto& e : in_time) {
      if (e->delay_after != Clock::time_point::max()) ++delayable_;
    }
  }
}

Batch ExecutionQueue::TakeBatch(Clock::time_point now, bool flush, Clock::time_point* wait_until) {
  DelayExpired(now);
  // No batch holds more entries than rows, so a look at max_batch_size + 1 entries suffices.
  const size_t look = static_cast<size_t>(std::max<int64_t>(policy_.max_batch_size, 1)) + 1;
  std::vector<const QueueEntry*> head;
  for (const auto& [priority, level] : levels_) {
    for (const auto* list : {&level.in_time, &level.delayed}) {
      for (size_t i = 0; i < list->size() && head.size() < look; ++i) {
        head.push_back((*list)[i].get());
      }
    }
  }
  const BatchChoice choice = FormBatch(policy_, head, now, flush);
  *wait_until = choice.wait_until;
  Batch batch;
  while (batch.size() < choice.count) {
    Level& level = levels_.begin()->second;
    auto& list = level.in_time.empty() ? level.delayed : level.in_time;
    if (&list == &level.in_time && list.front()->delay_after != Clock::time_point::max()) {
      --delayable_;
    }
    batch.push_back(std::move(list.front()));
    list.pop_front();
    if (level.size() == 0) levels_.erase(levels_.begin());
  }
  return batch;
}

Batch ExecutionQueue::TakeWaiting() {
  absl::MutexLock lock(&mu_);
  Batch waiting;
  for (auto& [priority, level] : levels_) {
    for (auto* list : {&level.in_time, &level.delayed}) {
      for (auto& e : *list) waiting.push_back(std::move(e));
    }
  }
  levels_.clear();
  delayable_ = 0;
  return waiting;
}

Scheduler::Scheduler(int num_threads, BatchRunner run) : run_(std::move(run)) {
  if (num_threads < 1) num_threads = AvailableCpus();
  if (num_threads < 1) num_threads = 1;
  threads_.reserve(num_threads);
  for (int i = 0; i < num_threads; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

Scheduler::~Scheduler() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    flush_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

absl::Status Scheduler::Submit(const std::shared_ptr<ExecutionQueue>& queue,
                               std::unique_ptr<QueueEntry>* entry) {
  {
    absl::MutexLock lock(&queue->mu_);
    const QueueSlot& slot = (*entry)->slot;
    auto level = queue->levels_.find(slot.priority);
    const size_t waiting = level == queue->levels_.end() ? 0 : level->second.size();
    if (slot.max_queue_size > 0 && waiting >= slot.max_queue_size) {
      return absl::UnavailableError(
          absl::StrCat("exceeds the maximum queue size (", slot.max_queue_size, " requests waiting",
                       slot.priority > 0 ? absl::StrCat(" at priority ", slot.priority) : "", ")"));
    }
    (*entry)->enqueued = Clock::now();
    (*entry)->seq = queue->next_seq_++;
    if ((*entry)->delay_after != Clock::time_point::max()) ++queue->delayable_;
    queue->levels_[slot.priority].in_time.push_back(std::move(*entry));
  }
  Dispatch(queue);
  return absl::OkStatus();
}

void Scheduler::Dispatch(const std::shared_ptr<ExecutionQueue>& queue) {
  std::vector<Item> start;
  Clock::time_point wake = Clock::time_point::max();
  {
    absl::MutexLock lock(&queue->mu_);
    while (!queue->free_.empty() && !queue->levels_.empty()) {
      Clock::time_point wait_until;
      Batch batch = queue->TakeBatch(Clock::now(), flush_, &wait_until);
      if (batch.empty()) {
        if (wait_until < queue->timer_) wake = queue->timer_ = wait_until;
        break;
      }
      start.push_back(Item{queue, queue->free_.front(), std::move(batch), nullptr});
      queue->free_.pop_front();
    }
  }
  absl::MutexLock lock(&mu_);
  if (wake != Clock::time_point::max()) {
    timers_.emplace(wake, queue);
    ++timers_added_;
  }
  for (Item& item : start) runnable_.push_back(std::move(item));
}

void Scheduler::RunBatch(Item item) {
  ExecutionQueue& queue = *item.queue;
  std::vector<uint64_t> seqs;
  for (const auto& e : item.batch) seqs.push_back(e->seq);
  std::vector<Work> answers = run_(queue, item.instance, std::move(item.batch));
  assert(answers.size() == seqs.size() && "a BatchRunner answers every entry");
  {
    absl::MutexLock lock(&queue.mu_);
    queue.free_.push_back(item.instance);
  }
  Dispatch(item.queue);
  Answer(queue, std::move(answers), seqs);
}

void Scheduler::Answer(ExecutionQueue& queue, std::vector<Work> answers,
                       const std::vector<uint64_t>& seqs) {
  if (!queue.policy_.preserve_ordering) {
    for (Work& answer : answers) std::move(answer)();
    return;
  }
  {
    absl::MutexLock lock(&queue.mu_);
    for (size_t i = 0; i < seqs.size(); ++i) queue.ready_.emplace(seqs[i], std::move(answers[i]));
    if (queue.answering_) return;  // that worker runs these too, in order
    queue.answering_ = true;
  }
  for (;;) {
    std::vector<Work> due;
    {
      absl::MutexLock lock(&queue.mu_);
      auto& ready = queue.ready_;
      while (!ready.empty() && ready.begin()->first == queue.next_answer_) {
        due.push_back(std::move(ready.begin()->second));
        ready.erase(ready.begin());
        ++queue.next_answer_;
      }
      if (due.empty()) {
        queue.answering_ = false;
        return;
      }
    }
    for (Work& answer : due) std::move(answer)();
  }
}

bool Scheduler::HasWorkOrStopping() const { return stopping_ || !runnable_.empty(); }

void Scheduler::Flush() {
  absl::MutexLock lock(&mu_);
  flush_ = true;
  ++timers_added_;  // wakes a worker to fire the timers now
}

void Scheduler::Post(Work work) { Enqueue(Item{nullptr, -1, {}, std::move(work)}); }

void Scheduler::Enqueue(Item item) {
  absl::MutexLock lock(&mu_);
  runnable_.push_back(std::move(item));
}

void Scheduler::WorkerLoop() {
  for (;;) {
    Item item;
    std::shared_ptr<ExecutionQueue> due;
    {
      absl::MutexLock lock(&mu_);
      for (;;) {
        if (!runnable_.empty()) {
          item = std::move(runnable_.front());
          runnable_.pop_front();
          break;
        }
        if (!timers_.empty() && (flush_ || timers_.begin()->first <= Clock::now())) {
          due = timers_.begin()->second.lock();
          timers_.erase(timers_.begin());
          if (due) break;
          continue;
        }
        if (stopping_) return;  // nothing left to run
        // Wakes for work, for stopping, for a new timer, or at the earliest timer.
        const uint64_t seen = timers_added_;
        auto woken = [this, seen]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return HasWorkOrStopping() || timers_added_ != seen;
        };
        if (timers_.empty()) {
          mu_.Await(absl::Condition(&woken));
        } else {
          mu_.AwaitWithTimeout(absl::Condition(&woken),
                               absl::FromChrono(timers_.begin()->first - Clock::now()));
        }
      }
    }
    if (due) {
      {
        absl::MutexLock lock(&due->mu_);
        due->timer_ = Clock::time_point::max();
      }
      Dispatch(due);
    } else if (item.queue) {
      RunBatch(std::move(item));
    } else {
      std::move(item.work)();
    }
  }
}

}  // namespace cortado
