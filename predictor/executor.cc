#include "predictor/executor.h"

#include "core/thread_pool.h"

namespace cortado {

namespace {

// The input slot whose storage output `out` shares, or -1.
int ViewedInput(const PlanStep& step, KernelContext& ctx, const Tensor& out) {
  for (size_t j = 0; j < step.inputs.size(); ++j) {
    const Tensor* in = ctx.input(static_cast<int>(j));
    if (step.inputs[j] >= 0 && in != nullptr && out.SharesStorageWith(*in)) return step.inputs[j];
  }
  return -1;
}

}  // namespace

absl::Status RunStep(const PlanStep& step, Workspace& ws) {
  std::vector<const Tensor*> inputs;
  std::vector<const Value*> values;
  inputs.reserve(step.inputs.size());
  values.reserve(step.inputs.size());
  for (int slot : step.inputs) {
    const Value* v = slot >= 0 && ws.value(slot).defined() ? &ws.value(slot) : nullptr;
    values.push_back(v);
    inputs.push_back(v != nullptr && v->tensor.defined() ? &v->tensor : nullptr);
  }
  const int num_outputs = static_cast<int>(step.outputs.size());
  KernelContext ctx(std::move(inputs), num_outputs, step.backend->allocator());
  ctx.set_values(std::move(values));
  ctx.set_stream(ws.stream(step.stream));
  const ArenaLayout* layout =
      step.backend->allocator()->device().type == DeviceType::kCpu ? ws.layout() : nullptr;
  for (int i = 0; layout != nullptr && i < num_outputs; ++i) {
    const int slot = step.outputs[i];
    if (slot >= 0 && layout->bytes[slot] > 0) {
      ctx.PlanOutput(i, static_cast<char*>(ws.arena().get()) + layout->offset[slot],
                     layout->bytes[slot], ws.arena());
    }
  }
  absl::Status s = step.kernel->Compute(ctx);
  if (!s.ok()) {
    return absl::Status(
        s.code(), absl::StrCat("node '", step.node_name, "' (", step.op_type, "): ", s.message()));
  }
  for (int i = 0; i < num_outputs; ++i) {
    const int slot = step.outputs[i];
    if (slot < 0) continue;
    if (Value* v = ctx.value_output(i)) {  // a sequence or an empty optional: never in the arena
      ws.value(slot) = std::move(*v);
      continue;
    }
    Tensor& out = ctx.output(i);
    if (MemoryRecord* record = ws.record(); record != nullptr && out.defined()) {
      record->view_of[slot] = ViewedInput(step, ctx, out);
      // Device memory is the device backend's own, never in the host arena.
      if (record->view_of[slot] < 0 && out.device() == Device{}) {
        record->bytes[slot] = ctx.allocated_bytes(i);
      }
    } else if (layout != nullptr && out.defined() && ctx.allocated_bytes(i) == 0) {
      // A view the recorded run did not make would outlive its place in the arena: copy it.
      const int viewed = ViewedInput(step, ctx, out);
      if (viewed >= 0 && layout->group[viewed] >= 0 &&
          layout->group[viewed] != layout->group[slot]) {
        out = out.Clone();
      }
    }
    ws.value(slot) = std::move(out);
  }
  return absl::OkStatus();
}

absl::Status Executor::Run(Workspace& ws) const {
  RETURN_IF_ERROR(ws.OpenStreams());
  RETURN_IF_ERROR(RunSteps(ws));
  return ws.WaitStreams();
}

absl::Status SimpleExecutor::RunSteps(Workspace& ws) const {
  for (const PlanStep& step : ws.plan().steps()) {
    RETURN_IF_ERROR(RunStep(step, ws));
    for (int slot : step.release_after) ws.Release(slot);
  }
  return absl::OkStatus();
}

absl::Status DagExecutor::RunSteps(Workspace& ws) const {
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
    for (int slot : plan.level_releases()[level]) ws.Release(slot);
  }
  return absl::OkStatus();
}

std::vector<int> SimpleExecutor::StepTimes(const Plan& plan) const {
  std::vector<int> time(plan.steps().size());
  for (size_t i = 0; i < time.size(); ++i) time[i] = static_cast<int>(i);
  return time;
}

std::vector<int> DagExecutor::StepTimes(const Plan& plan) const {
  std::vector<int> time(plan.steps().size());
  for (size_t level = 0; level < plan.levels().size(); ++level) {
    for (int step : plan.levels()[level]) time[step] = static_cast<int>(level);
  }
  return time;
}

absl::StatusOr<std::unique_ptr<Executor>> MakeExecutor(absl::string_view name) {
  if (name == "simple") return std::unique_ptr<Executor>(new SimpleExecutor());
  if (name == "dag") return std::unique_ptr<Executor>(new DagExecutor());
  return absl::InvalidArgumentError(
      absl::StrCat("unknown executor '", name, "'; the executors are: simple, dag"));
}

}  // namespace cortado
