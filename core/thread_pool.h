// The intra-op thread pool: lets one kernel split its work over a few threads. Kernels call
// ParallelFor; the eager frontend's set_num_threads calls SetIntraOpThreads. The default is 1
// thread, since the server already parallelizes across requests; then every ParallelFor runs
// inline on the calling thread, and no pool thread exists. With more, the chunks run on the
// calling thread's OpenMP team (libgomp), which oneDNN's kernels use too, so both kinds of
// kernel share one set of threads; the team's threads spin briefly after each job before they
// sleep, since a training step runs its kernels back to back.
//
// Contract: ParallelFor(n, min_chunk, fn) splits [0, n) into contiguous chunks, calls fn(begin,
// end) exactly once per chunk and returns when all have returned. The partition depends only on
// n, min_chunk and IntraOpThreads(): chunk i of c is [i * n / c, (i + 1) * n / c) with
// c = min(IntraOpThreads(), max(1, n / min_chunk)), whether the chunks then run in parallel or
// one after another, so a kernel that combines per-chunk results in chunk order is deterministic
// for a given thread count. fn runs on the pool's threads and on the calling thread, so it must
// be safe to call concurrently on disjoint chunks. An exception thrown by fn is rethrown by
// ParallelFor (the first one, after every chunk has finished or been skipped).
//
// Thread-safety: every function may be called from any thread. The process has one pool; while
// it runs one ParallelFor, a ParallelFor from another thread runs its chunks inline on its own
// thread (no waiting, no deadlock), and so does a ParallelFor nested inside fn. SetIntraOpThreads
// waits for the running ParallelFor to finish; it must not be called from inside fn.
#ifndef CORTADO_CORE_THREAD_POOL_H_
#define CORTADO_CORE_THREAD_POOL_H_

#include <cstdint>
#include <functional>

namespace cortado {

// The number of threads ParallelFor uses, the caller included (n - 1 pool threads). n < 1 means
// 1; n is capped at 256.
void SetIntraOpThreads(int n);
int IntraOpThreads();

// Within its scope, IntraOpThreads() on the constructing thread is n (at least 1) instead of the
// process-wide count, so that one model's runs may use another thread count than the rest.
class ScopedIntraOpThreads {
 public:
  explicit ScopedIntraOpThreads(int n);
  ~ScopedIntraOpThreads();
  ScopedIntraOpThreads(const ScopedIntraOpThreads&) = delete;
  ScopedIntraOpThreads& operator=(const ScopedIntraOpThreads&) = delete;

 private:
  int saved_;
};

// The intra-op threads one kernel that runs its own thread team (oneDNN's primitives) may use
// while it runs: its fair share of IntraOpThreads() among such kernels running at once, and no
// more than the threads they leave free, but always at least one (the caller). So the kernels
// running at once never hold more than IntraOpThreads() - 1 threads beyond their callers, in
// whatever order they start and end. Construct it on the thread that runs the kernel and keep it
// for the kernel's run; thread-safe.
class CoreShare {
 public:
  CoreShare();
  ~CoreShare();
  CoreShare(const CoreShare&) = delete;
  CoreShare& operator=(const CoreShare&) = delete;
  int threads() const { return threads_; }

 private:
  int threads_;
};

// Elements per chunk that copies and elementwise loops give ParallelFor at least: a smaller
// chunk gains less from a second thread than waking it costs (ops/elementwise.h,
// GatherByTables in ops/tensor_util.h).
constexpr int64_t kMinParallelElements = 32768;

// Runs fn over [0, n) in chunks of at least min_chunk indices (see the contract above). n <= 0
// calls nothing.
void ParallelFor(int64_t n, int64_t min_chunk,
                 const std::function<void(int64_t begin, int64_t end)>& fn);

// The number of chunks ParallelFor(n, min_chunk, ...) makes now (0 when n <= 0), for kernels
// that keep one partial result per chunk.
int64_t ParallelChunks(int64_t n, int64_t min_chunk);

}  // namespace cortado

#endif  // CORTADO_CORE_THREAD_POOL_H_
