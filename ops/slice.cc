// The tensor family's Slice, Pad (constant, reflect, edge and wrap modes; axes from opset 18) and
// CenterCropPad (18).
// Part of the tensor family (ops/tensor_util.h holds its shared helpers). Most kernels move
// elements without looking at them, so they dispatch on the storage of a dtype (an unsigned
// integer of the element's size, or std::string) and serve every dtype with one code path.
// Out-of-range indices are errors, never out-of-bounds accesses.
#include "ops/slice.h"

#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "ops/registry.h"
#include "ops/tensor_util.h"

namespace cortado {

using tensor_ops::Ints;

absl::StatusOr<std::vector<SliceDim>> SliceDims(const Shape& in, const Ints& starts,
                                                const Ints& ends,
                                                const std::optional<Ints>& axes_in,
                                                const std::optional<Ints>& steps_in) {
  using tensor_ops::Bad;
  using tensor_ops::NormalizeAxes;
  const int rank = static_cast<int>(in.size());
  std::vector<SliceDim> dims(rank);
  for (int d = 0; d < rank; ++d) dims[d] = {0, 1, in[d]};
  const size_t n = starts.size();
  Ints axes(n);
  std::iota(axes.begin(), axes.end(), 0);
  if (axes_in && !axes_in->empty()) axes = *axes_in;
  const Ints steps = (steps_in && !steps_in->empty()) ? *steps_in : Ints(n, 1);
  if (ends.size() != n || axes.size() != n || steps.size() != n) {
    return Bad("Slice", "starts, ends, axes and steps must have the same length (", n, ", ",
               ends.size(), ", ", axes.size(), ", ", steps.size(), ")");
  }
  ASSIGN_OR_RETURN(std::vector<int> norm, NormalizeAxes(axes, rank, "Slice"));
  for (size_t i = 0; i < n; ++i) {
    const int64_t dim = in[norm[i]];
    if (steps[i] == 0) return Bad("Slice", "step must not be 0");
    // A step longer than the dim takes at most one element: clamp it so nothing overflows.
    const int64_t step = dim < 0 ? steps[i] : std::clamp<int64_t>(steps[i], -dim - 1, dim + 1);
    if (dim < 0) {
      dims[norm[i]] = {0, step, -1};
      continue;
    }
    int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t end = ends[i] < 0 ? ends[i] + dim : ends[i];
    int64_t count;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
      count = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
      count = start > end ? (start - end - step - 1) / -step : 0;
    }
    dims[norm[i]] = {start, step, count};
  }
  return dims;
}

namespace tensor_ops {
namespace {

// ---------------------------------------------------------------------------------------------
// Slice and Pad.

absl::Status InferSlice(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  const Shape* in = KnownShape(ctx, 0);
  if (!in) {
    ctx.set_output(0, UnknownDims(dtype, -1));
    return absl::OkStatus();
  }
  std::optional<Ints> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    starts = ctx.attrs().GetInts("starts");
    ends = ctx.attrs().GetInts("ends");
    axes = OptionalInts(ctx.attrs(), "axes");
  } else {
    starts = ConstInts(ctx, 1);
    ends = ConstInts(ctx, 2);
    axes = ctx.has_input(3) ? ConstInts(ctx, 3) : Ints();
    steps = ctx.has_input(4) ? ConstInts(ctx, 4) : Ints();
    if (!starts || !ends || !axes || !steps) {
      ctx.set_output(0, UnknownDims(dtype, static_cast<int64_t>(in->size())));
      return absl::OkStatus();
    }
  }
  ASSIGN_OR_RETURN(std::vector<SliceDim> dims, SliceDims(*in, *starts, *ends, axes, steps));
  Shape out;
  for (const SliceDim& d : dims) out.push_back(d.count);
  ctx.set_output(0, {dtype, out});
  return absl::OkStatus();
}

class SliceKernel : public Kernel {
 public:
  explicit SliceKernel(const KernelInfo& info) : opset_(info.opset) {
    if (opset_ < 10) {
      starts_ = info.attrs->GetInts("starts");
      ends_ = info.attrs->GetInts("ends");
      axes_ = OptionalInts(*info.attrs, "axes");
    }
  }
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    Ints starts = starts_, ends = ends_;
    std::optional<Ints> axes = axes_, steps;
    if (opset_ >= 10) {
      ASSIGN_OR_RETURN(const Tensor* s, ctx.RequiredInput(1));
      ASSIGN_OR_RETURN(const Tensor* e, ctx.RequiredInput(2));
      ASSIGN_OR_RETURN(starts, IntValues(*s, "Slice", "starts"));
      ASSIGN_OR_RETURN(ends, IntValues(*e, "Slice", "ends"));
      ASSIGN_OR_RETURN(axes, IntsFromInputOrAttr(ctx, 3, std::nullopt, "Slice", "axes"));
      ASSIGN_OR_RETURN(steps, IntsFromInputOrAttr(ctx, 4, std::nullopt, "Slice", "steps"));
    }
    ASSIGN_OR_RETURN(std::vector<SliceDim> dims, SliceDims(x->shape(), starts, ends, axes, steps));
    const std::vector<int64_t> strides = Strides(x->shape());
    Shape out(x->rank());
    OffsetTables tables(x->rank());
    for (int d = 0; d < x->rank(); ++d) {
      out[d] = dims[d].count;
      tables[d] = AffineTable(out[d], dims[d].start * strides[d], dims[d].step * strides[d]);
    }
    return RunTables(ctx, *x, out, out, tables, "Slice");
  }

 private:
  int opset_;
  Ints starts_, ends_;
  std::optional<Ints> axes_;
};

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// Larger pads could only make outputs of more elements than a tensor may hold.
constexpr int64_t kMaxPad = int64_t{1} << 40;

absl::StatusOr<Shape> PadShape(const Shape& in, const Ints& pads) {
  const size_t rank = in.size();
  if (pads.size() != 2 * rank) {
    return Bad("Pad", "pads has ", pads.size(), " entries, expected ", 2 * rank, " for ", Str(in));
  }
  for (int64_t p : pads) {
    if (p < -kMaxPad || p > kMaxPad) return Bad("Pad", "pad ", p, " is out of range");
  }
  Shape out(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (in[d] < 0) {
      out[d] = -1;
      continue;
    }
    if (__builtin_add_overflow(in[d], pads[d], &out[d]) ||
        __builtin_add_overflow(out[d], pads[d + rank], &out[d])) {
      return Bad("Pad", "pads ", absl::StrJoin(pads, ","), " are too large");
    }
    if (out[d] < 0) {
      return Bad("Pad", "pads ", absl::StrJoin(pads, ","), " remove more than input ", Str(in));
    }
  }
  return out;
}

// Pad-18's `axes`: pads holds 2 * axes.size() entries (begins, then ends) for those axes only;
// the result is the full 2 * rank list, zero on the other axes.
absl::StatusOr<Ints> PadsOnAxes(const Ints& pads, const Ints& axes, int rank) {
  if (pads.size() != 2 * axes.size()) {
    return Bad("Pad", "pads has ", pads.size(), " entries for ", axes.size(), " axes");
  }
  Ints full(2 * rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    ASSIGN_OR_RETURN(int axis, Axis(axes[i], rank, "Pad"));
    full[axis] = pads[i];
    full[axis + rank] = pads[i + axes.size()];
  }
  return full;
}

absl::Status InferPad(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  const Shape* in = KnownShape(ctx, 0);
  std::optional<Ints> pads =
      ctx.opset() < 11 ? std::optional<Ints>(ctx.attrs().GetInts("pads")) : ConstInts(ctx, 1);
  if (in && pads && ctx.has_input(3)) {
    std::optional<Ints> axes = ConstInts(ctx, 3);
    if (axes) {
      ASSIGN_OR_RETURN(pads, PadsOnAxes(*pads, *axes, static_cast<int>(in->size())));
    } else {
      pads.reset();
    }
  }
  if (!in || !pads) {
    ctx.set_output(0, UnknownDims(dtype, in ? static_cast<int64_t>(in->size()) : -1));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Shape out, PadShape(*in, *pads));
  ctx.set_output(0, {dtype, out});
  return absl::OkStatus();
}

// Output 0 = x padded by `pads` (begins, then ends; negative pads crop) in `mode`.
absl::Status PadInto(KernelContext& ctx, const Tensor& x, const Ints& pads, PadMode mode,
                     const Tensor& fill) {
  ASSIGN_OR_RETURN(Shape out, PadShape(x.shape(), pads));
  RETURN_IF_ERROR(ValidateShape(out));
  ASSIGN_OR_RETURN(bool empty, AllocatedIfEmpty(ctx, x.dtype(), out));
  if (empty) return absl::OkStatus();
  const std::vector<int64_t> strides = Strides(x.shape());
  const int rank = x.rank();
  OffsetTables tables(rank);
  for (int d = 0; d < rank; ++d) {
    const int64_t n = x.dim(d), begin = pads[d];
    if (mode != PadMode::kConstant && n == 0 && out[d] > 0) {
      return Bad("Pad", "cannot pad an empty dim except in constant mode");
    }
    tables[d].resize(out[d]);
    for (int64_t j = 0; j < out[d]; ++j) {
      int64_t i = j - begin;
      if (mode == PadMode::kConstant) {
        if (i < 0 || i >= n) {
          tables[d][j] = -1;
          continue;
        }
      } else if (mode == PadMode::kWrap) {
        i %= n;
        if (i < 0) i += n;
      } else if (mode == PadMode::kEdge || n == 1) {
        i = std::clamp<int64_t>(i, 0, n - 1);
      } else {
        const int64_t period = 2 * (n - 1);
        i %= period;
        if (i < 0) i += period;
        if (i >= n) i = period - i;
      }
      tables[d][j] = i * strides[d];
    }
  }
  return RunTables(ctx, x, out, out, tables, "Pad", &fill);
}

class PadKernel : public Kernel {
 public:
  explicit PadKernel(const KernelInfo& info)
      : opset_(info.opset),
        mode_name_(info.attrs->GetString("mode", "constant")),
        pads_(info.attrs->GetInts("pads")),
        value_(info.attrs->GetFloat("value")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    PadMode mode;
    if (mode_name_ == "constant") {
      mode = PadMode::kConstant;
    } else if (mode_name_ == "reflect") {
      mode = PadMode::kReflect;
    } else if (mode_name_ == "edge") {
      mode = PadMode::kEdge;
    } else if (mode_name_ == "wrap" && opset_ >= 19) {
      mode = PadMode::kWrap;
    } else {
      return Bad("Pad", "unsupported mode '", mode_name_, "'");
    }
    Ints pads = pads_;
    Tensor fill = ScalarOf(x->dtype(), value_);
    if (opset_ >= 11) {
      ASSIGN_OR_RETURN(const Tensor* p, ctx.RequiredInput(1));
      ASSIGN_OR_RETURN(pads, IntValues(*p, "Pad", "pads"));
      const Tensor* cv = ctx.input(2);
      if (cv != nullptr && cv->defined() && cv->num_elements() > 0) {
        if (cv->dtype() != x->dtype() || cv->num_elements() != 1) {
          return Bad("Pad", "constant_value must be one ", DTypeName(x->dtype()), ", got ",
                     DTypeName(cv->dtype()), Str(cv->shape()));
        }
        fill = *cv;
      }
      const Tensor* axes = ctx.input(3);
      if (axes != nullptr && axes->defined()) {
        ASSIGN_OR_RETURN(Ints axis_list, IntValues(*axes, "Pad", "axes"));
        ASSIGN_OR_RETURN(pads, PadsOnAxes(pads, axis_list, x->rank()));
      }
    }
    return PadInto(ctx, *x, pads, mode, fill);
  }

 private:
  int opset_;
  std::string mode_name_;
  Ints pads_;
  float value_;
};

// CenterCropPad (opset 18): each of `axes` (default all) centred in the target size, cropped
// (the window starting half a step left) or zero-padded (the extra element on the right).
absl::StatusOr<Ints> CenterCropPads(const Shape& in, const Ints& target, const Ints& axes) {
  const int rank = static_cast<int>(in.size());
  Ints axis_list = axes;
  if (axis_list.empty()) {
    for (int d = 0; d < rank; ++d) axis_list.push_back(d);
  }
  if (target.size() != axis_list.size()) {
    return Bad("CenterCropPad", "shape has ", target.size(), " entries for ", axis_list.size(),
               " axes");
  }
  Ints pads(2 * rank, 0);
  for (size_t i = 0; i < axis_list.size(); ++i) {
    ASSIGN_OR_RETURN(int axis, Axis(axis_list[i], rank, "CenterCropPad"));
    if (target[i] < 0) return Bad("CenterCropPad", "negative target size ", target[i]);
    if (in[axis] < 0) return Bad("CenterCropPad", "unknown input dim");
    const int64_t diff = target[i] - in[axis];
    // Cropping: begin -floor(|diff| / 2); padding: begin floor(diff / 2); the end takes the rest.
    const int64_t begin = diff >= 0 ? diff / 2 : -((-diff) / 2);
    pads[axis] = begin;
    pads[axis + rank] = diff - begin;
  }
  return pads;
}

absl::Status InferCenterCropPad(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  const Shape* in = KnownShape(ctx, 0);
  std::optional<Ints> target = ConstInts(ctx, 1);
  if (!in || !target || std::count(in->begin(), in->end(), -1) > 0) {
    ctx.set_output(0, UnknownDims(dtype, in ? static_cast<int64_t>(in->size()) : -1));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Ints pads, CenterCropPads(*in, *target, ctx.attrs().GetInts("axes")));
  ASSIGN_OR_RETURN(Shape out, PadShape(*in, pads));
  ctx.set_output(0, {dtype, out});
  return absl::OkStatus();
}

class CenterCropPadKernel : public Kernel {
 public:
  explicit CenterCropPadKernel(const KernelInfo& info) : axes_(info.attrs->GetInts("axes")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* shape, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(Ints target, IntValues(*shape, "CenterCropPad", "shape"));
    ASSIGN_OR_RETURN(Ints pads, CenterCropPads(x->shape(), target, axes_));
    return PadInto(ctx, *x, pads, PadMode::kConstant, ScalarOf(x->dtype(), 0));
  }

 private:
  Ints axes_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registrations.

CORTADO_REGISTER_OP(OpSchema("Slice")
                        .Versions(1)
                        .Inputs(1, 5)
                        .OptionalAttr("starts", AttrType::kInts)
                        .OptionalAttr("ends", AttrType::kInts)
                        .OptionalAttr("axes", AttrType::kInts)
                        .Infer(InferSlice));
CORTADO_REGISTER_KERNEL("Slice", kCpuBackend, 1, kMaxOpset, AnyType(), MakeFactory<SliceKernel>());

CORTADO_REGISTER_OP(OpSchema("Pad")
                        .Versions(2)
                        .Inputs(1, 4)  // axes (input 3) from opset 18
                        .Attr("mode", std::string("constant"))
                        .OptionalAttr("pads", AttrType::kInts)
                        .Attr("value", 0.0f)
                        .Infer(InferPad));
CORTADO_REGISTER_KERNEL("Pad", kCpuBackend, 2, kMaxOpset, AnyType(), MakeFactory<PadKernel>());

CORTADO_REGISTER_OP(OpSchema("CenterCropPad")
                        .Versions(18)
                        .Inputs(2, 2)
                        .OptionalAttr("axes", AttrType::kInts)
                        .Infer(InferCenterCropPad));
CORTADO_REGISTER_KERNEL("CenterCropPad", kCpuBackend, 18, kMaxOpset, AnyType(),
                        MakeFactory<CenterCropPadKernel>());

}  // namespace tensor_ops
}  // namespace cortado
