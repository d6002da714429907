// Sequence and optional operators: SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceAt,
// SequenceErase, SequenceLength, SplitToSequence, ConcatFromSequence, Optional,
// OptionalHasElement, OptionalGetElement. Their non-tensor inputs and outputs are Values
// (value.h). A tensor put into a sequence is copied, so that a sequence never points into a
// run's arena (predictor/memory_plan.h), whose bytes are reused once the tensor's lifetime ends.
// Joining and splitting reuse the Concat, Unsqueeze and Split kernels through RunOp.
#include "ops/sequence.h"

#include "ops/registry.h"
#include "ops/run_op.h"
#include "ops/tensor_util.h"

namespace cortado {

using tensor_ops::AnyType;
using tensor_ops::Axis;
using tensor_ops::Bad;
using tensor_ops::Ints;

absl::StatusOr<Tensor> ConcatTensors(const std::vector<Tensor>& tensors, int64_t axis,
                                     bool new_axis) {
  if (tensors.empty()) return Bad("ConcatFromSequence", "the sequence is empty");
  OpRun concat{"Concat", 13, {}, {}, 1};
  concat.attrs.Set("axis", axis);
  if (!new_axis) {
    concat.inputs = tensors;
  } else {
    // The new axis counts in the output's rank: -1 is after the last input axis.
    const int rank = tensors[0].rank() + 1;
    ASSIGN_OR_RETURN(const int at, Axis(axis, rank, "ConcatFromSequence"));
    concat.attrs.Set("axis", static_cast<int64_t>(at));
    for (const Tensor& t : tensors) {
      OpRun unsqueeze{"Unsqueeze", 13, {}, {t, Tensor::FromVector<int64_t>({at}, {1})}, 1};
      ASSIGN_OR_RETURN(std::vector<Tensor> out, RunOp(unsqueeze));
      concat.inputs.push_back(std::move(out[0]));
    }
  }
  ASSIGN_OR_RETURN(std::vector<Tensor> out, RunOp(concat));
  return std::move(out[0]);
}

namespace {

// x split along `axis` into pieces of `sizes`, squeezed along it when `squeeze` (every size 1).
absl::StatusOr<std::vector<Tensor>> SplitTensor(const Tensor& x, int axis, const Ints& sizes,
                                                bool squeeze) {
  if (sizes.empty()) return std::vector<Tensor>{};
  OpRun split{"Split",
              13,
              {},
              {x, Tensor::FromVector<int64_t>(sizes, {static_cast<int64_t>(sizes.size())})},
              static_cast<int>(sizes.size())};
  split.attrs.Set("axis", static_cast<int64_t>(axis));
  ASSIGN_OR_RETURN(std::vector<Tensor> pieces, RunOp(split));
  for (Tensor& piece : pieces) {
    if (squeeze) {
      Shape shape = piece.shape();
      shape.erase(shape.begin() + axis);
      ASSIGN_OR_RETURN(piece, piece.Reshaped(shape));
    }
  }
  return pieces;
}

}  // namespace

absl::StatusOr<std::vector<Tensor>> Unstack(const Tensor& x, int64_t axis) {
  ASSIGN_OR_RETURN(const int a, Axis(axis, x.rank(), "Unstack"));
  return SplitTensor(x, a, Ints(x.dim(a), 1), /*squeeze=*/true);
}

namespace {

// Input `i` as a sequence, or InvalidArgument naming what it is instead.
absl::StatusOr<const Value*> SequenceInput(const KernelContext& ctx, int i, absl::string_view op) {
  const Value* v = ctx.value(i);
  if (v == nullptr || !v->is_sequence()) {
    return Bad(op, "input ", i, " must be a sequence, got ",
               v == nullptr ? "nothing" : KindName(v->kind));
  }
  return v;
}

// The optional position input `i` (a scalar integer) against a sequence of `size`, where
// `size` itself is allowed when `insert`; `def` when the input is absent.
absl::StatusOr<int64_t> Position(const KernelContext& ctx, int i, int64_t size, bool insert,
                                 int64_t def, absl::string_view op) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr) return def;
  if (t->num_elements() != 1) return Bad(op, "position must be a scalar");
  const int64_t p = static_cast<int64_t>(t->ElementAsDouble(0));
  const int64_t end = insert ? size : size - 1;
  if (p < -size || p > end) {
    return Bad(op, "position ", p, " is out of range [", -size, ", ", end, "]");
  }
  return p < 0 ? p + size : p;
}

absl::Status CheckElementType(const Value& seq, const Tensor& t, absl::string_view op) {
  if (seq.elem_dtype != DType::kUndefined && seq.elem_dtype != t.dtype()) {
    return Bad(op, "a sequence of ", DTypeName(seq.elem_dtype), " cannot take a ",
               DTypeName(t.dtype()), " tensor");
  }
  return absl::OkStatus();
}

class SequenceEmptyKernel : public Kernel {
 public:
  explicit SequenceEmptyKernel(const KernelInfo& info)
      : dtype_(tensor_ops::DTypeFromOnnx(info.attrs->GetInt("dtype", 1), "SequenceEmpty")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    RETURN_IF_ERROR(dtype_.status());
    ctx.SetValue(0, Value::Sequence({}, *dtype_));
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<DType> dtype_;
};

class SequenceConstructKernel : public Kernel {
 public:
  explicit SequenceConstructKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    std::vector<Tensor> elements;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      ASSIGN_OR_RETURN(const Tensor* t, ctx.RequiredInput(i));
      if (t->dtype() != ctx.input(0)->dtype()) {
        return Bad("SequenceConstruct", "input ", i, " is ", DTypeName(t->dtype()), ", input 0 is ",
                   DTypeName(ctx.input(0)->dtype()));
      }
      elements.push_back(t->Clone());
    }
    ctx.SetValue(0, Value::Sequence(std::move(elements), ctx.input(0)->dtype()));
    return absl::OkStatus();
  }
};

class SequenceInsertKernel : public Kernel {
 public:
  explicit SequenceInsertKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Value* seq, SequenceInput(ctx, 0, "SequenceInsert"));
    ASSIGN_OR_RETURN(const Tensor* t, ctx.RequiredInput(1));
    RETURN_IF_ERROR(CheckElementType(*seq, *t, "SequenceInsert"));
    const int64_t size = static_cast<int64_t>(seq->elements.size());
    ASSIGN_OR_RETURN(int64_t at, Position(ctx, 2, size, true, size, "SequenceInsert"));
    Value out = *seq;
    out.elem_dtype = t->dtype();
    out.elements.insert(out.elements.begin() + at, t->Clone());
    ctx.SetValue(0, std::move(out));
    return absl::OkStatus();
  }
};

class SequenceAtKernel : public Kernel {
 public:
  explicit SequenceAtKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Value* seq, SequenceInput(ctx, 0, "SequenceAt"));
    const int64_t size = static_cast<int64_t>(seq->elements.size());
    if (ctx.input(1) == nullptr) return Bad("SequenceAt", "position is required");
    ASSIGN_OR_RETURN(int64_t at, Position(ctx, 1, size, false, 0, "SequenceAt"));
    ctx.SetOutput(0, seq->elements[at]);
    return absl::OkStatus();
  }
};

class SequenceEraseKernel : public Kernel {
 public:
  explicit SequenceEraseKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Value* seq, SequenceInput(ctx, 0, "SequenceErase"));
    const int64_t size = static_cast<int64_t>(seq->elements.size());
    if (size == 0) return Bad("SequenceErase", "the sequence is empty");
    ASSIGN_OR_RETURN(int64_t at, Position(ctx, 1, size, false, size - 1, "SequenceErase"));
    Value out = *seq;
    out.elements.erase(out.elements.begin() + at);
    ctx.SetValue(0, std::move(out));
    return absl::OkStatus();
  }
};

class SequenceLengthKernel : public Kernel {
 public:
  explicit SequenceLengthKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Value* seq, SequenceInput(ctx, 0, "SequenceLength"));
    ctx.SetOutput(0, Tensor::Scalar<int64_t>(static_cast<int64_t>(seq->elements.size())));
    return absl::OkStatus();
  }
};

class SplitToSequenceKernel : public Kernel {
 public:
  explicit SplitToSequenceKernel(const KernelInfo& info)
      : axis_(info.attrs->GetInt("axis", 0)), keepdims_(info.attrs->GetInt("keepdims", 1) != 0) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const int axis, Axis(axis_, x->rank(), "SplitToSequence"));
    const int64_t dim = x->dim(axis);
    const Tensor* split = ctx.input(1);
    Ints sizes;
    if (split == nullptr) {  // pieces of one, squeezed unless keepdims
      sizes.assign(dim, 1);
    } else {
      ASSIGN_OR_RETURN(Ints given, tensor_ops::IntValues(*split, "SplitToSequence", "split"));
      if (split->rank() == 0) {  // pieces of that size, the last one what remains
        if (given[0] <= 0) return Bad("SplitToSequence", "split ", given[0], " must be positive");
        for (int64_t at = 0; at < dim; at += given[0])
          sizes.push_back(std::min(given[0], dim - at));
      } else {
        sizes = given;
        int64_t sum = 0;
        for (int64_t s : sizes) {
          if (s < 0) return Bad("SplitToSequence", "split sizes must not be negative");
          sum += s;
        }
        if (sum != dim) {
          return Bad("SplitToSequence", "split sizes sum to ", sum, ", the axis has ", dim);
        }
      }
    }
    ASSIGN_OR_RETURN(std::vector<Tensor> pieces,
                     SplitTensor(*x, axis, sizes, split == nullptr && !keepdims_));
    ctx.SetValue(0, Value::Sequence(std::move(pieces), x->dtype()));
    return absl::OkStatus();
  }

 private:
  int64_t axis_;
  bool keepdims_;
};

class ConcatFromSequenceKernel : public Kernel {
 public:
  explicit ConcatFromSequenceKernel(const KernelInfo& info)
      : axis_(info.attrs->GetInt("axis")), new_axis_(info.attrs->GetInt("new_axis", 0) != 0) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Value* seq, SequenceInput(ctx, 0, "ConcatFromSequence"));
    ASSIGN_OR_RETURN(Tensor out, ConcatTensors(seq->elements, axis_, new_axis_));
    ctx.SetOutput(0, std::move(out));
    return absl::OkStatus();
  }

 private:
  int64_t axis_;
  bool new_axis_;
};

// Optional(x) is x; Optional() is an optional without element.
class OptionalKernel : public Kernel {
 public:
  explicit OptionalKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    const Value* v = ctx.value(0);
    if (v != nullptr) {
      ctx.SetValue(0, *v);
    } else if (ctx.input(0) != nullptr) {
      ctx.SetOutput(0, *ctx.input(0));
    } else {
      ctx.SetValue(0, Value::None());
    }
    return absl::OkStatus();
  }
};

class OptionalHasElementKernel : public Kernel {
 public:
  explicit OptionalHasElementKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    const Value* v = ctx.value(0);
    const bool has = v != nullptr ? v->kind != Value::Kind::kNone : ctx.input(0) != nullptr;
    ctx.SetOutput(0, Tensor::Scalar<bool>(has));
    return absl::OkStatus();
  }
};

class OptionalGetElementKernel : public Kernel {
 public:
  explicit OptionalGetElementKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    const Value* v = ctx.value(0);
    if (v != nullptr && v->kind != Value::Kind::kNone) {
      ctx.SetValue(0, *v);
    } else if (v == nullptr && ctx.input(0) != nullptr) {
      ctx.SetOutput(0, *ctx.input(0));
    } else {
      return Bad("OptionalGetElement", "the optional has no element");
    }
    return absl::OkStatus();
  }
};

absl::Status InferLength(InferenceContext& ctx) {
  ctx.set_output(0, {DType::kInt64, Shape{}});
  return absl::OkStatus();
}

absl::Status InferHasElement(InferenceContext& ctx) {
  ctx.set_output(0, {DType::kBool, Shape{}});
  return absl::OkStatus();
}

absl::Status InferSequenceAt(InferenceContext& ctx) {  // the element type, when known
  ctx.set_output(0, {ctx.input(0).dtype, std::nullopt});
  return absl::OkStatus();
}

}  // namespace

// Sequence values carry their element dtype in static types too (TensorType::dtype), shape
// unknown; outputs without an Infer stay unknown.
CORTADO_REGISTER_OP(OpSchema("SequenceEmpty").Versions(11).Inputs(0, 0).Attr("dtype", int64_t{1}));
CORTADO_REGISTER_OP(OpSchema("SequenceConstruct").Versions(11).Inputs(1, 1 << 20));
CORTADO_REGISTER_OP(OpSchema("SequenceInsert").Versions(11).Inputs(2, 3));
CORTADO_REGISTER_OP(OpSchema("SequenceAt").Versions(11).Inputs(2, 2).Infer(InferSequenceAt));
CORTADO_REGISTER_OP(OpSchema("SequenceErase").Versions(11).Inputs(1, 2));
CORTADO_REGISTER_OP(OpSchema("SequenceLength").Versions(11).Inputs(1, 1).Infer(InferLength));
CORTADO_REGISTER_OP(OpSchema("SplitToSequence")
                        .Versions(11)
                        .Inputs(1, 2)
                        .Attr("axis", int64_t{0})
                        .Attr("keepdims", int64_t{1}));
CORTADO_REGISTER_OP(OpSchema("ConcatFromSequence")
                        .Versions(11)
                        .Inputs(1, 1)
                        .RequiredAttr("axis", AttrType::kInt)
                        .Attr("new_axis", int64_t{0}));
CORTADO_REGISTER_OP(OpSchema("Optional").Versions(15).Inputs(0, 1));
CORTADO_REGISTER_OP(
    OpSchema("OptionalHasElement").Versions(15).Inputs(0, 1).Infer(InferHasElement));
CORTADO_REGISTER_OP(OpSchema("OptionalGetElement").Versions(15).Inputs(1, 1));

CORTADO_REGISTER_KERNEL("SequenceEmpty", kCpuBackend, 11, kMaxOpset, AnyType(),
                        MakeFactory<SequenceEmptyKernel>());
CORTADO_REGISTER_KERNEL("SequenceConstruct", kCpuBackend, 11, kMaxOpset, AnyType(),
                        MakeFactory<SequenceConstructKernel>());
CORTADO_REGISTER_KERNEL("SequenceInsert", kCpuBackend, 11, kMaxOpset, AnyType(),
                        MakeFactory<SequenceInsertKernel>());
CORTADO_REGISTER_KERNEL("SequenceAt", kCpuBackend, 11, kMaxOpset, AnyType(),
                        MakeFactory<SequenceAtKernel>());
CORTADO_REGISTER_KERNEL("SequenceErase", kCpuBackend, 11, kMaxOpset, AnyType(),
                        MakeFactory<SequenceEraseKernel>());
CORTADO_REGISTER_KERNEL("SequenceLength", kCpuBackend, 11, kMaxOpset, AnyType(),
                        MakeFactory<SequenceLengthKernel>());
CORTADO_REGISTER_KERNEL("SplitToSequence", kCpuBackend, 11, kMaxOpset, AnyType(),
                        MakeFactory<SplitToSequenceKernel>());
CORTADO_REGISTER_KERNEL("ConcatFromSequence", kCpuBackend, 11, kMaxOpset, AnyType(),
                        MakeFactory<ConcatFromSequenceKernel>());
CORTADO_REGISTER_KERNEL("Optional", kCpuBackend, 15, kMaxOpset, AnyType(),
                        MakeFactory<OptionalKernel>());
CORTADO_REGISTER_KERNEL("OptionalHasElement", kCpuBackend, 15, kMaxOpset, AnyType(),
                        MakeFactory<OptionalHasElementKernel>());
CORTADO_REGISTER_KERNEL("OptionalGetElement", kCpuBackend, 15, kMaxOpset, AnyType(),
                        MakeFactory<OptionalGetElementKernel>());

}  // namespace cortado
