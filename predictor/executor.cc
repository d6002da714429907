#include "predictor/executor.h"

#include "core/thread_pool.h"

namespace cortado {

absl::Status RunStep(const PlanStep& step, Workspace& ws) {
  std::vector<const Tensor*> inputs;
  inputs.reserve(step.inputs.size());
  for (int slot : step.inputs) {
    inputs.push_back(slot >= 0 && ws.blob(slot).defined() ? &ws.blob(slot) : nullptr);
  }
  KernelContext ctx(std::move(inputs), static_cast<int>(step.outputs.size()),
                    step.backend->allocator());
  absl::Status s = step.kernel->Compute(ctx);
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("node '", step.node_name, "' (", step.op_type,
                                               "): ", s.message()));
  }
  for (size_t i = 0; i < step.outputs.size(); ++i) {
    if (step.outputs[i] >= 0) ws.blob(step.outputs[i]) = std::move(ctx.output(static_cast<int>(i)));
  }
  return absl::OkStatus();
}

absl::Status SimpleExecutor::Run(Workspace& ws) const {
  for (const PlanStep& step : ws.plan().steps()) {
    RETURN_IF_ERROR(RunStep(step, ws));
    for (int slot : step.release_after) ws.blob(slot) = Tensor();
  }
  return absl::OkStatus();
}

absl::Status DagExecutor::Run(Workspace& ws) const {
  const Plan& plan = ws.plan();
  for (size_t level = 0; level < plan.levels().size(); ++level) {
    const std::vector<int>& steps = plan.levels()[level];
    if (steps.size() == 1) {
      RETURN_IF_ERROR(RunStep(plan.steps()[steps[0]], ws));
    } else {
      // Each step writes only its own output slots, and nothing is released until the level
      // is done, so the steps of a level share the workspace safely.
      std::vector<absl::Status> status(steps.size());
      ParallelFor(static_cast<int64_t>(steps.size()), 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) status[i] = RunStep(plan.steps()[steps[i]], ws);
      });
      for (const absl::Status& s : status) RETURN_IF_ERROR(s);
    }
    for (int slot : plan.level_releases()[level]) ws.blob(slot) = Tensor();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Executor>> MakeExecutor(absl::string_view name) {
  if (name == "simple") return std::unique_ptr<Executor>(new SimpleExecutor());
  if (name == "dag") return std::unique_ptr<Executor>(new DagExecutor());
  return absl::InvalidArgumentError(
      absl::StrCat("unknown executor '", name, "'; the executors are: simple, dag"));
}

}  // namespace cortado
