// Round trips between ONNX and Caffe2 NetDef: every converted model must give the original's
// outputs.
#include "predictor/model_io.h"

#include <cstdlib>
#include <functional>
#include <random>

#include "core/npy.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

std::string Fixtures() { return std::string(std::getenv("TEST_SRCDIR")) + "/cortado/testdata"; }
std::string Tmp() { return std::getenv("TEST_TMPDIR"); }

Tensor RunOnly(const std::string& model, const std::string& input_name, const Tensor& input) {
  auto p = Predictor::FromFile(model);
  EXPECT_TRUE(p.ok()) << model << ": " << p.status();
  if (!p.ok()) return Tensor();
  auto out = (*p)->Run({{input_name.empty() ? (*p)->inputs()[0].name : input_name, input}});
  EXPECT_TRUE(out.ok()) << model << ": " << out.status();
  return out.ok() ? out->begin()->second : Tensor();
}

class OnnxRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxRoundTrip, OnnxToNetDefToOnnxKeepsOutputs) {
  const std::string dir = Fixtures() + "/onnx/" + GetParam();
  auto input = ReadNpyFile(dir + "/input.npy");
  ASSERT_TRUE(input.ok());
  const Tensor original = RunOnly(dir + "/model.onnx", "", *input);

  auto graph = LoadGraph(dir + "/model.onnx");
  ASSERT_TRUE(graph.ok()) << graph.status();
  const std::string netdef = Tmp() + "/" + GetParam() + "_netdef";
  ASSERT_TRUE(SaveGraph(*graph, netdef).ok()) << SaveGraph(*graph, netdef);
  const Tensor via_netdef = RunOnly(netdef, "", *input);
  EXPECT_EQ(CompareTensors(via_netdef, original, 1e-5, 1e-6), "") << "ONNX -> NetDef";

  auto back = LoadGraph(netdef);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->inputs.size(), 1u);
  EXPECT_FALSE(SaveGraph(*back, Tmp() + "/no_shape.onnx").ok());  // NetDef lost the shape
  back->inputs[0].type = graph->inputs[0].type;
  const std::string onnx = Tmp() + "/" + GetParam() + "_back.onnx";
  absl::Status saved = SaveGraph(*back, onnx);
  ASSERT_TRUE(saved.ok()) << saved;
  EXPECT_EQ(CompareTensors(RunOnly(onnx, "", *input), original, 1e-5, 1e-6), "")
      << "ONNX -> NetDef -> ONNX";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OnnxRoundTrip,
                         ::testing::Values("mlp", "squeezenet1_1", "mobilenet_v2"));

TEST(NetDefRoundTrip, LenetToOnnxToNetDefKeepsPyTorchsAnswer) {
  const std::string dir = Fixtures() + "/netdef/lenet";
  auto input = ReadNpyFile(dir + "/input_1.npy");
  auto expected = ReadNpyFile(dir + "/output_26.npy");
  ASSERT_TRUE(input.ok() && expected.ok());
  auto graph = LoadGraph(dir);
  ASSERT_TRUE(graph.ok()) << graph.status();
  graph->inputs[0].type = {DType::kFloat32, Shape{-1, 1, 28, 28}};
  const std::string onnx = Tmp() + "/lenet.onnx";
  absl::Status saved = SaveGraph(*graph, onnx);
  ASSERT_TRUE(saved.ok()) << saved;
  EXPECT_EQ(CompareTensors(RunOnly(onnx, "1", *input), *expected, 1e-4, 1e-4), "");
  auto back = LoadGraph(onnx);
  ASSERT_TRUE(back.ok()) << back.status();
  const std::string netdef = Tmp() + "/lenet_back";
  saved = SaveGraph(*back, netdef);
  ASSERT_TRUE(saved.ok()) << saved;
  EXPECT_EQ(CompareTensors(RunOnly(netdef, "1", *input), *expected, 1e-4, 1e-4), "");
}

Tensor Random(Shape shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(NumElements(shape));
  for (float& x : v) x = d(rng);
  return Tensor::FromVector<float>(v, shape);
}

// x [-1, 3, 4] -> LayerNormalization(axis -1) -> Erf -> LayerNormalization(axis 1) -> y, opset 17;
// with the intermediate types a trace or an ONNX file's value_info would give.
Graph LayerNormErfGraph(bool with_value_types = true) {
  Graph g;
  g.name = "layer_norm_erf";
  g.opsets[""] = 17;
  g.inputs.push_back({"x", {DType::kFloat32, Shape{-1, 3, 4}}});
  g.outputs.push_back({"y", {}});
  g.initializers["s1"] = Random({4}, 1);
  g.initializers["b1"] = Random({4}, 2);
  g.initializers["s2"] = Random({3, 4}, 3);
  g.initializers["b2"] = Random({3, 4}, 4);
  Node ln1{"ln1", "LayerNormalization", "", {"x", "s1", "b1"}, {"a"}, {}};
  ln1.attrs.Set("epsilon", 1e-3f);
  Node erf{"erf", "Erf", "", {"a"}, {"e"}, {}};
  Node ln2{"ln2", "LayerNormalization", "", {"e", "s2", "b2"}, {"y"}, {}};
  ln2.attrs.Set("axis", int64_t{1});
  g.nodes = {ln1, erf, ln2};
  if (with_value_types) {
    for (const char* v : {"a", "e"}) g.value_types[v] = {DType::kFloat32, Shape{-1, 3, 4}};
  }
  return g;
}

TEST(NetDefRoundTrip, LayerNormAndErfKeepOutputs) {
  for (bool with_value_types : {true, false}) {
    SCOPED_TRACE(with_value_types ? "intermediate shapes known" : "intermediate shapes unknown");
    const Graph graph = LayerNormErfGraph(with_value_types);
    const Tensor x = Random({5, 3, 4}, 5);
    const std::string onnx = Tmp() + "/layer_norm_erf.onnx";
    ASSERT_TRUE(SaveGraph(graph, onnx).ok()) << SaveGraph(graph, onnx);
    const Tensor original = RunOnly(onnx, "x", x);

    const std::string netdef = Tmp() + "/layer_norm_erf_netdef";
    absl::Status saved = SaveGraph(graph, netdef);
    ASSERT_TRUE(saved.ok()) << saved;
    EXPECT_EQ(CompareTensors(RunOnly(netdef, "x", x), original, 1e-5, 1e-6), "")
        << "ONNX -> NetDef";

    auto back = LoadGraph(netdef);
    ASSERT_TRUE(back.ok()) << back.status();
    // Where the rank is known the exporter counts the axis from the end (1 of rank 3 is -2), and
    // the importer then uses gamma and beta as they are; else it reshapes them to the
    // normalized shape. Unread means and stds are never computed.
    std::vector<int64_t> axes;
    int reshapes = 0;
    for (const Node& n : back->nodes) {
      reshapes += n.op_type == "Reshape";
      if (n.op_type == "LayerNormalization") {
        axes.push_back(n.attrs.GetInt("axis"));
        EXPECT_EQ(n.outputs.size(), 1u);
      }
    }
    EXPECT_EQ(axes, (std::vector<int64_t>{-1, with_value_types ? -2 : 1}));
    EXPECT_EQ(reshapes, with_value_types ? 0 : 2);
    back->inputs[0].type = graph.inputs[0].type;
    const std::string onnx_back = Tmp() + "/layer_norm_erf_back.onnx";
    saved = SaveGraph(*back, onnx_back);
    ASSERT_TRUE(saved.ok()) << saved;
    EXPECT_EQ(CompareTensors(RunOnly(onnx_back, "x", x), original, 1e-5, 1e-6), "")
        << "ONNX -> NetDef -> ONNX";
  }
}

TEST(NetDefRoundTrip, LayerNormCaffe2CannotExpressIsUnimplemented) {
  struct Case {
    std::string what;
    std::function<void(Graph&)> change;
    std::string expect;
  } cases[] = {
      {"no bias", [](Graph& g) { g.nodes[0].inputs.pop_back(); }, "without a bias"},
      {"mean read",
       [](Graph& g) {
         g.nodes[0].outputs.push_back("mean");
         g.outputs.push_back({"mean", {}});
       },
       "Mean and InvStdDev"},
      {"broadcast scale", [](Graph& g) { g.initializers["s2"] = Random({4}, 6); }, "broadcast"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Graph g = LayerNormErfGraph();
    c.change(g);
    absl::Status saved = SaveGraph(g, Tmp() + "/unexportable_netdef");
    EXPECT_EQ(saved.code(), absl::StatusCode::kUnimplemented) << saved;
    EXPECT_NE(saved.message().find(c.expect), std::string::npos) << saved;
  }
}

TEST(ModelIoTest, LoadErrorsNameTheProblem) {
  EXPECT_EQ(LoadGraph(Tmp()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(LoadGraph(Tmp() + "/missing.onnx").ok());
  ASSERT_TRUE(WriteStringToFile(Tmp() + "/predict_net.pb", "junk").ok());
  auto no_init = LoadGraph(Tmp() + "/predict_net.pb");
  EXPECT_NE(no_init.status().message().find("no init_net.pb"), std::string::npos);
}

}  // namespace
}  // namespace cortado
