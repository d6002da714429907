// Elementwise binary and variadic operators with numpy broadcasting: Add, Sub, Mul, Div, Mod,
// Pow, BitShift, the comparisons (Equal, Less, Greater, LessOrEqual, GreaterOrEqual), the logic
// ops (And, Or, Xor), the bitwise ops (BitwiseAnd, BitwiseOr, BitwiseXor; opset 18), Where,
// and the variadic Min, Max, Sum and Mean. Schemas and reference CPU kernels (BinaryKernel over
// the functors below, see ops/elementwise.h). Integer arithmetic wraps (computed in unsigned)
// and integer division or modulo by zero yields 0, so no input can trap or invoke undefined
// behaviour.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "core/tensor.h"
#include "ops/elementwise.h"
#include "ops/kernel.h"
#include "ops/registry.h"

// The loop vectorizer for this file, as ops/elementwise.h explains.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "no-trapping-math")
#endif

namespace cortado {
namespace {

// ---------------------------------------------------------------------------------------------
// Integer and NaN-propagating scalar helpers.

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
// Type and shape inference.

// Pow: base and exponent have independent dtypes; the output takes the base's.
absl::Status InferPow(InferenceContext& ctx) {
  const DType base = ctx.input(0).dtype, e = ctx.input(1).dtype;
  if (base != DType::kUndefined && (DTypeBit(base) & kPowBaseTypes) == 0) {
    return Unsupported("base", base, kPowBaseTypes);
  }
  if (e != DType::kUndefined && (DTypeBit(e) & kNum) == 0) {
    return Unsupported("exponent", e, kNum);
  }
  if (LegacyBroadcastAxis("Pow", ctx.opset(), ctx.attrs())) {
    ctx.set_output(0, ctx.input(0));  // the exponent broadcasts onto the base
    return absl::OkStatus();
  }
  return InferBroadcast(ctx);
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

// ---------------------------------------------------------------------------------------------
// Variadic kernel.

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
CORTADO_MATH_BINARY_FN_(BitwiseAndFn, a& b);
CORTADO_MATH_BINARY_FN_(BitwiseOrFn, a | b);
CORTADO_MATH_BINARY_FN_(BitwiseXorFn, a ^ b);
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

// Mod; kFloatFloorMod: fmod=0 is defined for floats too (opset 28): A - floor(A / B) * B, a zero
// result taking B's sign.
template <bool kFloatFloorMod>
struct ModFn : Stateless {
  explicit ModFn(const AttributeMap& a) : Stateless(a), fmod(a.GetInt("fmod") != 0) {}
  absl::Status Validate(absl::string_view op, DType dtype) const {
    if (!kFloatFloorMod && !fmod && IsFloatingPoint(dtype)) {
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
      const C r = std::fmod(a, b);
      if (fmod || std::isnan(r)) return r;
      if (r == C(0)) return std::copysign(C(0), b);
      return (r < C(0)) != (b < C(0)) ? r + b : r;
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
  // Signed types (opset 28) shift right arithmetically; a shift by a negative amount or by the
  // width or more leaves the sign extension alone (-1 right of a negative value, else 0).
  template <typename C>
  C operator()(C a, C b) const {
    bool negative = false, out_of_range = b >= C(8 * sizeof(C));
    if constexpr (std::is_signed_v<C>) {
      negative = a < C(0);
      out_of_range = out_of_range || b < C(0);
    }
    if (out_of_range) return !left && negative ? C(-1) : C(0);
    using U = std::make_unsigned_t<C>;
    return left ? static_cast<C>(static_cast<U>(static_cast<U>(a) << b)) : static_cast<C>(a >> b);
  }
  std::string direction;
  bool left;
};

// ---------------------------------------------------------------------------------------------
// Kernels with their own shape or type rules.

// Pow: base and exponent of independent dtypes; the output has the base's dtype.
class PowKernel final : public Kernel {
 public:
  explicit PowKernel(const KernelInfo& info)
      : legacy_axis_(LegacyBroadcastAxis("Pow", info.opset, *info.attrs)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, GetInput(ctx, 0, "Pow"));
    ASSIGN_OR_RETURN(const Tensor* y, GetInput(ctx, 1, "Pow"));
    Tensor legacy_y;
    if (legacy_axis_) {
      ASSIGN_OR_RETURN(Shape shape,
                       LegacyBroadcastShape("Pow", x->shape(), y->shape(), *legacy_axis_));
      ASSIGN_OR_RETURN(legacy_y, y->Reshaped(shape));
      y = &legacy_y;
    }
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

 private:
  const std::optional<int64_t> legacy_axis_;
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

// ---------------------------------------------------------------------------------------------
// Registrations. Schemas start at the first opset whose semantics the kernel implements (before
// opset 7 the binary ops broadcast only with "broadcast"/"axis": LegacyBroadcastAxis); dtype
// lists are the union over the covered opsets.

// Binary ops, numpy broadcasting from opset 7, legacy broadcasting before.
#define CORTADO_MATH_BINARY_(name, since, Fn, types, bool_out)                         \
  CORTADO_REGISTER_OP(OpSchema(name).Versions(since).Inputs(2, 2).Outputs(1, 1).Infer( \
      InferElementwise<types, bool_out>));                                             \
  CORTADO_REGISTER_KERNEL(name, kCpuBackend, since, kMaxOpset, TypesOf(types),         \
                          (MakeFactory<BinaryKernel<Fn, types, bool_out>>()))

CORTADO_MATH_BINARY_("Add", 1, AddFn, kNum, false);
CORTADO_MATH_BINARY_("Sub", 1, SubFn, kNum, false);
CORTADO_MATH_BINARY_("Mul", 1, MulFn, kNum, false);
CORTADO_MATH_BINARY_("Div", 1, DivFn, kNum, false);
CORTADO_MATH_BINARY_("Equal", 1, EqualFn, kNum | kBoolBit | kStr, true);  // strings from 19
CORTADO_MATH_BINARY_("Less", 1, LessFn, kNum, true);
CORTADO_MATH_BINARY_("Greater", 1, GreaterFn, kNum, true);
CORTADO_MATH_BINARY_("LessOrEqual", 12, LessOrEqualFn, kNum, true);
CORTADO_MATH_BINARY_("GreaterOrEqual", 12, GreaterOrEqualFn, kNum, true);
CORTADO_MATH_BINARY_("And", 1, AndFn, kBoolBit, true);
CORTADO_MATH_BINARY_("Or", 1, OrFn, kBoolBit, true);
CORTADO_MATH_BINARY_("Xor", 1, XorFn, kBoolBit, true);
CORTADO_MATH_BINARY_("BitwiseAnd", 18, BitwiseAndFn, kSInt | kUInt, false);
CORTADO_MATH_BINARY_("BitwiseOr", 18, BitwiseOrFn, kSInt | kUInt, false);
CORTADO_MATH_BINARY_("BitwiseXor", 18, BitwiseXorFn, kSInt | kUInt, false);
#undef CORTADO_MATH_BINARY_

CORTADO_REGISTER_OP(OpSchema("Mod")
                        .Versions(10)
                        .Inputs(2, 2)
                        .Attr("fmod", int64_t{0})
                        .Infer(InferElementwise<kNum>));
CORTADO_REGISTER_KERNEL("Mod", kCpuBackend, 10, 27, TypesOf(kNum),
                        (MakeFactory<BinaryKernel<ModFn<false>, kNum>>()));
CORTADO_REGISTER_KERNEL("Mod", kCpuBackend, 28, kMaxOpset, TypesOf(kNum),
                        (MakeFactory<BinaryKernel<ModFn<true>, kNum>>()));
CORTADO_REGISTER_OP(OpSchema("BitShift")
                        .Versions(11, 27)
                        .Inputs(2, 2)
                        .RequiredAttr("direction", AttrType::kString)
                        .Infer(InferElementwise<kUInt>));
CORTADO_REGISTER_KERNEL("BitShift", kCpuBackend, 11, 27, TypesOf(kUInt),
                        (MakeFactory<BinaryKernel<BitShiftFn, kUInt>>()));
CORTADO_REGISTER_OP(OpSchema("BitShift")  // signed types from opset 28
                        .Versions(28)
                        .Inputs(2, 2)
                        .RequiredAttr("direction", AttrType::kString)
                        .Infer(InferElementwise<kUInt | kSInt>));
CORTADO_REGISTER_KERNEL("BitShift", kCpuBackend, 28, kMaxOpset, TypesOf(kUInt | kSInt),
                        (MakeFactory<BinaryKernel<BitShiftFn, kUInt | kSInt>>()));
CORTADO_REGISTER_OP(OpSchema("Pow").Versions(1).Inputs(2, 2).Infer(InferPow));
CORTADO_REGISTER_KERNEL("Pow", kCpuBackend, 1, kMaxOpset, TypesOf(kPowBaseTypes),
                        MakeFactory<PowKernel>());
CORTADO_REGISTER_OP(OpSchema("Where").Versions(9).Inputs(3, 3).Infer(InferWhere));
CORTADO_REGISTER_KERNEL("Where", kCpuBackend, 9, kMaxOpset, std::vector<DType>{DType::kBool},
                        MakeFactory<WhereKernel>());

// Variadic ops: 1..N inputs, numpy broadcasting from opset 8 (equal shapes before; opset 1 only
// adds consumed_inputs, which is ignored).
#define CORTADO_MATH_VARIADIC_(name, Fn, types, mean)                                              \
  CORTADO_REGISTER_OP(                                                                             \
      OpSchema(name).Versions(1).Inputs(1, 1 << 20).Outputs(1, 1).Infer(InferElementwise<types>)); \
  CORTADO_REGISTER_KERNEL(name, kCpuBackend, 1, kMaxOpset, TypesOf(types),                         \
                          (MakeFactory<VariadicKernel<Fn, types, mean>>()))

CORTADO_MATH_VARIADIC_("Min", MinFn, kNum, false);
CORTADO_MATH_VARIADIC_("Max", MaxFn, kNum, false);
CORTADO_MATH_VARIADIC_("Sum", AddFn, kFloats, false);
CORTADO_MATH_VARIADIC_("Mean", AddFn, kFloats, true);
#undef CORTADO_MATH_VARIADIC_

}  // namespace
}  // namespace cortado
