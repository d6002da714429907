// Workspace: the named blobs of one run, Caffe2-style. Parameters and folded constants come from
// the Plan and are shared (never copied); activations belong to this run alone and are released
// as soon as the last step that reads them has run. One Workspace per run; not thread-safe.
#ifndef CORTADO_PREDICTOR_WORKSPACE_H_
#define CORTADO_PREDICTOR_WORKSPACE_H_

#include <string>
#include <vector>

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

 private:
  const Plan& plan_;
  std::vector<Tensor> blobs_;
};

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_WORKSPACE_H_
