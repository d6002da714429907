// InferTypes: every node's schema completes its attributes and infers its outputs' types, which
// are merged with what the model declared and recorded in graph.value_types.
#include "predictor/passes/passes.h"

namespace cortado {
namespace {

// The more informative of what inference found and what the model declared.
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

// The output types of the subgraph in `node`'s attribute `attr`, inferred with the outer values
// it reads typed as they are in `types`; empty when it cannot be inferred (the plan reports it).
std::vector<TensorType> SubgraphOutputTypes(const Node& node, const std::string& attr,
                                            const Graph& graph,
                                            const std::map<std::string, TensorType>& types) {
  const AttrValue* value = node.attrs.Find(attr);
  const auto* sub = value == nullptr ? nullptr : std::get_if<SubgraphAttr>(value);
  if (sub == nullptr) return {};
  Graph branch = *static_cast<const Graph*>(sub->graph.get());
  branch.opsets = graph.opsets;  // a subgraph imports its model's opsets
  for (const std::string& name : OuterValues(branch)) {
    auto it = types.find(name);
    branch.inputs.push_back({name, it == types.end() ? TensorType{} : it->second});
  }
  if (!InferTypes(branch).ok()) return {};
  std::vector<TensorType> out;
  for (const ValueInfo& v : branch.outputs) out.push_back(v.type);
  return out;
}

// The types of If's outputs where the model declares none (a NetDef If's branches): what both
// branches agree on (the dtype, the rank, each dimension).
std::vector<TensorType> BranchOutputTypes(const Node& node, const Graph& graph,
                                          const std::map<std::string, TensorType>& types) {
  if (node.op_type != "If") return {};
  std::vector<TensorType> out = SubgraphOutputTypes(node, "then_branch", graph, types);
  const std::vector<TensorType> other = SubgraphOutputTypes(node, "else_branch", graph, types);
  if (out.size() != other.size()) return {};
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].dtype != other[i].dtype) out[i].dtype = DType::kUndefined;
    if (!out[i].shape || !other[i].shape || out[i].shape->size() != other[i].shape->size()) {
      out[i].shape.reset();
      continue;
    }
    for (size_t d = 0; d < out[i].shape->size(); ++d) {
      if ((*out[i].shape)[d] != (*other[i].shape)[d]) (*out[i].shape)[d] = -1;
    }
  }
  return out;
}

}  // namespace

absl::Status InferTypes(Graph& graph) {
  std::map<std::string, TensorType> types;
  for (const ValueInfo& v : graph.inputs) types[v.name] = v.type;
  for (const auto& [name, t] : graph.initializers) types[name] = TensorType{t.dtype(), t.shape()};
  std::map<std::string, TensorType> declared = std::move(graph.value_types);
  graph.value_types.clear();
  for (Node& node : graph.nodes) {
    const int opset = graph.OpsetFor(node.domain);
    const OpSchema* schema = OpRegistry::Global().FindSchema(node.domain, node.op_type, opset);
    if (schema == nullptr) {
      return absl::UnimplementedError(absl::StrCat("unsupported operator: node '", node.name,
                                                   "' op_type '", node.op_type, "' domain '",
                                                   DomainName(node.domain), "' opset ", opset));
    }
    absl::Status s = schema->Complete(static_cast<int>(node.inputs.size()),
                                      static_cast<int>(node.outputs.size()), node.attrs);
    if (!s.ok()) return NodeError(node, opset, s);
    std::vector<TensorType> in_types;
    std::vector<const Tensor*> constants;
    for (const std::string& in : node.inputs) {
      in_types.push_back(in.empty() ? TensorType{} : types[in]);
      constants.push_back(in.empty() ? nullptr : ConstantOf(graph, in));
    }
    InferenceContext ctx(in_types, constants, &node.attrs, opset,
                         static_cast<int>(node.outputs.size()));
    s = schema->RunInference(ctx);
    if (!s.ok()) return NodeError(node, opset, s);
    std::vector<TensorType> branch_types;
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      const std::string& out = node.outputs[i];
      if (out.empty()) continue;
      auto known = declared.find(out);
      types[out] = Merge(ctx.outputs()[i], known == declared.end() ? nullptr : &known->second);
      if (types[out].dtype == DType::kUndefined && branch_types.empty()) {
        branch_types = BranchOutputTypes(node, graph, types);
      }
      if (i < branch_types.size()) types[out] = Merge(types[out], &branch_types[i]);
      graph.value_types[out] = types[out];
    }
  }
  for (ValueInfo& v : graph.outputs) v.type = Merge(v.type, &types[v.name]);
  return absl::OkStatus();
}

std::map<std::string, int> CountReaders(const Graph& graph) {
  std::map<std::string, int> readers;
  for (const Node& node : graph.nodes) {
    for (const std::string& in : node.inputs) {
      if (!in.empty()) ++readers[in];
    }
  }
  for (const ValueInfo& v : graph.outputs) ++readers[v.name];
  return readers;
}

std::map<std::string, int> Producers(const Graph& graph) {
  std::map<std::string, int> producers;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    for (const std::string& out : graph.nodes[i].outputs) {
      if (!out.empty()) producers[out] = static_cast<int>(i);
    }
  }
  return producers;
}

const Tensor* ConstantOf(const Graph& graph, const std::string& value) {
  auto it = graph.initializers.find(value);
  return it == graph.initializers.end() ? nullptr : &it->second;
}

TensorType ValueType(const Graph& graph, const std::string& value) {
  if (auto it = graph.value_types.find(value); it != graph.value_types.end()) return it->second;
  if (const Tensor* c = ConstantOf(graph, value)) return TensorType{c->dtype(), c->shape()};
  for (const ValueInfo& in : graph.inputs) {
    if (in.name == value) return in.type;
  }
  return TensorType{};
}

}  // namespace cortado
