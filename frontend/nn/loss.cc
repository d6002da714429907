#include "frontend/nn/loss.h"

#include "frontend/ops.h"

namespace cortado {
namespace frontend {
namespace nn {

Loss::Loss(std::string reduction) : reduction_(std::move(reduction)) {
  if (reduction_ != "mean" && reduction_ != "sum" && reduction_ != "none") {
    throw Error(absl::InvalidArgumentError(absl::StrCat(
        "loss reduction must be \"mean\", \"sum\" or \"none\", got \"", reduction_, "\"")));
  }
}

Tensor CrossEntropyLoss::operator()(const Tensor& input, const Tensor& target) const {
  return cross_entropy(input, target, reduction());
}

Tensor NLLLoss::operator()(const Tensor& input, const Tensor& target) const {
  return nll_loss(input, target, reduction());
}

Tensor MSELoss::operator()(const Tensor& input, const Tensor& target) const {
  return mse_loss(input, target, reduction());
}

Tensor BCEWithLogitsLoss::operator()(const Tensor& input, const Tensor& target) const {
  return binary_cross_entropy_with_logits(input, target, reduction());
}

}  // namespace nn
}  // namespace frontend
}  // namespace cortado
