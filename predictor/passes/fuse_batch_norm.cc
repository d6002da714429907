// FuseBatchNorm: Conv(X, W, B) followed by an inference BatchNormalization(scale, bias, mean,
// var), all constant, whose input nothing else reads, becomes one Conv with
//   W'[o] = W[o] * s[o],  B'[o] = (B[o] - mean[o]) * s[o] + bias[o],  s = scale / sqrt(var + eps),
// computed in double precision. Any other such BatchNormalization (one that comes first, as in
// DenseNet's pre-activation blocks) becomes X * s + (bias - mean * s) per channel: a depthwise
// 1x1 Conv with weights s and that bias when X has spatial dimensions (so that the activation
// after it fuses into it), else Mul and Add by constants of shape (C, 1, ..., 1). The layout
// pass can keep either channels-last.
#include <cmath>
#include <optional>

#include "predictor/passes/passes.h"

namespace cortado {
namespace {

// A name no value or initializer of the graph has yet.
std::string FreshName(const Graph& graph, const std::string& base) {
  std::string name = base;
  for (int i = 1; graph.initializers.count(name) || graph.value_types.count(name); ++i) {
    name = absl::StrCat(base, "_", i);
  }
  return name;
}

bool IsFloat(const Tensor* t) {
  return t != nullptr && (t->dtype() == DType::kFloat32 || t->dtype() == DType::kFloat64);
}

// Element i of a float tensor as double.
double At(const Tensor& t, int64_t i) { return t.ElementAsDouble(i); }

Tensor Make(DType dtype, const Shape& shape, const std::vector<double>& values) {
  Tensor t = Tensor::Create(dtype, shape).value();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if (dtype == DType::kFloat32) {
      t.data<float>()[i] = static_cast<float>(values[i]);
    } else {
      t.data<double>()[i] = values[i];
    }
  }
  return t;
}

// X * s + (bias - mean * s), s = scale / sqrt(var + eps), for X of known rank >= 2: a depthwise
// 1x1 Conv, or for rank 2 Mul and Add by constants of shape (C, 1); nullopt when a parameter is
// not a float constant.
std::optional<std::vector<Node>> AsScaleShift(Graph& graph, const Node& bn) {
  const TensorType x = ValueType(graph, bn.inputs[0]);
  if (!x.shape || x.shape->size() < 2 || (*x.shape)[1] < 1) return std::nullopt;
  const int64_t channels = (*x.shape)[1];
  const Tensor* p[4];
  for (int k = 0; k < 4; ++k) {
    p[k] = ConstantOf(graph, bn.inputs[k + 1]);
    if (!IsFloat(p[k]) || p[k]->num_elements() != channels || p[k]->dtype() != x.dtype) {
      return std::nullopt;
    }
  }
  const double eps = bn.attrs.GetFloat("epsilon", 1e-5f);
  std::vector<double> scale(channels), shift(channels);
  for (int64_t c = 0; c < channels; ++c) {
    scale[c] = At(*p[0], c) / std::sqrt(At(*p[3], c) + eps);
    shift[c] = At(*p[1], c) - At(*p[2], c) * scale[c];
  }
  const std::string s_name = FreshName(graph, bn.name + "_scale");
  const std::string t_name = FreshName(graph, bn.name + "_shift");
  if (x.shape->size() >= 3) {
    // A depthwise 1x1 Conv (weights [C, 1, 1...], bias [C]): FuseActivations fuses the
    // activation after it, and a backend runs both in one pass over X (channels-last, inside a
    // oneDNN region).
    Shape w_shape(x.shape->size(), 1);
    w_shape[0] = channels;
    graph.initializers[s_name] = Make(x.dtype, w_shape, scale);
    graph.initializers[t_name] = Make(x.dtype, {channels}, shift);
    Node conv{bn.name + "_conv", "Conv", "", {bn.inputs[0], s_name, t_name}, {bn.outputs[0]}, {}};
    conv.attrs.Set("group", channels);
    return std::vector<Node>{std::move(conv)};
  }
  Shape shape(x.shape->size() - 1, 1);
  shape[0] = channels;
  graph.initializers[s_name] = Make(x.dtype, shape, scale);
  graph.initializers[t_name] = Make(x.dtype, shape, shift);
  const std::string scaled = FreshName(graph, bn.outputs[0] + "_scaled");
  graph.value_types[scaled] = x;
  return std::vector<Node>{{bn.name + "_mul", "Mul", "", {bn.inputs[0], s_name}, {scaled}, {}},
                           {bn.name + "_add", "Add", "", {scaled, t_name}, {bn.outputs[0]}, {}}};
}

}  // namespace

absl::Status FuseBatchNorm(Graph& graph) {
  std::map<std::string, int> readers = CountReaders(graph);
  std::map<std::string, int> producers = Producers(graph);
  std::vector<bool> removed(graph.nodes.size(), false);
  std::map<size_t, std::vector<Node>> replaced;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& bn = graph.nodes[i];
    if (bn.op_type != "BatchNormalization" || !bn.domain.empty() || bn.inputs.size() != 5 ||
        bn.attrs.GetInt("training_mode", 0) != 0 || bn.attrs.GetInt("spatial", 1) != 1) {
      continue;
    }
    bool extra_outputs = false;
    for (size_t o = 1; o < bn.outputs.size(); ++o) extra_outputs |= !bn.outputs[o].empty();
    if (extra_outputs) continue;
    auto p = producers.find(bn.inputs[0]);
    const bool after_conv = p != producers.end() && readers[bn.inputs[0]] == 1 &&
                            graph.nodes[p->second].op_type == "Conv" &&
                            graph.nodes[p->second].domain.empty();
    if (!after_conv) {
      if (std::optional<std::vector<Node>> affine = AsScaleShift(graph, bn)) replaced[i] = *affine;
      continue;
    }
    Node& conv = graph.nodes[p->second];
    const Tensor* w = ConstantOf(graph, conv.inputs[1]);
    const Tensor* b = conv.inputs.size() > 2 && !conv.inputs[2].empty()
                          ? ConstantOf(graph, conv.inputs[2])
                          : nullptr;
    const bool has_bias = conv.inputs.size() > 2 && !conv.inputs[2].empty();
    const Tensor* params[4];
    bool ok = IsFloat(w) && w->rank() >= 1 && (!has_bias || IsFloat(b));
    for (int k = 0; k < 4; ++k) {
      params[k] = ConstantOf(graph, bn.inputs[k + 1]);
      ok = ok && IsFloat(params[k]) && params[k]->num_elements() == (w ? w->dim(0) : -1);
    }
    if (!ok) continue;
    const int64_t out_channels = w->dim(0);
    const int64_t per_channel = w->num_elements() / std::max<int64_t>(out_channels, 1);
    const double eps = bn.attrs.GetFloat("epsilon", 1e-5f);
    std::vector<double> new_w(w->num_elements()), new_b(out_channels);
    for (int64_t o = 0; o < out_channels; ++o) {
      const double s = At(*params[0], o) / std::sqrt(At(*params[3], o) + eps);
      for (int64_t j = 0; j < per_channel; ++j) {
        new_w[o * per_channel + j] = At(*w, o * per_channel + j) * s;
      }
      new_b[o] = ((has_bias ? At(*b, o) : 0.0) - At(*params[2], o)) * s + At(*params[1], o);
    }
    const std::string w_name = FreshName(graph, conv.name + "_bn_weight");
    graph.initializers[w_name] = Make(w->dtype(), w->shape(), new_w);
    const std::string b_name = FreshName(graph, conv.name + "_bn_bias");
    graph.initializers[b_name] = Make(w->dtype(), {out_channels}, new_b);
    // The parameters folded go with their last reader, before the next Conv's are folded, so
    // that a model's weights are held once, plus one Conv's being folded.
    std::vector<std::string> folded(bn.inputs.begin() + 1, bn.inputs.end());
    folded.insert(folded.end(), conv.inputs.begin() + 1, conv.inputs.end());
    for (const std::string& name : folded) {
      if (!name.empty() && --readers[name] == 0) graph.initializers.erase(name);
    }
    conv.inputs.resize(3);
    conv.inputs[1] = w_name;
    conv.inputs[2] = b_name;
    conv.outputs[0] = bn.outputs[0];
    removed[i] = true;
  }
  std::vector<Node> nodes;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (auto r = replaced.find(i); r != replaced.end()) {
      for (Node& n : r->second) nodes.push_back(std::move(n));
    } else if (!removed[i]) {
      nodes.push_back(std::move(graph.nodes[i]));
    }
  }
  graph.nodes = std::move(nodes);
  return absl::OkStatus();
}

}  // namespace cortado
