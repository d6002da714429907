// Activation operators: Relu, LeakyRelu, PRelu, Elu, Selu, Celu, Sigmoid, HardSigmoid,
// HardSwish, Softplus, Mish, Gelu, Swish, SwiGLU, ThresholdedRelu, Shrink and Clip, and ReluGrad
// (kTrainingDomain, for the eager frontend's backward pass). Schemas and reference CPU kernels,
// mostly UnaryKernel and BinaryKernel over the functors below (ops/elementwise.h).
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "ops/elementwise.h"
#include "ops/kernel.h"
#include "ops/registry.h"

// The loop vectorizer for this file, as ops/elementwise.h explains.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "no-trapping-math")
#endif

namespace cortado {
namespace {

// A double (an attribute) as compute type C.
template <typename C>
C FromDouble(double v) {
  if constexpr (std::is_integral_v<C>) {
    return SaturateCast<C>(v);
  } else {
    return static_cast<C>(v);
  }
}

// The input if it is present, else nullptr.
const Tensor* OptionalInput(const KernelContext& ctx, int i) {
  const Tensor* t = ctx.input(i);
  return t != nullptr && t->defined() ? t : nullptr;
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
  if (x.shape && slope.shape && ctx.opset() >= 7) {
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
      return FastSigmoid(x);
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

// Gelu (opset 20): x * Phi(x), exactly (erf) or with the tanh approximation.
struct GeluFn : Stateless {
  explicit GeluFn(const AttributeMap& a)
      : Stateless(a), approximate(a.GetString("approximate", "none")) {}
  absl::Status Validate(absl::string_view op, DType) const {
    if (approximate != "none" && approximate != "tanh") {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": approximate must be \"none\" or \"tanh\", got \"", approximate, "\""));
    }
    return absl::OkStatus();
  }
  template <typename C>
  C operator()(C x) const {
    if (approximate == "tanh") {
      const C k = static_cast<C>(0.7978845608028654);  // sqrt(2 / pi)
      return C(0.5) * x * (C(1) + std::tanh(k * (x + C(0.044715) * x * x * x)));
    }
    return C(0.5) * x * (C(1) + std::erf(x * static_cast<C>(0.7071067811865476)));
  }
  std::string approximate;
};

// Swish (opset 24): x * sigmoid(alpha * x).
struct SwishFn : Stateless {
  explicit SwishFn(const AttributeMap& a) : Stateless(a), alpha(a.GetFloat("alpha", 1.0f)) {}
  template <typename C>
  C operator()(C x) const {
    return x / (C(1) + std::exp(-static_cast<C>(alpha) * x));
  }
  float alpha;
};

// SwiGLU (opset 28): Swish(A) * B, the gate A and the value B of one shape.
struct SwiGluFn : Stateless {
  explicit SwiGluFn(const AttributeMap& a) : Stateless(a), swish(a) {}
  template <typename C>
  C operator()(C gate, C value) const {
    return swish(gate) * value;
  }
  SwishFn swish;
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
// Registrations.

constexpr float kFloatMax = std::numeric_limits<float>::max();

// Opset 1's versions of Relu, Sigmoid, LeakyRelu, Elu, Selu, HardSigmoid and Clip differ from
// 6's only by consumed_inputs, which is ignored.
CORTADO_MATH_UNARY_("Relu", 1, ReluFn, kSignedNum);
CORTADO_MATH_UNARY_("Sigmoid", 1, SigmoidFn, kFloats);
CORTADO_MATH_UNARY_("HardSwish", 14, HardSwishFn, kFloats);
CORTADO_MATH_UNARY_("Softplus", 1, SoftplusFn, kFloats);

CORTADO_REGISTER_OP(OpSchema("LeakyRelu")
                        .Versions(1)
                        .Inputs(1, 1)
                        .Attr("alpha", 0.01f)
                        .Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("LeakyRelu", kCpuBackend, 1, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<LeakyReluFn, kFloats>>()));
CORTADO_REGISTER_OP(
    OpSchema("Elu").Versions(1).Inputs(1, 1).Attr("alpha", 1.0f).Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("Elu", kCpuBackend, 1, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<EluFn, kFloats>>()));
CORTADO_REGISTER_OP(OpSchema("Selu")
                        .Versions(1)
                        .Inputs(1, 1)
                        .Attr("alpha", 1.67326319217681884765625f)
                        .Attr("gamma", 1.05070102214813232421875f)
                        .Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("Selu", kCpuBackend, 1, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<SeluFn, kFloats>>()));
CORTADO_REGISTER_OP(OpSchema("Celu")
                        .Versions(12)
                        .Inputs(1, 1)
                        .Attr("alpha", 1.0f)
                        .Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("Celu", kCpuBackend, 12, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<CeluFn, kFloats>>()));
CORTADO_REGISTER_OP(OpSchema("HardSigmoid")
                        .Versions(1)
                        .Inputs(1, 1)
                        .Attr("alpha", 0.2f)
                        .Attr("beta", 0.5f)
                        .Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("HardSigmoid", kCpuBackend, 1, kMaxOpset, TypesOf(kFloats),
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
// Gelu (opset 20), Swish (24), SwiGLU (28) and Mish (18) are newer than the rest.
CORTADO_REGISTER_OP(OpSchema("Gelu")
                        .Versions(20)
                        .Inputs(1, 1)
                        .Attr("approximate", std::string("none"))
                        .Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("Gelu", kCpuBackend, 20, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<GeluFn, kFloats>>()));
CORTADO_REGISTER_OP(OpSchema("Swish")
                        .Versions(24)
                        .Inputs(1, 1)
                        .Attr("alpha", 1.0f)
                        .Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("Swish", kCpuBackend, 24, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<SwishFn, kFloats>>()));
CORTADO_REGISTER_OP(OpSchema("SwiGLU")
                        .Versions(28)
                        .Inputs(2, 2)
                        .Attr("alpha", 1.0f)
                        .Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("SwiGLU", kCpuBackend, 28, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<BinaryKernel<SwiGluFn, kFloats>>()));
CORTADO_REGISTER_OP(OpSchema("Mish").Versions(18).Inputs(1, 1).Infer(InferElementwise<kFloats>));
CORTADO_REGISTER_KERNEL("Mish", kCpuBackend, 18, kMaxOpset, TypesOf(kFloats),
                        (MakeFactory<UnaryKernel<MishFn, kFloats>>()));

CORTADO_REGISTER_OP(OpSchema("Clip")
                        .Versions(1)
                        .Inputs(1, 3)
                        .Attr("min", -kFloatMax)
                        .Attr("max", kFloatMax)
                        .Infer(InferClip));
CORTADO_REGISTER_KERNEL("Clip", kCpuBackend, 1, kMaxOpset, TypesOf(kNum),
                        MakeFactory<ClipKernel>());

// PRelu before opset 7 takes one slope per channel (LegacyBroadcastAxis).
CORTADO_REGISTER_OP(OpSchema("PRelu").Versions(1).Inputs(2, 2).Infer(InferPRelu));
CORTADO_REGISTER_KERNEL("PRelu", kCpuBackend, 1, kMaxOpset, TypesOf(kNum),
                        (MakeFactory<BinaryKernel<PReluFn, kNum>>()));

// Gradient operators of the eager frontend's backward pass (kTrainingDomain, opsets 1..kMaxOpset).
CORTADO_REGISTER_OP(OpSchema("ReluGrad", kTrainingDomain)
                        .Versions(1)
                        .Inputs(2, 2)
                        .Outputs(1, 1)
                        .Infer(InferReluGrad));
CORTADO_REGISTER_TRAINING_KERNEL("ReluGrad", TypesOf(kF32F64), MakeFactory<ReluGradKernel>());

}  // namespace
}  // namespace cortado
