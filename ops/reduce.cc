// The reduce family: ReduceMean/Sum/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare, ArgMax/ArgMin,
// Softmax/LogSoftmax/Hardmax, CumSum, CumProd, TopK, Einsum and Det, with their schemas and
// reference CPU kernels.
//
// Two iteration shapes are shared by all kernels here:
//  - ReduceLoop: every input element is folded into the accumulator of its output element
//    (the input broadcast against the keepdims output shape), which covers any set of axes.
//  - Lanes: outer x n x inner, one lane of n elements at stride `inner` per (outer, inner) pair,
//    for the operators that work along one axis (ArgMax, Softmax, CumSum, TopK).
// Arithmetic runs in an accumulator type: double for floating point (float16 and bfloat16
// included), int64/uint64 for integers, with integer + and * wrapping like the element type.
#include "ops/reduce.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/thread_pool.h"
#include "ops/broadcast.h"
#include "ops/registry.h"

namespace cortado {
namespace {

// ------------------------------------------------------------------------------------------------
// Element types and arithmetic.

template <typename T>
constexpr bool kIsHalf = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;
template <typename T>
constexpr bool kIsFloat = std::is_floating_point_v<T> || kIsHalf<T>;

template <typename T>
using Acc = std::conditional_t<kIsFloat<T>, double,
                               std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

template <typename T>
Acc<T> ToAcc(T v) {
  if constexpr (kIsHalf<T>) {
    return static_cast<float>(v);
  } else {
    return static_cast<Acc<T>>(v);
  }
}

template <typename T>
double ToDouble(T v) {
  return static_cast<double>(ToAcc(v));
}

// Converts a double to T; for integers NaN becomes 0 and out-of-range values saturate.
template <typename T>
T FromDouble(double v) {
  if constexpr (kIsHalf<T>) {
    return T(static_cast<float>(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return T{0};
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) {
      return std::numeric_limits<T>::lowest();
    }
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) {
      return std::numeric_limits<T>::max();
    }
    return static_cast<T>(v);
  }
}

template <typename T>
T FromAcc(Acc<T> v) {
  if constexpr (kIsFloat<T>) {
    return FromDouble<T>(v);
  } else {
    return static_cast<T>(v);  // wraps, like the element type's own arithmetic
  }
}

template <typename A>
A Add(A a, A b) {
  if constexpr (std::is_integral_v<A>) {
    return static_cast<A>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  } else {
    return a + b;
  }
}

template <typename A>
A Mul(A a, A b) {
  if constexpr (std::is_integral_v<A>) {
    return static_cast<A>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  } else {
    return a * b;
  }
}

template <typename A>
A Abs(A a) {
  if constexpr (std::is_unsigned_v<A>) {
    return a;
  } else if constexpr (std::is_integral_v<A>) {
    return a < 0 ? static_cast<A>(uint64_t{0} - static_cast<uint64_t>(a)) : a;
  } else {
    return std::fabs(a);
  }
}

template <typename A>
bool IsNan(A a) {
  if constexpr (std::is_floating_point_v<A>) {
    return std::isnan(a);
  } else {
    return false;
  }
}

template <typename T>
constexpr bool kIsNumeric = !std::is_same_v<T, bool> && !std::is_same_v<T, std::string>;

// VisitDType over the numeric dtypes plus float16 and bfloat16.
template <typename F>
absl::Status VisitNumeric(DType dtype, absl::string_view what, F&& f) {
  return VisitDType(dtype, DTypeSet::kAll, what, [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    if constexpr (kIsNumeric<T>) {
      return f(tag);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": unsupported dtype ", DTypeName(DTypeOf<T>::value)));
    }
  });
}

// VisitDType over float32, float64, float16 and bfloat16.
template <typename F>
absl::Status VisitFloat(DType dtype, absl::string_view what, F&& f) {
  return VisitNumeric(dtype, what, [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    if constexpr (kIsFloat<T>) {
      return f(tag);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": unsupported dtype ", DTypeName(DTypeOf<T>::value)));
    }
  });
}

std::vector<DType> WithHalf(std::vector<DType> types) {
  types.push_back(DType::kFloat16);
  types.push_back(DType::kBFloat16);
  return types;
}

// ------------------------------------------------------------------------------------------------
// Axes and shapes.

// `axis` normalized to [0, rank), or InvalidArgument naming `op`.
absl::StatusOr<int> CheckedAxis(absl::string_view op, int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": axis ", axis, " is out of range for rank ", rank));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

// Which dimensions `axes` reduces (all of them when `axes` is empty).
absl::StatusOr<std::vector<bool>> ReducedMask(absl::string_view op,
                                              const std::vector<int64_t>& axes, int rank) {
  std::vector<bool> mask(rank, axes.empty());
  for (int64_t axis : axes) {
    ASSIGN_OR_RETURN(int a, CheckedAxis(op, axis, rank));
    if (mask[a]) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": axis ", axis, " is repeated in axes [",
                                                     absl::StrJoin(axes, ","), "]"));
    }
    mask[a] = true;
  }
  return mask;
}

Shape ReducedShape(const Shape& shape, const std::vector<bool>& mask, bool keepdims) {
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!mask[d]) {
      out.push_back(shape[d]);
    } else if (keepdims) {
      out.push_back(1);
    }
  }
  return out;
}

// One axis seen as outer x n x inner.
struct Lanes {
  int64_t outer = 1;
  int64_t n = 1;
  int64_t inner = 1;
};

Lanes LanesAt(const Shape& shape, int axis) {
  Lanes l;
  for (int d = 0; d < axis; ++d) l.outer *= shape[d];
  l.n = shape[axis];
  for (size_t d = axis + 1; d < shape.size(); ++d) l.inner *= shape[d];
  return l;
}

// The pre-opset-13 softmax view: the input coerced to 2-D at `axis`.
Lanes FlattenedAt(const Shape& shape, int axis) {
  Lanes l;
  for (int d = 0; d < axis; ++d) l.outer *= shape[d];
  for (size_t d = axis; d < shape.size(); ++d) l.n *= shape[d];
  return l;
}

// Calls f(lane, base) for each lane; the lane's element j is at base + j * l.inner, and `lane`
// (outer-major) indexes a tensor that has the axis removed.
template <typename F>
void ForEachLane(const Lanes& l, F&& f) {
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t i = 0; i < l.inner; ++i) f(o * l.inner + i, o * l.n * l.inner + i);
  }
}

// Visits every index of `sizes` in row-major order and calls f(offsets), where offsets[k] is
// start[k] + sum_d index[d] * strides[k][d].
template <typename F>
void ForEachIndex(const std::vector<int64_t>& sizes,
                  const std::vector<std::vector<int64_t>>& strides, std::vector<int64_t> offsets,
                  F&& f) {
  for (int64_t s : sizes) {
    if (s == 0) return;
  }
  const int rank = static_cast<int>(sizes.size());
  std::vector<int64_t> index(rank, 0);
  while (true) {
    f(offsets);
    int d = rank - 1;
    for (; d >= 0; --d) {
      ++index[d];
      for (size_t k = 0; k < offsets.size(); ++k) offsets[k] += strides[k][d];
      if (index[d] < sizes[d]) break;
      for (size_t k = 0; k < offsets.size(); ++k) offsets[k] -= strides[k][d] * sizes[d];
      index[d] = 0;
    }
    if (d < 0) return;
  }
}

// ------------------------------------------------------------------------------------------------
// Reduce*: one engine for all ten reductions.

enum class ReduceOp { kSum, kMean, kProd, kMax, kMin, kL1, kL2, kSumSquare, kLogSum, kLogSumExp };

template <ReduceOp kOp, typename T>
Acc<T> ReduceInit() {
  using A = Acc<T>;
  if constexpr (kOp == ReduceOp::kProd) {
    return A{1};
  } else if constexpr (kOp == ReduceOp::kMax && kIsFloat<T>) {
    return -std::numeric_limits<A>::infinity();
  } else if constexpr (kOp == ReduceOp::kMax) {
    return static_cast<A>(std::numeric_limits<T>::lowest());
  } else if constexpr (kOp == ReduceOp::kMin && kIsFloat<T>) {
    return std::numeric_limits<A>::infinity();
  } else if constexpr (kOp == ReduceOp::kMin) {
    return static_cast<A>(std::numeric_limits<T>::max());
  } else {
    return A{0};
  }
}

template <ReduceOp kOp, typename A>
A ReduceStep(A acc, A x) {
  switch (kOp) {
    case ReduceOp::kProd:
      return Mul(acc, x);
    case ReduceOp::kMax:
      return (x > acc || IsNan(x)) ? x : acc;
    case ReduceOp::kMin:
      return (x < acc || IsNan(x)) ? x : acc;
    case ReduceOp::kL1:
      return Add(acc, Abs(x));
    case ReduceOp::kL2:
    case ReduceOp::kSumSquare:
      return Add(acc, Mul(x, x));
    default:
      return Add(acc, x);
  }
}

template <ReduceOp kOp, typename T>
T ReduceFinish(Acc<T> acc, int64_t count) {
  using A = Acc<T>;
  if constexpr (kOp == ReduceOp::kMean) {
    if (count == 0) {
      return kIsFloat<T> ? FromDouble<T>(std::numeric_limits<double>::quiet_NaN()) : T{0};
    }
    return FromAcc<T>(acc / static_cast<A>(count));
  } else if constexpr (kOp == ReduceOp::kL2) {
    return FromDouble<T>(std::sqrt(static_cast<double>(acc)));
  } else if constexpr (kOp == ReduceOp::kLogSum) {
    return FromDouble<T>(std::log(static_cast<double>(acc)));
  } else {
    return FromAcc<T>(acc);
  }
}

// Calls f(out, in) for every input element `in`, with `out` its element of the keepdims output.
template <typename F>
void ForEachReduced(const Shape& in_shape, const Shape& kept_shape, F&& f) {
  ForEachBroadcast<1>(in_shape, {&kept_shape},
                      [&](int64_t in, const std::array<int64_t, 1>& out) { f(out[0], in); });
}

template <ReduceOp kOp, typename T>
void ReduceLoop(const T* x, const Shape& in_shape, const Shape& kept_shape, T* y) {
  const int64_t out_n = NumElements(kept_shape);
  if (out_n == 0) return;
  const int64_t count = NumElements(in_shape) / out_n;
  if constexpr (kOp == ReduceOp::kLogSumExp) {
    std::vector<double> max(out_n, -std::numeric_limits<double>::infinity());
    std::vector<double> sum(out_n, 0.0);
    ForEachReduced(in_shape, kept_shape, [&](int64_t o, int64_t i) {
      const double v = ToDouble(x[i]);
      if (v > max[o] || std::isnan(v)) max[o] = v;
    });
    ForEachReduced(in_shape, kept_shape,
                   [&](int64_t o, int64_t i) { sum[o] += std::exp(ToDouble(x[i]) - max[o]); });
    for (int64_t o = 0; o < out_n; ++o) {
      y[o] = FromDouble<T>(std::isfinite(max[o]) ? max[o] + std::log(sum[o]) : max[o]);
    }
  } else {
    std::vector<Acc<T>> acc(out_n, ReduceInit<kOp, T>());
    ForEachReduced(in_shape, kept_shape,
                   [&](int64_t o, int64_t i) { acc[o] = ReduceStep<kOp>(acc[o], ToAcc(x[i])); });
    for (int64_t o = 0; o < out_n; ++o) y[o] = ReduceFinish<kOp, T>(acc[o], count);
  }
}

// Output type of a reduction: `axes` is nullopt when it is an input that is not a constant.
absl::Status InferReduceShape(InferenceContext& ctx, absl::string_view op,
                              const std::optional<std::vector<int64_t>>& axes) {
  const TensorType& in = ctx.input(0);
  TensorType out{in.dtype, std::nullopt};
  const bool keepdims = ctx.attrs().GetInt("keepdims", 1) != 0;
  const bool noop = ctx.attrs().GetInt("noop_with_empty_axes", 0) != 0;
  if (in.shape && axes) {
    if (axes->empty() && noop) {
      out.shape = in.shape;
    } else {
      ASSIGN_OR_RETURN(auto mask, ReducedMask(op, *axes, static_cast<int>(in.shape->size())));
      out.shape = ReducedShape(*in.shape, mask, keepdims);
    }
  } else if (in.shape && keepdims) {
    out.shape = Shape(in.shape->size(), -1);
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

OpSchema ReduceSchema(const std::string& name) {
  const int axes_input_since = AxesInputSince(name);
  return OpSchema(name)
      .Versions(1)
      .Inputs(1, axes_input_since <= kMaxOpset ? 2 : 1)
      .OptionalAttr("axes", AttrType::kInts)
      .Attr("keepdims", int64_t{1})
      .Attr("noop_with_empty_axes", int64_t{0})
      .Infer([name, axes_input_since](InferenceContext& ctx) -> absl::Status {
        std::optional<std::vector<int64_t>> axes;
        if (ctx.opset() < axes_input_since) {
          axes = ctx.attrs().GetInts("axes");
        } else if (!ctx.has_input(1)) {
          axes.emplace();
        } else if (const Tensor* t = ctx.constant(1)) {
          ASSIGN_OR_RETURN(axes, t->ToInt64Vector());
        }
        return InferReduceShape(ctx, name, axes);
      });
}

template <ReduceOp kOp>
class ReduceKernel final : public Kernel {
 public:
  explicit ReduceKernel(const KernelInfo& info)
      : op_(info.op_type),
        axes_from_input_(info.opset >= AxesInputSince(info.op_type)),
        axes_(info.attrs->GetInts("axes")),
        keepdims_(info.attrs->GetInt("keepdims", 1) != 0),
        noop_with_empty_axes_(info.attrs->GetInt("noop_with_empty_axes", 0) != 0) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    std::vector<int64_t> axes = axes_;
    if (axes_from_input_) {
      axes.clear();
      const Tensor* a = ctx.input(1);
      if (a != nullptr && a->defined()) {
        if (a->dtype() != DType::kInt64 || a->rank() > 1) {
          return absl::InvalidArgumentError(
              absl::StrCat(op_, ": axes must be a 1-D int64 tensor, got ", DTypeName(a->dtype()),
                           " ", ShapeToString(a->shape())));
        }
        ASSIGN_OR_RETURN(axes, a->ToInt64Vector());
      }
    }
    if (axes.empty() && noop_with_empty_axes_) {
      ctx.SetOutput(0, x->Clone());
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(auto mask, ReducedMask(op_, axes, x->rank()));
    const Shape kept = ReducedShape(x->shape(), mask, true);
    if (x->dtype() == DType::kBool && (kOp == ReduceOp::kMax || kOp == ReduceOp::kMin)) {
      // Opset 20: any / all, as the max / min of 0 and 1 (an empty min is true).
      ASSIGN_OR_RETURN(
          Tensor * y, ctx.AllocateOutput(0, x->dtype(), ReducedShape(x->shape(), mask, keepdims_)));
      auto* out = static_cast<uint8_t*>(y->raw_data());
      ReduceLoop<kOp, uint8_t>(static_cast<const uint8_t*>(x->raw_data()), x->shape(), kept, out);
      for (int64_t i = 0; i < y->num_elements(); ++i) out[i] = out[i] != 0;
      return absl::OkStatus();
    }
    return VisitNumeric(x->dtype(), op_, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(
          Tensor * y, ctx.AllocateOutput(0, x->dtype(), ReducedShape(x->shape(), mask, keepdims_)));
      ReduceLoop<kOp, T>(x->data<T>(), x->shape(), kept, y->data<T>());
      return absl::OkStatus();
    });
  }

 private:
  const std::string op_;
  const bool axes_from_input_;
  const std::vector<int64_t> axes_;
  const bool keepdims_;
  const bool noop_with_empty_axes_;
};

#define CORTADO_REGISTER_REDUCE_(name, op, types) \
  CORTADO_REGISTER_OP(ReduceSchema(name));        \
  CORTADO_REGISTER_KERNEL(name, kCpuBackend, 1, kMaxOpset, types, MakeFactory<ReduceKernel<op>>())

const std::vector<DType> kReduceTypes = WithHalf(NumericTypes());
// ReduceMax and ReduceMin also take bool (opset 20).
std::vector<DType> WithBool(std::vector<DType> types) {
  types.push_back(DType::kBool);
  return types;
}

CORTADO_REGISTER_REDUCE_("ReduceSum", ReduceOp::kSum, kReduceTypes);
CORTADO_REGISTER_REDUCE_("ReduceMean", ReduceOp::kMean, kReduceTypes);
CORTADO_REGISTER_REDUCE_("ReduceProd", ReduceOp::kProd, kReduceTypes);
CORTADO_REGISTER_REDUCE_("ReduceMax", ReduceOp::kMax, WithBool(kReduceTypes));
CORTADO_REGISTER_REDUCE_("ReduceMin", ReduceOp::kMin, WithBool(kReduceTypes));
CORTADO_REGISTER_REDUCE_("ReduceL1", ReduceOp::kL1, kReduceTypes);
CORTADO_REGISTER_REDUCE_("ReduceL2", ReduceOp::kL2, kReduceTypes);
CORTADO_REGISTER_REDUCE_("ReduceSumSquare", ReduceOp::kSumSquare, kReduceTypes);
CORTADO_REGISTER_REDUCE_("ReduceLogSum", ReduceOp::kLogSum, kReduceTypes);
CORTADO_REGISTER_REDUCE_("ReduceLogSumExp", ReduceOp::kLogSumExp, kReduceTypes);
#undef CORTADO_REGISTER_REDUCE_

// ------------------------------------------------------------------------------------------------
// ArgMax, ArgMin.

template <bool kMax>
class ArgKernel final : public Kernel {
 public:
  explicit ArgKernel(const KernelInfo& info)
      : op_(info.op_type),
        axis_(info.attrs->GetInt("axis", 0)),
        keepdims_(info.attrs->GetInt("keepdims", 1) != 0),
        select_last_(info.attrs->GetInt("select_last_index", 0) != 0) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(int axis, CheckedAxis(op_, axis_, x->rank()));
    if (x->dim(axis) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(op_, ": axis ", axis_, " of shape ",
                                                     ShapeToString(x->shape()), " is empty"));
    }
    std::vector<bool> mask(x->rank(), false);
    mask[axis] = true;
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kInt64,
                                                    ReducedShape(x->shape(), mask, keepdims_)));
    const Lanes l = LanesAt(x->shape(), axis);
    int64_t* out = y->data<int64_t>();
    return VisitNumeric(x->dtype(), op_, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* in = x->data<T>();
      ForEachLane(l, [&](int64_t lane, int64_t base) {
        Acc<T> best = ToAcc(in[base]);
        int64_t arg = 0;
        for (int64_t j = 1; j < l.n && !IsNan(best); ++j) {  // like numpy, the first NaN wins
          const Acc<T> v = ToAcc(in[base + j * l.inner]);
          const bool better =
              kMax ? (select_last_ ? v >= best : v > best) : (select_last_ ? v <= best : v < best);
          if (better || IsNan(v)) {
            best = v;
            arg = j;
          }
        }
        out[lane] = arg;
      });
      return absl::OkStatus();
    });
  }

 private:
  const std::string op_;
  const int64_t axis_;
  const bool keepdims_;
  const bool select_last_;
};

absl::Status InferArg(InferenceContext& ctx) {
  const TensorType& in = ctx.input(0);
  TensorType out{DType::kInt64, std::nullopt};
  if (in.shape) {
    const int rank = static_cast<int>(in.shape->size());
    ASSIGN_OR_RETURN(int axis, CheckedAxis("ArgMax/ArgMin", ctx.attrs().GetInt("axis", 0), rank));
    std::vector<bool> mask(rank, false);
    mask[axis] = true;
    out.shape = ReducedShape(*in.shape, mask, ctx.attrs().GetInt("keepdims", 1) != 0);
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

OpSchema ArgSchema(const std::string& name) {
  return OpSchema(name)
      .Versions(1)
      .Inputs(1, 1)
      .Attr("axis", int64_t{0})
      .Attr("keepdims", int64_t{1})
      .Attr("select_last_index", int64_t{0})
      .Infer(InferArg);
}

CORTADO_REGISTER_OP(ArgSchema("ArgMax"));
CORTADO_REGISTER_KERNEL("ArgMax", kCpuBackend, 1, kMaxOpset, WithHalf(NumericTypes()),
                        MakeFactory<ArgKernel<true>>());
CORTADO_REGISTER_OP(ArgSchema("ArgMin"));
CORTADO_REGISTER_KERNEL("ArgMin", kCpuBackend, 1, kMaxOpset, WithHalf(NumericTypes()),
                        MakeFactory<ArgKernel<false>>());

// ------------------------------------------------------------------------------------------------
// Softmax, LogSoftmax, Hardmax.

enum class SoftmaxOp { kSoftmax, kLogSoftmax, kHardmax };

// Applies the op to every lane, subtracting the lane's maximum before exponentiating.
template <SoftmaxOp kOp, typename T>
void SoftmaxLanes(const T* x, T* y, const Lanes& l) {
  const int64_t s = l.inner;
  auto lane = [&](int64_t base) {
    double max = -std::numeric_limits<double>::infinity();
    int64_t arg = 0;
    for (int64_t j = 0; j < l.n; ++j) {
      const double v = ToDouble(x[base + j * s]);
      if (v > max) {
        max = v;
        arg = j;
      }
    }
    if constexpr (kOp == SoftmaxOp::kHardmax) {
      for (int64_t j = 0; j < l.n; ++j) y[base + j * s] = FromDouble<T>(j == arg ? 1.0 : 0.0);
    } else {
      double sum = 0;
      for (int64_t j = 0; j < l.n; ++j) sum += std::exp(ToDouble(x[base + j * s]) - max);
      const double log_sum = std::log(sum);
      for (int64_t j = 0; j < l.n; ++j) {
        const double shifted = ToDouble(x[base + j * s]) - max;
        y[base + j * s] =
            FromDouble<T>(kOp == SoftmaxOp::kSoftmax ? std::exp(shifted) / sum : shifted - log_sum);
      }
    }
  };
  // Lanes are independent: they go over the intra-op threads (as ForEachLane orders them).
  ParallelFor(l.outer * l.inner, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, l.n)),
              [&](int64_t begin, int64_t end) {
                for (int64_t k = begin; k < end; ++k) {
                  lane(k / l.inner * l.n * l.inner + k % l.inner);
                }
              });
}

template <SoftmaxOp kOp>
class SoftmaxKernel final : public Kernel {
 public:
  // Before opset 13 the input is coerced to 2-D at `axis` (default 1); from 13 the op runs along
  // `axis` (default -1). The default depends on the opset, so the schema has none.
  explicit SoftmaxKernel(const KernelInfo& info)
      : op_(info.op_type),
        flatten_(info.opset < 13),
        axis_(info.attrs->GetInt("axis", info.opset < 13 ? 1 : -1)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(int axis, CheckedAxis(op_, axis_, x->rank()));
    const Lanes l = flatten_ ? FlattenedAt(x->shape(), axis) : LanesAt(x->shape(), axis);
    return VisitFloat(x->dtype(), op_, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
      SoftmaxLanes<kOp, T>(x->data<T>(), y->data<T>(), l);
      return absl::OkStatus();
    });
  }

 private:
  const std::string op_;
  const bool flatten_;
  const int64_t axis_;
};

OpSchema SoftmaxSchema(const std::string& name) {
  return OpSchema(name)
      .Versions(1)
      .Inputs(1, 1)
      .OptionalAttr("axis", AttrType::kInt)
      .Infer(InferSameAsInput0);
}

CORTADO_REGISTER_OP(SoftmaxSchema("Softmax"));
CORTADO_REGISTER_KERNEL("Softmax", kCpuBackend, 1, kMaxOpset, WithHalf(FloatTypes()),
                        MakeFactory<SoftmaxKernel<SoftmaxOp::kSoftmax>>());
CORTADO_REGISTER_OP(SoftmaxSchema("LogSoftmax"));
CORTADO_REGISTER_KERNEL("LogSoftmax", kCpuBackend, 1, kMaxOpset, WithHalf(FloatTypes()),
                        MakeFactory<SoftmaxKernel<SoftmaxOp::kLogSoftmax>>());
CORTADO_REGISTER_OP(SoftmaxSchema("Hardmax"));
CORTADO_REGISTER_KERNEL("Hardmax", kCpuBackend, 1, kMaxOpset, WithHalf(FloatTypes()),
                        MakeFactory<SoftmaxKernel<SoftmaxOp::kHardmax>>());

// ------------------------------------------------------------------------------------------------
// CumSum and CumProd (opset 26).

// Reads a scalar (0-D or one-element) integer input such as CumSum's axis or TopK's k.
absl::StatusOr<int64_t> ScalarInt(absl::string_view op, absl::string_view what, const Tensor& t) {
  if (!IsInteger(t.dtype()) || t.num_elements() != 1 || t.rank() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ", what, " must be an integer scalar, got ", DTypeName(t.dtype()), " ",
                     ShapeToString(t.shape())));
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> v, t.ToInt64Vector());
  return v[0];
}

template <bool kProduct>
class CumulativeKernel final : public Kernel {
 public:
  static constexpr absl::string_view kOp = kProduct ? "CumProd" : "CumSum";
  explicit CumulativeKernel(const KernelInfo& info)
      : exclusive_(info.attrs->GetInt("exclusive", 0) != 0),
        reverse_(info.attrs->GetInt("reverse", 0) != 0) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* axis_t, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(int64_t axis_v, ScalarInt(kOp, "axis", *axis_t));
    ASSIGN_OR_RETURN(int axis, CheckedAxis(kOp, axis_v, x->rank()));
    const Lanes l = LanesAt(x->shape(), axis);
    return VisitNumeric(x->dtype(), kOp, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
      const T* in = x->data<T>();
      T* out = y->data<T>();
      ForEachLane(l, [&](int64_t, int64_t base) {
        Acc<T> acc{kProduct ? 1 : 0};
        for (int64_t step = 0; step < l.n; ++step) {
          const int64_t at = base + (reverse_ ? l.n - 1 - step : step) * l.inner;
          const Acc<T> v = ToAcc(in[at]);
          if (exclusive_) out[at] = FromAcc<T>(acc);
          acc = kProduct ? Mul(acc, v) : Add(acc, v);
          if (!exclusive_) out[at] = FromAcc<T>(acc);
        }
      });
      return absl::OkStatus();
    });
  }

 private:
  const bool exclusive_;
  const bool reverse_;
};

CORTADO_REGISTER_OP(OpSchema("CumSum")
                        .Versions(11)
                        .Inputs(2, 2)
                        .Attr("exclusive", int64_t{0})
                        .Attr("reverse", int64_t{0})
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("CumSum", kCpuBackend, 11, kMaxOpset, WithHalf(NumericTypes()),
                        MakeFactory<CumulativeKernel<false>>());
CORTADO_REGISTER_OP(OpSchema("CumProd")
                        .Versions(26)
                        .Inputs(2, 2)
                        .Attr("exclusive", int64_t{0})
                        .Attr("reverse", int64_t{0})
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("CumProd", kCpuBackend, 26, kMaxOpset, WithHalf(NumericTypes()),
                        MakeFactory<CumulativeKernel<true>>());

// ------------------------------------------------------------------------------------------------
// TopK.

// A strict weak order on accumulator values where NaN is greater than everything else.
template <typename A>
bool Greater(A a, A b) {
  if (IsNan(a)) return !IsNan(b);
  return !IsNan(b) && a > b;
}

class TopKKernel final : public Kernel {
 public:
  // k is an attribute before opset 10 and input 1 from then on.
  explicit TopKKernel(const KernelInfo& info)
      : k_from_input_(info.opset >= 10),
        k_attr_(info.attrs->GetInt("k", -1)),
        axis_(info.attrs->GetInt("axis", -1)),
        largest_(info.attrs->GetInt("largest", 1) != 0) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(int axis, CheckedAxis("TopK", axis_, x->rank()));
    int64_t k = k_attr_;
    if (k_from_input_) {
      ASSIGN_OR_RETURN(const Tensor* k_t, ctx.RequiredInput(1));
      ASSIGN_OR_RETURN(k, ScalarInt("TopK", "K", *k_t));
    }
    const Lanes l = LanesAt(x->shape(), axis);
    if (k < 0 || k > l.n) {
      return absl::InvalidArgumentError(absl::StrCat("TopK: k ", k, " is out of range for axis ",
                                                     axis_, " of shape ",
                                                     ShapeToString(x->shape())));
    }
    Shape out_shape = x->shape();
    out_shape[axis] = k;
    return VisitNumeric(x->dtype(), "TopK", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * values, ctx.AllocateOutput(0, x->dtype(), out_shape));
      ASSIGN_OR_RETURN(Tensor * indices, ctx.AllocateOutput(1, DType::kInt64, out_shape));
      const T* in = x->data<T>();
      std::vector<Acc<T>> v(l.n);
      std::vector<int64_t> order(l.n);
      // Sorted by value (largest or smallest first), ties by the lower index.
      auto before = [&](int64_t a, int64_t b) {
        if (Greater(v[a], v[b])) return largest_;
        if (Greater(v[b], v[a])) return !largest_;
        return a < b;
      };
      ForEachLane(l, [&](int64_t lane, int64_t base) {
        for (int64_t j = 0; j < l.n; ++j) v[j] = ToAcc(in[base + j * l.inner]);
        std::iota(order.begin(), order.end(), int64_t{0});
        std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
        // The same lane of the output, whose axis has k elements.
        const int64_t out_base = lane / l.inner * k * l.inner + lane % l.inner;
        for (int64_t j = 0; j < k; ++j) {
          values->data<T>()[out_base + j * l.inner] = in[base + order[j] * l.inner];
          indices->data<int64_t>()[out_base + j * l.inner] = order[j];
        }
      });
      return absl::OkStatus();
    });
  }

 private:
  const bool k_from_input_;
  const int64_t k_attr_;
  const int64_t axis_;
  const bool largest_;
};

absl::Status InferTopK(InferenceContext& ctx) {
  const TensorType& in = ctx.input(0);
  TensorType out{in.dtype, std::nullopt};
  if (in.shape) {
    const int rank = static_cast<int>(in.shape->size());
    ASSIGN_OR_RETURN(int axis, CheckedAxis("TopK", ctx.attrs().GetInt("axis", -1), rank));
    int64_t k = ctx.opset() < 10 ? ctx.attrs().GetInt("k", -1) : -1;
    if (ctx.opset() >= 10 && ctx.constant(1) != nullptr) {
      ASSIGN_OR_RETURN(k, ScalarInt("TopK", "K", *ctx.constant(1)));
    }
    out.shape = *in.shape;
    (*out.shape)[axis] = k;
  }
  ctx.set_output(0, out);
  out.dtype = DType::kInt64;
  ctx.set_output(1, out);
  return absl::OkStatus();
}

CORTADO_REGISTER_OP(OpSchema("TopK")
                        .Versions(1)
                        .Inputs(1, 2)
                        .Outputs(2, 2)
                        .OptionalAttr("k", AttrType::kInt)
                        .Attr("axis", int64_t{-1})
                        .Attr("largest", int64_t{1})
                        // The output is always sorted: with sorted=0 any order is allowed.
                        .Attr("sorted", int64_t{1})
                        .Infer(InferTopK));
CORTADO_REGISTER_KERNEL("TopK", kCpuBackend, 1, kMaxOpset, WithHalf(NumericTypes()),
                        MakeFactory<TopKKernel>());

// ------------------------------------------------------------------------------------------------
// Einsum.

constexpr int kEllipsis = -1;
constexpr int kNumLetters = 52;  // 'A'..'Z' are labels 0..25, 'a'..'z' are 26..51 (ASCII order)

// One operand of an equation: its letters in order, with kEllipsis where "..." stands.
struct EinsumTerm {
  std::vector<int> labels;
  bool has_ellipsis = false;
};

struct EinsumEquation {
  std::vector<EinsumTerm> inputs;
  EinsumTerm output;
  bool explicit_output = false;
};

absl::StatusOr<EinsumTerm> ParseEinsumTerm(absl::string_view s, absl::string_view equation) {
  EinsumTerm term;
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '.') {
      if (s.substr(i, 3) != "..." || term.has_ellipsis) {
        return absl::InvalidArgumentError(
            absl::StrCat("Einsum: bad ellipsis in equation '", equation, "'"));
      }
      term.labels.push_back(kEllipsis);
      term.has_ellipsis = true;
      i += 3;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      term.labels.push_back(std::isupper(static_cast<unsigned char>(c)) ? c - 'A' : 26 + c - 'a');
      ++i;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("Einsum: unexpected '", std::string(1, c),
                                                     "' in equation '", equation, "'"));
    }
  }
  return term;
}

absl::StatusOr<EinsumEquation> ParseEinsum(absl::string_view equation) {
  std::string eq;
  for (char c : equation) {
    if (!std::isspace(static_cast<unsigned char>(c))) eq.push_back(c);
  }
  EinsumEquation out;
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    ASSIGN_OR_RETURN(
        EinsumTerm term,
        ParseEinsumTerm(absl::string_view(lhs).substr(start, comma - start), equation));
    out.inputs.push_back(std::move(term));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::array<int, kNumLetters> count{};
  bool any_ellipsis = false;
  for (const EinsumTerm& t : out.inputs) {
    any_ellipsis = any_ellipsis || t.has_ellipsis;
    for (int l : t.labels) {
      if (l != kEllipsis) ++count[l];
    }
  }
  if (arrow != std::string::npos) {
    out.explicit_output = true;
    ASSIGN_OR_RETURN(out.output,
                     ParseEinsumTerm(absl::string_view(eq).substr(arrow + 2), equation));
    std::array<bool, kNumLetters> seen{};
    for (int l : out.output.labels) {
      if (l == kEllipsis) continue;
      if (seen[l] || count[l] == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Einsum: output label repeated or absent from the inputs in '", equation, "'"));
      }
      seen[l] = true;
    }
  } else {
    // Implicit output: the broadcast dimensions, then the letters used once, in ASCII order.
    if (any_ellipsis) {
      out.output.labels.push_back(kEllipsis);
      out.output.has_ellipsis = true;
    }
    for (int l = 0; l < kNumLetters; ++l) {
      if (count[l] == 1) out.output.labels.push_back(l);
    }
  }
  return out;
}

// An equation bound to operand shapes. Labels: letters as above, then one per broadcast
// ("...") dimension from kNumLetters on, right-aligned across operands.
struct EinsumDims {
  std::vector<std::vector<int>> input_labels;  // one label per operand dimension
  std::vector<int> output_labels;
  std::vector<int64_t> size;  // per label; kUnseen when unused, -1 unknown
};

constexpr int64_t kUnseen = -2;

// Merges one operand dimension into a label's size; -1 is unknown (inference), 1 broadcasts.
absl::StatusOr<int64_t> MergeDim(int64_t cur, int64_t d) {
  if (cur == kUnseen) return d;
  if (d == -1) return cur == 1 ? -1 : cur;
  if (cur == -1) return d == 1 ? -1 : d;
  if (cur == d || d == 1) return cur;
  if (cur == 1) return d;
  return absl::InvalidArgumentError(absl::StrCat("sizes ", cur, " and ", d, " do not match"));
}

absl::StatusOr<EinsumDims> BindEinsum(const EinsumEquation& eq, const std::vector<Shape>& shapes) {
  if (shapes.size() != eq.inputs.size()) {
    return absl::InvalidArgumentError(absl::StrCat("Einsum: the equation has ", eq.inputs.size(),
                                                   " operands but there are ", shapes.size(),
                                                   " inputs"));
  }
  // Broadcast rank of each operand, and the largest.
  std::vector<int> ell(shapes.size(), 0);
  int max_ell = 0;
  for (size_t k = 0; k < shapes.size(); ++k) {
    const int letters =
        static_cast<int>(eq.inputs[k].labels.size()) - (eq.inputs[k].has_ellipsis ? 1 : 0);
    const int rank = static_cast<int>(shapes[k].size());
    ell[k] = rank - letters;
    if (ell[k] < 0 || (!eq.inputs[k].has_ellipsis && ell[k] != 0)) {
      return absl::InvalidArgumentError(absl::StrCat("Einsum: operand ", k, " has shape ",
                                                     ShapeToString(shapes[k]), " but ", letters,
                                                     " labels"));
    }
    max_ell = std::max(max_ell, ell[k]);
  }
  EinsumDims dims;
  dims.size.assign(kNumLetters + max_ell, kUnseen);
  auto expand = [&](const EinsumTerm& term, int n_ell) {
    std::vector<int> labels;
    for (int l : term.labels) {
      if (l != kEllipsis) {
        labels.push_back(l);
        continue;
      }
      for (int j = 0; j < n_ell; ++j) labels.push_back(kNumLetters + max_ell - n_ell + j);
    }
    return labels;
  };
  for (size_t k = 0; k < shapes.size(); ++k) {
    dims.input_labels.push_back(expand(eq.inputs[k], ell[k]));
    for (size_t d = 0; d < shapes[k].size(); ++d) {
      const int l = dims.input_labels[k][d];
      absl::StatusOr<int64_t> merged = MergeDim(dims.size[l], shapes[k][d]);
      if (!merged.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("Einsum: operand ", k, " of shape ",
                                                       ShapeToString(shapes[k]), ": ",
                                                       merged.status().message()));
      }
      dims.size[l] = *merged;
    }
  }
  if (max_ell > 0 && !eq.output.has_ellipsis) {
    return absl::InvalidArgumentError(
        "Einsum: the operands have '...' dimensions but the output has no '...'");
  }
  dims.output_labels = expand(eq.output, max_ell);
  return dims;
}

Shape EinsumOutputShape(const EinsumDims& dims) {
  Shape out;
  for (int l : dims.output_labels) out.push_back(dims.size[l]);
  return out;
}

class EinsumKernel final : public Kernel {
 public:
  explicit EinsumKernel(EinsumEquation eq) : eq_(std::move(eq)) {}

  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    ASSIGN_OR_RETURN(EinsumEquation eq, ParseEinsum(info.attrs->GetString("equation")));
    return std::unique_ptr<Kernel>(new EinsumKernel(std::move(eq)));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    std::vector<const Tensor*> xs;
    std::vector<Shape> shapes;
    for (int k = 0; k < ctx.num_inputs(); ++k) {
      ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(k));
      if (!xs.empty() && x->dtype() != xs[0]->dtype()) {
        return absl::InvalidArgumentError(absl::StrCat("Einsum: input ", k, " is ",
                                                       DTypeName(x->dtype()), " but input 0 is ",
                                                       DTypeName(xs[0]->dtype())));
      }
      xs.push_back(x);
      shapes.push_back(x->shape());
    }
    if (xs.empty()) return absl::InvalidArgumentError("Einsum: no inputs");
    ASSIGN_OR_RETURN(EinsumDims dims, BindEinsum(eq_, shapes));
    // One loop over every label: the output's first, then the summed ones. Each operand (and,
    // last, the output) steps by its strides over the loop labels; a repeated label adds its
    // strides (a diagonal), a broadcast dimension of size 1 and a summed label in the output
    // have none.
    std::vector<int> loop = dims.output_labels;
    std::vector<int> position(dims.size.size(), -1);
    for (size_t i = 0; i < loop.size(); ++i) position[loop[i]] = static_cast<int>(i);
    for (int l = 0; l < static_cast<int>(dims.size.size()); ++l) {
      if (dims.size[l] != kUnseen && position[l] < 0) {
        position[l] = static_cast<int>(loop.size());
        loop.push_back(l);
      }
    }
    std::vector<int64_t> sizes;
    for (int l : loop) sizes.push_back(dims.size[l]);
    const Shape out_shape = EinsumOutputShape(dims);
    std::vector<std::vector<int64_t>> strides(xs.size() + 1, std::vector<int64_t>(loop.size(), 0));
    for (size_t k = 0; k < xs.size(); ++k) {
      const std::vector<int64_t> st = Strides(shapes[k]);
      for (size_t d = 0; d < shapes[k].size(); ++d) {
        if (shapes[k][d] != 1) strides[k][position[dims.input_labels[k][d]]] += st[d];
      }
    }
    const std::vector<int64_t> out_st = Strides(out_shape);
    std::copy(out_st.begin(), out_st.end(), strides.back().begin());
    return VisitNumeric(xs[0]->dtype(), "Einsum", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, xs[0]->dtype(), out_shape));
      std::vector<const T*> in;
      for (const Tensor* x : xs) in.push_back(x->data<T>());
      std::vector<Acc<T>> acc(y->num_elements(), Acc<T>{0});
      ForEachIndex(sizes, strides, std::vector<int64_t>(strides.size(), 0),
                   [&](const std::vector<int64_t>& off) {
                     Acc<T> p{1};
                     for (size_t k = 0; k < in.size(); ++k) p = Mul(p, ToAcc(in[k][off[k]]));
                     acc[off.back()] = Add(acc[off.back()], p);
                   });
      for (int64_t o = 0; o < y->num_elements(); ++o) y->data<T>()[o] = FromAcc<T>(acc[o]);
      return absl::OkStatus();
    });
  }

 private:
  const EinsumEquation eq_;
};

absl::Status InferEinsum(InferenceContext& ctx) {
  ASSIGN_OR_RETURN(EinsumEquation eq, ParseEinsum(ctx.attrs().GetString("equation")));
  TensorType out{ctx.input(0).dtype, std::nullopt};
  std::vector<Shape> shapes;
  for (int k = 0; k < ctx.num_inputs(); ++k) {
    if (!ctx.input(k).shape) {
      ctx.set_output(0, out);
      return absl::OkStatus();
    }
    shapes.push_back(*ctx.input(k).shape);
  }
  ASSIGN_OR_RETURN(EinsumDims dims, BindEinsum(eq, shapes));
  out.shape = EinsumOutputShape(dims);
  ctx.set_output(0, out);
  return absl::OkStatus();
}

CORTADO_REGISTER_OP(OpSchema("Einsum")
                        .Versions(12)
                        .Inputs(1, 1 << 20)
                        .RequiredAttr("equation", AttrType::kString)
                        .Infer(InferEinsum));
CORTADO_REGISTER_KERNEL("Einsum", kCpuBackend, 12, kMaxOpset, WithHalf(NumericTypes()),
                        EinsumKernel::Create);

// ------------------------------------------------------------------------------------------------
// Det.

// Determinant of the n x n row-major matrix `a` (overwritten) by LU with partial pivoting.
double Determinant(std::vector<double>& a, int64_t n) {
  double det = 1;
  for (int64_t c = 0; c < n; ++c) {
    int64_t pivot = c;
    for (int64_t r = c + 1; r < n; ++r) {
      if (std::fabs(a[r * n + c]) > std::fabs(a[pivot * n + c])) pivot = r;
    }
    if (a[pivot * n + c] == 0) return 0;
    if (pivot != c) {
      for (int64_t j = 0; j < n; ++j) std::swap(a[c * n + j], a[pivot * n + j]);
      det = -det;
    }
    det *= a[c * n + c];
    for (int64_t r = c + 1; r < n; ++r) {
      const double f = a[r * n + c] / a[c * n + c];
      for (int64_t j = c + 1; j < n; ++j) a[r * n + j] -= f * a[c * n + j];
    }
  }
  return det;
}

class DetKernel final : public Kernel {
 public:
  explicit DetKernel(const KernelInfo&) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int rank = x->rank();
    if (rank < 2 || x->dim(rank - 1) != x->dim(rank - 2)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Det: input must be [*, M, M], got shape ", ShapeToString(x->shape())));
    }
    const int64_t n = x->dim(rank - 1);
    const Shape out_shape(x->shape().begin(), x->shape().end() - 2);
    return VisitFloat(x->dtype(), "Det", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out_shape));
      std::vector<double> a(n * n);
      for (int64_t b = 0; b < y->num_elements(); ++b) {
        for (int64_t i = 0; i < n * n; ++i) a[i] = ToDouble(x->data<T>()[b * n * n + i]);
        y->data<T>()[b] = FromDouble<T>(Determinant(a, n));
      }
      return absl::OkStatus();
    });
  }
};

absl::Status InferDet(InferenceContext& ctx) {
  const TensorType& in = ctx.input(0);
  TensorType out{in.dtype, std::nullopt};
  if (in.shape) {
    if (in.shape->size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("input must be [*, M, M], got shape ", ShapeToString(*in.shape)));
    }
    out.shape = Shape(in.shape->begin(), in.shape->end() - 2);
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

CORTADO_REGISTER_OP(OpSchema("Det").Versions(11).Inputs(1, 1).Infer(InferDet));
CORTADO_REGISTER_KERNEL("Det", kCpuBackend, 11, kMaxOpset, WithHalf(FloatTypes()),
                        MakeFactory<DetKernel>());

}  // namespace

int AxesInputSince(absl::string_view op_type) { return op_type == "ReduceSum" ? 13 : 18; }

absl::Status LogSoftmaxAlongAxis(const Tensor& x, int axis, Tensor& out) {
  if (axis < 0 || axis >= x.rank() || out.dtype() != x.dtype() || out.shape() != x.shape()) {
    return absl::InvalidArgumentError(
        absl::StrCat("LogSoftmax: bad axis ", axis, " or output ", DTypeName(out.dtype()), " ",
                     ShapeToString(out.shape()), " for input ", DTypeName(x.dtype()), " ",
                     ShapeToString(x.shape())));
  }
  return VisitFloat(x.dtype(), "LogSoftmax", [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    SoftmaxLanes<SoftmaxOp::kLogSoftmax, T>(x.data<T>(), out.data<T>(), LanesAt(x.shape(), axis));
    return absl::OkStatus();
  });
}

}  // namespace cortado
