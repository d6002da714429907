// The eager Tensor: creation, metadata, operators, and the autograd engine's behaviour
// (accumulation, detach, no-grad, shared subgraphs, freed graphs, errors).
#include "frontend/tensor.h"

#include "frontend/autograd.h"
#include "frontend/ops.h"
#include "gtest/gtest.h"

namespace cortado {
namespace frontend {
namespace {

TEST(TensorTest, Creation) {
  EXPECT_EQ(Tensor::zeros({2, 3}).to_vector<float>(), std::vector<float>(6, 0));
  EXPECT_EQ(Tensor::ones({2}, DType::kInt64).to_vector<int64_t>(), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(Tensor::full({2}, 2.5, DType::kFloat64).to_vector<double>(),
            (std::vector<double>{2.5, 2.5}));
  EXPECT_EQ(Tensor::arange(0, 1, 0.25).to_vector<float>(), (std::vector<float>{0, .25, .5, .75}));
  EXPECT_EQ(Tensor::arange(5, 0, -2, DType::kInt32).to_vector<int32_t>(),
            (std::vector<int32_t>{5, 3, 1}));
  const std::vector<float> buffer = {1, 2, 3, 4, 5, 6};
  Tensor t = Tensor::from_buffer(buffer.data(), DType::kFloat32, {3, 2});
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.size(-1), 2);
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.dim(), 2);
  EXPECT_EQ(t[1].to_vector<float>(), (std::vector<float>{3, 4}));
  EXPECT_FLOAT_EQ(t[2].slice(0, 1, 2).item(), 6);
  EXPECT_THROW(t.item(), Error);
  EXPECT_THROW(Tensor::from_vector<float>({1, 2, 3}, {2, 2}), Error);
  EXPECT_THROW(Tensor::zeros({-1}), Error);
  EXPECT_THROW(t.to_vector<double>(), Error);  // float32 elements read as double
}

TEST(TensorTest, RandomNumbersFollowTheSeed) {
  manual_seed(42);
  Tensor a = Tensor::randn({1000});
  manual_seed(42);
  Tensor b = Tensor::randn({1000});
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  EXPECT_NEAR(a.mean().item(), 0, 0.1);
  EXPECT_NEAR(((a - a.mean()).pow(2)).mean().item(), 1, 0.1);
  Tensor u = Tensor::rand({1000});
  for (float v : u.to_vector<float>()) {
    ASSERT_GE(v, 0);
    ASSERT_LT(v, 1);
  }
}

TEST(TensorTest, OperatorsBroadcastAndKeepTheDtype) {
  Tensor a = Tensor::from_vector<double>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector<double>({10, 20}, {2});
  EXPECT_EQ((a + b).to_vector<double>(), (std::vector<double>{11, 22, 13, 24}));
  EXPECT_EQ((a * 2.0 - 1.0).to_vector<double>(), (std::vector<double>{1, 3, 5, 7}));
  EXPECT_EQ((1.0 / a).dtype(), DType::kFloat64);
  EXPECT_EQ(a.matmul(a).to_vector<double>(), (std::vector<double>{7, 10, 15, 22}));
  EXPECT_EQ(a.to(DType::kInt32).dtype(), DType::kInt32);
  EXPECT_EQ(a.permute({1, 0}).to_vector<double>(), (std::vector<double>{1, 3, 2, 4}));
}

TEST(AutogradTest, SimpleChainAndAccumulation) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3}, {3}).requires_grad_();
  EXPECT_TRUE(x.is_leaf());
  Tensor y = (x * x).sum();  // dy/dx = 2x
  EXPECT_FALSE(y.is_leaf());
  EXPECT_EQ(y.grad_fn()->name(), "SumBackward");
  y.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 4, 6}));
  (x * 3.0).sum().backward();  // gradients accumulate
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{5, 7, 9}));
  x.set_grad(Tensor());
  EXPECT_FALSE(x.grad().defined());
}

TEST(AutogradTest, SharedSubexpressionSumsBothPaths) {
  Tensor x = Tensor::scalar(3.0, DType::kFloat64).requires_grad_();
  Tensor h = x * x;          // 9
  Tensor z = h * h + h;      // x^4 + x^2: dz/dx = 4x^3 + 2x = 114
  z.backward();
  EXPECT_DOUBLE_EQ(x.grad().item(), 114);
}

TEST(AutogradTest, DetachNoGradAndNonFloatInputs) {
  Tensor x = Tensor::ones({2}).requires_grad_();
  Tensor d = (x * 2.0).detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(GradEnabled());
    EXPECT_FALSE((x * 2.0).requires_grad());
  }
  EXPECT_TRUE(GradEnabled());
  EXPECT_THROW(Tensor::ones({2}, DType::kInt64).requires_grad_(), Error);
  Tensor y = (x * d).sum();  // d is a constant: dy/dx = d = 2
  y.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 2}));
}

TEST(AutogradTest, GradientOfACastFlowsBackInTheSourceDtype) {
  Tensor x = Tensor::from_vector<float>({1, 2}, {2}).requires_grad_();
  (x.to(DType::kFloat64) * 3.0).sum().backward();
  EXPECT_EQ(x.grad().dtype(), DType::kFloat32);
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{3, 3}));
}

TEST(AutogradTest, FreedGraphAndBadBackwardCallsAreErrors) {
  Tensor x = Tensor::ones({2}).requires_grad_();
  Tensor y = (x * x).sum();
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{4, 4}));
  EXPECT_THROW(y.backward(), Error);                      // graph freed
  EXPECT_THROW((x * 2.0).backward(), Error);              // not a scalar
  EXPECT_THROW(Tensor::ones({1}).backward(), Error);      // does not require grad
  Tensor v = x * 2.0;
  v.backward(Tensor::from_vector<float>({1, 10}, {2}));  // explicit vector-Jacobian product
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{6, 24}));
  EXPECT_THROW((x * 2.0).backward(Tensor::ones({3})), Error);
  EXPECT_THROW(Tensor().shape(), Error);
}

TEST(TensorTest, CatchErrorTurnsThrowsIntoStatus) {
  absl::Status s = CatchError([] { Tensor::zeros({2}) + Tensor::zeros({3}); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CatchError([] {}).ok());
}

}  // namespace
}  // namespace frontend
}  // namespace cortado
