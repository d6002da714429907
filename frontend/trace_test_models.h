// Small models for the trace tests (trace_test.cc and trace_export_tool.cc): an MLP
// (Linear-ReLU-Linear), a CNN (Conv2d-BatchNorm2d-ReLU-MaxPool2d-Conv2d-ReLU-AvgPool-Flatten-
// Linear-Dropout, an nn::Sequential) and a LayerNorm/GELU/Softmax Sequential on 3-d input, built
// from the nn layers. Test-only; not synchronized.
#ifndef CORTADO_FRONTEND_TRACE_TEST_MODELS_H_
#define CORTADO_FRONTEND_TRACE_TEST_MODELS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "frontend/nn/module.h"
#include "frontend/tensor.h"

namespace cortado {
namespace frontend {
namespace trace_test {

struct ModelCase {
  std::string name;  // "mlp", "cnn", "norm"
  std::shared_ptr<nn::Module> module;
  std::function<Shape(int64_t batch)> input_shape;
};

// The three models, freshly initialised from `seed`, in training mode. The CNN has run a few
// training-mode forwards already, so its BatchNorm running statistics are not the initial 0/1.
std::vector<ModelCase> AllModels(uint64_t seed = 1);

// A random input of the model's shape for `batch`.
Tensor RandomInput(const ModelCase& model, int64_t batch);

// module.forward(x) in eval mode under NoGradGuard, restoring the module's mode afterwards.
Tensor EagerEval(nn::Module& module, const Tensor& x);

}  // namespace trace_test
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_TRACE_TEST_MODELS_H_
