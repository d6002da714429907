// Finite-difference gradient checks (float64) for every differentiable frontend operation, and
// forward checks of the operations against values computed by hand from their definitions.
#include "frontend/ops.h"

#include <cmath>

#include "frontend/gradcheck.h"
#include "gtest/gtest.h"

namespace cortado {
namespace frontend {
namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradCase {
  std::string name;
  std::vector<Shape> shapes;  // float64 inputs requiring grad, drawn from randn
  Fn f;
  // Optional transform of the random inputs (e.g. to keep log's argument positive).
  std::function<void(std::vector<Tensor>&)> prepare;
};

Tensor Positive(const Tensor& x) { return x.abs() + 0.5; }

Tensor Labels(const std::vector<int64_t>& v, const Shape& s) {
  return Tensor::from_vector<int64_t>(v, s);
}

std::vector<GradCase> Cases() {
  const DType f64 = DType::kFloat64;
  auto bn_stats = [f64](int64_t c) {
    return std::make_pair(Tensor::zeros({c}, f64), Tensor::ones({c}, f64));
  };
  return {
      {"add broadcast", {{2, 3}, {3}}, [](auto& in) { return add(in[0], in[1]); }},
      {"sub broadcast", {{2, 1, 3}, {4, 1}}, [](auto& in) { return sub(in[0], in[1]); }},
      {"mul broadcast", {{2, 3}, {2, 1}}, [](auto& in) { return mul(in[0], in[1]); }},
      {"div", {{2, 3}, {3}}, [](auto& in) { return div(in[0], Positive(in[1])); }},
      {"scalar ops", {{3}}, [](auto& in) { return (2.0 - in[0] * 3.0) / 4.0 + 1.0; }},
      {"neg", {{4}}, [](auto& in) { return -in[0]; }},
      {"exp", {{4}}, [](auto& in) { return exp(in[0]); }},
      {"log", {{4}}, [](auto& in) { return log(Positive(in[0])); }},
      {"sqrt", {{4}}, [](auto& in) { return sqrt(Positive(in[0])); }},
      {"abs", {{5}}, [](auto& in) { return abs(in[0]); }},
      {"pow", {{4}}, [](auto& in) { return pow(Positive(in[0]), 2.5); }},
      {"erf", {{5}}, [](auto& in) { return erf(in[0]); }},
      {"relu", {{2, 5}}, [](auto& in) { return relu(in[0]); }},
      {"sigmoid", {{5}}, [](auto& in) { return sigmoid(in[0]); }},
      {"tanh", {{5}}, [](auto& in) { return tanh(in[0]); }},
      {"gelu", {{6}}, [](auto& in) { return gelu(in[0]); }},
      {"maximum", {{2, 3}, {3}}, [](auto& in) { return maximum(in[0], in[1]); }},
      {"where", {{2, 3}, {2, 3}},
       [](auto& in) { return where(gt(in[0], in[1]), in[0] * 2.0, in[1]); }},
      {"matmul 2-d", {{3, 4}, {4, 2}}, [](auto& in) { return matmul(in[0], in[1]); }},
      {"matmul batched broadcast", {{2, 3, 4}, {4, 5}},
       [](auto& in) { return matmul(in[0], in[1]); }},
      {"matmul vector", {{4}, {4, 3}}, [](auto& in) { return matmul(in[0], in[1]); }},
      {"linear", {{3, 4}, {2, 4}, {2}}, [](auto& in) { return linear(in[0], in[1], in[2]); }},
      {"linear no bias", {{3, 4}, {2, 4}}, [](auto& in) { return linear(in[0], in[1], Tensor()); }},
      {"linear 3-d", {{2, 3, 4}, {2, 4}, {2}}, [](auto& in) { return linear(in[0], in[1], in[2]); }},
      {"sum all", {{2, 3}}, [](auto& in) { return sum(in[0]); }},
      {"sum dims keepdim", {{2, 3, 4}}, [](auto& in) { return sum(in[0], {0, 2}, true); }},
      {"mean all", {{2, 3}}, [](auto& in) { return mean(in[0]); }},
      {"mean dim", {{2, 3, 4}}, [](auto& in) { return mean(in[0], {-1}); }},
      {"max dim", {{3, 4}}, [](auto& in) { return max(in[0], 1); }},
      {"reshape", {{2, 6}}, [](auto& in) { return reshape(in[0], {3, -1}) * in[0].reshape({3, 4}); }},
      {"permute", {{2, 3, 4}}, [](auto& in) { return permute(in[0], {2, 0, 1}); }},
      {"transpose", {{2, 3}}, [](auto& in) { return in[0].t(); }},
      {"flatten", {{2, 3, 2, 2}}, [](auto& in) { return flatten(in[0], 1); }},
      {"flatten middle", {{2, 3, 2, 2}}, [](auto& in) { return flatten(in[0], 1, 2); }},
      {"squeeze unsqueeze", {{2, 1, 3}}, [](auto& in) { return squeeze(in[0], 1).unsqueeze(0); }},
      {"slice", {{5, 3}}, [](auto& in) { return slice(in[0], 0, 1, 4); }},
      {"slice step", {{7, 2}}, [](auto& in) { return slice(in[0], 0, 1, 7, 3); }},
      {"slice negative", {{2, 6}}, [](auto& in) { return slice(in[0], 1, -4, -1, 2); }},
      {"select", {{3, 4}}, [](auto& in) { return cat({select(in[0], 1, -1), in[0][2]}, 0); }},
      {"cat", {{2, 3}, {2, 2}}, [](auto& in) { return cat({in[0], in[1]}, 1); }},
      {"clone", {{3}}, [](auto& in) { return clone(in[0]) * in[0]; }},
      {"conv2d", {{2, 3, 6, 5}, {4, 3, 3, 3}, {4}},
       [](auto& in) { return conv2d(in[0], in[1], in[2]); }},
      {"conv2d stride pad dilation", {{1, 2, 7, 7}, {3, 2, 3, 2}, {3}},
       [](auto& in) { return conv2d(in[0], in[1], in[2], {2, 1}, {1, 2}, {2, 1}); }},
      {"conv2d groups no bias", {{1, 4, 5, 5}, {6, 2, 3, 3}},
       [](auto& in) { return conv2d(in[0], in[1], Tensor(), {1, 1}, {1, 1}, {1, 1}, 2); }},
      {"max_pool2d", {{2, 2, 6, 6}}, [](auto& in) { return max_pool2d(in[0], {2, 2}); }},
      {"max_pool2d overlap pad", {{1, 2, 5, 5}}, [](auto& in) { return max_pool2d(in[0], {3, 3}, {2, 2}, {1, 1}); }},
      {"avg_pool2d", {{2, 2, 6, 6}}, [](auto& in) { return avg_pool2d(in[0], {2, 2}); }},
      {"avg_pool2d pad exclude", {{1, 2, 5, 5}},
       [](auto& in) { return avg_pool2d(in[0], {3, 3}, {2, 2}, {1, 1}, false); }},
      {"adaptive_avg_pool2d 1x1", {{2, 3, 4, 4}}, [](auto& in) { return adaptive_avg_pool2d(in[0], {1, 1}); }},
      {"adaptive_avg_pool2d 2x2", {{1, 2, 4, 6}}, [](auto& in) { return adaptive_avg_pool2d(in[0], {2, 2}); }},
      {"batch_norm train", {{4, 3, 2, 2}, {3}, {3}},
       [bn_stats](auto& in) {
         auto [m, v] = bn_stats(3);
         return batch_norm(in[0], m, v, in[1], in[2], true);
       }},
      {"batch_norm train 2-d", {{5, 3}, {3}, {3}},
       [bn_stats](auto& in) {
         auto [m, v] = bn_stats(3);
         return batch_norm(in[0], m, v, in[1], in[2], true);
       }},
      {"batch_norm eval", {{2, 3, 2, 2}, {3}, {3}},
       [f64](auto& in) {
         Tensor m = Tensor::from_vector<double>({0.1, -0.2, 0.3}, {3});
         Tensor v = Tensor::from_vector<double>({0.5, 1.5, 2.0}, {3});
         return batch_norm(in[0], m, v, in[1], in[2], false);
       }},
      {"layer_norm", {{3, 4}, {4}, {4}}, [](auto& in) { return layer_norm(in[0], {4}, in[1], in[2]); }},
      {"layer_norm 2 dims no bias", {{2, 3, 4}, {3, 4}},
       [](auto& in) { return layer_norm(in[0], {3, 4}, in[1], Tensor()); }},
      {"embedding", {{5, 3}},
       [](auto& in) { return embedding(Labels({1, 4, 1, 0}, {2, 2}), in[0]); }},
      {"softmax", {{3, 4}}, [](auto& in) { return softmax(in[0], 1); }},
      {"softmax dim 0", {{3, 4}}, [](auto& in) { return softmax(in[0], 0); }},
      {"log_softmax", {{3, 4}}, [](auto& in) { return log_softmax(in[0], -1); }},
      {"cross_entropy mean", {{4, 5}},
       [](auto& in) { return cross_entropy(in[0], Labels({0, 4, 2, 2}, {4})); }},
      {"cross_entropy sum", {{3, 4}},
       [](auto& in) { return cross_entropy(in[0], Labels({3, 1, 0}, {3}), "sum"); }},
      {"cross_entropy none spatial", {{2, 3, 2}},
       [](auto& in) { return cross_entropy(in[0], Labels({0, 2, 1, 1}, {2, 2}), "none"); }},
      {"nll_loss mean", {{4, 3}},
       [](auto& in) { return nll_loss(log_softmax(in[0], 1), Labels({0, 2, 1, 2}, {4})); }},
      {"nll_loss none", {{3, 3}},
       [](auto& in) { return nll_loss(in[0], Labels({2, 0, 1}, {3}), "none"); }},
      {"mse_loss", {{3, 4}, {3, 4}}, [](auto& in) { return mse_loss(in[0], in[1]); }},
      {"mse_loss sum", {{5}, {5}}, [](auto& in) { return mse_loss(in[0], in[1], "sum"); }},
      {"bce_with_logits", {{4, 2}, {4, 2}},
       [](auto& in) { return binary_cross_entropy_with_logits(in[0] * 3.0, sigmoid(in[1])); }},
  };
}

TEST(GradCheckTest, EveryOpMatchesFiniteDifferences) {
  manual_seed(7);
  int passed = 0;
  const std::vector<GradCase> cases = Cases();
  for (const GradCase& c : cases) {
    std::vector<Tensor> inputs;
    for (const Shape& s : c.shapes) {
      inputs.push_back(Tensor::randn(s, DType::kFloat64).requires_grad_());
    }
    const std::string failure = GradCheck(c.f, inputs);
    EXPECT_EQ(failure, "") << c.name;
    if (failure.empty()) ++passed;
  }
  std::printf("gradient checks: %d of %zu passed\n", passed, cases.size());
}

TEST(OpsTest, ForwardValues) {
  Tensor x = Tensor::from_vector<float>({-1, 0, 2, 3}, {2, 2});
  EXPECT_EQ(relu(x).to_vector<float>(), (std::vector<float>{0, 0, 2, 3}));
  EXPECT_FLOAT_EQ(sum(x).item(), 4);
  EXPECT_FLOAT_EQ(mean(x).item(), 1);
  EXPECT_EQ(argmax(x, 1).to_vector<int64_t>(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(max(x, 0).to_vector<float>(), (std::vector<float>{2, 3}));
  EXPECT_EQ(x.t().to_vector<float>(), (std::vector<float>{-1, 2, 0, 3}));
  EXPECT_EQ(slice(x, 1, 1, 2).to_vector<float>(), (std::vector<float>{0, 3}));
  EXPECT_EQ(x[1].to_vector<float>(), (std::vector<float>{2, 3}));
  EXPECT_EQ(cat({x, x}, 0).shape(), (Shape{4, 2}));
  // gelu(1) = 0.5 * (1 + erf(1/sqrt(2)))
  EXPECT_NEAR(gelu(Tensor::scalar(1.0)).item(), 0.5 * (1 + std::erf(1 / std::sqrt(2.0))), 1e-6);
  // cross entropy of uniform logits is log(C)
  EXPECT_NEAR(cross_entropy(Tensor::zeros({2, 4}), Labels({1, 3}, {2})).item(), std::log(4.0), 1e-6);
  // bce_with_logits(0, y) = log 2
  EXPECT_NEAR(binary_cross_entropy_with_logits(Tensor::zeros({3}), Tensor::ones({3})).item(),
              std::log(2.0), 1e-6);
}

TEST(OpsTest, BatchNormUpdatesRunningStatsLikePyTorch) {
  // Batch [[1],[3]] per channel: mean 2, unbiased variance 2.
  Tensor x = Tensor::from_vector<float>({1, 3}, {2, 1});
  Tensor m = Tensor::zeros({1}), v = Tensor::ones({1});
  batch_norm(x, m, v, Tensor(), Tensor(), true, 0.1);
  EXPECT_NEAR(m.item(), 0.2, 1e-6);
  EXPECT_NEAR(v.item(), 0.9 + 0.1 * 2, 1e-6);
}

TEST(OpsTest, DropoutScalesKeptElementsAndIsIdentityInEval) {
  manual_seed(3);
  Tensor x = Tensor::ones({1000});
  Tensor y = dropout(x, 0.25, true);
  int kept = 0;
  for (float v : y.to_vector<float>()) {
    if (v != 0) {
      EXPECT_NEAR(v, 1 / 0.75, 1e-6);
      ++kept;
    }
  }
  EXPECT_GT(kept, 650);
  EXPECT_LT(kept, 850);
  EXPECT_EQ(dropout(x, 0.25, false).impl(), x.impl());
}

TEST(OpsTest, BadInputsThrowClearErrors) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4});
  try {
    add(a, b);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("broadcast"), std::string::npos) << e.what();
  }
  EXPECT_THROW(conv2d(a, a, Tensor()), Error);
  EXPECT_THROW(select(a, 0, 5), Error);
  EXPECT_THROW(mse_loss(a, a, "avg"), Error);
  EXPECT_THROW(cross_entropy(a, Labels({0, 7}, {2})), Error);
}

}  // namespace
}  // namespace frontend
}  // namespace cortado
