// Workspace: the named blobs of one run, Caffe2-style. Parameters and folded constants come from
// the Plan and are shared (never copied); activations belong to this run alone and are released
// as soon as the last step that reads them has run. Values are tensors, sequences or optionals
// (ops/value.h). With a memory plan (memory_plan.h) the run's
// values live in one arena; on a signature's first run the workspace records what steps
// allocate instead. A run's work on a device goes to the queue the workspace opened there for it.
// One Workspace per run; not thread-safe (its queues are, for the steps of a DAG level).
#ifndef CORTADO_PREDICTOR_WORKSPACE_H_
#define CORTADO_PREDICTOR_WORKSPACE_H_

#include <memory>
#include <string>
#include <vector>

#include "predictor/memory_plan.h"
#include "predictor/plan.h"

namespace cortado {

class Workspace {
 public:
  explicit Workspace(const Plan& plan)
      : plan_(plan), values_(plan.constants().begin(), plan.constants().end()) {}
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  const Plan& plan() const { return plan_; }
  Value& value(int slot) { return values_[slot]; }
  // The tensor in `slot` (undefined when it holds a sequence or an empty optional).
  Tensor& blob(int slot) { return values_[slot].tensor; }
  // Drops the run's reference to the value in `slot`.
  void Release(int slot) { values_[slot] = Value(); }
  // The named blob, or nullptr when there is no such value or it is not (or no longer) held.
  const Tensor* GetBlob(const std::string& name) const;

  // Steps allocate their outputs at `layout`'s offsets in `arena` (both outlive the run).
  void UseArena(const ArenaLayout* layout, std::shared_ptr<void> arena) {
    layout_ = layout;
    arena_ = std::move(arena);
  }
  const ArenaLayout* layout() const { return layout_; }
  const std::shared_ptr<void>& arena() const { return arena_; }
  // Opens one queue per device backend of the plan (Plan::stream_backends); WaitStreams waits
  // for all the work enqueued on them.
  absl::Status OpenStreams();
  absl::Status WaitStreams();
  // Queue `i` of Plan::stream_backends, or nullptr for -1.
  Stream* stream(int i) const { return i < 0 ? nullptr : streams_[i].get(); }
  // Steps note what they allocate in `record` (which outlives the run).
  void Record(MemoryRecord* record) { record_ = record; }
  MemoryRecord* record() const { return record_; }

 private:
  const Plan& plan_;
  std::vector<Value> values_;
  const ArenaLayout* layout_ = nullptr;
  std::shared_ptr<void> arena_;
  MemoryRecord* record_ = nullptr;
  std::vector<std::unique_ptr<Stream>> streams_;
};

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_WORKSPACE_H_
