// Optimizer: the base of the frontend's optimizers (SGD, Adam, AdamW). An optimizer holds handles
// to the parameters it updates (shared with the module that owns them) and one learning rate;
// step() updates every parameter whose grad() is defined, in place through
// Tensor::mutable_data, outside autograd. Parameters are float32 or float64; their gradients
// have the same dtype and shape. Errors (bad options, dtype or shape mismatch) throw
// cortado::Error.
//
// The training loop calls zero_grad(), backward(), step() from one thread; an optimizer is not
// synchronized. Not copyable (it owns per-parameter state such as momentum buffers).
#ifndef CORTADO_FRONTEND_OPTIM_OPTIMIZER_H_
#define CORTADO_FRONTEND_OPTIM_OPTIMIZER_H_

#include <vector>

#include "frontend/tensor.h"

namespace cortado {
namespace frontend {
namespace optim {

class Optimizer {
 public:
  // Throws cortado::Error when a parameter is undefined or not float32/float64, or lr < 0.
  Optimizer(std::vector<Tensor> params, double lr);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates the parameters from their gradients (skipping those whose grad() is undefined).
  virtual void step() = 0;

  // Clears every parameter's gradient. With `set_to_none` (the default, as PyTorch 2) the
  // gradient becomes undefined, so step() skips the parameter until a backward pass reaches it
  // again; otherwise it becomes a new zero tensor (PyTorch 1.13's default; the old storage is
  // never written, as autograd may share it).
  void zero_grad(bool set_to_none = true);

  double lr() const { return lr_; }
  // Sets the learning rate used by the next step() (schedulers call this).
  void set_lr(double lr);

  const std::vector<Tensor>& params() const { return params_; }

 protected:
  std::vector<Tensor> params_;

 private:
  double lr_;
};

namespace internal {
// The gradient of params[i] checked against the parameter (same dtype and element count), or
// an undefined Tensor when it has none. Throws cortado::Error on a mismatch.
Tensor CheckedGrad(const Tensor& param, size_t i, const char* optimizer);
// A zero-filled float32/float64 buffer shaped like `param`.
cortado::Tensor ZerosLike(const Tensor& param);
// Throws cortado::Error(InvalidArgument) with `message` unless `ok`.
void CheckOption(bool ok, const char* optimizer, const char* message);
}  // namespace internal

}  // namespace optim
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_OPTIM_OPTIMIZER_H_
