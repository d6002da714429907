// Elementwise math operators: schemas and reference CPU kernels for the activations, unary math
// functions, numpy-broadcasting arithmetic, comparisons, logic and the variadic Min/Max/Sum/Mean,
// and ReluGrad (kTrainingDomain, for the eager frontend's backward pass).
//
// Every kernel is a thin class over a few shared loops:
//   - UnaryMap: y[i] = fn(x[i]) over a flat array;
//   - ForEachRow: numpy broadcasting, coalesced so that the innermost run of every output row is
//     as long as possible and each input either walks it (step 1) or repeats one value (step 0);
//   - BinaryRow: the four step combinations of a binary row as separate tight loops, so equal
//     shapes, a scalar operand and the common bias shapes all reach vectorizable code.
// Float16 and bfloat16 are computed in float (Calc<T>) and rounded back on store. float32 Exp,
// Sigmoid, Tanh and Erf use branch-free approximations within about 2 ulp (FastExp and friends)
// so that their loops vectorize too; float64 calls libm. Integer arithmetic wraps (computed in
// unsigned) and integer division or modulo by zero yields 0, so no input can trap or invoke
// undefined behaviour.
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
#include "absl/strings/str_join.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "ops/broadcast.h"
#include "ops/kernel.h"
#include "ops/registry.h"

// Bazel builds with -O2, where GCC 12 leaves these loops scalar: enable the loop vectorizer for
// this file, and let it evaluate both arms of a float select (no-trapping-math: no kernel reads
// the floating-point exception flags). Results are unchanged. Clang vectorizes at -O2 already.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "no-trapping-math")
#endif

namespace cortado {
namespace {

// Elementwise loops shorter than this run on one thread (see core/thread_pool.h).
constexpr int64_t kMinParallelElements = 32768;

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
    case DType::kUndefined:
      break;
  }
  return 0;
}

std::vector<DType> TypesOf(unsigned mask) {
  std::vector<DType> out;
  for (DType d : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16, DType::kInt8,
                  DType::kInt16, DType::kInt32, DType::kInt64, DType::kUInt8, DType::kUInt16,
                  DType::kUInt32, DType::kUInt64, DType::kBool, DType::kString}) {
    if ((DTypeBit(d) & mask) != 0) out.push_back(d);
  }
  return out;
}

// "<subject> dtype int8 is not supported (expected one of float32, ...)".
absl::Status Unsupported(absl::string_view subject, DType dtype, unsigned mask) {
  std::vector<std::string> names;
  for (DType d : TypesOf(mask)) names.emplace_back(DTypeName(d));
  return absl::InvalidArgumentError(absl::StrCat(subject, " dtype ", DTypeName(dtype),
                                                 " is not supported (expected one of ",
                                                 absl::StrJoin(names, ", "), ")"));
}

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

// A double (an attribute) as compute type C.
template <typename C>
C FromDouble(double v) {
  if constexpr (std::is_integral_v<C>) {
    return SaturateCast<C>(v);
  } else {
    return static_cast<C>(v);
  }
}

// C-style truncating division; x / 0 is 0 and MIN / -1 wraps, so nothing traps.
template <typename C>
C IntDiv(C a, C b) {
  if (b == 0) return C(0);
  if constexpr (std::is_signed_v<C>) {
    if (b == C(-1)) return WrapNeg(a);
  }
  return static_cast<C>(a / b);
}

// Integer remainder: with `floor` the sign follows the divisor (Python, numpy.mod), otherwise
// the dividend (C, numpy.fmod). x mod 0 is 0, as numpy returns.
template <typename C>
C IntMod(C a, C b, bool floor) {
  if (b == 0) return C(0);
  if constexpr (std::is_signed_v<C>) {
    if (b == C(-1)) return C(0);
    C r = static_cast<C>(a % b);
    if (floor && r != 0 && ((r < 0) != (b < 0))) r = static_cast<C>(r + b);
    return r;
  } else {
    return static_cast<C>(a % b);
  }
}

// base ** exp for integers, by squaring, wrapping on overflow. A negative exponent gives the
// truncated value of 1 / base**|exp| (0 unless |base| is 1; 0 for a zero base).
template <typename C, typename E>
C IntPow(C base, E exp) {
  if constexpr (std::is_signed_v<E>) {
    if (exp < 0) {
      if (base == C(1)) return C(1);
      if constexpr (std::is_signed_v<C>) {
        if (base == C(-1)) return (exp % 2 == 0) ? C(1) : C(-1);
      }
      return C(0);
    }
  }
  C result = 1;
  while (exp != 0) {
    if (exp & 1) result = WrapMul(result, base);
    exp = static_cast<E>(exp >> 1);
    if (exp != 0) base = WrapMul(base, base);
  }
  return result;
}

// NaN-propagating minimum and maximum (as numpy.minimum / numpy.maximum).
template <typename C>
C MinOf(C a, C b) {
  return (a < b || a != a) ? a : b;
}
template <typename C>
C MaxOf(C a, C b) {
  return (a > b || a != a) ? a : b;
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
// Branch-free float32 exp, tanh and erf, so that the loops calling them vectorize (libm's are
// scalar calls: 10-60 ns an element). Each stays within about 2 ulp of the correctly rounded
// result over the whole float range, NaN and infinities included (math_test sweeps them against
// libm in double). The polynomial coefficients were fitted by (reweighted) least squares with
// numpy and rounded to float; the error bounds include that rounding.

inline float Horner(float, float c) { return c; }
// c0 + s * (c1 + s * (c2 + ...)).
template <typename... Rest>
float Horner(float s, float c0, Rest... rest) {
  return c0 + s * Horner(s, rest...);
}

// 2^n for n in [-126, 127], built from its exponent bits.
inline float Pow2(int32_t n) {
  const uint32_t bits = static_cast<uint32_t>(n + 127) << 23;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// exp(x) = 2^n * exp(r) with n = round(x / ln2) and |r| <= ln2 / 2. ln2 is split in two (Cody and
// Waite) so that r is accurate, and exp(r) is its Taylor series to r^7 (truncation < 1e-8
// relative). 2^n is applied in two halves so that subnormal results and overflow come out right.
inline float FastExp(float x) {
  // Beyond the clamp the result is 0 or inf; NaN is clamped too (so n stays an integer) and
  // restored at the end.
  const float xc = !(x > -104.0f) ? -104.0f : (x > 89.0f ? 89.0f : x);
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float nf = (xc * 1.44269504088896341f + kRound) - kRound;
  const float r = (xc - nf * 0.693359375f) + nf * 2.12194440e-4f;
  const float p =
      Horner(r, 1.0f, 1.0f, 1.0f / 2, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040);
  const int32_t n = static_cast<int32_t>(nf);
  const int32_t half = n >> 1;
  const float y = p * Pow2(half) * Pow2(n - half);
  return x != x ? x : y;
}

// |x| < 0.625: x + x^3 * P(x^2), fitted on [0, 0.625]. Beyond: 1 - 2 / (exp(2|x|) + 1) with the
// sign of x (exp's error costs at most ~1 ulp there), |x| capped at 9 where tanh rounds to 1.
inline float FastTanh(float x) {
  const float a = Fabs(x);
  const float s = x * x;
  const float small =
      x + x * s *
              Horner(s, -0.333333283662796f, 0.13332770764827728f, -0.05385094881057739f,
                     0.020997347310185432f, -0.006096930243074894f);
  const float e = FastExp(2.0f * (a < 9.0f ? a : 9.0f));
  const float large = CopySign(1.0f - 2.0f / (e + 1.0f), x);
  return !(a >= 0.625f) ? small : large;  // NaN takes the polynomial and stays NaN
}

// |x| < 1: x * P(x^2), fitted on [0, 1]. Beyond: 1 - exp(-x^2) * Q(1/|x|) with the sign of x,
// Q fitted to erfc(x) * exp(x^2) on [1, 4]; |x| capped at 4, where erf rounds to 1.
inline float FastErf(float x) {
  const float a = Fabs(x);
  const float small =
      x * Horner(x * x, 1.1283791065216064f, -0.37612324953079224f, 0.11280180513858795f,
                 -0.026711316779255867f, 0.00491755735129118f, -0.0005631445674225688f);
  const float ac = a < 1.0f ? 1.0f : (a > 4.0f ? 4.0f : a);
  const float q = Horner(1.0f / ac, 0.00033294231980107725f, 0.5579790472984314f,
                         0.04961374029517174f, -0.5015559792518616f, 0.5678369402885437f,
                         -0.3457511365413666f, 0.11580795794725418f, -0.01667986810207367f);
  const float large = CopySign(1.0f - FastExp(-ac * ac) * q, x);
  return !(a >= 1.0f) ? small : large;  // NaN takes the polynomial and stays NaN
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
// must broadcast to `out` (checked by the caller).
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
  std::array<const Shape*, N> outer_ins;
  for (size_t k = 0; k < N; ++k) {
    steps[k] = in_dims[k].back() == 1 ? 0 : 1;
    in_dims[k].pop_back();
    outer_ins[k] = &in_dims[k];
  }
  merged.pop_back();
  ForEachBroadcast<N>(merged, outer_ins, [&](int64_t o, const std::array<int64_t, N>& offsets) {
    std::array<int64_t, N> base;
    for (size_t k = 0; k < N; ++k) base[k] = offsets[k] * (steps[k] ? n : 1);
    row(o * n, base, steps, n);
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

const AttributeMap& AttrsOf(const KernelInfo& info) {
  static const AttributeMap* const kEmpty = new AttributeMap();
  return info.attrs != nullptr ? *info.attrs : *kEmpty;
}

absl::StatusOr<const Tensor*> GetInput(const KernelContext& ctx, int i, absl::string_view op) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr || !t->defined()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": required input ", i, " is missing"));
  }
  return t;
}

// The input if it is present, else nullptr.
const Tensor* OptionalInput(const KernelContext& ctx, int i) {
  const Tensor* t = ctx.input(i);
  return t != nullptr && t->defined() ? t : nullptr;
}

absl::Status CheckSameDType(absl::string_view op, const Tensor& a, const Tensor& b, int ia,
                            int ib) {
  if (a.dtype() == b.dtype()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": inputs ", ia, " and ", ib, " must have the same dtype, got ",
                   DTypeName(a.dtype()), " and ", DTypeName(b.dtype())));
}

absl::StatusOr<Shape> Broadcast(absl::string_view op, const Shape& a, const Shape& b) {
  absl::StatusOr<Shape> s = BroadcastShapes(a, b);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(op, ": ", s.status().message()));
  return s;
}

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
  RETURN_IF_ERROR(InferBroadcast(ctx));
  if constexpr (kBoolOut) {
    TensorType out = ctx.outputs()[0];
    out.dtype = DType::kBool;
    ctx.set_output(0, out);
  }
  return absl::OkStatus();
}

// Pow: base and exponent have independent dtypes; the output takes the base's.
absl::Status InferPow(InferenceContext& ctx) {
  const DType base = ctx.input(0).dtype, e = ctx.input(1).dtype;
  if (base != DType::kUndefined && (DTypeBit(base) & kPowBaseTypes) == 0) {
    return Unsupported("base", base, kPowBaseTypes);
  }
  if (e != DType::kUndefined && (DTypeBit(e) & kNum) == 0) {
    return Unsupported("exponent", e, kNum);
  }
  return InferBroadcast(ctx);
}

// PRelu: the slope broadcasts to X, the output is X.
absl::Status InferPRelu(InferenceContext& ctx) {
  const TensorType& x = ctx.input(0);
  const TensorType& slope = ctx.input(1);
  if (x.dtype != DType::kUndefined && slope.dtype != DType::kUndefined && x.dtype != slope.dtype) {
    return absl::InvalidArgumentError(absl::StrCat("X and slope must have the same dtype, got ",
                                                   DTypeName(x.dtype), " and ",
                                                   DTypeName(slope.dtype)));
  }
  if (x.shape && slope.shape) {
    ASSIGN_OR_RETURN(Shape b, BroadcastPartial(*x.shape, *slope.shape));
    bool ok = b.size() == x.shape->size();
    for (size_t d = 0; ok && d < b.size(); ++d) {
      ok = (*x.shape)[d] == -1 || b[d] == (*x.shape)[d];
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat("slope ", ShapeToString(*slope.shape),
                                                     " does not broadcast to X ",
                                                     ShapeToString(*x.shape)));
    }
  }
  ctx.set_output(0, x);
  return absl::OkStatus();
}

// Where: condition is bool, X and Y share a dtype; the output broadcasts all three.
absl::Status InferWhere(InferenceContext& ctx) {
  const DType cond = ctx.input(0).dtype, x = ctx.input(1).dtype, y = ctx.input(2).dtype;
  if (cond != DType::kUndefined && cond != DType::kBool) {
    return absl::InvalidArgumentError(
        absl::StrCat("condition must be bool, got ", DTypeName(cond)));
  }
  if (x != DType::kUndefined && y != DType::kUndefined && x != y) {
    return absl::InvalidArgumentError(absl::StrCat("X and Y must have the same dtype, got ",
                                                   DTypeName(x), " and ", DTypeName(y)));
  }
  RETURN_IF_ERROR(InferBroadcast(ctx));  // of all three shapes
  TensorType out = ctx.outputs()[0];
  out.dtype = x != DType::kUndefined ? x : y;
  ctx.set_output(0, out);
  return absl::OkStatus();
}

// Clip: the output is the input; min and max share its dtype.
absl::Status InferClip(InferenceContext& ctx) {
  const DType x = ctx.input(0).dtype;
  if (x != DType::kUndefined && (DTypeBit(x) & kNum) == 0) return Unsupported("input", x, kNum);
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i) && ctx.has_input(0) && ctx.input(i).dtype != ctx.input(0).dtype) {
      return absl::InvalidArgumentError(
          absl::StrCat("input ", i, " must have the dtype of input 0 (",
                       DTypeName(ctx.input(0).dtype), "), got ", DTypeName(ctx.input(i).dtype)));
    }
  }
  return InferSameAsInput0(ctx);
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

 private:
  const std::string op_;
  const Fn fn_;
};

// c = fn(a, b) with numpy broadcasting (or, for Fn::kUnidirectional, b broadcasting to a).
template <typename Fn, unsigned kTypes, bool kBoolOut = false>
class BinaryKernel final : public Kernel {
 public:
  explicit BinaryKernel(const KernelInfo& info) : op_(info.op_type), fn_(AttrsOf(info)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* a, GetInput(ctx, 0, op_));
    ASSIGN_OR_RETURN(const Tensor* b, GetInput(ctx, 1, op_));
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

 private:
  const std::string op_;
  const Fn fn_;
};

// Folds fn over 1..N inputs, all broadcast to one shape; kMean divides by N at the end.
template <typename Fn, unsigned kTypes, bool kMean = false>
class VariadicKernel final : public Kernel {
 public:
  explicit VariadicKernel(const KernelInfo& info) : op_(info.op_type), fn_(AttrsOf(info)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    const int n = ctx.num_inputs();
    if (n < 1) return absl::InvalidArgumentError(absl::StrCat(op_, ": needs at least 1 input"));
    std::vector<const Tensor*> ins(n);
    Shape shape;
    for (int i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(ins[i], GetInput(ctx, i, op_));
      RETURN_IF_ERROR(CheckSameDType(op_, *ins[0], *ins[i], 0, i));
      if (i == 0) {
        shape = ins[0]->shape();
      } else {
        ASSIGN_OR_RETURN(shape, Broadcast(op_, shape, ins[i]->shape()));
      }
    }
    return Dispatch<kTypes>(ins[0]->dtype(), op_, "input", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      using C = Calc<T>;
      ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, DTypeOf<T>::value, shape));
      if (n == 1) {
        std::copy(ins[0]->data<T>(), ins[0]->data<T>() + ins[0]->num_elements(), out->data<T>());
        return absl::OkStatus();
      }
      BroadcastBinary<T, T, T>(*ins[0], *ins[1], out, fn_);
      for (int i = 2; i < n; ++i) BroadcastBinary<T, T, T>(*out, *ins[i], out, fn_);
      if constexpr (kMean) {
        const C count = static_cast<C>(n);
        UnaryMap(out->data<T>(), out->data<T>(), out->num_elements(),
                 [count](C v) { return v / count; });
      }
      return absl::OkStatus();
    });
  }

 private:
  const std::string op_;
  const Fn fn_;
};

// ---------------------------------------------------------------------------------------------
// Unary functors. Each is called with the compute type C of the input dtype.

struct ReluFn : Stateless {
  using Stateless::Stateless;
  template <typename C>
  C operator()(C x) const {
    return x < C(0) ? C(0) : x;  // NaN stays NaN
  }
};

struct LeakyReluFn : Stateless {
  explicit LeakyReluFn(const AttributeMap& a) : Stateless(a), alpha(a.GetFloat("alpha")) {}
  template <typename C>
  C operator()(C x) const {
    return x >= C(0) ? x : static_cast<C>(alpha) * x;
  }
  float alpha;
};

struct EluFn : Stateless {
  explicit EluFn(const AttributeMap& a) : Stateless(a), alpha(a.GetFloat("alpha")) {}
  template <typename C>
  C operator()(C x) const {
    return x >= C(0) ? x : static_cast<C>(alpha) * std::expm1(x);
  }
  float alpha;
};

struct SeluFn : Stateless {
  explicit SeluFn(const AttributeMap& a)
      : Stateless(a), alpha(a.GetFloat("alpha")), gamma(a.GetFloat("gamma")) {}
  template <typename C>
  C operator()(C x) const {
    return static_cast<C>(gamma) * (x > C(0) ? x : static_cast<C>(alpha) * std::expm1(x));
  }
  float alpha, gamma;
};

struct CeluFn : Stateless {
  explicit CeluFn(const AttributeMap& a) : Stateless(a), alpha(a.GetFloat("alpha")) {}
  absl::Status Validate(absl::string_view op, DType) const {
    if (alpha == 0.0f) return absl::InvalidArgumentError(absl::StrCat(op, ": alpha must not be 0"));
    return absl::OkStatus();
  }
  template <typename C>
  C operator()(C x) const {
    const C al = static_cast<C>(alpha);
    return x >= C(0) ? x : al * std::expm1(x / al);
  }
  float alpha;
};

struct SigmoidFn : Stateless {
  using Stateless::Stateless;
  template <typename C>
  C operator()(C x) const {
    if constexpr (std::is_same_v<C, float>) {
      // e = exp(-|x|) never overflows: 1 / (1 + e) for x >= 0, e / (1 + e) below.
      const float e = FastExp(-Fabs(x));
      const float r = 1.0f / (1.0f + e);
      return x >= 0.0f ? r : e * r;
    } else {
      return C(1) / (C(1) + std::exp(-x));
    }
  }
};

struct HardSigmoidFn : Stateless {
  explicit HardSigmoidFn(const AttributeMap& a)
      : Stateless(a), alpha(a.GetFloat("alpha")), beta(a.GetFloat("beta")) {}
  template <typename C>
  C operator()(C x) const {
    const C v = static_cast<C>(alpha) * x + static_cast<C>(beta);
    return v < C(0) ? C(0) : (v > C(1) ? C(1) : v);
  }
  float alpha, beta;
};

struct HardSwishFn : Stateless {
  using Stateless::Stateless;
  template <typename C>
  C operator()(C x) const {
    const C v = x * (C(1) / C(6)) + C(0.5);
    return x * (v < C(0) ? C(0) : (v > C(1) ? C(1) : v));
  }
};

#define CORTADO_MATH_STD_FN_(Name, expr) \
  struct Name : Stateless {              \
    using Stateless::Stateless;          \
    template <typename C>                \
    C operator()(C x) const {            \
      return expr;                       \
    }                                    \
  }
// float (and the 16-bit floats, computed in float) take the vectorizable approximations.
#define CORTADO_MATH_FAST_FN_(Name, fast, exact) \
  struct Name : Stateless {                      \
    using Stateless::Stateless;                  \
    template <typename C>                        \
    C operator()(C x) const {                    \
      if constexpr (std::is_same_v<C, float>) {  \
        return fast(x);                          \
      } else {                                   \
        return exact(x);                         \
      }                                          \
    }                                            \
  }
CORTADO_MATH_FAST_FN_(TanhFn, FastTanh, std::tanh);
CORTADO_MATH_FAST_FN_(ErfFn, FastErf, std::erf);
CORTADO_MATH_FAST_FN_(ExpFn, FastExp, std::exp);
#undef CORTADO_MATH_FAST_FN_
CORTADO_MATH_STD_FN_(LogFn, std::log(x));
CORTADO_MATH_STD_FN_(SqrtFn, std::sqrt(x));
CORTADO_MATH_STD_FN_(ReciprocalFn, C(1) / x);
CORTADO_MATH_STD_FN_(FloorFn, Floor(x));
CORTADO_MATH_STD_FN_(CeilFn, Ceil(x));
CORTADO_MATH_STD_FN_(RoundFn, NearbyInt(x));  // default rounding mode: half to even
CORTADO_MATH_STD_FN_(SoftsignFn, x / (C(1) + Fabs(x)));
CORTADO_MATH_STD_FN_(SinFn, std::sin(x));
CORTADO_MATH_STD_FN_(CosFn, std::cos(x));
CORTADO_MATH_STD_FN_(TanFn, std::tan(x));
CORTADO_MATH_STD_FN_(AsinFn, std::asin(x));
CORTADO_MATH_STD_FN_(AcosFn, std::acos(x));
CORTADO_MATH_STD_FN_(AtanFn, std::atan(x));
CORTADO_MATH_STD_FN_(SinhFn, std::sinh(x));
CORTADO_MATH_STD_FN_(CoshFn, std::cosh(x));
CORTADO_MATH_STD_FN_(AsinhFn, std::asinh(x));
CORTADO_MATH_STD_FN_(AcoshFn, std::acosh(x));
CORTADO_MATH_STD_FN_(AtanhFn, std::atanh(x));
CORTADO_MATH_STD_FN_(NegFn, WrapNeg(x));
CORTADO_MATH_STD_FN_(NotFn, !x);
#undef CORTADO_MATH_STD_FN_

// log(1 + exp(x)) without overflow for large x.
template <typename C>
C Softplus(C x) {
  return x > C(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

struct SoftplusFn : Stateless {
  using Stateless::Stateless;
  template <typename C>
  C operator()(C x) const {
    return Softplus(x);
  }
};

struct MishFn : Stateless {
  using Stateless::Stateless;
  template <typename C>
  C operator()(C x) const {
    return x * std::tanh(Softplus(x));
  }
};

struct AbsFn : Stateless {
  using Stateless::Stateless;
  template <typename C>
  C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>) {
      return x;
    } else if constexpr (std::is_integral_v<C>) {
      return x < C(0) ? WrapNeg(x) : x;
    } else {
      return Fabs(x);
    }
  }
};

struct SignFn : Stateless {
  using Stateless::Stateless;
  template <typename C>
  C operator()(C x) const {
    if constexpr (std::is_unsigned_v<C>) {
      return x > C(0) ? C(1) : C(0);
    } else {
      return x > C(0) ? C(1) : (x < C(0) ? C(-1) : x);  // keeps 0 and NaN
    }
  }
};

struct ThresholdedReluFn : Stateless {
  explicit ThresholdedReluFn(const AttributeMap& a) : Stateless(a), alpha(a.GetFloat("alpha")) {}
  template <typename C>
  C operator()(C x) const {
    return x > static_cast<C>(alpha) ? x : C(0);
  }
  float alpha;
};

struct ShrinkFn : Stateless {
  explicit ShrinkFn(const AttributeMap& a)
      : Stateless(a), lambd(a.GetFloat("lambd")), bias(a.GetFloat("bias")) {}
  template <typename C>
  C operator()(C x) const {
    if constexpr (std::is_integral_v<C>) {  // decided in double, saturated back
      const double v = static_cast<double>(x);
      return SaturateCast<C>(v < -lambd ? v + bias : (v > lambd ? v - bias : 0.0));
    } else {
      const C l = static_cast<C>(lambd), b = static_cast<C>(bias);
      return x < -l ? x + b : (x > l ? x - b : C(0));
    }
  }
  float lambd, bias;
};

struct IsNaNFn : Stateless {
  using Stateless::Stateless;
  template <typename C>
  bool operator()(C x) const {
    return x != x;
  }
};

struct IsInfFn : Stateless {
  explicit IsInfFn(const AttributeMap& a)
      : Stateless(a),
        negative(a.GetInt("detect_negative") != 0),
        positive(a.GetInt("detect_positive") != 0) {}
  template <typename C>
  bool operator()(C x) const {
    constexpr C kInf = std::numeric_limits<C>::infinity();
    return (positive && x == kInf) || (negative && x == -kInf);
  }
  bool negative, positive;
};

// ---------------------------------------------------------------------------------------------
// Binary functors.

#define CORTADO_MATH_BINARY_FN_(Name, expr) \
  struct Name : Stateless {                 \
    using Stateless::Stateless;             \
    template <typename C>                   \
    auto operator()(C a, C b) const {       \
      return expr;                          \
    }                                       \
  }
CORTADO_MATH_BINARY_FN_(AddFn, WrapAdd(a, b));
CORTADO_MATH_BINARY_FN_(SubFn, WrapSub(a, b));
CORTADO_MATH_BINARY_FN_(MulFn, WrapMul(a, b));
CORTADO_MATH_BINARY_FN_(MinFn, MinOf(a, b));
CORTADO_MATH_BINARY_FN_(MaxFn, MaxOf(a, b));
CORTADO_MATH_BINARY_FN_(EqualFn, a == b);
CORTADO_MATH_BINARY_FN_(LessFn, a < b);
CORTADO_MATH_BINARY_FN_(LessOrEqualFn, a <= b);
CORTADO_MATH_BINARY_FN_(GreaterFn, a > b);
CORTADO_MATH_BINARY_FN_(GreaterOrEqualFn, a >= b);
CORTADO_MATH_BINARY_FN_(AndFn, a&& b);
CORTADO_MATH_BINARY_FN_(OrFn, a || b);
CORTADO_MATH_BINARY_FN_(XorFn, a != b);
#undef CORTADO_MATH_BINARY_FN_

struct DivFn : Stateless {
  using Stateless::Stateless;
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) {
      return IntDiv(a, b);
    } else {
      return a / b;
    }
  }
};

struct ModFn : Stateless {
  explicit ModFn(const AttributeMap& a) : Stateless(a), fmod(a.GetInt("fmod") != 0) {}
  absl::Status Validate(absl::string_view op, DType dtype) const {
    if (!fmod && IsFloatingPoint(dtype)) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": fmod must be 1 for floating-point inputs, got fmod=0 with ", DTypeName(dtype)));
    }
    return absl::OkStatus();
  }
  template <typename C>
  C operator()(C a, C b) const {
    if constexpr (std::is_integral_v<C>) {
      return IntMod(a, b, !fmod);
    } else {
      return std::fmod(a, b);
    }
  }
  bool fmod;
};

struct BitShiftFn : Stateless {
  explicit BitShiftFn(const AttributeMap& a)
      : Stateless(a), direction(a.GetString("direction")), left(direction == "LEFT") {}
  absl::Status Validate(absl::string_view op, DType) const {
    if (direction != "LEFT" && direction != "RIGHT") {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": direction must be \"LEFT\" or \"RIGHT\", got \"", direction, "\""));
    }
    return absl::OkStatus();
  }
  template <typename C>
  C operator()(C a, C b) const {
    if (b >= C(8 * sizeof(C))) return C(0);  // the whole value shifted out
    return left ? static_cast<C>(a << b) : static_cast<C>(a >> b);
  }
  std::string direction;
  bool left;
};

struct PReluFn : Stateless {
  using Stateless::Stateless;
  static constexpr bool kUnidirectional = true;
  template <typename C>
  C operator()(C x, C slope) const {
    return x < C(0) ? WrapMul(slope, x) : x;
  }
};

// ---------------------------------------------------------------------------------------------
// Kernels with their own shape or type rules.

// Pow: base and exponent of independent dtypes; the output has the base's dtype.
class PowKernel final : public Kernel {
 public:
  explicit PowKernel(const KernelInfo&) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, GetInput(ctx, 0, "Pow"));
    ASSIGN_OR_RETURN(const Tensor* y, GetInput(ctx, 1, "Pow"));
    ASSIGN_OR_RETURN(Shape shape, Broadcast("Pow", x->shape(), y->shape()));
    return Dispatch<kPowBaseTypes>(x->dtype(), "Pow", "base", [&](auto xt) -> absl::Status {
      using T = typename decltype(xt)::type;
      using C = Calc<T>;
      return Dispatch<kNum>(y->dtype(), "Pow", "exponent", [&](auto yt) -> absl::Status {
        using U = typename decltype(yt)::type;
        ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, DTypeOf<T>::value, shape));
        if constexpr (std::is_floating_point_v<C>) {
          // x ** 2 and x ** 1 (LayerNorm and friends): exact without calling pow.
          const double e = y->num_elements() == 1 ? y->ElementAsDouble(0) : 0.0;
          if (shape == x->shape() && e == 2.0) {
            UnaryMap(x->data<T>(), out->data<T>(), x->num_elements(), [](C v) { return v * v; });
            return absl::OkStatus();
          }
          if (shape == x->shape() && e == 1.0) {
            std::copy(x->data<T>(), x->data<T>() + x->num_elements(), out->data<T>());
            return absl::OkStatus();
          }
          BroadcastBinary<T, U, T>(*x, *y, out,
                                   [](C a, auto b) { return std::pow(a, static_cast<C>(b)); });
        } else {
          BroadcastBinary<T, U, T>(*x, *y, out, [](C a, auto b) {
            if constexpr (std::is_integral_v<decltype(b)>) {
              return IntPow(a, b);
            } else {
              return SaturateCast<C>(std::pow(static_cast<double>(a), static_cast<double>(b)));
            }
          });
        }
        return absl::OkStatus();
      });
    });
  }
};

// Clip: bounds are attributes before opset 11 and optional scalar inputs from 11 on.
class ClipKernel final : public Kernel {
 public:
  explicit ClipKernel(const KernelInfo& info)
      : opset_(info.opset),
        min_attr_(AttrsOf(info).GetFloat("min")),
        max_attr_(AttrsOf(info).GetFloat("max")) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, GetInput(ctx, 0, "Clip"));
    const Tensor* bounds[2] = {OptionalInput(ctx, 1), OptionalInput(ctx, 2)};
    for (int i = 0; i < 2; ++i) {
      const Tensor* b = bounds[i];
      if (b == nullptr) continue;
      if (opset_ < 11) {
        return absl::InvalidArgumentError(
            absl::StrCat("Clip: opset ", opset_, " takes min and max as attributes, not inputs"));
      }
      RETURN_IF_ERROR(CheckSameDType("Clip", *x, *b, 0, i + 1));
      if (b->num_elements() != 1) {
        return absl::InvalidArgumentError(absl::StrCat("Clip: ", i == 0 ? "min" : "max",
                                                       " must be a scalar, got shape ",
                                                       ShapeToString(b->shape())));
      }
    }
    return Dispatch<kNum>(x->dtype(), "Clip", "input", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      using C = Calc<T>;
      C lo = std::numeric_limits<C>::lowest(), hi = std::numeric_limits<C>::max();
      if (opset_ < 11) {
        lo = FromDouble<C>(min_attr_);
        hi = FromDouble<C>(max_attr_);
      } else {
        if (bounds[0] != nullptr) lo = static_cast<C>(bounds[0]->data<T>()[0]);
        if (bounds[1] != nullptr) hi = static_cast<C>(bounds[1]->data<T>()[0]);
      }
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
      // max then min, as numpy.clip and ONNX Runtime: min > max yields max; NaN stays NaN.
      UnaryMap(x->data<T>(), y->data<T>(), x->num_elements(), [lo, hi](C v) {
        const C low = v < lo ? lo : v;
        return low > hi ? hi : low;
      });
      return absl::OkStatus();
    });
  }

 private:
  const int opset_;
  const float min_attr_, max_attr_;
};

// Where: out = condition ? X : Y, all three broadcast together.
class WhereKernel final : public Kernel {
 public:
  explicit WhereKernel(const KernelInfo&) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* cond, GetInput(ctx, 0, "Where"));
    ASSIGN_OR_RETURN(const Tensor* x, GetInput(ctx, 1, "Where"));
    ASSIGN_OR_RETURN(const Tensor* y, GetInput(ctx, 2, "Where"));
    if (cond->dtype() != DType::kBool) {
      return absl::InvalidArgumentError(
          absl::StrCat("Where: condition must be bool, got ", DTypeName(cond->dtype())));
    }
    RETURN_IF_ERROR(CheckSameDType("Where", *x, *y, 1, 2));
    ASSIGN_OR_RETURN(Shape shape, Broadcast("Where", cond->shape(), x->shape()));
    ASSIGN_OR_RETURN(shape, Broadcast("Where", shape, y->shape()));
    return Dispatch<kAllTypes>(x->dtype(), "Where", "input", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, x->dtype(), shape));
      const bool* pc = cond->data<bool>();
      const T* px = x->data<T>();
      const T* py = y->data<T>();
      T* po = out->data<T>();
      ForEachRow<3>(shape, {&cond->shape(), &x->shape(), &y->shape()},
                    [&](int64_t o, const std::array<int64_t, 3>& base,
                        const std::array<int64_t, 3>& step, int64_t n) {
                      const bool* c = pc + base[0];
                      const T* a = px + base[1];
                      const T* b = py + base[2];
                      for (int64_t i = 0; i < n; ++i) {
                        po[o + i] = c[i * step[0]] ? a[i * step[1]] : b[i * step[2]];
                      }
                    });
      return absl::OkStatus();
    });
  }
};

// ReluGrad (training domain): dX = dY where Y > 0, else 0, for Y = Relu(X) of dY's shape.
absl::Status InferReluGrad(InferenceContext& ctx) {
  const TensorType& dy = ctx.input(0);
  const TensorType& y = ctx.input(1);
  for (const TensorType* t : {&dy, &y}) {
    if (t->dtype != DType::kUndefined && (DTypeBit(t->dtype) & kF32F64) == 0) {
      return Unsupported(t == &dy ? "dY" : "Y", t->dtype, kF32F64);
    }
  }
  if (dy.dtype != DType::kUndefined && y.dtype != DType::kUndefined && dy.dtype != y.dtype) {
    return absl::InvalidArgumentError(absl::StrCat("dY and Y must have the same dtype, got ",
                                                   DTypeName(dy.dtype), " and ",
                                                   DTypeName(y.dtype)));
  }
  if (dy.shape && y.shape) {
    bool match = dy.shape->size() == y.shape->size();
    for (size_t i = 0; match && i < dy.shape->size(); ++i) {
      const int64_t a = (*dy.shape)[i], b = (*y.shape)[i];
      match = a < 0 || b < 0 || a == b;
    }
    if (!match) {
      return absl::InvalidArgumentError(absl::StrCat("dY ", ShapeToString(*dy.shape), " and Y ",
                                                     ShapeToString(*y.shape),
                                                     " must have the same shape"));
    }
  }
  ctx.set_output(0, dy.shape ? dy : TensorType{dy.dtype, y.shape});
  return absl::OkStatus();
}

class ReluGradKernel final : public Kernel {
 public:
  explicit ReluGradKernel(const KernelInfo&) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "ReluGrad";
    ASSIGN_OR_RETURN(const Tensor* dy, GetInput(ctx, 0, op));
    ASSIGN_OR_RETURN(const Tensor* y, GetInput(ctx, 1, op));
    RETURN_IF_ERROR(CheckSameDType(op, *dy, *y, 0, 1));
    if (dy->shape() != y->shape()) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": dY ", ShapeToString(dy->shape()),
                                                     " and Y ", ShapeToString(y->shape()),
                                                     " must have the same shape"));
    }
    return Dispatch<kF32F64>(dy->dtype(), op, "input", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, dy->dtype(), dy->shape()));
      const T* pd = dy->data<T>();
      const T* py = y->data<T>();
      T* po = dx->data<T>();
      // Both loads unconditional, so that the loop vectorizes into a select.
      ParallelFor(dy->num_elements(), kMinParallelElements, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const T d = pd[i];
          po[i] = py[i] > T(0) ? d : T(0);
        }
      });
      return absl::OkStatus();
    });
  }
};

// ---------------------------------------------------------------------------------------------
// Registrations. Schemas start at the first opset whose semantics the kernel implements (the
// pre-7 "broadcast"/"axis" attributes of the binary ops are not supported); dtype lists are the
// union over the covered opsets.

constexpr float kFloatMax = std::numeric_limits<float>::max();

// A schema with one input and one output, and the kernel for it.
#define CORTADO_MATH_UNARY_(name, since, Fn, types)                                              \
  CORTADO_REGISTER_OP(                                                                           \
      OpSchema(name).Versions(since).Inputs(1, 1).Outputs(1, 1).Infer(InferElementwise<types>)); \
  CORTADO_REGISTER_KERNEL(name, kCpuBackend, since, kMaxOpset, TypesOf(types),                   \
                          (MakeFactory<UnaryKernel<Fn, types>>()))

CORTADO_MATH_UNARY_("Relu", 6, ReluFn, kSignedNum);
CORTADO_MATH_UNARY_("Sigmoid", 6, SigmoidFn, kFloats);
CORTADO_MATH_UNARY_("HardSwish", 14, HardSwishFn, kFloats);
CORTADO_MATH_UNARY_("Tanh", 6, TanhFn, kFloats);
CORTADO_MATH_UNARY_("Erf", 9, ErfFn, kFloats);
CORTADO_MATH_UNARY_("Exp", 6, ExpFn, kFloats);
CORTADO_MATH_UNARY_("Log", 6, LogFn, kFloats);
CORTADO_MATH_UNARY_("Sqrt", 6, SqrtFn, kFloats);
CORTADO_MATH_UNARY_("Abs", 6, AbsFn, kNum);
CORTADO_MATH_UNARY_("Neg", 6, NegFn, kSignedNum);
CORTADO_MATH_UNARY_("Reciprocal", 6, ReciprocalFn, kFloats);
CORTADO_MATH_UNARY_("Floor", 6, FloorFn, kFloats);
CORTADO_MATH_UNARY_("Ceil", 6, CeilFn, kFloats);
CORTADO_MATH_UNARY_("Round", 11, RoundFn, kFloats);
CORTADO_MATH_UNARY_("Sign", 9, SignFn, kNum);
CORTADO_MATH_UNARY_("Softplus", 1, SoftplusFn, kFloats);
CORTADO_MATH_UNARY_("Softsign", 1, SoftsignFn, kFloats);
CORTADO_MATH_UNARY_("Sin", 7, SinFn, kFloats);
CORTADO_MATH_UNARY_("Cos", 7, CosFn, kFloats);
CORTADO_MATH_UNARY_("Tan", 7, TanFn, kFloats);
CORTADO_MATH_UNARY_("Asin", 7, AsinFn, kFloats);
CORTADO_MATH_UNARY_("Acos", 7, AcosFn, kFloats);
CORTADO_MATH_UNARY_("Atan", 7, AtanFn, kFloats);
CORTADO_MATH_UNARY_("Sinh", 9, SinhFn, kFloats);
CORTADO_MATH_UNARY_("Cosh", 9, CoshFn, kFloats);
CORTADO_MATH_UNARY_("Asinh", 9, AsinhFn, kFloats);
CORTADO_MATH_UNARY_("Acosh", 9, AcoshFn, kFloats);
CORTADO_MATH_UNARY_("Atanh", 9, AtanhFn, kFloats);
CORTADO_MATH_UNARY_("Not", 1, NotFn, kBoolBit);
#undef CORTADO_MATH_UNARY_

CORTADO_REGISTER_OP(OpSchema("LeakyRelu")
                        .Versions(6)
                        .Inputs(1, 1)
                        .Attr("alpha", 0.01f)
                        .Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("LeakyRelu", kCpuBackend, 6, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<LeakyReluFn, kFloats>>()));
CORTADO_REGISTER_OP(
    OpSchema("Elu").Versions(6).Inputs(1, 1).Attr("alpha", 1.0f).Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("Elu", kCpuBackend, 6, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<EluFn, kFloats>>()));
CORTADO_REGISTER_OP(OpSchema("Selu")
                        .Versions(6)
                        .Inputs(1, 1)
                        .Attr("alpha", 1.67326319217681884765625f)
                        .Attr("gamma", 1.05070102214813232421875f)
                        .Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("Selu", kCpuBackend, 6, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<SeluFn, kFloats>>()));
CORTADO_REGISTER_OP(OpSchema("Celu")
                        .Versions(12)
                        .Inputs(1, 1)
                        .Attr("alpha", 1.0f)
                        .Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("Celu", kCpuBackend, 12, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<CeluFn, kFloats>>()));
CORTADO_REGISTER_OP(OpSchema("HardSigmoid")
                        .Versions(6)
                        .Inputs(1, 1)
                        .Attr("alpha", 0.2f)
                        .Attr("beta", 0.5f)
                        .Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("HardSigmoid", kCpuBackend, 6, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<HardSigmoidFn, kFloats>>()));
CORTADO_REGISTER_OP(OpSchema("ThresholdedRelu")
                        .Versions(10)
                        .Inputs(1, 1)
                        .Attr("alpha", 1.0f)
                        .Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("ThresholdedRelu", kCpuBackend, 10, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<ThresholdedReluFn, kFloats>>()));
CORTADO_REGISTER_OP(OpSchema("Shrink")
                        .Versions(9)
                        .Inputs(1, 1)
                        .Attr("lambd", 0.5f)
                        .Attr("bias", 0.0f)
                        .Infer(InferElementwise<kNum>));
CORTADO_REGISTER_KERNEL("Shrink", kCpuBackend, 9, kMaxOpset, TypesOf(kNum),
                        (MakeFactory<UnaryKernel<ShrinkFn, kNum>>()));
// Mish entered the default domain in opset 18.
CORTADO_REGISTER_OP(
    OpSchema("Mish").Versions(18, 18).Inputs(1, 1).Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("Mish", kCpuBackend, 18, 18, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<MishFn, kFloats>>()));

CORTADO_REGISTER_OP(
    OpSchema("IsNaN").Versions(9).Inputs(1, 1).Infer(InferElementwise<kFloats, true>));
CORTADO_REGISTER_KERNEL("IsNaN", kCpuBackend, 9, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<IsNaNFn, kFloats, true>>()));
CORTADO_REGISTER_OP(OpSchema("IsInf")
                        .Versions(10)
                        .Inputs(1, 1)
                        .Attr("detect_negative", int64_t{1})
                        .Attr("detect_positive", int64_t{1})
                        .Infer(InferElementwise<kFloats, true>));
CORTADO_REGISTER_KERNEL("IsInf", kCpuBackend, 10, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<IsInfFn, kFloats, true>>()));

CORTADO_REGISTER_OP(OpSchema("Clip")
                        .Versions(6)
                        .Inputs(1, 3)
                        .Attr("min", -kFloatMax)
                        .Attr("max", kFloatMax)
                        .Infer(InferClip));
CORTADO_REGISTER_KERNEL("Clip", kCpuBackend, 6, kMaxOpset, TypesOf(kNum),
                        MakeFactory<ClipKernel>());

// Binary ops, numpy broadcasting (opset 7 on).
#define CORTADO_MATH_BINARY_(name, since, Fn, types, bool_out)                         \
  CORTADO_REGISTER_OP(OpSchema(name).Versions(since).Inputs(2, 2).Outputs(1, 1).Infer( \
      InferElementwise<types, bool_out>));                                             \
  CORTADO_REGISTER_KERNEL(name, kCpuBackend, since, kMaxOpset, TypesOf(types),         \
                          (MakeFactory<BinaryKernel<Fn, types, bool_out>>()))

CORTADO_MATH_BINARY_("Add", 7, AddFn, kNum, false);
CORTADO_MATH_BINARY_("Sub", 7, SubFn, kNum, false);
CORTADO_MATH_BINARY_("Mul", 7, MulFn, kNum, false);
CORTADO_MATH_BINARY_("Div", 7, DivFn, kNum, false);
CORTADO_MATH_BINARY_("Equal", 7, EqualFn, kNum | kBoolBit, true);
CORTADO_MATH_BINARY_("Less", 7, LessFn, kNum, true);
CORTADO_MATH_BINARY_("Greater", 7, GreaterFn, kNum, true);
CORTADO_MATH_BINARY_("LessOrEqual", 12, LessOrEqualFn, kNum, true);
CORTADO_MATH_BINARY_("GreaterOrEqual", 12, GreaterOrEqualFn, kNum, true);
CORTADO_MATH_BINARY_("And", 7, AndFn, kBoolBit, true);
CORTADO_MATH_BINARY_("Or", 7, OrFn, kBoolBit, true);
CORTADO_MATH_BINARY_("Xor", 7, XorFn, kBoolBit, true);
#undef CORTADO_MATH_BINARY_

CORTADO_REGISTER_OP(OpSchema("Mod")
                        .Versions(10)
                        .Inputs(2, 2)
                        .Attr("fmod", int64_t{0})
                        .Infer(InferElementwise<kNum>));
CORTADO_REGISTER_KERNEL("Mod", kCpuBackend, 10, kMaxOpset, TypesOf(kNum),
                        (MakeFactory<BinaryKernel<ModFn, kNum>>()));
CORTADO_REGISTER_OP(OpSchema("BitShift")
                        .Versions(11)
                        .Inputs(2, 2)
                        .RequiredAttr("direction", AttrType::kString)
                        .Infer(InferElementwise<kUInt>));
CORTADO_REGISTER_KERNEL("BitShift", kCpuBackend, 11, kMaxOpset, TypesOf(kUInt),
                        (MakeFactory<BinaryKernel<BitShiftFn, kUInt>>()));
CORTADO_REGISTER_OP(OpSchema("PRelu").Versions(7).Inputs(2, 2).Infer(InferPRelu));
CORTADO_REGISTER_KERNEL("PRelu", kCpuBackend, 7, kMaxOpset, TypesOf(kNum),
                        (MakeFactory<BinaryKernel<PReluFn, kNum>>()));
CORTADO_REGISTER_OP(OpSchema("Pow").Versions(7).Inputs(2, 2).Infer(InferPow));
CORTADO_REGISTER_KERNEL("Pow", kCpuBackend, 7, kMaxOpset, TypesOf(kPowBaseTypes),
                        MakeFactory<PowKernel>());
CORTADO_REGISTER_OP(OpSchema("Where").Versions(9).Inputs(3, 3).Infer(InferWhere));
CORTADO_REGISTER_KERNEL("Where", kCpuBackend, 9, kMaxOpset, std::vector<DType>{DType::kBool},
                        MakeFactory<WhereKernel>());

// Variadic ops: 1..N inputs, numpy broadcasting from opset 8 (equal shapes before).
#define CORTADO_MATH_VARIADIC_(name, Fn, types, mean)                                              \
  CORTADO_REGISTER_OP(                                                                             \
      OpSchema(name).Versions(6).Inputs(1, 1 << 20).Outputs(1, 1).Infer(InferElementwise<types>)); \
  CORTADO_REGISTER_KERNEL(name, kCpuBackend, 6, kMaxOpset, TypesOf(types),                         \
                          (MakeFactory<VariadicKernel<Fn, types, mean>>()))

CORTADO_MATH_VARIADIC_("Min", MinFn, kNum, false);
CORTADO_MATH_VARIADIC_("Max", MaxFn, kNum, false);
CORTADO_MATH_VARIADIC_("Sum", AddFn, kFloats, false);
CORTADO_MATH_VARIADIC_("Mean", AddFn, kFloats, true);
#undef CORTADO_MATH_VARIADIC_

// Gradient operators of the eager frontend's backward pass (kTrainingDomain, opsets 1..17).
CORTADO_REGISTER_OP(OpSchema("ReluGrad", kTrainingDomain)
                        .Versions(1)
                        .Inputs(2, 2)
                        .Outputs(1, 1)
                        .Infer(InferReluGrad));
CORTADO_REGISTER_TRAINING_KERNEL("ReluGrad", TypesOf(kF32F64), MakeFactory<ReluGradKernel>());

}  // namespace
}  // namespace cortado
