// The tensor family's Concat and Split along one axis.//
// Part of the tensor family (ops/tensor_util.h holds its shared helpers). Most kernels move
// elements without looking at them, so they dispatch on the storage of a dtype (an unsigned
// integer of the element's size, or std::string) and serve every dtype with one code path.
#include <optional>
#include <vector>

#include "absl/strings/str_join.h"
#include "ops/concat.h"
#include "ops/registry.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace tensor_ops {
namespace {

// ---------------------------------------------------------------------------------------------
// Concat and Split.

absl::Status InferConcat(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  std::optional<Shape> out;
  int axis = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Shape* s = KnownShape(ctx, i);
    if (!s) continue;
    if (!out) {
      out = *s;
      ASSIGN_OR_RETURN(axis,
                       Axis(ctx.attrs().GetInt("axis"), static_cast<int>(s->size()), "Concat"));
      for (int j = 0; j < ctx.num_inputs(); ++j) {
        if (!KnownShape(ctx, j)) (*out)[axis] = -1;
      }
      continue;
    }
    if (s->size() != out->size()) {
      return Bad("Concat", "inputs have different ranks: ", Str(*out), " and ", Str(*s));
    }
    for (size_t d = 0; d < s->size(); ++d) {
      int64_t& o = (*out)[d];
      if (static_cast<int>(d) == axis) {
        o = (o < 0 || (*s)[d] < 0) ? -1 : o + (*s)[d];
      } else if (o < 0) {
        o = (*s)[d];
      } else if ((*s)[d] >= 0 && (*s)[d] != o) {
        return Bad("Concat", "input shapes ", Str(*out), " and ", Str(*s), " differ off axis");
      }
    }
  }
  ctx.set_output(0, {dtype, out});
  return absl::OkStatus();
}

class ConcatKernel : public Kernel {
 public:
  explicit ConcatKernel(const KernelInfo& info) : axis_(info.attrs->GetInt("axis")) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(ConcatOperands c, CheckConcat(ctx, axis_));
    const DType dtype = c.inputs[0]->dtype();
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, dtype, c.out));
    const int64_t outer = PartialProduct(c.out, 0, c.axis);
    const int64_t inner = PartialProduct(c.out, c.axis + 1, c.out.size());
    return VisitStorage(dtype, "Concat", [&](auto tag) {
      using T = typename decltype(tag)::type;
      int64_t offset = 0;
      for (const Tensor* t : c.inputs) {
        const int64_t row = t->dim(c.axis) * inner;
        CopyRows(t->data<T>(), row, y->data<T>() + offset, c.out[c.axis] * inner, outer, row);
        offset += row;
      }
      return absl::OkStatus();
    });
  }

 private:
  int64_t axis_;
};

// The sizes of Split's outputs along the axis; dim may be -1 (inference). Without `split`, the
// outputs share dim evenly; with the attribute num_outputs (opset 18) each takes
// ceil(dim / outputs) and the last one what remains.
absl::StatusOr<Ints> SplitSizes(int64_t dim, const std::optional<Ints>& split, int outputs,
                                bool num_outputs) {
  if (split && !split->empty()) {
    if (static_cast<int>(split->size()) != outputs) {
      return Bad("Split", "split has ", split->size(), " entries for ", outputs, " outputs");
    }
    int64_t sum = 0;
    for (int64_t s : *split) {
      if (s < 0 || __builtin_add_overflow(sum, s, &sum)) {
        return Bad("Split", "invalid split sizes ", absl::StrJoin(*split, ","));
      }
    }
    if (dim >= 0 && sum != dim) {
      return Bad("Split", "split sizes ", absl::StrJoin(*split, ","), " do not sum to dim ", dim);
    }
    return *split;
  }
  if (outputs <= 0) return Bad("Split", "no outputs");
  if (dim < 0) return Ints(outputs, -1);
  if (num_outputs && dim % outputs != 0) {
    const int64_t chunk = (dim + outputs - 1) / outputs;
    if (chunk * (outputs - 1) >= dim) {
      return Bad("Split", "dim ", dim, " cannot be split into ", outputs, " non-empty chunks");
    }
    Ints sizes(outputs, chunk);
    sizes.back() = dim - chunk * (outputs - 1);
    return sizes;
  }
  if (dim % outputs != 0) {
    return Bad("Split", "dim ", dim, " cannot be split evenly into ", outputs, " outputs");
  }
  return Ints(outputs, dim / outputs);
}

absl::Status InferSplit(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  const Shape* in = KnownShape(ctx, 0);
  bool known;
  std::optional<Ints> split = InferIntsFromInputOrAttr(ctx, 1, "split", &known);
  for (int i = 0; i < ctx.num_outputs(); ++i) {
    ctx.set_output(i, UnknownDims(dtype, in ? static_cast<int64_t>(in->size()) : -1));
  }
  if (!in || !known) return absl::OkStatus();
  ASSIGN_OR_RETURN(int axis,
                   Axis(ctx.attrs().GetInt("axis"), static_cast<int>(in->size()), "Split"));
  ASSIGN_OR_RETURN(Ints sizes, SplitSizes((*in)[axis], split, ctx.num_outputs(),
                                          ctx.attrs().Has("num_outputs")));
  for (int i = 0; i < ctx.num_outputs(); ++i) {
    Shape out = *in;
    out[axis] = sizes[i];
    ctx.set_output(i, {dtype, out});
  }
  return absl::OkStatus();
}

class SplitKernel : public Kernel {
 public:
  explicit SplitKernel(const KernelInfo& info)
      : axis_(info.attrs->GetInt("axis")),
        split_(OptionalInts(*info.attrs, "split")),
        num_outputs_(info.attrs->Has("num_outputs")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(int axis, Axis(axis_, x->rank(), "Split"));
    ASSIGN_OR_RETURN(std::optional<Ints> split,
                     IntsFromInputOrAttr(ctx, 1, split_, "Split", "split"));
    ASSIGN_OR_RETURN(Ints sizes, SplitSizes(x->dim(axis), split, ctx.num_outputs(), num_outputs_));
    const int64_t outer = PartialProduct(x->shape(), 0, axis);
    const int64_t inner = PartialProduct(x->shape(), axis + 1, x->rank());
    const int64_t in_row = x->dim(axis) * inner;
    return VisitStorage(x->dtype(), "Split", [&](auto tag) {
      using T = typename decltype(tag)::type;
      int64_t offset = 0;
      for (int i = 0; i < ctx.num_outputs(); ++i) {
        Shape out = x->shape();
        out[axis] = sizes[i];
        ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(i, x->dtype(), out));
        const int64_t row = sizes[i] * inner;
        CopyRows(x->data<T>() + offset, in_row, y->data<T>(), row, outer, row);
        offset += row;
      }
      return absl::OkStatus();
    });
  }

 private:
  int64_t axis_;
  std::optional<Ints> split_;
  bool num_outputs_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registrations.

CORTADO_REGISTER_OP(OpSchema("Concat")
                        .Versions(4)
                        .Inputs(1, 1 << 20)
                        .RequiredAttr("axis", AttrType::kInt)
                        .Infer(InferConcat));
CORTADO_REGISTER_OP(OpSchema("Concat")  // opsets 1-3: axis defaults to 1
                        .Versions(1, 3)
                        .Inputs(1, 1 << 20)
                        .Attr("axis", int64_t{1})
                        .Infer(InferConcat));
CORTADO_REGISTER_KERNEL("Concat", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<ConcatKernel>());

CORTADO_REGISTER_OP(OpSchema("Split")
                        .Versions(2)
                        .Inputs(1, 2)
                        .Outputs(1, 1 << 20)
                        .Attr("axis", int64_t{0})
                        .OptionalAttr("split", AttrType::kInts)
                        .OptionalAttr("num_outputs", AttrType::kInt)  // opset 18
                        .Infer(InferSplit));
CORTADO_REGISTER_KERNEL("Split", kCpuBackend, 2, kMaxOpset, AnyType(), MakeFactory<SplitKernel>());

}  // namespace tensor_ops

absl::StatusOr<ConcatOperands> CheckConcat(const KernelContext& ctx, int64_t axis) {
  using tensor_ops::Bad;
  using tensor_ops::Str;
  ASSIGN_OR_RETURN(const Tensor* first, ctx.RequiredInput(0));
  const int rank = first->rank();
  ConcatOperands c;
  ASSIGN_OR_RETURN(c.axis, tensor_ops::Axis(axis, rank, "Concat"));
  c.out = first->shape();
  c.out[c.axis] = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    ASSIGN_OR_RETURN(const Tensor* t, ctx.RequiredInput(i));
    if (t->dtype() != first->dtype() || t->rank() != rank) {
      return Bad("Concat", "input ", i, " is ", DTypeName(t->dtype()), Str(t->shape()),
                 ", expected ", DTypeName(first->dtype()), " of rank ", rank);
    }
    for (int d = 0; d < rank; ++d) {
      if (d != c.axis && t->dim(d) != first->dim(d)) {
        return Bad("Concat", "input shapes ", Str(first->shape()), " and ", Str(t->shape()),
                   " differ off axis ", c.axis);
      }
    }
    c.out[c.axis] += t->dim(c.axis);
    c.inputs.push_back(t);
  }
  return c;
}

}  // namespace cortado
