// The tensor family's views and pass-throughs: Reshape, Flatten, Squeeze, Unsqueeze and Identity,
// which give the input's storage a new shape, and Dropout (inference mode: the input, and an
// all-true mask).//
// Part of the tensor family (ops/tensor_util.h holds its shared helpers). Most kernels move
// elements without looking at them, so they dispatch on the storage of a dtype (an unsigned
// integer of the element's size, or std::string) and serve every dtype with one code path.
#include <optional>
#include <vector>

#include "absl/strings/str_join.h"
#include "ops/registry.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace tensor_ops {
namespace {

// ---------------------------------------------------------------------------------------------
// Reshape, Flatten, Squeeze, Unsqueeze, Identity: views of the input's storage.

// The output shape of Reshape; dims of `in` may be -1 (unknown, for inference).
absl::StatusOr<Shape> ReshapeShape(const Shape& in, const Ints& spec, bool allowzero) {
  Shape out(spec.size());
  int infer = -1;
  bool has_zero = false;
  for (size_t i = 0; i < spec.size(); ++i) {
    const int64_t v = spec[i];
    if (v == 0 && !allowzero) {
      if (i >= in.size()) {
        return Bad("Reshape", "shape ", absl::StrJoin(spec, ","), " copies dim ", i, " that input ",
                   Str(in), " does not have");
      }
      out[i] = in[i];
    } else if (v == -1) {
      if (infer >= 0) return Bad("Reshape", "shape ", absl::StrJoin(spec, ","), " has two -1");
      infer = static_cast<int>(i);
    } else if (v < 0) {
      return Bad("Reshape", "invalid dim ", v, " in shape ", absl::StrJoin(spec, ","));
    } else {
      has_zero = has_zero || v == 0;
      out[i] = v;
    }
  }
  if (infer >= 0 && has_zero) {
    return Bad("Reshape", "shape ", absl::StrJoin(spec, ","), " has both 0 and -1 with allowzero");
  }
  const int64_t total = PartialProduct(in, 0, in.size());
  int64_t known = 1;
  bool unknown = total < 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (static_cast<int>(i) == infer) continue;
    if (out[i] < 0) {
      unknown = true;
    } else if (__builtin_mul_overflow(known, out[i], &known) || known > (int64_t{1} << 50)) {
      return Bad("Reshape", "shape ", absl::StrJoin(spec, ","), " is too large");
    }
  }
  if (infer >= 0) {
    if (unknown) {
      out[infer] = -1;
    } else if (known == 0 || total % known != 0) {
      return Bad("Reshape", "cannot reshape ", Str(in), " to ", absl::StrJoin(spec, ","));
    } else {
      out[infer] = total / known;
    }
  } else if (!unknown && known != total) {
    return Bad("Reshape", "cannot reshape ", Str(in), " (", total, " elements) to ", Str(out));
  }
  return out;
}

// Reshape's target: the attribute `shape` before opset 5, input 1 from then on.
absl::Status InferReshape(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  std::optional<Ints> spec =
      ctx.opset() < 5 ? std::optional<Ints>(ctx.attrs().GetInts("shape")) : ConstInts(ctx, 1);
  if (!spec) {
    ctx.set_output(0, UnknownDims(dtype, LengthOf(ctx, 1)));
    return absl::OkStatus();
  }
  const Shape* in = KnownShape(ctx, 0);
  const bool allowzero = ctx.attrs().GetInt("allowzero") != 0;
  Shape in_shape = in ? *in : Shape();
  if (!in) {
    // Unknown rank: only explicit dims are known.
    Shape out(spec->size(), -1);
    for (size_t i = 0; i < spec->size(); ++i) {
      if ((*spec)[i] > 0 || ((*spec)[i] == 0 && allowzero)) out[i] = (*spec)[i];
    }
    ctx.set_output(0, {dtype, out});
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Shape out, ReshapeShape(in_shape, *spec, allowzero));
  ctx.set_output(0, {dtype, out});
  return absl::OkStatus();
}

class ReshapeKernel : public Kernel {
 public:
  explicit ReshapeKernel(const KernelInfo& info)
      : allowzero_(info.attrs->GetInt("allowzero") != 0),
        legacy_(info.opset < 5),
        shape_attr_(info.attrs->GetInts("shape")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    Ints spec = shape_attr_;
    if (!legacy_) {
      ASSIGN_OR_RETURN(const Tensor* s, ctx.RequiredInput(1));
      if (s->rank() != 1) return Bad("Reshape", "shape must be 1-D, got ", Str(s->shape()));
      ASSIGN_OR_RETURN(spec, IntValues(*s, "Reshape", "shape"));
    }
    ASSIGN_OR_RETURN(Shape out, ReshapeShape(x->shape(), spec, allowzero_));
    return SetView(ctx, *x, out);
  }

 private:
  bool allowzero_;
  bool legacy_;  // before opset 5: the target is the attribute `shape`
  Ints shape_attr_;
};

absl::StatusOr<Shape> FlattenShape(const Shape& in, int64_t axis) {
  const int rank = static_cast<int>(in.size());
  if (axis < -rank || axis > rank) {
    return Bad("Flatten", "axis ", axis, " is out of range for rank ", rank);
  }
  const size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
  return Shape{PartialProduct(in, 0, a), PartialProduct(in, a, in.size())};
}

absl::Status InferFlatten(InferenceContext& ctx) {
  const Shape* in = KnownShape(ctx, 0);
  if (!in) {
    ctx.set_output(0, UnknownDims(ctx.input(0).dtype, 2));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Shape out, FlattenShape(*in, ctx.attrs().GetInt("axis")));
  ctx.set_output(0, {ctx.input(0).dtype, out});
  return absl::OkStatus();
}

class FlattenKernel : public Kernel {
 public:
  explicit FlattenKernel(const KernelInfo& info) : axis_(info.attrs->GetInt("axis")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(Shape out, FlattenShape(x->shape(), axis_));
    return SetView(ctx, *x, out);
  }

 private:
  int64_t axis_;
};

// Squeeze: `axes` nullopt (or empty) removes every dim of size 1.
absl::StatusOr<Shape> SqueezeShape(const Shape& in, const std::optional<Ints>& axes) {
  const int rank = static_cast<int>(in.size());
  std::vector<bool> drop(rank, false);
  if (axes && !axes->empty()) {
    ASSIGN_OR_RETURN(std::vector<int> norm, NormalizeAxes(*axes, rank, "Squeeze"));
    for (int a : norm) {
      if (in[a] != 1 && in[a] != -1) {
        return Bad("Squeeze", "cannot squeeze axis ", a, " of size ", in[a], " in ", Str(in));
      }
      drop[a] = true;
    }
  } else {
    for (int d = 0; d < rank; ++d) {
      if (in[d] == -1) return absl::UnavailableError("unknown dims");  // inference only
      drop[d] = in[d] == 1;
    }
  }
  Shape out;
  for (int d = 0; d < rank; ++d) {
    if (!drop[d]) out.push_back(in[d]);
  }
  return out;
}

absl::StatusOr<Shape> UnsqueezeShape(const Shape& in, const Ints& axes) {
  const int out_rank = static_cast<int>(in.size() + axes.size());
  ASSIGN_OR_RETURN(std::vector<int> norm, NormalizeAxes(axes, out_rank, "Unsqueeze"));
  Shape out(out_rank, 0);
  std::vector<bool> inserted(out_rank, false);
  for (int a : norm) inserted[a] = true;
  for (int d = 0, j = 0; d < out_rank; ++d) out[d] = inserted[d] ? 1 : in[j++];
  return out;
}

template <bool kSqueeze>
absl::Status InferSqueezeLike(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  bool known;
  std::optional<Ints> axes = InferIntsFromInputOrAttr(ctx, 1, "axes", &known);
  const Shape* in = KnownShape(ctx, 0);
  if (!known || !in) {
    int64_t rank = -1;
    if (!kSqueeze && in) {
      const int64_t n = axes ? static_cast<int64_t>(axes->size()) : LengthOf(ctx, 1);
      if (n >= 0) rank = static_cast<int64_t>(in->size()) + n;
    }
    ctx.set_output(0, UnknownDims(dtype, rank));
    return absl::OkStatus();
  }
  if constexpr (kSqueeze) {
    absl::StatusOr<Shape> out = SqueezeShape(*in, axes);
    if (absl::IsUnavailable(out.status())) {
      ctx.set_output(0, UnknownDims(dtype, -1));
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(out.status());
    ctx.set_output(0, {dtype, *out});
  } else {
    if (!axes) return Bad("Unsqueeze", "axes are required");
    ASSIGN_OR_RETURN(Shape out, UnsqueezeShape(*in, *axes));
    ctx.set_output(0, {dtype, out});
  }
  return absl::OkStatus();
}

template <bool kSqueeze>
class SqueezeLikeKernel : public Kernel {
 public:
  explicit SqueezeLikeKernel(const KernelInfo& info) : axes_(OptionalInts(*info.attrs, "axes")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view kOp = kSqueeze ? "Squeeze" : "Unsqueeze";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(std::optional<Ints> axes, IntsFromInputOrAttr(ctx, 1, axes_, kOp, "axes"));
    Shape out;
    if constexpr (kSqueeze) {
      ASSIGN_OR_RETURN(out, SqueezeShape(x->shape(), axes));
    } else {
      if (!axes) return Bad(kOp, "axes are required");
      ASSIGN_OR_RETURN(out, UnsqueezeShape(x->shape(), *axes));
    }
    return SetView(ctx, *x, out);
  }

 private:
  std::optional<Ints> axes_;
};

class IdentityKernel : public Kernel {
 public:
  explicit IdentityKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    if (const Value* v = ctx.value(0); v != nullptr && !v->is_tensor()) {  // a sequence, optional
      ctx.SetValue(0, *v);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ctx.SetOutput(0, *x);
    return absl::OkStatus();
  }
};

// ---------------------------------------------------------------------------------------------
// Dropout.

absl::Status InferDropout(InferenceContext& ctx) {
  ctx.set_output(0, ctx.input(0));
  ctx.set_output(1, {ctx.opset() < 10 ? ctx.input(0).dtype : DType::kBool, ctx.input(0).shape});
  return absl::OkStatus();
}

// Inference-mode Dropout: the output is the input and the mask is all true. Training mode with
// a non-zero ratio is not supported.
class DropoutKernel : public Kernel {
 public:
  explicit DropoutKernel(const KernelInfo& info) : opset_(info.opset) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const Tensor* training = ctx.input(2);
    if (opset_ >= 12 && training != nullptr && training->defined()) {
      ASSIGN_OR_RETURN(double train, ScalarValue(*training, "Dropout", "training_mode"));
      double ratio = 0.5;
      if (const Tensor* r = ctx.input(1); r != nullptr && r->defined()) {
        ASSIGN_OR_RETURN(ratio, ScalarValue(*r, "Dropout", "ratio"));
      }
      if (train != 0 && ratio != 0) {
        return absl::UnimplementedError(
            "Dropout: training_mode with a non-zero ratio is not supported");
      }
    }
    ctx.SetOutput(0, *x);
    if (ctx.num_outputs() > 1) {
      const DType mask = opset_ < 10 ? x->dtype() : DType::kBool;
      if (mask == DType::kString) return Bad("Dropout", "unsupported dtype string");
      ASSIGN_OR_RETURN(Tensor * m, ctx.AllocateOutput(1, mask, x->shape()));
      const Tensor one = ScalarOf(mask, 1);
      return VisitStorage(mask, "Dropout", [&](auto tag) {
        using T = typename decltype(tag)::type;
        std::fill_n(m->data<T>(), m->num_elements(), one.data<T>()[0]);
        return absl::OkStatus();
      });
    }
    return absl::OkStatus();
  }

 private:
  int opset_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registrations.

CORTADO_REGISTER_OP(
    OpSchema("Reshape").Versions(5).Inputs(2, 2).Attr("allowzero", int64_t{0}).Infer(InferReshape));
CORTADO_REGISTER_OP(OpSchema("Reshape")  // opsets 1-4: the shape is an attribute
                        .Versions(1, 4)
                        .Inputs(1, 1)
                        .RequiredAttr("shape", AttrType::kInts)
                        .Infer(InferReshape));
CORTADO_REGISTER_KERNEL("Reshape", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<ReshapeKernel>());

CORTADO_REGISTER_OP(
    OpSchema("Flatten").Versions(1).Inputs(1, 1).Attr("axis", int64_t{1}).Infer(InferFlatten));
CORTADO_REGISTER_KERNEL("Flatten", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<FlattenKernel>());

CORTADO_REGISTER_OP(OpSchema("Squeeze")
                        .Versions(1)
                        .Inputs(1, 2)
                        .OptionalAttr("axes", AttrType::kInts)
                        .Infer(InferSqueezeLike<true>));
CORTADO_REGISTER_KERNEL("Squeeze", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<SqueezeLikeKernel<true>>());

CORTADO_REGISTER_OP(OpSchema("Unsqueeze")
                        .Versions(1)
                        .Inputs(1, 2)
                        .OptionalAttr("axes", AttrType::kInts)
                        .Infer(InferSqueezeLike<false>));
CORTADO_REGISTER_KERNEL("Unsqueeze", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<SqueezeLikeKernel<false>>());

CORTADO_REGISTER_OP(OpSchema("Identity").Versions(1).Inputs(1, 1).Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("Identity", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<IdentityKernel>());

// Dropout before opset 7 (is_test, consumed_inputs) is the identity at inference too.
CORTADO_REGISTER_OP(OpSchema("Dropout")
                        .Versions(1)
                        .Inputs(1, 3)
                        .Outputs(1, 2)
                        .Attr("ratio", 0.5f)
                        .OptionalAttr("seed", AttrType::kInt)
                        .Infer(InferDropout));
CORTADO_REGISTER_KERNEL("Dropout", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<DropoutKernel>());

}  // namespace tensor_ops
}  // namespace cortado
