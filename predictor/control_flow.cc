#include "predictor/control_flow.h"

#include <algorithm>
#include <limits>

#include "ops/sequence.h"
#include "ops/tensor_util.h"
#include "predictor/executor.h"

namespace cortado {
namespace {

using tensor_ops::Bad;

// A subgraph planned once: its own inputs come first in the plan's inputs, then its outer-scope
// values, each bound to the node input `outer[j]`.
struct Body {
  std::string name;
  std::unique_ptr<Plan> plan;
  int num_inputs = 0;
  std::vector<int> outer;
};

absl::StatusOr<Body> PlanBody(const Node& node, const std::string& attr, const KernelInfo& info,
                              const std::map<std::string, int>& opsets,
                              const PlanOptions& options) {
  const AttrValue* value = node.attrs.Find(attr);
  const auto* sub = value == nullptr ? nullptr : std::get_if<SubgraphAttr>(value);
  if (sub == nullptr) return Bad(node.op_type, "the graph attribute '", attr, "' is missing");
  Graph graph = *static_cast<const Graph*>(sub->graph.get());
  graph.opsets = opsets;
  const std::vector<std::string> node_outer = OuterValues(node);
  const int first_outer = static_cast<int>(node.inputs.size() - node_outer.size());
  Body body;
  body.name = attr;
  body.num_inputs = static_cast<int>(graph.inputs.size());
  for (const std::string& name : OuterValues(graph)) {
    const int index = first_outer + static_cast<int>(std::lower_bound(node_outer.begin(),
                                                                      node_outer.end(), name) -
                                                     node_outer.begin());
    body.outer.push_back(index);
    // The dtype only: a shape inferred outside is a hint the body must not fold on.
    graph.inputs.push_back({name, {info.input_dtypes[index], std::nullopt}});
  }
  auto plan = Plan::Build(std::move(graph), options);
  if (!plan.ok()) {
    return absl::Status(plan.status().code(),
                        absl::StrCat("subgraph '", attr, "': ", plan.status().message()));
  }
  body.plan = *std::move(plan);
  return body;
}

// Input `i` of the node as a Value (undefined when absent).
Value InputValue(const KernelContext& ctx, int i) {
  if (const Value* v = ctx.value(i)) return *v;
  return ctx.input(i) != nullptr ? Value(*ctx.input(i)) : Value();
}

absl::StatusOr<std::vector<Value>> RunBody(const Body& body, std::vector<Value> inputs,
                                           const KernelContext& ctx) {
  const Plan& plan = *body.plan;
  if (static_cast<int>(inputs.size()) != body.num_inputs) {
    return Bad("subgraph", "'", body.name, "' takes ", body.num_inputs, " inputs, the node gives ",
               inputs.size());
  }
  Workspace ws(plan);
  for (int i = 0; i < body.num_inputs; ++i) ws.value(plan.input_slots()[i]) = std::move(inputs[i]);
  for (size_t j = 0; j < body.outer.size(); ++j) {
    ws.value(plan.input_slots()[body.num_inputs + j]) = InputValue(ctx, body.outer[j]);
  }
  absl::Status s = SimpleExecutor().Run(ws);
  if (!s.ok())
    return absl::Status(s.code(), absl::StrCat("subgraph '", body.name, "': ", s.message()));
  std::vector<Value> outputs;
  for (size_t i = 0; i < plan.output_slots().size(); ++i) {
    outputs.push_back(ws.value(plan.output_slots()[i]));
    if (!outputs.back().defined()) {
      return Bad("subgraph", "'", body.name, "' did not produce output '", plan.outputs()[i].name,
                 "'");
    }
  }
  return outputs;
}

absl::StatusOr<bool> Condition(const Value& v, absl::string_view what) {
  if (!v.is_tensor() || v.tensor.num_elements() != 1) {
    return Bad(what, "the condition must be a tensor of one element");
  }
  if (v.tensor.dtype() != DType::kBool) {
    return Bad(what, "the condition must be bool, is ", DTypeName(v.tensor.dtype()));
  }
  return v.tensor.data<bool>()[0];
}

absl::StatusOr<Tensor> AsTensor(const Value& v, absl::string_view what) {
  if (!v.is_tensor()) return Bad(what, "expected a tensor, got a ", KindName(v.kind));
  return v.tensor;
}

// The scan outputs of `body` from index `first` on, stacked along the new axis `axes[k]` (in
// reverse where `reverse[k]`); when nothing ran, empty along axis 0 (the only shape ONNX's
// reference gives then).
absl::Status SetStacked(KernelContext& ctx, int first_output, const Body& body, int first,
                        std::vector<std::vector<Tensor>>& scans, const tensor_ops::Ints& axes,
                        const tensor_ops::Ints& reverse) {
  for (size_t k = 0; k < scans.size(); ++k) {
    if (k < reverse.size() && reverse[k] != 0) std::reverse(scans[k].begin(), scans[k].end());
    if (scans[k].empty()) {  // [0] and the slice's shape where the body declares it
      const TensorType& type = body.plan->outputs()[first + k].type;
      Shape shape = {0};
      if (type.shape &&
          std::all_of(type.shape->begin(), type.shape->end(), [](int64_t d) { return d >= 0; })) {
        shape.insert(shape.end(), type.shape->begin(), type.shape->end());
      }
      ASSIGN_OR_RETURN(
          Tensor empty,
          Tensor::Create(type.dtype == DType::kUndefined ? DType::kFloat32 : type.dtype, shape));
      ctx.SetOutput(first_output + k, std::move(empty));
      continue;
    }
    const int64_t axis = k < axes.size() ? axes[k] : 0;
    ASSIGN_OR_RETURN(Tensor stacked, ConcatTensors(scans[k], axis, /*new_axis=*/true));
    ctx.SetOutput(first_output + k, std::move(stacked));
  }
  return absl::OkStatus();
}

class ControlFlowKernel : public Kernel {
 public:
  explicit ControlFlowKernel(const Node& node)
      : num_own_inputs_(static_cast<int>(node.inputs.size() - OuterValues(node).size())) {}

 protected:
  const int num_own_inputs_;  // the node's inputs before its outer-scope values
};

class IfKernel : public ControlFlowKernel {
 public:
  IfKernel(const Node& node, Body then_branch, Body else_branch)
      : ControlFlowKernel(node), then_(std::move(then_branch)), else_(std::move(else_branch)) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const bool cond, Condition(InputValue(ctx, 0), "If"));
    ASSIGN_OR_RETURN(std::vector<Value> outputs, RunBody(cond ? then_ : else_, {}, ctx));
    if (static_cast<int>(outputs.size()) != ctx.num_outputs()) {
      return Bad("If", "the branch has ", outputs.size(), " outputs, the node ", ctx.num_outputs());
    }
    for (size_t i = 0; i < outputs.size(); ++i) ctx.SetValue(i, std::move(outputs[i]));
    return absl::OkStatus();
  }

 private:
  Body then_, else_;
};

// Loop: inputs M (trip count), cond, N carried values; body inputs (iteration, cond, carried),
// outputs (cond, carried, K scan outputs); node outputs: the N carried values, the K stacked.
class LoopKernel : public ControlFlowKernel {
 public:
  LoopKernel(const Node& node, Body body) : ControlFlowKernel(node), body_(std::move(body)) {}
  absl::Status Compute(KernelContext& ctx) const override {
    const int n = num_own_inputs_ - 2;
    const int k = ctx.num_outputs() - n;
    if (n < 0 || k < 0)
      return Bad("Loop", "has ", n, " carried values for ", ctx.num_outputs(), " outputs");
    int64_t trips = std::numeric_limits<int64_t>::max();
    if (const Tensor* m = ctx.input(0)) {
      ASSIGN_OR_RETURN(tensor_ops::Ints v, tensor_ops::IntValues(*m, "Loop", "M"));
      if (v.size() != 1) return Bad("Loop", "M must have one element");
      trips = v[0];
    }
    bool cond = true;
    if (ctx.input(1) != nullptr) {
      ASSIGN_OR_RETURN(cond, Condition(InputValue(ctx, 1), "Loop"));
    }
    std::vector<Value> carried;
    for (int i = 0; i < n; ++i) carried.push_back(InputValue(ctx, 2 + i));
    std::vector<std::vector<Tensor>> scans(k);
    for (int64_t i = 0; i < trips && cond; ++i) {
      std::vector<Value> in = {Tensor::Scalar<int64_t>(i), Tensor::Scalar<bool>(cond)};
      in.insert(in.end(), carried.begin(), carried.end());
      ASSIGN_OR_RETURN(std::vector<Value> out, RunBody(body_, std::move(in), ctx));
      if (static_cast<int>(out.size()) != 1 + n + k) {
        return Bad("Loop", "the body has ", out.size(), " outputs, expected ", 1 + n + k);
      }
      ASSIGN_OR_RETURN(cond, Condition(out[0], "Loop"));
      for (int j = 0; j < n; ++j) carried[j] = std::move(out[1 + j]);
      for (int j = 0; j < k; ++j) {
        ASSIGN_OR_RETURN(Tensor t, AsTensor(out[1 + n + j], "Loop scan output"));
        scans[j].push_back(std::move(t));
      }
    }
    for (int j = 0; j < n; ++j) {
      if (!carried[j].defined()) return Bad("Loop", "carried value ", j, " is absent");
      ctx.SetValue(j, std::move(carried[j]));
    }
    return SetStacked(ctx, n, body_, 1 + n, scans, {}, {});
  }

 private:
  Body body_;
};

// Scan from opset 9: N state values, then M scan inputs sliced along their axes; body inputs
// (states, slices), outputs (states, K slices); node outputs: the states, the K stacked.
class ScanKernel : public ControlFlowKernel {
 public:
  ScanKernel(const Node& node, Body body, int opset)
      : ControlFlowKernel(node), attrs_(node.attrs), body_(std::move(body)), opset_(opset) {}
  absl::Status Compute(KernelContext& ctx) const override {
    const int m = static_cast<int>(attrs_.GetInt("num_scan_inputs"));
    if (opset_ < 9) return ComputeBatched(ctx, m);
    const int n = num_own_inputs_ - m;
    if (m <= 0 || n < 0) return Bad("Scan", "num_scan_inputs ", m, " does not fit the inputs");
    std::vector<Value> states;
    for (int i = 0; i < n; ++i) states.push_back(InputValue(ctx, i));
    std::vector<Tensor> scan_inputs;
    for (int j = 0; j < m; ++j) {
      ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(n + j));
      scan_inputs.push_back(*x);
    }
    ASSIGN_OR_RETURN(
        std::vector<Value> out,
        Run(ctx, std::move(states), scan_inputs, attrs_.GetInts("scan_input_axes"),
            attrs_.GetInts("scan_input_directions"), attrs_.GetInts("scan_output_axes"),
            attrs_.GetInts("scan_output_directions")));
    for (size_t i = 0; i < out.size(); ++i) ctx.SetValue(i, std::move(out[i]));
    return absl::OkStatus();
  }

 private:
  // The scan over one batch: the states after the last step, then the stacked scan outputs.
  absl::StatusOr<std::vector<Value>> Run(const KernelContext& ctx, std::vector<Value> states,
                                         const std::vector<Tensor>& scan_inputs,
                                         const tensor_ops::Ints& in_axes,
                                         const tensor_ops::Ints& in_reverse,
                                         const tensor_ops::Ints& out_axes,
                                         const tensor_ops::Ints& out_reverse) const {
    const int n = static_cast<int>(states.size());
    const int k = ctx.num_outputs() - n;
    if (k < 0) return Bad("Scan", "has ", n, " states for ", ctx.num_outputs(), " outputs");
    std::vector<std::vector<Tensor>> slices;
    for (size_t j = 0; j < scan_inputs.size(); ++j) {
      ASSIGN_OR_RETURN(std::vector<Tensor> s,
                       Unstack(scan_inputs[j], j < in_axes.size() ? in_axes[j] : 0));
      if (j < in_reverse.size() && in_reverse[j] != 0) std::reverse(s.begin(), s.end());
      if (!slices.empty() && s.size() != slices[0].size()) {
        return Bad("Scan", "scan inputs have different lengths ", slices[0].size(), " and ",
                   s.size());
      }
      slices.push_back(std::move(s));
    }
    std::vector<std::vector<Tensor>> scans(k);
    for (size_t t = 0; t < slices[0].size(); ++t) {
      std::vector<Value> in = states;
      for (const auto& s : slices) in.push_back(s[t]);
      ASSIGN_OR_RETURN(std::vector<Value> out, RunBody(body_, std::move(in), ctx));
      if (static_cast<int>(out.size()) != n + k) {
        return Bad("Scan", "the body has ", out.size(), " outputs, expected ", n + k);
      }
      for (int i = 0; i < n; ++i) states[i] = std::move(out[i]);
      for (int j = 0; j < k; ++j) {
        ASSIGN_OR_RETURN(Tensor y, AsTensor(out[n + j], "Scan output"));
        scans[j].push_back(std::move(y));
      }
    }
    // Stacked into a context of their own, so that the batched form can reuse this.
    KernelContext stacked({}, k);
    RETURN_IF_ERROR(SetStacked(stacked, 0, body_, n, scans, out_axes, out_reverse));
    for (int j = 0; j < k; ++j) states.push_back(stacked.output(j));
    return states;
  }

  // Scan 8: optional sequence_lens, then states and scan inputs with a batch axis first; each
  // batch entry is scanned alone (along axis 1 of the inputs) and the results stacked.
  absl::Status ComputeBatched(KernelContext& ctx, int m) const {
    const int n = num_own_inputs_ - 1 - m;
    if (m <= 0 || n < 0) return Bad("Scan", "num_scan_inputs ", m, " does not fit the inputs");
    std::vector<std::vector<Tensor>> per_batch;  // per input, its batch entries
    for (int i = 0; i < n + m; ++i) {
      ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1 + i));
      ASSIGN_OR_RETURN(std::vector<Tensor> entries, Unstack(*x, 0));
      if (!per_batch.empty() && entries.size() != per_batch[0].size()) {
        return Bad("Scan", "inputs have different batch sizes");
      }
      per_batch.push_back(std::move(entries));
    }
    const size_t batch = per_batch[0].size();
    if (const Tensor* lens = ctx.input(0)) {
      ASSIGN_OR_RETURN(tensor_ops::Ints v, tensor_ops::IntValues(*lens, "Scan", "sequence_lens"));
      for (int64_t len : v) {
        if (batch > 0 && len != per_batch[n][0].dim(0)) {
          return absl::UnimplementedError("Scan: sequence_lens shorter than the sequence");
        }
      }
    }
    std::vector<std::vector<Tensor>> outputs(ctx.num_outputs());
    for (size_t b = 0; b < batch; ++b) {
      std::vector<Value> states;
      std::vector<Tensor> scan_inputs;
      for (int i = 0; i < n; ++i) states.push_back(per_batch[i][b]);
      for (int j = 0; j < m; ++j) scan_inputs.push_back(per_batch[n + j][b]);
      ASSIGN_OR_RETURN(std::vector<Value> out, Run(ctx, std::move(states), scan_inputs, {},
                                                   attrs_.GetInts("directions"), {}, {}));
      for (size_t i = 0; i < out.size(); ++i) {
        ASSIGN_OR_RETURN(Tensor t, AsTensor(out[i], "Scan output"));
        outputs[i].push_back(std::move(t));
      }
    }
    if (batch == 0) return Bad("Scan", "the batch is empty");
    for (size_t i = 0; i < outputs.size(); ++i) {
      ASSIGN_OR_RETURN(Tensor t, ConcatTensors(outputs[i], 0, /*new_axis=*/true));
      ctx.SetOutput(i, std::move(t));
    }
    return absl::OkStatus();
  }

  const AttributeMap attrs_;
  Body body_;
  int opset_;
};

// SequenceMap: the body runs once per element of the first input (a sequence); other inputs
// give their element at the same position (sequences) or themselves (tensors). Each body
// output is gathered into a sequence. Elements are copied, as sequence.cc does.
class SequenceMapKernel : public ControlFlowKernel {
 public:
  SequenceMapKernel(const Node& node, Body body)
      : ControlFlowKernel(node), body_(std::move(body)) {}
  absl::Status Compute(KernelContext& ctx) const override {
    std::vector<Value> inputs;
    for (int i = 0; i < num_own_inputs_; ++i) inputs.push_back(InputValue(ctx, i));
    if (inputs.empty() || !inputs[0].is_sequence()) {
      return Bad("SequenceMap", "input 0 must be a sequence");
    }
    const size_t size = inputs[0].elements.size();
    std::vector<std::vector<Tensor>> results(ctx.num_outputs());
    for (size_t e = 0; e < size; ++e) {
      std::vector<Value> in;
      for (const Value& v : inputs) {
        if (v.is_sequence() && v.elements.size() != size) {
          return Bad("SequenceMap", "sequences of lengths ", size, " and ", v.elements.size());
        }
        in.push_back(v.is_sequence() ? Value(v.elements[e]) : v);
      }
      ASSIGN_OR_RETURN(std::vector<Value> out, RunBody(body_, std::move(in), ctx));
      if (out.size() != results.size()) {
        return Bad("SequenceMap", "the body has ", out.size(), " outputs, the node ",
                   results.size());
      }
      for (size_t j = 0; j < out.size(); ++j) {
        ASSIGN_OR_RETURN(Tensor t, AsTensor(out[j], "SequenceMap output"));
        results[j].push_back(t.Clone());
      }
    }
    for (size_t j = 0; j < results.size(); ++j) {
      DType dtype = body_.plan->outputs()[j].type.dtype;
      if (!results[j].empty()) dtype = results[j][0].dtype();
      ctx.SetValue(j, Value::Sequence(std::move(results[j]), dtype));
    }
    return absl::OkStatus();
  }

 private:
  Body body_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> MakeControlFlowKernel(
    const Node& node, const KernelInfo& info, const std::map<std::string, int>& opsets,
    const PlanOptions& options) {
  if (node.domain.empty() && node.op_type == "If") {
    ASSIGN_OR_RETURN(Body then_branch, PlanBody(node, "then_branch", info, opsets, options));
    ASSIGN_OR_RETURN(Body else_branch, PlanBody(node, "else_branch", info, opsets, options));
    return std::unique_ptr<Kernel>(
        new IfKernel(node, std::move(then_branch), std::move(else_branch)));
  }
  if (node.domain.empty() &&
      (node.op_type == "Loop" || node.op_type == "Scan" || node.op_type == "SequenceMap")) {
    ASSIGN_OR_RETURN(Body body, PlanBody(node, "body", info, opsets, options));
    if (node.op_type == "Loop")
      return std::unique_ptr<Kernel>(new LoopKernel(node, std::move(body)));
    if (node.op_type == "Scan") {
      return std::unique_ptr<Kernel>(new ScanKernel(node, std::move(body), info.opset));
    }
    return std::unique_ptr<Kernel>(new SequenceMapKernel(node, std::move(body)));
  }
  return absl::UnimplementedError(absl::StrCat("no kernel runs the subgraphs of ", node.op_type,
                                               " (domain ", DomainName(node.domain), ")"));
}

}  // namespace cortado
