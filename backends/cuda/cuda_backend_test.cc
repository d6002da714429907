// The CUDA backend against the reference kernels: one-node models planned on "cuda" and on "cpu"
// must agree (rtol 1e-4 for float32 math; 1e-2 on "cuda_tf32" and "cuda_fp16", whose products
// round their inputs to TF32 or float16), with the node on the GPU (three runs each, so a Conv's
// second run takes cuDNN's algorithm from the cache). Constant inputs are initializers, so that the
// kernels that read them when they are made (Clip's bounds, Reduce's axes, Slice's starts...) take
// the node. The fixture models at graph level 1 add FusedConv (cuda_fixtures_test). Skips (saying
// why) without a GPU.
#include <cuda_runtime.h>

#include <cmath>
#include <map>

#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "ops/run_op.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

Tensor Random(const Shape& shape, int seed) {
  Tensor t = Tensor::Create(DType::kFloat32, shape).value();
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = std::sin(0.37f * i + seed);
  return t;
}

Tensor Ints(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::FromVector(v, {n});
}

struct Case {
  std::string op;
  std::vector<Shape> inputs;  // fed per run (float32), unless a constant replaces one
  AttributeMap attrs = {};
  std::map<int, Tensor> constants = {};  // by input index
  int opset = 17;
  std::string backend = "cuda";
  double rtol = 1e-4, atol = 1e-5;
};

AttributeMap Attrs(std::vector<std::pair<std::string, AttrValue>> values) {
  AttributeMap a;
  for (auto& [name, value] : values) a.Set(name, std::move(value));
  return a;
}

void Check(const Case& c) {
  SCOPED_TRACE(c.op + " on " + c.backend + " (opset " + std::to_string(c.opset) + ")");
  Graph g;
  g.opsets[""] = c.opset;
  Node node{"n", c.op, "", {}, {"y"}, c.attrs};
  TensorMap feeds;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const std::string name = "in" + std::to_string(i);
    node.inputs.push_back(name);
    if (auto it = c.constants.find(static_cast<int>(i)); it != c.constants.end()) {
      g.initializers[name] = it->second;
      continue;
    }
    Tensor x = Random(c.inputs[i], static_cast<int>(i));
    if (c.op == "Cast" && c.attrs.GetInt("to") == 1) {  // float16 in
      AttributeMap to_half;
      to_half.Set("to", int64_t{10});
      x = RunOp({"Cast", 19, to_half, {x}}).value()[0];
    }
    g.inputs.push_back({name, {x.dtype(), c.inputs[i]}});
    feeds[name] = std::move(x);
  }
  g.nodes.push_back(node);
  g.outputs.push_back({"y", {}});
  PredictorOptions options;
  options.plan.graph_level = -1;
  options.plan.backends = {c.backend};
  auto gpu = Predictor::FromGraph(g, options);
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  options.plan.backends = {"cpu"};
  auto reference = Predictor::FromGraph(g, options).value();
  int on_gpu = 0;
  for (const PlanStep& step : (*gpu)->plan().steps()) {
    on_gpu += step.backend->name() == c.backend && step.op_type == c.op;
  }
  EXPECT_EQ(on_gpu, 1) << "the node did not go to " << c.backend;
  for (int run = 0; run < 3; ++run) {
    auto got = (*gpu)->Run(feeds);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(CompareTensors(got->at("y"), reference->Run(feeds)->at("y"), c.rtol, c.atol), "");
  }
}

bool HaveGpu() {
  int devices = 0;
  const cudaError_t e = cudaGetDeviceCount(&devices);
  if (e == cudaSuccess && devices > 0) return true;
  std::cout << "no CUDA device (cudaGetDeviceCount: " << cudaGetErrorString(e)
            << "); run tools/gpu_check.sh on a machine with a GPU\n";
  return false;
}

#define SKIP_WITHOUT_GPU()                                                      \
  if (!HaveGpu())                                                               \
  GTEST_SKIP() << "no CUDA device; run tools/gpu_check.sh on a machine with a " \
                  "GPU"

TEST(CudaBackendTest, ElementwiseAndMatrixOps) {
  SKIP_WITHOUT_GPU();
  const std::vector<Case> cases = {
      {"Relu", {{3, 70}}},
      {"Sigmoid", {{1000}}},
      {"Tanh", {{2, 5}}},
      {"Add", {{4, 6}, {4, 6}}},
      {"Mul", {{2, 4, 6}, {6}}},
      {"Div", {{}, {3, 5}}},
      {"LeakyRelu", {{3, 7}}, Attrs({{"alpha", 0.2f}})},
      {"HardSigmoid", {{3, 7}}, Attrs({{"alpha", 0.3f}, {"beta", 0.4f}})},
      {"HardSwish", {{5, 9}}},
      {"Clip", {{4, 9}, {}, {}}, {}, {{1, Tensor::Scalar(-0.5f)}, {2, Tensor::Scalar(0.25f)}}, 13},
      {"Clip", {{4, 9}}, Attrs({{"min", -0.1f}, {"max", 0.6f}}), {}, 6},
      {"MatMul", {{65, 33}, {33, 17}}},
      {"MatMul", {{2, 3, 5, 4}, {2, 3, 4, 6}}},  // batched
      {"MatMul", {{2, 5, 4}, {4, 6}}},           // B shared
      {"MatMul", {{5, 4}, {3, 4, 2}}},           // A shared
      {"MatMul", {{4}, {2, 4, 3}}},              // 1-D A
      {"Gemm", {{8, 4}, {5, 4}, {5}}, Attrs({{"transB", int64_t{1}}})},
      {"ReduceSum", {{3, 4, 5}, {1}}, Attrs({{"keepdims", int64_t{0}}}), {{1, Ints({1})}}, 13},
      {"ReduceMean", {{2, 3, 4, 5}, {2}}, {}, {{1, Ints({-1, 1})}}, 18},
      {"ReduceMax", {{6, 700}, {1}}, {}, {{1, Ints({1})}}, 18},
      {"ReduceMean", {{3, 4, 5}}, Attrs({{"axes", std::vector<int64_t>{0, 2}}}), {}, 13},
      {"ReduceSum", {{3, 0, 2}, {1}}, {}, {{1, Ints({1})}}, 13},  // an empty set: zeros
  };
  for (const Case& c : cases) Check(c);
}

TEST(CudaBackendTest, CuDnnOps) {
  SKIP_WITHOUT_GPU();
  AttributeMap pads, depthwise, max_pool, avg_pool, avg_pad;
  pads.Set("pads", std::vector<int64_t>{1, 1, 1, 1});  // cuDNN: symmetric pads
  depthwise.Set("group", int64_t{4});
  depthwise.Set("strides", std::vector<int64_t>{2, 1});
  depthwise.Set("dilations", std::vector<int64_t>{1, 2});
  max_pool = Attrs({{"kernel_shape", std::vector<int64_t>{3, 3}},
                    {"strides", std::vector<int64_t>{2, 2}},
                    {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  avg_pool = max_pool;
  avg_pad = max_pool;
  avg_pad.Set("count_include_pad", int64_t{1});
  Tensor var = Random({3}, 7);
  for (int64_t i = 0; i < 3; ++i) var.data<float>()[i] = 0.5f + std::fabs(var.data<float>()[i]);
  const std::vector<Case> cases = {
      {"Conv", {{2, 3, 9, 9}, {4, 3, 3, 3}, {4}}, pads},
      {"Conv", {{1, 4, 11, 10}, {4, 1, 3, 3}}, depthwise},
      {"MaxPool", {{2, 3, 9, 9}}, max_pool},
      {"AveragePool", {{2, 3, 9, 9}}, avg_pool},
      {"AveragePool", {{2, 3, 9, 9}}, avg_pad},
      {"GlobalAveragePool", {{2, 5, 7, 6}}},
      {"GlobalMaxPool", {{2, 5, 7, 6}}},
      {"Softmax", {{2, 3, 4}}, Attrs({{"axis", int64_t{1}}}), {}, 13},
      {"Softmax", {{6, 50}}, {}, {}, 13},
      {"LogSoftmax", {{2, 3, 4}}, {}, {}, 13},
      {"Softmax", {{2, 3, 4}}, Attrs({{"axis", int64_t{1}}}), {}, 11},  // flattened at the axis
      {"BatchNormalization",
       {{2, 3, 4, 5}, {3}, {3}, {3}, {3}},
       Attrs({{"epsilon", 1e-3f}}),
       {{1, Random({3}, 4)}, {2, Random({3}, 5)}, {3, Random({3}, 6)}, {4, var}},
       15},
      {"BatchNormalization",
       {{4, 3}, {3}, {3}, {3}, {3}},
       {},
       {{1, Random({3}, 4)}, {2, Random({3}, 5)}, {3, Random({3}, 6)}, {4, var}},
       15},
  };
  for (const Case& c : cases) Check(c);
}

TEST(CudaBackendTest, DataMovement) {
  SKIP_WITHOUT_GPU();
  const std::vector<Case> cases = {
      {"Transpose", {{37, 45}}},
      {"Transpose", {{2, 3, 4, 5}}, Attrs({{"perm", std::vector<int64_t>{0, 2, 3, 1}}})},
      {"Concat", {{2, 3, 4}, {2, 1, 4}, {2, 5, 4}}, Attrs({{"axis", int64_t{1}}})},
      {"Concat", {{3, 2}, {4, 2}}, Attrs({{"axis", int64_t{-2}}})},
      {"Slice",
       {{5, 6, 7}, {2}, {2}, {2}, {2}},
       {},
       {{1, Ints({1, -1})}, {2, Ints({4, 0})}, {3, Ints({0, 2})}, {4, Ints({2, -2})}},
       13},
      {"Slice", {{5, 6}, {1}, {1}}, {}, {{1, Ints({2})}, {2, Ints({100})}}, 13},
      {"Gather", {{5, 4}, {3}}, {}, {{1, Ints({4, -5, 2})}}, 13},
      {"Gather", {{2, 5, 3}, {2}}, Attrs({{"axis", int64_t{1}}}), {{1, Ints({1, 1})}}, 13},
      {"Cast", {{3, 17}}, Attrs({{"to", int64_t{10}}}), {}, 19},  // float32 -> float16
      {"Cast", {{3, 17}}, Attrs({{"to", int64_t{1}}}), {}, 19},   // float16 -> float32
  };
  for (const Case& c : cases) Check(c);
}

// cuda_tf32 and cuda_fp16: their products agree with float32's to about 1e-3.
TEST(CudaBackendTest, Tf32AndFp16Backends) {
  SKIP_WITHOUT_GPU();
  AttributeMap pads;
  pads.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  for (const char* backend : {"cuda_tf32", "cuda_fp16"}) {
    const std::vector<Case> cases = {
        {"MatMul", {{2, 64, 128}, {128, 32}}, {}, {}, 17, backend, 1e-2, 1e-2},
        {"MatMul", {{3, 8, 16}, {3, 16, 4}}, {}, {}, 17, backend, 1e-2, 1e-2},
        {"Gemm", {{16, 64}, {64, 8}, {8}}, {}, {}, 17, backend, 1e-2, 1e-2},
        {"Conv", {{2, 16, 9, 9}, {8, 16, 3, 3}, {8}}, pads, {}, 17, backend, 1e-2, 1e-2},
    };
    for (const Case& c : cases) Check(c);
  }
}

// The GPU a device pointer lives on (-1 if it is none's).
int GpuOf(const void* ptr) {
  cudaPointerAttributes a;
  if (cudaPointerGetAttributes(&a, ptr) != cudaSuccess || a.type != cudaMemoryTypeDevice) return -1;
  return a.device;
}

// The backends of GPU 1 ("cuda:1", ...) run there from a thread whose current device is GPU 0:
// their kernels agree with the reference, and a model's weights are uploaded to GPU 1 and to no
// other (the same model on "cuda" has its own copy on GPU 0).
TEST(CudaBackendTest, SecondGpu) {
  SKIP_WITHOUT_GPU();
  int gpus = 0;
  ASSERT_EQ(cudaGetDeviceCount(&gpus), cudaSuccess);
  if (gpus < 2) {
    std::cout << "only " << gpus << " GPU; the second-GPU test needs two\n";
    GTEST_SKIP() << "only " << gpus << " CUDA device; the second-GPU test needs two";
  }
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  AttributeMap pads;
  pads.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  for (const char* backend : {"cuda:1", "cuda_tf32:1", "cuda_fp16:1"}) {
    const bool exact = std::string(backend) == "cuda:1";
    const double rtol = exact ? 1e-4 : 1e-2, atol = exact ? 1e-5 : 1e-2;
    Check({"MatMul", {{2, 3, 5, 4}, {2, 3, 4, 6}}, {}, {}, 17, backend, rtol, atol});
    Check({"Conv", {{2, 3, 9, 9}, {4, 3, 3, 3}, {4}}, pads, {}, 17, backend, rtol, atol});
    Check({"ReduceSum", {{3, 4, 5}}, {}, {{1, Ints({1})}}, 17, backend, rtol, atol});
  }
  // Gemm's weight, uploaded when planned: on GPU 1 for cuda:1, on GPU 0 for cuda.
  Graph g;
  g.opsets[""] = 17;
  g.initializers["w"] = Random({8, 4}, 3);
  g.inputs.push_back({"x", {DType::kFloat32, Shape{2, 8}}});
  g.nodes.push_back(Node{"n", "Gemm", "", {"x", "w"}, {"y"}, {}});
  g.outputs.push_back({"y", {}});
  for (int gpu : {1, 0}) {
    SCOPED_TRACE("GPU " + std::to_string(gpu));
    PredictorOptions options;
    options.plan.graph_level = -1;
    options.plan.backends = {DeviceBackendName("cuda", gpu)};
    auto p = Predictor::FromGraph(g, options);
    ASSERT_TRUE(p.ok()) << p.status();
    int on_device = 0;
    for (const Tensor& t : (*p)->plan().constants()) {
      if (!t.defined() || t.device() == Device{}) continue;
      EXPECT_EQ(t.device(), (Device{DeviceType::kCuda, gpu}));
      EXPECT_EQ(GpuOf(t.raw_data()), gpu);
      ++on_device;
    }
    EXPECT_EQ(on_device, 1) << "Gemm's weight was not uploaded";
    auto got = (*p)->Run({{"x", Random({2, 8}, 1)}});
    ASSERT_TRUE(got.ok()) << got.status();
  }
}

}  // namespace
}  // namespace cortado
