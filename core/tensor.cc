#include "core/tensor.h"

#include <cassert>
#include <cstring>
#include <new>

#include "absl/strings/str_join.h"

namespace cortado {

struct Tensor::Buffer {
  Allocator* allocator = nullptr;
  void* ptr = nullptr;
  int64_t num_strings = 0;  // constructed std::string objects, destroyed on release
  std::shared_ptr<void> owner;  // set for borrowed memory, which is not the allocator's to free
  ~Buffer() {
    auto* strings = static_cast<std::string*>(ptr);
    for (int64_t i = 0; i < num_strings; ++i) strings[i].~basic_string();
    if (ptr != nullptr && owner == nullptr) allocator->Free(ptr);
  }
};

absl::StatusOr<Tensor> Tensor::Create(DType dtype, Shape shape, Allocator* allocator) {
  if (dtype == DType::kUndefined) {
    return absl::InvalidArgumentError("cannot create a tensor of undefined dtype");
  }
  RETURN_IF_ERROR(ValidateShape(shape));
  Tensor t;
  t.dtype_ = dtype;
  t.num_elements_ = NumElements(shape);
  t.shape_ = std::move(shape);
  auto buffer = std::make_shared<Buffer>();
  buffer->allocator = allocator;
  buffer->ptr = allocator->Allocate(t.nbytes());
  if (buffer->ptr == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot allocate ", t.nbytes(),
                                                     " bytes for a tensor of shape ",
                                                     ShapeToString(t.shape_)));
  }
  if (dtype == DType::kString) {
    auto* strings = static_cast<std::string*>(buffer->ptr);
    for (int64_t i = 0; i < t.num_elements_; ++i) new (strings + i) std::string();
    buffer->num_strings = t.num_elements_;
  }
  t.buffer_ = std::move(buffer);
  return t;
}

Tensor Tensor::Borrow(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner) {
  assert(dtype != DType::kString && dtype != DType::kUndefined);
  Tensor t;
  t.dtype_ = dtype;
  t.num_elements_ = NumElements(shape);
  t.shape_ = std::move(shape);
  auto buffer = std::make_shared<Buffer>();
  buffer->allocator = CpuAllocator();
  buffer->ptr = data;
  buffer->owner = std::move(owner);
  t.buffer_ = std::move(buffer);
  return t;
}

absl::StatusOr<Tensor> Tensor::Zeros(DType dtype, Shape shape) {
  ASSIGN_OR_RETURN(Tensor t, Create(dtype, std::move(shape)));
  if (dtype != DType::kString) std::memset(t.raw_data(), 0, t.nbytes());
  return t;
}

Device Tensor::device() const {
  return buffer_ ? buffer_->allocator->device() : Device{};
}

void* Tensor::raw_data() { return buffer_ ? buffer_->ptr : nullptr; }
const void* Tensor::raw_data() const { return buffer_ ? buffer_->ptr : nullptr; }

absl::StatusOr<Tensor> Tensor::Reshaped(Shape shape) const {
  RETURN_IF_ERROR(ValidateShape(shape));
  if (NumElements(shape) != num_elements_) {
    return absl::InvalidArgumentError(absl::StrCat("cannot reshape ", ShapeToString(shape_),
                                                   " to ", ShapeToString(shape)));
  }
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::Clone() const {
  if (!defined()) return Tensor();
  Tensor t = Create(dtype_, shape_).value();
  if (dtype_ == DType::kString) {
    for (int64_t i = 0; i < num_elements_; ++i) t.data<std::string>()[i] = data<std::string>()[i];
  } else if (nbytes() > 0) {
    std::memcpy(t.raw_data(), raw_data(), nbytes());
  }
  return t;
}

double Tensor::ElementAsDouble(int64_t i) const {
  double v = 0;
  VisitAnyDType(dtype_, "ElementAsDouble", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, std::string>) {
      v = 0;
    } else {
      v = static_cast<double>(static_cast<float>(data<T>()[i]));
      if constexpr (std::is_arithmetic_v<T>) v = static_cast<double>(data<T>()[i]);
    }
    return absl::OkStatus();
  }).IgnoreError();
  return v;
}

absl::StatusOr<std::vector<int64_t>> Tensor::ToInt64Vector() const {
  std::vector<int64_t> out(num_elements_);
  RETURN_IF_ERROR(VisitDType(dtype_, DTypeSet::kNumeric, "shape-like tensor", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<T>) {
      for (int64_t i = 0; i < num_elements_; ++i) out[i] = static_cast<int64_t>(data<T>()[i]);
      return absl::OkStatus();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("expected an integer tensor, got ", DTypeName(dtype_)));
    }
  }));
  return out;
}

std::string Tensor::DebugString(int64_t max_elements) const {
  if (!defined()) return "Tensor(undefined)";
  std::vector<std::string> values;
  for (int64_t i = 0; i < std::min(num_elements_, max_elements); ++i) {
    values.push_back(dtype_ == DType::kString ? data<std::string>()[i]
                                              : absl::StrCat(ElementAsDouble(i)));
  }
  return absl::StrCat("Tensor(", DTypeName(dtype_), ShapeToString(shape_), " {",
                      absl::StrJoin(values, ", "), num_elements_ > max_elements ? ", ..." : "",
                      "})");
}

}  // namespace cortado
