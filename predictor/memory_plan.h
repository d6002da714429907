// Memory plan: one arena per run, with every per-run value at an offset computed once per input
// shape signature (ONNX Runtime's "memory pattern", TFLite's arena planner). The first run with a
// new signature allocates as usual and records what each step allocated and which outputs are
// views of an input (Reshape, Flatten, Squeeze, Identity, same-type Cast...); PlanArena then
// gives each group of values sharing storage one place, so that two groups share bytes only when
// their lifetimes do not overlap. A step whose kernel may overwrite an input
// (Kernel::MayOverwriteInput: elementwise ops, a convolution's residual addend) writes its output
// over that input when nothing reads it afterwards. Later runs with that signature take an arena from the pool and
// their kernels allocate outputs at those offsets. Model outputs, graph inputs, constants and
// anything a step did not allocate itself stay outside the arena.
//
// MemoryPlanner belongs to one Predictor and is thread-safe; the layouts it hands out are
// immutable and shared.
#ifndef CORTADO_PREDICTOR_MEMORY_PLAN_H_
#define CORTADO_PREDICTOR_MEMORY_PLAN_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "predictor/plan.h"

namespace cortado {

// What one run allocated, per slot.
struct MemoryRecord {
  explicit MemoryRecord(int num_slots) : bytes(num_slots, 0), view_of(num_slots, -1) {}
  std::vector<size_t> bytes;  // bytes the producing step allocated for the slot (0: none)
  std::vector<int> view_of;   // the input slot whose storage the slot shares, or -1
};

struct ArenaLayout {
  size_t total_bytes = 0;
  std::vector<int64_t> offset;  // per slot; -1 when the slot is not in the arena
  std::vector<size_t> bytes;    // per slot its step allocates in the arena: its room; else 0
  std::vector<int> group;       // per slot in the arena: the root of the values sharing its bytes
};

// Lays out the values `record` saw. `step_time[i]` is when step i runs (Executor::StepTimes): a
// value is live from its producer's time to its last reader's, and so are the views of it.
ArenaLayout PlanArena(const Plan& plan, const std::vector<int>& step_time,
                      const MemoryRecord& record);

class MemoryPlanner {
 public:
  MemoryPlanner(const Plan& plan, std::vector<int> step_time)
      : plan_(plan), step_time_(std::move(step_time)) {}
  MemoryPlanner(const MemoryPlanner&) = delete;
  MemoryPlanner& operator=(const MemoryPlanner&) = delete;

  // What a run with these inputs (in plan input order) uses: a layout and an arena for it, or,
  // when the signature is new, a record to fill (then call Learn). Neither once kMaxLayouts
  // signatures are known: the run allocates as usual.
  struct Run {
    std::shared_ptr<const ArenaLayout> layout;
    std::shared_ptr<void> arena;  // at least layout->total_bytes long
    size_t arena_bytes = 0;
    std::unique_ptr<MemoryRecord> record;
  };
  Run Begin(const std::vector<const Tensor*>& inputs);
  // After a successful recorded run: plans its layout.
  void Learn(const std::vector<const Tensor*>& inputs, const MemoryRecord& record);
  // After a run that used an arena: returns it to the pool once no tensor refers to it.
  void End(Run run);

  static constexpr size_t kMaxLayouts = 16;

 private:
  using Signature = std::vector<int64_t>;
  static Signature SignatureOf(const std::vector<const Tensor*>& inputs);

  const Plan& plan_;
  const std::vector<int> step_time_;
  absl::Mutex mu_;
  absl::flat_hash_map<Signature, std::shared_ptr<const ArenaLayout>> layouts_ ABSL_GUARDED_BY(mu_);
  // Arenas no run is using; there are as many arenas as runs were ever in flight at once.
  std::vector<std::shared_ptr<void>> idle_ ABSL_GUARDED_BY(mu_);
  std::vector<size_t> idle_bytes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_MEMORY_PLAN_H_
