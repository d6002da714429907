// Every registered backend against the reference kernels (ggml's test-backend-ops is the
// model): each case below runs through RunOp on the reference backend and on each other backend
// that supports it; outputs must agree and be finite. A case no backend supports fails, so the
// table cannot silently test nothing. A backend on a device (a plug-in) runs each case as a plan
// would run the node there: inputs uploaded and outputs downloaded on one of its queues. Built
// with CORTADO_TEST_PLUGIN (plugins/opencl's copy of this test), it loads that plug-in first.
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <thread>

#include "backends/backend.h"
#include "backends/plugin/plugin_backend.h"
#include "core/thread_pool.h"
#include "gtest/gtest.h"
#include "ops/fused.h"
#include "ops/op_test_util.h"

namespace cortado {
namespace {

Tensor Random(Shape shape, uint32_t seed, float scale = 1.0f, DType dtype = DType::kFloat32) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  Tensor t = Tensor::Create(dtype, std::move(shape)).value();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if (dtype == DType::kFloat64) {
      t.data<double>()[i] = dist(gen);
    } else {
      t.data<float>()[i] = dist(gen);
    }
  }
  return t;
}

struct Case {
  std::string name;
  OpRun run;
};

OpRun Conv(const std::string& domain, Shape x, Shape w, AttributeMap attrs, bool bias, bool z,
           uint32_t seed) {
  OpRun r;
  r.op_type = "FusedConv";
  r.domain = domain;
  r.opset = 1;
  r.attrs = std::move(attrs);
  r.inputs = {Random(x, seed), Random(w, seed + 1, 0.5f)};
  if (bias || z) r.inputs.push_back(bias ? Random({w[0]}, seed + 2) : Tensor());
  if (z) {
    // Z has Y's shape: the reference computes it for us.
    OpRun plain = r;
    plain.inputs.resize(std::min<size_t>(plain.inputs.size(), 3));
    plain.attrs.Set("activation", std::string());
    plain.attrs.Set("activation_params", std::vector<float>{});
    auto y = RunOp(plain);
    r.inputs.push_back(Random(y.value()[0].shape(), seed + 3));
  }
  return r;
}

AttributeMap A(std::vector<std::pair<std::string, AttrValue>> values) {
  AttributeMap a;
  for (auto& [k, v] : values) a.Set(k, v);
  return a;
}

std::vector<Case> WinogradCases() {
  using I = std::vector<int64_t>;
  using F = std::vector<float>;
  const std::string d = kNhwcDomain;
  const std::string relu = "Relu";
  return {
      {"nhwc winograd 13x11 pad 1 + bias + relu, 13 -> 11 channels, batch 3",
       Conv(d, {3, 13, 11, 13}, {11, 13, 3, 3}, A({{"pads", I{1, 1, 1, 1}}, {"activation", relu}}),
            true, false, 30)},
      {"nhwc winograd 23x21 pad 1, batch 2 (several blocks) + residual + relu",
       Conv(d, {2, 23, 21, 13}, {11, 13, 3, 3}, A({{"pads", I{1, 1, 1, 1}}, {"activation", relu}}),
            true, true, 31)},
      {"nhwc winograd no pads, 9x10, 24 -> 40 channels",
       Conv(d, {1, 9, 10, 24}, {40, 24, 3, 3}, {}, true, false, 32)},
      {"nhwc winograd asymmetric pads + clip, no bias",
       Conv(d, {2, 7, 8, 16}, {8, 16, 3, 3},
            A({{"pads", I{0, 2, 2, 1}},
               {"activation", std::string("Clip")},
               {"activation_params", F{-0.5f, 0.5f}}}),
            false, false, 33)},
      {"nhwc winograd SAME_LOWER + residual + leaky relu, 3x3 input",
       Conv(d, {1, 3, 3, 9}, {17, 9, 3, 3},
            A({{"auto_pad", std::string("SAME_LOWER")},
               {"activation", std::string("LeakyRelu")},
               {"activation_params", F{0.1f}}}),
            true, true, 34)},
      {"nhwc winograd 64 -> 64 channels, 14x14 pad 1 + residual",
       Conv(d, {1, 14, 14, 64}, {64, 64, 3, 3}, A({{"pads", I{1, 1, 1, 1}}}), true, true, 35)},
  };
}

std::vector<Case> Cases() {
  using I = std::vector<int64_t>;
  using F = std::vector<float>;
  std::vector<Case> cases;
  for (const std::string domain : {std::string(kFusedDomain), std::string(kNhwcDomain)}) {
    const bool last = domain == kNhwcDomain;
    auto x = [&](Shape nchw) { return last ? ToChannelsLast(nchw) : nchw; };
    cases.push_back(
        {domain + " 3x3 pad 1 + bias", Conv(domain, x({2, 16, 12, 12}), {32, 16, 3, 3},
                                            A({{"pads", I{1, 1, 1, 1}}}), true, false, 1)});
    cases.push_back(
        {domain + " 1x1 + relu", Conv(domain, x({1, 24, 9, 9}), {40, 24, 1, 1},
                                      A({{"activation", std::string("Relu")}}), true, false, 2)});
    cases.push_back({domain + " stride 2, 3 input channels, 7x7",
                     Conv(domain, x({1, 3, 31, 31}), {16, 3, 7, 7},
                          A({{"strides", I{2, 2}}, {"pads", I{3, 3, 3, 3}}}), false, false, 3)});
    cases.push_back({domain + " depthwise + clip", Conv(domain, x({1, 32, 14, 14}), {32, 1, 3, 3},
                                                        A({{"group", int64_t{32}},
                                                           {"pads", I{1, 1, 1, 1}},
                                                           {"activation", std::string("Clip")},
                                                           {"activation_params", F{0.0f, 6.0f}}}),
                                                        true, false, 4)});
    cases.push_back({domain + " grouped, dilated, asymmetric pads + residual + swish",
                     Conv(domain, x({2, 8, 11, 13}), {12, 2, 3, 3},
                          A({{"group", int64_t{4}},
                             {"dilations", I{2, 2}},
                             {"pads", I{2, 1, 0, 2}},
                             {"activation", std::string("Swish")}}),
                          true, true, 5)});
    cases.push_back(
        {domain + " SAME_UPPER stride 2 + residual, no bias",
         Conv(domain, x({1, 16, 10, 10}), {16, 16, 3, 3},
              A({{"auto_pad", std::string("SAME_UPPER")}, {"strides", I{2, 2}}}), false, true, 6)});
    for (const char* act : {"LeakyRelu", "Sigmoid", "Tanh", "HardSwish", "Elu"}) {
      const F params =
          (std::string(act) == "LeakyRelu" || std::string(act) == "Elu") ? F{0.2f} : F{};
      cases.push_back({domain + " 3x3 + " + act,
                       Conv(domain, x({1, 8, 6, 6}), {8, 8, 3, 3},
                            A({{"activation", std::string(act)}, {"activation_params", params}}),
                            true, false, 7)});
    }
  }
  // Channels-last 3x3 stride-1 convolutions, which the oneDNN backend runs as Winograd F(2x2, 3x3)
  // (backends/onednn/winograd.h): odd sizes (partial tiles), channels not a multiple of 8,
  // asymmetric and no padding, batches, residual and the activations it applies itself.
  for (const Case& c : WinogradCases()) cases.push_back(c);
  auto pool = [](const std::string& op, Shape x, AttributeMap attrs, uint32_t seed) {
    OpRun r;
    r.op_type = op;
    r.domain = kNhwcDomain;
    r.opset = 1;
    r.attrs = std::move(attrs);
    r.inputs = {Random(x, seed)};
    return r;
  };
  cases.push_back(
      {"nhwc MaxPool 3x3 s2 pad 1",
       pool("MaxPool", {2, 15, 15, 16},
            A({{"kernel_shape", I{3, 3}}, {"strides", I{2, 2}}, {"pads", I{1, 1, 1, 1}}}), 11)});
  cases.push_back(
      {"nhwc MaxPool 3x3 s2 ceil_mode",
       pool("MaxPool", {1, 14, 14, 8},
            A({{"kernel_shape", I{3, 3}}, {"strides", I{2, 2}}, {"ceil_mode", int64_t{1}}}), 12)});
  cases.push_back({"nhwc AveragePool 3x3 pad 1 excluding pads",
                   pool("AveragePool", {1, 9, 9, 24},
                        A({{"kernel_shape", I{3, 3}}, {"pads", I{1, 1, 1, 1}}}), 13)});
  cases.push_back(
      {"nhwc AveragePool 2x2 ceil_mode",
       pool("AveragePool", {1, 7, 7, 4},
            A({{"kernel_shape", I{2, 2}}, {"strides", I{2, 2}}, {"ceil_mode", int64_t{1}}}), 14)});
  cases.push_back(
      {"nhwc AveragePool count_include_pad", pool("AveragePool", {1, 8, 8, 4},
                                                  A({{"kernel_shape", I{3, 3}},
                                                     {"pads", I{1, 1, 1, 1}},
                                                     {"count_include_pad", int64_t{1}}}),
                                                  15)});
  cases.push_back({"nhwc GlobalAveragePool", pool("GlobalAveragePool", {2, 7, 7, 40}, {}, 16)});
  cases.push_back({"nhwc GlobalMaxPool", pool("GlobalMaxPool", {1, 5, 3, 16}, {}, 17)});
  auto matmul = [](Shape a, Shape b, bool bias, const char* activation, uint32_t seed) {
    OpRun r;
    r.op_type = "FusedMatMul";
    r.domain = kFusedDomain;
    r.opset = 1;
    r.attrs.Set("activation", std::string(activation));
    r.attrs.Set("activation_params", std::string(activation) == "Clip"
                                         ? std::vector<float>{-0.5f, 0.5f}
                                         : std::vector<float>{});
    r.inputs = {Random(a, seed), Random(b, seed + 1, 0.3f)};
    if (bias) r.inputs.push_back(Random({b[1]}, seed + 2));
    return r;
  };
  cases.push_back({"FusedMatMul 2-D", matmul({4, 64}, {64, 48}, false, "", 30)});
  cases.push_back(
      {"FusedMatMul batch 1 + bias + relu", matmul({1, 300}, {300, 17}, true, "Relu", 31)});
  cases.push_back(
      {"FusedMatMul 3-D + bias + clip", matmul({2, 7, 32}, {32, 40}, true, "Clip", 32)});
  // (A residual C is a per-run value, which RunOp cannot express: every RunOp input is a known
  // constant. //predictor/passes:passes_test runs one through the plan on every backend.)
  cases.push_back({"FusedMatMul 3-D + swish", matmul({3, 5, 16}, {16, 16}, false, "Swish", 33)});
  auto lstm = [](const char* direction, bool bias, bool initial, uint32_t seed, int64_t n = 3,
                 int64_t h = 8) {
    const int64_t t = 5, in = 7;
    const int64_t dirs = std::string(direction) == "bidirectional" ? 2 : 1;
    OpRun r;
    r.op_type = "LSTM";
    r.opset = 14;
    r.num_outputs = 3;
    r.attrs.Set("hidden_size", h);
    r.attrs.Set("direction", std::string(direction));
    r.inputs = {Random({t, n, in}, seed), Random({dirs, 4 * h, in}, seed + 1, 0.4f),
                Random({dirs, 4 * h, h}, seed + 2, 0.4f)};
    r.inputs.push_back(bias ? Random({dirs, 8 * h}, seed + 3) : Tensor());
    if (initial) {
      r.inputs.push_back(Tensor());  // sequence_lens
      r.inputs.push_back(Random({dirs, n, h}, seed + 4));
      r.inputs.push_back(Random({dirs, n, h}, seed + 5));
    }
    return r;
  };
  cases.push_back({"LSTM forward", lstm("forward", true, false, 40)});
  cases.push_back({"LSTM reverse, initial states", lstm("reverse", true, true, 41)});
  cases.push_back({"LSTM forward, no bias, initial states", lstm("forward", false, true, 42)});
  // cpu_opt's LSTM takes up to three batch rows per pass over a block of 16 to 32 units (by
  // ISA), and oneDNN's LSTM hands it batches of up to 8: every row grouping, partial blocks, and
  // a batch that oneDNN keeps.
  cases.push_back({"LSTM batch 1, 40 units", lstm("forward", true, true, 43, 1, 40)});
  cases.push_back({"LSTM batch 2, 33 units, reverse", lstm("reverse", true, false, 44, 2, 33)});
  cases.push_back({"LSTM batch 5, 40 units, bidirectional, initial states",
                   lstm("bidirectional", true, true, 45, 5, 40)});
  cases.push_back({"LSTM batch 8, 64 units, no bias", lstm("forward", false, false, 46, 8, 64)});
  cases.push_back({"LSTM batch 10, 24 units, reverse", lstm("reverse", true, false, 47, 10, 24)});
  auto softmax = [](int opset, Shape x, std::optional<int64_t> axis, uint32_t seed) {
    OpRun r;
    r.op_type = "Softmax";
    r.opset = opset;
    if (axis) r.attrs.Set("axis", *axis);
    r.inputs = {Random(x, seed, 4.0f)};
    return r;
  };
  cases.push_back({"Softmax opset 13, last axis", softmax(13, {2, 4, 7, 33}, std::nullopt, 50)});
  cases.push_back({"Softmax opset 13, axis 1", softmax(13, {3, 5, 6}, 1, 51)});
  cases.push_back(
      {"Softmax opset 11, 2-D view at axis 1", softmax(11, {2, 3, 4, 5}, std::nullopt, 52)});
  cases.push_back({"Softmax opset 11, axis -2", softmax(11, {2, 3, 4}, -2, 53)});
  auto layer_norm = [](Shape x, bool bias, uint32_t seed) {
    OpRun r;
    r.op_type = "LayerNormalization";
    r.opset = 17;
    r.attrs.Set("epsilon", 1e-5f);
    r.inputs = {Random(x, seed, 3.0f), Random({x.back()}, seed + 1)};
    if (bias) r.inputs.push_back(Random({x.back()}, seed + 2));
    return r;
  };
  cases.push_back({"LayerNormalization 3-D + bias", layer_norm({2, 9, 64}, true, 54)});
  cases.push_back({"LayerNormalization 2-D, no bias", layer_norm({5, 48}, false, 55)});
  for (const bool to_last : {true, false}) {
    OpRun t;
    t.op_type = "Transpose";
    t.opset = 13;
    t.attrs.Set("perm", to_last ? ToChannelsLastPerm(4) : ToChannelsFirstPerm(4));
    t.inputs = {Random({2, 5, 7, 3}, 18)};
    cases.push_back({to_last ? "Transpose to channels-last" : "Transpose to channels-first", t});
  }
  // The plain convolutions, their adjoint and their gradient, in both float types: strides,
  // asymmetric pads and dilations through the padded and the general column paths, rows of a
  // single vector, depthwise rows with strides, pointwise, 1-D and 3-D windows.
  struct ConvGeometry {
    std::string name;
    Shape x, w;
    AttributeMap attrs;
  };
  const std::vector<ConvGeometry> geometries = {
      {"3x3 pad 1", {2, 3, 9, 11}, {4, 3, 3, 3}, A({{"pads", I{1, 1, 1, 1}}})},
      {"stride 2x1, asymmetric pads",
       {2, 3, 9, 11},
       {4, 3, 3, 3},
       A({{"strides", I{2, 1}}, {"pads", I{1, 2, 0, 1}}})},
      {"dilated 2x3",
       {1, 2, 12, 13},
       {3, 2, 2, 3},
       A({{"pads", I{2, 1, 1, 3}}, {"dilations", I{2, 3}}})},
      {"stride 3x1, dilation 1x2",
       {1, 2, 10, 9},
       {3, 2, 3, 2},
       A({{"strides", I{3, 1}}, {"pads", I{0, 0, 2, 2}}, {"dilations", I{1, 2}}})},
      {"stride 2 along rows",
       {2, 2, 7, 6},
       {2, 2, 3, 3},
       A({{"strides", I{1, 2}}, {"pads", I{1, 1, 1, 1}}})},
      {"rows of 4", {1, 2, 6, 4}, {2, 2, 3, 3}, A({{"pads", I{1, 1, 1, 1}}})},
      {"depthwise stride 2",
       {2, 6, 13, 15},
       {6, 1, 3, 3},
       A({{"group", int64_t{6}}, {"strides", I{2, 2}}, {"pads", I{1, 1, 1, 1}}})},
      {"depthwise 5x5 dilated",
       {1, 4, 16, 16},
       {4, 1, 5, 5},
       A({{"group", int64_t{4}}, {"dilations", I{2, 2}}, {"pads", I{4, 4, 4, 4}}})},
      {"grouped", {2, 8, 7, 7}, {6, 4, 3, 3}, A({{"group", int64_t{2}}})},
      {"pointwise", {3, 16, 5, 6}, {24, 16, 1, 1}, {}},
      {"1-D", {2, 5, 17}, {7, 5, 4}, A({{"strides", I{2}}, {"pads", I{1, 2}}})},
      {"3-D", {1, 3, 5, 6, 7}, {4, 3, 2, 3, 3}, A({{"pads", I{0, 1, 1, 1, 0, 1}}})},
  };
  uint32_t seed = 100;
  for (const DType dt : {DType::kFloat32, DType::kFloat64}) {
    const std::string t = dt == DType::kFloat32 ? " f32" : " f64";
    for (const ConvGeometry& geo : geometries) {
      OpRun conv;
      conv.op_type = "Conv";
      conv.opset = 11;
      conv.attrs = geo.attrs;
      const Tensor x = Random(geo.x, seed++, 1.0f, dt), w = Random(geo.w, seed++, 0.5f, dt);
      conv.inputs = {x, w, Random({geo.w[0]}, seed++, 1.0f, dt)};
      cases.push_back({"Conv " + geo.name + t, conv});
      const Shape y = RunOp(conv).value()[0].shape();
      OpRun grad = conv;
      grad.op_type = "ConvGrad";
      grad.domain = kTrainingDomain;
      grad.num_outputs = 3;
      grad.inputs = {Random(y, seed++, 1.0f, dt), x, w};
      cases.push_back({"ConvGrad " + geo.name + t, grad});
      // ConvTranspose of a Y-shaped input with W read as [C_in = M, C_out / group, k...].
      OpRun transposed = conv;
      transposed.op_type = "ConvTranspose";
      const int64_t group = geo.attrs.GetInt("group", 1);
      transposed.inputs = {Random(y, seed++, 1.0f, dt), w,
                           Random({geo.w[1] * group}, seed++, 1.0f, dt)};
      cases.push_back({"ConvTranspose " + geo.name + t, transposed});
    }
    auto product = [&](const char* op, Shape a, Shape b, AttributeMap attrs, bool bias) {
      OpRun r;
      r.op_type = op;
      r.opset = 13;
      r.attrs = std::move(attrs);
      r.inputs = {Random(a, seed++, 1.0f, dt), Random(b, seed++, 1.0f, dt)};
      if (bias)
        r.inputs.push_back(Random({1, r.attrs.GetInt("transB") ? b[0] : b[1]}, seed++, 1.0f, dt));
      return r;
    };
    cases.push_back(
        {"MatMul broadcast batches" + t, product("MatMul", {2, 1, 9, 33}, {3, 33, 20}, {}, false)});
    cases.push_back({"MatMul vector x matrix" + t, product("MatMul", {70}, {70, 65}, {}, false)});
    cases.push_back({"MatMul 3-D x 2-D" + t, product("MatMul", {4, 37, 64}, {64, 48}, {}, false)});
    cases.push_back({"Gemm transA, bias" + t,
                     product("Gemm", {50, 30}, {50, 41}, A({{"transA", int64_t{1}}}), true)});
    cases.push_back({"Gemm transB, alpha, beta" + t,
                     product("Gemm", {17, 200}, {66, 200},
                             A({{"transB", int64_t{1}}, {"alpha", 0.5f}, {"beta", 2.0f}}), true)});
  }
  // Activations, large (oneDNN's eltwise) and small (the reference kernel it hands them to).
  struct Unary {
    const char* op;
    int opset;
    AttributeMap attrs;
  };
  const std::vector<Unary> unaries = {
      {"LeakyRelu", 16, A({{"alpha", 0.2f}})}, {"Sigmoid", 13, {}},   {"Tanh", 13, {}},
      {"Elu", 6, A({{"alpha", 0.7f}})},        {"HardSwish", 14, {}}, {"Exp", 13, {}}};
  for (const Unary& u : unaries) {
    for (const Shape& x : {Shape{4, 64, 96}, Shape{3, 7}}) {
      OpRun r;
      r.op_type = u.op;
      r.opset = u.opset;
      r.attrs = u.attrs;
      r.inputs = {Random(x, seed++, 3.0f)};
      cases.push_back({std::string(u.op) + " " + ShapeToString(x), r});
    }
  }
  for (const char* op : {"Log", "Sqrt"}) {  // positive inputs
    OpRun r;
    r.op_type = op;
    r.opset = 13;
    Tensor x = Random({32, 1024}, seed++, 1.0f);
    for (int64_t i = 0; i < x.num_elements(); ++i)
      x.data<float>()[i] = 0.1f + std::fabs(x.data<float>()[i]);
    r.inputs = {x};
    cases.push_back({std::string(op) + " [32,1024]", r});
  }
  // Recurrent cells: GRU (both linear_before_reset), RNN (Tanh, Relu), bidirectional LSTM.
  auto recurrent = [&](const char* op, int gates, const char* direction, AttributeMap attrs,
                       bool initial, int outputs) {
    const int64_t t = 6, n = 3, in = 10, h = 12,
                  dirs = std::string(direction) == "bidirectional" ? 2 : 1;
    OpRun r;
    r.op_type = op;
    r.opset = 14;
    r.num_outputs = outputs;
    r.attrs = std::move(attrs);
    r.attrs.Set("hidden_size", h);
    r.attrs.Set("direction", std::string(direction));
    r.inputs = {Random({t, n, in}, seed++), Random({dirs, gates * h, in}, seed++, 0.4f),
                Random({dirs, gates * h, h}, seed++, 0.4f), Random({dirs, 2 * gates * h}, seed++)};
    if (initial) {
      r.inputs.push_back(Tensor());  // sequence_lens
      r.inputs.push_back(Random({dirs, n, h}, seed++));
      if (gates == 4) r.inputs.push_back(Random({dirs, n, h}, seed++));
    }
    return r;
  };
  cases.push_back({"GRU forward", recurrent("GRU", 3, "forward", {}, false, 2)});
  cases.push_back(
      {"GRU linear_before_reset, reverse, initial h",
       recurrent("GRU", 3, "reverse", A({{"linear_before_reset", int64_t{1}}}), true, 2)});
  cases.push_back(
      {"GRU bidirectional, linear_before_reset",
       recurrent("GRU", 3, "bidirectional", A({{"linear_before_reset", int64_t{1}}}), true, 2)});
  cases.push_back({"RNN forward", recurrent("RNN", 1, "forward", {}, true, 2)});
  cases.push_back(
      {"RNN bidirectional Relu",
       recurrent("RNN", 1, "bidirectional",
                 A({{"activations", std::vector<std::string>{"Relu", "Relu"}}}), false, 2)});
  cases.push_back(
      {"LSTM bidirectional, initial states", recurrent("LSTM", 4, "bidirectional", {}, true, 3)});
  cases.push_back(
      {"LSTM bidirectional, Y alone", recurrent("LSTM", 4, "bidirectional", {}, false, 1)});
  // Attention's products of two per-run operands.
  OpRun scores;
  scores.op_type = "MatMul";
  scores.opset = 13;
  scores.inputs = {Random({2, 4, 16, 32}, seed++), Random({2, 4, 32, 16}, seed++)};
  cases.push_back({"MatMul attention scores [2,4,16,32] x [2,4,32,16]", scores});
  OpRun context = scores;
  context.inputs = {Random({2, 4, 16, 16}, seed++), Random({2, 4, 16, 32}, seed++)};
  cases.push_back({"MatMul attention context", context});
  // Concat: channels-last runs of a few channels (DenseNet), long runs, a leading axis, float64.
  auto concat = [&](int64_t axis, std::vector<Shape> shapes, DType dtype) {
    OpRun r;
    r.op_type = "Concat";
    r.opset = 13;
    r.attrs.Set("axis", axis);
    for (const Shape& shape : shapes) r.inputs.push_back(Random(shape, seed++, 1.0f, dtype));
    return r;
  };
  const DType f32 = DType::kFloat32, f64 = DType::kFloat64;
  cases.push_back({"Concat channels-last, 3 inputs",
                   concat(3, {{2, 5, 5, 32}, {2, 5, 5, 7}, {2, 5, 5, 64}}, f32)});
  cases.push_back(
      {"Concat channels-first, long runs", concat(1, {{2, 16, 20, 20}, {2, 48, 20, 20}}, f32)});
  cases.push_back({"Concat axis 0, float64", concat(0, {{3, 4}, {1, 4}, {5, 4}}, f64)});
  cases.push_back({"Concat axis -1, one input", concat(-1, {{3, 4, 5}}, f32)});
  // Gather with constant indices: channel shuffles on the last axis (two interleaved runs, with an
  // odd count and a vector tail), and any other indices and axes.
  auto gather = [&](int64_t axis, Shape x, std::vector<int64_t> indices) {
    OpRun r;
    r.op_type = "Gather";
    r.opset = 13;
    r.attrs.Set("axis", axis);
    const int64_t n = static_cast<int64_t>(indices.size());
    r.inputs = {Random(std::move(x), seed++), Tensor::FromVector<int64_t>(std::move(indices), {n})};
    return r;
  };
  auto shuffle = [](int64_t a, int64_t b, int64_t n) {
    std::vector<int64_t> idx;
    for (int64_t j = 0; j < n; ++j) idx.push_back(j % 2 == 0 ? a + j / 2 : b + j / 2);
    return idx;
  };
  cases.push_back(
      {"Gather channel shuffle, last axis", gather(3, {2, 3, 5, 24}, shuffle(0, 12, 24))});
  cases.push_back(
      {"Gather half of a shuffle, odd count", gather(-1, {2, 7, 40}, shuffle(10, 30, 19))});
  cases.push_back({"Gather other indices, axis 1", gather(1, {2, 6, 3, 4}, {5, -1, 0, 2, 2})});
  cases.push_back({"Gather negative indices, last axis", gather(2, {3, 4, 9}, {-9, 8, -1, 0})});
  return cases;
}

#ifdef CORTADO_TEST_PLUGIN
class PluginEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    // PoCL needs a writable kernel cache to offer a device; the sandbox's HOME is read-only.
    setenv("POCL_CACHE_DIR", std::getenv("TEST_TMPDIR"), /*overwrite=*/0);
    auto backend = LoadPlugin(CORTADO_TEST_PLUGIN, 0);
    ASSERT_TRUE(backend.ok()) << backend.status();
    BackendRegistry::Global().Register(*std::move(backend));
  }
};
const auto* const kPlugin = ::testing::AddGlobalTestEnvironment(new PluginEnvironment());
#endif

// `run` on a backend whose device is not the host, as a plan runs a node there: the kernel from
// Backend::CreateKernel, the inputs (but those it reads on the host) uploaded and the outputs
// downloaded on one of its queues.
absl::StatusOr<std::vector<Tensor>> RunOnDevice(const OpRun& run, const Backend& backend) {
  const OpSchema* schema = OpRegistry::Global().FindSchema(run.domain, run.op_type, run.opset);
  if (schema == nullptr) return absl::NotFoundError(absl::StrCat("no schema for ", run.op_type));
  AttributeMap attrs = run.attrs;
  RETURN_IF_ERROR(schema->Complete(static_cast<int>(run.inputs.size()), run.num_outputs, attrs));
  KernelInfo info{run.op_type, run.domain, run.opset, run.op_type, &attrs, {}, {}, run.num_outputs};
  for (const Tensor& t : run.inputs) {
    info.input_dtypes.push_back(t.defined() ? t.dtype() : DType::kUndefined);
    info.constant_inputs.push_back(nullptr);
    info.input_shapes.push_back(t.defined() ? std::optional<Shape>(t.shape()) : std::nullopt);
  }
  if (!backend.Supports(info)) return absl::UnimplementedError("not supported");
  ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel, backend.CreateKernel(info));
  ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream, backend.CreateStream());
  std::vector<Tensor> uploaded(run.inputs.size());
  std::vector<const Tensor*> inputs;
  for (size_t i = 0; i < run.inputs.size(); ++i) {
    const Tensor& t = run.inputs[i];
    if (!t.defined() || kernel->InputOnHost(static_cast<int>(i))) {
      inputs.push_back(t.defined() ? &t : nullptr);
      continue;
    }
    ASSIGN_OR_RETURN(uploaded[i], Tensor::Create(t.dtype(), t.shape(), backend.allocator()));
    RETURN_IF_ERROR(backend.CopyFromHost(t, uploaded[i], stream.get()));
    inputs.push_back(&uploaded[i]);
  }
  KernelContext ctx(inputs, run.num_outputs, backend.allocator());
  ctx.set_stream(stream.get());
  RETURN_IF_ERROR(kernel->Compute(ctx));
  std::vector<Tensor> outputs(run.num_outputs);
  for (int o = 0; o < run.num_outputs; ++o) {
    const Tensor& t = ctx.output(o);
    if (!t.defined()) continue;
    ASSIGN_OR_RETURN(outputs[o], Tensor::Create(t.dtype(), t.shape()));
    RETURN_IF_ERROR(backend.CopyToHost(t, outputs[o], stream.get()));
  }
  RETURN_IF_ERROR(backend.Sync(stream.get()));
  return outputs;
}

absl::StatusOr<std::vector<Tensor>> RunOn(OpRun run, const Backend& backend) {
  if (backend.device() != Device{}) return RunOnDevice(run, backend);
  run.backend = backend.name();
  return RunOp(run);
}

bool AllFinite(const Tensor& t) {
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if (!std::isfinite(t.ElementAsDouble(i))) return false;
  }
  return true;
}

TEST(BackendsTest, EveryBackendMatchesTheReferenceKernels) {
  int compared = 0;
  std::map<std::string, int> by_backend;
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    auto expected = RunOp(c.run);
    ASSERT_TRUE(expected.ok()) << expected.status();
    for (const Tensor& t : *expected) ASSERT_TRUE(AllFinite(t));
    int backends = 0;
    for (const Backend* b : BackendRegistry::Global().ByPriority()) {
      if (b->name() == kCpuBackend) continue;
      auto actual = RunOn(c.run, *b);
      if (actual.status().code() == absl::StatusCode::kNotFound ||
          actual.status().code() == absl::StatusCode::kUnimplemented) {
        continue;  // this backend does not cover the case
      }
      ASSERT_TRUE(actual.ok()) << b->name() << ": " << actual.status();
      ASSERT_EQ(actual->size(), expected->size());
      for (size_t o = 0; o < expected->size(); ++o) {
        EXPECT_TRUE(AllFinite((*actual)[o])) << b->name() << " output " << o;
        EXPECT_EQ(CompareTensors((*actual)[o], (*expected)[o], 1e-4, 1e-5), "")
            << b->name() << " output " << o;
      }
      ++backends;
      ++by_backend[b->name()];
    }
    EXPECT_GT(backends, 0) << "no backend besides the reference ran this case";
    compared += backends;
  }
  std::printf("%d backend comparisons over %zu cases\n", compared, Cases().size());
  for (const auto& [name, n] : by_backend) std::printf("  %s: %d\n", name.c_str(), n);
}

// A kernel is created once and serves every run, concurrent ones included, so kernels that keep
// state between calls (the oneDNN products reuse their memory objects and scratchpads) must give
// each call its own inputs' answer: one kernel per backend runs four inputs twice in turn and then
// all at once on four threads, each output checked against the reference kernel.
TEST(BackendsTest, OneKernelServesRepeatedAndConcurrentCalls) {
  OpRun fused;
  fused.op_type = "FusedMatMul";
  fused.domain = kFusedDomain;
  fused.opset = 1;
  fused.attrs.Set("activation", std::string("Relu"));
  fused.inputs = {Random({3, 96}, 40), Random({96, 40}, 41, 0.3f), Random({40}, 42)};
  OpRun batched;
  batched.op_type = "MatMul";
  batched.opset = 13;
  batched.inputs = {Random({4, 37, 64}, 43), Random({64, 48}, 44)};
  const OpRun conv = WinogradCases()[0].run;  // the oneDNN kernel's per-thread scratch
  int checked = 0;
  for (const OpRun& base : {fused, batched, conv}) {
    SCOPED_TRACE(base.op_type);
    const bool constant_weights = base.op_type != "MatMul";
    std::vector<OpRun> runs(4, base);
    std::vector<std::vector<Tensor>> expected;
    for (size_t i = 0; i < runs.size(); ++i) {
      runs[i].inputs[0] = Random(base.inputs[0].shape(), 50 + i);
      if (!constant_weights) runs[i].inputs[1] = Random(base.inputs[1].shape(), 60 + i);
      auto e = RunOp(runs[i]);
      ASSERT_TRUE(e.ok()) << e.status();
      expected.push_back(*std::move(e));
    }
    const OpSchema* schema = OpRegistry::Global().FindSchema(base.domain, base.op_type, base.opset);
    ASSERT_NE(schema, nullptr);
    AttributeMap attrs = base.attrs;
    ASSERT_TRUE(schema->Complete(static_cast<int>(base.inputs.size()), 1, attrs).ok());
    KernelInfo info{base.op_type, base.domain, base.opset, base.op_type, &attrs, {}, {}, 1};
    for (size_t i = 0; i < base.inputs.size(); ++i) {
      info.input_dtypes.push_back(DType::kFloat32);
      info.constant_inputs.push_back(i > 0 && constant_weights ? &base.inputs[i] : nullptr);
      info.input_shapes.push_back(base.inputs[i].shape());
    }
    for (const Backend* b : BackendRegistry::Global().ByPriority()) {
      if (b->name() == kCpuBackend || b->device() != Device{} || !b->Supports(info)) continue;
      auto kernel = b->CreateKernel(info);
      if (kernel.status().code() == absl::StatusCode::kUnimplemented) continue;
      ASSERT_TRUE(kernel.ok()) << b->name() << ": " << kernel.status();
      auto run = [&](size_t i) -> std::string {
        std::vector<const Tensor*> inputs;
        for (const Tensor& t : runs[i].inputs) inputs.push_back(&t);
        KernelContext ctx(inputs, 1, b->allocator());
        absl::Status status = (*kernel)->Compute(ctx);
        if (!status.ok()) return status.ToString();
        return CompareTensors(ctx.output(0), expected[i][0], 1e-4, 1e-5);
      };
      for (int round = 0; round < 2; ++round) {
        for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(run(i), "") << b->name() << " " << i;
      }
      std::vector<std::string> results(runs.size());
      std::vector<std::thread> threads;
      for (size_t i = 0; i < runs.size(); ++i) {
        threads.emplace_back([&, i] {
          for (int round = 0; round < 20 && results[i].empty(); ++round) results[i] = run(i);
        });
      }
      for (std::thread& t : threads) t.join();
      for (size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(results[i], "") << b->name() << " " << i;
      ++checked;
    }
  }
  EXPECT_GE(checked, 3) << "no backend besides the reference kernels took the products";
}

// The Winograd convolutions again with two intra-op threads, which split the tiles between them.
TEST(BackendsTest, WinogradCasesOnTwoThreads) {
  ScopedIntraOpThreads threads(2);
  int compared = 0;
  for (const Case& c : WinogradCases()) {
    SCOPED_TRACE(c.name);
    auto expected = RunOp(c.run);
    ASSERT_TRUE(expected.ok()) << expected.status();
    for (const Backend* b : BackendRegistry::Global().ByPriority()) {
      if (b->name() == kCpuBackend || b->device() != Device{}) continue;
      auto actual = RunOn(c.run, *b);
      if (absl::IsNotFound(actual.status()) || absl::IsUnimplemented(actual.status())) continue;
      ASSERT_TRUE(actual.ok()) << b->name() << ": " << actual.status();
      EXPECT_EQ(CompareTensors((*actual)[0], (*expected)[0], 1e-4, 1e-5), "") << b->name();
      ++compared;
    }
  }
  EXPECT_GT(compared, 0);
}

TEST(BackendsTest, BadShapesAreErrorsNotCrashes) {
  for (const Backend* b : BackendRegistry::Global().ByPriority()) {
    OpRun conv = Conv(kNhwcDomain, {1, 6, 6, 8}, {8, 8, 3, 3}, {}, false, false, 20);
    conv.inputs[0] = Random({1, 6, 6, 5}, 21);  // 5 channels for weights that expect 8
    auto r = RunOn(conv, *b);
    EXPECT_FALSE(r.ok()) << b->name();
    OpRun plain = conv;
    plain.op_type = "Conv";
    plain.domain = "";
    plain.opset = 11;
    plain.inputs = {Random({1, 5, 6, 6}, 22), Random({8, 8, 3, 3}, 23)};
    EXPECT_FALSE(RunOn(plain, *b).ok()) << b->name();
    OpRun matmul = plain;
    matmul.op_type = "MatMul";
    matmul.attrs = {};
    matmul.inputs = {Random({3, 4}, 24), Random({5, 6}, 25)};
    EXPECT_FALSE(RunOn(matmul, *b).ok()) << b->name();
  }
}

}  // namespace
}  // namespace cortado
