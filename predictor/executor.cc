#include "predictor/executor.h"

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
  for (int slot : step.release_after) ws.blob(slot) = Tensor();
  return absl::OkStatus();
}

absl::Status SimpleExecutor::Run(Workspace& ws) const {
  for (const PlanStep& step : ws.plan().steps()) RETURN_IF_ERROR(RunStep(step, ws));
  return absl::OkStatus();
}

}  // namespace cortado
