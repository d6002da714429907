// The shared machinery of the elementwise math operators (ops/unary.cc, ops/activation.cc,
// ops/binary.cc). Internal to those files, other families should not depend on it, except that
// the optimized recurrent cells (backends/cpu/rnn.cc) use its branch-free FastSigmoid and
// FastTanh. Stateless: thread-safe.
//
// Every kernel is a thin class over a few shared loops:
//   - UnaryMap: y[i] = fn(x[i]) over a flat array;
//   - ForEachRow: numpy broadcasting, coalesced so that the innermost run of every output row is
//     as long as possible and each input either walks it (step 1) or repeats one value (step 0);
//   - BinaryRow: the four step combinations of a binary row as separate tight loops, so equal
//     shapes, a scalar operand and the common bias shapes all reach vectorizable code.
// Also here: dtype sets as bit masks and dispatch on them; the compute type Calc<T> (float16 and
// bfloat16 are computed in float and rounded back on store); wrapping integer arithmetic; the
// branch-free FastExp; input checks; elementwise inference; the UnaryKernel and BinaryKernel
// templates; and CORTADO_MATH_UNARY_, a unary op's schema and kernel in one line.
#ifndef CORTADO_OPS_ELEMENTWISE_H_
#define CORTADO_OPS_ELEMENTWISE_H_

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "ops/broadcast.h"
#include "ops/kernel.h"
#include "ops/registry.h"

namespace cortado {

// Bazel builds with -O2, where GCC 12 leaves the elementwise loops scalar: this header and every
// file that includes it enable the loop vectorizer, and let it evaluate both arms of a float
// select (no-trapping-math: no kernel reads the floating-point exception flags). Results are
// unchanged. Clang vectorizes at -O2 already. The options must be the same here and in the
// including file: GCC does not inline functions across differing optimization options, and an
// out-of-line call stops vectorization.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("tree-vectorize", "no-trapping-math")
#endif

// ---------------------------------------------------------------------------------------------
// Dtype sets, as bit masks usable in `if constexpr`.

enum TypeBits : unsigned {
  kF32F64 = 1u << 0,   // float32, float64
  kF16 = 1u << 1,      // float16, bfloat16
  kSInt = 1u << 2,     // int8..int64
  kUInt = 1u << 3,     // uint8..uint64
  kBoolBit = 1u << 4,  // bool
  kStr = 1u << 5,      // string
};
constexpr unsigned kFloats = kF32F64 | kF16;
constexpr unsigned kSignedNum = kFloats | kSInt;
constexpr unsigned kNum = kSignedNum | kUInt;
constexpr unsigned kAllTypes = kNum | kBoolBit | kStr;
constexpr unsigned kPowBaseTypes = kFloats | kSInt;  // Pow's base; the exponent is any kNum

constexpr unsigned DTypeBit(DType d) {
  switch (d) {
    case DType::kFloat32:
    case DType::kFloat64:
      return kF32F64;
    case DType::kFloat16:
    case DType::kBFloat16:
      return kF16;
    case DType::kInt8:
    case DType::kInt16:
    case DType::kInt32:
    case DType::kInt64:
      return kSInt;
    case DType::kUInt8:
    case DType::kUInt16:
    case DType::kUInt32:
    case DType::kUInt64:
      return kUInt;
    case DType::kBool:
      return kBoolBit;
    case DType::kString:
      return kStr;
    default:  // undefined and the narrow types
      break;
  }
  return 0;
}

// The dtypes whose bits are in `mask`.
std::vector<DType> TypesOf(unsigned mask);

// "<subject> dtype int8 is not supported (expected one of float32, ...)".
absl::Status Unsupported(absl::string_view subject, DType dtype, unsigned mask);

// Calls f(TypeTag<T>{}) for the C++ type of `dtype` when it is in kTypes, else InvalidArgument.
template <unsigned kTypes, typename F>
absl::Status Dispatch(DType dtype, absl::string_view op, absl::string_view what, F&& f) {
  if ((DTypeBit(dtype) & kTypes) == 0) {
    return Unsupported(absl::StrCat(op, ": ", what), dtype, kTypes);
  }
  return VisitDType(dtype, DTypeSet::kAll, op, [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    if constexpr ((DTypeBit(DTypeOf<T>::value) & kTypes) != 0) {
      return f(tag);
    } else {
      return absl::InternalError(absl::StrCat(op, ": dtype dispatch mismatch"));
    }
  });
}

// The type arithmetic is done in: float for the 16-bit floats, the type itself otherwise.
template <typename T>
struct CalcOf {
  using type = T;
};
template <>
struct CalcOf<Half> {
  using type = float;
};
template <>
struct CalcOf<BFloat16> {
  using type = float;
};
template <typename T>
using Calc = typename CalcOf<T>::type;

// ---------------------------------------------------------------------------------------------
// Scalar helpers.

// Integer arithmetic in an unsigned type of at least int's width, so overflow wraps.
template <typename C>
using WrapType =
    std::conditional_t<(sizeof(C) < sizeof(unsigned)), unsigned, std::make_unsigned_t<C>>;

template <typename C>
C WrapAdd(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    return static_cast<C>(static_cast<WrapType<C>>(a) + static_cast<WrapType<C>>(b));
  } else {
    return a + b;
  }
}
template <typename C>
C WrapSub(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    return static_cast<C>(static_cast<WrapType<C>>(a) - static_cast<WrapType<C>>(b));
  } else {
    return a - b;
  }
}
template <typename C>
C WrapMul(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    return static_cast<C>(static_cast<WrapType<C>>(a) * static_cast<WrapType<C>>(b));
  } else {
    return a * b;
  }
}
template <typename C>
C WrapNeg(C a) {
  if constexpr (std::is_integral_v<C>) {
    return WrapSub(C(0), a);
  } else {
    return -a;
  }
}

// Converts a double to an integer type, saturating at the range and mapping NaN to 0.
template <typename T>
T SaturateCast(double v) {
  if (std::isnan(v)) return T(0);
  if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) {
    return std::numeric_limits<T>::lowest();
  }
  if (v >= static_cast<double>(std::numeric_limits<T>::max())) {
    return std::numeric_limits<T>::max();
  }
  return static_cast<T>(v);
}

// ---------------------------------------------------------------------------------------------
// fabs, floor, ceil, nearbyint and copysign as compiler builtins: the <cmath> wrappers are
// compiled before the pragma above, GCC will not inline them into this file's loops, and an
// out-of-line call stops vectorization. (sqrt stays scalar: GCC only drops its errno call for
// negative inputs under a command-line -fno-math-errno.)
#if defined(__GNUC__)
inline float Fabs(float x) { return __builtin_fabsf(x); }
inline double Fabs(double x) { return __builtin_fabs(x); }
inline float Floor(float x) { return __builtin_floorf(x); }
inline double Floor(double x) { return __builtin_floor(x); }
inline float Ceil(float x) { return __builtin_ceilf(x); }
inline double Ceil(double x) { return __builtin_ceil(x); }
inline float NearbyInt(float x) { return __builtin_nearbyintf(x); }
inline double NearbyInt(double x) { return __builtin_nearbyint(x); }
inline float CopySign(float x, float s) { return __builtin_copysignf(x, s); }
#else
template <typename C>
C Fabs(C x) {
  return std::fabs(x);
}
template <typename C>
C Floor(C x) {
  return std::floor(x);
}
template <typename C>
C Ceil(C x) {
  return std::ceil(x);
}
template <typename C>
C NearbyInt(C x) {
  return std::nearbyint(x);
}
inline float CopySign(float x, float s) { return std::copysign(x, s); }
#endif

// ---------------------------------------------------------------------------------------------
// Branch-free float32 exp, tanh and sigmoid (and, in ops/unary.cc, erf), so that the loops calling
// them vectorize (libm's are scalar calls: 10-60 ns an element). Each stays within about 2 ulp of
// the correctly rounded result over the whole float range, NaN and infinities included (math_test
// sweeps them against libm in double). The polynomial coefficients were fitted by (reweighted)
// least squares with numpy and rounded to float; the error bounds include that rounding.
// V is float or a GCC vector of floats (backends/cpu/simd.h), whose lanes then each get what the
// float version gives: the SIMD kernels call these on whole vectors.

// The int32 counterpart of V (a comparison of two vectors gives one).
template <typename V>
using Int32Of = std::conditional_t<std::is_same_v<V, float>, int32_t, decltype(V{} < V{})>;

// The bits of x as a To of the same size.
template <typename To, typename From>
To BitCast(From x) {
  static_assert(sizeof(To) == sizeof(From));
  To y;
  std::memcpy(&y, &x, sizeof(y));
  return y;
}

#if defined(__GNUC__)
// Fabs and CopySign of vectors, lane by lane, through the sign bit.
template <typename V, typename = std::enable_if_t<!std::is_arithmetic_v<V>>>
V Fabs(V x) {
  return BitCast<V>(BitCast<Int32Of<V>>(x) & 0x7fffffff);
}
template <typename V, typename = std::enable_if_t<!std::is_arithmetic_v<V>>>
V CopySign(V x, V s) {
  const Int32Of<V> magnitude = BitCast<Int32Of<V>>(x) & 0x7fffffff;
  return BitCast<V>(magnitude | (BitCast<Int32Of<V>>(s) & INT32_MIN));
}
#endif

template <typename V>
V Horner(V, float c) {
  return V{} + c;
}
// c0 + s * (c1 + s * (c2 + ...)).
template <typename V, typename... Rest>
V Horner(V s, float c0, Rest... rest) {
  return c0 + s * Horner(s, rest...);
}

// 2^n for n in [-126, 127], built from its exponent bits.
template <typename V>
V Pow2(Int32Of<V> n) {
  return BitCast<V>((n + 127) << 23);
}

// exp(x) = 2^n * exp(r) with n = round(x / ln2) and |r| <= ln2 / 2. ln2 is split in two (Cody and
// Waite) so that r is accurate, and exp(r) is its Taylor series to r^7 (truncation < 1e-8
// relative). 2^n is applied in two halves so that subnormal results and overflow come out right.
template <typename V>
V FastExp(V x) {
  // Beyond the clamp the result is 0 or inf; NaN is clamped too (so n stays an integer) and
  // restored at the end.
  const V xc = !(x > -104.0f) ? -104.0f : (x > 89.0f ? 89.0f : x);
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const V nf = (xc * 1.44269504088896341f + kRound) - kRound;
  const V r = (xc - nf * 0.693359375f) + nf * 2.12194440e-4f;
  const V p =
      Horner(r, 1.0f, 1.0f, 1.0f / 2, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040);
  Int32Of<V> n;  // nf, an integer
  if constexpr (std::is_same_v<V, float>) {
    n = static_cast<int32_t>(nf);
  } else {
    n = __builtin_convertvector(nf, Int32Of<V>);
  }
  const Int32Of<V> half = n >> 1;
  const V y = p * Pow2<V>(half) * Pow2<V>(n - half);
  return x != x ? x : y;
}

// |x| < 0.625: x + x^3 * P(x^2), fitted on [0, 0.625]. Beyond: 1 - 2 / (exp(2|x|) + 1) with the
// sign of x (exp's error costs at most ~1 ulp there), |x| capped at 9 where tanh rounds to 1.
template <typename V>
V FastTanh(V x) {
  const V a = Fabs(x);
  const V s = x * x;
  const V small =
      x + x * s *
              Horner(s, -0.333333283662796f, 0.13332770764827728f, -0.05385094881057739f,
                     0.020997347310185432f, -0.006096930243074894f);
  const V e = FastExp(2.0f * (a < 9.0f ? a : 9.0f));
  const V large = CopySign(1.0f - 2.0f / (e + 1.0f), x);
  return !(a >= 0.625f) ? small : large;  // NaN takes the polynomial and stays NaN
}

// 1 / (1 + exp(-x)); e = exp(-|x|) never overflows: 1 / (1 + e) for x >= 0, e / (1 + e) below.
template <typename V>
V FastSigmoid(V x) {
  const V e = FastExp(-Fabs(x));
  const V r = 1.0f / (1.0f + e);
  return x >= 0.0f ? r : e * r;
}

// ---------------------------------------------------------------------------------------------
// Loops.

// y[i] = fn(x[i]) in the compute type of T; O is T or bool.
template <typename T, typename O, typename Fn>
void UnaryMap(const T* x, O* y, int64_t n, const Fn& fn) {
  using C = Calc<T>;
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] = static_cast<O>(fn(static_cast<C>(x[i])));
  };
  if (n < 2 * kMinParallelElements) return run(0, n);
  ParallelFor(n, kMinParallelElements, run);
}

// Numpy broadcasting of N inputs to `out`, one contiguous output row at a time:
// row(out_offset, in_offsets, in_steps, n) covers output elements [out_offset, out_offset + n),
// reading input k at in_offsets[k] + i * in_steps[k] with a step of 1 or 0. Dimensions of size
// 1 are dropped and adjacent dimensions that every input either spans or broadcasts are merged,
// so equal shapes give one row and a trailing bias gives rows as long as the bias. Every input
// must broadcast to `out` (checked by the caller). Rows run concurrently on the intra-op threads:
// `row` may write only its own output elements.
template <size_t N, typename Row>
void ForEachRow(const Shape& out, const std::array<const Shape*, N>& ins, Row&& row) {
  if (NumElements(out) == 0) return;
  const size_t rank = out.size();
  Shape merged;                  // coalesced output dimensions
  std::array<Shape, N> in_dims;  // per input: the merged dimension, or 1 where it broadcasts
  std::array<bool, N> prev{};
  for (size_t d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;
    std::array<bool, N> bcast;
    for (size_t k = 0; k < N; ++k) {
      const Shape& s = *ins[k];
      const size_t lead = rank - s.size();
      bcast[k] = d < lead || s[d - lead] == 1;
    }
    if (!merged.empty() && bcast == prev) {
      merged.back() *= out[d];
      for (size_t k = 0; k < N; ++k) {
        if (!bcast[k]) in_dims[k].back() *= out[d];
      }
    } else {
      merged.push_back(out[d]);
      for (size_t k = 0; k < N; ++k) in_dims[k].push_back(bcast[k] ? 1 : out[d]);
      prev = bcast;
    }
  }
  if (merged.empty()) {  // a single element
    std::array<int64_t, N> zeros{};
    row(0, zeros, zeros, 1);
    return;
  }
  const int64_t n = merged.back();
  std::array<int64_t, N> steps;
  for (size_t k = 0; k < N; ++k) {
    steps[k] = in_dims[k].back() == 1 ? 0 : 1;
    in_dims[k].pop_back();
  }
  merged.pop_back();
  std::array<const Shape*, N> outer_ins;
  for (size_t k = 0; k < N; ++k) outer_ins[k] = &in_dims[k];
  // Rows split over the intra-op threads (many short rows: a per-channel operand of a
  // channels-last image).
  ParallelFor(NumElements(merged), std::max<int64_t>(1, kMinParallelElements / n),
              [&](int64_t begin, int64_t end) {
                ForEachBroadcastIn<N>(merged, outer_ins, begin, end,
                                      [&](int64_t o, const std::array<int64_t, N>& offsets) {
                                        std::array<int64_t, N> base;
                                        for (size_t k = 0; k < N; ++k)
                                          base[k] = offsets[k] * (steps[k] ? n : 1);
                                        row(o * n, base, steps, n);
                                      });
              });
}

// One output row of a binary op; each step combination is its own loop.
template <typename A, typename B, typename O, typename Fn>
void BinaryRow(const A* a, int64_t sa, const B* b, int64_t sb, O* o, int64_t n, const Fn& fn) {
  using CA = Calc<A>;
  using CB = Calc<B>;
  if (sa != 0 && sb != 0) {
    for (int64_t i = 0; i < n; ++i) {
      o[i] = static_cast<O>(fn(static_cast<CA>(a[i]), static_cast<CB>(b[i])));
    }
  } else if (sa != 0) {
    const CB y = static_cast<CB>(*b);
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<O>(fn(static_cast<CA>(a[i]), y));
  } else if (sb != 0) {
    const CA x = static_cast<CA>(*a);
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<O>(fn(x, static_cast<CB>(b[i])));
  } else {
    const O v = static_cast<O>(fn(static_cast<CA>(*a), static_cast<CB>(*b)));
    std::fill(o, o + n, v);
  }
}

// out = fn(a, b) with numpy broadcasting; `out` is allocated with the broadcast shape and may be
// `a` itself (the variadic ops accumulate in place).
template <typename A, typename B, typename O, typename Fn>
void BroadcastBinary(const Tensor& a, const Tensor& b, Tensor* out, const Fn& fn) {
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  O* po = out->data<O>();
  ForEachRow<2>(out->shape(), {&a.shape(), &b.shape()},
                [&](int64_t o, const std::array<int64_t, 2>& base,
                    const std::array<int64_t, 2>& step, int64_t n) {
                  // A long row (equal shapes, a scalar operand) is split over the intra-op threads.
                  auto run = [&](int64_t begin, int64_t end) {
                    BinaryRow(pa + base[0] + begin * step[0], step[0],
                              pb + base[1] + begin * step[1], step[1], po + o + begin, end - begin,
                              fn);
                  };
                  if (n < 2 * kMinParallelElements) return run(0, n);
                  ParallelFor(n, kMinParallelElements, run);
                });
}

// ---------------------------------------------------------------------------------------------
// Validation helpers.

const AttributeMap& AttrsOf(const KernelInfo& info);

absl::StatusOr<const Tensor*> GetInput(const KernelContext& ctx, int i, absl::string_view op);

absl::Status CheckSameDType(absl::string_view op, const Tensor& a, const Tensor& b, int ia, int ib);

absl::StatusOr<Shape> Broadcast(absl::string_view op, const Shape& a, const Shape& b);

// The binary ops before opset 7 (Add, Sub, Mul, Div, Pow, ...) broadcast only with the attribute
// broadcast=1, and only B onto A: B's dims match A's from `axis` on (without axis, A's last
// dims); PRelu before 7 takes one slope per channel (axis 1). LegacyBroadcastAxis is that axis
// when the node broadcasts that way (-1 meaning A's last dims), else nullopt;
// LegacyBroadcastShape is B's shape padded with 1s to A's rank.
std::optional<int64_t> LegacyBroadcastAxis(absl::string_view op, int opset,
                                           const AttributeMap& attrs);
absl::StatusOr<Shape> LegacyBroadcastShape(absl::string_view op, const Shape& a, const Shape& b,
                                           int64_t axis);

// ---------------------------------------------------------------------------------------------
// Type and shape inference.

// Inputs in kTypes and all of one dtype, where known; the output has the broadcast shape of all
// inputs and the dtype of input 0 (bool when kBoolOut).
template <unsigned kTypes, bool kBoolOut = false>
absl::Status InferElementwise(InferenceContext& ctx) {
  DType first = DType::kUndefined;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const DType d = ctx.input(i).dtype;
    if (d == DType::kUndefined) continue;
    if ((DTypeBit(d) & kTypes) == 0) {
      return Unsupported(absl::StrCat("input ", i), d, kTypes);
    }
    if (first == DType::kUndefined) first = d;
    if (d != first) {
      return absl::InvalidArgumentError(absl::StrCat("inputs must have the same dtype, got ",
                                                     DTypeName(first), " and ", DTypeName(d)));
    }
  }
  if (ctx.num_inputs() == 2 && LegacyBroadcastAxis("", ctx.opset(), ctx.attrs())) {
    ctx.set_output(0, TensorType{first, ctx.input(0).shape});  // B broadcasts onto A
  } else {
    RETURN_IF_ERROR(InferBroadcast(ctx));
  }
  if constexpr (kBoolOut) {
    TensorType out = ctx.outputs()[0];
    out.dtype = DType::kBool;
    ctx.set_output(0, out);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Kernel templates.

// Base of the elementwise functors: built from the node's attributes; Validate rejects a dtype
// or attribute combination before any output is written.
struct Stateless {
  static constexpr bool kUnidirectional = false;  // true: input 1 broadcasts to input 0 only
  explicit Stateless(const AttributeMap&) {}
  absl::Status Validate(absl::string_view, DType) const { return absl::OkStatus(); }
};

// y = fn(x) elementwise; O is the input dtype, or bool when kBoolOut.
template <typename Fn, unsigned kTypes, bool kBoolOut = false>
class UnaryKernel final : public Kernel {
 public:
  explicit UnaryKernel(const KernelInfo& info) : op_(info.op_type), fn_(AttrsOf(info)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, GetInput(ctx, 0, op_));
    RETURN_IF_ERROR(fn_.Validate(op_, x->dtype()));
    return Dispatch<kTypes>(x->dtype(), op_, "input", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      using O = std::conditional_t<kBoolOut, bool, T>;
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DTypeOf<O>::value, x->shape()));
      UnaryMap(x->template data<T>(), y->template data<O>(), x->num_elements(), fn_);
      return absl::OkStatus();
    });
  }
  bool MayOverwriteInput(int i) const override { return i == 0 && !kBoolOut; }

 private:
  const std::string op_;
  const Fn fn_;
};

// c = fn(a, b) with numpy broadcasting (or, for Fn::kUnidirectional, b broadcasting to a).
template <typename Fn, unsigned kTypes, bool kBoolOut = false>
class BinaryKernel final : public Kernel {
 public:
  explicit BinaryKernel(const KernelInfo& info)
      : op_(info.op_type),
        fn_(AttrsOf(info)),
        legacy_axis_(LegacyBroadcastAxis(info.op_type, info.opset, *info.attrs)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* a, GetInput(ctx, 0, op_));
    ASSIGN_OR_RETURN(const Tensor* b, GetInput(ctx, 1, op_));
    Tensor legacy_b;
    if (legacy_axis_) {
      ASSIGN_OR_RETURN(Shape shape,
                       LegacyBroadcastShape(op_, a->shape(), b->shape(), *legacy_axis_));
      ASSIGN_OR_RETURN(legacy_b, b->Reshaped(shape));
      b = &legacy_b;
    }
    RETURN_IF_ERROR(CheckSameDType(op_, *a, *b, 0, 1));
    RETURN_IF_ERROR(fn_.Validate(op_, a->dtype()));
    ASSIGN_OR_RETURN(Shape shape, Broadcast(op_, a->shape(), b->shape()));
    if constexpr (Fn::kUnidirectional) {
      if (shape != a->shape()) {
        return absl::InvalidArgumentError(absl::StrCat(op_, ": input 1 ", ShapeToString(b->shape()),
                                                       " must broadcast to input 0 ",
                                                       ShapeToString(a->shape())));
      }
    }
    return Dispatch<kTypes>(a->dtype(), op_, "input", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      using O = std::conditional_t<kBoolOut, bool, T>;
      ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, DTypeOf<O>::value, shape));
      BroadcastBinary<T, T, O>(*a, *b, out, fn_);
      return absl::OkStatus();
    });
  }
  bool MayOverwriteInput(int i) const override { return i <= 1 && !kBoolOut; }

 private:
  const std::string op_;
  const Fn fn_;
  const std::optional<int64_t> legacy_axis_;
};

// Folds fn over 1..N inputs, all broadcast to one shape; kMean divides by N at the end.
// ---------------------------------------------------------------------------------------------
// Registration.

// A schema with one input and one output, and the kernel for it.
#define CORTADO_MATH_UNARY_(name, since, Fn, types)                                              \
  CORTADO_REGISTER_OP(                                                                           \
      OpSchema(name).Versions(since).Inputs(1, 1).Outputs(1, 1).Infer(InferElementwise<types>)); \
  CORTADO_REGISTER_KERNEL(name, kCpuBackend, since, kMaxOpset, TypesOf(types),                   \
                          (MakeFactory<UnaryKernel<Fn, types>>()))

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

}  // namespace cortado

#endif  // CORTADO_OPS_ELEMENTWISE_H_
