// AssignLayout: channels-last regions. A FusedConv or pool that a non-reference backend runs
// channels-last moves into ai.cortado.nhwc (ops/fused.h), and so does what follows it while it
// can read channels-last values as they are: elementwise operators (constant operands are
// permuted once, here), Concat over channels, Pad with constant pads (permuted likewise), and
// Gathers of channels with constant indices (FoldChannelShuffle's channel shuffles). A
// Transpose is inserted only where the layout changes: into a region, out of it to a channels-first
// reader, and before a graph output. A value that a channels-last node produces is named
// `<value>__nhwc`; turned back, it takes its own name again, so graph outputs keep theirs.
#include <algorithm>
#include <cstring>
#include <set>

#include "ops/fused.h"
#include "predictor/passes/passes.h"

namespace cortado {
namespace {

const std::set<std::string>& UnaryOps() {
  static const auto* ops = new std::set<std::string>{
      "Relu",     "Sigmoid", "Tanh", "LeakyRelu", "HardSwish", "HardSigmoid", "Elu",     "Clip",
      "Identity", "Abs",     "Neg",  "Sqrt",      "Exp",       "Erf",         "Softplus"};
  return *ops;
}

const std::set<std::string>& BinaryOps() {
  static const auto* ops = new std::set<std::string>{"Add", "Sub", "Mul", "Div"};
  return *ops;
}

class LayoutAssigner {
 public:
  LayoutAssigner(Graph& graph, const std::vector<const Backend*>& backends)
      : graph_(graph), backends_(backends) {}

  absl::Status Run() {
    for (const Backend* b : backends_) any_backend_ |= b->name() != kCpuBackend;
    if (!any_backend_) return absl::OkStatus();
    std::vector<Node> nodes = std::move(graph_.nodes);
    graph_.nodes.clear();
    for (Node& node : nodes) {
      if (ToChannelsLast(node)) {
        for (std::string& out : node.outputs) {
          if (out.empty()) continue;
          const std::string twin = out + "__nhwc";
          graph_.value_types[twin] = Permute(ValueType(graph_, out), true);
          last_[out] = twin;
          produced_last_.insert(out);
          out = twin;
        }
      } else {
        for (std::string& in : node.inputs) {
          if (produced_last_.count(in)) TurnBack(in);
        }
      }
      graph_.nodes.push_back(std::move(node));
    }
    for (const ValueInfo& v : graph_.outputs) {
      if (produced_last_.count(v.name)) TurnBack(v.name);
    }
    graph_.opsets[kNhwcDomain] = 1;
    return absl::OkStatus();
  }

 private:
  static TensorType Permute(TensorType t, bool to_last) {
    if (t.shape && t.shape->size() >= 3) {
      t.shape = to_last ? cortado::ToChannelsLast(*t.shape) : ToChannelsFirst(*t.shape);
    }
    return t;
  }

  bool Rank4(const std::string& v) const {
    const TensorType t = ValueType(graph_, v);
    return t.shape && t.shape->size() == 4 && t.dtype == DType::kFloat32;
  }

  bool BackendRunsChannelsLast(const Node& node) const {
    std::vector<DType> dtypes;
    std::vector<const Tensor*> constants;
    for (const std::string& in : node.inputs) {
      dtypes.push_back(in.empty() ? DType::kUndefined : ValueType(graph_, in).dtype);
      constants.push_back(in.empty() ? nullptr : ConstantOf(graph_, in));
    }
    KernelInfo info{node.op_type, kNhwcDomain, 1,         node.name,
                    &node.attrs,  dtypes,      constants, static_cast<int>(node.outputs.size())};
    for (const Backend* b : backends_) {
      if (b->name() != kCpuBackend && b->Supports(info)) return true;
    }
    return false;
  }

  // Decides the node's layout and, when channels-last, rewrites its inputs to match.
  bool ToChannelsLast(Node& node) {
    const bool fused_conv = node.domain == kFusedDomain && node.op_type == "FusedConv";
    const bool pool = node.domain.empty() && node.op_type != "FusedConv" &&
                      std::count(NhwcOps().begin(), NhwcOps().end(), node.op_type) > 0;
    if (fused_conv || pool) {
      if (!Rank4(node.inputs[0]) || node.outputs.size() != 1) return false;
      if (pool && !produced_last_.count(node.inputs[0])) return false;
      if (!BackendRunsChannelsLast(node)) return false;
      node.domain = kNhwcDomain;
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        if (IsChannelsLastInput(static_cast<int>(i)) && !node.inputs[i].empty()) {
          node.inputs[i] = Last(node.inputs[i]);
        }
      }
      return true;
    }
    if (!node.domain.empty() || node.inputs.empty()) return false;
    if (UnaryOps().count(node.op_type) && node.outputs.size() == 1 &&
        produced_last_.count(node.inputs[0])) {
      node.inputs[0] = last_[node.inputs[0]];
      return true;
    }
    if (node.op_type == "Concat" && AnyProducedLast(node)) {
      // Inputs that are still channels-first are transposed (once each).
      const int64_t axis = node.attrs.GetInt("axis");
      if (axis != 1 && axis != -3) return false;
      for (const std::string& in : node.inputs) {
        if (!Rank4(in) || ConstantOf(graph_, in) != nullptr) return false;
      }
      for (std::string& in : node.inputs) in = Last(in);
      node.attrs.Set("axis", int64_t{3});
      return true;
    }
    if (node.op_type == "Pad" && produced_last_.count(node.inputs[0]) && Rank4(node.inputs[0])) {
      return Pad(node);
    }
    if (node.op_type == "Gather" && produced_last_.count(node.inputs[0]) && Rank4(node.inputs[0])) {
      return ChannelGather(node);
    }
    if (BinaryOps().count(node.op_type) && AnyProducedLast(node)) return Binary(node);
    return false;
  }

  // A Gather of channels (axis 1, constant 1-D indices; FoldChannelShuffle makes them): on axis 3
  // of the channels-last twin.
  bool ChannelGather(Node& node) {
    const int64_t axis = node.attrs.GetInt("axis", 0);
    const Tensor* indices = node.inputs.size() == 2 ? ConstantOf(graph_, node.inputs[1]) : nullptr;
    if ((axis != 1 && axis != -3) || indices == nullptr || indices->rank() != 1) return false;
    node.inputs[0] = last_[node.inputs[0]];
    node.attrs.Set("axis", int64_t{3});
    return true;
  }

  // Pad's pads (begins of the 4 axes, then ends) in channels-last order: an attribute before
  // opset 11, a constant input from it on (a new initializer; `axes` is not supported).
  bool Pad(Node& node) {
    auto permute = [](const std::vector<int64_t>& pads) {
      std::vector<int64_t> out(8);
      const std::vector<int64_t> perm = ToChannelsLastPerm(4);
      for (int i = 0; i < 4; ++i) {
        out[i] = pads[perm[i]];
        out[4 + i] = pads[4 + perm[i]];
      }
      return out;
    };
    if (graph_.OpsetFor("") < 11) {
      const std::vector<int64_t> pads = node.attrs.GetInts("pads");
      if (pads.size() != 8) return false;
      node.attrs.Set("pads", permute(pads));
    } else {
      if (node.inputs.size() < 2 || node.inputs.size() > 3) return false;
      const Tensor* pads = ConstantOf(graph_, node.inputs[1]);
      if (pads == nullptr || pads->dtype() != DType::kInt64 || pads->num_elements() != 8) {
        return false;
      }
      const std::string twin = node.inputs[1] + "__nhwc";
      const int64_t* p = pads->data<int64_t>();
      graph_.initializers[twin] =
          Tensor::FromVector<int64_t>(permute(std::vector<int64_t>(p, p + 8)), {8});
      node.inputs[1] = twin;
    }
    node.inputs[0] = last_[node.inputs[0]];
    return true;
  }

  bool AnyProducedLast(const Node& node) const {
    for (const std::string& in : node.inputs) {
      if (produced_last_.count(in)) return true;
    }
    return false;
  }

  // An elementwise binary operator: runtime operands must be 4-D, constants of rank <= 4 are
  // permuted (after numpy's leading 1s) into a new initializer.
  bool Binary(Node& node) {
    for (const std::string& in : node.inputs) {
      const Tensor* c = ConstantOf(graph_, in);
      if (c != nullptr ? c->rank() > 4 : !Rank4(in)) return false;
    }
    for (std::string& in : node.inputs) {
      const Tensor* c = ConstantOf(graph_, in);
      if (c == nullptr) {
        in = Last(in);
      } else if (c->num_elements() > 1) {
        in = PermutedConstant(in, *c);
      }
    }
    return true;
  }

  std::string PermutedConstant(const std::string& name, const Tensor& c) {
    const std::string twin = name + "__nhwc";
    if (!graph_.initializers.count(twin)) {
      Shape four = c.shape();
      four.insert(four.begin(), 4 - four.size(), 1);
      const Shape last = cortado::ToChannelsLast(four);
      Tensor out = Tensor::Create(c.dtype(), last).value();
      const size_t elem = DTypeSize(c.dtype());
      const char* src = static_cast<const char*>(c.raw_data());
      char* dst = static_cast<char*>(out.raw_data());
      // out[n][h][w][ch] = c[n][ch][h][w]
      for (int64_t n = 0; n < four[0]; ++n)
        for (int64_t h = 0; h < four[2]; ++h)
          for (int64_t w = 0; w < four[3]; ++w)
            for (int64_t ch = 0; ch < four[1]; ++ch) {
              const int64_t s = ((n * four[1] + ch) * four[2] + h) * four[3] + w;
              const int64_t d = ((n * four[2] + h) * four[3] + w) * four[1] + ch;
              std::memcpy(dst + d * elem, src + s * elem, elem);
            }
      graph_.initializers[twin] = out;
    }
    return twin;
  }

  // The channels-last twin of `value`, transposing it once where it has none yet.
  std::string Last(const std::string& value) {
    if (auto it = last_.find(value); it != last_.end()) return it->second;
    const std::string twin = value + "__nhwc";
    AddTranspose(value, twin, ToChannelsLastPerm(4));
    graph_.value_types[twin] = Permute(ValueType(graph_, value), true);
    last_[value] = twin;
    return twin;
  }

  // Makes `value` itself (channels-first) from its channels-last twin.
  void TurnBack(const std::string& value) {
    AddTranspose(last_[value], value, ToChannelsFirstPerm(4));
    produced_last_.erase(value);
  }

  void AddTranspose(const std::string& from, const std::string& to, std::vector<int64_t> perm) {
    Node t;
    t.name = to + "_transpose";
    t.op_type = "Transpose";
    t.inputs = {from};
    t.outputs = {to};
    t.attrs.Set("perm", std::move(perm));
    graph_.nodes.push_back(std::move(t));
  }

  Graph& graph_;
  const std::vector<const Backend*>& backends_;
  bool any_backend_ = false;
  std::map<std::string, std::string> last_;  // value -> its channels-last twin
  std::set<std::string> produced_last_;      // values that exist only as their twin so far
};

}  // namespace

absl::Status AssignLayout(Graph& graph, const std::vector<const Backend*>& backends) {
  return LayoutAssigner(graph, backends).Run();
}

}  // namespace cortado
