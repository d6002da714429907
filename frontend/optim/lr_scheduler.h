// Learning-rate schedulers, stepped once per epoch: each step() sets the optimizer's learning
// rate from PyTorch 1.13's closed form for the new epoch count. Construction counts as epoch 0
// (the optimizer's current lr becomes the base lr, as PyTorch's initial step does).
//   StepLR:            lr = base_lr * gamma^floor(epoch / step_size)
//   CosineAnnealingLR: lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2
// A scheduler refers to its optimizer (not owned), which must outlive it. Not synchronized: use
// it from the training loop's thread.
#ifndef CORTADO_FRONTEND_OPTIM_LR_SCHEDULER_H_
#define CORTADO_FRONTEND_OPTIM_LR_SCHEDULER_H_

#include <cstdint>

#include "frontend/optim/optimizer.h"

namespace cortado {
namespace frontend {
namespace optim {

class LRScheduler {
 public:
  explicit LRScheduler(Optimizer& optimizer);
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  // Advances one epoch and sets the optimizer's learning rate.
  void step();
  // The learning rate set by the last step() (the base lr before any).
  double get_last_lr() const { return last_lr_; }
  int64_t last_epoch() const { return last_epoch_; }
  double base_lr() const { return base_lr_; }

 protected:
  virtual double LrAt(int64_t epoch) const = 0;

 private:
  Optimizer* optimizer_;
  double base_lr_;
  double last_lr_;
  int64_t last_epoch_ = 0;
};

class StepLR : public LRScheduler {
 public:
  // Throws cortado::Error unless step_size >= 1.
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 protected:
  double LrAt(int64_t epoch) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

class CosineAnnealingLR : public LRScheduler {
 public:
  // Throws cortado::Error unless T_max >= 1.
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0);

 protected:
  double LrAt(int64_t epoch) const override;

 private:
  int64_t t_max_;
  double eta_min_;
};

}  // namespace optim
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_OPTIM_LR_SCHEDULER_H_
