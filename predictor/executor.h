// Executor: runs a Plan's steps over a Workspace. SimpleExecutor runs them one after another
// in plan order (Caffe2's "simple" net). Executors hold no per-run state and are thread-safe.
#ifndef CORTADO_PREDICTOR_EXECUTOR_H_
#define CORTADO_PREDICTOR_EXECUTOR_H_

#include "predictor/workspace.h"

namespace cortado {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual absl::Status Run(Workspace& ws) const = 0;
};

class SimpleExecutor final : public Executor {
 public:
  absl::Status Run(Workspace& ws) const override;
};

// Runs one step: gathers its inputs from `ws`, computes, stores its outputs and releases the
// values it was the last reader of. Errors name the node.
absl::Status RunStep(const PlanStep& step, Workspace& ws);

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_EXECUTOR_H_
