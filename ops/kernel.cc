#include "ops/kernel.h"

namespace cortado {

absl::StatusOr<const Tensor*> KernelContext::RequiredInput(int i) const {
  const Tensor* t = input(i);
  if (t == nullptr || !t->defined()) {
    return absl::InvalidArgumentError(absl::StrCat("required input ", i, " is missing"));
  }
  return t;
}

absl::StatusOr<Tensor*> KernelContext::AllocateOutput(int i, DType dtype, Shape shape) {
  if (i < 0 || i >= num_outputs()) {
    return absl::InternalError(absl::StrCat("output index ", i, " out of range"));
  }
  ASSIGN_OR_RETURN(outputs_[i], Tensor::Create(dtype, std::move(shape), allocator_));
  return &outputs_[i];
}

}  // namespace cortado
