#include "frontend/optim/optimizer.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace cortado {
namespace frontend {
namespace optim {

Optimizer::Optimizer(std::vector<Tensor> params, double lr) : params_(std::move(params)) {
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].defined()) {
      throw Error(
          absl::InvalidArgumentError(absl::StrCat("optimizer: parameter ", i, " is undefined")));
    }
    const DType dtype = params_[i].dtype();
    if (dtype != DType::kFloat32 && dtype != DType::kFloat64) {
      throw Error(absl::InvalidArgumentError(
          absl::StrCat("optimizer: parameter ", i, " is ", DTypeName(dtype),
                       "; optimizers update float32 and float64 parameters")));
    }
  }
  set_lr(lr);
}

void Optimizer::set_lr(double lr) {
  if (!(lr >= 0) || !std::isfinite(lr)) {
    throw Error(absl::InvalidArgumentError(absl::StrCat("optimizer: invalid learning rate ", lr)));
  }
  lr_ = lr;
}

void Optimizer::zero_grad(bool set_to_none) {
  for (Tensor& p : params_) {
    if (!p.grad().defined()) continue;
    p.set_grad(set_to_none ? Tensor() : Tensor::zeros(p.shape(), p.dtype()));
  }
}

namespace internal {

Tensor CheckedGrad(const Tensor& param, size_t i, const char* optimizer) {
  Tensor g = param.grad();
  if (!g.defined()) return g;
  if (g.dtype() != param.dtype() || g.numel() != param.numel()) {
    throw Error(absl::InvalidArgumentError(
        absl::StrCat(optimizer, ": parameter ", i, " is ", DTypeName(param.dtype()), " ",
                     ShapeToString(param.shape()), " but its gradient is ", DTypeName(g.dtype()),
                     " ", ShapeToString(g.shape()))));
  }
  return g;
}

cortado::Tensor ZerosLike(const Tensor& param) {
  return ValueOrThrow(cortado::Tensor::Zeros(param.dtype(), param.shape()));
}

void CheckOption(bool ok, const char* optimizer, const char* message) {
  if (!ok) throw Error(absl::InvalidArgumentError(absl::StrCat(optimizer, ": ", message)));
}

}  // namespace internal
}  // namespace optim
}  // namespace frontend
}  // namespace cortado
