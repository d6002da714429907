// The CUDA backend against the reference kernels: one-node models planned on "cuda" and on "cpu"
// must agree within rtol 1e-4, with the node on the GPU (three runs each, so a Conv's second run
// takes cuDNN's algorithm from the cache). The fixture models at graph level 1 add FusedConv
// (cuda_fixtures_test). Skips (saying why) without a GPU.
#include <cuda_runtime.h>

#include <cmath>

#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

Tensor Random(const Shape& shape, int seed) {
  Tensor t = Tensor::Create(DType::kFloat32, shape).value();
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = std::sin(0.37f * i + seed);
  return t;
}

struct Case {
  std::string op;
  std::vector<Shape> inputs;
  AttributeMap attrs;
};

TEST(CudaBackendTest, MatchesTheReference) {
  int devices = 0;
  const cudaError_t e = cudaGetDeviceCount(&devices);
  if (e != cudaSuccess || devices == 0) {
    GTEST_SKIP() << "no CUDA device (cudaGetDeviceCount: " << cudaGetErrorString(e)
                 << "); run tools/gpu_check.sh on a machine with a GPU";
  }
  AttributeMap trans_b;
  trans_b.Set("transB", int64_t{1});
  AttributeMap pads, depthwise;  // cuDNN: symmetric pads, groups, strides, dilations
  pads.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  depthwise.Set("group", int64_t{4});
  depthwise.Set("strides", std::vector<int64_t>{2, 1});
  depthwise.Set("dilations", std::vector<int64_t>{1, 2});
  std::vector<Case> cases = {{"Relu", {{3, 70}}, {}},
                             {"Sigmoid", {{1000}}, {}},
                             {"Tanh", {{2, 5}}, {}},
                             {"Add", {{4, 6}, {4, 6}}, {}},
                             {"Mul", {{2, 4, 6}, {6}}, {}},
                             {"Div", {{}, {3, 5}}, {}},
                             {"MatMul", {{65, 33}, {33, 17}}, {}},
                             {"Gemm", {{8, 4}, {5, 4}, {5}}, trans_b},
                             {"Transpose", {{37, 45}}, {}},
                             {"Conv", {{2, 3, 9, 9}, {4, 3, 3, 3}, {4}}, pads},
                             {"Conv", {{1, 4, 11, 10}, {4, 1, 3, 3}}, depthwise}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    Graph g;
    g.opsets[""] = 17;
    Node node{"n", c.op, "", {}, {"y"}, c.attrs};
    TensorMap feeds;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      const std::string name = "in" + std::to_string(i);
      node.inputs.push_back(name);
      g.inputs.push_back({name, {DType::kFloat32, c.inputs[i]}});
      feeds[name] = Random(c.inputs[i], static_cast<int>(i));
    }
    g.nodes.push_back(node);
    g.outputs.push_back({"y", {}});
    PredictorOptions options;
    options.plan.graph_level = -1;
    options.plan.backends = {"cuda"};
    auto gpu = Predictor::FromGraph(g, options).value();
    options.plan.backends = {"cpu"};
    auto reference = Predictor::FromGraph(g, options).value();
    int on_gpu = 0;
    for (const PlanStep& step : gpu->plan().steps())
      on_gpu += step.backend->name() == "cuda" && step.op_type == c.op;
    EXPECT_EQ(on_gpu, 1);
    for (int run = 0; run < 3; ++run) {
      auto got = gpu->Run(feeds);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(CompareTensors(got->at("y"), reference->Run(feeds)->at("y"), 1e-4, 1e-5), "");
    }
  }
}

}  // namespace
}  // namespace cortado
