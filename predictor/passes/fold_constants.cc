// FoldConstants: a node whose inputs are all constant (a Constant node has none) runs once, on
// the reference kernels, and its outputs become initializers. Random operators, control flow and
// nodes that make sequences or optionals are left alone.
#include <set>

#include "ops/run_op.h"
#include "predictor/passes/passes.h"

namespace cortado {
namespace {

bool IsNondeterministic(const std::string& op) {
  static const std::set<std::string>* ops =
      new std::set<std::string>{"RandomNormal",      "RandomUniform", "RandomNormalLike",
                                "RandomUniformLike", "Bernoulli",     "Multinomial"};
  return ops->count(op) > 0;
}

}  // namespace

absl::Status FoldConstants(Graph& graph) {
  std::vector<Node> kept;
  for (Node& node : graph.nodes) {
    OpRun run{node.op_type, graph.OpsetFor(node.domain),           node.attrs,
              {},           static_cast<int>(node.outputs.size()), kCpuBackend,
              node.domain};
    // Control flow runs subgraphs, which only the plan builds.
    bool all_constant = !IsNondeterministic(node.op_type) && Subgraphs(node).empty();
    for (const std::string& in : node.inputs) {
      const Tensor* c = in.empty() ? nullptr : ConstantOf(graph, in);
      all_constant = all_constant && (in.empty() || c != nullptr);
      run.inputs.push_back(c == nullptr ? Tensor() : *c);
    }
    if (!all_constant) {
      kept.push_back(std::move(node));
      continue;
    }
    absl::StatusOr<std::vector<Tensor>> outputs = RunOp(run);
    if (!outputs.ok()) return NodeError(node, run.opset, outputs.status());
    bool all_tensors = true;  // a sequence or an optional stays a node: initializers are tensors
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      all_tensors = all_tensors && (node.outputs[i].empty() || (*outputs)[i].defined());
    }
    if (!all_tensors) {
      kept.push_back(std::move(node));
      continue;
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (!node.outputs[i].empty()) graph.initializers[node.outputs[i]] = (*outputs)[i];
    }
  }
  graph.nodes = std::move(kept);
  return absl::OkStatus();
}

}  // namespace cortado
