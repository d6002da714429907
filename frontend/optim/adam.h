// Adam and AdamW, with exactly the update rules of PyTorch 1.13's torch.optim.Adam and
// torch.optim.AdamW (single-tensor path). Per parameter, at its t-th step with a gradient:
//   g = maximize ? -g : g
//   Adam:  g = g + weight_decay * p          AdamW: p = p * (1 - lr * weight_decay)
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
//   v_hat = amsgrad ? (v_max = max(v_max, v)) : v
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)
// State (m, v, v_max, t) is created on a parameter's first step with a gradient. Contract and
// thread-safety as Optimizer (optimizer.h).
#ifndef CORTADO_FRONTEND_OPTIM_ADAM_H_
#define CORTADO_FRONTEND_OPTIM_ADAM_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "frontend/optim/optimizer.h"

namespace cortado {
namespace frontend {
namespace optim {

struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
  bool maximize = false;
};

struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;  // decoupled: p *= 1 - lr * weight_decay
  bool amsgrad = false;
  bool maximize = false;
};

class Adam : public Optimizer {
 public:
  // Throws cortado::Error on invalid options (lr, eps or weight_decay < 0, betas outside [0, 1)).
  Adam(std::vector<Tensor> params, AdamOptions options = {});

  void step() override;
  const AdamOptions& options() const { return options_; }

 protected:
  // AdamW's constructor: the same state, decoupled weight decay.
  Adam(std::vector<Tensor> params, const AdamOptions& options, bool decoupled_weight_decay);

 private:
  struct State {
    int64_t step = 0;
    cortado::Tensor exp_avg, exp_avg_sq, max_exp_avg_sq;
  };
  AdamOptions options_;
  bool decoupled_;
  std::vector<State> state_;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamWOptions options = {});
};

}  // namespace optim
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_OPTIM_ADAM_H_
