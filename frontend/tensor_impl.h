// TensorImpl: what a frontend Tensor handle points to (its value and autograd state), and
// AutogradAccess, through which the autograd engine, Call and the tracer reach it. Internal to
// frontend/; not synchronized.
#ifndef CORTADO_FRONTEND_TENSOR_IMPL_H_
#define CORTADO_FRONTEND_TENSOR_IMPL_H_

#include <memory>

#include "frontend/tensor.h"

namespace cortado {
namespace frontend {

struct TensorImpl {
  cortado::Tensor value;
  bool requires_grad = false;
  cortado::Tensor grad;          // leaves only
  std::shared_ptr<Node> grad_fn;  // non-leaves only
  int output_nr = 0;              // which output of grad_fn
};

struct AutogradAccess {
  static const std::shared_ptr<TensorImpl>& impl(const Tensor& t) { return t.impl_; }
};

}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_TENSOR_IMPL_H_
