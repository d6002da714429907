// Workspace: the named blobs of one run, Caffe2-style. Parameters and folded constants come from
// the Plan and are shared (never copied); activations belong to this run alone and are released
// as soon as the last step that reads them has run. With a memory plan (memory_plan.h) the run's
// values live in one arena; on a signature's first run the workspace records what steps
// allocate instead. One Workspace per run; not thread-safe.
#ifndef CORTADO_PREDICTOR_WORKSPACE_H_
#define CORTADO_PREDICTOR_WORKSPACE_H_

#include <string>
#include <vector>

#include "predictor/memory_plan.h"
#include "predictor/plan.h"

namespace cortado {

class Workspace {
 public:
  explicit Workspace(const Plan& plan) : plan_(plan), blobs_(plan.constants()) {}
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  const Plan& plan() const { return plan_; }
  Tensor& blob(int slot) { return blobs_[slot]; }
  // The named blob, or nullptr when there is no such value or it is not (or no longer) held.
  const Tensor* GetBlob(const std::string& name) const;

  // Steps allocate their outputs at `layout`'s offsets in `arena` (both outlive the run).
  void UseArena(const ArenaLayout* layout, std::shared_ptr<void> arena) {
    layout_ = layout;
    arena_ = std::move(arena);
  }
  const ArenaLayout* layout() const { return layout_; }
  const std::shared_ptr<void>& arena() const { return arena_; }
  // Steps note what they allocate in `record` (which outlives the run).
  void Record(MemoryRecord* record) { record_ = record; }
  MemoryRecord* record() const { return record_; }

 private:
  const Plan& plan_;
  std::vector<Tensor> blobs_;
  const ArenaLayout* layout_ = nullptr;
  std::shared_ptr<void> arena_;
  MemoryRecord* record_ = nullptr;
};

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_WORKSPACE_H_
