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
  RETURN_IF_ERROR(ValidateShape(shape));
  const size_t bytes = static_cast<size_t>(NumElements(shape)) * DTypeSize(dtype);
  const Place place = i < static_cast<int>(planned_.size()) ? planned_[i] : Place{};
  if (place.data != nullptr && bytes <= place.bytes && dtype != DType::kString) {
    outputs_[i] = Tensor::Borrow(dtype, std::move(shape), place.data, arena_);
  } else {
    ASSIGN_OR_RETURN(outputs_[i], Tensor::Create(dtype, std::move(shape), allocator_));
  }
  if (allocated_.empty()) allocated_.resize(outputs_.size());
  allocated_[i] = bytes;
  return &outputs_[i];
}

void KernelContext::SetValue(int i, Value value) {
  if (value.is_tensor()) {
    outputs_[i] = std::move(value.tensor);
    return;
  }
  if (value_outputs_.empty()) value_outputs_.resize(outputs_.size());
  value_outputs_[i] = std::move(value);
}

void KernelContext::PlanOutput(int i, void* data, size_t bytes, std::shared_ptr<void> arena) {
  if (planned_.empty()) planned_.resize(outputs_.size());
  planned_[i] = {data, bytes};
  arena_ = std::move(arena);
}

}  // namespace cortado
