#include "frontend/dispatch.h"

#include "backends/cpu/cpu_backend.h"

namespace cortado {
namespace frontend {
namespace {
thread_local Tracer* current_tracer = nullptr;
}  // namespace

std::vector<cortado::Tensor> RunOnHost(OpRun run) {
  const DType first = run.inputs.empty() ? DType::kUndefined : run.inputs[0].dtype();
  if (OpRegistry::Global().FindKernel(kCpuOptBackend, run.domain, run.op_type, run.opset, first) !=
      nullptr) {
    run.backend = kCpuOptBackend;
  }
  return ValueOrThrow(RunOp(run));
}

std::vector<Tensor> Call(const std::string& op_type, const std::vector<Tensor>& inputs,
                         AttributeMap attrs, int num_outputs) {
  OpRun run{op_type, kOpset, std::move(attrs), {}, num_outputs};
  run.inputs.reserve(inputs.size());
  for (const Tensor& t : inputs) run.inputs.push_back(t.defined() ? t.value() : cortado::Tensor());
  std::vector<cortado::Tensor> values = RunOnHost(run);
  std::vector<Tensor> outputs;
  outputs.reserve(values.size());
  for (cortado::Tensor& v : values) {
    outputs.push_back(v.defined() ? Tensor(std::move(v)) : Tensor());
  }
  if (current_tracer != nullptr) current_tracer->Record(op_type, run.attrs, inputs, outputs);
  return outputs;
}

Tensor Call1(const std::string& op_type, const std::vector<Tensor>& inputs, AttributeMap attrs) {
  return Call(op_type, inputs, std::move(attrs), 1)[0];
}

Tracer* CurrentTracer() { return current_tracer; }
TracerScope::TracerScope(Tracer* tracer) : previous_(current_tracer) { current_tracer = tracer; }
TracerScope::~TracerScope() { current_tracer = previous_; }

}  // namespace frontend
}  // namespace cortado
