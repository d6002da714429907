// Elementwise unary math operators: Exp, Log, Sqrt, Reciprocal, Abs, Neg, Sign, Floor, Ceil,
// Round, Erf, Tanh, Softsign, the trigonometric and hyperbolic functions and their inverses, Not,
// BitwiseNot (opset 18),
// IsNaN and IsInf. Schemas and reference CPU kernels (UnaryKernel over the functors below, see
// ops/elementwise.h). float32 Exp, Tanh and Erf use branch-free approximations within about
// 2 ulp so that their loops vectorize; float64 calls libm.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ops/elementwise.h"
#include "ops/registry.h"

// The loop vectorizer for this file, as ops/elementwise.h explains.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "no-trapping-math")
#endif

namespace cortado {
namespace {

// ---------------------------------------------------------------------------------------------
// Branch-free float32 erf (see FastExp and FastTanh in ops/elementwise.h).

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
// Unary functors. Each is called with the compute type C of the input dtype.

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
CORTADO_MATH_STD_FN_(BitwiseNotFn, ~x);
#undef CORTADO_MATH_STD_FN_

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
// Registrations.

// Opset 1's versions differ from 6's only by consumed_inputs, which is ignored.
CORTADO_MATH_UNARY_("Tanh", 1, TanhFn, kFloats);
CORTADO_MATH_UNARY_("Erf", 9, ErfFn, kFloats);
CORTADO_MATH_UNARY_("Exp", 1, ExpFn, kFloats);
CORTADO_MATH_UNARY_("Log", 1, LogFn, kFloats);
CORTADO_MATH_UNARY_("Sqrt", 1, SqrtFn, kFloats);
CORTADO_MATH_UNARY_("Abs", 1, AbsFn, kNum);
CORTADO_MATH_UNARY_("Neg", 1, NegFn, kSignedNum);
CORTADO_MATH_UNARY_("Reciprocal", 1, ReciprocalFn, kFloats);
CORTADO_MATH_UNARY_("Floor", 1, FloorFn, kFloats);
CORTADO_MATH_UNARY_("Ceil", 1, CeilFn, kFloats);
CORTADO_MATH_UNARY_("Round", 11, RoundFn, kFloats);
CORTADO_MATH_UNARY_("Sign", 9, SignFn, kNum);
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
CORTADO_MATH_UNARY_("BitwiseNot", 18, BitwiseNotFn, kSInt | kUInt);
#undef CORTADO_MATH_UNARY_
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

}  // namespace
}  // namespace cortado
