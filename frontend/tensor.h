// The eager frontend's Tensor: a value (a core Tensor) plus autograd state, in the spirit of
// PyTorch's C++ API. Every operation runs an operator of the shared operator library through
// RunOp (ops/run_op.h), the same kernels the predictor runs; there is no second implementation of
// any operator's arithmetic. Gradient formulas run through RunOp too (plain ops, or the gradient
// operators of kTrainingDomain).
//
// Errors: operations throw cortado::Error (carrying the absl::Status) on bad input, as operator
// overloads cannot return a status; public entry points that return absl::Status (trace, export,
// state_dict I/O) catch it.
//
// Copying a Tensor is cheap and shares the value and the autograd state (like torch::Tensor).
// Not synchronized: use a tensor from one thread at a time. Grad mode and the tracer are
// per-thread.
#ifndef CORTADO_FRONTEND_TENSOR_H_
#define CORTADO_FRONTEND_TENSOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ops/attributes.h"

namespace cortado {

// An absl::Status thrown by the eager frontend.
class Error : public std::runtime_error {
 public:
  explicit Error(absl::Status status)
      : std::runtime_error(std::string(status.message())), status_(std::move(status)) {}
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
};

// Throws cortado::Error unless `status` is OK.
void ThrowIfError(const absl::Status& status);
template <typename T>
T ValueOrThrow(absl::StatusOr<T> v) {
  ThrowIfError(v.status());
  return std::move(v).value();
}
// Runs `f`, turning a thrown cortado::Error into its status (for public entry points).
absl::Status CatchError(const std::function<void()>& f);

namespace frontend {

class Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // undefined
  // Wraps a value (shared, not copied).
  explicit Tensor(cortado::Tensor value, bool requires_grad = false);

  // --- creation (float32 unless a dtype is given) ---
  static Tensor zeros(const Shape& shape, DType dtype = DType::kFloat32);
  static Tensor ones(const Shape& shape, DType dtype = DType::kFloat32);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::kFloat32);
  static Tensor scalar(double value, DType dtype = DType::kFloat32);
  // Standard normal / uniform [0, 1) from the global generator (see manual_seed).
  static Tensor randn(const Shape& shape, DType dtype = DType::kFloat32);
  static Tensor rand(const Shape& shape, DType dtype = DType::kFloat32);
  // [start, end) in steps of `step`.
  static Tensor arange(double start, double end, double step = 1,
                       DType dtype = DType::kFloat32);
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  // Copies `shape`'s element count of `dtype` elements from `data`.
  static Tensor from_buffer(const void* data, DType dtype, const Shape& shape);

  // --- metadata and data ---
  bool defined() const { return impl_ != nullptr; }
  const cortado::Tensor& value() const;
  DType dtype() const { return value().dtype(); }
  const Shape& shape() const { return value().shape(); }
  int dim() const { return value().rank(); }
  int64_t size(int dim) const;  // negative dims count from the end
  int64_t numel() const { return value().num_elements(); }
  // The elements as T; throws unless T is the tensor's dtype.
  template <typename T>
  const T* data() const {
    CheckDType(DTypeOf<T>::value);
    return value().data<T>();
  }
  // Writable elements, for in-place updates of parameters and buffers (optimizers, init,
  // state_dict load). Not recorded by autograd or the tracer.
  template <typename T>
  T* mutable_data() {
    CheckDType(DTypeOf<T>::value);
    return mutable_value().data<T>();
  }
  cortado::Tensor& mutable_value();
  // The only element (of a one-element tensor) as a double.
  double item() const;
  template <typename T>
  std::vector<T> to_vector() const {
    const T* p = data<T>();
    return std::vector<T>(p, p + numel());
  }
  std::string str() const;

  // --- autograd ---
  bool requires_grad() const;
  // Marks a leaf as needing its gradient; throws on a non-leaf.
  Tensor& requires_grad_(bool requires = true);
  bool is_leaf() const;
  // The accumulated gradient of a leaf (undefined until a backward pass reaches it).
  Tensor grad() const;
  void set_grad(const Tensor& grad);
  // Computes the gradients of this tensor with respect to the leaves that require them and adds
  // them to those leaves' grad(). `gradient` defaults to ones for a one-element tensor. The graph
  // is freed afterwards unless `retain_graph`.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  // The same value, cut from the graph.
  Tensor detach() const;
  const std::shared_ptr<Node>& grad_fn() const;
  // Identity of the underlying tensor (for the tracer and modules).
  const TensorImpl* impl() const { return impl_.get(); }

  // --- operations (the free functions in frontend/ops.h, as methods) ---
  Tensor operator-() const;
  Tensor operator[](int64_t index) const;  // select(0, index)
  Tensor matmul(const Tensor& other) const;
  Tensor sum() const;
  Tensor sum(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const std::vector<int64_t>& dims, bool keepdim = false) const;
  Tensor max(int64_t dim, bool keepdim = false) const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor reshape(const Shape& shape) const;  // one dimension may be -1
  Tensor view(const Shape& shape) const { return reshape(shape); }
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor to(DType dtype) const;
  Tensor clone() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor pow(double exponent) const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;

 private:
  void CheckDType(DType expected) const;

  std::shared_ptr<TensorImpl> impl_;
  friend struct AutogradAccess;
};

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
// A double operand becomes a scalar of the tensor's dtype.
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
std::ostream& operator<<(std::ostream& os, const Tensor& t);

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  if (static_cast<int64_t>(values.size()) != NumElements(shape)) {
    throw Error(absl::InvalidArgumentError(absl::StrCat(
        "from_vector: ", values.size(), " values for shape ", ShapeToString(shape))));
  }
  return from_buffer(values.data(), DTypeOf<T>::value, shape);
}

// --- grad mode ---
bool GradEnabled();
// Disables gradient recording on this thread while alive (torch::NoGradGuard).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// --- random numbers ---
// Seeds the global generator that randn/rand, parameter initialisation, dropout and data
// shuffling draw from by default.
void manual_seed(uint64_t seed);
std::mt19937_64& GlobalGenerator();

// --- threads (added for intra-op parallelism; see core/thread_pool.h) ---
// The number of threads each operator's kernel may use (the caller's included), process-wide,
// as torch.set_num_threads. Default 1. Results are deterministic for a given thread count.
void set_num_threads(int n);
int get_num_threads();

}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_TENSOR_H_
