#include "frontend/trace_test_models.h"

#include "frontend/nn/nn.h"
#include "frontend/ops.h"

namespace cortado {
namespace frontend {
namespace trace_test {
namespace {

// Linear-ReLU-Linear with named children, so that parameters are "fc1.weight", ...
class Mlp : public nn::Module {
 public:
  Mlp() {
    fc1_ = register_module("fc1", std::make_shared<nn::Linear>(8, 16));
    fc2_ = register_module("fc2", std::make_shared<nn::Linear>(16, 4));
  }
  Tensor forward(const Tensor& x) override { return fc2_->forward(relu(fc1_->forward(x))); }
  std::string name() const override { return "Mlp"; }

 private:
  std::shared_ptr<nn::Linear> fc1_, fc2_;
};

// Makes the affine parameters of the normalisation layers non-trivial (they start as 1 and 0).
void RandomizeAffine(nn::Module& module) {
  for (auto& [name, m] : module.named_modules()) {
    Tensor weight, bias;
    if (auto* bn = dynamic_cast<nn::BatchNorm2d*>(m)) {
      weight = bn->weight;
      bias = bn->bias;
    } else if (auto* ln = dynamic_cast<nn::LayerNorm*>(m)) {
      weight = ln->weight;
      bias = ln->bias;
    } else {
      continue;
    }
    nn::init::uniform_(weight, 0.5, 1.5);
    nn::init::uniform_(bias, -0.5, 0.5);
  }
}

}  // namespace

std::vector<ModelCase> AllModels(uint64_t seed) {
  manual_seed(seed);
  std::vector<ModelCase> models;
  models.push_back({"mlp", std::make_shared<Mlp>(), [](int64_t n) { return Shape{n, 8}; }});
  // [N, 1, 12, 12] -> conv 3x3 pad 1 -> [N, 4, 12, 12] -> max pool 2 -> [N, 4, 6, 6]
  // -> conv 3x3 -> [N, 8, 4, 4] -> avg pool 2 -> [N, 8, 2, 2] -> flatten -> [N, 32] -> [N, 10].
  auto cnn = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Conv2d>(1, 4, 3, 1, 1), std::make_shared<nn::BatchNorm2d>(4),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),
      std::make_shared<nn::Conv2d>(4, 8, 3), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::AvgPool2d>(2), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Linear>(32, 10), std::make_shared<nn::Dropout>(0.5));
  models.push_back({"cnn", cnn, [](int64_t n) { return Shape{n, 1, 12, 12}; }});
  // [N, 3, 8] -> Linear -> LayerNorm -> GELU -> Linear -> Softmax(-1) -> [N, 3, 5].
  auto norm = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(8, 16), std::make_shared<nn::LayerNorm>(Shape{16}),
      std::make_shared<nn::GELU>(), std::make_shared<nn::Linear>(16, 5),
      std::make_shared<nn::Softmax>(-1));
  models.push_back({"norm", norm, [](int64_t n) { return Shape{n, 3, 8}; }});
  for (ModelCase& m : models) {
    RandomizeAffine(*m.module);
    m.module->train();
  }
  // Move the CNN's running statistics (training-mode forwards update them).
  NoGradGuard no_grad;
  for (int i = 0; i < 3; ++i) models[1].module->forward(Tensor::randn({6, 1, 12, 12}) * 2.0 + 0.5);
  return models;
}

Tensor RandomInput(const ModelCase& model, int64_t batch) {
  return Tensor::randn(model.input_shape(batch));
}

Tensor EagerEval(nn::Module& module, const Tensor& x) {
  const bool training = module.is_training();
  module.eval();
  Tensor y;
  {
    NoGradGuard no_grad;
    y = module.forward(x);
  }
  module.train(training);
  return y;
}

}  // namespace trace_test
}  // namespace frontend
}  // namespace cortado
