// Loss functions as objects (torch.nn's CrossEntropyLoss, NLLLoss, MSELoss, BCEWithLogitsLoss).
// They take two inputs, so they are not Modules: call `loss(input, target)`. The reduction is
// "mean" (default), "sum" or "none", checked by the constructor (cortado::Error otherwise); each
// call runs the functional loss of frontend/ops.h, which throws on bad shapes. Immutable after
// construction; thread-compatible.
#ifndef CORTADO_FRONTEND_NN_LOSS_H_
#define CORTADO_FRONTEND_NN_LOSS_H_

#include <string>

#include "frontend/tensor.h"

namespace cortado {
namespace frontend {
namespace nn {

class Loss {
 public:
  explicit Loss(std::string reduction);
  virtual ~Loss() = default;
  virtual Tensor operator()(const Tensor& input, const Tensor& target) const = 0;
  const std::string& reduction() const { return reduction_; }

 private:
  std::string reduction_;
};

// input: logits [N, C] (or [N, C, d...]); target: int64 class indices [N] (or [N, d...]).
class CrossEntropyLoss : public Loss {
 public:
  explicit CrossEntropyLoss(std::string reduction = "mean") : Loss(std::move(reduction)) {}
  Tensor operator()(const Tensor& input, const Tensor& target) const override;
};

// input: log-probabilities [N, C] (or [N, C, d...]); target: int64 class indices.
class NLLLoss : public Loss {
 public:
  explicit NLLLoss(std::string reduction = "mean") : Loss(std::move(reduction)) {}
  Tensor operator()(const Tensor& input, const Tensor& target) const override;
};

class MSELoss : public Loss {
 public:
  explicit MSELoss(std::string reduction = "mean") : Loss(std::move(reduction)) {}
  Tensor operator()(const Tensor& input, const Tensor& target) const override;
};

// input: logits; target: probabilities of the same shape.
class BCEWithLogitsLoss : public Loss {
 public:
  explicit BCEWithLogitsLoss(std::string reduction = "mean") : Loss(std::move(reduction)) {}
  Tensor operator()(const Tensor& input, const Tensor& target) const override;
};

}  // namespace nn
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_NN_LOSS_H_
