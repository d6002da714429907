// The tensor family, shape and copy operators: Reshape, Flatten, Squeeze, Unsqueeze, Identity,
// Transpose, Expand, Tile, DepthToSpace, SpaceToDepth, Slice, Pad, Concat, Split, Cast,
// CastLike, Shape, Size, Constant, ConstantOfShape, Range, EyeLike, Trilu, Dropout. The indexing
// operators (Gather*, Scatter*, OneHot, NonZero, Compress, ReverseSequence) live in gather.cc,
// Resize and Upsample in resize.cc, their shared helpers in tensor_util.h.
//
// Most kernels move elements without looking at them, so they dispatch on the storage of a dtype
// (an unsigned integer of the element's size, or std::string) and serve every dtype with one
// code path. Out-of-range indices are errors, never out-of-bounds accesses.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

absl::Status InferReshape(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  std::optional<Ints> spec = ConstInts(ctx, 1);
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
      : allowzero_(info.attrs->GetInt("allowzero") != 0) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* s, ctx.RequiredInput(1));
    if (s->rank() != 1) return Bad("Reshape", "shape must be 1-D, got ", Str(s->shape()));
    ASSIGN_OR_RETURN(Ints spec, IntValues(*s, "Reshape", "shape"));
    ASSIGN_OR_RETURN(Shape out, ReshapeShape(x->shape(), spec, allowzero_));
    return SetView(ctx, *x, out);
  }

 private:
  bool allowzero_;
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
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ctx.SetOutput(0, *x);
    return absl::OkStatus();
  }
};

// ---------------------------------------------------------------------------------------------
// Transpose, Expand, Tile, DepthToSpace, SpaceToDepth: output element = input element at an
// offset that is a sum of per-dimension terms (GatherByTables).

absl::StatusOr<std::vector<int>> TransposePerm(const Ints& perm_attr, int rank) {
  std::vector<int> perm(rank);
  if (perm_attr.empty()) {
    for (int d = 0; d < rank; ++d) perm[d] = rank - 1 - d;
    return perm;
  }
  if (static_cast<int>(perm_attr.size()) != rank) {
    return Bad("Transpose", "perm has ", perm_attr.size(), " entries for rank ", rank);
  }
  std::vector<bool> seen(rank, false);
  for (int d = 0; d < rank; ++d) {
    const int64_t p = perm_attr[d];
    if (p < 0 || p >= rank || seen[p]) {
      return Bad("Transpose", "perm ", absl::StrJoin(perm_attr, ","), " is not a permutation");
    }
    seen[p] = true;
    perm[d] = static_cast<int>(p);
  }
  return perm;
}

absl::Status InferTranspose(InferenceContext& ctx) {
  const Shape* in = KnownShape(ctx, 0);
  if (!in) {
    ctx.set_output(0, UnknownDims(ctx.input(0).dtype, -1));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::vector<int> perm,
                   TransposePerm(ctx.attrs().GetInts("perm"), static_cast<int>(in->size())));
  Shape out(in->size());
  for (size_t d = 0; d < out.size(); ++d) out[d] = (*in)[perm[d]];
  ctx.set_output(0, {ctx.input(0).dtype, out});
  return absl::OkStatus();
}

class TransposeKernel : public Kernel {
 public:
  explicit TransposeKernel(const KernelInfo& info) : perm_(info.attrs->GetInts("perm")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(std::vector<int> perm, TransposePerm(perm_, x->rank()));
    const std::vector<int64_t> strides = Strides(x->shape());
    Shape out(x->rank());
    OffsetTables tables(x->rank());
    for (int d = 0; d < x->rank(); ++d) {
      out[d] = x->dim(perm[d]);
      tables[d] = AffineTable(out[d], 0, strides[perm[d]]);
    }
    return RunTables(ctx, *x, out, out, tables, "Transpose");
  }

 private:
  Ints perm_;
};

// Tables reading `in` broadcast to `out` (numpy rules, `in` aligned to the right).
OffsetTables BroadcastTables(const Shape& in, const Shape& out) {
  const std::vector<int64_t> strides = Strides(in);
  const size_t lead = out.size() - in.size();
  OffsetTables tables(out.size());
  for (size_t d = 0; d < out.size(); ++d) {
    const bool broadcast = d < lead || in[d - lead] == 1;
    tables[d] = AffineTable(out[d], 0, broadcast ? 0 : strides[d - lead]);
  }
  return tables;
}

absl::Status InferExpand(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  std::optional<Ints> shape = ConstInts(ctx, 1);
  const Shape* in = KnownShape(ctx, 0);
  if (!shape || !in) {
    const int64_t n = LengthOf(ctx, 1);
    ctx.set_output(0, UnknownDims(dtype, (in && n >= 0) ? std::max<int64_t>(n, in->size()) : -1));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Shape out, BroadcastPartial(*in, *shape));
  ctx.set_output(0, {dtype, out});
  return absl::OkStatus();
}

class ExpandKernel : public Kernel {
 public:
  explicit ExpandKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* s, ctx.RequiredInput(1));
    if (s->rank() != 1) return Bad("Expand", "shape must be 1-D, got ", Str(s->shape()));
    ASSIGN_OR_RETURN(Ints shape, IntValues(*s, "Expand", "shape"));
    for (int64_t d : shape) {
      if (d < 0) return Bad("Expand", "negative dim in shape ", Str(shape));
    }
    absl::StatusOr<Shape> out = BroadcastShapes(x->shape(), shape);
    if (!out.ok()) return Bad("Expand", out.status().message());
    RETURN_IF_ERROR(ValidateShape(*out));
    ASSIGN_OR_RETURN(bool empty, AllocatedIfEmpty(ctx, x->dtype(), *out));
    if (empty) return absl::OkStatus();
    return RunTables(ctx, *x, *out, *out, BroadcastTables(x->shape(), *out), "Expand");
  }
};

absl::StatusOr<Shape> TileShape(const Shape& in, const Ints& repeats) {
  if (repeats.size() != in.size()) {
    return Bad("Tile", "repeats has ", repeats.size(), " entries for input ", Str(in));
  }
  Shape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    if (repeats[d] < 0) return Bad("Tile", "negative repeat ", repeats[d]);
    if (in[d] < 0) {
      out[d] = -1;
    } else if (__builtin_mul_overflow(in[d], repeats[d], &out[d])) {
      return Bad("Tile", "repeats ", Str(repeats), " of ", Str(in), " are too large");
    }
  }
  return out;
}

absl::Status InferTile(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  std::optional<Ints> repeats = ConstInts(ctx, 1);
  const Shape* in = KnownShape(ctx, 0);
  if (!repeats || !in) {
    ctx.set_output(0, UnknownDims(dtype, in ? static_cast<int64_t>(in->size()) : LengthOf(ctx, 1)));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Shape out, TileShape(*in, *repeats));
  ctx.set_output(0, {dtype, out});
  return absl::OkStatus();
}

class TileKernel : public Kernel {
 public:
  explicit TileKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* r, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(Ints repeats, IntValues(*r, "Tile", "repeats"));
    ASSIGN_OR_RETURN(Shape out, TileShape(x->shape(), repeats));
    RETURN_IF_ERROR(ValidateShape(out));
    ASSIGN_OR_RETURN(bool empty, AllocatedIfEmpty(ctx, x->dtype(), out));
    if (empty) return absl::OkStatus();
    // View the output as [r0, d0, r1, d1, ...]: the repeat index does not move in the input.
    const std::vector<int64_t> strides = Strides(x->shape());
    Shape view;
    OffsetTables tables;
    for (int d = 0; d < x->rank(); ++d) {
      view.insert(view.end(), {repeats[d], x->dim(d)});
      tables.push_back(AffineTable(repeats[d], 0, 0));
      tables.push_back(AffineTable(x->dim(d), 0, strides[d]));
    }
    return RunTables(ctx, *x, out, view, tables, "Tile");
  }
};

// DepthToSpace (kToSpace) and SpaceToDepth on NCHW input.
template <bool kToSpace>
absl::StatusOr<Shape> SpaceDepthShape(const Shape& in, int64_t bs, absl::string_view op) {
  if (in.size() != 4) return Bad(op, "input must be 4-D, got ", Str(in));
  if (bs <= 0 || bs > (1 << 20)) return Bad(op, "blocksize must be in [1, 2^20], got ", bs);
  const int64_t n = in[0], c = in[1], h = in[2], w = in[3];
  auto known = [](int64_t v, int64_t f) { return v < 0 ? int64_t{-1} : v * f; };
  if (kToSpace) {
    if (c >= 0 && c % (bs * bs) != 0) {
      return Bad(op, "channels ", c, " are not a multiple of blocksize^2 = ", bs * bs);
    }
    return Shape{n, c < 0 ? -1 : c / (bs * bs), known(h, bs), known(w, bs)};
  }
  if ((h >= 0 && h % bs != 0) || (w >= 0 && w % bs != 0)) {
    return Bad(op, "spatial dims of ", Str(in), " are not multiples of blocksize ", bs);
  }
  if (c > (int64_t{1} << 40)) return Bad(op, "too many channels in ", Str(in));
  return Shape{n, known(c, bs * bs), h < 0 ? -1 : h / bs, w < 0 ? -1 : w / bs};
}

template <bool kToSpace>
absl::Status InferSpaceDepth(InferenceContext& ctx) {
  const Shape* in = KnownShape(ctx, 0);
  if (!in) {
    ctx.set_output(0, UnknownDims(ctx.input(0).dtype, 4));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Shape out,
                   SpaceDepthShape<kToSpace>(*in, ctx.attrs().GetInt("blocksize"),
                                             kToSpace ? "DepthToSpace" : "SpaceToDepth"));
  ctx.set_output(0, {ctx.input(0).dtype, out});
  return absl::OkStatus();
}

template <bool kToSpace>
class SpaceDepthKernel : public Kernel {
 public:
  explicit SpaceDepthKernel(const KernelInfo& info)
      : bs_(info.attrs->GetInt("blocksize")), crd_(info.attrs->GetString("mode") == "CRD") {}
  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view kOp = kToSpace ? "DepthToSpace" : "SpaceToDepth";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(Shape out, SpaceDepthShape<kToSpace>(x->shape(), bs_, kOp));
    const int64_t n = x->dim(0), c = x->dim(1), h = x->dim(2), w = x->dim(3), b = bs_;
    Shape view;
    Ints strides;
    if (kToSpace) {
      // Output viewed as [N, C', H, b1, W, b2]; input channel = DCR: (b1*b + b2)*C' + c,
      // CRD: c*b*b + b1*b + b2.
      const int64_t cc = c / (b * b), hw = h * w;
      view = {n, cc, h, b, w, b};
      strides = crd_ ? Ints{c * hw, b * b * hw, w, b * hw, 1, hw}
                     : Ints{c * hw, hw, w, b * cc * hw, 1, cc * hw};
    } else {
      // Output viewed as [N, b1, b2, C, H', W'] (channel = (b1*b + b2)*C + c).
      view = {n, b, b, c, h / b, w / b};
      strides = {c * h * w, w, 1, h * w, b * w, b};
    }
    OffsetTables tables(6);
    for (int d = 0; d < 6; ++d) tables[d] = AffineTable(view[d], 0, strides[d]);
    return RunTables(ctx, *x, out, view, tables, kOp);
  }

 private:
  int64_t bs_;
  bool crd_;
};

// ---------------------------------------------------------------------------------------------
// Slice and Pad.

struct SliceDim {
  int64_t start = 0, step = 1, count = 0;
};

// Per-dimension slice of `in` (dims may be -1 for inference: count is -1 there).
absl::StatusOr<std::vector<SliceDim>> SliceDims(const Shape& in, const Ints& starts,
                                                const Ints& ends,
                                                const std::optional<Ints>& axes_in,
                                                const std::optional<Ints>& steps_in) {
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

enum class PadMode { kConstant, kReflect, kEdge };

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

absl::Status InferPad(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  const Shape* in = KnownShape(ctx, 0);
  std::optional<Ints> pads =
      ctx.opset() < 11 ? std::optional<Ints>(ctx.attrs().GetInts("pads")) : ConstInts(ctx, 1);
  if (!in || !pads) {
    ctx.set_output(0, UnknownDims(dtype, in ? static_cast<int64_t>(in->size()) : -1));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Shape out, PadShape(*in, *pads));
  ctx.set_output(0, {dtype, out});
  return absl::OkStatus();
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
    }
    ASSIGN_OR_RETURN(Shape out, PadShape(x->shape(), pads));
    RETURN_IF_ERROR(ValidateShape(out));
    ASSIGN_OR_RETURN(bool empty, AllocatedIfEmpty(ctx, x->dtype(), out));
    if (empty) return absl::OkStatus();
    const std::vector<int64_t> strides = Strides(x->shape());
    const int rank = x->rank();
    OffsetTables tables(rank);
    for (int d = 0; d < rank; ++d) {
      const int64_t n = x->dim(d), begin = pads[d];
      if (mode != PadMode::kConstant && n == 0 && out[d] > 0) {
        return Bad("Pad", "cannot pad an empty dim in ", mode_name_, " mode");
      }
      tables[d].resize(out[d]);
      for (int64_t j = 0; j < out[d]; ++j) {
        int64_t i = j - begin;
        if (mode == PadMode::kConstant) {
          if (i < 0 || i >= n) {
            tables[d][j] = -1;
            continue;
          }
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
    return RunTables(ctx, *x, out, out, tables, "Pad", &fill);
  }

 private:
  int opset_;
  std::string mode_name_;
  Ints pads_;
  float value_;
};

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
    ASSIGN_OR_RETURN(const Tensor* first, ctx.RequiredInput(0));
    const int rank = first->rank();
    ASSIGN_OR_RETURN(int axis, Axis(axis_, rank, "Concat"));
    Shape out = first->shape();
    out[axis] = 0;
    std::vector<const Tensor*> ins;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      ASSIGN_OR_RETURN(const Tensor* t, ctx.RequiredInput(i));
      if (t->dtype() != first->dtype() || t->rank() != rank) {
        return Bad("Concat", "input ", i, " is ", DTypeName(t->dtype()), Str(t->shape()),
                   ", expected ", DTypeName(first->dtype()), " of rank ", rank);
      }
      for (int d = 0; d < rank; ++d) {
        if (d != axis && t->dim(d) != first->dim(d)) {
          return Bad("Concat", "input shapes ", Str(first->shape()), " and ", Str(t->shape()),
                     " differ off axis ", axis);
        }
      }
      out[axis] += t->dim(axis);
      ins.push_back(t);
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, first->dtype(), out));
    const int64_t outer = PartialProduct(out, 0, axis);
    const int64_t inner = PartialProduct(out, axis + 1, rank);
    return VisitStorage(first->dtype(), "Concat", [&](auto tag) {
      using T = typename decltype(tag)::type;
      int64_t offset = 0;
      for (const Tensor* t : ins) {
        const int64_t row = t->dim(axis) * inner;
        CopyRows(t->data<T>(), row, y->data<T>() + offset, out[axis] * inner, outer, row);
        offset += row;
      }
      return absl::OkStatus();
    });
  }

 private:
  int64_t axis_;
};

// The sizes of Split's outputs along the axis; dim may be -1 (inference).
absl::StatusOr<Ints> SplitSizes(int64_t dim, const std::optional<Ints>& split, int outputs) {
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
  ASSIGN_OR_RETURN(Ints sizes, SplitSizes((*in)[axis], split, ctx.num_outputs()));
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
      : axis_(info.attrs->GetInt("axis")), split_(OptionalInts(*info.attrs, "split")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(int axis, Axis(axis_, x->rank(), "Split"));
    ASSIGN_OR_RETURN(std::optional<Ints> split,
                     IntsFromInputOrAttr(ctx, 1, split_, "Split", "split"));
    ASSIGN_OR_RETURN(Ints sizes, SplitSizes(x->dim(axis), split, ctx.num_outputs()));
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
};

// ---------------------------------------------------------------------------------------------
// Cast and CastLike.

// numpy's str() of a floating value: the shortest digits that round-trip, positional for
// 1e-4 <= |v| < 1e16 and scientific otherwise ("0.1", "100.0", "1e-05", "1.5e+16").
template <typename T>
std::string FloatToString(const T& value) {
  const double d = static_cast<double>(ConvertValue<double>(value));
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof(buf), "%.*e", p - 1, d);
    const double back = std::strtod(buf, nullptr);
    if (ConvertValue<double>(ConvertValue<T>(back)) == d) break;
  }
  const std::string s = buf[0] == '-' ? buf + 1 : buf;
  const size_t e = s.find('e');
  std::string digits = s.substr(0, 1) + (e > 1 ? s.substr(2, e - 2) : "");
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exp10 = std::atoi(s.c_str() + e + 1);
  std::string out = d < 0 ? "-" : "";
  const double a = std::fabs(d);
  const int n = static_cast<int>(digits.size());
  if (a >= 1e-4 && a < 1e16) {
    if (exp10 < 0) {
      absl::StrAppend(&out, "0.", std::string(-exp10 - 1, '0'), digits);
    } else if (n <= exp10 + 1) {
      absl::StrAppend(&out, digits, std::string(exp10 + 1 - n, '0'), ".0");
    } else {
      absl::StrAppend(&out, digits.substr(0, exp10 + 1), ".", digits.substr(exp10 + 1));
    }
  } else {
    absl::StrAppend(&out, digits.substr(0, 1), n > 1 ? "." : "", digits.substr(1), "e",
                    exp10 < 0 ? "-" : "+", std::abs(exp10) < 10 ? "0" : "", std::abs(exp10));
  }
  return out;
}

template <typename T>
std::string ValueToString(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "True" : "False";
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    return absl::StrCat(static_cast<int64_t>(v));
  } else if constexpr (std::is_integral_v<T>) {
    return absl::StrCat(static_cast<uint64_t>(v));
  } else {
    return FloatToString(v);
  }
}

// Parses a number ("1.5", "-3", "1e-5", "INF", "NaN", "+inf"; booleans also "true"/"false").
template <typename T>
absl::StatusOr<T> ValueFromString(const std::string& str, absl::string_view op) {
  const std::string s(absl::StripAsciiWhitespace(str));
  if constexpr (std::is_same_v<T, bool>) {
    if (absl::EqualsIgnoreCase(s, "true")) return true;
    if (absl::EqualsIgnoreCase(s, "false")) return false;
  }
  char* end = nullptr;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    errno = 0;
    if (std::is_signed_v<T>) {
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && *end == '\0' && errno == 0) return static_cast<T>(v);
    } else if (!s.empty() && s[0] != '-') {
      const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
      if (*end == '\0' && errno == 0) return static_cast<T>(v);
    }
  }
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0') return Bad(op, "cannot parse '", str, "' as a number");
  return ConvertValue<T>(v);
}

// float -> bfloat16 by truncation (what ONNX's reference Cast does), keeping NaN a NaN.
BFloat16 TruncateToBFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  BFloat16 b;
  b.bits = static_cast<uint16_t>(x >> 16);
  if (std::isnan(f)) b.bits |= 0x40;
  return b;
}

template <typename To, typename From>
absl::Status CastElements(const From* in, To* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<To, From>) {
      out[i] = in[i];
    } else if constexpr (std::is_same_v<To, std::string>) {
      out[i] = ValueToString(in[i]);
    } else if constexpr (std::is_same_v<From, std::string>) {
      ASSIGN_OR_RETURN(out[i], ValueFromString<To>(in[i], "Cast"));
    } else if constexpr (std::is_same_v<To, BFloat16>) {
      out[i] = TruncateToBFloat16(ConvertValue<float>(in[i]));
    } else {
      out[i] = ConvertValue<To>(in[i]);
    }
  }
  return absl::OkStatus();
}

absl::Status CastTensor(const Tensor& x, DType to, KernelContext& ctx) {
  if (x.dtype() == to) {
    ctx.SetOutput(0, x);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, to, x.shape()));
  return VisitDType(x.dtype(), DTypeSet::kAll, "Cast", [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    return VisitDType(to, DTypeSet::kAll, "Cast", [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      return CastElements<To, From>(x.data<From>(), y->data<To>(), x.num_elements());
    });
  });
}

absl::Status InferCast(InferenceContext& ctx) {
  ASSIGN_OR_RETURN(DType to, DTypeFromOnnx(ctx.attrs().GetInt("to"), "Cast"));
  ctx.set_output(0, {to, ctx.input(0).shape});
  return absl::OkStatus();
}

class CastKernel : public Kernel {
 public:
  explicit CastKernel(const KernelInfo& info) : to_(info.attrs->GetInt("to")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(DType to, DTypeFromOnnx(to_, "Cast"));
    return CastTensor(*x, to, ctx);
  }

 private:
  int64_t to_;
};

absl::Status InferCastLike(InferenceContext& ctx) {
  ctx.set_output(0, {ctx.input(1).dtype, ctx.input(0).shape});
  return absl::OkStatus();
}

class CastLikeKernel : public Kernel {
 public:
  explicit CastLikeKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* like, ctx.RequiredInput(1));
    return CastTensor(*x, like->dtype(), ctx);
  }
};

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

template <typename T>
absl::Status RangeFill(const Tensor& s, const Tensor& l, const Tensor& d, KernelContext& ctx) {
  const T start = s.data<T>()[0], limit = l.data<T>()[0], delta = d.data<T>()[0];
  ASSIGN_OR_RETURN(int64_t count, RangeCount(start, limit, delta));
  ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, s.dtype(), {count}));
  for (int64_t i = 0; i < count; ++i) {
    if constexpr (std::is_integral_v<T>) {  // start + i * delta, without signed overflow
      y->data<T>()[i] = static_cast<T>(uint64_t(start) + uint64_t(i) * uint64_t(delta));
    } else {
      y->data<T>()[i] = static_cast<T>(start + static_cast<T>(i) * delta);
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
    return VisitDType(in[0]->dtype(), DTypeSet::kSigned, "Range", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_arithmetic_v<T>) {
        return RangeFill<T>(*in[0], *in[1], *in[2], ctx);
      } else {
        return Bad("Range", "unsupported dtype");
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
// Trilu and Dropout.

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
CORTADO_REGISTER_KERNEL("Reshape", kCpuBackend, 5, kMaxOpset, AnyType(),
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

CORTADO_REGISTER_OP(
    OpSchema("Transpose").Versions(1).Inputs(1, 1).Attr("perm", Ints{}).Infer(InferTranspose));
CORTADO_REGISTER_KERNEL("Transpose", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<TransposeKernel>());

CORTADO_REGISTER_OP(OpSchema("Expand").Versions(8).Inputs(2, 2).Infer(InferExpand));
CORTADO_REGISTER_KERNEL("Expand", kCpuBackend, 8, kMaxOpset, AnyType(),
                        MakeFactory<ExpandKernel>());

CORTADO_REGISTER_OP(OpSchema("Tile").Versions(6).Inputs(2, 2).Infer(InferTile));
CORTADO_REGISTER_KERNEL("Tile", kCpuBackend, 6, kMaxOpset, AnyType(), MakeFactory<TileKernel>());

CORTADO_REGISTER_OP(OpSchema("DepthToSpace")
                        .Versions(1)
                        .Inputs(1, 1)
                        .RequiredAttr("blocksize", AttrType::kInt)
                        .Attr("mode", std::string("DCR"))
                        .Infer(InferSpaceDepth<true>));
CORTADO_REGISTER_KERNEL("DepthToSpace", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<SpaceDepthKernel<true>>());

CORTADO_REGISTER_OP(OpSchema("SpaceToDepth")
                        .Versions(1)
                        .Inputs(1, 1)
                        .RequiredAttr("blocksize", AttrType::kInt)
                        .Infer(InferSpaceDepth<false>));
CORTADO_REGISTER_KERNEL("SpaceToDepth", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<SpaceDepthKernel<false>>());

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
                        .Inputs(1, 3)
                        .Attr("mode", std::string("constant"))
                        .OptionalAttr("pads", AttrType::kInts)
                        .Attr("value", 0.0f)
                        .Infer(InferPad));
CORTADO_REGISTER_KERNEL("Pad", kCpuBackend, 2, kMaxOpset, AnyType(), MakeFactory<PadKernel>());

CORTADO_REGISTER_OP(OpSchema("Concat")
                        .Versions(4)
                        .Inputs(1, 1 << 20)
                        .RequiredAttr("axis", AttrType::kInt)
                        .Infer(InferConcat));
CORTADO_REGISTER_KERNEL("Concat", kCpuBackend, 4, kMaxOpset, AnyType(),
                        MakeFactory<ConcatKernel>());

CORTADO_REGISTER_OP(OpSchema("Split")
                        .Versions(2)
                        .Inputs(1, 2)
                        .Outputs(1, 1 << 20)
                        .Attr("axis", int64_t{0})
                        .OptionalAttr("split", AttrType::kInts)
                        .Infer(InferSplit));
CORTADO_REGISTER_KERNEL("Split", kCpuBackend, 2, kMaxOpset, AnyType(), MakeFactory<SplitKernel>());

CORTADO_REGISTER_OP(
    OpSchema("Cast").Versions(6).Inputs(1, 1).RequiredAttr("to", AttrType::kInt).Infer(InferCast));
CORTADO_REGISTER_KERNEL("Cast", kCpuBackend, 6, kMaxOpset, AnyType(), MakeFactory<CastKernel>());

CORTADO_REGISTER_OP(OpSchema("CastLike").Versions(15).Inputs(2, 2).Infer(InferCastLike));
CORTADO_REGISTER_KERNEL("CastLike", kCpuBackend, 15, kMaxOpset, AnyType(),
                        MakeFactory<CastLikeKernel>());

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
CORTADO_REGISTER_KERNEL("Range", kCpuBackend, 11, kMaxOpset, SignedTypes(),
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

CORTADO_REGISTER_OP(OpSchema("Dropout")
                        .Versions(7)
                        .Inputs(1, 3)
                        .Outputs(1, 2)
                        .Attr("ratio", 0.5f)
                        .OptionalAttr("seed", AttrType::kInt)
                        .Infer(InferDropout));
CORTADO_REGISTER_KERNEL("Dropout", kCpuBackend, 7, kMaxOpset, AnyType(),
                        MakeFactory<DropoutKernel>());

}  // namespace tensor_ops
}  // namespace cortado
