// Optimizer and scheduler behaviour other than the arithmetic (which optim_trajectory_test
// compares with PyTorch): option checks, skipped parameters, zero_grad, dtype checks.
#include "frontend/optim/optim.h"

#include <vector>

#include "gtest/gtest.h"

namespace cortado {
namespace frontend {
namespace optim {
namespace {

// Options with some fields set (C++17 has no designated initializers).
template <typename O, typename F>
O With(F&& set) {
  O o;
  set(o);
  return o;
}
SGDOptions Sgd(double lr, double momentum = 0, double dampening = 0, bool nesterov = false) {
  return With<SGDOptions>([&](SGDOptions& o) {
    o.lr = lr;
    o.momentum = momentum;
    o.dampening = dampening;
    o.nesterov = nesterov;
  });
}

Tensor Param(std::vector<double> v) {
  return Tensor::from_vector(v, {static_cast<int64_t>(v.size())}).requires_grad_();
}

TEST(OptimizerTest, RejectsBadOptions) {
  std::vector<Tensor> ps = {Param({1, 2})};
  EXPECT_THROW(SGD(ps, Sgd(-1)), Error);
  EXPECT_THROW(SGD(ps, Sgd(0.1, -0.5)), Error);
  EXPECT_THROW(SGD(ps, Sgd(0.1, 0, 0, true)), Error);  // no momentum
  EXPECT_THROW(SGD(ps, Sgd(0.1, 0.9, 0.1, true)), Error);
  EXPECT_THROW(Adam(ps, With<AdamOptions>([](AdamOptions& o) { o.betas = {1.0, 0.999}; })), Error);
  EXPECT_THROW(Adam(ps, With<AdamOptions>([](AdamOptions& o) { o.eps = -1; })), Error);
  EXPECT_THROW(AdamW(ps, With<AdamWOptions>([](AdamWOptions& o) { o.weight_decay = -1; })), Error);
  SGD sgd(ps, Sgd(0.1));
  EXPECT_THROW(StepLR(sgd, 0), Error);
  EXPECT_THROW(CosineAnnealingLR(sgd, 0), Error);
  EXPECT_THROW(sgd.set_lr(-0.1), Error);
}

TEST(OptimizerTest, RejectsNonFloatAndUndefinedParams) {
  EXPECT_THROW(SGD({Tensor::zeros({2}, DType::kInt64)}, Sgd(0.1)), Error);
  EXPECT_THROW(Adam({Tensor()}), Error);
}

TEST(OptimizerTest, RejectsGradientOfAnotherDtypeOrSize) {
  Tensor p = Param({1, 2});
  SGD sgd({p}, Sgd(0.1));
  p.set_grad(Tensor::ones({2}, DType::kFloat32));
  EXPECT_THROW(sgd.step(), Error);
  p.set_grad(Tensor::ones({3}, DType::kFloat64));
  EXPECT_THROW(sgd.step(), Error);
}

TEST(OptimizerTest, SkipsParametersWithoutGradient) {
  Tensor a = Param({1, 2});
  Tensor b = Param({3, 4});
  Adam adam({a, b}, With<AdamOptions>([](AdamOptions& o) { o.lr = 0.1; }));
  a.set_grad(Tensor::full({2}, 0.5, DType::kFloat64));
  adam.step();
  EXPECT_NE(a.to_vector<double>(), (std::vector<double>{1, 2}));
  EXPECT_EQ(b.to_vector<double>(), (std::vector<double>{3, 4}));
}

TEST(OptimizerTest, UpdatesInPlaceThroughSharedHandles) {
  Tensor p = Param({1, -1});
  std::vector<Tensor> handles = {p};
  SGD sgd(handles, Sgd(0.5));
  p.set_grad(Tensor::full({2}, 2.0, DType::kFloat64));
  sgd.step();  // p - 0.5 * 2
  EXPECT_EQ(p.to_vector<double>(), (std::vector<double>{0, -2}));
}

TEST(OptimizerTest, ZeroGrad) {
  Tensor p = Param({1, 2});
  SGD sgd({p}, Sgd(0.1));
  Tensor g = Tensor::full({2}, 3.0, DType::kFloat64);
  p.set_grad(g);
  sgd.zero_grad(/*set_to_none=*/false);
  ASSERT_TRUE(p.grad().defined());
  EXPECT_EQ(p.grad().to_vector<double>(), (std::vector<double>{0, 0}));
  EXPECT_EQ(g.to_vector<double>(), (std::vector<double>{3, 3}));  // old storage untouched
  sgd.zero_grad();
  EXPECT_FALSE(p.grad().defined());
  sgd.step();  // nothing to do
  EXPECT_EQ(p.to_vector<double>(), (std::vector<double>{1, 2}));
}

TEST(OptimizerTest, TrainsThroughAutograd) {
  // Minimizes sum((w - 3)^2) with the frontend's autograd computing the gradient.
  Tensor w = Tensor::zeros({3}, DType::kFloat32).requires_grad_();
  Adam adam({w}, With<AdamOptions>([](AdamOptions& o) { o.lr = 0.1; }));
  for (int i = 0; i < 300; ++i) {
    adam.zero_grad();
    Tensor loss = ((w - 3.0) * (w - 3.0)).sum();
    loss.backward();
    adam.step();
  }
  for (float x : w.to_vector<float>()) EXPECT_NEAR(x, 3.0f, 1e-2);
}

TEST(SchedulerTest, SetsTheOptimizersLearningRate) {
  Tensor p = Param({1});
  SGD sgd({p}, Sgd(1.0));
  StepLR sched(sgd, 2, 0.5);
  EXPECT_EQ(sched.get_last_lr(), 1.0);
  EXPECT_EQ(sched.last_epoch(), 0);
  sched.step();
  EXPECT_EQ(sgd.lr(), 1.0);
  sched.step();
  EXPECT_EQ(sgd.lr(), 0.5);
  EXPECT_EQ(sched.get_last_lr(), 0.5);
  EXPECT_EQ(sched.last_epoch(), 2);
}

}  // namespace
}  // namespace optim
}  // namespace frontend
}  // namespace cortado
