#include "server/scheduler/execution_threads.h"

#include <algorithm>

#include "absl/cleanup/cleanup.h"
#include "core/thread_pool.h"

namespace cortado {

ExecutionThreads::ExecutionThreads(int threads)
    : threads_(std::max(1, threads)), leader_([this] { LeaderLoop(); }) {}

ExecutionThreads::~ExecutionThreads() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  leader_.join();
}

void ExecutionThreads::Run(absl::FunctionRef<void()> fn) {
  const int others = running_.fetch_add(1);
  absl::Cleanup done = [this] { running_.fetch_sub(1); };
  const int share = threads_ - others;
  if (share < 2 || leading_.exchange(true)) {
    ScopedIntraOpThreads one(1);
    fn();
    return;
  }
  std::exception_ptr error;
  {
    absl::MutexLock lock(&mu_);
    job_ = &fn;
    job_threads_ = share;
    done_ = false;
    mu_.Await(absl::Condition(&done_));
    job_ = nullptr;
    error = std::move(error_);
    error_ = nullptr;
  }
  leading_.store(false);
  if (error) std::rethrow_exception(error);
}

void ExecutionThreads::LeaderLoop() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    mu_.Await(absl::Condition(
        +[](ExecutionThreads* t) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return t->stopping_ || (t->job_ != nullptr && !t->done_);
        },
        this));
    if (stopping_) return;
    const absl::FunctionRef<void()> fn = *job_;
    const int threads = job_threads_;
    mu_.Unlock();
    std::exception_ptr error;
    {
      ScopedIntraOpThreads share(threads);
      try {
        fn();
      } catch (...) {
        error = std::current_exception();
      }
    }
    mu_.Lock();
    error_ = std::move(error);
    done_ = true;
  }
}

}  // namespace cortado
