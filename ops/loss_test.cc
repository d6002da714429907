// Table tests for the losses (ops/loss.cc): every case runs through RunOp (schema, shape
// inference, CPU kernel). Expected values come from the numpy reference implementations that ship
// with onnx 1.12 (onnx/backend/test/case/node/negativeloglikelihoodloss.py and
// softmaxcrossentropy.py), not from this code.
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "ops/op_test_util.h"

namespace cortado {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

Tensor F32(std::vector<float> v, Shape s) { return Tensor::FromVector(v, std::move(s)); }
Tensor F64(std::vector<double> v, Shape s) { return Tensor::FromVector(v, std::move(s)); }
Tensor I32(std::vector<int32_t> v, Shape s) { return Tensor::FromVector(v, std::move(s)); }
Tensor I64(std::vector<int64_t> v, Shape s) { return Tensor::FromVector(v, std::move(s)); }

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
