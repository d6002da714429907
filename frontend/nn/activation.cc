#include "frontend/nn/activation.h"

#include "frontend/ops.h"

namespace cortado {
namespace frontend {
namespace nn {

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor GELU::forward(const Tensor& x) { return gelu(x); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }

Tensor Softmax::forward(const Tensor& x) { return softmax(x, dim); }
std::string Softmax::extra_repr() const { return absl::StrCat("dim=", dim); }

Tensor LogSoftmax::forward(const Tensor& x) { return log_softmax(x, dim); }
std::string LogSoftmax::extra_repr() const { return absl::StrCat("dim=", dim); }

Dropout::Dropout(double p) : p(p) {
  if (!(p >= 0 && p <= 1)) {
    throw Error(absl::InvalidArgumentError(absl::StrCat("Dropout: p must be in [0, 1], got ", p)));
  }
}
Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, is_training()); }
std::string Dropout::extra_repr() const { return absl::StrCat("p=", p, ", inplace=False"); }

Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_dim, end_dim); }
std::string Flatten::extra_repr() const {
  return absl::StrCat("start_dim=", start_dim, ", end_dim=", end_dim);
}

}  // namespace nn
}  // namespace frontend
}  // namespace cortado
