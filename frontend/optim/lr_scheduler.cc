#include "frontend/optim/lr_scheduler.h"

#include <cmath>

namespace cortado {
namespace frontend {
namespace optim {

LRScheduler::LRScheduler(Optimizer& optimizer)
    : optimizer_(&optimizer), base_lr_(optimizer.lr()), last_lr_(optimizer.lr()) {}

void LRScheduler::step() {
  ++last_epoch_;
  last_lr_ = LrAt(last_epoch_);
  optimizer_->set_lr(last_lr_);
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  internal::CheckOption(step_size >= 1, "StepLR", "step_size must be >= 1");
}

double StepLR::LrAt(int64_t epoch) const {
  return base_lr() * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min)
    : LRScheduler(optimizer), t_max_(T_max), eta_min_(eta_min) {
  internal::CheckOption(T_max >= 1, "CosineAnnealingLR", "T_max must be >= 1");
}

double CosineAnnealingLR::LrAt(int64_t epoch) const {
  return eta_min_ +
         (base_lr() - eta_min_) *
             (1 + std::cos(M_PI * static_cast<double>(epoch) / static_cast<double>(t_max_))) / 2;
}

}  // namespace optim
}  // namespace frontend
}  // namespace cortado
