// The tensor family's rearrangements: Transpose, Expand, Tile, DepthToSpace and SpaceToDepth, where
// each output element is the input element at a computed offset (offset tables, see
// ops/tensor_util.h).//
// Part of the tensor family (ops/tensor_util.h holds its shared helpers). Most kernels move
// elements without looking at them, so they dispatch on the storage of a dtype (an unsigned
// integer of the element's size, or std::string) and serve every dtype with one code path.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "ops/registry.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace tensor_ops {
namespace {

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
    // Output dimensions that read consecutive input dimensions in order are one dimension of
    // the view (with the inner one's stride): fewer, longer runs to copy.
    Shape view;
    std::vector<int64_t> view_strides;
    for (int d = 0; d < x->rank(); ++d) {
      out[d] = x->dim(perm[d]);
      if (d > 0 && perm[d] == perm[d - 1] + 1) {
        view.back() *= out[d];
        view_strides.back() = strides[perm[d]];
      } else {
        view.push_back(out[d]);
        view_strides.push_back(strides[perm[d]]);
      }
    }
    OffsetTables tables(view.size());
    for (size_t d = 0; d < view.size(); ++d) tables[d] = AffineTable(view[d], 0, view_strides[d]);
    return RunTables(ctx, *x, out, view, tables, "Transpose");
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
    } else if (crd_) {
      // Output viewed as [N, C, b1, b2, H', W'] (channel = c*b*b + b1*b + b2; mode, opset 28).
      view = {n, c, b, b, h / b, w / b};
      strides = {c * h * w, h * w, w, 1, b * w, b};
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

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registrations.

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
                        .Attr("mode", std::string("DCR"))  // opset 28
                        .Infer(InferSpaceDepth<false>));
CORTADO_REGISTER_KERNEL("SpaceToDepth", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<SpaceDepthKernel<false>>());

}  // namespace tensor_ops
}  // namespace cortado
