#include "frontend/nn/sequential.h"

namespace cortado {
namespace frontend {
namespace nn {

const std::shared_ptr<Module>& Sequential::operator[](size_t i) const {
  if (i >= modules_.size()) {
    throw Error(absl::OutOfRangeError(
        absl::StrCat("Sequential: index ", i, " out of range (size ", modules_.size(), ")")));
  }
  return modules_[i];
}

void Sequential::ThrowWrongType(size_t i) const {
  throw Error(absl::InvalidArgumentError(absl::StrCat(
      "Sequential: module ", i, " is a ", modules_[i]->name(), ", not the type asked for")));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& m : modules_) y = m->forward(y);
  return y;
}

}  // namespace nn
}  // namespace frontend
}  // namespace cortado
