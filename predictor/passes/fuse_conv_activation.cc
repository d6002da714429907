// FuseConvActivation: every Conv becomes an ai.cortado FusedConv (ops/fused.h), which then
// absorbs, while its result has no other reader and is no graph output:
//   - a residual Add of a value of exactly its output's shape (Z), before any activation;
//   - one activation: Relu, Sigmoid, Tanh, HardSwish, LeakyRelu, Elu, HardSigmoid, Clip with
//     constant bounds, or Swish written as Mul(y, Sigmoid(y)).
#include <limits>
#include <optional>

#include "ops/fused.h"
#include "predictor/passes/passes.h"

namespace cortado {
namespace {

class Fuser {
 public:
  explicit Fuser(Graph& graph) : graph_(graph) {}

  void Run() {
    for (Node& node : graph_.nodes) {
      if (node.op_type == "Conv" && node.domain.empty()) {
        node.domain = kFusedDomain;
        node.op_type = "FusedConv";
        node.attrs.Set("activation", std::string());
        node.attrs.Set("activation_params", std::vector<float>{});
      }
    }
    graph_.opsets[kFusedDomain] = 1;
    Index();
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (removed_[i]) continue;
      Node& node = graph_.nodes[i];
      if (node.domain.empty() && node.op_type == "Add") TryAdd(i);
    }
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (!removed_[i] && graph_.nodes[i].domain.empty()) TryActivation(i);
    }
    std::vector<Node> nodes;
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (!removed_[i]) nodes.push_back(std::move(graph_.nodes[i]));
    }
    graph_.nodes = std::move(nodes);
  }

 private:
  void Index() {
    readers_ = CountReaders(graph_);
    producers_ = Producers(graph_);
    removed_.assign(graph_.nodes.size(), false);
  }

  // The FusedConv producing `value` when it may still absorb a node reading it.
  Node* FusableConv(const std::string& value, bool allow_z) {
    auto p = producers_.find(value);
    if (p == producers_.end() || readers_[value] != 1) return nullptr;
    Node& conv = graph_.nodes[p->second];
    if (conv.op_type != "FusedConv" || conv.domain != kFusedDomain) return nullptr;
    if (!conv.attrs.GetString("activation").empty()) return nullptr;
    if (!allow_z && conv.inputs.size() > 3) return nullptr;
    return &conv;
  }

  // Takes over `node`'s output and removes it.
  void Absorb(Node& conv, size_t node_index, const std::string& output) {
    conv.outputs[0] = output;
    producers_[output] = static_cast<int>(&conv - graph_.nodes.data());
    removed_[node_index] = true;
  }

  void TryAdd(size_t i) {
    const Node& add = graph_.nodes[i];
    for (int side = 0; side < 2; ++side) {
      const std::string& y = add.inputs[side];
      const std::string& z = add.inputs[1 - side];
      Node* conv = FusableConv(y, /*allow_z=*/false);
      if (conv == nullptr || y == z || !SameKnownShape(y, z)) continue;
      conv->inputs.resize(4);
      conv->inputs[3] = z;
      Absorb(*conv, i, add.outputs[0]);
      return;
    }
  }

  bool SameKnownShape(const std::string& a, const std::string& b) const {
    const TensorType ta = ValueType(graph_, a), tb = ValueType(graph_, b);
    return ta.shape && tb.shape && *ta.shape == *tb.shape && ta.dtype == tb.dtype;
  }

  void TryActivation(size_t i) {
    const Node& act = graph_.nodes[i];
    if (act.inputs.empty() || act.outputs.size() != 1) return;
    if (act.op_type == "Sigmoid" && SwishConv(act) != nullptr) return;
    Node* conv = FusableConv(act.inputs[0], /*allow_z=*/true);
    if (conv == nullptr) return;
    const FusedActivation* a = FindFusedActivation(act.op_type);
    if (a == nullptr || act.op_type == "Swish") return;
    std::vector<float> params;
    if (act.op_type == "Clip") {
      std::optional<std::vector<float>> bounds = ClipBounds(act);
      if (!bounds) return;
      params = *bounds;
    } else {
      for (const std::string& p : a->params) params.push_back(act.attrs.GetFloat(p));
    }
    conv->attrs.Set("activation", act.op_type);
    conv->attrs.Set("activation_params", params);
    Absorb(*conv, i, act.outputs[0]);
  }

  // Mul(y, Sigmoid(y)) with y a FusedConv's result read by those two alone: fuses as Swish.
  Node* SwishConv(const Node& sigmoid) {
    const std::string& y = sigmoid.inputs[0];
    auto p = producers_.find(y);
    if (p == producers_.end() || readers_[y] != 2 || readers_[sigmoid.outputs[0]] != 1) {
      return nullptr;
    }
    Node& conv = graph_.nodes[p->second];
    if (conv.op_type != "FusedConv" || conv.domain != kFusedDomain ||
        !conv.attrs.GetString("activation").empty()) {
      return nullptr;
    }
    for (size_t j = 0; j < graph_.nodes.size(); ++j) {
      const Node& mul = graph_.nodes[j];
      if (removed_[j] || mul.op_type != "Mul" || !mul.domain.empty()) continue;
      const bool match = (mul.inputs[0] == y && mul.inputs[1] == sigmoid.outputs[0]) ||
                         (mul.inputs[1] == y && mul.inputs[0] == sigmoid.outputs[0]);
      if (!match) continue;
      conv.attrs.Set("activation", std::string("Swish"));
      conv.attrs.Set("activation_params", std::vector<float>{});
      const size_t sigmoid_index = &sigmoid - graph_.nodes.data();
      removed_[sigmoid_index] = true;
      Absorb(conv, j, mul.outputs[0]);
      return &conv;
    }
    return nullptr;
  }

  // Clip's bounds: attributes before opset 11, constant scalar inputs from it on.
  std::optional<std::vector<float>> ClipBounds(const Node& clip) const {
    if (graph_.OpsetFor("") < 11) {
      return std::vector<float>{clip.attrs.GetFloat("min"), clip.attrs.GetFloat("max")};
    }
    std::vector<float> bounds = {std::numeric_limits<float>::lowest(),
                                 std::numeric_limits<float>::max()};
    for (size_t k = 1; k < clip.inputs.size() && k < 3; ++k) {
      if (clip.inputs[k].empty()) continue;
      const Tensor* c = ConstantOf(graph_, clip.inputs[k]);
      if (c == nullptr || c->num_elements() != 1) return std::nullopt;
      bounds[k - 1] = static_cast<float>(c->ElementAsDouble(0));
    }
    return bounds;
  }

  Graph& graph_;
  std::map<std::string, int> readers_;
  std::map<std::string, int> producers_;
  std::vector<bool> removed_;
};

}  // namespace

absl::Status FuseConvActivation(Graph& graph) {
  Fuser(graph).Run();
  return graph.CheckAndSort();
}

}  // namespace cortado
