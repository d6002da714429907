// Each optimizer pass on small graphs: what it rewrites, and that the optimized plan computes
// what the unoptimized one does (the reference kernels alone, and with every backend).
#include "predictor/passes/passes.h"

#include <random>

#include "gtest/gtest.h"
#include "ops/fused.h"
#include "ops/op_test_util.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

Tensor Random(Shape shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t = Tensor::Create(DType::kFloat32, std::move(shape)).value();
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = dist(gen);
  return t;
}

AttributeMap Attrs(std::vector<std::pair<std::string, AttrValue>> values) {
  AttributeMap a;
  for (auto& [k, v] : values) a.Set(k, v);
  return a;
}

// x: [2, 8, 10, 10] float32; conv weights of 8 -> 8 channels, 3x3, padding 1.
Graph Base() {
  Graph g;
  g.opsets[""] = 17;
  g.inputs.push_back({"x", {DType::kFloat32, Shape{2, 8, 10, 10}}});
  g.initializers["w"] = Random({8, 8, 3, 3}, 1, -0.3f, 0.3f);
  g.initializers["b"] = Random({8}, 2);
  return g;
}

Node Conv(const std::string& in, const std::string& out) {
  return {out + "_node",  "Conv", "",
          {in, "w", "b"}, {out},  Attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}})};
}

int Count(const Graph& g, const std::string& op, const std::string& domain) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op_type == op && node.domain == domain;
  return n;
}

// Runs `g` unoptimized (level -1, reference kernels) and at `level` with `backends`, on the
// same input, and expects the same outputs.
void ExpectSameResults(const Graph& g, std::vector<std::string> backends) {
  PredictorOptions plain;
  plain.plan.graph_level = -1;
  plain.plan.backends = {kCpuBackend};
  PredictorOptions optimized;
  optimized.plan.backends = std::move(backends);
  auto a = Predictor::FromGraph(g, plain);
  auto b = Predictor::FromGraph(g, optimized);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  Shape x_shape = *g.inputs[0].type.shape;  // a dynamic dimension runs at 2
  for (int64_t& d : x_shape) d = d < 0 ? 2 : d;
  const TensorMap in = {{"x", Random(x_shape, 7)}};
  auto ya = (*a)->Run(in);
  auto yb = (*b)->Run(in);
  ASSERT_TRUE(ya.ok()) << ya.status();
  ASSERT_TRUE(yb.ok()) << yb.status();
  for (const auto& [name, t] : *ya) {
    EXPECT_EQ(CompareTensors(yb->at(name), t, 1e-4, 1e-5), "") << name;
  }
}

void ExpectSameResultsOnEveryBackend(const Graph& g) {
  ExpectSameResults(g, {kCpuBackend});
  ExpectSameResults(g, {});
}

TEST(InferTypesTest, RecordsTypesAndNamesUnsupportedOperators) {
  Graph g = Base();
  g.nodes.push_back(Conv("x", "y"));
  g.outputs.push_back({"y", {}});
  ASSERT_TRUE(InferTypes(g).ok());
  EXPECT_EQ(*g.value_types.at("y").shape, (Shape{2, 8, 10, 10}));
  EXPECT_EQ(*g.outputs[0].type.shape, (Shape{2, 8, 10, 10}));
  EXPECT_EQ(g.nodes[0].attrs.GetInt("group"), 1);  // completed from the schema

  g.nodes.push_back({"n", "NoSuchOp", "", {"y"}, {"z"}, {}});
  absl::Status s = InferTypes(g);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(s.message().find("NoSuchOp"), std::string::npos) << s;
}

TEST(FoldConstantsTest, RunsConstantSubgraphsOnce) {
  Graph g = Base();
  g.nodes.push_back(
      {"c", "Constant", "", {}, {"c"}, Attrs({{"value", Tensor::FromVector<float>({2.0f}, {1})}})});
  g.nodes.push_back({"scale", "Mul", "", {"b", "c"}, {"b2"}, {}});
  g.nodes.push_back({"conv",
                     "Conv",
                     "",
                     {"x", "w", "b2"},
                     {"y"},
                     Attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}})});
  g.outputs.push_back({"y", {}});
  Graph folded = g;
  ASSERT_TRUE(InferTypes(folded).ok());
  ASSERT_TRUE(FoldConstants(folded).ok());
  ASSERT_EQ(folded.nodes.size(), 1u);
  EXPECT_EQ(folded.nodes[0].op_type, "Conv");
  const Tensor& b2 = folded.initializers.at("b2");
  EXPECT_FLOAT_EQ(b2.data<float>()[3], 2.0f * g.initializers.at("b").data<float>()[3]);
  ExpectSameResultsOnEveryBackend(g);
}

TEST(FoldShapesTest, KnownDimensionsOfADynamicBatchBecomeConstants) {
  Graph g = Base();
  g.inputs[0].type.shape = Shape{-1, 8, 10, 10};  // dynamic batch
  g.nodes.push_back({"shape", "Shape", "", {"x"}, {"s"}, {}});
  g.initializers["hw"] = Tensor::FromVector<int64_t>({2, -1}, {2});
  g.nodes.push_back({"pick", "Gather", "", {"s", "hw"}, {"dims"}, {}});
  g.initializers["zero"] = Tensor::Scalar<int64_t>(0);
  g.nodes.push_back({"batch", "Gather", "", {"s", "zero"}, {"n"}, {}});
  g.nodes.push_back({"n1", "Unsqueeze", "", {"n", "zero"}, {"n1"}, {}});
  g.initializers["minus1"] = Tensor::FromVector<int64_t>({-1}, {1});
  g.nodes.push_back(
      {"target", "Concat", "", {"n1", "minus1"}, {"t"}, Attrs({{"axis", int64_t{0}}})});
  g.nodes.push_back({"flat", "Reshape", "", {"x", "t"}, {"y"}, {}});
  g.outputs.push_back({"y", {}});
  g.outputs.push_back({"dims", {}});
  Graph folded = g;
  ASSERT_TRUE(InferTypes(folded).ok());
  ASSERT_TRUE(FoldShapes(folded).ok());
  const Tensor& dims = folded.initializers.at("dims");
  EXPECT_EQ(std::vector<int64_t>(dims.data<int64_t>(), dims.data<int64_t>() + 2),
            (std::vector<int64_t>{10, 10}));
  EXPECT_EQ(Count(folded, "Shape", ""), 1);  // the batch is still read at run time
  EXPECT_EQ(Count(folded, "Gather", ""), 1);
  ExpectSameResultsOnEveryBackend(g);
}

TEST(EliminateDeadNodesTest, DropsUnreadNodesAndInitializers) {
  Graph g = Base();
  g.nodes.push_back({"live", "Relu", "", {"x"}, {"y"}, {}});
  g.nodes.push_back({"dead", "Conv", "", {"x", "w"}, {"unused"}, {}});
  g.outputs.push_back({"y", {}});
  ASSERT_TRUE(EliminateDeadNodes(g).ok());
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].name, "live");
  EXPECT_TRUE(g.initializers.empty());
}

Graph ConvBatchNorm() {
  Graph g = Base();
  g.nodes.push_back(Conv("x", "c"));
  g.initializers["scale"] = Random({8}, 3, 0.5f, 1.5f);
  g.initializers["shift"] = Random({8}, 4);
  g.initializers["mean"] = Random({8}, 5);
  g.initializers["var"] = Random({8}, 6, 0.1f, 2.0f);
  g.nodes.push_back(
      {"bn", "BatchNormalization", "", {"c", "scale", "shift", "mean", "var"}, {"y"}, {}});
  g.outputs.push_back({"y", {}});
  return g;
}

TEST(FuseBatchNormTest, FoldsIntoTheConv) {
  Graph g = ConvBatchNorm();
  Graph fused = g;
  ASSERT_TRUE(InferTypes(fused).ok());
  ASSERT_TRUE(FuseBatchNorm(fused).ok());
  ASSERT_EQ(fused.nodes.size(), 1u);
  EXPECT_EQ(fused.nodes[0].op_type, "Conv");
  EXPECT_EQ(fused.nodes[0].outputs[0], "y");
  // The folded weights replace the Conv's and the BatchNormalization's: held once.
  EXPECT_EQ(fused.initializers.size(), 2u);
  EXPECT_EQ(fused.initializers.count(fused.nodes[0].inputs[1]), 1u);
  EXPECT_EQ(fused.initializers.count(fused.nodes[0].inputs[2]), 1u);
  ExpectSameResultsOnEveryBackend(g);
}

TEST(FuseBatchNormTest, LeavesAConvWhoseResultIsAlsoReadElsewhere) {
  Graph g = ConvBatchNorm();
  g.outputs.push_back({"c", {}});
  Graph fused = g;
  ASSERT_TRUE(InferTypes(fused).ok());
  ASSERT_TRUE(FuseBatchNorm(fused).ok());
  // The model's Conv keeps its weights; the BatchNormalization is a depthwise 1x1 Conv.
  ASSERT_EQ(Count(fused, "Conv", ""), 2);
  EXPECT_EQ(fused.nodes[0].inputs[1], "w");
  EXPECT_EQ(fused.nodes[1].attrs.GetInt("group"), 8);
  ExpectSameResultsOnEveryBackend(g);
}

TEST(FuseBatchNormTest, APreActivationBatchNormBecomesAScaleAndShift) {
  Graph g = ConvBatchNorm();
  // BN first, as DenseNet does: x -> BN -> Relu -> Conv.
  g.nodes = {{"bn", "BatchNormalization", "", {"x", "scale", "shift", "mean", "var"}, {"n"}, {}},
             {"relu", "Relu", "", {"n"}, {"r"}, {}},
             Conv("r", "y")};
  Graph fused = g;
  ASSERT_TRUE(InferTypes(fused).ok());
  ASSERT_TRUE(FuseBatchNorm(fused).ok());
  EXPECT_EQ(Count(fused, "BatchNormalization", ""), 0);
  ASSERT_EQ(Count(fused, "Conv", ""), 2);
  EXPECT_EQ(fused.nodes[0].op_type, "Conv");  // depthwise 1x1: weights [8, 1, 1, 1], bias [8]
  EXPECT_EQ(fused.nodes[0].attrs.GetInt("group"), 8);
  EXPECT_EQ(fused.initializers.at(fused.nodes[0].inputs[1]).shape(), (Shape{8, 1, 1, 1}));
  // ... into which the Relu after it fuses.
  ASSERT_TRUE(FuseActivations(fused).ok());
  EXPECT_EQ(Count(fused, "Relu", ""), 0);
  EXPECT_EQ(Count(fused, "FusedConv", kFusedDomain), 2);
  ExpectSameResultsOnEveryBackend(g);
}

TEST(FuseBatchNormTest, AOneDimensionalBatchNormBecomesADepthwiseConv) {
  Graph g = ConvBatchNorm();
  g.inputs[0].type.shape = Shape{2, 8, 10};
  g.nodes = {{"bn", "BatchNormalization", "", {"x", "scale", "shift", "mean", "var"}, {"y"}, {}}};
  Graph fused = g;
  ASSERT_TRUE(InferTypes(fused).ok());
  ASSERT_TRUE(FuseBatchNorm(fused).ok());
  ASSERT_EQ(Count(fused, "Conv", ""), 1);
  EXPECT_EQ(fused.initializers.at(fused.nodes[0].inputs[1]).shape(), (Shape{8, 1, 1}));
  ExpectSameResultsOnEveryBackend(g);
}

TEST(FuseBatchNormTest, ABatchNormWithoutSpatialDimensionsBecomesMulAndAdd) {
  Graph g = ConvBatchNorm();
  g.inputs[0].type.shape = Shape{4, 8};
  g.nodes = {{"bn", "BatchNormalization", "", {"x", "scale", "shift", "mean", "var"}, {"y"}, {}}};
  Graph fused = g;
  ASSERT_TRUE(InferTypes(fused).ok());
  ASSERT_TRUE(FuseBatchNorm(fused).ok());
  EXPECT_EQ(Count(fused, "BatchNormalization", ""), 0);
  EXPECT_EQ(Count(fused, "Mul", ""), 1);
  EXPECT_EQ(Count(fused, "Add", ""), 1);
  ExpectSameResultsOnEveryBackend(g);
}

TEST(FuseActivationsTest, ResidualAddAndRelu) {
  Graph g = Base();
  g.nodes.push_back(Conv("x", "c"));
  g.nodes.push_back({"add", "Add", "", {"x", "c"}, {"s"}, {}});
  g.nodes.push_back({"relu", "Relu", "", {"s"}, {"y"}, {}});
  g.outputs.push_back({"y", {}});
  Graph fused = g;
  ASSERT_TRUE(InferTypes(fused).ok());
  ASSERT_TRUE(FuseActivations(fused).ok());
  ASSERT_EQ(fused.nodes.size(), 1u);
  const Node& n = fused.nodes[0];
  EXPECT_EQ(n.op_type, "FusedConv");
  EXPECT_EQ(n.domain, kFusedDomain);
  EXPECT_EQ(n.inputs.size(), 4u);
  EXPECT_EQ(n.inputs[3], "x");
  EXPECT_EQ(n.attrs.GetString("activation"), "Relu");
  EXPECT_EQ(n.outputs[0], "y");
  ExpectSameResultsOnEveryBackend(g);
}

TEST(FuseActivationsTest, SwishAndClip) {
  Graph g = Base();
  g.nodes.push_back(Conv("x", "c"));
  g.nodes.push_back({"sig", "Sigmoid", "", {"c"}, {"s"}, {}});
  g.nodes.push_back({"mul", "Mul", "", {"s", "c"}, {"m"}, {}});
  g.initializers["lo"] = Tensor::Scalar<float>(0.0f);
  g.initializers["hi"] = Tensor::Scalar<float>(0.5f);
  g.nodes.push_back({"conv2",
                     "Conv",
                     "",
                     {"m", "w", "b"},
                     {"c2"},
                     Attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}})});
  g.nodes.push_back({"clip", "Clip", "", {"c2", "lo", "hi"}, {"y"}, {}});
  g.outputs.push_back({"y", {}});
  Graph fused = g;
  ASSERT_TRUE(InferTypes(fused).ok());
  ASSERT_TRUE(FuseActivations(fused).ok());
  ASSERT_EQ(fused.nodes.size(), 2u);
  EXPECT_EQ(fused.nodes[0].attrs.GetString("activation"), "Swish");
  EXPECT_EQ(fused.nodes[1].attrs.GetString("activation"), "Clip");
  EXPECT_EQ(fused.nodes[1].attrs.GetFloats("activation_params"), (std::vector<float>{0.0f, 0.5f}));
  ExpectSameResultsOnEveryBackend(g);
}

TEST(FuseActivationsTest, KeepsAConvOutputThatIsAGraphOutput) {
  Graph g = Base();
  g.nodes.push_back(Conv("x", "c"));
  g.nodes.push_back({"relu", "Relu", "", {"c"}, {"y"}, {}});
  g.outputs.push_back({"y", {}});
  g.outputs.push_back({"c", {}});
  ASSERT_TRUE(InferTypes(g).ok());
  ASSERT_TRUE(FuseActivations(g).ok());
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].attrs.GetString("activation"), "");
}

TEST(FuseActivationsTest, MatMulBiasRelu) {
  Graph g = Base();
  g.initializers["proj"] = Random({10, 6}, 10);
  g.initializers["bias"] = Random({6}, 11);
  g.nodes.push_back({"mm", "MatMul", "", {"x", "proj"}, {"p"}, {}});
  g.nodes.push_back({"add", "Add", "", {"bias", "p"}, {"q"}, {}});
  g.nodes.push_back({"relu", "Relu", "", {"q"}, {"y"}, {}});
  g.outputs.push_back({"y", {}});
  Graph fused = g;
  ASSERT_TRUE(InferTypes(fused).ok());
  ASSERT_TRUE(FuseActivations(fused).ok());
  ASSERT_EQ(fused.nodes.size(), 1u);
  EXPECT_EQ(fused.nodes[0].op_type, "FusedMatMul");
  EXPECT_EQ(fused.nodes[0].inputs, (std::vector<std::string>{"x", "proj", "bias"}));
  EXPECT_EQ(fused.nodes[0].attrs.GetString("activation"), "Relu");
  ExpectSameResultsOnEveryBackend(g);
}

TEST(FuseActivationsTest, GemmWithTransposedWeightsAndResidualMatMul) {
  Graph g = Base();
  g.nodes.push_back({"flat", "Flatten", "", {"x"}, {"f"}, {}});  // [2, 800]
  g.initializers["wt"] = Random({16, 800}, 12, -0.1f, 0.1f);
  g.initializers["c"] = Random({16}, 13);
  g.nodes.push_back({"gemm", "Gemm", "", {"f", "wt", "c"}, {"h"}, Attrs({{"transB", int64_t{1}}})});
  g.nodes.push_back({"tanh", "Tanh", "", {"h"}, {"t"}, {}});
  g.initializers["sq"] = Random({16, 16}, 14);
  g.nodes.push_back({"mm", "MatMul", "", {"t", "sq"}, {"u"}, {}});
  g.nodes.push_back({"res", "Add", "", {"u", "t"}, {"y"}, {}});
  g.outputs.push_back({"y", {}});
  Graph fused = g;
  ASSERT_TRUE(InferTypes(fused).ok());
  ASSERT_TRUE(FuseActivations(fused).ok());
  ASSERT_EQ(fused.nodes.size(), 3u);
  EXPECT_EQ(fused.nodes[1].op_type, "FusedMatMul");
  EXPECT_EQ(fused.nodes[1].attrs.GetString("activation"), "Tanh");
  EXPECT_EQ(*fused.initializers.at(fused.nodes[1].inputs[1]).shape().data(), 800);  // B^T
  EXPECT_EQ(fused.initializers.count("wt"), 0u);  // B went with its one reader: held once
  EXPECT_EQ(fused.nodes[2].op_type, "FusedMatMul");
  EXPECT_EQ(fused.nodes[2].inputs[2], "t");  // the residual
  ExpectSameResultsOnEveryBackend(g);
}

// Two Gemms share B^T, made once; B itself goes when its last reader is rewritten, and stays
// while a node still reads it as it is.
TEST(FuseActivationsTest, SharedTransposedWeightsAreMadeOnceAndTheOriginalKeptOnlyIfRead) {
  for (const bool read_as_is : {false, true}) {
    Graph g;
    g.opsets[""] = 17;
    g.inputs.push_back({"x", {DType::kFloat32, Shape{4, 16}}});
    g.initializers["wt"] = Random({16, 16}, 15, -0.2f, 0.2f);
    const AttributeMap trans_b = Attrs({{"transB", int64_t{1}}});
    g.nodes.push_back({"g1", "Gemm", "", {"x", "wt"}, {"h1"}, trans_b});
    g.nodes.push_back({"g2", "Gemm", "", {"h1", "wt"}, {"h2"}, trans_b});
    g.outputs.push_back({"h2", {}});
    if (read_as_is) {
      g.nodes.push_back({"twice", "Add", "", {"wt", "wt"}, {"w2"}, {}});
      g.outputs.push_back({"w2", {}});
    }
    Graph fused = g;
    ASSERT_TRUE(InferTypes(fused).ok());
    ASSERT_TRUE(FuseActivations(fused).ok());
    EXPECT_EQ(fused.initializers.size(), read_as_is ? 2u : 1u) << read_as_is;
    EXPECT_EQ(fused.initializers.count("wt"), read_as_is ? 1u : 0u) << read_as_is;
    for (const Node& node : fused.nodes) {
      if (node.op_type == "FusedMatMul") {
        EXPECT_EQ(node.inputs[1], "wt__transposed");
      }
    }
    ExpectSameResultsOnEveryBackend(g);
  }
}

// Conv -> Relu -> MaxPool -> Conv (+ per-channel Mul) -> GlobalAveragePool -> Flatten.
Graph SmallCnn() {
  Graph g = Base();
  g.nodes.push_back(Conv("x", "c1"));
  g.nodes.push_back({"relu", "Relu", "", {"c1"}, {"r"}, {}});
  g.nodes.push_back({"pool",
                     "MaxPool",
                     "",
                     {"r"},
                     {"p"},
                     Attrs({{"kernel_shape", std::vector<int64_t>{2, 2}},
                            {"strides", std::vector<int64_t>{2, 2}}})});
  g.nodes.push_back(Conv("p", "c2"));
  g.initializers["gain"] = Random({8, 1, 1}, 9);
  g.nodes.push_back({"gain", "Mul", "", {"c2", "gain"}, {"m"}, {}});
  g.nodes.push_back({"gap", "GlobalAveragePool", "", {"m"}, {"g"}, {}});
  g.nodes.push_back({"flat", "Flatten", "", {"g"}, {"y"}, {}});
  g.outputs.push_back({"y", {}});
  g.outputs.push_back({"r", {}});  // read channels-first too
  return g;
}

TEST(AssignLayoutTest, ChannelsLastRegionWithTransposesAtItsEdges) {
  Graph g = SmallCnn();
  Graph laid = g;
  std::vector<const Backend*> backends = BackendRegistry::Global().ByPriority();
  ASSERT_TRUE(InferTypes(laid).ok());
  ASSERT_TRUE(FuseActivations(laid).ok());
  ASSERT_TRUE(AssignLayout(laid, backends).ok());
  ASSERT_TRUE(InferTypes(laid).ok());
  EXPECT_EQ(Count(laid, "FusedConv", kNhwcDomain), 2);
  EXPECT_EQ(Count(laid, "MaxPool", kNhwcDomain), 1);
  EXPECT_EQ(Count(laid, "GlobalAveragePool", kNhwcDomain), 1);
  // Into the region, out of it for the graph output r, and out of it before Flatten.
  EXPECT_EQ(Count(laid, "Transpose", ""), 3);
  ExpectSameResultsOnEveryBackend(g);
}

TEST(AssignLayoutTest, PadAndConcatStayChannelsLast) {
  Graph g = Base();
  g.nodes.push_back(Conv("x", "c"));
  g.initializers["pads"] = Tensor::FromVector<int64_t>({0, 0, 1, 0, 0, 0, 1, 2}, {8});
  g.nodes.push_back({"pad", "Pad", "", {"c", "pads"}, {"p"}, {}});
  g.nodes.push_back({"pool",
                     "AveragePool",
                     "",
                     {"p"},
                     {"a"},
                     Attrs({{"kernel_shape", std::vector<int64_t>{2, 2}},
                            {"strides", std::vector<int64_t>{2, 2}},
                            {"count_include_pad", int64_t{1}}})});
  g.nodes.push_back({"pool_x",
                     "MaxPool",
                     "",
                     {"x"},
                     {"px"},
                     Attrs({{"kernel_shape", std::vector<int64_t>{2, 2}},
                            {"strides", std::vector<int64_t>{2, 2}},
                            {"pads", std::vector<int64_t>{1, 1, 1, 1}}})});
  g.nodes.push_back({"cat", "Concat", "", {"a", "px"}, {"y"}, Attrs({{"axis", int64_t{1}}})});
  g.outputs.push_back({"y", {}});
  Graph laid = g;
  ASSERT_TRUE(InferTypes(laid).ok());
  ASSERT_TRUE(FuseActivations(laid).ok());
  ASSERT_TRUE(AssignLayout(laid, BackendRegistry::Global().ByPriority()).ok());
  ASSERT_TRUE(InferTypes(laid).ok());
  EXPECT_EQ(Count(laid, "AveragePool", kNhwcDomain), 1);
  EXPECT_EQ(Count(laid, "Concat", ""), 1);
  // x into the region (read by the conv and, through the max pool, the concat), y out of it.
  EXPECT_EQ(Count(laid, "Transpose", ""), 3);
  ExpectSameResultsOnEveryBackend(g);
}

TEST(AssignLayoutTest, NothingChangesWithTheReferenceBackendAlone) {
  Graph g = SmallCnn();
  ASSERT_TRUE(InferTypes(g).ok());
  const size_t before = g.nodes.size();
  ASSERT_TRUE(AssignLayout(g, {BackendRegistry::Global().Find(kCpuBackend)}).ok());
  EXPECT_EQ(g.nodes.size(), before);
  EXPECT_EQ(Count(g, "Transpose", ""), 0);
}

// ShuffleNet's channel shuffle as PyTorch exports it with a dynamic batch: the reshape targets
// are built at run time from the batch, and the Slices' bounds from the shuffled value's shape.
TEST(FoldChannelShuffleTest, ShuffleAndSlicesBecomeChannelGathers) {
  Graph g = Base();
  g.inputs[0].type.shape = Shape{-1, 8, 10, 10};
  g.nodes.push_back(Conv("x", "y"));
  auto constant = [&](const std::string& name, std::vector<int64_t> v) {
    const int64_t n = static_cast<int64_t>(v.size());
    g.initializers[name] = Tensor::FromVector<int64_t>(std::move(v), {n});
  };
  g.initializers["zero"] = Tensor::Scalar<int64_t>(0);
  g.initializers["one"] = Tensor::Scalar<int64_t>(1);
  g.initializers["two"] = Tensor::Scalar<int64_t>(2);
  constant("axis0", {0});
  constant("axis1", {1});
  constant("split", {2, 4, 10, 10});
  constant("merged", {-1, 10, 10});
  g.nodes.push_back({"shape", "Shape", "", {"y"}, {"s"}, {}});
  g.nodes.push_back({"batch", "Gather", "", {"s", "zero"}, {"n"}, {}});
  g.nodes.push_back({"n1", "Unsqueeze", "", {"n", "axis0"}, {"n1"}, {}});
  g.nodes.push_back(
      {"t1", "Concat", "", {"n1", "split"}, {"target1"}, Attrs({{"axis", int64_t{0}}})});
  g.nodes.push_back(
      {"t2", "Concat", "", {"n1", "merged"}, {"target2"}, Attrs({{"axis", int64_t{0}}})});
  g.nodes.push_back({"split", "Reshape", "", {"y", "target1"}, {"y5"}, {}});
  g.nodes.push_back({"swap",
                     "Transpose",
                     "",
                     {"y5"},
                     {"y5t"},
                     Attrs({{"perm", std::vector<int64_t>{0, 2, 1, 3, 4}}})});
  g.nodes.push_back({"merge", "Reshape", "", {"y5t", "target2"}, {"z"}, {}});
  // half = Shape(z)[1] / 2; the halves swap places.
  g.nodes.push_back({"zshape", "Shape", "", {"z"}, {"zs"}, {}});
  g.nodes.push_back({"c", "Gather", "", {"zs", "one"}, {"c"}, {}});
  g.nodes.push_back({"half", "Div", "", {"c", "two"}, {"half"}, {}});
  g.nodes.push_back({"half1", "Unsqueeze", "", {"half", "axis0"}, {"half1"}, {}});
  g.nodes.push_back({"c1", "Unsqueeze", "", {"c", "axis0"}, {"c1"}, {}});
  g.nodes.push_back({"lo", "Slice", "", {"z", "axis0", "half1", "axis1"}, {"lo"}, {}});
  g.nodes.push_back({"hi", "Slice", "", {"z", "half1", "c1", "axis1"}, {"hi"}, {}});
  g.nodes.push_back({"cat", "Concat", "", {"hi", "lo"}, {"u"}, Attrs({{"axis", int64_t{1}}})});
  g.nodes.push_back(Conv("u", "v"));
  g.outputs.push_back({"v", {}});
  Graph folded = g;
  ASSERT_TRUE(Optimize(folded, {1, BackendRegistry::Global().ByPriority()}).ok());
  EXPECT_EQ(Count(folded, "Gather", ""), 2);  // one per half, from the conv's output
  EXPECT_EQ(Count(folded, "Reshape", ""), 0);
  EXPECT_EQ(Count(folded, "Slice", ""), 0);
  EXPECT_EQ(Count(folded, "Shape", ""), 0);
  Graph reference_only = g;
  ASSERT_TRUE(Optimize(reference_only, {1, {}}).ok());
  EXPECT_EQ(Count(reference_only, "Gather", ""), 2);
  ExpectSameResultsOnEveryBackend(g);
}

TEST(OptimizeTest, LevelsAndReports) {
  Graph g = ConvBatchNorm();
  Graph none = g;
  auto r = Optimize(none, {-1, {}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(none.nodes.size(), 2u);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].name, "InferTypes");
  Graph all = g;
  r = Optimize(all, {1, BackendRegistry::Global().ByPriority()});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->size(), 4u);
  EXPECT_EQ(r->back().nodes, static_cast<int>(all.nodes.size()));
}

}  // namespace
}  // namespace cortado
