#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <thread>

#include <sched.h>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace cortado {

namespace {

// A quota of `quota` microseconds per `period` as CPUs, rounded up; 0 when unlimited or unread.
int QuotaCpus(double quota, double period) {
  return quota > 0 && period > 0 ? static_cast<int>((quota + period - 1) / period) : 0;
}

int CgroupCpus() {
  std::ifstream v2("/sys/fs/cgroup/cpu.max");
  std::string quota;
  double period = 0;
  if (v2 >> quota >> period) return quota == "max" ? 0 : QuotaCpus(std::atof(quota.c_str()), period);
  std::ifstream q("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), p("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  double quota_us = 0;
  if (q >> quota_us && p >> period) return QuotaCpus(quota_us, period);
  return 0;
}

}  // namespace

int AvailableCpus() {
  cpu_set_t set;
  int cpus = sched_getaffinity(0, sizeof(set), &set) == 0
                 ? CPU_COUNT(&set)
                 : static_cast<int>(std::thread::hardware_concurrency());
  const int quota = CgroupCpus();
  if (quota > 0) cpus = std::min(cpus, quota);
  return std::max(cpus, 1);
}
namespace {

constexpr int kMaxThreads = 256;

// Between the ParallelFors of one training step there are tens of microseconds, about what
// waking a sleeping thread costs: a worker polls for the next job, and a caller for the end of
// its job, this long before blocking.
constexpr auto kSpin = std::chrono::microseconds(200);

// True on a thread while it runs chunks of a ParallelFor: nested calls then run inline.
thread_local bool in_parallel_for = false;

int64_t NumChunks(int64_t n, int64_t min_chunk, int threads) {
  if (n <= 0) return 0;
  const int64_t by_size = std::max<int64_t>(1, n / std::max<int64_t>(1, min_chunk));
  return std::min<int64_t>(threads, by_size);
}

// Polls `ready` until it returns true or kSpin has passed; returns its last value.
template <typename F>
bool SpinUntil(F&& ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if ((i & 15) == 15 && std::chrono::steady_clock::now() > deadline) return ready();
  }
}

// One ParallelFor in flight on the pool. Lives on the caller's stack; the caller returns only
// once every chunk is finished and no worker still holds the job.
struct Job {
  const std::function<void(int64_t, int64_t)>* fn;
  int64_t n;
  int64_t chunks;
  std::atomic<int64_t> next{0};    // the next unclaimed chunk
  std::atomic<int64_t> done{0};    // chunks finished (or skipped after an exception)
  std::atomic<int> workers_in{0};  // workers that took the job and have not let go of it
  std::exception_ptr error;        // the first; written under the pool's mutex

  bool Finished() const {
    return done.load(std::memory_order_acquire) == chunks &&
           workers_in.load(std::memory_order_acquire) == 0;
  }
};

// Runs chunks of `job` until none is left; returns how many this thread took.
int64_t RunChunks(Job& job, std::exception_ptr* error) {
  int64_t ran = 0;
  for (;;) {
    const int64_t i = job.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= job.chunks) break;
    ++ran;
    if (*error) continue;  // after a failure, the remaining chunks are skipped
    try {
      (*job.fn)(i * job.n / job.chunks, (i + 1) * job.n / job.chunks);
    } catch (...) {
      *error = std::current_exception();
    }
  }
  return ran;
}

class Pool {
 public:
  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void SetThreads(int n) {
    n = std::clamp(n, 1, kMaxThreads);
    std::vector<std::thread> old;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](bool* busy) { return !*busy; }, &busy_));
      if (n == threads()) return;
      busy_ = true;  // meanwhile, ParallelFor runs inline
      stop_ = true;
      published_.store(++generation_, std::memory_order_release);  // ends the workers' polling
      old.swap(workers_);
      work_cv_.SignalAll();
    }
    for (std::thread& t : old) t.join();
    absl::MutexLock lock(&mu_);
    stop_ = false;
    threads_.store(n, std::memory_order_relaxed);
    for (int i = 1; i < n; ++i) workers_.emplace_back([this] { WorkerLoop(); });
    busy_ = false;
  }

  void ParallelFor(int64_t n, int64_t min_chunk, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    Job job;
    job.fn = &fn;
    job.n = n;
    job.chunks = NumChunks(n, min_chunk, threads());
    if (job.chunks == 1) {
      fn(0, n);  // the common case with one thread: no locking at all
      return;
    }
    bool use_pool = false;
    if (!in_parallel_for) {
      absl::MutexLock lock(&mu_);
      job.chunks = NumChunks(n, min_chunk, threads());  // SetThreads may have run meanwhile
      if (job.chunks > 1 && !busy_) {
        use_pool = true;
        busy_ = true;
        job_ = &job;
        published_.store(++generation_, std::memory_order_release);
        // Wake only as many workers as there are chunks besides the caller's (polling ones
        // need no signal).
        if (job.chunks - 1 >= static_cast<int64_t>(workers_.size())) {
          work_cv_.SignalAll();
        } else {
          for (int64_t i = 0; i + 1 < job.chunks; ++i) work_cv_.Signal();
        }
      }
    }
    std::exception_ptr error;
    if (!use_pool) {
      // Same partition, one chunk after another on this thread.
      const bool outer = in_parallel_for;
      in_parallel_for = true;
      RunChunks(job, &error);
      in_parallel_for = outer;
      if (error) std::rethrow_exception(error);
      return;
    }
    in_parallel_for = true;
    const int64_t ran = RunChunks(job, &error);
    in_parallel_for = false;
    if (error) {
      absl::MutexLock lock(&mu_);
      if (!job.error) job.error = error;
    }
    job.done.fetch_add(ran, std::memory_order_acq_rel);
    SpinUntil([&job] { return job.Finished(); });
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Job* j) { return j->Finished(); }, &job));
      job_ = nullptr;
      busy_ = false;
      error = job.error;
    }
    if (error) std::rethrow_exception(error);
  }

 private:
  void WorkerLoop() {
    in_parallel_for = true;  // a ParallelFor inside a chunk runs inline
    uint64_t seen;
    {
      absl::MutexLock lock(&mu_);
      seen = generation_;
    }
    for (;;) {
      SpinUntil([&] { return published_.load(std::memory_order_acquire) != seen; });
      Job* job;
      {
        absl::MutexLock lock(&mu_);
        while (!stop_ && generation_ == seen) work_cv_.Wait(&mu_);
        if (stop_) return;
        seen = generation_;
        job = job_;
        if (job == nullptr) continue;  // that job is already over
        job->workers_in.fetch_add(1, std::memory_order_relaxed);
      }
      std::exception_ptr error;
      const int64_t ran = RunChunks(*job, &error);
      if (error) {
        absl::MutexLock lock(&mu_);
        if (!job->error) job->error = error;
      }
      job->done.fetch_add(ran, std::memory_order_acq_rel);
      job->workers_in.fetch_sub(1, std::memory_order_acq_rel);  // the job may be gone from here
      absl::MutexLock lock(&mu_);  // so that a caller blocked in Await re-checks Finished()
    }
  }

  absl::Mutex mu_;
  absl::CondVar work_cv_;
  std::atomic<int> threads_{1};  // written under mu_ while busy_
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;  // a ParallelFor (or SetThreads) owns the workers
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  Job* job_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // jobs posted (and stops)
  std::atomic<uint64_t> published_{0};            // generation_, for polling without mu_
};

Pool& GlobalPool() {
  static Pool* pool = new Pool;  // never destroyed: workers may outlive static destruction
  return *pool;
}

}  // namespace

void SetIntraOpThreads(int n) { GlobalPool().SetThreads(n); }

int IntraOpThreads() { return GlobalPool().threads(); }

void ParallelFor(int64_t n, int64_t min_chunk,
                 const std::function<void(int64_t begin, int64_t end)>& fn) {
  GlobalPool().ParallelFor(n, min_chunk, fn);
}

int64_t ParallelChunks(int64_t n, int64_t min_chunk) {
  return NumChunks(n, min_chunk, IntraOpThreads());
}

}  // namespace cortado
