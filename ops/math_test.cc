// Table tests for the elementwise math operators in ops/math.cc, run through the registry with
// RunOp (which also checks the inferred dtype and shape against the computed output).
//
// Expected values in the generated tables were computed with numpy 1.24 (for float32 inputs, the
// float64 result of the reference formula rounded to float32; float16 cases in float16) and
// pasted in. The broadcasting sweep and the long-vector tests compare against naive per-element
// loops written out below, independent of the kernels' row coalescing; the float32 approximations
// of exp, sigmoid, tanh and erf are swept over the whole float range against libm in double.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "ops/registry.h"

namespace cortado {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

template <typename T>
Tensor Make(Shape shape, const std::vector<T>& values) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), NumElements(shape)) << ShapeToString(shape);
  return Tensor::FromVector<T>(values, std::move(shape));
}
Tensor F32(Shape s, const std::vector<float>& v) { return Make<float>(std::move(s), v); }
Tensor F64(Shape s, const std::vector<double>& v) { return Make<double>(std::move(s), v); }
Tensor I8(Shape s, const std::vector<int8_t>& v) { return Make<int8_t>(std::move(s), v); }
Tensor I16(Shape s, const std::vector<int16_t>& v) { return Make<int16_t>(std::move(s), v); }
Tensor I32(Shape s, const std::vector<int32_t>& v) { return Make<int32_t>(std::move(s), v); }
Tensor I64(Shape s, const std::vector<int64_t>& v) { return Make<int64_t>(std::move(s), v); }
Tensor U8(Shape s, const std::vector<uint8_t>& v) { return Make<uint8_t>(std::move(s), v); }
Tensor U16(Shape s, const std::vector<uint16_t>& v) { return Make<uint16_t>(std::move(s), v); }
Tensor U32(Shape s, const std::vector<uint32_t>& v) { return Make<uint32_t>(std::move(s), v); }
Tensor U64(Shape s, const std::vector<uint64_t>& v) { return Make<uint64_t>(std::move(s), v); }
Tensor B(Shape s, const std::vector<bool>& v) { return Make<bool>(std::move(s), v); }
Tensor Str(Shape s, const std::vector<std::string>& v) {
  return Make<std::string>(std::move(s), v);
}
// Float16 from float values that are exactly representable in float16.
Tensor F16(Shape s, const std::vector<float>& v) {
  std::vector<Half> h;
  for (float f : v) h.push_back(Half(f));
  return Make<Half>(std::move(s), h);
}

using Attrs = std::vector<std::pair<std::string, AttrValue>>;

struct Case {
  std::string name;
  std::string op;
  int opset;
  Attrs attrs;
  std::vector<Tensor> inputs;
  Tensor expected;
  double rtol = 1e-5;
  double atol = 1e-6;
};

OpRun MakeRun(const std::string& op, int opset, const Attrs& attrs, std::vector<Tensor> inputs) {
  OpRun run;
  run.op_type = op;
  run.opset = opset;
  for (const auto& [name, value] : attrs) run.attrs.Set(name, value);
  run.inputs = std::move(inputs);
  return run;
}

void RunCases(const std::vector<Case>& cases) {
  ASSERT_FALSE(cases.empty());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::vector<Tensor>> out = RunOp(MakeRun(c.op, c.opset, c.attrs, c.inputs));
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), 1u);
    EXPECT_EQ(CompareTensors((*out)[0], c.expected, c.rtol, c.atol), "");
  }
}

// clang-format off
std::vector<Case> Float32UnaryCases() {
  return {
    {"Relu", "Relu", 14, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {0.0f, 0.0f, 0.0f, 0.0f, 0.5f, 3.0f})},
    {"LeakyRelu default", "LeakyRelu", 16, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-0.025f, -0.01f, -0.0025f, 0.0f, 0.5f, 3.0f})},
    {"LeakyRelu alpha", "LeakyRelu", 16, {{"alpha", 0.2f}},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-0.5f, -0.2f, -0.05f, 0.0f, 0.5f, 3.0f})},
    {"Elu default", "Elu", 6, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-0.917915f, -0.63212055f, -0.22119921f, 0.0f, 0.5f, 3.0f})},
    {"Elu alpha", "Elu", 6, {{"alpha", 2.0f}},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-1.83583f, -1.2642411f, -0.44239843f, 0.0f, 0.5f, 3.0f})},
    {"Selu default", "Selu", 6, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-1.6137857f, -1.1113307f, -0.3888902f, 0.0f, 0.5253505f, 3.152103f})},
    {"Selu attrs", "Selu", 6, {{"alpha", 2.0f}, {"gamma", 3.0f}},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-5.50749f, -3.7927234f, -1.3271953f, 0.0f, 1.5f, 9.0f})},
    {"Celu default", "Celu", 12, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-0.917915f, -0.63212055f, -0.22119921f, 0.0f, 0.5f, 3.0f})},
    {"Celu alpha", "Celu", 12, {{"alpha", 2.0f}},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-1.4269904f, -0.78693867f, -0.2350062f, 0.0f, 0.5f, 3.0f})},
    {"Sigmoid", "Sigmoid", 13, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {0.07585818f, 0.26894143f, 0.4378235f, 0.5f, 0.62245935f, 0.95257413f})},
    {"HardSigmoid default", "HardSigmoid", 6, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {0.0f, 0.3f, 0.45f, 0.5f, 0.6f, 1.0f})},
    {"HardSigmoid attrs", "HardSigmoid", 6, {{"alpha", 0.5f}, {"beta", 0.6f}},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {0.0f, 0.100000024f, 0.47500002f, 0.6f, 0.85f, 1.0f})},
    {"HardSwish", "HardSwish", 14, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-0.20833333f, -0.33333334f, -0.114583336f, 0.0f, 0.29166666f, 3.0f})},
    {"Tanh", "Tanh", 13, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-0.9866143f, -0.7615942f, -0.24491866f, 0.0f, 0.46211717f, 0.9950548f})},
    {"Erf", "Erf", 13, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-0.999593f, -0.8427008f, -0.2763264f, 0.0f, 0.5204999f, 0.9999779f})},
    {"Exp", "Exp", 13, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {0.082085f, 0.36787945f, 0.7788008f, 1.0f, 1.6487212f, 20.085537f})},
    {"Log", "Log", 13, {},
     {F32({2, 3}, {0.1f, 0.5f, 1.0f, 2.0f, 3.5f, 10.0f})},
     F32({2, 3}, {-2.3025851f, -0.6931472f, 0.0f, 0.6931472f, 1.2527629f, 2.3025851f})},
    {"Sqrt", "Sqrt", 13, {},
     {F32({2, 3}, {0.1f, 0.5f, 1.0f, 2.0f, 3.5f, 10.0f})},
     F32({2, 3}, {0.31622776f, 0.70710677f, 1.0f, 1.4142135f, 1.8708287f, 3.1622777f})},
    {"Abs", "Abs", 13, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {2.5f, 1.0f, 0.25f, 0.0f, 0.5f, 3.0f})},
    {"Neg", "Neg", 13, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {2.5f, 1.0f, 0.25f, -0.0f, -0.5f, -3.0f})},
    {"Reciprocal", "Reciprocal", 13, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.125f, 0.5f, 3.0f})},
     F32({2, 3}, {-0.4f, -1.0f, -4.0f, 8.0f, 2.0f, 0.33333334f})},
    {"Floor", "Floor", 13, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-3.0f, -1.0f, -1.0f, 0.0f, 0.0f, 3.0f})},
    {"Ceil", "Ceil", 13, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-2.0f, -1.0f, -0.0f, 0.0f, 1.0f, 3.0f})},
    {"Sign", "Sign", 13, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-1.0f, -1.0f, -1.0f, 0.0f, 1.0f, 1.0f})},
    {"Softplus", "Softplus", 1, {},
     {F32({2, 3}, {-100.0f, -2.5f, -0.25f, 0.0f, 0.5f, 100.0f})},
     F32({2, 3}, {3.8e-44f, 0.078889735f, 0.5759394f, 0.6931472f, 0.974077f, 100.0f})},
    {"Softsign", "Softsign", 1, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-0.71428573f, -0.5f, -0.2f, 0.0f, 0.33333334f, 0.75f})},
    {"ThresholdedRelu default", "ThresholdedRelu", 10, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 3.0f})},
    {"ThresholdedRelu alpha", "ThresholdedRelu", 10, {{"alpha", 0.25f}},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {0.0f, 0.0f, 0.0f, 0.0f, 0.5f, 3.0f})},
    {"Shrink default", "Shrink", 9, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-2.5f, -1.0f, 0.0f, 0.0f, 0.0f, 3.0f})},
    {"Shrink attrs", "Shrink", 9, {{"lambd", 1.0f}, {"bias", 0.5f}},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-2.0f, 0.0f, 0.0f, 0.0f, 0.0f, 2.5f})},
    {"Sin", "Sin", 7, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-0.5984721f, -0.84147096f, -0.24740396f, 0.0f, 0.47942555f, 0.14112f})},
    {"Cos", "Cos", 7, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-0.8011436f, 0.5403023f, 0.9689124f, 1.0f, 0.87758255f, -0.9899925f})},
    {"Tan", "Tan", 7, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {0.7470223f, -1.5574077f, -0.25534192f, 0.0f, 0.5463025f, -0.14254655f})},
    {"Asin", "Asin", 7, {},
     {F32({2, 3}, {-0.9f, -0.5f, -0.1f, 0.0f, 0.3f, 0.8f})},
     F32({2, 3}, {-1.1197695f, -0.5235988f, -0.10016742f, 0.0f, 0.30469266f, 0.92729527f})},
    {"Acos", "Acos", 7, {},
     {F32({2, 3}, {-0.9f, -0.5f, -0.1f, 0.0f, 0.3f, 0.8f})},
     F32({2, 3}, {2.6905658f, 2.0943952f, 1.6709638f, 1.5707964f, 1.2661036f, 0.6435011f})},
    {"Atan", "Atan", 7, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-1.19029f, -0.7853982f, -0.24497867f, 0.0f, 0.4636476f, 1.2490457f})},
    {"Sinh", "Sinh", 9, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-6.0502043f, -1.1752012f, -0.25261232f, 0.0f, 0.5210953f, 10.017875f})},
    {"Cosh", "Cosh", 9, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {6.1322894f, 1.5430807f, 1.0314131f, 1.0f, 1.127626f, 10.067662f})},
    {"Asinh", "Asinh", 9, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-1.6472311f, -0.8813736f, -0.24746646f, 0.0f, 0.4812118f, 1.8184465f})},
    {"Acosh", "Acosh", 9, {},
     {F32({2, 3}, {1.0f, 1.5f, 2.0f, 3.0f, 5.0f, 10.0f})},
     F32({2, 3}, {0.0f, 0.9624236f, 1.316958f, 1.7627472f, 2.2924316f, 2.993223f})},
    {"Atanh", "Atanh", 9, {},
     {F32({2, 3}, {-0.9f, -0.5f, -0.1f, 0.0f, 0.3f, 0.8f})},
     F32({2, 3}, {-1.4722193f, -0.54930615f, -0.10033535f, 0.0f, 0.30951962f, 1.0986123f})},
    {"Mish", "Mish", 18, {},
     {F32({2, 3}, {-2.5f, -1.0f, -0.25f, 0.0f, 0.5f, 3.0f})},
     F32({2, 3}, {-0.1968162f, -0.30340147f, -0.12992696f, 0.0f, 0.3752452f, 2.986535f})},
    {"Round half to even", "Round", 11, {},
     {F32({8}, {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 2.4f, -2.6f, 0.0f})},
     F32({8}, {0.0f, 2.0f, 2.0f, -0.0f, -2.0f, 2.0f, -3.0f, 0.0f})},
    {"IsNaN", "IsNaN", 13, {},
     {F32({6}, {-kInf, -1.5f, 0.0f, 2.0f, kInf, kNaN})},
     B({6}, {false, false, false, false, false, true})},
    {"IsInf", "IsInf", 10, {},
     {F32({6}, {-kInf, -1.5f, 0.0f, 2.0f, kInf, kNaN})},
     B({6}, {true, false, false, false, true, false})},
    {"IsInf positive only", "IsInf", 10, {{"detect_negative", int64_t{0}}},
     {F32({6}, {-kInf, -1.5f, 0.0f, 2.0f, kInf, kNaN})},
     B({6}, {false, false, false, false, true, false})},
    {"IsInf negative only", "IsInf", 10, {{"detect_positive", int64_t{0}}},
     {F32({6}, {-kInf, -1.5f, 0.0f, 2.0f, kInf, kNaN})},
     B({6}, {true, false, false, false, false, false})},
    {"Sign keeps NaN", "Sign", 13, {},
     {F32({6}, {-kInf, -1.5f, 0.0f, 2.0f, kInf, kNaN})},
     F32({6}, {-1.0f, -1.0f, 0.0f, 1.0f, 1.0f, kNaN})},
    {"Relu keeps NaN", "Relu", 14, {},
     {F32({6}, {-kInf, -1.5f, 0.0f, 2.0f, kInf, kNaN})},
     F32({6}, {0.0f, 0.0f, 0.0f, 2.0f, kInf, kNaN})},
  };
}
std::vector<Case> Float64UnaryCases() {
  return {
    {"Elu default f64", "Elu", 6, {},
     {F64({2, 3}, {-2.5, -1.0, -0.25, 0.0, 0.5, 3.0})},
     F64({2, 3}, {-0.9179150013761012, -0.6321205588285577, -0.22119921692859512, 0.0, 0.5, 3.0}),
     1e-12, 1e-14},
    {"Elu alpha f64", "Elu", 6, {{"alpha", 2.0f}},
     {F64({2, 3}, {-2.5, -1.0, -0.25, 0.0, 0.5, 3.0})},
     F64({2, 3}, {-1.8358300027522023, -1.2642411176571153, -0.44239843385719024, 0.0, 0.5, 3.0}),
     1e-12, 1e-14},
    {"Selu default f64", "Selu", 6, {},
     {F64({2, 3}, {-2.5, -1.0, -0.25, 0.0, 0.5, 3.0})},
     F64({2, 3}, {-1.6137857639177853, -1.1113307412864784, -0.38889019869375324, 0.0,
                  0.5253505110740662, 3.152103066444397}),
     1e-12, 1e-14},
    {"Selu attrs f64", "Selu", 6, {{"alpha", 2.0f}, {"gamma", 3.0f}},
     {F64({2, 3}, {-2.5, -1.0, -0.25, 0.0, 0.5, 3.0})},
     F64({2, 3}, {-5.507490008256607, -3.792723352971346, -1.3271953015715707, 0.0, 1.5, 9.0}),
     1e-12, 1e-14},
    {"Sigmoid f64", "Sigmoid", 13, {},
     {F64({2, 3}, {-2.5, -1.0, -0.25, 0.0, 0.5, 3.0})},
     F64({2, 3}, {0.07585818002124355, 0.2689414213699951, 0.43782349911420193, 0.5,
                  0.6224593312018546, 0.9525741268224334}),
     1e-12, 1e-14},
    {"Tanh f64", "Tanh", 13, {},
     {F64({2, 3}, {-2.5, -1.0, -0.25, 0.0, 0.5, 3.0})},
     F64({2, 3}, {-0.9866142981514303, -0.7615941559557649, -0.24491866240370913, 0.0,
                  0.46211715726000974, 0.9950547536867305}),
     1e-12, 1e-14},
    {"Erf f64", "Erf", 13, {},
     {F64({2, 3}, {-2.5, -1.0, -0.25, 0.0, 0.5, 3.0})},
     F64({2, 3}, {-0.999593047982555, -0.8427007929497149, -0.2763263901682369, 0.0,
                  0.5204998778130465, 0.9999779095030014}),
     1e-12, 1e-14},
    {"Exp f64", "Exp", 13, {},
     {F64({2, 3}, {-2.5, -1.0, -0.25, 0.0, 0.5, 3.0})},
     F64({2, 3}, {0.0820849986238988, 0.3678794411714424, 0.7788007830714049, 1.0,
                  1.6487212707001282, 20.085536923187668}),
     1e-12, 1e-14},
    {"Log f64", "Log", 13, {},
     {F64({2, 3}, {0.10000000149011612, 0.5, 1.0, 2.0, 3.5, 10.0})},
     F64({2, 3}, {-2.3025850780928847, -0.6931471805599453, 0.0, 0.6931471805599453,
                  1.252762968495368, 2.3025850929940455}),
     1e-12, 1e-14},
    {"Sqrt f64", "Sqrt", 13, {},
     {F64({2, 3}, {0.10000000149011612, 0.5, 1.0, 2.0, 3.5, 10.0})},
     F64({2, 3}, {0.3162277683729184, 0.7071067811865476, 1.0, 1.4142135623730951,
                  1.8708286933869707, 3.1622776601683795}),
     1e-12, 1e-14},
    {"Softplus f64", "Softplus", 1, {},
     {F64({2, 3}, {-100.0, -2.5, -0.25, 0.0, 0.5, 100.0})},
     F64({2, 3}, {3.720075976020836e-44, 0.07888973429254964, 0.5759394198788436,
                  0.6931471805599453, 0.9740769841801067, 100.0}),
     1e-12, 1e-14},
    {"Atanh f64", "Atanh", 9, {},
     {F64({2, 3}, {-0.8999999761581421, -0.5, -0.10000000149011612, 0.0, 0.30000001192092896,
                   0.800000011920929})},
     F64({2, 3}, {-1.4722193640997716, -0.5493061443340549, -0.10033534923624338, 0.0,
                  0.3095196173030337, 1.098612321781802}),
     1e-12, 1e-14},
    {"Mish f64", "Mish", 18, {},
     {F64({2, 3}, {-2.5, -1.0, -0.25, 0.0, 0.5, 3.0})},
     F64({2, 3}, {-0.19681620390653337, -0.30340146137410895, -0.129926963679141, 0.0,
                  0.3752452113048951, 2.986535004967957}),
     1e-12, 1e-14},
  };
}
std::vector<Case> IntegerUnaryCases() {
  return {
    {"Relu int32", "Relu", 14, {},
     {I32({6}, {-7, -1, 0, 1, 2147483647, -2147483648})},
     I32({6}, {0, 0, 0, 1, 2147483647, 0})},
    {"Abs int8 wraps at -128", "Abs", 13, {},
     {I8({5}, {-128, -5, 0, 5, 127})},
     I8({5}, {-128, 5, 0, 5, 127})},
    {"Neg int8 wraps at -128", "Neg", 13, {},
     {I8({5}, {-128, -5, 0, 5, 127})},
     I8({5}, {-128, 5, 0, -5, -127})},
    {"Neg int64", "Neg", 13, {},
     {I64({5}, {std::numeric_limits<int64_t>::min(), -3, 0, 4, int64_t{4611686018427387904}})},
     I64({5}, {std::numeric_limits<int64_t>::min(), 3, 0, -4, int64_t{-4611686018427387904}})},
    {"Sign uint8", "Sign", 13, {},
     {U8({3}, {0, 1, 200})},
     U8({3}, {0, 1, 1})},
    {"Abs uint8", "Abs", 13, {},
     {U8({3}, {0, 1, 200})},
     U8({3}, {0, 1, 200})},
    {"Sign int16", "Sign", 13, {},
     {I16({3}, {-300, 0, 7})},
     I16({3}, {-1, 0, 1})},
    {"Shrink int32", "Shrink", 9, {{"lambd", 1.5f}, {"bias", 1.0f}},
     {I32({5}, {-3, -1, 0, 2, 5})},
     I32({5}, {-2, 0, 0, 1, 4})},
    {"Not", "Not", 1, {},
     {B({1, 3}, {true, false, true})},
     B({1, 3}, {false, true, false})},
  };
}
std::vector<Case> Float16Cases() {
  return {
    {"Relu f16", "Relu", 14, {},
     {F16({6}, {-2.5f, -0.300048828125f, 0.0f, 0.7001953125f, 3.099609375f, 65504.0f})},
     F16({6}, {0.0f, 0.0f, 0.0f, 0.7001953125f, 3.099609375f, 65504.0f})},
    {"Sigmoid f16", "Sigmoid", 13, {},
     {F16({6}, {-2.5f, -0.300048828125f, 0.0f, 0.7001953125f, 3.099609375f, 65504.0f})},
     F16({6}, {0.07586669921875f, 0.425537109375f, 0.5f, 0.66845703125f, 0.95703125f, 1.0f}),
     1e-3, 1e-4},
    {"Add f16 overflows to inf", "Add", 14, {},
     {F16({6}, {-2.5f, -0.300048828125f, 0.0f, 0.7001953125f, 3.099609375f, 65504.0f}),
      F16({6}, {1.0f, -0.5f, 0.0f, 0.199951171875f, 3.099609375f, 65504.0f})},
     F16({6}, {-1.5f, -0.7998046875f, 0.0f, 0.900390625f, 6.19921875f, kInf})},
    {"Max f16", "Max", 13, {},
     {F16({6}, {-2.5f, -0.300048828125f, 0.0f, 0.7001953125f, 3.099609375f, 65504.0f}),
      F16({6}, {1.0f, -0.5f, 0.0f, 0.199951171875f, 3.099609375f, 65504.0f})},
     F16({6}, {1.0f, -0.300048828125f, 0.0f, 0.7001953125f, 3.099609375f, 65504.0f})},
    {"Less f16", "Less", 13, {},
     {F16({6}, {-2.5f, -0.300048828125f, 0.0f, 0.7001953125f, 3.099609375f, 65504.0f}),
      F16({6}, {1.0f, -0.5f, 0.0f, 0.199951171875f, 3.099609375f, 65504.0f})},
     B({6}, {true, false, false, false, false, false})},
    {"Mod f16 fmod", "Mod", 13, {{"fmod", int64_t{1}}},
     {F16({6}, {-4.30078125f, 7.19921875f, 5.0f, 4.30078125f, -7.19921875f, 8.0f}),
      F16({6}, {2.099609375f, -3.400390625f, 8.0f, -2.099609375f, 3.400390625f, 5.0f})},
     F16({6}, {-0.1015625f, 0.3984375f, 5.0f, 0.1015625f, -0.3984375f, 3.0f})},
  };
}
std::vector<Case> BinaryCases() {
  return {
    {"Add same shape", "Add", 14, {},
     {F32({2, 3}, {-2.542f, 1.68f, -0.37f, 1.341f, 2.868f, 0.231f}),
      F32({2, 3}, {0.007f, -2.568f, -1.389f, -0.001f, 1.075f, 1.822f})},
     F32({2, 3}, {-2.535f, -0.88800013f, -1.7590001f, 1.3399999f, 3.943f, 2.053f})},
    {"Add trailing bias", "Add", 14, {},
     {F32({2, 3, 4}, {-0.714f, -2.604f, -1.271f, 2.458f, -1.72f, -0.287f, 2.587f, -2.851f, 0.603f,
                      2.701f, -1.618f, 0.291f, 2.455f, -2.201f, 0.14f, 1.502f, 1.014f, -0.193f,
                      -1.771f, -0.055f, -0.766f, -0.136f, -0.805f, 2.028f}),
      F32({4}, {1.612f, -1.116f, 0.436f, -1.344f})},
     F32({2, 3, 4}, {0.898f, -3.7200003f, -0.83500004f, 1.114f, -0.10800004f, -1.4030001f,
                     3.0229998f, -4.195f, 2.215f, 1.5849999f, -1.182f, -1.053f, 4.067f, -3.317f,
                     0.576f, 0.15799999f, 2.626f, -1.309f, -1.335f, -1.3989999f, 0.846f,
                     -1.2520001f, -0.36900002f, 0.68400013f})},
    {"Add both broadcast", "Add", 7, {},
     {F32({2, 1, 4}, {-0.283f, -0.882f, 0.944f, -0.778f, -0.245f, 1.316f, -0.522f, 2.439f}),
      F32({3, 1}, {-1.917f, 1.447f, -0.466f})},
     F32({2, 3, 4}, {-2.2f, -2.799f, -0.97300005f, -2.6950002f, 1.164f, 0.565f, 2.391f, 0.669f,
                     -0.74899995f, -1.348f, 0.47800002f, -1.244f, -2.1620002f, -0.6010001f,
                     -2.4390001f, 0.52199984f, 1.202f, 2.763f, 0.925f, 3.886f, -0.71099997f,
                     0.85f, -0.98800004f, 1.9729999f})},
    {"Add scalar left", "Add", 13, {},
     {F32({}, {1.5f}),
      F32({2, 3}, {-0.441f, 0.806f, 0.137f, -0.511f, -2.991f, -2.446f})},
     F32({2, 3}, {1.059f, 2.306f, 1.637f, 0.989f, -1.4909999f, -0.9460001f})},
    {"Sub middle broadcast", "Sub", 14, {},
     {F32({2, 3, 2}, {1.256f, 0.146f, 1.177f, 2.733f, 1.097f, -2.681f, -1.147f, 0.556f, -1.589f,
                      2.79f, 2.67f, 2.09f}),
      F32({3, 1}, {-0.166f, 2.049f, -2.213f})},
     F32({2, 3, 2}, {1.422f, 0.31199998f, -0.872f, 0.684f, 3.31f, -0.46799994f, -0.98099995f,
                     0.722f, -3.638f, 0.74099994f, 4.8830004f, 4.303f})},
    {"Sub outer product", "Sub", 14, {},
     {F32({1, 3}, {-1.148f, -0.222f, 1.451f}),
      F32({2, 1}, {-0.085f, -2.179f})},
     F32({2, 3}, {-1.063f, -0.137f, 1.536f, 1.0309999f, 1.9569999f, 3.6299999f})},
    {"Mul by [1]", "Mul", 14, {},
     {F32({2, 3}, {-0.939f, -1.053f, -1.197f, -2.007f, -0.511f, -0.311f}),
      F32({1}, {2.0f})},
     F32({2, 3}, {-1.878f, -2.106f, -2.394f, -4.014f, -1.022f, -0.622f})},
    {"Mul 3-d both broadcast", "Mul", 14, {},
     {F32({3, 1, 2}, {1.649f, 1.778f, 0.134f, -0.236f, 1.669f, 2.324f}),
      F32({1, 4, 1}, {1.05f, 1.803f, 2.635f, -2.756f})},
     F32({3, 4, 2}, {1.73145f, 1.8669f, 2.9731472f, 3.205734f, 4.345115f, 4.68503f, -4.5446444f,
                     -4.900168f, 0.1407f, -0.2478f, 0.241602f, -0.425508f, 0.35309002f, -0.62186f,
                     -0.369304f, 0.650416f, 1.75245f, 2.4401999f, 3.009207f, 4.1901717f,
                     4.397815f, 6.1237397f, -4.5997643f, -6.404944f})},
    {"Div float by zero", "Div", 14, {},
     {F32({6}, {3.0f, -4.0f, 1.0f, 0.0f, -1.0f, 2.0f}),
      F32({6}, {2.0f, 8.0f, 0.0f, 0.0f, 0.0f, -0.5f})},
     F32({6}, {1.5f, -0.5f, kInf, kNaN, -kInf, -4.0f})},
    {"Div int32 truncates, x/0 is 0", "Div", 14, {},
     {I32({1, 6}, {7, -7, 7, -7, 5, 0}),
      I32({6}, {2, 2, -2, -2, 0, 3})},
     I32({1, 6}, {3, -3, -3, 3, 0, 0})},
    {"Add uint8 wraps", "Add", 14, {},
     {U8({3}, {250, 3, 128}),
      U8({3}, {10, 5, 2})},
     U8({3}, {4, 8, 130})},
    {"Sub uint8 wraps", "Sub", 14, {},
     {U8({3}, {10, 5, 2}),
      U8({3}, {250, 3, 128})},
     U8({3}, {16, 2, 130})},
    {"Mul uint8 wraps", "Mul", 14, {},
     {U8({3}, {250, 3, 128}),
      U8({3}, {10, 5, 2})},
     U8({3}, {196, 15, 0})},
    {"Div uint8", "Div", 14, {},
     {U8({3}, {250, 3, 128}),
      U8({3}, {10, 5, 2})},
     U8({3}, {25, 0, 64})},
    {"Mul int16 wraps", "Mul", 14, {},
     {I16({3}, {30000, -2, 300}),
      I16({3}, {3, 4, -300})},
     I16({3}, {24464, -8, -24464})},
    {"Mul int64 wraps", "Mul", 14, {},
     {I64({2}, {int64_t{4611686018427387904}, -5}),
      I64({2}, {4, 3})},
     I64({2}, {0, -15})},
    {"Div f64 broadcast", "Div", 14, {},
     {F64({2}, {1.5, 2.0}),
      F64({2, 1}, {0.25, 3.0})},
     F64({2, 2}, {6.0, 8.0, 0.5, 0.6666666666666666}),
     1e-15, 0},
    {"Mod int32 floor sign", "Mod", 13, {},
     {I32({8}, {-4, 7, 5, 4, -7, 8, 9, -9}),
      I32({8}, {2, -3, 8, -2, 3, 5, 0, -1})},
     I32({8}, {0, -2, 5, 0, 2, 3, 0, 0})},
    {"Mod int32 fmod", "Mod", 13, {{"fmod", int64_t{1}}},
     {I32({8}, {-4, 7, 5, 4, -7, 8, 9, -9}),
      I32({8}, {2, -3, 8, -2, 3, 5, 0, -1})},
     I32({8}, {0, 1, 5, 0, -1, 3, 0, 0})},
    {"Mod int8 by -1", "Mod", 13, {},
     {I8({3}, {-128, 127, -7}),
      I8({3}, {-1, -1, 3})},
     I8({3}, {0, 0, 2})},
    {"Div int8 MIN by -1 wraps", "Div", 14, {},
     {I8({3}, {-128, 127, -7}),
      I8({3}, {-1, -1, 3})},
     I8({3}, {-128, -127, -2})},
    {"Mod float32 fmod", "Mod", 13, {{"fmod", int64_t{1}}},
     {F32({5}, {-4.5f, 7.25f, 5.0f, 4.3f, -7.2f}),
      F32({5}, {2.0f, -3.0f, 8.0f, -2.1f, 3.4f})},
     F32({5}, {-0.5f, 1.25f, 5.0f, 0.10000038f, -0.39999962f})},
    {"Mod uint16 broadcast", "Mod", 13, {},
     {U16({3, 4}, {0, 7, 14, 21, 28, 35, 42, 49, 56, 63, 70, 77}),
      U16({4}, {5, 3, 16, 2})},
     U16({3, 4}, {0, 1, 14, 1, 3, 2, 10, 1, 1, 0, 6, 1})},
    {"Mod int64 scalar divisor", "Mod", 13, {},
     {I64({3}, {-10, 10, -10}),
      I64({}, {3})},
     I64({3}, {2, 1, 2})},
    {"BitShift left uint8", "BitShift", 11, {{"direction", std::string("LEFT")}},
     {U8({4}, {16, 4, 1, 255}),
      U8({4}, {1, 2, 7, 8})},
     U8({4}, {32, 16, 128, 0})},
    {"BitShift right uint8", "BitShift", 11, {{"direction", std::string("RIGHT")}},
     {U8({4}, {16, 4, 1, 255}),
      U8({4}, {1, 2, 7, 8})},
     U8({4}, {8, 1, 0, 0})},
    {"BitShift left uint64", "BitShift", 11, {{"direction", std::string("LEFT")}},
     {U64({2, 2}, {1, 1099511627776, 3, 9223372036854775808ull}),
      U64({2}, {3, 64})},
     U64({2, 2}, {8, 0, 24, 0})},
    {"BitShift right uint32 by scalar", "BitShift", 11, {{"direction", std::string("RIGHT")}},
     {U32({3}, {4294967295u, 256, 7}),
      U32({}, {4})},
     U32({3}, {268435455, 16, 0})},
    {"Pow float32", "Pow", 15, {},
     {F32({2, 3}, {0.5f, 1.5f, 2.0f, 3.0f, 4.0f, 9.0f}),
      F32({2, 3}, {2.0f, -1.0f, 0.5f, 3.0f, 0.0f, 1.5f})},
     F32({2, 3}, {0.25f, 0.6666667f, 1.4142135f, 27.0f, 1.0f, 27.0f})},
    {"Pow float32 squared (fast path)", "Pow", 15, {},
     {F32({4}, {-1.5f, 0.0f, 2.5f, 3.0f}),
      F32({}, {2.0f})},
     F32({4}, {2.25f, 0.0f, 6.25f, 9.0f})},
    {"Pow float32 to the first", "Pow", 15, {},
     {F32({4}, {-1.5f, 0.0f, 2.5f, 3.0f}),
      F32({1}, {1.0f})},
     F32({4}, {-1.5f, 0.0f, 2.5f, 3.0f})},
    {"Pow float32 cube by int64", "Pow", 15, {},
     {F32({4}, {-1.5f, 0.0f, 2.5f, 3.0f}),
      I64({}, {3})},
     F32({4}, {-3.375f, 0.0f, 15.625f, 27.0f})},
    {"Pow squared with broadcast", "Pow", 15, {},
     {F32({4}, {-1.5f, 0.0f, 2.5f, 3.0f}),
      F32({2, 1}, {2.0f, 0.5f})},
     F32({2, 4}, {2.25f, 0.0f, 6.25f, 9.0f, kNaN, 0.0f, 1.5811388f, 1.7320509f})},
    {"Pow float32 by int32", "Pow", 15, {},
     {F32({4}, {-1.5f, 0.0f, 2.5f, 3.0f}),
      I32({4}, {4, 5, 6, -1})},
     F32({4}, {5.0625f, 0.0f, 244.14062f, 0.33333334f})},
    {"Pow float32 by uint8", "Pow", 15, {},
     {F32({4}, {-1.5f, 0.0f, 2.5f, 3.0f}),
      U8({4}, {1, 2, 3, 0})},
     F32({4}, {-1.5f, 0.0f, 15.625f, 1.0f})},
    {"Pow float64 by float32", "Pow", 15, {},
     {F64({4}, {-1.5, 0.0, 2.5, 3.0}),
      F32({1}, {0.5f})},
     F64({4}, {kNaN, 0.0, 1.5811388300841895, 1.7320508075688772}),
     1e-7, 0},
    {"Pow int32 by int32", "Pow", 15, {},
     {I32({5}, {1, 2, 3, -3, 0}),
      I32({5}, {4, 5, 6, 3, 0})},
     I32({5}, {1, 32, 729, -27, 1})},
    {"Pow int64 negative exponent", "Pow", 15, {},
     {I64({5}, {1, -1, -1, 2, 0}),
      I64({5}, {-3, -3, -2, -1, 2})},
     I64({5}, {1, -1, 1, 0, 0})},
    {"Pow int64 by float32", "Pow", 15, {},
     {I64({3}, {2, 3, 4}),
      F32({3}, {0.5f, 2.0f, 1.5f})},
     I64({3}, {1, 9, 8})},
    {"Pow int32 overflow wraps", "Pow", 15, {},
     {I32({1}, {3}),
      I32({1}, {40})},
     I32({1}, {689956897})},
    {"PRelu per last axis", "PRelu", 16, {},
     {F32({2, 3, 4}, {2.254f, -1.341f, -0.145f, 1.781f, 1.303f, -2.117f, 0.952f, -2.584f, -0.858f,
                      1.877f, -0.434f, 0.599f, 1.369f, 1.927f, 1.563f, -2.957f, -0.478f, -0.221f,
                      -2.667f, 0.249f, 0.647f, 1.971f, 2.651f, -2.231f}),
      F32({4}, {-1.617f, 0.955f, -2.205f, -1.656f})},
     F32({2, 3, 4}, {2.254f, -1.2806549f, 0.31972498f, 1.781f, 1.303f, -2.021735f, 0.952f,
                     4.279104f, 1.387386f, 1.877f, 0.9569699f, 0.599f, 1.369f, 1.927f, 1.563f,
                     4.896792f, 0.772926f, -0.211055f, 5.880735f, 0.249f, 0.647f, 1.971f, 2.651f,
                     3.694536f})},
    {"PRelu per channel", "PRelu", 16, {},
     {F32({2, 3, 4}, {2.254f, -1.341f, -0.145f, 1.781f, 1.303f, -2.117f, 0.952f, -2.584f, -0.858f,
                      1.877f, -0.434f, 0.599f, 1.369f, 1.927f, 1.563f, -2.957f, -0.478f, -0.221f,
                      -2.667f, 0.249f, 0.647f, 1.971f, 2.651f, -2.231f}),
      F32({3, 1}, {0.449f, -1.983f, 1.693f})},
     F32({2, 3, 4}, {2.254f, -0.60210896f, -0.065105f, 1.781f, 1.303f, 4.1980114f, 0.952f,
                     5.1240726f, -1.4525939f, 1.877f, -0.73476195f, 0.599f, 1.369f, 1.927f,
                     1.563f, -1.327693f, 0.947874f, 0.438243f, 5.288661f, 0.249f, 0.647f, 1.971f,
                     2.651f, -3.777083f})},
    {"PRelu scalar slope", "PRelu", 16, {},
     {F32({2, 3, 4}, {2.254f, -1.341f, -0.145f, 1.781f, 1.303f, -2.117f, 0.952f, -2.584f, -0.858f,
                      1.877f, -0.434f, 0.599f, 1.369f, 1.927f, 1.563f, -2.957f, -0.478f, -0.221f,
                      -2.667f, 0.249f, 0.647f, 1.971f, 2.651f, -2.231f}),
      F32({}, {0.25f})},
     F32({2, 3, 4}, {2.254f, -0.33525f, -0.03625f, 1.781f, 1.303f, -0.52925f, 0.952f, -0.646f,
                     -0.2145f, 1.877f, -0.1085f, 0.599f, 1.369f, 1.927f, 1.563f, -0.73925f,
                     -0.1195f, -0.05525f, -0.66675f, 0.249f, 0.647f, 1.971f, 2.651f, -0.55775f})},
    {"PRelu same shape", "PRelu", 16, {},
     {F32({2, 3, 4}, {2.254f, -1.341f, -0.145f, 1.781f, 1.303f, -2.117f, 0.952f, -2.584f, -0.858f,
                      1.877f, -0.434f, 0.599f, 1.369f, 1.927f, 1.563f, -2.957f, -0.478f, -0.221f,
                      -2.667f, 0.249f, 0.647f, 1.971f, 2.651f, -2.231f}),
      F32({2, 3, 4}, {2.142f, -2.798f, 0.196f, 1.782f, 2.851f, -1.354f, -1.985f, 2.26f, 2.455f,
                      -1.815f, -0.351f, 1.315f, 2.072f, -1.99f, 0.99f, 1.847f, 0.298f, -2.012f,
                      -2.787f, -1.311f, 1.847f, -2.731f, -2.951f, -0.83f})},
     F32({2, 3, 4}, {2.254f, 3.752118f, -0.028419998f, 1.781f, 1.303f, 2.8664181f, 0.952f,
                     -5.8398404f, -2.10639f, 1.877f, 0.152334f, 0.599f, 1.369f, 1.927f, 1.563f,
                     -5.461579f, -0.142444f, 0.44465202f, 7.432929f, 0.249f, 0.647f, 1.971f,
                     2.651f, 1.8517299f})},
    {"PRelu int32", "PRelu", 16, {},
     {I32({2, 2}, {-4, 2, 6, -8}),
      I32({2}, {3, -1})},
     I32({2, 2}, {-12, 2, 6, 8})},
  };
}
std::vector<Case> CompareLogicCases() {
  return {
    {"Equal int32 broadcast", "Equal", 13, {},
     {I32({2, 3}, {1, 2, 3, 4, 5, 6}),
      I32({3}, {1, 5, 6})},
     B({2, 3}, {true, false, false, false, true, true})},
    {"Equal float NaN", "Equal", 13, {},
     {F32({4}, {1.0f, kNaN, 2.0f, -0.0f}),
      F32({4}, {1.0f, kNaN, 3.0f, 0.0f})},
     B({4}, {true, false, false, true})},
    {"Less float NaN", "Less", 13, {},
     {F32({4}, {1.0f, kNaN, 2.0f, -0.0f}),
      F32({4}, {1.0f, kNaN, 3.0f, 0.0f})},
     B({4}, {false, false, true, false})},
    {"Equal bool", "Equal", 13, {},
     {B({3}, {true, false, true}),
      B({2, 1}, {true, false})},
     B({2, 3}, {true, false, true, false, true, false})},
    {"Less broadcast", "Less", 13, {},
     {F32({2, 3}, {-2.618f, -2.103f, -2.861f, 0.148f, 1.18f, -0.438f}),
      F32({3}, {-2.193f, -2.103f, 0.542f})},
     B({2, 3}, {true, false, true, false, false, true})},
    {"LessOrEqual broadcast", "LessOrEqual", 16, {},
     {F32({2, 3}, {-2.618f, -2.103f, -2.861f, 0.148f, 1.18f, -0.438f}),
      F32({3}, {-2.193f, -2.103f, 0.542f})},
     B({2, 3}, {true, true, true, false, false, true})},
    {"Greater broadcast", "Greater", 13, {},
     {F32({2, 3}, {-2.618f, -2.103f, -2.861f, 0.148f, 1.18f, -0.438f}),
      F32({3}, {-2.193f, -2.103f, 0.542f})},
     B({2, 3}, {false, false, false, true, true, false})},
    {"GreaterOrEqual broadcast", "GreaterOrEqual", 16, {},
     {F32({2, 3}, {-2.618f, -2.103f, -2.861f, 0.148f, 1.18f, -0.438f}),
      F32({3}, {-2.193f, -2.103f, 0.542f})},
     B({2, 3}, {false, true, false, true, true, false})},
    {"Greater uint8", "Greater", 13, {},
     {U8({3}, {0, 200, 255}),
      U8({3}, {1, 200, 254})},
     B({3}, {false, false, true})},
    {"LessOrEqual int64", "LessOrEqual", 12, {},
     {I64({2}, {std::numeric_limits<int64_t>::min(), 5}),
      I64({2}, {int64_t{4611686018427387904}, 5})},
     B({2}, {true, true})},
    {"And broadcast", "And", 7, {},
     {B({2, 3}, {true, false, true, false, false, true}),
      B({3}, {true, false, false})},
     B({2, 3}, {true, false, false, false, false, false})},
    {"Or broadcast", "Or", 7, {},
     {B({2, 3}, {true, false, true, false, false, true}),
      B({3}, {true, false, false})},
     B({2, 3}, {true, false, true, true, false, true})},
    {"Xor broadcast", "Xor", 7, {},
     {B({2, 3}, {true, false, true, false, false, true}),
      B({3}, {true, false, false})},
     B({2, 3}, {false, false, true, true, false, true})},
    {"Xor scalar", "Xor", 7, {},
     {B({2, 3}, {true, false, true, false, false, true}),
      B({}, {true})},
     B({2, 3}, {false, true, false, true, true, false})},
  };
}
std::vector<Case> WhereVariadicClipCases() {
  return {
    {"Where 3-way broadcast", "Where", 16, {},
     {B({2, 1}, {true, false}),
      F32({3}, {2.644f, 2.955f, -1.55f}),
      F32({}, {-1.0f})},
     F32({2, 3}, {2.644f, 2.955f, -1.55f, -1.0f, -1.0f, -1.0f})},
    {"Where int64", "Where", 16, {},
     {B({2, 2}, {true, false, false, true}),
      I64({2, 2}, {1, 2, 3, 4}),
      I64({2, 2}, {9, 8, 7, 6})},
     I64({2, 2}, {1, 8, 7, 4})},
    {"Where bool", "Where", 9, {},
     {B({3}, {true, false, true}),
      B({2, 1}, {true, false}),
      B({3}, {false, true, true})},
     B({2, 3}, {true, true, true, false, true, false})},
    {"Max one input", "Max", 13, {},
     {F32({3}, {3.0f, 1.0f, kNaN})},
     F32({3}, {3.0f, 1.0f, kNaN})},
    {"Max two broadcast NaN", "Max", 13, {},
     {F32({3}, {3.0f, 1.0f, kNaN}),
      F32({2, 3}, {1.0f, 5.0f, 0.0f, 2.0f, -1.0f, 4.0f})},
     F32({2, 3}, {3.0f, 5.0f, kNaN, 3.0f, 1.0f, kNaN})},
    {"Max three", "Max", 13, {},
     {F32({3}, {3.0f, 1.0f, kNaN}),
      F32({2, 3}, {1.0f, 5.0f, 0.0f, 2.0f, -1.0f, 4.0f}),
      F32({1}, {2.5f})},
     F32({2, 3}, {3.0f, 5.0f, kNaN, 3.0f, 2.5f, kNaN})},
    {"Min three", "Min", 13, {},
     {F32({1}, {2.5f}),
      F32({2, 3}, {1.0f, 5.0f, 0.0f, 2.0f, -1.0f, 4.0f}),
      F32({3}, {3.0f, 1.0f, kNaN})},
     F32({2, 3}, {1.0f, 1.0f, kNaN, 2.0f, -1.0f, kNaN})},
    {"Min NaN first", "Min", 13, {},
     {F32({2}, {kNaN, 1.0f}),
      F32({2}, {0.0f, kNaN})},
     F32({2}, {kNaN, kNaN})},
    {"Min int8", "Min", 13, {},
     {I8({3}, {-128, 127, 0}),
      I8({2, 1}, {5, -5})},
     I8({2, 3}, {-128, 5, 0, -128, -5, -5})},
    {"Max uint64", "Max", 13, {},
     {U64({2}, {18446744073709551615ull, 0}),
      U64({2}, {9223372036854775808ull, 1})},
     U64({2}, {18446744073709551615ull, 1})},
    {"Sum one input", "Sum", 13, {},
     {F32({3}, {1.0f, 2.0f, 3.0f})},
     F32({3}, {1.0f, 2.0f, 3.0f})},
    {"Sum three broadcast", "Sum", 13, {},
     {F32({3}, {1.0f, 2.0f, 3.0f}),
      F32({2, 1}, {10.0f, 20.0f}),
      F32({}, {0.5f})},
     F32({2, 3}, {11.5f, 12.5f, 13.5f, 21.5f, 22.5f, 23.5f})},
    {"Sum shape grows late", "Sum", 13, {},
     {F32({3}, {1.0f, 2.0f, 3.0f}),
      F32({3}, {1.0f, 2.0f, 3.0f}),
      F32({2, 1}, {10.0f, 20.0f})},
     F32({2, 3}, {12.0f, 14.0f, 16.0f, 22.0f, 24.0f, 26.0f})},
    {"Mean one input", "Mean", 13, {},
     {F32({3}, {1.0f, 2.0f, 3.0f})},
     F32({3}, {1.0f, 2.0f, 3.0f})},
    {"Mean three broadcast", "Mean", 13, {},
     {F32({3}, {1.0f, 2.0f, 3.0f}),
      F32({2, 1}, {10.0f, 20.0f}),
      F32({}, {0.5f})},
     F32({2, 3}, {3.8333333f, 4.1666665f, 4.5f, 7.1666665f, 7.5f, 7.8333335f})},
    {"Mean f64", "Mean", 13, {},
     {F64({2}, {0.1, 0.2}),
      F64({2, 1}, {0.3, 0.7})},
     F64({2, 2}, {0.2, 0.25, 0.39999999999999997, 0.44999999999999996}),
     1e-15, 0},
    {"Clip opset 6 attributes", "Clip", 6, {{"min", -1.0f}, {"max", 1.0f}},
     {F32({2, 3}, {-3.0f, -0.5f, 0.0f, 0.5f, 2.0f, kNaN})},
     F32({2, 3}, {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, kNaN})},
    {"Clip opset 6 defaults", "Clip", 6, {},
     {F32({2, 3}, {-3.0f, -0.5f, 0.0f, 0.5f, 2.0f, kNaN})},
     F32({2, 3}, {-3.0f, -0.5f, 0.0f, 0.5f, 2.0f, kNaN})},
    {"Clip inputs", "Clip", 13, {},
     {F32({2, 3}, {-3.0f, -0.5f, 0.0f, 0.5f, 2.0f, kNaN}),
      F32({}, {-1.0f}),
      F32({}, {0.25f})},
     F32({2, 3}, {-1.0f, -0.5f, 0.0f, 0.25f, 0.25f, kNaN})},
    {"Clip min only", "Clip", 11, {},
     {F32({2, 3}, {-3.0f, -0.5f, 0.0f, 0.5f, 2.0f, kNaN}),
      F32({1}, {0.0f})},
     F32({2, 3}, {0.0f, 0.0f, 0.0f, 0.5f, 2.0f, kNaN})},
    {"Clip min above max yields max", "Clip", 13, {},
     {F32({2, 3}, {-3.0f, -0.5f, 0.0f, 0.5f, 2.0f, kNaN}),
      F32({}, {2.0f}),
      F32({}, {1.0f})},
     F32({2, 3}, {1.0f, 1.0f, 1.0f, 1.0f, 1.0f, kNaN})},
    {"Clip int8", "Clip", 13, {},
     {I8({5}, {-128, -5, 0, 5, 127}),
      I8({}, {-6}),
      I8({}, {6})},
     I8({5}, {-6, -5, 0, 5, 6})},
    {"Clip uint8 no bounds", "Clip", 13, {},
     {U8({3}, {0, 100, 255})},
     U8({3}, {0, 100, 255})},
    {"Clip f64 opset 6 default clips to the float range", "Clip", 6, {},
     {F64({3}, {-1e+300, 0.0, 1e+300})},
     F64({3}, {-3.4028234663852886e+38, 0.0, 3.4028234663852886e+38})},
  };
}
// clang-format on

TEST(MathTest, Float32Unary) { RunCases(Float32UnaryCases()); }
TEST(MathTest, Float64Unary) { RunCases(Float64UnaryCases()); }
TEST(MathTest, IntegerUnary) { RunCases(IntegerUnaryCases()); }
TEST(MathTest, Float16) { RunCases(Float16Cases()); }
TEST(MathTest, Binary) { RunCases(BinaryCases()); }
TEST(MathTest, CompareAndLogic) { RunCases(CompareLogicCases()); }
TEST(MathTest, WhereVariadicClip) { RunCases(WhereVariadicClipCases()); }

TEST(MathTest, WhereStringsAndBFloat16) {
  RunCases({
      {"Where string",
       "Where",
       16,
       {},
       {B({2, 1}, {true, false}), Str({2}, {"a", "b"}), Str({1}, {"z"})},
       Str({2, 2}, {"a", "b", "z", "z"})},
  });
  // bfloat16 values 1.5, -2 and 0.25 are exact, so Where copies them bit for bit.
  std::vector<BFloat16> x = {BFloat16(1.5f), BFloat16(-2.0f)}, y = {BFloat16(0.25f)};
  std::vector<BFloat16> want = {BFloat16(1.5f), BFloat16(0.25f)};
  RunCases({{"Where bfloat16",
             "Where",
             16,
             {},
             {B({2}, {true, false}), Make<BFloat16>({2}, x), Make<BFloat16>({}, y)},
             Make<BFloat16>({2}, want)}});
}

// ---------------------------------------------------------------------------------------------
// Bad inputs: every one must be rejected with a status (never a crash), naming the problem.

struct BadCase {
  std::string op;
  int opset;
  Attrs attrs;
  std::vector<Tensor> inputs;
  std::string message;  // a substring of the error
};

TEST(MathTest, RejectsBadInputs) {
  const Tensor f23 = F32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor f4 = F32({4}, {1, 2, 3, 4});
  const Tensor i23 = I32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b3 = B({3}, {true, false, true});
  const std::vector<BadCase> cases = {
      {"Add", 14, {}, {f23, i23}, "same dtype"},
      {"Add", 14, {}, {f23, f4}, "broadcast"},
      {"Add", 14, {}, {b3, b3}, "bool"},
      {"Add", 14, {}, {f23, Tensor()}, "input 1"},
      {"Add", 14, {}, {f23}, "inputs"},
      {"Sub", 14, {}, {Str({1}, {"a"}), Str({1}, {"b"})}, "string"},
      {"Relu", 14, {}, {U8({2}, {1, 2})}, "uint8"},
      {"Sqrt", 13, {}, {i23}, "int32"},
      {"Erf", 13, {}, {b3}, "bool"},
      {"Not", 1, {}, {f23}, "float32"},
      {"And", 7, {}, {i23, i23}, "int32"},
      {"Or", 7, {}, {b3, B({2}, {true, false})}, "broadcast"},
      {"Equal", 13, {}, {f23, i23}, "same dtype"},
      {"Less", 13, {}, {b3, b3}, "bool"},
      {"Where", 16, {}, {f23, f23, f23}, "bool"},
      {"Where", 16, {}, {b3, F32({3}, {1, 2, 3}), I32({3}, {1, 2, 3})}, "same dtype"},
      {"Where", 16, {}, {b3, f23, f4}, "broadcast"},
      {"PRelu", 16, {}, {f4, F32({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8})}, "broadcast"},
      {"PRelu", 16, {}, {f4, I32({4}, {1, 2, 3, 4})}, "dtype"},
      {"Clip", 13, {}, {f23, F32({2}, {0, 1})}, "scalar"},
      {"Clip", 13, {}, {f23, I32({}, {0})}, "dtype"},
      {"Clip", 6, {}, {f23, F32({}, {0})}, "attributes"},
      {"Clip", 13, {}, {b3}, "bool"},
      {"Mod", 13, {}, {f23, f23}, "fmod"},
      {"Mod", 13, {{"fmod", int64_t{1}}}, {b3, b3}, "bool"},
      {"BitShift", 11, {{"direction", std::string("LEFT")}}, {i23, i23}, "int32"},
      {"BitShift",
       11,
       {{"direction", std::string("UP")}},
       {U8({1}, {1}), U8({1}, {1})},
       "direction"},
      {"BitShift", 11, {}, {U8({1}, {1}), U8({1}, {1})}, "direction"},
      {"Pow", 15, {}, {f23, b3}, "exponent"},
      {"Pow", 15, {}, {U8({1}, {2}), U8({1}, {2})}, "uint8"},
      {"Pow", 15, {}, {f23, f4}, "broadcast"},
      {"Sum", 13, {}, {i23, i23}, "int32"},
      {"Mean", 13, {}, {}, "inputs"},
      {"Max", 13, {}, {f23, f23, i23}, "same dtype"},
      {"Min", 13, {}, {f23, f4}, "broadcast"},
      {"Celu", 12, {{"alpha", 0.0f}}, {f23}, "alpha"},
      {"LeakyRelu", 16, {{"alpha", std::string("x")}}, {f23}, "alpha"},
      {"IsNaN", 13, {}, {i23}, "int32"},
      {"Mish", 17, {}, {f23}, "schema"},
      {"Celu", 11, {}, {f23}, "schema"},
      {"LessOrEqual", 11, {}, {f23, f23}, "schema"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.op + " " + c.message);
    absl::StatusOr<std::vector<Tensor>> out = RunOp(MakeRun(c.op, c.opset, c.attrs, c.inputs));
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().message().find(c.message), std::string::npos) << out.status();
  }
}

// The kernels themselves validate too (a plan may skip inference): bypass RunOp.
TEST(MathTest, KernelsRejectBadInputsWithoutInference) {
  const OpRegistry& reg = OpRegistry::Global();
  const Tensor f = F32({2}, {1, 2});
  const Tensor i = I32({3}, {1, 2, 3});
  AttributeMap attrs;
  for (const char* op : {"Add", "Div", "Greater", "PRelu", "Pow", "Max", "Where"}) {
    SCOPED_TRACE(op);
    const KernelDef* def = reg.FindKernel(kCpuBackend, "", op, 17, DType::kUndefined);
    ASSERT_NE(def, nullptr);
    const OpSchema* schema = reg.FindSchema("", op, 17);
    ASSERT_NE(schema, nullptr);
    const int n = std::string(op) == "Where" ? 3 : 2;
    ASSERT_TRUE(schema->Complete(n, 1, attrs).ok());
    KernelInfo info{op, "", 17, "bad", &attrs, {}, {}, 1};
    auto kernel = def->factory(info);
    ASSERT_TRUE(kernel.ok());
    // Shapes [2] and [3] never broadcast; the dtypes differ too.
    KernelContext ctx(
        n == 3 ? std::vector<const Tensor*>{&f, &f, &i} : std::vector<const Tensor*>{&f, &i}, 1);
    EXPECT_FALSE((*kernel)->Compute(ctx).ok());
    KernelContext missing({&f, nullptr, nullptr}, 1);
    EXPECT_FALSE((*kernel)->Compute(missing).ok());
  }
}

// ---------------------------------------------------------------------------------------------
// Broadcasting sweep: Sub and Where over many shape combinations against a naive reference that
// maps every output index to each input by its own dimensions.

int64_t NaiveOffset(const Shape& out, const Shape& in, int64_t flat) {
  std::vector<int64_t> index(out.size());
  for (int d = static_cast<int>(out.size()) - 1; d >= 0; --d) {
    index[d] = flat % out[d];
    flat /= out[d];
  }
  int64_t offset = 0;
  const size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) {
    offset = offset * in[d] + (in[d] == 1 ? 0 : index[lead + d]);
  }
  return offset;
}

std::vector<double> Iota(int64_t n, double scale) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = scale * static_cast<double>(i + 1);
  return v;
}

TEST(MathTest, BroadcastSweepMatchesNaiveIndexing) {
  const std::vector<std::pair<Shape, Shape>> pairs = {
      {{}, {}},
      {{3}, {}},
      {{}, {2, 3}},
      {{2, 3}, {2, 3}},
      {{2, 3}, {3}},
      {{2, 3}, {2, 1}},
      {{2, 1}, {1, 3}},
      {{4, 1, 5}, {3, 1}},
      {{1, 1, 1}, {1}},
      {{1, 4, 1}, {1, 1}},
      {{2, 3, 4, 5}, {3, 1, 5}},
      {{2, 1, 4, 1}, {1, 3, 1, 5}},
      {{5, 1, 1, 7}, {5, 6, 1, 7}},
      {{1, 2, 1, 2, 1, 2}, {2, 1, 2, 1, 2, 1}},
      {{0, 3}, {3}},
      {{2, 0}, {1, 1}},
      {{3, 1, 2}, {1, 1, 2}},
      {{1, 1, 6}, {6}},
      {{6, 1, 1}, {6, 1, 1}},
  };
  for (const auto& [sa, sb] : pairs) {
    SCOPED_TRACE(ShapeToString(sa) + " - " + ShapeToString(sb));
    const Shape out = BroadcastShapes(sa, sb).value();
    const Tensor a = F64(sa, Iota(NumElements(sa), 1.0));
    const Tensor b = F64(sb, Iota(NumElements(sb), 1000.0));
    std::vector<double> want(NumElements(out));
    for (int64_t i = 0; i < NumElements(out); ++i) {
      want[i] =
          a.data<double>()[NaiveOffset(out, sa, i)] - b.data<double>()[NaiveOffset(out, sb, i)];
    }
    auto got = RunOp(MakeRun("Sub", 14, {}, {a, b}));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(CompareTensors((*got)[0], F64(out, want), 0, 0), "");

    // Where with the condition broadcast along the other pattern.
    const Shape sc = sb.empty() ? Shape{} : Shape(sb.begin() + 1, sb.end());
    std::vector<bool> cond(NumElements(sc));
    for (size_t i = 0; i < cond.size(); ++i) cond[i] = i % 3 != 1;
    const Tensor c = B(sc, cond);
    const Shape wout = BroadcastShapes(out, sc).value();
    std::vector<double> wwant(NumElements(wout));
    for (int64_t i = 0; i < NumElements(wout); ++i) {
      wwant[i] = cond[NaiveOffset(wout, sc, i)] ? a.data<double>()[NaiveOffset(wout, sa, i)]
                                                : b.data<double>()[NaiveOffset(wout, sb, i)];
    }
    auto where = RunOp(MakeRun("Where", 16, {}, {c, a, b}));
    ASSERT_TRUE(where.ok()) << where.status();
    EXPECT_EQ(CompareTensors((*where)[0], F64(wout, wwant), 0, 0), "");
  }
}

// Long float32 vectors (odd lengths exercise vector loop tails) against scalar loops.
TEST(MathTest, LongVectorsMatchScalarLoops) {
  for (int64_t n : {1, 7, 1037}) {
    SCOPED_TRACE(n);
    std::vector<float> x(n), y(n), add(n), mul_scalar(n), relu(n), sigmoid(n), max3(n);
    std::vector<bool> less(n);
    for (int64_t i = 0; i < n; ++i) {
      x[i] = static_cast<float>((i * 37) % 101) / 10.0f - 5.0f;
      y[i] = static_cast<float>((i * 53) % 89) / 8.0f - 5.5f;
      add[i] = x[i] + y[i];
      mul_scalar[i] = x[i] * 1.5f;
      relu[i] = x[i] > 0 ? x[i] : 0.0f;
      sigmoid[i] = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x[i]))));
      max3[i] = std::max(std::max(x[i], y[i]), 0.5f);
      less[i] = x[i] < y[i];
    }
    const Tensor tx = F32({n}, x), ty = F32({n}, y);
    const std::vector<Case> cases = {
        {"Add", "Add", 14, {}, {tx, ty}, F32({n}, add)},
        {"Mul scalar", "Mul", 14, {}, {tx, F32({}, {1.5f})}, F32({n}, mul_scalar)},
        {"Relu", "Relu", 14, {}, {tx}, F32({n}, relu)},
        {"Sigmoid", "Sigmoid", 13, {}, {tx}, F32({n}, sigmoid)},
        {"Max", "Max", 13, {}, {tx, ty, F32({1}, {0.5f})}, F32({n}, max3)},
        {"Less", "Less", 13, {}, {tx, ty}, B({n}, less)},
    };
    RunCases(cases);
  }
}

// float32 Exp, Sigmoid, Tanh and Erf use vectorizable approximations: sweep about a million
// float values spread over the whole range (every 4093rd bit pattern, plus specials) against
// libm in double rounded to float. Allowed: 3e-7 relative (about 2.5 ulp), 1e-44 absolute for
// subnormal results.
TEST(MathTest, FastFloat32FunctionsMatchLibmEverywhere) {
  std::vector<float> x;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 4093) {
    const uint32_t b = static_cast<uint32_t>(bits);
    float f;
    std::memcpy(&f, &b, sizeof(f));
    x.push_back(f);
  }
  for (float f : {0.0f,  -0.0f, kInf,  -kInf, kNaN,  1e-30f, -1e-30f, 0.625f, -0.625f, 1.0f,
                  -1.0f, 4.0f,  -4.0f, 9.0f,  -9.0f, 88.72f, 88.73f,  -87.4f, -103.9f, -104.5f}) {
    x.push_back(f);
  }
  const int64_t n = static_cast<int64_t>(x.size());
  const Tensor input = F32({n}, x);
  struct Fn {
    const char* op;
    double (*ref)(double);
  };
  const Fn fns[] = {
      {"Exp", [](double v) { return std::exp(v); }},
      {"Sigmoid", [](double v) { return 1.0 / (1.0 + std::exp(-v)); }},
      {"Tanh", [](double v) { return std::tanh(v); }},
      {"Erf", [](double v) { return std::erf(v); }},
  };
  for (const Fn& fn : fns) {
    SCOPED_TRACE(fn.op);
    auto out = RunOp(MakeRun(fn.op, 13, {}, {input}));
    ASSERT_TRUE(out.ok()) << out.status();
    const float* got = (*out)[0].data<float>();
    double worst = 0;
    int64_t worst_i = 0, bad = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float want = static_cast<float>(fn.ref(static_cast<double>(x[i])));
      if (std::isnan(want) || std::isinf(want)) {
        if (!(std::isnan(want) ? std::isnan(got[i]) : got[i] == want)) ++bad;
        continue;
      }
      const double err = std::fabs(static_cast<double>(got[i]) - want);
      const double rel = err / std::max(std::fabs(static_cast<double>(want)), 1e-300);
      if (!(err <= 1e-44 || rel <= 3e-7)) ++bad;
      if (err > 1e-44 && rel > worst) {
        worst = rel;
        worst_i = i;
      }
    }
    EXPECT_EQ(bad, 0) << "worst relative error " << worst << " at x = " << x[worst_i];
  }
}

// ---------------------------------------------------------------------------------------------
// Schemas: the opset ranges, and inference with partly unknown shapes.

TEST(MathTest, SchemasCoverTheirOpsetRanges) {
  const std::vector<std::pair<const char*, int>> ops = {
      {"Relu", 6},
      {"LeakyRelu", 6},
      {"PRelu", 7},
      {"Elu", 6},
      {"Selu", 6},
      {"Celu", 12},
      {"Sigmoid", 6},
      {"HardSigmoid", 6},
      {"HardSwish", 14},
      {"Tanh", 6},
      {"Erf", 9},
      {"Exp", 6},
      {"Log", 6},
      {"Sqrt", 6},
      {"Pow", 7},
      {"Abs", 6},
      {"Neg", 6},
      {"Reciprocal", 6},
      {"Floor", 6},
      {"Ceil", 6},
      {"Round", 11},
      {"Sign", 9},
      {"Clip", 6},
      {"Softplus", 1},
      {"Softsign", 1},
      {"ThresholdedRelu", 10},
      {"Shrink", 9},
      {"Sin", 7},
      {"Cos", 7},
      {"Tan", 7},
      {"Asin", 7},
      {"Acos", 7},
      {"Atan", 7},
      {"Sinh", 9},
      {"Cosh", 9},
      {"Asinh", 9},
      {"Acosh", 9},
      {"Atanh", 9},
      {"IsNaN", 9},
      {"IsInf", 10},
      {"Add", 7},
      {"Sub", 7},
      {"Mul", 7},
      {"Div", 7},
      {"Mod", 10},
      {"BitShift", 11},
      {"Min", 6},
      {"Max", 6},
      {"Sum", 6},
      {"Mean", 6},
      {"Equal", 7},
      {"Less", 7},
      {"LessOrEqual", 12},
      {"Greater", 7},
      {"GreaterOrEqual", 12},
      {"Where", 9},
      {"And", 7},
      {"Or", 7},
      {"Xor", 7},
      {"Not", 1},
  };
  const OpRegistry& reg = OpRegistry::Global();
  for (const auto& [op, since] : ops) {
    SCOPED_TRACE(op);
    EXPECT_EQ(reg.FindSchema("", op, since - 1), nullptr);
    for (int opset : {since, kMaxOpset}) {
      EXPECT_NE(reg.FindSchema("", op, opset), nullptr) << opset;
      EXPECT_NE(reg.FindKernel(kCpuBackend, "", op, opset, DType::kUndefined), nullptr) << opset;
    }
  }
  EXPECT_NE(reg.FindSchema("", "Mish", 18), nullptr);
  EXPECT_EQ(reg.FindSchema("", "Mish", 17), nullptr);
}

absl::StatusOr<TensorType> Infer(const std::string& op, int opset, std::vector<TensorType> inputs) {
  const OpSchema* schema = OpRegistry::Global().FindSchema("", op, opset);
  if (schema == nullptr) return absl::NotFoundError(op);
  AttributeMap attrs;
  RETURN_IF_ERROR(schema->Complete(static_cast<int>(inputs.size()), 1, attrs));
  std::vector<const Tensor*> constants(inputs.size(), nullptr);
  InferenceContext ctx(std::move(inputs), constants, &attrs, opset, 1);
  RETURN_IF_ERROR(schema->RunInference(ctx));
  return ctx.outputs()[0];
}

TEST(MathTest, InferenceWithUnknownDims) {
  const TensorType f_unknown_3{DType::kFloat32, Shape{-1, 3}};
  const TensorType f_4_1{DType::kFloat32, Shape{4, 1}};
  auto add = Infer("Add", 14, {f_unknown_3, f_4_1});
  ASSERT_TRUE(add.ok()) << add.status();
  EXPECT_EQ(add->dtype, DType::kFloat32);
  EXPECT_EQ(*add->shape, (Shape{4, 3}));

  auto less = Infer("Less", 13, {f_unknown_3, TensorType{DType::kFloat32, Shape{3}}});
  ASSERT_TRUE(less.ok()) << less.status();
  EXPECT_EQ(less->dtype, DType::kBool);
  EXPECT_EQ(*less->shape, (Shape{-1, 3}));

  auto unknown_rank = Infer("Mul", 14, {f_unknown_3, TensorType{DType::kFloat32, std::nullopt}});
  ASSERT_TRUE(unknown_rank.ok());
  EXPECT_FALSE(unknown_rank->shape.has_value());

  auto where = Infer("Where", 16,
                     {TensorType{DType::kBool, Shape{2, 1}}, TensorType{DType::kInt64, Shape{3}},
                      TensorType{DType::kInt64, Shape{}}});
  ASSERT_TRUE(where.ok()) << where.status();
  EXPECT_EQ(where->dtype, DType::kInt64);
  EXPECT_EQ(*where->shape, (Shape{2, 3}));

  auto isinf = Infer("IsInf", 10, {f_unknown_3});
  ASSERT_TRUE(isinf.ok());
  EXPECT_EQ(isinf->dtype, DType::kBool);
  EXPECT_EQ(*isinf->shape, (Shape{-1, 3}));

  auto pow =
      Infer("Pow", 15, {TensorType{DType::kInt32, Shape{2}}, TensorType{DType::kFloat32, Shape{}}});
  ASSERT_TRUE(pow.ok()) << pow.status();
  EXPECT_EQ(pow->dtype, DType::kInt32);

  auto prelu = Infer("PRelu", 16, {f_unknown_3, TensorType{DType::kFloat32, Shape{3}}});
  ASSERT_TRUE(prelu.ok()) << prelu.status();
  EXPECT_EQ(*prelu->shape, (Shape{-1, 3}));

  EXPECT_FALSE(Infer("Add", 14, {f_unknown_3, TensorType{DType::kInt32, Shape{3}}}).ok());
  EXPECT_FALSE(Infer("Add", 14, {f_4_1, TensorType{DType::kFloat32, Shape{3, 1}}}).ok());
  EXPECT_FALSE(Infer("PRelu", 16, {TensorType{DType::kFloat32, Shape{3}}, f_4_1}).ok());
  EXPECT_FALSE(Infer("Where", 16, {f_4_1, f_4_1, f_4_1}).ok());
  EXPECT_FALSE(Infer("Sqrt", 13, {TensorType{DType::kInt32, Shape{3}}}).ok());
  EXPECT_FALSE(Infer("Clip", 13, {f_4_1, TensorType{DType::kInt32, Shape{}}}).ok());
}

}  // namespace
}  // namespace cortado
