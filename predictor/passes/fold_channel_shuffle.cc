// FoldChannelShuffle: ShuffleNet's channel shuffle, Reshape(X [N, C, H, W] -> [N, g, C/g, H, W]),
// Transpose(perm 0, 2, 1, 3, 4) and Reshape(-> [N, C, H, W]), becomes one Gather of X's channels
// (axis 1) with constant indices: output channel j * g + i is input channel i * C/g + j. A Slice
// of such a Gather's channels with constant bounds becomes a Gather of the indices it keeps. The
// two reshapes' targets may be computed at run time from X's batch dimension (a model exported
// with a dynamic batch: Concat(Unsqueeze(Gather(Shape(X), 0)), constants)). After it the shape
// arithmetic on the batch is dead, the Slices' bounds fold once inference knows the Gather's
// shape, and AssignLayout keeps the Gathers channels-last.
#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "predictor/passes/passes.h"

namespace cortado {
namespace {

// The int64 values of a constant vector, or nullopt.
std::optional<std::vector<int64_t>> Values(const Tensor* t) {
  if (t == nullptr || t->dtype() != DType::kInt64 || t->rank() > 1) return std::nullopt;
  return std::vector<int64_t>(t->data<int64_t>(), t->data<int64_t>() + t->num_elements());
}

// Whether `value` is [dim 0 of x], as an exporter computes it: Unsqueeze(Gather(Shape(x), 0)).
bool IsBatchOf(const Graph& graph, const std::map<std::string, int>& producers,
               const std::string& value, const std::string& x) {
  auto node = [&](const std::string& v, const char* op) -> const Node* {
    auto it = producers.find(v);
    if (it == producers.end()) return nullptr;
    const Node& n = graph.nodes[it->second];
    return n.domain.empty() && n.op_type == op && !n.inputs.empty() ? &n : nullptr;
  };
  const Node* unsqueeze = node(value, "Unsqueeze");
  const Node* gather = unsqueeze ? node(unsqueeze->inputs[0], "Gather") : nullptr;
  const Node* shape =
      gather && gather->inputs.size() == 2 ? node(gather->inputs[0], "Shape") : nullptr;
  const std::optional<std::vector<int64_t>> index =
      gather ? Values(ConstantOf(graph, gather->inputs[1])) : std::nullopt;
  const TensorType out = ValueType(graph, value);
  return shape != nullptr && shape->inputs[0] == x && shape->attrs.GetInt("start", 0) == 0 &&
         gather->attrs.GetInt("axis", 0) == 0 && index && index->size() == 1 && (*index)[0] == 0 &&
         out.shape && *out.shape == Shape{1};
}

// The dimensions after the first that Reshape(x, target) gives, x being 4-D with known
// dimensions after the first: when the target is constant, or a Concat on axis 0 of [dim 0 of x]
// (IsBatchOf) and constants; its first entry must then stand for x's dim 0 (0, or -1 with every
// other entry given, or x's dim 0 itself). One later entry may be -1 (inferred); none may be 0.
// (The reshaped value holds x's elements: C * H * W per batch item.)
std::optional<std::vector<int64_t>> ReshapedTrailingDims(
    const Graph& graph, const std::map<std::string, int>& producers, const std::string& x,
    const Shape& xs, const std::string& target) {
  std::optional<std::vector<int64_t>> entries = Values(ConstantOf(graph, target));
  if (!entries) {
    auto it = producers.find(target);
    if (it == producers.end()) return std::nullopt;
    const Node& concat = graph.nodes[it->second];
    if (!concat.domain.empty() || concat.op_type != "Concat" || concat.attrs.GetInt("axis") != 0 ||
        concat.inputs.size() < 2 || !IsBatchOf(graph, producers, concat.inputs[0], x)) {
      return std::nullopt;
    }
    entries = std::vector<int64_t>{0};  // as if 0: x's dim 0
    for (size_t i = 1; i < concat.inputs.size(); ++i) {
      std::optional<std::vector<int64_t>> piece = Values(ConstantOf(graph, concat.inputs[i]));
      if (!piece) return std::nullopt;
      entries->insert(entries->end(), piece->begin(), piece->end());
    }
  }
  if (entries->size() < 2) return std::nullopt;
  const int64_t first = (*entries)[0];
  const int64_t per_item = xs[1] * xs[2] * xs[3];  // elements per batch item
  std::vector<int64_t> dims(entries->begin() + 1, entries->end());
  int inferred = -1;
  int64_t product = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1 && inferred < 0 && first != -1) {
      inferred = static_cast<int>(i);
      continue;
    }
    if (dims[i] <= 0) return std::nullopt;
    product *= dims[i];
  }
  if (inferred >= 0) {
    if (per_item % product != 0) return std::nullopt;
    dims[inferred] = per_item / product;
    product = per_item;
  }
  if (product != per_item || (first != 0 && first != -1 && first != xs[0])) return std::nullopt;
  return dims;
}

// The node producing `value`, when it is `op_type` of the default domain and `value` has no
// other reader.
Node* SoleProducer(Graph& graph, const std::map<std::string, int>& producers,
                   const std::map<std::string, int>& readers, const std::string& value,
                   const char* op_type) {
  auto p = producers.find(value);
  auto r = readers.find(value);
  if (p == producers.end() || r == readers.end() || r->second != 1) return nullptr;
  Node& node = graph.nodes[p->second];
  return node.domain.empty() && node.op_type == op_type ? &node : nullptr;
}

// The constant channel indices of a Gather on axis 1 of a 4-D value, or nullptr.
const Tensor* ChannelIndices(const Graph& graph, const Node& gather) {
  if (!gather.domain.empty() || gather.op_type != "Gather" || gather.inputs.size() != 2) {
    return nullptr;
  }
  const TensorType x = ValueType(graph, gather.inputs[0]);
  const int64_t axis = gather.attrs.GetInt("axis", 0);
  if (!x.shape || x.shape->size() != 4 || (axis != 1 && axis != -3)) return nullptr;
  const Tensor* indices = ConstantOf(graph, gather.inputs[1]);
  return indices != nullptr && indices->dtype() == DType::kInt64 && indices->rank() == 1 ? indices
                                                                                         : nullptr;
}

// Turns `node` into Gather(x, indices) on axis 1, the indices a new initializer.
void MakeChannelGather(Graph& graph, Node& node, const std::string& x,
                       const std::vector<int64_t>& indices) {
  const std::string name = node.outputs[0] + "__channels";
  graph.initializers[name] =
      Tensor::FromVector<int64_t>(indices, {static_cast<int64_t>(indices.size())});
  AttributeMap attrs;
  attrs.Set("axis", int64_t{1});
  node.op_type = "Gather";
  node.inputs = {x, name};
  node.attrs = std::move(attrs);
}

// Reshape B of a shuffle: rewritten into the Gather, the Transpose and Reshape A before it
// marked dead.
bool FoldShuffle(Graph& graph, const std::map<std::string, int>& producers,
                 const std::map<std::string, int>& readers, Node& b, std::vector<bool>& dead) {
  if (b.inputs.size() != 2 || b.attrs.GetInt("allowzero", 0) != 0) return false;
  Node* t = SoleProducer(graph, producers, readers, b.inputs[0], "Transpose");
  if (t == nullptr || t->attrs.GetInts("perm") != std::vector<int64_t>{0, 2, 1, 3, 4}) return false;
  Node* a = SoleProducer(graph, producers, readers, t->inputs[0], "Reshape");
  if (a == nullptr || a->inputs.size() != 2 || a->attrs.GetInt("allowzero", 0) != 0) return false;
  const TensorType x = ValueType(graph, a->inputs[0]);
  if (!x.shape || x.shape->size() != 4) return false;
  const Shape& xs = *x.shape;
  const int64_t c = xs[1], h = xs[2], w = xs[3];
  if (c <= 0 || h <= 0 || w <= 0) return false;
  const std::optional<std::vector<int64_t>> split =
      ReshapedTrailingDims(graph, producers, a->inputs[0], xs, a->inputs[1]);
  // B reshapes the transposed [N, C/g, g, H, W], with x's batch and elements per item.
  const std::optional<std::vector<int64_t>> merged =
      ReshapedTrailingDims(graph, producers, a->inputs[0], xs, b.inputs[1]);
  if (!split || !merged || split->size() != 4 || (*split)[2] != h || (*split)[3] != w ||
      *merged != std::vector<int64_t>{c, h, w}) {
    return false;
  }
  const int64_t groups = (*split)[0], per_group = (*split)[1];
  std::vector<int64_t> indices(c);
  for (int64_t j = 0; j < per_group; ++j) {
    for (int64_t i = 0; i < groups; ++i) indices[j * groups + i] = i * per_group + j;
  }
  dead[producers.at(a->outputs[0])] = dead[producers.at(t->outputs[0])] = true;
  MakeChannelGather(graph, b, a->inputs[0], indices);
  return true;
}

// A Slice of a channel Gather's output (opset 10 on: constant starts, ends, axes [1], steps 1).
bool FoldSlice(Graph& graph, const std::map<std::string, int>& producers, Node& slice) {
  if (slice.inputs.size() < 4 || slice.inputs.size() > 5 || graph.OpsetFor("") < 10) return false;
  auto p = producers.find(slice.inputs[0]);
  if (p == producers.end()) return false;
  const Node& gather = graph.nodes[p->second];
  const Tensor* indices = ChannelIndices(graph, gather);
  if (indices == nullptr) return false;
  auto scalar = [&](size_t i) -> std::optional<int64_t> {
    const Tensor* t = i < slice.inputs.size() ? ConstantOf(graph, slice.inputs[i]) : nullptr;
    if (t == nullptr || t->num_elements() != 1 ||
        (t->dtype() != DType::kInt64 && t->dtype() != DType::kInt32)) {
      return std::nullopt;
    }
    return static_cast<int64_t>(t->ElementAsDouble(0));
  };
  const std::optional<int64_t> start = scalar(1), end = scalar(2), axis = scalar(3);
  const std::optional<int64_t> step = slice.inputs.size() > 4 ? scalar(4) : int64_t{1};
  if (!start || !end || !axis || !step || (*axis != 1 && *axis != -3) || *step != 1) return false;
  const int64_t n = indices->num_elements();
  auto clamp = [n](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n); };
  const int64_t lo = clamp(*start), hi = std::max(lo, clamp(*end));
  const int64_t* all = indices->data<int64_t>();
  MakeChannelGather(graph, slice, gather.inputs[0], std::vector<int64_t>(all + lo, all + hi));
  return true;
}

}  // namespace

absl::Status FoldChannelShuffle(Graph& graph) {
  const std::map<std::string, int> producers = Producers(graph);
  const std::map<std::string, int> readers = CountReaders(graph);
  std::vector<bool> dead(graph.nodes.size(), false);
  for (Node& node : graph.nodes) {
    if (!node.domain.empty() || node.outputs.size() != 1) continue;
    if (node.op_type == "Reshape") {
      FoldShuffle(graph, producers, readers, node, dead);
    } else if (node.op_type == "Slice") {
      FoldSlice(graph, producers, node);
    }
  }
  std::vector<Node> kept;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (!dead[i]) kept.push_back(std::move(graph.nodes[i]));
  }
  graph.nodes = std::move(kept);
  return absl::OkStatus();
}

}  // namespace cortado
