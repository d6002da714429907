// Sequential: an ordered list of modules applied one after another, registered as children
// "0", "1", ... (so parameter names read "0.weight", "3.1.bias", as in torch.nn.Sequential).
// Not synchronized, like Module.
#ifndef CORTADO_FRONTEND_NN_SEQUENTIAL_H_
#define CORTADO_FRONTEND_NN_SEQUENTIAL_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "frontend/nn/module.h"

namespace cortado {
namespace frontend {
namespace nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  // Sequential(std::make_shared<Linear>(4, 8), std::make_shared<ReLU>(), ...).
  template <typename... Ms>
  explicit Sequential(std::shared_ptr<Ms>... modules) {
    (push_back(std::move(modules)), ...);
  }

  // Appends `m` as child "<size()>" and returns it.
  template <typename M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    std::shared_ptr<Module> base = m;
    modules_.push_back(register_module(std::to_string(modules_.size()), std::move(base)));
    return m;
  }
  size_t size() const { return modules_.size(); }
  bool empty() const { return modules_.empty(); }
  // The i-th module; throws cortado::Error when out of range.
  const std::shared_ptr<Module>& operator[](size_t i) const;
  // The i-th module as an M; throws when out of range or of another type.
  template <typename M>
  std::shared_ptr<M> at(size_t i) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[i]);
    if (m == nullptr) ThrowWrongType(i);
    return m;
  }
  const std::vector<std::shared_ptr<Module>>& modules() const { return modules_; }

  // Applies the modules in order (the identity when empty).
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Sequential"; }

 private:
  [[noreturn]] void ThrowWrongType(size_t i) const;

  std::vector<std::shared_ptr<Module>> modules_;
};

}  // namespace nn
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_NN_SEQUENTIAL_H_
