#include "predictor/predictor.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "core/thread_pool.h"
#include "predictor/model_io.h"
#include "predictor/onnx/onnx_importer.h"

namespace cortado {
namespace {

// Prefixes load errors with the file they concern.
absl::StatusOr<std::unique_ptr<Predictor>> Annotate(absl::StatusOr<std::unique_ptr<Predictor>> p,
                                                    const std::string& file) {
  if (p.ok() || absl::StrContains(p.status().message(), file)) return p;
  return absl::Status(p.status().code(), absl::StrCat(file, ": ", p.status().message()));
}

std::string TypeString(const TensorType& t) {
  std::string shape = "?";
  if (t.shape) {
    std::vector<std::string> dims;
    for (int64_t d : *t.shape) dims.push_back(d < 0 ? "?" : std::to_string(d));
    shape = absl::StrCat("[", absl::StrJoin(dims, ","), "]");
  }
  return absl::StrCat(DTypeName(t.dtype), shape);
}

absl::Status CheckInput(const ValueInfo& info, const Value& v) {
  if (!v.defined()) {
    return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "' is empty"));
  }
  if (info.kind == ValueKind::kOptional && v.kind == Value::Kind::kNone) return absl::OkStatus();
  if (info.kind != ValueKind::kOptional &&
      (v.kind == Value::Kind::kNone || (info.kind == ValueKind::kSequence) != v.is_sequence())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", info.name, "' expects a ",
        info.kind == ValueKind::kSequence ? "sequence" : "tensor", ", got a ", KindName(v.kind)));
  }
  const std::vector<Tensor> one = {v.tensor};
  for (const Tensor& t : v.is_sequence() ? v.elements : one) {
    bool ok = info.type.dtype == DType::kUndefined || info.type.dtype == t.dtype();
    if (ok && info.type.shape) {
      ok = info.type.shape->size() == t.shape().size();
      for (size_t i = 0; ok && i < t.shape().size(); ++i) {
        ok = (*info.type.shape)[i] < 0 || (*info.type.shape)[i] == t.shape()[i];
      }
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat("input '", info.name, "' expects ",
                                                     TypeString(info.type), ", got ",
                                                     TypeString({t.dtype(), t.shape()})));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Predictor>> Predictor::FromGraph(Graph graph,
                                                                const PredictorOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Executor> executor, MakeExecutor(options.executor));
  if (options.intra_op_threads < 0) {
    return absl::InvalidArgumentError(absl::StrCat("intra_op_threads must be 0 (the default) or "
                                                   "positive, got ", options.intra_op_threads));
  }
  std::optional<ScopedIntraOpThreads> threads;  // pre-packing builds for the count runs use
  if (options.intra_op_threads > 0) threads.emplace(options.intra_op_threads);
  ValueMap input_defaults(graph.input_defaults.begin(), graph.input_defaults.end());
  ASSIGN_OR_RETURN(std::unique_ptr<Plan> plan, Plan::Build(std::move(graph), options.plan));
  return std::unique_ptr<Predictor>(
      new Predictor(std::move(plan), std::move(executor), std::move(input_defaults), options));
}

Predictor::Predictor(std::unique_ptr<Plan> plan, std::unique_ptr<Executor> executor,
                     ValueMap input_defaults, const PredictorOptions& options)
    : plan_(std::move(plan)),
      executor_(std::move(executor)),
      input_defaults_(std::move(input_defaults)),
      intra_op_threads_(options.intra_op_threads) {
  if (options.memory_plan) {
    memory_ = std::make_unique<MemoryPlanner>(*plan_, executor_->StepTimes(*plan_));
  }
}

absl::StatusOr<std::unique_ptr<Predictor>> Predictor::FromOnnxBytes(
    const std::string& bytes, const std::string& base_dir, const PredictorOptions& options) {
  ASSIGN_OR_RETURN(Graph graph, ImportOnnx(bytes, base_dir));
  return FromGraph(std::move(graph), options);
}

absl::StatusOr<std::unique_ptr<Predictor>> Predictor::FromFile(const std::string& path,
                                                               const PredictorOptions& options) {
  ASSIGN_OR_RETURN(Graph graph, LoadGraph(path));
  return Annotate(FromGraph(std::move(graph), options), path);
}

absl::StatusOr<std::unique_ptr<Predictor>> Predictor::FromNetDefFiles(
    const std::string& init_net, const std::string& predict_net, const PredictorOptions& options) {
  ASSIGN_OR_RETURN(Graph graph, LoadNetDefGraph(init_net, predict_net));
  return Annotate(FromGraph(std::move(graph), options), predict_net);
}

absl::StatusOr<std::vector<const Value*>> Predictor::CheckInputs(const ValueMap& inputs) const {
  for (const auto& [name, value] : inputs) {
    bool known = false;
    for (const ValueInfo& info : plan_->inputs()) known = known || info.name == name;
    if (!known) {
      std::vector<std::string> names;
      for (const ValueInfo& info : plan_->inputs()) names.push_back(info.name);
      return absl::InvalidArgumentError(absl::StrCat("unknown input '", name,
                                                     "'; the model's inputs are: ",
                                                     absl::StrJoin(names, ", ")));
    }
  }
  std::vector<const Value*> ordered;
  for (const ValueInfo& info : plan_->inputs()) {
    auto it = inputs.find(info.name);
    if (it == inputs.end()) {
      auto def = input_defaults_.find(info.name);
      if (def != input_defaults_.end()) {
        ordered.push_back(&def->second);
        continue;
      }
      return absl::InvalidArgumentError(absl::StrCat("missing input '", info.name, "' (",
                                                     TypeString(info.type), ")"));
    }
    RETURN_IF_ERROR(CheckInput(info, it->second));
    ordered.push_back(&it->second);
  }
  return ordered;
}

absl::StatusOr<TensorMap> Predictor::Run(const TensorMap& inputs) const {
  ASSIGN_OR_RETURN(ValueMap outputs, RunValues(ValueMap(inputs.begin(), inputs.end())));
  TensorMap tensors;
  for (auto& [name, value] : outputs) {
    if (!value.is_tensor()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "output '", name, "' is a ", KindName(value.kind), ", not a tensor (use RunValues)"));
    }
    tensors[name] = std::move(value.tensor);
  }
  return tensors;
}

absl::StatusOr<ValueMap> Predictor::RunValues(const ValueMap& inputs) const {
  ASSIGN_OR_RETURN(std::vector<const Value*> ordered, CheckInputs(inputs));
  // The memory plan keys its layouts on the tensor inputs (a sequence counts as an empty one).
  std::vector<const Tensor*> tensors;
  for (const Value* v : ordered) tensors.push_back(&v->tensor);
  MemoryPlanner::Run memory;
  if (memory_ != nullptr) memory = memory_->Begin(tensors);
  ValueMap outputs;
  absl::Status status;
  {
    Workspace ws(*plan_);
    for (size_t i = 0; i < ordered.size(); ++i) ws.value(plan_->input_slots()[i]) = *ordered[i];
    if (memory.arena != nullptr) ws.UseArena(memory.layout.get(), memory.arena);
    ws.Record(memory.record.get());
    std::optional<ScopedIntraOpThreads> threads;
    if (intra_op_threads_ > 0) threads.emplace(intra_op_threads_);
    status = executor_->Run(ws);
    for (size_t i = 0; status.ok() && i < plan_->outputs().size(); ++i) {
      const Value& v = ws.value(plan_->output_slots()[i]);
      if (!v.defined()) {
        status = absl::InternalError(
            absl::StrCat("output '", plan_->outputs()[i].name, "' was not produced"));
      }
      outputs[plan_->outputs()[i].name] = v;
    }
  }
  if (memory_ != nullptr) {
    if (status.ok() && memory.record != nullptr) memory_->Learn(tensors, *memory.record);
    memory_->End(std::move(memory));
  }
  RETURN_IF_ERROR(status);
  return outputs;
}

}  // namespace cortado
