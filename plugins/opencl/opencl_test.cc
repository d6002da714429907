// The OpenCL plug-in (on PoCL here) against the reference kernels: each case is a one-node model
// planned twice, on the plug-in and on the reference CPU kernels, and must agree within
// rtol 1e-4; the node must really run on the plug-in. Then the fixture models exported by
// PyTorch run with the plug-in enabled and must give PyTorch's answer (max |ours - PyTorch| <=
// 1e-4 * max |PyTorch|), at graph level 0 (plain Conv, Relu, Clip, pools, Gemm) and 1 (FusedConv
// and FusedMatMul), wholly on the plug-in.
#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "backends/plugin/plugin_backend.h"
#include "core/npy.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

class OpenClEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    // PoCL keeps compiled kernels under $HOME/.cache unless told otherwise; the test sandbox's
    // HOME is read-only, and without a cache PoCL offers no device.
    setenv("POCL_CACHE_DIR", std::getenv("TEST_TMPDIR"), /*overwrite=*/0);
    auto backend = LoadPlugin("plugins/opencl/opencl_plugin.so", 0);
    ASSERT_TRUE(backend.ok()) << backend.status();
    auto queue = (*backend)->CreateStream();  // the device is there
    ASSERT_TRUE(queue.ok()) << queue.status();
    BackendRegistry::Global().Register(*std::move(backend));
  }
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new OpenClEnvironment());

Tensor Random(const Shape& shape, int seed) {
  Tensor t = Tensor::Create(DType::kFloat32, shape).value();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    t.data<float>()[i] = std::sin(0.37f * i + 1.3f * seed) * (1.0f + 0.1f * (seed % 3));
  }
  return t;
}

struct Case {
  std::string name, op;
  std::vector<Shape> inputs;  // per-run inputs, then constants from `constant_from`
  AttributeMap attrs;
  int constant_from = 99;  // inputs from this index on are initializers
  int opset = 17;
  std::string domain;  // "" is ai.onnx
};

AttributeMap Attrs(std::vector<std::pair<std::string, AttrValue>> values) {
  AttributeMap m;
  for (auto& [k, v] : values) m.Set(k, std::move(v));
  return m;
}

std::vector<Case> Cases() {
  using Ints = std::vector<int64_t>;
  std::vector<Case> cases;
  for (const char* op : {"Relu", "Sigmoid", "Tanh", "Neg", "Abs", "Exp", "LeakyRelu", "Elu",
                         "HardSigmoid", "HardSwish"}) {
    cases.push_back({op, op, {{2, 3, 5}}, {}});
  }
  cases.push_back({"LeakyRelu alpha", "LeakyRelu", {{7, 3}}, Attrs({{"alpha", 0.3f}})});
  cases.push_back({"HardSigmoid alpha beta",
                   "HardSigmoid",
                   {{7, 3}},
                   Attrs({{"alpha", 0.4f}, {"beta", 0.3f}})});
  cases.push_back(
      {"Clip opset 6", "Clip", {{4, 6}}, Attrs({{"min", -0.5f}, {"max", 0.25f}}), 99, 6});
  cases.push_back({"Clip constant bounds", "Clip", {{4, 6}, {}, {}}, {}, 1});
  cases.push_back({"Clip per-run bounds", "Clip", {{4, 6}, {}, {}}, {}});
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    cases.push_back({std::string(op) + " same shape", op, {{4, 6}, {4, 6}}, {}});
    cases.push_back({std::string(op) + " row", op, {{2, 4, 6}, {6}}, {}});
    cases.push_back({std::string(op) + " scalar", op, {{}, {3, 5}}, {}});
  }
  cases.push_back({"MatMul", "MatMul", {{5, 7}, {7, 3}}, {}});
  cases.push_back({"MatMul weight", "MatMul", {{5, 7}, {7, 3}}, {}, 1});
  cases.push_back({"Gemm bias row", "Gemm", {{4, 8}, {8, 5}, {5}}, {}, 1});
  cases.push_back({"Gemm transB alpha beta",
                   "Gemm",
                   {{4, 8}, {5, 8}, {4, 5}},
                   Attrs({{"transB", int64_t{1}}, {"alpha", 0.5f}, {"beta", 2.0f}}),
                   1});
  cases.push_back({"Gemm transA no C", "Gemm", {{8, 4}, {8, 5}}, Attrs({{"transA", int64_t{1}}})});
  cases.push_back({"Conv 3x3 pad bias",
                   "Conv",
                   {{1, 3, 9, 9}, {4, 3, 3, 3}, {4}},
                   Attrs({{"pads", Ints{1, 1, 1, 1}}}),
                   1});
  cases.push_back({"Conv stride 2 dilation 2",
                   "Conv",
                   {{2, 2, 11, 10}, {3, 2, 3, 3}},
                   Attrs({{"strides", Ints{2, 2}}, {"dilations", Ints{2, 2}}}),
                   1});
  cases.push_back({"Conv depthwise asymmetric pads",
                   "Conv",
                   {{1, 4, 7, 7}, {4, 1, 3, 3}, {4}},
                   Attrs({{"group", int64_t{4}}, {"pads", Ints{0, 1, 2, 1}}}),
                   1});
  cases.push_back({"Conv 1x1 grouped",
                   "Conv",
                   {{1, 6, 5, 5}, {4, 3, 1, 1}},
                   Attrs({{"group", int64_t{2}}}),
                   1});
  cases.push_back(
      {"MaxPool 3x3 stride 2 pad",
       "MaxPool",
       {{1, 3, 9, 9}},
       Attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}})});
  cases.push_back(
      {"MaxPool 3x3 stride 2 ceil_mode",
       "MaxPool",
       {{1, 2, 10, 10}},
       Attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}})});
  cases.push_back({"AveragePool 2x2 stride 2 ceil_mode pad",
                   "AveragePool",
                   {{1, 2, 7, 7}},
                   Attrs({{"kernel_shape", Ints{2, 2}},
                          {"strides", Ints{2, 2}},
                          {"pads", Ints{1, 1, 0, 0}},
                          {"ceil_mode", int64_t{1}}})});
  cases.push_back({"AveragePool 2x2",
                   "AveragePool",
                   {{2, 2, 6, 6}},
                   Attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}})});
  cases.push_back({"AveragePool pad count_include_pad",
                   "AveragePool",
                   {{1, 2, 5, 5}},
                   Attrs({{"kernel_shape", Ints{3, 3}},
                          {"pads", Ints{1, 1, 1, 1}},
                          {"count_include_pad", int64_t{1}}})});
  cases.push_back({"AveragePool pad",
                   "AveragePool",
                   {{1, 2, 5, 5}},
                   Attrs({{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}})});
  cases.push_back({"GlobalAveragePool", "GlobalAveragePool", {{2, 3, 5, 4}}, {}});
  cases.push_back({"GlobalMaxPool", "GlobalMaxPool", {{2, 3, 5, 4}}, {}});
  cases.push_back({"Concat axis 1, 3 inputs",
                   "Concat",
                   {{2, 3, 4, 4}, {2, 5, 4, 4}, {2, 1, 4, 4}},
                   Attrs({{"axis", int64_t{1}}})});
  cases.push_back({"Concat axis -1, a constant",
                   "Concat",
                   {{3, 2}, {3, 4}},
                   Attrs({{"axis", int64_t{-1}}}),
                   1});
  cases.push_back({"Flatten", "Flatten", {{2, 3, 4, 5}}, {}});
  cases.push_back({"Flatten axis 2", "Flatten", {{2, 3, 4, 5}}, Attrs({{"axis", int64_t{2}}})});
  // The graph optimizer's fused ops (ops/fused.h).
  auto fused = [](std::string act, std::vector<float> params) {
    return Attrs({{"activation", std::move(act)}, {"activation_params", std::move(params)}});
  };
  auto with = [](AttributeMap a, std::vector<std::pair<std::string, AttrValue>> more) {
    for (auto& [k, v] : more) a.Set(k, std::move(v));
    return a;
  };
  const std::string f = "ai.cortado";
  cases.push_back({"FusedConv bias Relu",
                   "FusedConv",
                   {{1, 3, 8, 8}, {4, 3, 3, 3}, {4}},
                   with(fused("Relu", {}), {{"pads", Ints{1, 1, 1, 1}}}),
                   1,
                   1,
                   f});
  cases.push_back({"FusedConv depthwise Clip",
                   "FusedConv",
                   {{1, 4, 7, 7}, {4, 1, 3, 3}, {4}},
                   with(fused("Clip", {0.0f, 0.6f}), {{"group", int64_t{4}}}),
                   1,
                   1,
                   f});
  cases.push_back({"FusedConv residual Z, HardSigmoid",
                   "FusedConv",
                   {{1, 2, 6, 6}, {3, 2, 1, 1}, {3}, {1, 3, 6, 6}},
                   fused("HardSigmoid", {0.3f, 0.4f}),
                   99,
                   1,
                   f});
  cases.push_back({"FusedConv no activation",
                   "FusedConv",
                   {{1, 2, 6, 6}, {3, 2, 3, 3}},
                   fused("", {}),
                   1,
                   1,
                   f});
  cases.push_back(
      {"FusedMatMul bias Relu", "FusedMatMul", {{5, 7}, {7, 3}, {3}}, fused("Relu", {}), 1, 1, f});
  cases.push_back({"FusedMatMul rank 3, LeakyRelu",
                   "FusedMatMul",
                   {{2, 5, 7}, {7, 3}, {3}},
                   fused("LeakyRelu", {0.2f}),
                   1,
                   1,
                   f});
  cases.push_back({"Softmax last axis", "Softmax", {{3, 4, 10}}, {}});
  cases.push_back({"Softmax opset 11 axis 1 of 2-D", "Softmax", {{5, 9}}, {}, 99, 11});
  return cases;
}

TEST(OpenClPluginTest, EveryCaseMatchesTheReference) {
  int compared = 0;
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    Graph g;
    g.opsets[""] = 17;
    g.opsets[c.domain] = c.opset;
    Node node{"n", c.op, c.domain, {}, {"y"}, c.attrs};
    TensorMap feeds;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      const std::string name = "in" + std::to_string(i);
      node.inputs.push_back(name);
      Tensor t = Random(c.inputs[i], static_cast<int>(i));
      if (c.op == "Clip" && i > 0) t.data<float>()[0] = i == 1 ? -0.4f : 0.5f;  // min < max
      if (static_cast<int>(i) >= c.constant_from) {
        g.initializers[name] = t;
      } else {
        g.inputs.push_back({name, {DType::kFloat32, c.inputs[i]}});
        feeds[name] = t;
      }
    }
    g.nodes.push_back(node);
    g.outputs.push_back({"y", {}});
    PredictorOptions options;
    options.plan.graph_level = -1;
    options.plan.backends = {"opencl"};
    auto opencl = Predictor::FromGraph(g, options);
    ASSERT_TRUE(opencl.ok()) << opencl.status();
    options.plan.backends = {"cpu"};
    auto reference = Predictor::FromGraph(g, options);
    ASSERT_TRUE(reference.ok()) << reference.status();
    int on_opencl = 0;
    for (const PlanStep& step : (*opencl)->plan().steps()) {
      on_opencl += step.op_type == c.op && step.backend->name() == "opencl";
    }
    EXPECT_EQ(on_opencl, 1) << "the node did not run on the plug-in";
    for (int run = 0; run < 2; ++run) {
      auto got = (*opencl)->Run(feeds);
      ASSERT_TRUE(got.ok()) << got.status();
      auto want = (*reference)->Run(feeds).value();
      EXPECT_EQ(CompareTensors(got->at("y"), want.at("y"), 1e-4, 1e-5), "");
    }
    ++compared;
  }
  std::printf("%d OpenCL cases compared with the reference kernels\n", compared);
  EXPECT_EQ(compared, static_cast<int>(Cases().size()));
}

TEST(OpenClPluginTest, RefusesWhatItCannotRunAtRunTime) {
  // Planned with unknown dims, the broadcast turns out unsupported: a clear error, no crash.
  Graph g;
  g.opsets[""] = 17;
  g.inputs = {{"a", {DType::kFloat32, Shape{-1, 4}}}, {"b", {DType::kFloat32, Shape{-1, 4}}}};
  g.nodes = {{"n", "Add", "", {"a", "b"}, {"y"}, {}}};
  g.outputs = {{"y", {}}};
  PredictorOptions options;
  options.plan.backends = {"opencl"};
  auto p = Predictor::FromGraph(g, options).value();
  ASSERT_EQ(p->plan().steps().size(), 4u);  // two uploads, Add, a download
  EXPECT_EQ(p->plan().steps()[2].backend->name(), "opencl");
  auto r = p->Run({{"a", Random({3, 4}, 0)}, {"b", Random({2, 4}, 1)}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("only equal shapes or broadcasting"), std::string::npos)
      << r.status();
}

// x -> Conv c (OpenCL) -> Floor f and Ceil g (the CPU: OpenCL has neither) -> Relu r = Relu(f)
// -> Add s = r + g -> Conv y (OpenCL), and Sigmoid z = Sigmoid(r); y and z are outputs. c crosses
// to the host once for its two readers; Relu, Add and Sigmoid have no weights and their inputs
// were made on the host, so they stay there instead of going up and coming back: 4 copies (x up,
// c down, s up, y down) where placing every supported node on OpenCL made 6 (f, g up, z down).
TEST(OpenClPluginTest, NoPingPongAroundAFallback) {
  Graph g;
  g.opsets[""] = 17;
  g.inputs = {{"x", {DType::kFloat32, Shape{1, 2, 6, 6}}}};
  g.initializers["w1"] = Random({3, 2, 3, 3}, 1);
  g.initializers["w2"] = Random({2, 3, 1, 1}, 2);
  AttributeMap pads;
  pads.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  g.nodes = {{"c", "Conv", "", {"x", "w1"}, {"c"}, pads}, {"f", "Floor", "", {"c"}, {"f"}, {}},
             {"g", "Ceil", "", {"c"}, {"g"}, {}},         {"r", "Relu", "", {"f"}, {"r"}, {}},
             {"s", "Add", "", {"r", "g"}, {"s"}, {}},     {"y", "Conv", "", {"s", "w2"}, {"y"}, {}},
             {"z", "Sigmoid", "", {"r"}, {"z"}, {}}};
  g.outputs = {{"y", {}}, {"z", {}}};
  PredictorOptions options;
  options.plan.graph_level = -1;
  options.plan.backends = {"opencl"};
  auto opencl = Predictor::FromGraph(g, options).value();
  std::vector<std::string> steps;
  for (const PlanStep& step : opencl->plan().steps()) {
    steps.push_back(absl::StrCat(step.op_type, "@", step.backend->name()));
  }
  EXPECT_EQ(steps, (std::vector<std::string>{"CopyFromHost@opencl", "Conv@opencl", "CopyToHost@cpu",
                                             "Floor@cpu", "Ceil@cpu", "Relu@cpu", "Add@cpu",
                                             "CopyFromHost@opencl", "Conv@opencl", "Sigmoid@cpu",
                                             "CopyToHost@cpu"}));
  options.plan.backends = {"cpu"};
  auto reference = Predictor::FromGraph(g, options).value();
  const TensorMap feeds = {{"x", Random({1, 2, 6, 6}, 3)}};
  for (int run = 0; run < 2; ++run) {
    auto got = opencl->Run(feeds);
    ASSERT_TRUE(got.ok()) << got.status();
    auto want = reference->Run(feeds).value();
    for (const char* name : {"y", "z"}) {
      EXPECT_EQ(CompareTensors(got->at(name), want.at(name), 1e-4, 1e-5), "") << name;
    }
  }
}

class FixtureTest : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(FixtureTest, MatchesPyTorch) {
  const auto& [model, level] = GetParam();
  const std::string dir =
      std::string(std::getenv("TEST_SRCDIR")) + "/cortado/testdata/onnx/" + model;
  PredictorOptions options;
  options.plan.backends = {"opencl"};
  options.plan.graph_level = level;
  auto predictor = Predictor::FromFile(dir + "/model.onnx", options);
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  int on_opencl = 0, copies = 0;
  std::string on_cpu;  // the model's nodes the plug-in left to the CPU
  for (const PlanStep& step : (*predictor)->plan().steps()) {
    const bool copy = step.op_type == "CopyFromHost" || step.op_type == "CopyToHost";
    copies += copy;
    if (copy) continue;
    if (step.backend->name() == "opencl") {
      ++on_opencl;
    } else {
      absl::StrAppend(&on_cpu, " ", step.op_type);
    }
  }
  std::printf("%s, graph level %d: on the CPU:%s\n", model.c_str(), level,
              on_cpu.empty() ? " nothing" : on_cpu.c_str());
  // Every node of these models is one the plug-in runs, plain (level 0) or fused (level 1), so
  // the only copies are the input's upload and the output's download.
  EXPECT_EQ(on_cpu, "");
  EXPECT_EQ(copies, 2);
  Tensor input = ReadNpyFile(dir + "/input.npy").value();
  Tensor expected = ReadNpyFile(dir + "/output.npy").value();
  for (int run = 0; run < 2; ++run) {
    auto outputs = (*predictor)->Run({{(*predictor)->inputs()[0].name, input}});
    ASSERT_TRUE(outputs.ok()) << outputs.status();
    const Tensor& out = outputs->begin()->second;
    ASSERT_EQ(out.shape(), expected.shape());
    double max_err = 0, max_ref = 0;
    for (int64_t i = 0; i < out.num_elements(); ++i) {
      const double e = expected.data<float>()[i];
      max_err = std::max(max_err, std::fabs(out.data<float>()[i] - e));
      max_ref = std::max(max_ref, std::fabs(e));
    }
    std::printf(
        "%s on opencl, graph level %d, run %d: %d of %zu steps on opencl, %d copies, "
        "max abs error %.3g, ratio %.3g\n",
        model.c_str(), level, run + 1, on_opencl, (*predictor)->plan().steps().size(), copies,
        max_err, max_err / max_ref);
    EXPECT_LE(max_err, 1e-4 * max_ref);
  }
}

INSTANTIATE_TEST_SUITE_P(PyTorchExports, FixtureTest,
                         ::testing::Combine(::testing::Values("mlp", "squeezenet1_1",
                                                              "mobilenet_v2"),
                                            ::testing::Values(0, 1)));

}  // namespace
}  // namespace cortado
