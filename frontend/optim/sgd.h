// SGD: stochastic gradient descent with optional momentum, dampening, Nesterov momentum, weight
// decay and maximize, with exactly the update rule of PyTorch 1.13's torch.optim.SGD:
//   d = (maximize ? -g : g) + weight_decay * p
//   buf = d (first step), else buf = momentum * buf + (1 - dampening) * d   [momentum != 0]
//   d = nesterov ? d + momentum * buf : buf                                  [momentum != 0]
//   p = p - lr * d
// Momentum buffers are created on a parameter's first step with a gradient. Contract and
// thread-safety as Optimizer (optimizer.h).
#ifndef CORTADO_FRONTEND_OPTIM_SGD_H_
#define CORTADO_FRONTEND_OPTIM_SGD_H_

#include <vector>

#include "frontend/optim/optimizer.h"

namespace cortado {
namespace frontend {
namespace optim {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;  // needs momentum > 0 and dampening == 0
  bool maximize = false;
};

class SGD : public Optimizer {
 public:
  // Throws cortado::Error on invalid options (negative values, nesterov without momentum or
  // with dampening).
  SGD(std::vector<Tensor> params, SGDOptions options);

  void step() override;
  const SGDOptions& options() const { return options_; }

 private:
  SGDOptions options_;
  std::vector<cortado::Tensor> momentum_buffers_;  // undefined until first used
};

}  // namespace optim
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_OPTIM_SGD_H_
