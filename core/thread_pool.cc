#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace cortado {

namespace {

constexpr int kMaxThreads = 256;

// True on a thread while it runs chunks of a ParallelFor: nested calls then run inline.
thread_local bool in_parallel_for = false;

// ScopedIntraOpThreads' count on this thread; 0 when none is in force.
thread_local int scoped_threads = 0;

int64_t NumChunks(int64_t n, int64_t min_chunk, int threads) {
  if (n <= 0) return 0;
  const int64_t by_size = std::max<int64_t>(1, n / std::max<int64_t>(1, min_chunk));
  return std::min<int64_t>(threads, by_size);
}

// One ParallelFor: its chunks, claimed one at a time by the threads that run it.
struct Job {
  const std::function<void(int64_t, int64_t)>* fn;
  int64_t n;
  int64_t chunks;
  std::atomic<int64_t> next{0};  // the next unclaimed chunk
};

// Runs chunks of `job` until none is left; after a failure the remaining ones are skipped.
void RunChunks(Job& job, std::exception_ptr* error) {
  for (;;) {
    const int64_t i = job.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= job.chunks) break;
    if (*error) continue;
    try {
      (*job.fn)(i * job.n / job.chunks, (i + 1) * job.n / job.chunks);
    } catch (...) {
      *error = std::current_exception();
    }
  }
}

// The worker threads are OpenMP's (libgomp), the same team that oneDNN's primitives run on
// (backends/onednn), so that kernels of both kinds take turns on one set of threads instead of
// two sets competing for the cores. libgomp keeps each caller's team between parallel regions
// and lets its threads spin briefly before they sleep, which a training step's back-to-back
// kernels need.
class Pool {
 public:
  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void SetThreads(int n) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(+[](bool* busy) { return !*busy; }, &busy_));
    threads_.store(std::clamp(n, 1, kMaxThreads), std::memory_order_relaxed);
  }

  void ParallelFor(int64_t n, int64_t min_chunk, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    Job job;
    job.fn = &fn;
    job.n = n;
    job.chunks = NumChunks(n, min_chunk, IntraOpThreads());
    if (job.chunks == 1) {
      fn(0, n);  // the common case with one thread: no locking at all
      return;
    }
    bool use_team = false;
    if (!in_parallel_for) {
      absl::MutexLock lock(&mu_);
      job.chunks = NumChunks(n, min_chunk, IntraOpThreads());  // SetThreads may have run meanwhile
      if (job.chunks > 1 && !busy_) use_team = busy_ = true;
    }
    std::exception_ptr error;
    if (!use_team) {
      // Same partition, one chunk after another on this thread.
      const bool outer = in_parallel_for;
      in_parallel_for = true;
      RunChunks(job, &error);
      in_parallel_for = outer;
    } else {
      absl::Mutex error_mu;
#pragma omp parallel num_threads(static_cast<int>(job.chunks))
      {
        in_parallel_for = true;
        std::exception_ptr mine;
        RunChunks(job, &mine);
        if (mine) {
          absl::MutexLock lock(&error_mu);
          if (!error) error = mine;
        }
        in_parallel_for = false;
      }
      absl::MutexLock lock(&mu_);
      busy_ = false;
    }
    if (error) std::rethrow_exception(error);
  }

 private:
  absl::Mutex mu_;
  std::atomic<int> threads_{1};  // written under mu_ while not busy_
  bool busy_ ABSL_GUARDED_BY(mu_) = false;  // a ParallelFor is using the team
};

Pool& GlobalPool() {
  static Pool* pool = new Pool;  // never destroyed: OpenMP's threads may outlive static destruction
  return *pool;
}

}  // namespace

void SetIntraOpThreads(int n) { GlobalPool().SetThreads(n); }

int IntraOpThreads() { return scoped_threads > 0 ? scoped_threads : GlobalPool().threads(); }

ScopedIntraOpThreads::ScopedIntraOpThreads(int n) : saved_(scoped_threads) {
  scoped_threads = std::clamp(n, 1, kMaxThreads);
}

ScopedIntraOpThreads::~ScopedIntraOpThreads() { scoped_threads = saved_; }

namespace {

// The kernels holding a CoreShare and the threads they hold, changed together.
struct CoreShares {
  absl::Mutex mu;
  int running ABSL_GUARDED_BY(mu) = 0;
  int held ABSL_GUARDED_BY(mu) = 0;
};

CoreShares& Shares() {
  static CoreShares* shares = new CoreShares;
  return *shares;
}

}  // namespace

CoreShare::CoreShare() {
  const int total = IntraOpThreads();
  CoreShares& s = Shares();
  absl::MutexLock lock(&s.mu);
  const int fair = total / (s.running + 1);
  threads_ = std::max(1, std::min(fair, total - s.held));
  ++s.running;
  s.held += threads_;
}

CoreShare::~CoreShare() {
  CoreShares& s = Shares();
  absl::MutexLock lock(&s.mu);
  --s.running;
  s.held -= threads_;
}

void ParallelFor(int64_t n, int64_t min_chunk,
                 const std::function<void(int64_t begin, int64_t end)>& fn) {
  GlobalPool().ParallelFor(n, min_chunk, fn);
}

int64_t ParallelChunks(int64_t n, int64_t min_chunk) {
  return NumChunks(n, min_chunk, IntraOpThreads());
}

}  // namespace cortado
