// Modules without parameters that act elementwise or reshape: ReLU, GELU (exact erf form),
// Sigmoid, Tanh, Softmax, LogSoftmax, Dropout, Flatten, Identity. Each forward calls the
// functional op of frontend/ops.h. Dropout zeroes elements with probability p and scales the rest
// by 1 / (1 - p) in training mode only (drawing from frontend::GlobalGenerator()), and is the
// identity in eval mode. Constructors throw cortado::Error on bad options. Not synchronized.
#ifndef CORTADO_FRONTEND_NN_ACTIVATION_H_
#define CORTADO_FRONTEND_NN_ACTIVATION_H_

#include <cstdint>
#include <string>

#include "frontend/nn/module.h"

namespace cortado {
namespace frontend {
namespace nn {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "ReLU"; }
};

class GELU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "GELU"; }
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Sigmoid"; }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Tanh"; }
};

class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim) : dim(dim) {}
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Softmax"; }
  std::string extra_repr() const override;
  const int64_t dim;
};

class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim) : dim(dim) {}
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "LogSoftmax"; }
  std::string extra_repr() const override;
  const int64_t dim;
};

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);  // 0 <= p <= 1
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Dropout"; }
  std::string extra_repr() const override;
  const double p;
};

// Flattens dimensions start_dim..end_dim (inclusive; negative counts from the end) into one.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Flatten"; }
  std::string extra_repr() const override;
  const int64_t start_dim;
  const int64_t end_dim;
};

class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x; }
  std::string name() const override { return "Identity"; }
};

}  // namespace nn
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_NN_ACTIVATION_H_
