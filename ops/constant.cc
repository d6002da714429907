// The tensor family's generators and masks: Shape, Size, Constant, ConstantOfShape, Range,
// EyeLike and Trilu.//
// Part of the tensor family (ops/tensor_util.h holds its shared helpers). Most kernels move
// elements without looking at them, so they dispatch on the storage of a dtype (an unsigned
// integer of the element's size, or std::string) and serve every dtype with one code path.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ops/registry.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace tensor_ops {
namespace {

// ---------------------------------------------------------------------------------------------
// Shape, Size, Constant, ConstantOfShape, Range, EyeLike.

std::pair<int64_t, int64_t> ShapeRange(const AttributeMap& attrs, int64_t rank) {
  auto clamp = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  const int64_t start = clamp(attrs.GetInt("start"));
  const int64_t end = attrs.Has("end") ? clamp(attrs.GetInt("end")) : rank;
  return {start, std::max(start, end)};
}

absl::Status InferShape(InferenceContext& ctx) {
  const Shape* in = KnownShape(ctx, 0);
  if (!in) {
    ctx.set_output(0, UnknownDims(DType::kInt64, 1));
    return absl::OkStatus();
  }
  auto [start, end] = ShapeRange(ctx.attrs(), static_cast<int64_t>(in->size()));
  ctx.set_output(0, {DType::kInt64, Shape{end - start}});
  return absl::OkStatus();
}

class ShapeKernel : public Kernel {
 public:
  explicit ShapeKernel(const KernelInfo& info) : attrs_(*info.attrs) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    auto [start, end] = ShapeRange(attrs_, x->rank());
    ctx.SetOutput(
        0, Tensor::FromVector<int64_t>(Ints(x->shape().begin() + start, x->shape().begin() + end),
                                       {end - start}));
    return absl::OkStatus();
  }

 private:
  AttributeMap attrs_;
};

class SizeKernel : public Kernel {
 public:
  explicit SizeKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ctx.SetOutput(0, Tensor::Scalar<int64_t>(x->num_elements()));
    return absl::OkStatus();
  }
};

// The value of a Constant node from whichever value attribute it has.
absl::StatusOr<Tensor> ConstantValue(const AttributeMap& attrs) {
  if (attrs.Has("sparse_value")) {
    return absl::UnimplementedError("Constant: sparse_value is not supported");
  }
  if (attrs.Has("value")) {
    Tensor t = attrs.GetTensor("value");
    if (!t.defined()) return Bad("Constant", "value must be a tensor");
    return t;
  }
  if (attrs.Has("value_float")) return Tensor::Scalar<float>(attrs.GetFloat("value_float"));
  if (attrs.Has("value_int")) return Tensor::Scalar<int64_t>(attrs.GetInt("value_int"));
  if (attrs.Has("value_string"))
    return Tensor::Scalar<std::string>(attrs.GetString("value_string"));
  if (attrs.Has("value_floats")) {
    const std::vector<float> v = attrs.GetFloats("value_floats");
    return Tensor::FromVector<float>(v, {static_cast<int64_t>(v.size())});
  }
  if (attrs.Has("value_ints")) {
    const Ints v = attrs.GetInts("value_ints");
    return Tensor::FromVector<int64_t>(v, {static_cast<int64_t>(v.size())});
  }
  if (attrs.Has("value_strings")) {
    const std::vector<std::string> v = attrs.GetStrings("value_strings");
    return Tensor::FromVector<std::string>(v, {static_cast<int64_t>(v.size())});
  }
  return Bad("Constant", "needs one of value, value_float(s), value_int(s), value_string(s)");
}

absl::Status InferConstant(InferenceContext& ctx) {
  ASSIGN_OR_RETURN(Tensor t, ConstantValue(ctx.attrs()));
  ctx.set_output(0, {t.dtype(), t.shape()});
  return absl::OkStatus();
}

class ConstantKernel : public Kernel {
 public:
  explicit ConstantKernel(const KernelInfo& info) : value_(ConstantValue(*info.attrs)) {}
  absl::Status Compute(KernelContext& ctx) const override {
    RETURN_IF_ERROR(value_.status());
    ctx.SetOutput(0, *value_);
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<Tensor> value_;
};

// The fill value of ConstantOfShape (default: float32 zero).
absl::StatusOr<Tensor> FillValue(const AttributeMap& attrs) {
  if (!attrs.Has("value")) return ScalarOf(DType::kFloat32, 0);
  Tensor v = attrs.GetTensor("value");
  if (!v.defined() || v.num_elements() != 1) {
    return Bad("ConstantOfShape", "value must hold one element, got ", v.DebugString());
  }
  return v;
}

absl::Status InferConstantOfShape(InferenceContext& ctx) {
  ASSIGN_OR_RETURN(Tensor v, FillValue(ctx.attrs()));
  std::optional<Ints> shape = ConstInts(ctx, 0);
  ctx.set_output(0,
                 shape ? TensorType{v.dtype(), *shape} : UnknownDims(v.dtype(), LengthOf(ctx, 0)));
  return absl::OkStatus();
}

class ConstantOfShapeKernel : public Kernel {
 public:
  explicit ConstantOfShapeKernel(const KernelInfo& info) : value_(FillValue(*info.attrs)) {}
  absl::Status Compute(KernelContext& ctx) const override {
    RETURN_IF_ERROR(value_.status());
    ASSIGN_OR_RETURN(const Tensor* s, ctx.RequiredInput(0));
    if (s->rank() != 1) return Bad("ConstantOfShape", "shape must be 1-D, got ", Str(s->shape()));
    ASSIGN_OR_RETURN(Ints shape, IntValues(*s, "ConstantOfShape", "shape"));
    if (absl::Status st = ValidateShape(shape); !st.ok())
      return Bad("ConstantOfShape", st.message());
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, value_->dtype(), shape));
    return VisitStorage(y->dtype(), "ConstantOfShape", [&](auto tag) {
      using T = typename decltype(tag)::type;
      std::fill_n(y->data<T>(), y->num_elements(), value_->data<T>()[0]);
      return absl::OkStatus();
    });
  }

 private:
  absl::StatusOr<Tensor> value_;
};

// Range's element count, max(ceil((limit - start) / delta), 0); exact for integers.
template <typename T>
absl::StatusOr<int64_t> RangeCount(T start, T limit, T delta) {
  if (delta == T(0)) return Bad("Range", "delta must not be 0");
  double n;
  if constexpr (std::is_integral_v<T>) {
    // Differences in uint64 arithmetic are exact whatever the signs.
    if (delta > 0 ? limit <= start : limit >= start) return 0;
    const uint64_t span =
        delta > 0 ? uint64_t(limit) - uint64_t(start) : uint64_t(start) - uint64_t(limit);
    const uint64_t step = delta > 0 ? uint64_t(delta) : uint64_t(0) - uint64_t(delta);
    n = static_cast<double>((span - 1) / step + 1);
  } else {
    n = std::max(std::ceil((static_cast<double>(limit) - start) / delta), 0.0);
  }
  if (!(n <= static_cast<double>(int64_t{1} << 40))) {
    return Bad("Range", "too many elements (", n, ")");
  }
  return static_cast<int64_t>(n);
}

// Range in T over elements of type E (E = T but for float16 and bfloat16, computed in float).
template <typename T, typename E = T>
absl::Status RangeFill(const Tensor& s, const Tensor& l, const Tensor& d, KernelContext& ctx) {
  const T start = ConvertValue<T>(s.data<E>()[0]), limit = ConvertValue<T>(l.data<E>()[0]),
          delta = ConvertValue<T>(d.data<E>()[0]);
  ASSIGN_OR_RETURN(int64_t count, RangeCount(start, limit, delta));
  ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, s.dtype(), {count}));
  for (int64_t i = 0; i < count; ++i) {
    if constexpr (std::is_integral_v<T>) {  // start + i * delta, without signed overflow
      y->data<E>()[i] = static_cast<T>(uint64_t(start) + uint64_t(i) * uint64_t(delta));
    } else {
      y->data<E>()[i] = ConvertValue<E>(start + static_cast<T>(i) * delta);
    }
  }
  return absl::OkStatus();
}

absl::Status InferRange(InferenceContext& ctx) {
  ctx.set_output(0, UnknownDims(ctx.input(0).dtype, 1));
  const Tensor* s = ctx.constant(0);
  const Tensor* l = ctx.constant(1);
  const Tensor* d = ctx.constant(2);
  if (!s || !l || !d || s->num_elements() != 1 || l->num_elements() != 1 ||
      d->num_elements() != 1 || l->dtype() != s->dtype() || d->dtype() != s->dtype()) {
    return absl::OkStatus();
  }
  return VisitDType(s->dtype(), DTypeSet::kSigned, "Range", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_arithmetic_v<T>) {
      ASSIGN_OR_RETURN(int64_t n, RangeCount(s->data<T>()[0], l->data<T>()[0], d->data<T>()[0]));
      ctx.set_output(0, {s->dtype(), Shape{n}});
    }
    return absl::OkStatus();
  });
}

class RangeKernel : public Kernel {
 public:
  explicit RangeKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    const Tensor* in[3];
    for (int i = 0; i < 3; ++i) {
      ASSIGN_OR_RETURN(in[i], ctx.RequiredInput(i));
      if (in[i]->dtype() != in[0]->dtype() || in[i]->num_elements() != 1) {
        return Bad("Range", "start, limit and delta must be scalars of one dtype, got ",
                   DTypeName(in[i]->dtype()), Str(in[i]->shape()));
      }
    }
    return VisitDType(in[0]->dtype(), DTypeSet::kAll, "Range", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && !std::is_unsigned_v<T>) {
        return RangeFill<T>(*in[0], *in[1], *in[2], ctx);
      } else if constexpr (kIsReducedFloat<T>) {  // computed in float, rounded once
        return RangeFill<float, T>(*in[0], *in[1], *in[2], ctx);
      } else {
        return Bad("Range", "unsupported dtype ", DTypeName(in[0]->dtype()));
      }
    });
  }
};

absl::StatusOr<DType> EyeLikeDType(const AttributeMap& attrs, DType input) {
  if (!attrs.Has("dtype")) return input;
  return DTypeFromOnnx(attrs.GetInt("dtype"), "EyeLike");
}

absl::Status InferEyeLike(InferenceContext& ctx) {
  ASSIGN_OR_RETURN(DType dtype, EyeLikeDType(ctx.attrs(), ctx.input(0).dtype));
  ctx.set_output(0, {dtype, ctx.input(0).shape});
  return absl::OkStatus();
}

class EyeLikeKernel : public Kernel {
 public:
  explicit EyeLikeKernel(const KernelInfo& info) : attrs_(*info.attrs), k_(attrs_.GetInt("k")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() != 2) return Bad("EyeLike", "input must be 2-D, got ", Str(x->shape()));
    ASSIGN_OR_RETURN(DType dtype, EyeLikeDType(attrs_, x->dtype()));
    if (dtype == DType::kString) return Bad("EyeLike", "unsupported dtype string");
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, dtype, x->shape()));
    const Tensor one = ScalarOf(dtype, 1);
    return VisitStorage(dtype, "EyeLike", [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* out = y->data<T>();
      std::fill_n(out, y->num_elements(), T());
      const int64_t rows = x->dim(0), cols = x->dim(1);
      if (k_ <= -rows || k_ >= cols) return absl::OkStatus();  // no diagonal inside
      for (int64_t i = std::max<int64_t>(0, -k_); i < rows && i + k_ < cols; ++i) {
        out[i * cols + i + k_] = one.data<T>()[0];
      }
      return absl::OkStatus();
    });
  }

 private:
  AttributeMap attrs_;
  int64_t k_;
};

// ---------------------------------------------------------------------------------------------
// Trilu.

class TriluKernel : public Kernel {
 public:
  explicit TriluKernel(const KernelInfo& info) : upper_(info.attrs->GetInt("upper") != 0) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() < 2) return Bad("Trilu", "input must have rank >= 2, got ", Str(x->shape()));
    int64_t k = 0;
    if (const Tensor* kt = ctx.input(1); kt != nullptr && kt->defined()) {
      ASSIGN_OR_RETURN(Ints kv, IntValues(*kt, "Trilu", "k"));
      if (kv.size() != 1) return Bad("Trilu", "k must be a scalar, got ", Str(kt->shape()));
      k = kv[0];
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    const int64_t rows = x->dim(x->rank() - 2), cols = x->dim(x->rank() - 1);
    return VisitStorage(x->dtype(), "Trilu", [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* in = x->data<T>();
      T* out = y->data<T>();
      for (int64_t i = 0; i < x->num_elements(); ++i) {
        const int64_t c = i % cols, r = (i / cols) % rows;
        const bool keep = upper_ ? c - r >= k : c - r <= k;
        out[i] = keep ? in[i] : T();
      }
      return absl::OkStatus();
    });
  }

 private:
  bool upper_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registrations.

CORTADO_REGISTER_OP(OpSchema("Shape")
                        .Versions(1)
                        .Inputs(1, 1)
                        .Attr("start", int64_t{0})
                        .OptionalAttr("end", AttrType::kInt)
                        .Infer(InferShape));
CORTADO_REGISTER_KERNEL("Shape", kCpuBackend, 1, kMaxOpset, AnyType(), MakeFactory<ShapeKernel>());

CORTADO_REGISTER_OP(OpSchema("Size").Versions(1).Inputs(1, 1).Infer([](InferenceContext& ctx) {
  ctx.set_output(0, {DType::kInt64, Shape{}});
  return absl::OkStatus();
}));
CORTADO_REGISTER_KERNEL("Size", kCpuBackend, 1, kMaxOpset, AnyType(), MakeFactory<SizeKernel>());

CORTADO_REGISTER_OP(OpSchema("Constant")
                        .Versions(1)
                        .Inputs(0, 0)
                        .OptionalAttr("value", AttrType::kTensor)
                        .OptionalAttr("sparse_value", AttrType::kTensor)
                        .OptionalAttr("value_float", AttrType::kFloat)
                        .OptionalAttr("value_floats", AttrType::kFloats)
                        .OptionalAttr("value_int", AttrType::kInt)
                        .OptionalAttr("value_ints", AttrType::kInts)
                        .OptionalAttr("value_string", AttrType::kString)
                        .OptionalAttr("value_strings", AttrType::kStrings)
                        .Infer(InferConstant));
CORTADO_REGISTER_KERNEL("Constant", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<ConstantKernel>());

CORTADO_REGISTER_OP(OpSchema("ConstantOfShape")
                        .Versions(9)
                        .Inputs(1, 1)
                        .OptionalAttr("value", AttrType::kTensor)
                        .Infer(InferConstantOfShape));
CORTADO_REGISTER_KERNEL("ConstantOfShape", kCpuBackend, 9, kMaxOpset, AnyType(),
                        MakeFactory<ConstantOfShapeKernel>());

CORTADO_REGISTER_OP(OpSchema("Range").Versions(11).Inputs(3, 3).Infer(InferRange));
CORTADO_REGISTER_KERNEL("Range", kCpuBackend, 11, kMaxOpset,
                        (std::vector<DType>{DType::kFloat32, DType::kFloat64, DType::kFloat16,
                                            DType::kBFloat16, DType::kInt8, DType::kInt16,
                                            DType::kInt32, DType::kInt64}),
                        MakeFactory<RangeKernel>());

CORTADO_REGISTER_OP(OpSchema("EyeLike")
                        .Versions(9)
                        .Inputs(1, 1)
                        .OptionalAttr("dtype", AttrType::kInt)
                        .Attr("k", int64_t{0})
                        .Infer(InferEyeLike));
CORTADO_REGISTER_KERNEL("EyeLike", kCpuBackend, 9, kMaxOpset, AnyType(),
                        MakeFactory<EyeLikeKernel>());

CORTADO_REGISTER_OP(
    OpSchema("Trilu").Versions(14).Inputs(1, 2).Attr("upper", int64_t{1}).Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("Trilu", kCpuBackend, 14, kMaxOpset, AnyType(), MakeFactory<TriluKernel>());

}  // namespace tensor_ops
}  // namespace cortado
