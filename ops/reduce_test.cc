// Table tests for the reduce family (ops/reduce.cc) and the losses (ops/loss.cc): every case runs
// through RunOp (schema, shape inference, CPU kernel). Expected values come from numpy 1.24
// (np.sum/np.max/..., np.einsum, np.linalg.det, a stable argsort for TopK, np.cumsum) and, for
// the losses, from onnx's numpy references, not from this code.
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "ops/op_test_util.h"

namespace cortado {
namespace {

using Ints = std::vector<int64_t>;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

Tensor F32(std::vector<float> v, Shape s) { return Tensor::FromVector(v, std::move(s)); }
Tensor F64(std::vector<double> v, Shape s) { return Tensor::FromVector(v, std::move(s)); }
Tensor I32(std::vector<int32_t> v, Shape s) { return Tensor::FromVector(v, std::move(s)); }
Tensor I64(std::vector<int64_t> v, Shape s) { return Tensor::FromVector(v, std::move(s)); }
Tensor U8(std::vector<uint8_t> v, Shape s) { return Tensor::FromVector(v, std::move(s)); }
Tensor F16(const std::vector<float>& v, Shape s) {
  std::vector<Half> h;
  for (float f : v) h.push_back(Half(f));
  return Tensor::FromVector(h, std::move(s));
}

AttributeMap Attrs(std::vector<std::pair<std::string, AttrValue>> values) {
  AttributeMap attrs;
  for (auto& [name, value] : values) attrs.Set(name, std::move(value));
  return attrs;
}

struct OpCase {
  std::string name;
  OpRun run;
  std::vector<Tensor> expected;                    // when the run should succeed
  absl::StatusCode error = absl::StatusCode::kOk;  // otherwise
  double rtol = 1e-5;
  double atol = 1e-6;
};

OpCase Ok(std::string name, std::string op, int opset, AttributeMap attrs,
          std::vector<Tensor> inputs, std::vector<Tensor> expected, double rtol = 1e-5,
          double atol = 1e-6) {
  const int num_outputs = static_cast<int>(expected.size());
  return {std::move(name),
          OpRun{std::move(op), opset, std::move(attrs), std::move(inputs), num_outputs},
          std::move(expected),
          absl::StatusCode::kOk,
          rtol,
          atol};
}

OpCase Bad(std::string name, std::string op, int opset, AttributeMap attrs,
           std::vector<Tensor> inputs, absl::StatusCode error, int num_outputs) {
  return {std::move(name),
          OpRun{std::move(op), opset, std::move(attrs), std::move(inputs), num_outputs},
          {},
          error};
}

// Runs the cases whose op name starts with `prefix`; returns how many ran.
int RunCases(const std::vector<OpCase>& cases, const std::string& prefix) {
  int ran = 0;
  for (const OpCase& c : cases) {
    if (c.run.op_type.rfind(prefix, 0) != 0) continue;
    ++ran;
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::vector<Tensor>> got = RunOp(c.run);
    if (c.error != absl::StatusCode::kOk) {
      EXPECT_EQ(got.status().code(), c.error) << got.status();
      continue;
    }
    if (!got.ok()) {
      ADD_FAILURE() << got.status();
      continue;
    }
    if (got->size() != c.expected.size()) {
      ADD_FAILURE() << got->size() << " outputs, expected " << c.expected.size();
      continue;
    }
    for (size_t i = 0; i < c.expected.size(); ++i) {
      EXPECT_EQ(CompareTensors((*got)[i], c.expected[i], c.rtol, c.atol), "") << "output " << i;
    }
  }
  return ran;
}

std::vector<OpCase> ReduceCases() {
  const Tensor x = F32(
      {-2.54f, 1.68f, -0.37f, 1.34f, 2.87f,  0.23f,  0.01f, -2.57f, -1.39f, 0.5f, 1.08f,  1.82f,
       -0.71f, -2.6f, -1.27f, 2.46f, -1.72f, -0.29f, 2.59f, -2.85f, 0.6f,   2.7f, -1.62f, 0.29f},
      {2, 3, 4});
  const Tensor x_pos =
      F32({3.04f, 2.1799998f,  0.87f, 1.84f,      3.37f, 0.73f, 0.51f, 3.07f,
           1.89f, 1.0f,        1.58f, 2.3200002f, 1.21f, 3.1f,  1.77f, 2.96f,
           2.22f, 0.78999996f, 3.09f, 3.35f,      1.1f,  3.2f,  2.12f, 0.78999996f},
          {2, 3, 4});
  const Tensor x64 =
      F64({2.45, -2.2, 0.14, 1.5, 1.01, -0.19, -1.77, -0.06, -0.77, -0.14, -0.8, 2.03}, {3, 2, 2});
  const Tensor x_i32 = I32({-13, 3, 8, 12, 1, 16}, {2, 3});
  const Tensor x_arg =
      F32({2.0f, 1.0f, 2.0f, 0.0f, 5.0f, 5.0f, 7.0f, 7.0f, 1.0f, 3.0f, -1.0f, 3.0f}, {2, 2, 3});
  const Tensor x_soft = F32(
      {1.45f, -0.47f, -0.44f, 0.81f, 0.14f,  -0.51f, -2.99f, -2.45f, 1.26f,  0.15f, 1.18f,  2.73f,
       1.1f,  -2.68f, -1.15f, 0.56f, -1.59f, 2.79f,  2.67f,  2.09f,  -0.17f, 2.05f, -2.21f, -1.15f},
      {2, 3, 4});
  const Tensor x_big = F64({1000.0, 1001.0, 1002.0, 1003.0, -1000.0, 0.0, 1000.0, 1000.0}, {2, 4});
  const Tensor x_cum = F32({1.0f, 2.0f, 3.0f, 4.0f, 5.0f}, {5});
  const Tensor x_top = F32(
      {5.0f, 1.0f, 5.0f, 3.0f, 9.0f, 2.0f, 2.0f, 8.0f, 2.0f, 0.0f, 4.0f, 7.0f, 7.0f, 1.0f, 7.0f},
      {3, 5});
  const Tensor a = F32({-0.01f, -1.82f, 2.26f, -1.39f, -1.58f, -0.76f}, {2, 3});
  const Tensor b = F32(
      {-0.68f, -1.6f, -1.95f, -0.61f, 2.05f, 1.72f, 0.84f, -0.02f, -0.16f, -0.15f, 2.66f, 1.43f},
      {3, 4});
  const Tensor c = F32({-2.75f, 1.55f, 0.08f, -1.93f, -0.65f, 2.64f, -1.72f, 1.88f}, {4, 2});
  const Tensor bt =
      F32({-0.58f, 0.52f, -1.88f, 1.87f, 0.49f, -0.32f, 1.79f, 0.27f, -0.49f, -2.89f, 1.1f, -0.07f},
          {2, 2, 3});
  const Tensor bu =
      F32({-1.68f, 0.3f, 0.14f, -0.07f, -1.42f, 0.16f, 2.91f, 0.74f, 0.78f, 2.46f, 2.78f, 0.51f},
          {2, 3, 2});
  const Tensor sq =
      F32({-2.01f, -0.65f, 2.67f, -0.94f, 1.23f, -0.22f, -0.68f, 0.17f, 1.93f}, {3, 3});
  const Tensor sq_batch = F32({0.83f, 2.18f, 0.82f, 3.0f, 0.11f, -1.03f, -2.41f, 0.4f, -1.71f,
                               -2.93f, -1.2f, -2.77f, 2.86f, 0.31f, -2.57f, -0.96f, -1.54f, -2.36f},
                              {2, 3, 3});
  const Tensor v3 = F32({1.62f, -0.9f, -1.87f}, {3});
  const Tensor w4 = F32({2.48f, 2.17f, -0.61f, 0.28f}, {4});
  const Tensor e1 =
      F32({-0.3f, 1.16f, -1.72f, -1.06f, 1.44f, -1.9f, 1.18f, 0.16f, -1.81f, 0.9f, 0.06f, 1.13f},
          {2, 1, 2, 3});
  const Tensor e2 = F32(
      {0.44f, 1.62f,  -0.64f, 2.75f,  2.87f, -1.76f, -0.14f, 1.74f,  -2.23f, 1.96f, -1.58f, 2.64f,
       1.92f, -2.69f, -2.99f, -1.94f, 0.23f, 0.23f,  0.07f,  -1.55f, -2.96f, 1.45f, -0.3f,  2.25f},
      {4, 3, 2});
  return {
      Ok("ReduceSum axes=[1] keepdims=1", "ReduceSum", 11,
         Attrs({{"keepdims", int64_t{1}}, {"axes", Ints{1}}}), {x},
         {F32({-1.0600001f, 2.4099998f, 0.72f, 0.59000015f, -1.8299999f, -0.18999985f, -0.30000007f,
               -0.099999875f},
              {2, 1, 4})}),
      Ok("ReduceSum axes=[0,2] keepdims=0", "ReduceSum", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{0, 2}}}), {x},
         {F32({-2.0099998f, -1.73f, 3.9800003f}, {3})}),
      Ok("ReduceSum axes=[] keepdims=1", "ReduceSum", 11, Attrs({{"keepdims", int64_t{1}}}), {x},
         {F32({0.24000031f}, {1, 1, 1})}),
      Ok("ReduceSum axes=[-1] keepdims=0", "ReduceSum", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{-1}}}), {x},
         {F32({0.110000014f, 0.53999996f, 2.0100002f, -2.12f, -2.27f, 1.97f}, {2, 3})}),
      Ok("ReduceMean axes=[1] keepdims=1", "ReduceMean", 11,
         Attrs({{"keepdims", int64_t{1}}, {"axes", Ints{1}}}), {x},
         {F32({-0.35333335f, 0.80333334f, 0.24000001f, 0.19666672f, -0.61f, -0.06333328f,
               -0.100000024f, -0.03333329f},
              {2, 1, 4})}),
      Ok("ReduceMean axes=[0,2] keepdims=0", "ReduceMean", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{0, 2}}}), {x},
         {F32({-0.25124997f, -0.21625f, 0.49750003f}, {3})}),
      Ok("ReduceMean axes=[] keepdims=1", "ReduceMean", 11, Attrs({{"keepdims", int64_t{1}}}), {x},
         {F32({0.010000013f}, {1, 1, 1})}),
      Ok("ReduceMean axes=[-1] keepdims=0", "ReduceMean", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{-1}}}), {x},
         {F32({0.027500004f, 0.13499999f, 0.50250006f, -0.53f, -0.5675f, 0.4925f}, {2, 3})}),
      Ok("ReduceProd axes=[1] keepdims=1", "ReduceProd", 11,
         Attrs({{"keepdims", int64_t{1}}, {"axes", Ints{1}}}), {x},
         {F32({10.132821f, 0.19319999f, -0.003996f, -6.2677164f, 0.73272f, 2.0358f, 5.3286657f,
               -2.03319f},
              {2, 1, 4})}),
      Ok("ReduceProd axes=[0,2] keepdims=0", "ReduceProd", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{0, 2}}}), {x},
         {F32({-12.201691f, 0.062461708f, 1.0396999f}, {3})}),
      Ok("ReduceProd axes=[] keepdims=1", "ReduceProd", 11, Attrs({{"keepdims", int64_t{1}}}), {x},
         {F32({-0.7923953f}, {1, 1, 1})}),
      Ok("ReduceProd axes=[-1] keepdims=0", "ReduceProd", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{-1}}}), {x},
         {F32({2.1156778f, -0.01696457f, -1.3660921f, -5.767273f, -3.681892f, -0.76107603f},
              {2, 3})}),
      Ok("ReduceMax axes=[1] keepdims=1", "ReduceMax", 11,
         Attrs({{"keepdims", int64_t{1}}, {"axes", Ints{1}}}), {x},
         {F32({2.87f, 1.68f, 1.08f, 1.82f, 0.6f, 2.7f, 2.59f, 2.46f}, {2, 1, 4})}),
      Ok("ReduceMax axes=[0,2] keepdims=0", "ReduceMax", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{0, 2}}}), {x},
         {F32({2.46f, 2.87f, 2.7f}, {3})}),
      Ok("ReduceMax axes=[] keepdims=1", "ReduceMax", 11, Attrs({{"keepdims", int64_t{1}}}), {x},
         {F32({2.87f}, {1, 1, 1})}),
      Ok("ReduceMax axes=[-1] keepdims=0", "ReduceMax", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{-1}}}), {x},
         {F32({1.68f, 2.87f, 1.82f, 2.46f, 2.59f, 2.7f}, {2, 3})}),
      Ok("ReduceMin axes=[1] keepdims=1", "ReduceMin", 11,
         Attrs({{"keepdims", int64_t{1}}, {"axes", Ints{1}}}), {x},
         {F32({-2.54f, 0.23f, -0.37f, -2.57f, -1.72f, -2.6f, -1.62f, -2.85f}, {2, 1, 4})}),
      Ok("ReduceMin axes=[0,2] keepdims=0", "ReduceMin", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{0, 2}}}), {x},
         {F32({-2.6f, -2.85f, -1.62f}, {3})}),
      Ok("ReduceMin axes=[] keepdims=1", "ReduceMin", 11, Attrs({{"keepdims", int64_t{1}}}), {x},
         {F32({-2.85f}, {1, 1, 1})}),
      Ok("ReduceMin axes=[-1] keepdims=0", "ReduceMin", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{-1}}}), {x},
         {F32({-2.54f, -2.57f, -1.39f, -2.6f, -2.85f, -1.62f}, {2, 3})}),
      Ok("ReduceL1 axes=[1] keepdims=1", "ReduceL1", 11,
         Attrs({{"keepdims", int64_t{1}}, {"axes", Ints{1}}}), {x},
         {F32({6.7999997f, 2.4099998f, 1.46f, 5.73f, 3.03f, 5.59f, 5.48f, 5.6f}, {2, 1, 4})}),
      Ok("ReduceL1 axes=[0,2] keepdims=0", "ReduceL1", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{0, 2}}}), {x},
         {F32({12.97f, 13.13f, 10.0f}, {3})}),
      Ok("ReduceL1 axes=[] keepdims=1", "ReduceL1", 11, Attrs({{"keepdims", int64_t{1}}}), {x},
         {F32({36.1f}, {1, 1, 1})}),
      Ok("ReduceL1 axes=[-1] keepdims=0", "ReduceL1", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{-1}}}), {x},
         {F32({5.93f, 5.68f, 4.79f, 7.04f, 7.45f, 5.21f}, {2, 3})}),
      Ok("ReduceL2 axes=[1] keepdims=1", "ReduceL2", 11,
         Attrs({{"keepdims", int64_t{1}}, {"axes", Ints{1}}}), {x},
         {F32({4.076837f, 1.7678517f, 1.1416655f, 3.4224114f, 1.9551215f, 3.7595346f, 3.3083832f,
               3.7760031f},
              {2, 1, 4})}),
      Ok("ReduceL2 axes=[0,2] keepdims=0", "ReduceL2", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{0, 2}}}), {x},
         {F32({5.11225f, 5.724325f, 4.125458f}, {3})}),
      Ok("ReduceL2 axes=[] keepdims=1", "ReduceL2", 11, Attrs({{"keepdims", int64_t{1}}}), {x},
         {F32({8.713346f}, {1, 1, 1})}),
      Ok("ReduceL2 axes=[-1] keepdims=0", "ReduceL2", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{-1}}}), {x},
         {F32({3.347611f, 3.859378f, 2.580872f, 3.8637545f, 4.2276587f, 3.2184625f}, {2, 3})}),
      Ok("ReduceSumSquare axes=[1] keepdims=1", "ReduceSumSquare", 11,
         Attrs({{"keepdims", int64_t{1}}, {"axes", Ints{1}}}), {x},
         {F32({16.6206f, 3.1253f, 1.3034f, 11.7129f, 3.8225f, 14.1341f, 10.945399f, 14.2582f},
              {2, 1, 4})}),
      Ok("ReduceSumSquare axes=[0,2] keepdims=0", "ReduceSumSquare", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{0, 2}}}), {x},
         {F32({26.1351f, 32.7679f, 17.0194f}, {3})}),
      Ok("ReduceSumSquare axes=[] keepdims=1", "ReduceSumSquare", 11,
         Attrs({{"keepdims", int64_t{1}}}), {x}, {F32({75.9224f}, {1, 1, 1})}),
      Ok("ReduceSumSquare axes=[-1] keepdims=0", "ReduceSumSquare", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{-1}}}), {x},
         {F32({11.2065f, 14.894799f, 6.6609f, 14.928599f, 17.873098f, 10.3585005f}, {2, 3})}),
      Ok("ReduceLogSum axes=[1] keepdims=1", "ReduceLogSum", 11,
         Attrs({{"keepdims", int64_t{1}}, {"axes", Ints{1}}}), {x_pos},
         {F32({2.1162555f, 1.3635373f, 1.0851892f, 1.978239f, 1.5107219f, 1.9586853f, 1.9430488f,
               1.9600948f},
              {2, 1, 4})}),
      Ok("ReduceLogSum axes=[0,2] keepdims=0", "ReduceLogSum", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{0, 2}}}), {x_pos},
         {F32({2.8314471f, 2.8408313f, 2.6390574f}, {3})}),
      Ok("ReduceLogSum axes=[] keepdims=1", "ReduceLogSum", 11, Attrs({{"keepdims", int64_t{1}}}),
         {x_pos}, {F32({3.8732822f}, {1, 1, 1})}),
      Ok("ReduceLogSum axes=[-1] keepdims=0", "ReduceLogSum", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{-1}}}), {x_pos},
         {F32({2.070653f, 2.0386195f, 1.9154509f, 2.2016592f, 2.2460148f, 1.975469f}, {2, 3})}),
      Ok("ReduceLogSumExp axes=[1] keepdims=1", "ReduceLogSumExp", 11,
         Attrs({{"keepdims", int64_t{1}}, {"axes", Ints{1}}}), {x},
         {F32({2.888423f, 2.1129823f, 1.5358913f, 2.3093061f, 0.9134183f, 2.7538052f, 2.6252844f,
               2.5725422f},
              {2, 1, 4})}),
      Ok("ReduceLogSumExp axes=[0,2] keepdims=0", "ReduceLogSumExp", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{0, 2}}}), {x},
         {F32({3.1137714f, 3.535062f, 3.3758972f}, {3})}),
      Ok("ReduceLogSumExp axes=[] keepdims=1", "ReduceLogSumExp", 11,
         Attrs({{"keepdims", int64_t{1}}}), {x}, {F32({4.4549685f}, {1, 1, 1})}),
      Ok("ReduceLogSumExp axes=[-1] keepdims=0", "ReduceLogSumExp", 11,
         Attrs({{"keepdims", int64_t{0}}, {"axes", Ints{-1}}}), {x},
         {F32({2.2979946f, 2.994842f, 2.3991976f, 2.529845f, 2.661304f, 2.9034073f}, {2, 3})}),
      Ok("ReduceSum opset 13 axes input", "ReduceSum", 13, Attrs({{"keepdims", int64_t{0}}}),
         {x64, I64({0, 2}, {2})}, {F64({0.16000000000000003, 1.0399999999999998}, {2})}),
      Ok("ReduceSum opset 13 empty axes input reduces all", "ReduceSum", 13, {},
         {x64, I64({}, {0})}, {F64({1.1999999999999997}, {1, 1, 1})}),
      Ok("ReduceSum opset 13 absent axes input reduces all", "ReduceSum", 13,
         Attrs({{"keepdims", int64_t{0}}}), {x64}, {F64({1.1999999999999997}, {})}),
      Ok("ReduceSum opset 13 noop_with_empty_axes", "ReduceSum", 13,
         Attrs({{"noop_with_empty_axes", int64_t{1}}}), {x64, I64({}, {0})},
         {F64({2.45, -2.2, 0.14, 1.5, 1.01, -0.19, -1.77, -0.06, -0.77, -0.14, -0.8, 2.03},
              {3, 2, 2})}),
      Ok("ReduceMean opset 17 float64 negative axes", "ReduceMean", 17,
         Attrs({{"axes", Ints{-2, -1}}}), {x64},
         {F64({0.47250000000000003, -0.2525, 0.07999999999999996}, {3, 1, 1})}),
      Ok("ReduceLogSumExp float64 large values", "ReduceLogSumExp", 13,
         Attrs({{"axes", Ints{1}}, {"keepdims", int64_t{0}}}),
         {F64({1000.0, 1001.0, 999.0, -1000.0, -1002.0, -1001.0}, {2, 3})},
         {F64({1001.4076059644444, -999.5923940355556}, {2})}),
      Ok("ReduceSum int32", "ReduceSum", 11, Attrs({{"axes", Ints{1}}}), {x_i32},
         {I32({-2, 29}, {2, 1})}),
      Ok("ReduceMax int32", "ReduceMax", 11, Attrs({{"axes", Ints{1}}}), {x_i32},
         {I32({8, 16}, {2, 1})}),
      Ok("ReduceMin int32", "ReduceMin", 11, Attrs({{"axes", Ints{1}}}), {x_i32},
         {I32({-13, 1}, {2, 1})}),
      Ok("ReduceProd int32", "ReduceProd", 11, Attrs({{"axes", Ints{1}}}), {x_i32},
         {I32({-312, 192}, {2, 1})}),
      Ok("ReduceL1 int32", "ReduceL1", 11, Attrs({{"axes", Ints{1}}}), {x_i32},
         {I32({24, 29}, {2, 1})}),
      Ok("ReduceSumSquare int32", "ReduceSumSquare", 11, Attrs({{"axes", Ints{1}}}), {x_i32},
         {I32({242, 401}, {2, 1})}),
      Ok("ReduceMean int32 truncates", "ReduceMean", 11,
         Attrs({{"axes", Ints{1}}, {"keepdims", int64_t{0}}}), {I32({1, 2, -3, 2, 7, 7}, {3, 2})},
         {I32({1, 0, 7}, {3})}),
      Ok("ReduceSum int64 large", "ReduceSum", 13, Attrs({{"keepdims", int64_t{0}}}),
         {I64({3, -4, 1099511627776, 5}, {2, 2}), I64({0}, {1})}, {I64({1099511627779, 1}, {2})}),
      Ok("ReduceL2 int64", "ReduceL2", 11, Attrs({{"axes", Ints{1}}, {"keepdims", int64_t{0}}}),
         {I64({3, -4, 6, 8}, {2, 2})}, {I64({5, 10}, {2})}),
      Ok("ReduceMax uint8", "ReduceMax", 13, Attrs({{"axes", Ints{1}}, {"keepdims", int64_t{0}}}),
         {U8({3, 250, 7, 0, 1, 2}, {2, 3})}, {U8({250, 2}, {2})}),
      Ok("ReduceMin uint8 all", "ReduceMin", 13, Attrs({{"keepdims", int64_t{0}}}),
         {U8({3, 250, 7, 0, 1, 2}, {2, 3})}, {U8({0}, {})}),
      Ok("ReduceMean float16", "ReduceMean", 13,
         Attrs({{"axes", Ints{1}}, {"keepdims", int64_t{0}}}),
         {F16({1.5f, -2.0f, 0.25f, 4.0f, 8.0f, -0.5f}, {2, 3})},
         {F16({-0.08331299f, 3.8339844f}, {2})}, 0.001, 0.001),
      Ok("ReduceMax propagates NaN", "ReduceMax", 13,
         Attrs({{"axes", Ints{1}}, {"keepdims", int64_t{0}}}),
         {F32({1.0f, kNaN, 3.0f, 4.0f, 5.0f, 6.0f}, {2, 3})}, {F32({kNaN, 6.0f}, {2})}),
      Ok("ReduceMin propagates NaN", "ReduceMin", 13,
         Attrs({{"axes", Ints{0}}, {"keepdims", int64_t{0}}}),
         {F32({1.0f, kNaN, 3.0f, 4.0f, 5.0f, 6.0f}, {2, 3})}, {F32({1.0f, kNaN, 3.0f}, {3})}),
      Ok("ReduceSum over an empty axis", "ReduceSum", 11,
         Attrs({{"axes", Ints{1}}, {"keepdims", int64_t{0}}}), {F32({}, {2, 0})},
         {F32({0.0f, 0.0f}, {2})}),
      Ok("ReduceProd over an empty axis", "ReduceProd", 11,
         Attrs({{"axes", Ints{1}}, {"keepdims", int64_t{0}}}), {F32({}, {2, 0})},
         {F32({1.0f, 1.0f}, {2})}),
      Ok("ReduceMax over an empty axis", "ReduceMax", 11,
         Attrs({{"axes", Ints{1}}, {"keepdims", int64_t{0}}}), {F32({}, {2, 0})},
         {F32({-kInf, -kInf}, {2})}),
      Ok("ReduceSum keeps an empty kept axis", "ReduceSum", 11, Attrs({{"axes", Ints{1}}}),
         {F32({}, {0, 3})}, {F32({}, {0, 1})}),
      Ok("ReduceSum of a scalar", "ReduceSum", 11, {}, {F32({2.5f}, {})}, {F32({2.5f}, {})}),
      Ok("ReduceMean of size-1 axes", "ReduceMean", 11, Attrs({{"axes", Ints{0, 2}}}),
         {F32({1.5f, 2.5f}, {1, 2, 1})}, {F32({1.5f, 2.5f}, {1, 2, 1})}),
      Bad("ReduceSum axis out of range", "ReduceSum", 11, Attrs({{"axes", Ints{3}}}), {x},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("ReduceMean negative axis out of range", "ReduceMean", 13, Attrs({{"axes", Ints{-4}}}),
          {x}, absl::StatusCode::kInvalidArgument, 1),
      Bad("ReduceMax repeated axis", "ReduceMax", 13, Attrs({{"axes", Ints{1, -2}}}), {x},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("ReduceSum float axes input", "ReduceSum", 13, {}, {x, F32({1.0f}, {1})},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("ReduceSum 2-D axes input", "ReduceSum", 13, {}, {x, I64({1}, {1, 1})},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("ReduceSum axis on a scalar", "ReduceSum", 11, Attrs({{"axes", Ints{0}}}),
          {F32({1.0f}, {})}, absl::StatusCode::kInvalidArgument, 1),
      Bad("ReduceSum bool input has no kernel", "ReduceSum", 13, {},
          {Tensor::FromVector<bool>({true, false}, {2})}, absl::StatusCode::kNotFound, 1),
      Ok("ArgMax axis=0 keepdims=1 last=0", "ArgMax", 13,
         Attrs({{"axis", int64_t{0}}, {"keepdims", int64_t{1}}}), {x_arg},
         {I64({1, 1, 0, 1, 0, 0}, {1, 2, 3})}),
      Ok("ArgMax axis=2 keepdims=1 last=0", "ArgMax", 13,
         Attrs({{"axis", int64_t{2}}, {"keepdims", int64_t{1}}}), {x_arg},
         {I64({0, 1, 0, 0}, {2, 2, 1})}),
      Ok("ArgMax axis=2 keepdims=0 last=1", "ArgMax", 13,
         Attrs({{"axis", int64_t{2}}, {"keepdims", int64_t{0}}, {"select_last_index", int64_t{1}}}),
         {x_arg}, {I64({2, 2, 1, 2}, {2, 2})}),
      Ok("ArgMax axis=-1 keepdims=1 last=1", "ArgMax", 13,
         Attrs(
             {{"axis", int64_t{-1}}, {"keepdims", int64_t{1}}, {"select_last_index", int64_t{1}}}),
         {x_arg}, {I64({2, 2, 1, 2}, {2, 2, 1})}),
      Ok("ArgMax axis=1 keepdims=0 last=0", "ArgMax", 13,
         Attrs({{"axis", int64_t{1}}, {"keepdims", int64_t{0}}}), {x_arg},
         {I64({0, 1, 1, 0, 0, 1}, {2, 3})}),
      Ok("ArgMin axis=0 keepdims=1 last=0", "ArgMin", 13,
         Attrs({{"axis", int64_t{0}}, {"keepdims", int64_t{1}}}), {x_arg},
         {I64({0, 0, 1, 0, 1, 1}, {1, 2, 3})}),
      Ok("ArgMin axis=2 keepdims=1 last=0", "ArgMin", 13,
         Attrs({{"axis", int64_t{2}}, {"keepdims", int64_t{1}}}), {x_arg},
         {I64({1, 0, 2, 1}, {2, 2, 1})}),
      Ok("ArgMin axis=2 keepdims=0 last=1", "ArgMin", 13,
         Attrs({{"axis", int64_t{2}}, {"keepdims", int64_t{0}}, {"select_last_index", int64_t{1}}}),
         {x_arg}, {I64({1, 0, 2, 1}, {2, 2})}),
      Ok("ArgMin axis=-1 keepdims=1 last=1", "ArgMin", 13,
         Attrs(
             {{"axis", int64_t{-1}}, {"keepdims", int64_t{1}}, {"select_last_index", int64_t{1}}}),
         {x_arg}, {I64({1, 0, 2, 1}, {2, 2, 1})}),
      Ok("ArgMin axis=1 keepdims=0 last=0", "ArgMin", 13,
         Attrs({{"axis", int64_t{1}}, {"keepdims", int64_t{0}}}), {x_arg},
         {I64({1, 0, 0, 1, 1, 0}, {2, 3})}),
      Ok("ArgMax int32 default axis", "ArgMax", 11, {},
         {I32({-2, -4, -2, -4, -2, -1, -2, -4, 4, 0, 4, -4}, {3, 4})}, {I64({2, 2, 2, 0}, {1, 4})}),
      Ok("ArgMin int64 select_last_index", "ArgMin", 12,
         Attrs({{"axis", int64_t{1}}, {"select_last_index", int64_t{1}}}),
         {I64({1, 0, 0, 5, 5, 9}, {2, 3})}, {I64({2, 1}, {2, 1})}),
      Ok("ArgMax NaN wins like numpy", "ArgMax", 13,
         Attrs({{"axis", int64_t{1}}, {"keepdims", int64_t{0}}}),
         {F32({1.0f, kNaN, 3.0f, 4.0f, 5.0f, 6.0f}, {2, 3})}, {I64({1, 2}, {2})}),
      Bad("ArgMax axis out of range", "ArgMax", 13, Attrs({{"axis", int64_t{3}}}), {x_arg},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("ArgMin over an empty axis", "ArgMin", 13, Attrs({{"axis", int64_t{1}}}),
          {F32({}, {2, 0})}, absl::StatusCode::kInvalidArgument, 1),
      Bad("ArgMax of a scalar", "ArgMax", 13, {}, {F32({1.0f}, {})},
          absl::StatusCode::kInvalidArgument, 1),
      Ok("Softmax opset 13 default axis", "Softmax", 13, {}, {x_soft},
         {F32({0.54795384f,  0.08033385f,  0.082780376f, 0.2889319f,   0.6094649f,    0.31816858f,
               0.026644463f, 0.04572208f,  0.1514713f,   0.049918726f, 0.13982563f,   0.65878433f,
               0.5844637f,   0.013339034f, 0.061602022f, 0.34059522f,  0.0052275443f, 0.41735685f,
               0.37016237f,  0.20725326f,  0.09334741f,  0.85948044f,  0.012137842f,  0.035034318f},
              {2, 3, 4})}),
      Ok("Softmax opset 13 axis 1", "Softmax", 13, Attrs({{"axis", int64_t{1}}}), {x_soft},
         {F32(
             {0.47692195f,   0.26179945f,   0.16310096f,  0.12723704f, 0.1286831f,    0.25153416f,
              0.0127351945f, 0.0048844256f, 0.39439493f,  0.48666638f, 0.82416385f,   0.86787856f,
              0.7414478f,    0.0028428817f, 0.021298952f, 0.17244227f, 0.050330173f,  0.67507124f,
              0.9713219f,    0.79636884f,   0.20822199f,  0.3220859f,  0.0073791454f, 0.031188909f},
             {2, 3, 4})}),
      Ok("Softmax opset 11 default axis flattens at 1", "Softmax", 11, {}, {x_soft},
         {F32({0.12941302f,  0.01897285f,   0.019550659f,  0.068238504f,  0.03491823f,
               0.018228915f, 0.0015265481f, 0.0026195669f, 0.107019275f,  0.035269164f,
               0.09879124f,  0.46545202f,   0.05648227f,   0.0012890773f, 0.0059531876f,
               0.032914944f, 0.0038340695f, 0.30610457f,   0.27149042f,   0.15200701f,
               0.015862007f, 0.14604674f,   0.0020625163f, 0.0059531876f},
              {2, 3, 4})}),
      Ok("Softmax opset 11 axis 0 flattens everything", "Softmax", 11,
         Attrs({{"axis", int64_t{0}}}), {x_soft},
         {F32({0.049496453f, 0.007256524f,   0.0074775186f, 0.026099104f,   0.013355135f,
               0.006971992f, 0.00058385707f, 0.0010019027f, 0.04093154f,    0.013489357f,
               0.037784573f, 0.17802091f,    0.03487956f,   0.00079604535f, 0.0036762787f,
               0.020326003f, 0.0023676571f,  0.1890291f,    0.16765378f,    0.09386907f,
               0.009795283f, 0.090188414f,   0.001273668f,  0.0036762787f},
              {2, 3, 4})}),
      Ok("Softmax opset 11 axis -1", "Softmax", 11, Attrs({{"axis", int64_t{-1}}}), {x_soft},
         {F32({0.54795384f,  0.08033385f,  0.082780376f, 0.2889319f,   0.6094649f,    0.31816858f,
               0.026644463f, 0.04572208f,  0.1514713f,   0.049918726f, 0.13982563f,   0.65878433f,
               0.5844637f,   0.013339034f, 0.061602022f, 0.34059522f,  0.0052275443f, 0.41735685f,
               0.37016237f,  0.20725326f,  0.09334741f,  0.85948044f,  0.012137842f,  0.035034318f},
              {2, 3, 4})}),
      Ok("Softmax float64 large values", "Softmax", 13, {}, {x_big},
         {F64({0.03205860328008498, 0.08714431874203256, 0.23688281808991016, 0.6439142598879724,
               0.0, 0.0, 0.5, 0.5},
              {2, 4})}),
      Bad("Softmax axis out of range", "Softmax", 13, Attrs({{"axis", int64_t{3}}}), {x_soft},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("Softmax int32 input has no kernel", "Softmax", 13, {}, {I32({1, 2}, {2})},
          absl::StatusCode::kNotFound, 1),
      Ok("LogSoftmax opset 13 default axis", "LogSoftmax", 13, {}, {x_soft},
         {F32({-0.60156417f, -2.5215642f, -2.4915643f, -1.2415643f,  -0.49517393f, -1.1451739f,
               -3.625174f,   -3.085174f,  -1.887359f,  -2.997359f,   -1.9673591f,  -0.41735905f,
               -0.53706056f, -4.3170605f, -2.7870605f, -1.0770606f,  -5.2538137f,  -0.8738137f,
               -0.9938136f,  -1.5738138f, -2.371427f,  -0.15142722f, -4.411427f,   -3.351427f},
              {2, 3, 4})}),
      Ok("LogSoftmax opset 13 axis 1", "LogSoftmax", 13, Attrs({{"axis", int64_t{1}}}), {x_soft},
         {F32({-0.7404024f,   -1.3401765f,  -1.8133858f,  -2.0617034f,  -2.0504024f,  -1.3801764f,
               -4.3633857f,   -5.3217034f,  -0.93040246f, -0.72017646f, -0.19338593f, -0.1417035f,
               -0.29915047f,  -5.862937f,   -3.8490975f,  -1.7576928f,  -2.9891505f,  -0.39293706f,
               -0.029097348f, -0.22769286f, -1.5691504f,  -1.1329371f,  -4.9090977f,  -3.4676929f},
              {2, 3, 4})}),
      Ok("LogSoftmax opset 11 default axis flattens at 1", "LogSoftmax", 11, {}, {x_soft},
         {F32({-2.0447462f, -3.9647462f, -3.9347463f, -2.6847463f, -3.3547463f, -4.0047464f,
               -6.4847465f, -5.9447465f, -2.2347462f, -3.3447464f, -2.3147464f, -0.76474625f,
               -2.8738284f, -6.6538286f, -5.1238284f, -3.4138286f, -5.5638285f, -1.1838286f,
               -1.3038285f, -1.8838286f, -4.1438284f, -1.9238286f, -6.1838284f, -5.1238284f},
              {2, 3, 4})}),
      Ok("LogSoftmax opset 11 axis 0 flattens everything", "LogSoftmax", 11,
         Attrs({{"axis", int64_t{0}}}), {x_soft},
         {F32({-3.0058544f, -4.925854f,  -4.8958545f, -3.6458542f, -4.315854f,  -4.965854f,
               -7.445854f,  -6.905854f,  -3.1958544f, -4.3058543f, -3.2758543f, -1.7258543f,
               -3.3558543f, -7.1358542f, -5.6058545f, -3.8958542f, -6.0458546f, -1.6658543f,
               -1.7858542f, -2.3658545f, -4.6258545f, -2.4058545f, -6.6658545f, -5.6058545f},
              {2, 3, 4})}),
      Ok("LogSoftmax opset 11 axis -1", "LogSoftmax", 11, Attrs({{"axis", int64_t{-1}}}), {x_soft},
         {F32({-0.60156417f, -2.5215642f, -2.4915643f, -1.2415643f,  -0.49517393f, -1.1451739f,
               -3.625174f,   -3.085174f,  -1.887359f,  -2.997359f,   -1.9673591f,  -0.41735905f,
               -0.53706056f, -4.3170605f, -2.7870605f, -1.0770606f,  -5.2538137f,  -0.8738137f,
               -0.9938136f,  -1.5738138f, -2.371427f,  -0.15142722f, -4.411427f,   -3.351427f},
              {2, 3, 4})}),
      Ok("LogSoftmax float64 large values", "LogSoftmax", 13, {}, {x_big},
         {F64({-3.4401896985611953, -2.4401896985611953, -1.4401896985611953, -0.44018969856119533,
               -2000.69314718056, -1000.6931471805599, -0.6931471805599453, -0.6931471805599453},
              {2, 4})}),
      Bad("LogSoftmax axis out of range", "LogSoftmax", 13, Attrs({{"axis", int64_t{3}}}), {x_soft},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("LogSoftmax int32 input has no kernel", "LogSoftmax", 13, {}, {I32({1, 2}, {2})},
          absl::StatusCode::kNotFound, 1),
      Ok("Hardmax opset 13 default axis", "Hardmax", 13, {}, {x_soft},
         {F32({1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f,
               1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f},
              {2, 3, 4})}),
      Ok("Hardmax opset 13 axis 1", "Hardmax", 13, Attrs({{"axis", int64_t{1}}}), {x_soft},
         {F32({1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f,
               1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f},
              {2, 3, 4})}),
      Ok("Hardmax opset 11 default axis flattens at 1", "Hardmax", 11, {}, {x_soft},
         {F32({0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f},
              {2, 3, 4})}),
      Ok("Hardmax opset 11 axis 0 flattens everything", "Hardmax", 11,
         Attrs({{"axis", int64_t{0}}}), {x_soft},
         {F32({0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f},
              {2, 3, 4})}),
      Ok("Hardmax opset 11 axis -1", "Hardmax", 11, Attrs({{"axis", int64_t{-1}}}), {x_soft},
         {F32({1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f,
               1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f},
              {2, 3, 4})}),
      Ok("Hardmax float64 large values", "Hardmax", 13, {}, {x_big},
         {F64({0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0}, {2, 4})}),
      Bad("Hardmax axis out of range", "Hardmax", 13, Attrs({{"axis", int64_t{3}}}), {x_soft},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("Hardmax int32 input has no kernel", "Hardmax", 13, {}, {I32({1, 2}, {2})},
          absl::StatusCode::kNotFound, 1),
      Ok("Hardmax ties pick the first", "Hardmax", 13, {},
         {F32({3.0f, 3.0f, 1.0f, 3.0f, 0.0f, 0.0f, 0.0f, 0.0f}, {2, 4})},
         {F32({1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f}, {2, 4})}),
      Ok("Softmax float16", "Softmax", 13, {}, {F16({0.5f, 1.0f, -1.0f}, {1, 3})},
         {F16({0.34814453f, 0.57421875f, 0.077697754f}, {1, 3})}, 0.001, 0.001),
      Ok("Softmax of a -inf entry", "Softmax", 13, {}, {F32({-kInf, 0.0f, 0.0f}, {1, 3})},
         {F32({0.0f, 0.5f, 0.5f}, {1, 3})}),
      Ok("CumSum 1-D exclusive=0 reverse=0", "CumSum", 14, {}, {x_cum, I32({0}, {})},
         {F32({1.0f, 3.0f, 6.0f, 10.0f, 15.0f}, {5})}),
      Ok("CumSum 1-D exclusive=0 reverse=1", "CumSum", 14, Attrs({{"reverse", int64_t{1}}}),
         {x_cum, I32({0}, {})}, {F32({15.0f, 14.0f, 12.0f, 9.0f, 5.0f}, {5})}),
      Ok("CumSum 1-D exclusive=1 reverse=0", "CumSum", 14, Attrs({{"exclusive", int64_t{1}}}),
         {x_cum, I32({0}, {})}, {F32({0.0f, 1.0f, 3.0f, 6.0f, 10.0f}, {5})}),
      Ok("CumSum 1-D exclusive=1 reverse=1", "CumSum", 14,
         Attrs({{"exclusive", int64_t{1}}, {"reverse", int64_t{1}}}), {x_cum, I32({0}, {})},
         {F32({14.0f, 12.0f, 9.0f, 5.0f, 0.0f}, {5})}),
      Ok("CumSum int32 axis 1 reverse exclusive", "CumSum", 11,
         Attrs({{"exclusive", int64_t{1}}, {"reverse", int64_t{1}}}),
         {I32({-1, -3, -3, 3, -2, 8, 1, 6, -4, -5, 0, 0}, {2, 3, 2}), I64({1}, {1})},
         {I32({-5, 11, -2, 8, 0, 0, -4, -5, 0, 0, 0, 0}, {2, 3, 2})}),
      Ok("CumSum float64 axis -1 int64 axis", "CumSum", 14, {},
         {F64({-1.45, 0.12, 2.21, -0.24, -2.34, 1.79}, {2, 3}), I64({-1}, {})},
         {F64({-1.45, -1.33, 0.8799999999999999, -0.24, -2.58, -0.79}, {2, 3})}),
      Ok("CumSum int64 axis 0", "CumSum", 14, {}, {I64({1, 2, 3, 4, 5, 6}, {3, 2}), I32({0}, {})},
         {I64({1, 2, 4, 6, 9, 12}, {3, 2})}),
      Bad("CumSum axis out of range", "CumSum", 14, {}, {x_cum, I32({1}, {})},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("CumSum axis with two elements", "CumSum", 14, {}, {x_cum, I32({0, 0}, {2})},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("CumSum float axis", "CumSum", 14, {}, {x_cum, F32({0.0f}, {})},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("CumSum of a scalar", "CumSum", 14, {}, {F32({1.0f}, {}), I32({0}, {})},
          absl::StatusCode::kInvalidArgument, 1),
      Ok("TopK k=3 axis=1 largest=1", "TopK", 11, Attrs({{"axis", int64_t{1}}}),
         {x_top, I64({3}, {1})},
         {F32({9.0f, 5.0f, 5.0f, 8.0f, 2.0f, 2.0f, 7.0f, 7.0f, 7.0f}, {3, 3}),
          I64({4, 0, 2, 2, 0, 1, 1, 2, 4}, {3, 3})}),
      Ok("TopK k=2 axis=-1 largest=0", "TopK", 11,
         Attrs({{"axis", int64_t{-1}}, {"largest", int64_t{0}}}), {x_top, I64({2}, {1})},
         {F32({1.0f, 3.0f, 0.0f, 2.0f, 1.0f, 4.0f}, {3, 2}), I64({1, 3, 4, 0, 3, 0}, {3, 2})}),
      Ok("TopK k=2 axis=0 largest=1", "TopK", 11, Attrs({{"axis", int64_t{0}}}),
         {x_top, I64({2}, {1})},
         {F32({5.0f, 7.0f, 8.0f, 3.0f, 9.0f, 4.0f, 2.0f, 7.0f, 2.0f, 7.0f}, {2, 5}),
          I64({0, 2, 1, 0, 0, 2, 1, 2, 1, 2}, {2, 5})}),
      Ok("TopK k=3 axis=0 largest=0", "TopK", 11,
         Attrs({{"axis", int64_t{0}}, {"largest", int64_t{0}}}), {x_top, I64({3}, {1})},
         {F32({2.0f, 1.0f, 5.0f, 1.0f, 0.0f, 4.0f, 2.0f, 7.0f, 2.0f, 7.0f, 5.0f, 7.0f, 8.0f, 3.0f,
               9.0f},
              {3, 5}),
          I64({1, 0, 0, 2, 1, 2, 1, 2, 1, 2, 0, 2, 1, 0, 0}, {3, 5})}),
      Ok("TopK k=0 axis=1 largest=1", "TopK", 11, Attrs({{"axis", int64_t{1}}}),
         {x_top, I64({0}, {1})}, {F32({}, {3, 0}), I64({}, {3, 0})}),
      Ok("TopK k=5 axis=1 largest=1", "TopK", 11, Attrs({{"axis", int64_t{1}}}),
         {x_top, I64({5}, {1})},
         {F32({9.0f, 5.0f, 5.0f, 3.0f, 1.0f, 8.0f, 2.0f, 2.0f, 2.0f, 0.0f, 7.0f, 7.0f, 7.0f, 4.0f,
               1.0f},
              {3, 5}),
          I64({4, 0, 2, 3, 1, 2, 0, 1, 3, 4, 1, 2, 4, 0, 3}, {3, 5})}),
      Ok("TopK opset 1 k attribute", "TopK", 1, Attrs({{"k", int64_t{2}}}), {x_top},
         {F32({9.0f, 5.0f, 8.0f, 2.0f, 7.0f, 7.0f}, {3, 2}), I64({4, 0, 2, 0, 1, 2}, {3, 2})}),
      Ok("TopK opset 10 k input", "TopK", 10, Attrs({{"axis", int64_t{0}}}), {x_top, I64({1}, {1})},
         {F32({5.0f, 7.0f, 8.0f, 3.0f, 9.0f}, {1, 5}), I64({0, 2, 1, 0, 0}, {1, 5})}),
      Ok("TopK int64 smallest", "TopK", 11, Attrs({{"largest", int64_t{0}}}),
         {I64({3, -1, 3, 10, -7, -7, 2, 0}, {2, 4}), I64({3}, {1})},
         {I64({-1, 3, 3, -7, -7, 0}, {2, 3}), I64({1, 0, 2, 0, 1, 3}, {2, 3})}),
      Ok("TopK NaN counts as largest", "TopK", 11, {},
         {F32({1.0f, kNaN, 3.0f}, {3}), I64({2}, {1})}, {F32({kNaN, 3.0f}, {2}), I64({1, 2}, {2})}),
      Bad("TopK k larger than the axis", "TopK", 11, {}, {x_top, I64({6}, {1})},
          absl::StatusCode::kInvalidArgument, 2),
      Bad("TopK negative k", "TopK", 11, {}, {x_top, I64({-1}, {1})},
          absl::StatusCode::kInvalidArgument, 2),
      Bad("TopK k with two elements", "TopK", 11, {}, {x_top, I64({1, 2}, {2})},
          absl::StatusCode::kInvalidArgument, 2),
      Bad("TopK axis out of range", "TopK", 11, Attrs({{"axis", int64_t{2}}}),
          {x_top, I64({1}, {1})}, absl::StatusCode::kInvalidArgument, 2),
      Bad("TopK missing k input", "TopK", 11, {}, {x_top}, absl::StatusCode::kInvalidArgument, 2),
      Ok("Einsum ij,jk->ik", "Einsum", 12, Attrs({{"equation", std::string("ij,jk->ik")}}), {a, b},
         {F32({-4.0858f, -3.4534001f, 4.5023003f, 3.2742999f, -2.1722f, -0.3796001f, -0.6383f,
               -0.20729993f},
              {2, 4})}),
      Ok("Einsum ij,jk", "Einsum", 12, Attrs({{"equation", std::string("ij,jk")}}), {a, b},
         {F32({-4.0858f, -3.4534001f, 4.5023003f, 3.2742999f, -2.1722f, -0.3796001f, -0.6383f,
               -0.20729993f},
              {2, 4})}),
      Ok("Einsum bij,bjk->bik", "Einsum", 12, Attrs({{"equation", std::string("bij,bjk->bik")}}),
         {bt, bu},
         {F32({3.7167997f, -0.5112f, -2.6186f, 0.47550002f, 4.0573f, 1.7389001f, -7.7465005f,
               0.5317f},
              {2, 2, 2})}),
      Ok("Einsum ii", "Einsum", 12, Attrs({{"equation", std::string("ii")}}), {sq},
         {F32({1.15f}, {})}),
      Ok("Einsum ii->i", "Einsum", 12, Attrs({{"equation", std::string("ii->i")}}), {sq},
         {F32({-2.01f, 1.23f, 1.93f}, {3})}),
      Ok("Einsum ji", "Einsum", 12, Attrs({{"equation", std::string("ji")}}), {a},
         {F32({-0.01f, -1.39f, -1.82f, -1.58f, 2.26f, -0.76f}, {3, 2})}),
      Ok("Einsum ij->ji", "Einsum", 12, Attrs({{"equation", std::string("ij->ji")}}), {a},
         {F32({-0.01f, -1.39f, -1.82f, -1.58f, 2.26f, -0.76f}, {3, 2})}),
      Ok("Einsum ij->", "Einsum", 12, Attrs({{"equation", std::string("ij->")}}), {a},
         {F32({-3.3000002f}, {})}),
      Ok("Einsum i,j->ij", "Einsum", 12, Attrs({{"equation", std::string("i,j->ij")}}), {v3, w4},
         {F32({4.0176f, 3.5154002f, -0.9882f, 0.4536f, -2.2319999f, -1.9530001f, 0.549f, -0.252f,
               -4.6376f, -4.0579f, 1.1407f, -0.5236f},
              {3, 4})}),
      Ok("Einsum i,i", "Einsum", 12, Attrs({{"equation", std::string("i,i")}}), {v3, v3},
         {F32({6.9313f}, {})}),
      Ok("Einsum ...ii->...i", "Einsum", 12, Attrs({{"equation", std::string("...ii->...i")}}),
         {sq_batch}, {F32({0.83f, 0.11f, -1.71f, -2.93f, 0.31f, -2.36f}, {2, 3})}),
      Ok("Einsum ...ij->...ji", "Einsum", 12, Attrs({{"equation", std::string("...ij->...ji")}}),
         {sq_batch},
         {F32({0.83f, 3.0f, -2.41f, 2.18f, 0.11f, 0.4f, 0.82f, -1.03f, -1.71f, -2.93f, 2.86f,
               -0.96f, -1.2f, 0.31f, -1.54f, -2.77f, -2.57f, -2.36f},
              {2, 3, 3})}),
      Ok("Einsum ...ij,...jk->...ik", "Einsum", 12,
         Attrs({{"equation", std::string("...ij,...jk->...ik")}}), {e1, e2},
         {F32({-5.8108f,     5.7311997f,   -6.8409996f, 5.5868f,     0.17280017f, -2.7892003f,
               -0.06080012f, -4.038f,      -4.44f,      -1.839f,     -6.7778f,    -0.37920028f,
               -2.9385998f,  -1.723f,      -3.7666001f, -0.5439999f, -4.7778997f, 5.5372f,
               3.6007f,      -0.36580002f, 2.3378f,     -2.4116f,    -2.0452f,    4.6668f,
               1.3708999f,   -3.9009f,     1.8084999f,  -2.2775f,    0.15200001f, -5.6695f,
               -0.45360002f, 1.2345f},
              {2, 4, 2, 2})}),
      Ok("Einsum ij,jk,kl->il", "Einsum", 12, Attrs({{"equation", std::string("ij,jk,kl->il")}}),
         {a, b, c}, {F32({2.4013872f, 18.373829f, 6.714633f, -4.709118f}, {2, 2})}),
      Ok("Einsum Ab,bC", "Einsum", 12, Attrs({{"equation", std::string("Ab,bC")}}), {a, b},
         {F32({-4.0858f, -3.4534001f, 4.5023003f, 3.2742999f, -2.1722f, -0.3796001f, -0.6383f,
               -0.20729993f},
              {2, 4})}),
      Ok("Einsum b...", "Einsum", 12, Attrs({{"equation", std::string("b...")}}), {sq_batch},
         {F32({0.83f, -2.93f, 2.18f, -1.2f, 0.82f, -2.77f, 3.0f, 2.86f, 0.11f, 0.31f, -1.03f,
               -2.57f, -2.41f, -0.96f, 0.4f, -1.54f, -1.71f, -2.36f},
              {3, 3, 2})}),
      Ok("Einsum bii->bi", "Einsum", 12, Attrs({{"equation", std::string("bii->bi")}}), {sq_batch},
         {F32({0.83f, 0.11f, -1.71f, -2.93f, 0.31f, -2.36f}, {2, 3})}),
      Ok("Einsum i j , j k -> i k", "Einsum", 12,
         Attrs({{"equation", std::string("i j , j k -> i k")}}), {a, b},
         {F32({-4.0858f, -3.4534001f, 4.5023003f, 3.2742999f, -2.1722f, -0.3796001f, -0.6383f,
               -0.20729993f},
              {2, 4})}),
      Ok("Einsum float64 batch matmul", "Einsum", 12,
         Attrs({{"equation", std::string("bij,bjk->bik")}}),
         {F64({-0.5799999833106995, 0.5199999809265137, -1.8799999952316284, 1.8700000047683716,
               0.49000000953674316, -0.3199999928474426, 1.7899999618530273, 0.27000001072883606,
               -0.49000000953674316, -2.890000104904175, 1.100000023841858, -0.07000000029802322},
              {2, 2, 3}),
          F64({-1.6799999475479126, 0.30000001192092896, 0.14000000059604645, -0.07000000029802322,
               -1.4199999570846558, 0.1599999964237213, 2.9100000858306885, 0.7400000095367432,
               0.7799999713897705, 2.4600000381469727, 2.7799999713897705, 0.5099999904632568},
              {2, 3, 2})},
         {F64({3.7167998517274867, -0.5111999932408331, -2.618599932187795, 0.4755000251978636,
               4.057300030779835, 1.738900025343895, -7.74650056502224, 0.5316999959379434},
              {2, 2, 2})}),
      Ok("Einsum int32 matmul", "Einsum", 12, Attrs({{"equation", std::string("ij,jk->ik")}}),
         {I32({2, -5, 0, 3, 4, 2}, {2, 3}), I32({2, 1, -3, 0, 1, -4}, {3, 2})},
         {I32({19, 2, -4, -5}, {2, 2})}),
      Ok("Einsum broadcasts a size-1 label", "Einsum", 12,
         Attrs({{"equation", std::string("ij,ij->ij")}}), {F32({-0.01f, -1.82f, 2.26f}, {1, 3}), a},
         {F32({1.0e-04f, 3.3124f, 5.1075997f, 0.0139f, 2.8756f, -1.7176f}, {2, 3})}),
      Ok("Einsum with an empty contracted axis", "Einsum", 12,
         Attrs({{"equation", std::string("ij,jk->ik")}}), {F32({}, {2, 0}), F32({}, {0, 3})},
         {F32({0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}, {2, 3})}),
      Bad("Einsum label count does not match rank", "Einsum", 12,
          Attrs({{"equation", std::string("ijk->i")}}), {a}, absl::StatusCode::kInvalidArgument, 1),
      Bad("Einsum sizes do not match", "Einsum", 12,
          Attrs({{"equation", std::string("ij,jk->ik")}}), {a, a},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("Einsum invalid character", "Einsum", 12, Attrs({{"equation", std::string("i1,jk")}}),
          {a, b}, absl::StatusCode::kInvalidArgument, 1),
      Bad("Einsum output label not in inputs", "Einsum", 12,
          Attrs({{"equation", std::string("ij->iz")}}), {a}, absl::StatusCode::kInvalidArgument, 1),
      Bad("Einsum repeated output label", "Einsum", 12,
          Attrs({{"equation", std::string("ij->ii")}}), {a}, absl::StatusCode::kInvalidArgument, 1),
      Bad("Einsum wrong number of operands", "Einsum", 12,
          Attrs({{"equation", std::string("ij,jk->ik")}}), {a}, absl::StatusCode::kInvalidArgument,
          1),
      Bad("Einsum bad ellipsis", "Einsum", 12, Attrs({{"equation", std::string("..ij->ij")}}), {a},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("Einsum broadcast dims missing from output", "Einsum", 12,
          Attrs({{"equation", std::string("...ij->ij")}}), {sq_batch},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("Einsum mixed dtypes", "Einsum", 12, Attrs({{"equation", std::string("ij,jk->ik")}}),
          {a,
           F64({-0.6800000071525574, -1.600000023841858, -1.9500000476837158, -0.6100000143051147,
                2.049999952316284, 1.7200000286102295, 0.8399999737739563, -0.019999999552965164,
                -0.1599999964237213, -0.15000000596046448, 2.6600000858306885, 1.4299999475479126},
               {3, 4})},
          absl::StatusCode::kInvalidArgument, 1),
      Ok("Det 2x2", "Det", 11, {}, {F32({1.57f, -1.87f, -1.15f, -1.52f}, {2, 2})},
         {F32({-4.5369f}, {})}, 1e-05, 1e-05),
      Ok("Det 3x3", "Det", 11, {},
         {F32({0.58f, -2.45f, 2.37f, -0.23f, -0.33f, -2.37f, 1.11f, 1.9f, 0.78f}, {3, 3})},
         {F32({8.300573f}, {})}, 1e-05, 1e-05),
      Ok("Det batched float64", "Det", 11, {},
         {F64({-1.55, 1.71, -2.13, 1.96, 0.48, -1.26, 0.08, 0.77, -1.45, 2.08, -0.47, 2.35, 2.01,
               -2.4, 0.88, -1.14, 1.52, 0.26},
              {2, 3, 3})},
         {F64({1.129638, -2.6128820000000013}, {2})}, 1e-09, 1e-09),
      Ok("Det needs a row swap", "Det", 11, {}, {F32({0.0f, 2.0f, 3.0f, 1.0f}, {2, 2})},
         {F32({-6.0f}, {})}),
      Ok("Det singular", "Det", 11, {}, {F32({1.0f, 2.0f, 2.0f, 4.0f}, {2, 2})}, {F32({0.0f}, {})}),
      Ok("Det of 0x0 matrices", "Det", 11, {}, {F32({}, {2, 0, 0})}, {F32({1.0f, 1.0f}, {2})}),
      Bad("Det non-square", "Det", 11, {}, {a}, absl::StatusCode::kInvalidArgument, 1),
      Bad("Det rank 1", "Det", 11, {}, {v3}, absl::StatusCode::kInvalidArgument, 1),
  };
}

TEST(ReduceOpsTest, Reductions) { EXPECT_GT(RunCases(ReduceCases(), "Reduce"), 0); }
TEST(ReduceOpsTest, ArgMaxArgMin) { EXPECT_GT(RunCases(ReduceCases(), "Arg"), 0); }
TEST(ReduceOpsTest, Softmax) { EXPECT_GT(RunCases(ReduceCases(), "Softmax"), 0); }
TEST(ReduceOpsTest, LogSoftmax) { EXPECT_GT(RunCases(ReduceCases(), "LogSoftmax"), 0); }
TEST(ReduceOpsTest, Hardmax) { EXPECT_GT(RunCases(ReduceCases(), "Hardmax"), 0); }
TEST(ReduceOpsTest, CumSum) { EXPECT_GT(RunCases(ReduceCases(), "CumSum"), 0); }
TEST(ReduceOpsTest, TopK) { EXPECT_GT(RunCases(ReduceCases(), "TopK"), 0); }
TEST(ReduceOpsTest, Einsum) { EXPECT_GT(RunCases(ReduceCases(), "Einsum"), 0); }
TEST(ReduceOpsTest, Det) { EXPECT_GT(RunCases(ReduceCases(), "Det"), 0); }

// Inference where a shape-like input is not a constant, or a dimension is unknown.
std::vector<TensorType> Infer(const std::string& op, int opset, AttributeMap attrs,
                              std::vector<TensorType> inputs, int num_outputs) {
  const OpSchema* schema = OpRegistry::Global().FindSchema("", op, opset);
  EXPECT_NE(schema, nullptr) << op;
  if (schema == nullptr) return {};
  const int n = static_cast<int>(inputs.size());
  EXPECT_TRUE(schema->Complete(n, num_outputs, attrs).ok()) << op;
  InferenceContext ctx(std::move(inputs), std::vector<const Tensor*>(n, nullptr), &attrs, opset,
                       num_outputs);
  const absl::Status status = schema->RunInference(ctx);
  EXPECT_TRUE(status.ok()) << status;
  return ctx.outputs();
}

TEST(ReduceOpsTest, InferenceWithUnknownValues) {
  const TensorType x{DType::kFloat32, Shape{2, 3, 4}};
  const TensorType axes{DType::kInt64, Shape{1}};
  auto out = Infer("ReduceSum", 13, {}, {x, axes}, 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].dtype, DType::kFloat32);
  EXPECT_EQ(out[0].shape, Shape({-1, -1, -1}));  // keepdims: the rank is known
  out = Infer("ReduceSum", 13, Attrs({{"keepdims", int64_t{0}}}), {x, axes}, 1);
  EXPECT_FALSE(out[0].shape.has_value());
  out = Infer("ReduceMean", 13, Attrs({{"axes", Ints{0, -1}}, {"keepdims", int64_t{0}}}),
              {TensorType{DType::kFloat64, Shape{-1, 3, 4}}}, 1);
  EXPECT_EQ(out[0].shape, Shape({3}));
  out = Infer("ArgMin", 13, Attrs({{"axis", int64_t{1}}, {"keepdims", int64_t{0}}}), {x}, 1);
  EXPECT_EQ(out[0].dtype, DType::kInt64);
  EXPECT_EQ(out[0].shape, Shape({2, 4}));
  out = Infer("TopK", 11, Attrs({{"axis", int64_t{1}}}), {x, axes}, 2);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].shape, Shape({2, -1, 4}));
  EXPECT_EQ(out[1].dtype, DType::kInt64);
  out = Infer(
      "Einsum", 12, Attrs({{"equation", std::string("...ij,jk->...ik")}}),
      {TensorType{DType::kFloat32, Shape{-1, 2, 3}}, TensorType{DType::kFloat32, Shape{3, 5}}}, 1);
  EXPECT_EQ(out[0].shape, Shape({-1, 2, 5}));
  out = Infer("Det", 11, {}, {TensorType{DType::kFloat32, Shape{7, 3, 3}}}, 1);
  EXPECT_EQ(out[0].shape, Shape({7}));
  out = Infer("Softmax", 13, {}, {TensorType{DType::kFloat32, std::nullopt}}, 1);
  EXPECT_EQ(out[0].dtype, DType::kFloat32);
  EXPECT_FALSE(out[0].shape.has_value());
}

// Each reduce op has one schema and a CPU kernel over its whole opset range.
TEST(ReduceOpsTest, RegisteredForEveryOpset) {
  const std::vector<std::pair<std::string, int>> ops = {{"ReduceMean", 1},
                                                        {"ReduceSum", 1},
                                                        {"ReduceMax", 1},
                                                        {"ReduceMin", 1},
                                                        {"ReduceProd", 1},
                                                        {"ReduceL1", 1},
                                                        {"ReduceL2", 1},
                                                        {"ReduceLogSum", 1},
                                                        {"ReduceLogSumExp", 1},
                                                        {"ReduceSumSquare", 1},
                                                        {"ArgMax", 1},
                                                        {"ArgMin", 1},
                                                        {"Softmax", 1},
                                                        {"LogSoftmax", 1},
                                                        {"Hardmax", 1},
                                                        {"CumSum", 11},
                                                        {"TopK", 1},
                                                        {"Einsum", 12},
                                                        {"Det", 11}};
  for (const auto& [op, since] : ops) {
    for (int opset = since; opset <= kMaxOpset; ++opset) {
      EXPECT_NE(OpRegistry::Global().FindSchema("", op, opset), nullptr) << op << " " << opset;
      EXPECT_NE(OpRegistry::Global().FindKernel(kCpuBackend, "", op, opset, DType::kFloat32),
                nullptr)
          << op << " " << opset;
    }
  }
}

// The losses (ops/loss.cc), on the same table. Expected values come from the numpy reference
// implementations that ship with onnx 1.12 (onnx/backend/test/case/node/
// negativeloglikelihoodloss.py and softmaxcrossentropy.py), not from this code.
std::vector<OpCase> LossCases() {
  const Tensor x_nc =
      F32({-0.25f, 2.37f, -2.66f, 0.34f, -1.03f, -2.79f, 1.52f, 0.37f, 2.36f, 0.59f, -0.98f, 2.91f},
          {3, 4});
  const Tensor t_nc = I64({0, 3, 1}, {3});
  const Tensor w4 = F32({0.5f, 1.0f, 2.0f, 1.5f}, {4});
  const Tensor x_ncd = F32(
      {-2.31f, -2.68f, 1.4f, -0.77f, -0.83f, 2.26f, -1.04f, 2.33f, 0.86f, -1.03f, -2.64f, -1.53f},
      {2, 3, 2});
  const Tensor t_ncd = I64({0, 2, 1, 1}, {2, 2});
  const Tensor x_ncdd = F32({2.81f,  -0.57f, -2.04f, -1.21f, 2.4f,   -2.01f, 1.67f,  -2.19f,
                             2.77f,  0.18f,  -2.74f, 2.59f,  -0.85f, 1.39f,  0.14f,  -2.44f,
                             -2.36f, -2.1f,  -2.03f, -2.68f, -2.72f, 2.69f,  -2.45f, 0.05f},
                            {2, 3, 2, 2});
  const Tensor t_ncdd = I64({0, 2, 1, 0, 2, 2, 1, -1}, {2, 2, 2});
  const Tensor w3 = F32({1.0f, 0.5f, 3.0f}, {3});
  return {
      Ok("NLL NC none", "NegativeLogLikelihoodLoss", 13,
         Attrs({{"reduction", std::string("none")}}), {x_nc, t_nc},
         {F32({0.25f, -0.37f, -0.59f}, {3})}),
      Ok("NLL NC weight none", "NegativeLogLikelihoodLoss", 13,
         Attrs({{"reduction", std::string("none")}}), {x_nc, t_nc, w4},
         {F32({0.125f, -0.555f, -0.59f}, {3})}),
      Ok("NLL NCd1 weight ignore_index none", "NegativeLogLikelihoodLoss", 12,
         Attrs({{"reduction", std::string("none")}, {"ignore_index", int64_t{1}}}),
         {x_ncd, t_ncd, w3}, {F32({2.31f, -6.7799997f, 0.0f, 0.0f}, {2, 2})}),
      Ok("NLL NCd1d2 negative ignore_index none", "NegativeLogLikelihoodLoss", 13,
         Attrs({{"reduction", std::string("none")}, {"ignore_index", int64_t{-1}}}),
         {x_ncdd, t_ncdd},
         {F32({-2.81f, -0.18f, -1.67f, 1.21f, 2.72f, -2.69f, 2.03f, 0.0f}, {2, 2, 2})}),
      Ok("SCE NC none", "SoftmaxCrossEntropyLoss", 13, Attrs({{"reduction", std::string("none")}}),
         {x_nc, t_nc}, {F32({2.8111799f, 1.4922781f, 2.8480773f}, {3})}),
      Ok("SCE NCd1d2 weight ignore_index log_prob none", "SoftmaxCrossEntropyLoss", 13,
         Attrs({{"reduction", std::string("none")}, {"ignore_index", int64_t{-1}}}),
         {x_ncdd, t_ncdd, w3},
         {F32({0.9648675f, 1.3803966f, 0.017988803f, 3.830303f, 6.5654345f, 0.74255824f, 1.1716394f,
               0.0f},
              {2, 2, 2}),
          F32({-0.9648675f,   -1.2101321f, -3.7459779f,  -3.830303f,  -1.3748673f, -2.6501322f,
               -0.035977606f, -4.8103027f, -1.0048674f,  -0.4601322f, -4.4459777f, -0.030302929f,
               -0.3184783f,   -1.5475196f, -0.17327885f, -2.628134f,  -1.8284781f, -5.0375195f,
               -2.343279f,    -2.868134f,  -2.1884782f,  -0.2475194f, -2.763279f,  -0.13813384f},
              {2, 3, 2, 2})}),
      Ok("NLL NC sum", "NegativeLogLikelihoodLoss", 13, Attrs({{"reduction", std::string("sum")}}),
         {x_nc, t_nc}, {F32({-0.71f}, {})}),
      Ok("NLL NC weight sum", "NegativeLogLikelihoodLoss", 13,
         Attrs({{"reduction", std::string("sum")}}), {x_nc, t_nc, w4}, {F32({-1.02f}, {})}),
      Ok("NLL NCd1 weight ignore_index sum", "NegativeLogLikelihoodLoss", 12,
         Attrs({{"reduction", std::string("sum")}, {"ignore_index", int64_t{1}}}),
         {x_ncd, t_ncd, w3}, {F32({-4.47f}, {})}),
      Ok("NLL NCd1d2 negative ignore_index sum", "NegativeLogLikelihoodLoss", 13,
         Attrs({{"reduction", std::string("sum")}, {"ignore_index", int64_t{-1}}}),
         {x_ncdd, t_ncdd}, {F32({-1.3899999f}, {})}),
      Ok("SCE NC sum", "SoftmaxCrossEntropyLoss", 13, Attrs({{"reduction", std::string("sum")}}),
         {x_nc, t_nc}, {F32({7.1515355f}, {})}),
      Ok("SCE NCd1d2 weight ignore_index log_prob sum", "SoftmaxCrossEntropyLoss", 13,
         Attrs({{"reduction", std::string("sum")}, {"ignore_index", int64_t{-1}}}),
         {x_ncdd, t_ncdd, w3},
         {F32({14.673188f}, {}),
          F32({-0.9648675f,   -1.2101321f, -3.7459779f,  -3.830303f,  -1.3748673f, -2.6501322f,
               -0.035977606f, -4.8103027f, -1.0048674f,  -0.4601322f, -4.4459777f, -0.030302929f,
               -0.3184783f,   -1.5475196f, -0.17327885f, -2.628134f,  -1.8284781f, -5.0375195f,
               -2.343279f,    -2.868134f,  -2.1884782f,  -0.2475194f, -2.763279f,  -0.13813384f},
              {2, 3, 2, 2})}),
      Ok("NLL NC mean", "NegativeLogLikelihoodLoss", 13,
         Attrs({{"reduction", std::string("mean")}}), {x_nc, t_nc}, {F32({-0.23666666f}, {})}),
      Ok("NLL NC weight mean", "NegativeLogLikelihoodLoss", 13,
         Attrs({{"reduction", std::string("mean")}}), {x_nc, t_nc, w4}, {F32({-0.34f}, {})}),
      Ok("NLL NCd1 weight ignore_index mean", "NegativeLogLikelihoodLoss", 12,
         Attrs({{"reduction", std::string("mean")}, {"ignore_index", int64_t{1}}}),
         {x_ncd, t_ncd, w3}, {F32({-1.1175f}, {})}),
      Ok("NLL NCd1d2 negative ignore_index mean", "NegativeLogLikelihoodLoss", 13,
         Attrs({{"reduction", std::string("mean")}, {"ignore_index", int64_t{-1}}}),
         {x_ncdd, t_ncdd}, {F32({-0.19857141f}, {})}),
      Ok("SCE NC mean", "SoftmaxCrossEntropyLoss", 13, Attrs({{"reduction", std::string("mean")}}),
         {x_nc, t_nc}, {F32({2.383845f}, {})}),
      Ok("SCE NCd1d2 weight ignore_index log_prob mean", "SoftmaxCrossEntropyLoss", 13,
         Attrs({{"reduction", std::string("mean")}, {"ignore_index", int64_t{-1}}}),
         {x_ncdd, t_ncdd, w3},
         {F32({1.2227657f}, {}),
          F32({-0.9648675f,   -1.2101321f, -3.7459779f,  -3.830303f,  -1.3748673f, -2.6501322f,
               -0.035977606f, -4.8103027f, -1.0048674f,  -0.4601322f, -4.4459777f, -0.030302929f,
               -0.3184783f,   -1.5475196f, -0.17327885f, -2.628134f,  -1.8284781f, -5.0375195f,
               -2.343279f,    -2.868134f,  -2.1884782f,  -0.2475194f, -2.763279f,  -0.13813384f},
              {2, 3, 2, 2})}),
      Ok("NLL int32 target float64", "NegativeLogLikelihoodLoss", 13,
         Attrs({{"reduction", std::string("mean")}}),
         {F64({-0.25, 2.369999885559082, -2.6600000858306885, 0.3400000035762787,
               -1.0299999713897705, -2.7899999618530273, 1.5199999809265137, 0.3700000047683716,
               2.359999895095825, 0.5899999737739563, -0.9800000190734863, 2.9100000858306885},
              {3, 4}),
          I32({0, 3, 1}, {3})},
         {F64({-0.23666666448116302}, {})}),
      Ok("NLL default reduction is mean", "NegativeLogLikelihoodLoss", 13, {}, {x_nc, t_nc},
         {F32({-0.23666666f}, {})}),
      Ok("NLL mean with every target ignored is NaN", "NegativeLogLikelihoodLoss", 13,
         Attrs({{"ignore_index", int64_t{3}}}), {x_nc, I64({3, 3, 3}, {3})}, {F32({kNaN}, {})}),
      Ok("SCE ignore_index out of class range", "SoftmaxCrossEntropyLoss", 13,
         Attrs({{"reduction", std::string("sum")}, {"ignore_index", int64_t{10}}}),
         {x_nc, I64({0, 10, 2}, {3}), w4}, {F32({10.241744f}, {})}),
      Ok("SCE large scores stay finite", "SoftmaxCrossEntropyLoss", 13,
         Attrs({{"reduction", std::string("none")}}),
         {F32({1000.0f, 0.0f, -1000.0f, 3.0f, 3.0f, 3.0f}, {2, 3}), I64({1, 0}, {2})},
         {F32({1000.0f, 1.0986123f}, {2})}),
      Bad("NLL target out of range", "NegativeLogLikelihoodLoss", 13, {},
          {x_nc, I64({0, 4, 1}, {3})}, absl::StatusCode::kInvalidArgument, 1),
      Bad("NLL negative target", "NegativeLogLikelihoodLoss", 13, {}, {x_nc, I64({0, -1, 1}, {3})},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("NLL target shape mismatch", "NegativeLogLikelihoodLoss", 13, {},
          {x_ncd, I64({0, 1}, {2})}, absl::StatusCode::kInvalidArgument, 1),
      Bad("NLL target dims mismatch", "NegativeLogLikelihoodLoss", 13, {},
          {x_ncd, I64({0, 0, 0, 0, 0, 0}, {2, 3})}, absl::StatusCode::kInvalidArgument, 1),
      Bad("NLL weight of the wrong length", "NegativeLogLikelihoodLoss", 13, {},
          {x_nc, t_nc, F32({1.0f, 1.0f, 1.0f}, {3})}, absl::StatusCode::kInvalidArgument, 1),
      Bad("NLL weight of another dtype", "NegativeLogLikelihoodLoss", 13, {},
          {x_nc, t_nc, F64({1.0, 1.0, 1.0, 1.0}, {4})}, absl::StatusCode::kInvalidArgument, 1),
      Bad("NLL float target", "NegativeLogLikelihoodLoss", 13, {},
          {x_nc, F32({0.0f, 3.0f, 1.0f}, {3})}, absl::StatusCode::kInvalidArgument, 1),
      Bad("NLL rank-1 scores", "NegativeLogLikelihoodLoss", 13, {},
          {F32({1.62f, -0.9f, -1.87f}, {3}), I64({0}, {1})}, absl::StatusCode::kInvalidArgument, 1),
      Bad("SCE unknown reduction", "SoftmaxCrossEntropyLoss", 13,
          Attrs({{"reduction", std::string("average")}}), {x_nc, t_nc},
          absl::StatusCode::kInvalidArgument, 1),
      Bad("SCE int32 scores have no kernel", "SoftmaxCrossEntropyLoss", 13, {},
          {I32({0, 0, 0, 0}, {2, 2}), I64({0, 0}, {2})}, absl::StatusCode::kNotFound, 1),
  };
}

TEST(LossOpsTest, NegativeLogLikelihoodLoss) {
  EXPECT_GT(RunCases(LossCases(), "NegativeLogLikelihoodLoss"), 0);
}
TEST(LossOpsTest, SoftmaxCrossEntropyLoss) {
  EXPECT_GT(RunCases(LossCases(), "SoftmaxCrossEntropyLoss"), 0);
}

TEST(LossOpsTest, Inference) {
  for (const char* op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"}) {
    const OpSchema* schema = OpRegistry::Global().FindSchema("", op, 13);
    ASSERT_NE(schema, nullptr);
    for (const std::string reduction : {"none", "mean"}) {
      AttributeMap attrs = Attrs({{"reduction", reduction}});
      const int outputs = std::string(op) == "SoftmaxCrossEntropyLoss" ? 2 : 1;
      ASSERT_TRUE(schema->Complete(2, outputs, attrs).ok());
      InferenceContext ctx({{DType::kFloat64, Shape{4, 3, 5}}, {DType::kInt64, Shape{4, 5}}},
                           {nullptr, nullptr}, &attrs, 13, outputs);
      ASSERT_TRUE(schema->RunInference(ctx).ok());
      EXPECT_EQ(ctx.outputs()[0].dtype, DType::kFloat64);
      EXPECT_EQ(ctx.outputs()[0].shape, reduction == "none" ? Shape({4, 5}) : Shape{});
      if (outputs == 2) EXPECT_EQ(ctx.outputs()[1].shape, Shape({4, 3, 5}));
    }
  }
}

}  // namespace
}  // namespace cortado
