// ExecutionThreads: how the work that cortadod runs at once (inferences, model loads) shares the
// intra-op threads, so that the cores are neither oversubscribed nor left idle, and so that
// OpenMP keeps its threads spinning between kernels.
//
// Why one leader: libgomp gives every thread that starts a parallel region a pool of its own
// (team size - 1 threads, kept as long as that thread lives), and once the threads of all pools
// plus the initial thread outnumber the CPUs it cuts every waiting thread's spinning to 100
// pauses (its "throttled" spin count, whatever GOMP_SPINCOUNT says). A 2-thread team then sleeps
// and wakes at every barrier: measured on resnet50 with 2 CPUs, a run from a second thread that
// leads a team took 49-56 ms and ~110 context switches against 35 ms and 3 from a single leader,
// no faster than one thread (58 ms). So only the leader thread here ever runs work with more than
// one intra-op thread: a piece of work that finds the leader free runs there with every thread
// the others leave (IntraOpThreads() minus one per other piece running); otherwise it runs on its
// caller's thread with one. With one request in flight a model uses every core; under
// concurrency the cores split among the requests.
//
// Thread-safe. Run blocks its caller until `fn` has returned. The destructor joins the leader;
// no Run may be in progress then.
#ifndef CORTADO_SERVER_SCHEDULER_EXECUTION_THREADS_H_
#define CORTADO_SERVER_SCHEDULER_EXECUTION_THREADS_H_

#include <atomic>
#include <exception>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"

namespace cortado {

class ExecutionThreads {
 public:
  // `threads`: the intra-op threads all work shares (cortadod's IntraOpThreads()); at least 1.
  explicit ExecutionThreads(int threads);
  ~ExecutionThreads();
  ExecutionThreads(const ExecutionThreads&) = delete;
  ExecutionThreads& operator=(const ExecutionThreads&) = delete;

  int threads() const { return threads_; }

  // Runs `fn` with its share of the intra-op threads (IntraOpThreads() inside `fn` says how
  // many), on the leader or on this thread (see above). An exception from `fn` is rethrown here.
  void Run(absl::FunctionRef<void()> fn);

 private:
  void LeaderLoop();

  const int threads_;
  std::atomic<int> running_{0};       // pieces of work in Run now
  std::atomic<bool> leading_{false};  // the leader is taken by a Run

  absl::Mutex mu_;
  const absl::FunctionRef<void()>* job_ ABSL_GUARDED_BY(mu_) = nullptr;  // for the leader
  int job_threads_ ABSL_GUARDED_BY(mu_) = 1;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::exception_ptr error_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread leader_;
};

}  // namespace cortado

#endif  // CORTADO_SERVER_SCHEDULER_EXECUTION_THREADS_H_
