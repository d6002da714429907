// FuseActivations: every Conv becomes an ai.cortado FusedConv, and every MatMul or Gemm
// with constant 2-D weights (Gemm: not transA, alpha = beta = 1; transB is undone in a new
// initializer) a FusedMatMul (ops/fused.h). Each then absorbs, while its result has no other
// reader and is no graph output:
//   - one Add, before any activation: of a value of exactly its output's shape (the residual Z
//     of a FusedConv, or C of a FusedMatMul), or, for a FusedMatMul, of a constant bias that
//     broadcasts onto its output;
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
    readers_ = CountReaders(graph_);
    for (Node& node : graph_.nodes) {
      if (!node.domain.empty()) continue;
      if (node.op_type == "Conv") {
        MakeFused(node, "FusedConv");
      } else if (node.op_type == "MatMul" && ConstantMatrix(node.inputs[1])) {
        MakeFused(node, "FusedMatMul");
      } else if (node.op_type == "Gemm") {
        TryGemm(node);
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
  static void MakeFused(Node& node, const char* op) {
    node.domain = kFusedDomain;
    node.op_type = op;
    node.attrs = Without(node.attrs, {"alpha", "beta", "transA", "transB"});
    node.attrs.Set("activation", std::string());
    node.attrs.Set("activation_params", std::vector<float>{});
  }

  static AttributeMap Without(const AttributeMap& attrs, std::initializer_list<const char*> names) {
    AttributeMap out;
    for (const auto& [name, value] : attrs.values()) {
      bool drop = false;
      for (const char* n : names) drop = drop || name == n;
      if (!drop) out.Set(name, value);
    }
    return out;
  }

  bool ConstantMatrix(const std::string& value) const {
    const Tensor* c = ConstantOf(graph_, value);
    return c != nullptr && c->rank() == 2 && c->dtype() == DType::kFloat32;
  }

  // Gemm(A, B, C) with alpha = beta = 1 and A as it is is FusedMatMul(A, B or B^T, C).
  void TryGemm(Node& gemm) {
    if (gemm.attrs.GetInt("transA") != 0 || gemm.attrs.GetFloat("alpha", 1.0f) != 1.0f ||
        gemm.attrs.GetFloat("beta", 1.0f) != 1.0f || !ConstantMatrix(gemm.inputs[1])) {
      return;
    }
    if (gemm.attrs.GetInt("transB") != 0) {
      const std::string& original = gemm.inputs[1];
      const std::string name = original + "__transposed";
      if (!graph_.initializers.count(name)) {
        const Tensor& b = graph_.initializers.at(original);
        Tensor t = Tensor::Create(DType::kFloat32, {b.dim(1), b.dim(0)}).value();
        for (int64_t i = 0; i < b.dim(0); ++i) {
          for (int64_t j = 0; j < b.dim(1); ++j) {
            t.data<float>()[j * b.dim(0) + i] = b.data<float>()[i * b.dim(1) + j];
          }
        }
        graph_.initializers[name] = t;
      }
      // The original goes with its last reader, before the next weights are transposed, so that
      // a model's weights are held once, plus one being transposed.
      if (--readers_[original] == 0) graph_.initializers.erase(original);
      ++readers_[name];
      gemm.inputs[1] = name;
    }
    MakeFused(gemm, "FusedMatMul");
  }

  void Index() {
    readers_ = CountReaders(graph_);
    producers_ = Producers(graph_);
    removed_.assign(graph_.nodes.size(), false);
  }

  static bool IsFused(const Node& node) {
    return node.domain == kFusedDomain &&
           (node.op_type == "FusedConv" || node.op_type == "FusedMatMul");
  }
  // Where a fused node's addend goes: Z of FusedConv, C of FusedMatMul.
  static size_t AddendIndex(const Node& node) { return node.op_type == "FusedConv" ? 3 : 2; }

  // The fused node producing `value` when it may still absorb a node reading it.
  Node* Fusable(const std::string& value, bool allow_addend) {
    auto p = producers_.find(value);
    if (p == producers_.end() || readers_[value] != 1) return nullptr;
    Node& node = graph_.nodes[p->second];
    if (!IsFused(node) || !node.attrs.GetString("activation").empty()) return nullptr;
    if (!allow_addend && node.inputs.size() > AddendIndex(node)) return nullptr;
    return &node;
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
      Node* fused = Fusable(y, /*allow_addend=*/false);
      if (fused == nullptr || y == z) continue;
      if (!SameKnownShape(y, z) && !(fused->op_type == "FusedMatMul" && BiasOnto(z, y))) continue;
      const size_t addend = AddendIndex(*fused);
      fused->inputs.resize(addend + 1);
      fused->inputs[addend] = z;
      Absorb(*fused, i, add.outputs[0]);
      return;
    }
  }

  // A constant that broadcasts onto `y`'s known shape without changing it.
  bool BiasOnto(const std::string& bias, const std::string& y) const {
    const Tensor* c = ConstantOf(graph_, bias);
    const TensorType ty = ValueType(graph_, y);
    if (c == nullptr || !ty.shape || c->dtype() != ty.dtype) return false;
    auto b = BroadcastPartial(*ty.shape, c->shape());
    return b.ok() && *b == *ty.shape;
  }

  bool SameKnownShape(const std::string& a, const std::string& b) const {
    const TensorType ta = ValueType(graph_, a), tb = ValueType(graph_, b);
    return ta.shape && tb.shape && *ta.shape == *tb.shape && ta.dtype == tb.dtype;
  }

  void TryActivation(size_t i) {
    const Node& act = graph_.nodes[i];
    if (act.inputs.empty() || act.outputs.size() != 1) return;
    if (act.op_type == "Sigmoid" && SwishConv(act) != nullptr) return;
    Node* conv = Fusable(act.inputs[0], /*allow_addend=*/true);
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

  // Mul(y, Sigmoid(y)) with y a fused node's result read by those two alone: fuses as Swish.
  Node* SwishConv(const Node& sigmoid) {
    const std::string& y = sigmoid.inputs[0];
    auto p = producers_.find(y);
    if (p == producers_.end() || readers_[y] != 2 || readers_[sigmoid.outputs[0]] != 1) {
      return nullptr;
    }
    Node& conv = graph_.nodes[p->second];
    if (!IsFused(conv) || !conv.attrs.GetString("activation").empty()) return nullptr;
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

absl::Status FuseActivations(Graph& graph) {
  Fuser(graph).Run();
  return graph.CheckAndSort();
}

}  // namespace cortado
