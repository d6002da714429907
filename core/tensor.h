// Tensor: a dtype, a shape and row-major storage from an Allocator (64-byte aligned).
// Copying a Tensor is cheap and shares the storage (like a shared_ptr); Clone() copies the
// elements. A Tensor is not synchronized: share one across threads only to read it.
#ifndef CORTADO_CORE_TENSOR_H_
#define CORTADO_CORE_TENSOR_H_

#include <memory>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/dtype.h"
#include "core/shape.h"
#include "core/status.h"

namespace cortado {

class Tensor {
 public:
  Tensor() = default;  // undefined: no dtype, no storage

  // Allocates an uninitialized tensor (strings are empty, other elements arbitrary).
  static absl::StatusOr<Tensor> Create(DType dtype, Shape shape,
                                       Allocator* allocator = CpuAllocator());
  // Allocates a tensor with every byte zero (strings empty).
  static absl::StatusOr<Tensor> Zeros(DType dtype, Shape shape);
  // A tensor over `data`, memory that `owner` keeps alive for as long as the tensor or a copy of
  // it lives (for example a run's arena). Not for strings; `data` must be 64-byte aligned.
  static Tensor Borrow(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner);
  // A host tensor holding a copy of `values`.
  template <typename T>
  static Tensor FromVector(const std::vector<T>& values, Shape shape);
  template <typename T>
  static Tensor Scalar(T value) {
    return FromVector<T>({value}, {});
  }

  bool defined() const { return buffer_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t num_elements() const { return num_elements_; }
  size_t nbytes() const { return static_cast<size_t>(num_elements_) * DTypeSize(dtype_); }
  Device device() const;
  // True when both tensors view the same storage (one is a copy or a reshape of the other).
  bool SharesStorageWith(const Tensor& other) const {
    return buffer_ != nullptr && buffer_ == other.buffer_;
  }

  template <typename T>
  T* data() {
    return static_cast<T*>(raw_data());
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(raw_data());
  }
  void* raw_data();
  const void* raw_data() const;

  // Same storage, new shape with the same element count.
  absl::StatusOr<Tensor> Reshaped(Shape shape) const;
  // A deep copy on the host.
  Tensor Clone() const;
  // Element `i` (flat index) as a double; numeric, bool and narrow dtypes only.
  double ElementAsDouble(int64_t i) const;
  // Element values as int64 (any integer dtype), for shape-like inputs.
  absl::StatusOr<std::vector<int64_t>> ToInt64Vector() const;
  std::string DebugString(int64_t max_elements = 8) const;

 private:
  struct Buffer;
  std::shared_ptr<Buffer> buffer_;
  DType dtype_ = DType::kUndefined;
  Shape shape_;
  int64_t num_elements_ = 0;
};

template <typename T>
Tensor Tensor::FromVector(const std::vector<T>& values, Shape shape) {
  Tensor t = Create(DTypeOf<T>::value, std::move(shape)).value();
  T* out = t.data<T>();
  for (size_t i = 0; i < values.size() && static_cast<int64_t>(i) < t.num_elements(); ++i) {
    out[i] = values[i];
  }
  return t;
}

}  // namespace cortado

#endif  // CORTADO_CORE_TENSOR_H_
