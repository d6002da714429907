#include "predictor/plan.h"

#include <set>

#include "absl/strings/str_join.h"

namespace cortado {
namespace {

bool IsNondeterministic(const std::string& op) {
  static const std::set<std::string>* ops = new std::set<std::string>{
      "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli",
      "Multinomial"};
  return ops->count(op) > 0;
}

absl::Status NodeError(const Node& node, int opset, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat("node '", node.name, "' (", node.op_type, ", domain ",
                                             DomainName(node.domain), ", opset ", opset,
                                             "): ", s.message()));
}

TensorType TypeOfTensor(const Tensor& t) { return TensorType{t.dtype(), t.shape()}; }

// Picks the more informative of two types for one value.
TensorType Merge(const TensorType& ours, const TensorType* theirs) {
  if (theirs == nullptr) return ours;
  TensorType out = ours;
  if (out.dtype == DType::kUndefined) out.dtype = theirs->dtype;
  if (!out.shape && theirs->shape) out.shape = theirs->shape;
  if (out.shape && theirs->shape && out.shape->size() == theirs->shape->size()) {
    for (size_t i = 0; i < out.shape->size(); ++i) {
      if ((*out.shape)[i] < 0) (*out.shape)[i] = (*theirs->shape)[i];
    }
  }
  return out;
}

}  // namespace

int Plan::SlotOf(const std::string& name) const {
  auto it = slots_.find(name);
  return it == slots_.end() ? -1 : it->second;
}

absl::StatusOr<std::unique_ptr<Plan>> Plan::Build(Graph graph, const PlanOptions& options) {
  RETURN_IF_ERROR(graph.CheckAndSort());
  std::unique_ptr<Plan> plan(new Plan());
  plan->inputs_ = graph.inputs;
  plan->outputs_ = graph.outputs;

  std::vector<const Backend*> backends;
  for (const Backend* b : BackendRegistry::Global().ByPriority()) {
    const bool allowed = options.backends.empty() || b->name() == kCpuBackend ||
                         std::find(options.backends.begin(), options.backends.end(), b->name()) !=
                             options.backends.end();
    if (allowed) backends.push_back(b);
  }
  const Backend* cpu = BackendRegistry::Global().Find(kCpuBackend);
  if (cpu == nullptr) return absl::InternalError("the reference CPU backend is not linked in");

  // Reserve every slot up front: kernels may keep pointers to constants while the plan grows.
  size_t max_slots = graph.inputs.size() + graph.initializers.size() + graph.outputs.size();
  for (const Node& node : graph.nodes) max_slots += node.inputs.size() + node.outputs.size();
  plan->constants_.reserve(max_slots);
  auto slot_for = [&](const std::string& name) {
    auto [it, inserted] = plan->slots_.emplace(name, static_cast<int>(plan->constants_.size()));
    if (inserted) plan->constants_.emplace_back();
    return it->second;
  };
  std::map<std::string, TensorType> types;
  for (const ValueInfo& v : graph.inputs) {
    types[v.name] = v.type;
    plan->input_slots_.push_back(slot_for(v.name));
  }
  for (auto& [name, t] : graph.initializers) {
    types[name] = TypeOfTensor(t);
    plan->constants_[slot_for(name)] = t;
  }

  for (Node& node : graph.nodes) {
    const int opset = graph.OpsetFor(node.domain);
    const OpSchema* schema = OpRegistry::Global().FindSchema(node.domain, node.op_type, opset);
    if (schema == nullptr) {
      return absl::UnimplementedError(absl::StrCat(
          "unsupported operator: node '", node.name, "' op_type '", node.op_type, "' domain '",
          DomainName(node.domain), "' opset ", opset));
    }
    absl::Status s = schema->Complete(static_cast<int>(node.inputs.size()),
                                      static_cast<int>(node.outputs.size()), node.attrs);
    if (!s.ok()) return NodeError(node, opset, s);

    std::vector<TensorType> in_types;
    std::vector<const Tensor*> constants;
    std::vector<DType> dtypes;
    std::vector<int> in_slots;
    bool all_constant = true;
    for (const std::string& in : node.inputs) {
      if (in.empty()) {
        in_types.emplace_back();
        constants.push_back(nullptr);
        dtypes.push_back(DType::kUndefined);
        in_slots.push_back(-1);
        continue;
      }
      const int slot = slot_for(in);
      in_slots.push_back(slot);
      const Tensor& c = plan->constants_[slot];
      constants.push_back(c.defined() ? &c : nullptr);
      all_constant = all_constant && c.defined();
      in_types.push_back(types[in]);
      dtypes.push_back(types[in].dtype);
    }
    const int num_outputs = static_cast<int>(node.outputs.size());
    InferenceContext ictx(in_types, constants, &node.attrs, opset, num_outputs);
    s = schema->RunInference(ictx);
    if (!s.ok()) return NodeError(node, opset, s);

    KernelInfo info{node.op_type, node.domain, opset, node.name, &node.attrs, dtypes, constants,
                    num_outputs};
    std::vector<int> out_slots;
    for (int i = 0; i < num_outputs; ++i) {
      const std::string& out = node.outputs[i];
      if (out.empty()) {
        out_slots.push_back(-1);
        continue;
      }
      auto known = graph.value_types.find(out);
      types[out] = Merge(ictx.outputs()[i], known == graph.value_types.end() ? nullptr : &known->second);
      out_slots.push_back(slot_for(out));
    }

    if (options.fold_constants && all_constant && !IsNondeterministic(node.op_type)) {
      auto kernel = cpu->CreateKernel(info);
      if (!kernel.ok()) return NodeError(node, opset, kernel.status());
      KernelContext ctx(constants, num_outputs);
      s = (*kernel)->Compute(ctx);
      if (!s.ok()) return NodeError(node, opset, s);
      for (int i = 0; i < num_outputs; ++i) {
        if (out_slots[i] >= 0) plan->constants_[out_slots[i]] = ctx.output(i);
      }
      continue;
    }

    PlanStep step;
    step.node_name = node.name;
    step.op_type = node.op_type;
    for (const Backend* b : backends) {
      if (!b->Supports(info)) continue;
      auto kernel = b->CreateKernel(info);
      if (kernel.ok()) {
        step.kernel = *std::move(kernel);
        step.backend = b;
        break;
      }
      if (kernel.status().code() != absl::StatusCode::kUnimplemented) {
        return NodeError(node, opset, kernel.status());
      }
    }
    if (step.kernel == nullptr) {
      return NodeError(node, opset,
                       absl::UnimplementedError(absl::StrCat(
                           "no backend has a kernel for input dtype ",
                           DTypeName(dtypes.empty() ? DType::kUndefined : dtypes[0]))));
    }
    step.inputs = std::move(in_slots);
    step.outputs = std::move(out_slots);
    plan->steps_.push_back(std::move(step));
  }

  for (const ValueInfo& v : graph.outputs) plan->output_slots_.push_back(slot_for(v.name));
  for (ValueInfo& v : plan->outputs_) v.type = Merge(v.type, &types[v.name]);

  // Release every per-run value after its last reader, except the graph's outputs.
  std::set<int> keep(plan->output_slots_.begin(), plan->output_slots_.end());
  std::vector<int> last_use(plan->constants_.size(), -1);
  for (size_t i = 0; i < plan->steps_.size(); ++i) {
    for (int slot : plan->steps_[i].inputs) {
      if (slot >= 0) last_use[slot] = static_cast<int>(i);
    }
    for (int slot : plan->steps_[i].outputs) {
      if (slot >= 0 && last_use[slot] < static_cast<int>(i)) last_use[slot] = static_cast<int>(i);
    }
  }
  for (size_t slot = 0; slot < last_use.size(); ++slot) {
    if (last_use[slot] >= 0 && !keep.count(static_cast<int>(slot)) &&
        !plan->constants_[slot].defined()) {
      plan->steps_[last_use[slot]].release_after.push_back(static_cast<int>(slot));
    }
  }
  return plan;
}

}  // namespace cortado
