#include "frontend/tensor.h"

#include <cstring>
#include <sstream>

#include "core/thread_pool.h"
#include "frontend/autograd.h"
#include "frontend/ops.h"
#include "frontend/tensor_impl.h"

namespace cortado {

void ThrowIfError(const absl::Status& status) {
  if (!status.ok()) throw Error(status);
}

absl::Status CatchError(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.status();
  }
  return absl::OkStatus();
}

namespace frontend {
namespace {

thread_local bool grad_enabled = true;

// Fills every element of a numeric or bool tensor with `value`.
void Fill(cortado::Tensor& t, const std::function<double()>& next) {
  const int64_t n = t.num_elements();
  switch (t.dtype()) {
#define CORTADO_FILL_(T, D)                                  \
  case D: {                                                  \
    T* p = t.data<T>();                                      \
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(next()); \
    return;                                                  \
  }
    CORTADO_FILL_(float, DType::kFloat32)
    CORTADO_FILL_(double, DType::kFloat64)
    CORTADO_FILL_(int8_t, DType::kInt8)
    CORTADO_FILL_(int16_t, DType::kInt16)
    CORTADO_FILL_(int32_t, DType::kInt32)
    CORTADO_FILL_(int64_t, DType::kInt64)
    CORTADO_FILL_(uint8_t, DType::kUInt8)
    CORTADO_FILL_(uint16_t, DType::kUInt16)
    CORTADO_FILL_(uint32_t, DType::kUInt32)
    CORTADO_FILL_(uint64_t, DType::kUInt64)
    CORTADO_FILL_(bool, DType::kBool)
#undef CORTADO_FILL_
    default:
      throw Error(absl::InvalidArgumentError(
          absl::StrCat("cannot fill a ", DTypeName(t.dtype()), " tensor")));
  }
}

Tensor Generate(const Shape& shape, DType dtype, const std::function<double()>& next) {
  ThrowIfError(ValidateShape(shape));
  cortado::Tensor t = ValueOrThrow(cortado::Tensor::Create(dtype, shape));
  Fill(t, next);
  return Tensor(std::move(t));
}

const std::shared_ptr<TensorImpl>& Checked(const std::shared_ptr<TensorImpl>& impl) {
  if (impl == nullptr) throw Error(absl::FailedPreconditionError("undefined tensor"));
  return impl;
}

}  // namespace

Tensor::Tensor(cortado::Tensor value, bool requires_grad) : impl_(std::make_shared<TensorImpl>()) {
  impl_->value = std::move(value);
  requires_grad_(requires_grad);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  ThrowIfError(ValidateShape(shape));
  return Tensor(ValueOrThrow(cortado::Tensor::Zeros(dtype, shape)));
}
Tensor Tensor::ones(const Shape& shape, DType dtype) { return full(shape, 1, dtype); }
Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  return Generate(shape, dtype, [value] { return value; });
}
Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }
Tensor Tensor::randn(const Shape& shape, DType dtype) {
  std::normal_distribution<double> normal;
  return Generate(shape, dtype, [&] { return normal(GlobalGenerator()); });
}
Tensor Tensor::rand(const Shape& shape, DType dtype) {
  std::uniform_real_distribution<double> uniform;
  return Generate(shape, dtype, [&] { return uniform(GlobalGenerator()); });
}
Tensor Tensor::arange(double start, double end, double step, DType dtype) {
  if (step == 0 || (end - start) / step > (int64_t{1} << 40)) {
    throw Error(absl::InvalidArgumentError("arange: bad step"));
  }
  const int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((end - start) / step)));
  double v = start - step;
  return Generate({n}, dtype, [&] { return v += step; });
}
Tensor Tensor::from_buffer(const void* data, DType dtype, const Shape& shape) {
  ThrowIfError(ValidateShape(shape));
  if (dtype == DType::kString) {
    throw Error(absl::InvalidArgumentError("from_buffer: string tensors are not supported"));
  }
  cortado::Tensor t = ValueOrThrow(cortado::Tensor::Create(dtype, shape));
  if (t.nbytes() > 0) std::memcpy(t.raw_data(), data, t.nbytes());
  return Tensor(std::move(t));
}

const cortado::Tensor& Tensor::value() const { return Checked(impl_)->value; }
void Tensor::CheckDType(DType expected) const {
  if (dtype() != expected) {
    throw Error(absl::InvalidArgumentError(absl::StrCat("data<", DTypeName(expected),
                                                        ">() on a ", DTypeName(dtype()), " tensor")));
  }
}
cortado::Tensor& Tensor::mutable_value() { return Checked(impl_)->value; }

int64_t Tensor::size(int d) const {
  return shape()[ValueOrThrow(NormalizeAxis(d, this->dim()))];
}

double Tensor::item() const {
  if (numel() != 1) {
    throw Error(absl::InvalidArgumentError(absl::StrCat(
        "item() needs a one-element tensor, got shape ", ShapeToString(shape()))));
  }
  return value().ElementAsDouble(0);
}

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  std::string s = value().DebugString(16);
  if (requires_grad()) s += impl_->grad_fn ? ", grad_fn=" + impl_->grad_fn->name() : ", requires_grad";
  return s;
}
std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

bool Tensor::requires_grad() const { return Checked(impl_)->requires_grad; }
Tensor& Tensor::requires_grad_(bool requires) {
  if (!is_leaf()) {
    throw Error(absl::FailedPreconditionError(
        "requires_grad_ applies to leaves; use detach() for a non-leaf"));
  }
  if (requires && !IsFloatingPoint(dtype())) {
    throw Error(absl::InvalidArgumentError(absl::StrCat(
        "only floating-point tensors can require grad, not ", DTypeName(dtype()))));
  }
  impl_->requires_grad = requires;
  return *this;
}
bool Tensor::is_leaf() const { return Checked(impl_)->grad_fn == nullptr; }
Tensor Tensor::grad() const {
  const auto& impl = Checked(impl_);
  return impl->grad.defined() ? Tensor(impl->grad) : Tensor();
}
void Tensor::set_grad(const Tensor& grad) {
  Checked(impl_)->grad = grad.defined() ? grad.value() : cortado::Tensor();
}
Tensor Tensor::detach() const { return Tensor(value()); }
const std::shared_ptr<Node>& Tensor::grad_fn() const { return Checked(impl_)->grad_fn; }

Tensor Tensor::operator-() const { return neg(*this); }
Tensor Tensor::operator[](int64_t index) const { return select(0, index); }
Tensor Tensor::matmul(const Tensor& other) const { return frontend::matmul(*this, other); }
Tensor Tensor::sum() const { return frontend::sum(*this); }
Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim) const {
  return frontend::sum(*this, dims, keepdim);
}
Tensor Tensor::mean() const { return frontend::mean(*this); }
Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim) const {
  return frontend::mean(*this, dims, keepdim);
}
Tensor Tensor::max(int64_t dim, bool keepdim) const { return frontend::max(*this, dim, keepdim); }
Tensor Tensor::argmax(int64_t dim, bool keepdim) const {
  return frontend::argmax(*this, dim, keepdim);
}
Tensor Tensor::reshape(const Shape& shape) const { return frontend::reshape(*this, shape); }
Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  return frontend::permute(*this, dims);
}
Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  return frontend::transpose(*this, dim0, dim1);
}
Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  return frontend::flatten(*this, start_dim, end_dim);
}
Tensor Tensor::squeeze(int64_t dim) const { return frontend::squeeze(*this, dim); }
Tensor Tensor::unsqueeze(int64_t dim) const { return frontend::unsqueeze(*this, dim); }
Tensor Tensor::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const {
  return frontend::slice(*this, dim, start, end, step);
}
Tensor Tensor::select(int64_t dim, int64_t index) const {
  return frontend::select(*this, dim, index);
}
Tensor Tensor::to(DType dtype) const { return frontend::to(*this, dtype); }
Tensor Tensor::clone() const { return frontend::clone(*this); }
Tensor Tensor::exp() const { return frontend::exp(*this); }
Tensor Tensor::log() const { return frontend::log(*this); }
Tensor Tensor::sqrt() const { return frontend::sqrt(*this); }
Tensor Tensor::abs() const { return frontend::abs(*this); }
Tensor Tensor::pow(double exponent) const { return frontend::pow(*this, exponent); }
Tensor Tensor::relu() const { return frontend::relu(*this); }
Tensor Tensor::sigmoid() const { return frontend::sigmoid(*this); }
Tensor Tensor::tanh() const { return frontend::tanh(*this); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double b) { return add(a, Tensor::scalar(b, a.dtype())); }
Tensor operator-(const Tensor& a, double b) { return sub(a, Tensor::scalar(b, a.dtype())); }
Tensor operator*(const Tensor& a, double b) { return mul(a, Tensor::scalar(b, a.dtype())); }
Tensor operator/(const Tensor& a, double b) { return div(a, Tensor::scalar(b, a.dtype())); }
Tensor operator+(double a, const Tensor& b) { return add(Tensor::scalar(a, b.dtype()), b); }
Tensor operator-(double a, const Tensor& b) { return sub(Tensor::scalar(a, b.dtype()), b); }
Tensor operator*(double a, const Tensor& b) { return mul(Tensor::scalar(a, b.dtype()), b); }
Tensor operator/(double a, const Tensor& b) { return div(Tensor::scalar(a, b.dtype()), b); }

bool GradEnabled() { return grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(grad_enabled) { grad_enabled = false; }
NoGradGuard::~NoGradGuard() { grad_enabled = previous_; }

std::mt19937_64& GlobalGenerator() {
  static std::mt19937_64 generator(0);
  return generator;
}
void manual_seed(uint64_t seed) { GlobalGenerator().seed(seed); }

// --- threads (intra-op parallelism, core/thread_pool.h) ---
void set_num_threads(int n) { SetIntraOpThreads(n); }
int get_num_threads() { return IntraOpThreads(); }

}  // namespace frontend
}  // namespace cortado
