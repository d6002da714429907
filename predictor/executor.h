// Executor: runs a Plan's steps over a Workspace. SimpleExecutor runs them one after another
// in plan order (Caffe2's "simple" net); DagExecutor runs the plan's levels (wavefronts of
// steps whose inputs are all ready) one after another, the steps of a level side by side on the
// intra-op threads (Caffe2's "dag" net), for graphs with independent branches (Inception,
// attention heads). Executors hold no per-run state and are thread-safe.
#ifndef CORTADO_PREDICTOR_EXECUTOR_H_
#define CORTADO_PREDICTOR_EXECUTOR_H_

#include <memory>
#include <vector>

#include "predictor/workspace.h"

namespace cortado {

class Executor {
 public:
  virtual ~Executor() = default;
  // Opens the run's device queues, runs the steps, and waits for the queues.
  absl::Status Run(Workspace& ws) const;
  // When each of the plan's steps runs: steps with the same time may run side by side, and a
  // value is held from its producer's time through its last reader's (the memory plan's clock).
  virtual std::vector<int> StepTimes(const Plan& plan) const = 0;

 protected:
  virtual absl::Status RunSteps(Workspace& ws) const = 0;
};

class SimpleExecutor final : public Executor {
 public:
  std::vector<int> StepTimes(const Plan& plan) const override;

 protected:
  absl::Status RunSteps(Workspace& ws) const override;
};

class DagExecutor final : public Executor {
 public:
  std::vector<int> StepTimes(const Plan& plan) const override;

 protected:
  absl::Status RunSteps(Workspace& ws) const override;
};

// "simple" or "dag"; InvalidArgument names the choices for anything else.
absl::StatusOr<std::unique_ptr<Executor>> MakeExecutor(absl::string_view name);

// Runs one step: gathers its inputs from `ws`, computes (on the run's queue for the step, if
// any) and stores its outputs (at their places
// in the workspace's arena, if it has one; noting what it allocated, if it records). Errors
// name the node.
absl::Status RunStep(const PlanStep& step, Workspace& ws);

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_EXECUTOR_H_
