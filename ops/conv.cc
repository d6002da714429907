// The convolutions: Conv and ConvTranspose, the gradient operator ConvGrad (kTrainingDomain)
// that the eager frontend's backward pass runs, and the schemas of the graph optimizer's FusedConv
// in kFusedDomain and kNhwcDomain (ops/fused.h; their kernels are in ops/fused.cc). Schemas with
// type and shape inference, and the reference CPU kernels: every term of the convolution's sum
// as a plain loop (ForEachTerm), the oracle of the optimized kernels (backends/cpu/conv.cc, with
// im2col and a blocked GEMM). Window geometry is in ops/nn_util.h.

#include "ops/conv.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/fused.h"
#include "ops/nn_util.h"
#include "ops/registry.h"

namespace cortado {
namespace {

// The kernel shape: the attribute when given (it must then match W), else W's spatial dims.
absl::StatusOr<std::vector<int64_t>> ResolveKernelShape(absl::string_view op, const WindowAttrs& w,
                                                        const Shape& wshape) {
  std::vector<int64_t> from_w(wshape.begin() + std::min<size_t>(2, wshape.size()), wshape.end());
  if (w.kernel_shape.empty()) return from_w;
  bool match = w.kernel_shape.size() == from_w.size();
  for (size_t i = 0; match && i < from_w.size(); ++i) {
    match = from_w[i] < 0 || from_w[i] == w.kernel_shape[i];
  }
  if (!match) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": kernel_shape [", absl::StrJoin(w.kernel_shape, ","),
                     "] does not match W of shape ", ShapeToString(wshape)));
  }
  return w.kernel_shape;
}

// Checks X [N, C, ...], W and the optional bias B for a convolution with `group` groups.
// W is [M, C/group, k...] for Conv and [C, M/group, k...] for ConvTranspose. Returns M.
absl::StatusOr<int64_t> CheckConvOperands(absl::string_view op, const Shape& x, const Shape& w,
                                          const Shape* b, int64_t group, bool transposed) {
  if (x.size() < 3 || w.size() != x.size()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": X ", ShapeToString(x), " and W ",
                                                   ShapeToString(w),
                                                   " must have the same rank, at least 3"));
  }
  if (group < 1) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": group must be >= 1, got ", group));
  }
  const int64_t c = x[1];
  int64_t m;
  if (!transposed) {
    m = w[0];
    if ((c >= 0 && w[1] >= 0 && c != w[1] * group) || (m >= 0 && m % group != 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": X ", ShapeToString(x), " and W ", ShapeToString(w), " do not fit group ", group,
          " (need X.shape[1] == W.shape[1] * group and W.shape[0] divisible by group)"));
    }
  } else {
    m = w[1] < 0 ? -1 : w[1] * group;
    if ((c >= 0 && w[0] >= 0 && c != w[0]) || (c >= 0 && c % group != 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": X ", ShapeToString(x), " and W ", ShapeToString(w), " do not fit group ", group,
          " (need X.shape[1] == W.shape[0], divisible by group)"));
    }
  }
  if (b != nullptr && (b->size() != 1 || ((*b)[0] >= 0 && m >= 0 && (*b)[0] != m))) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": bias B must have shape [", m, "], got ", ShapeToString(*b)));
  }
  return m;
}

// Output shape for Conv (transposed == false) or ConvTranspose.
absl::StatusOr<Shape> ConvOutputShape(absl::string_view op, const WindowAttrs& w, int64_t group,
                                      const Shape& x, const Shape& wshape, const Shape* b,
                                      bool transposed, Geometry* geometry) {
  ASSIGN_OR_RETURN(int64_t m, CheckConvOperands(op, x, wshape, b, group, transposed));
  ASSIGN_OR_RETURN(std::vector<int64_t> kernel, ResolveKernelShape(op, w, wshape));
  const Shape in(x.begin() + 2, x.end());
  Shape out{x[0], m};
  if (std::find(kernel.begin(), kernel.end(), -1) != kernel.end()) {
    // Inference only: W's spatial dims are unknown and so are the output's.
    out.resize(x.size(), -1);
    return out;
  }
  Geometry g;
  if (transposed) {
    ASSIGN_OR_RETURN(g, TransposedGeometry(in, kernel, w));
  } else {
    ASSIGN_OR_RETURN(g, ForwardGeometry(op, in, kernel, w));
  }
  if (geometry != nullptr) *geometry = g;
  const Shape spatial = transposed ? g.InSpatial() : g.OutSpatial();
  out.insert(out.end(), spatial.begin(), spatial.end());
  return out;
}

template <bool kTransposed>
absl::Status InferConv(InferenceContext& ctx) {
  constexpr absl::string_view op = kTransposed ? "ConvTranspose" : "Conv";
  const TensorType& x = ctx.input(0);
  const TensorType& w = ctx.input(1);
  TensorType out{x.dtype, std::nullopt};
  if (x.shape && w.shape) {
    ASSIGN_OR_RETURN(WindowAttrs attrs, ReadWindowAttrs(op, ctx.attrs()));
    const Shape* b = ctx.has_input(2) && ctx.input(2).shape ? &*ctx.input(2).shape : nullptr;
    ASSIGN_OR_RETURN(out.shape, ConvOutputShape(op, attrs, ctx.attrs().GetInt("group", 1), *x.shape,
                                                *w.shape, b, kTransposed, nullptr));
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

}  // namespace

ConvAttrs::ConvAttrs(absl::string_view op, const AttributeMap& attrs)
    : op(op), group(attrs.GetInt("group", 1)) {
  absl::StatusOr<WindowAttrs> w = ReadWindowAttrs(op, attrs);
  if (w.ok()) {
    window = *std::move(w);
  } else {
    status = w.status();
  }
}

absl::StatusOr<ConvOperands> BindConv(const ConvAttrs& attrs, bool transposed, KernelContext& ctx) {
  RETURN_IF_ERROR(attrs.status);
  ConvOperands c;
  c.group = attrs.group;
  ASSIGN_OR_RETURN(c.x, ctx.RequiredInput(0));
  ASSIGN_OR_RETURN(c.w, ctx.RequiredInput(1));
  c.b = ctx.input(2);
  if (c.b != nullptr && !c.b->defined()) c.b = nullptr;
  RETURN_IF_ERROR(CheckSameDType(attrs.op, *c.x, *c.w, "W"));
  if (c.b != nullptr) RETURN_IF_ERROR(CheckSameDType(attrs.op, *c.x, *c.b, "B"));
  ASSIGN_OR_RETURN(Shape out_shape,
                   ConvOutputShape(attrs.op, attrs.window, attrs.group, c.x->shape(), c.w->shape(),
                                   c.b != nullptr ? &c.b->shape() : nullptr, transposed, &c.g));
  ASSIGN_OR_RETURN(c.y, ctx.AllocateOutput(0, c.x->dtype(), out_shape));
  return c;
}

absl::StatusOr<ConvGradOperands> BindConvGrad(const ConvAttrs& attrs, KernelContext& ctx) {
  RETURN_IF_ERROR(attrs.status);
  ConvGradOperands c;
  c.group = attrs.group;
  ASSIGN_OR_RETURN(c.dy, ctx.RequiredInput(0));
  ASSIGN_OR_RETURN(c.x, ctx.RequiredInput(1));
  ASSIGN_OR_RETURN(c.w, ctx.RequiredInput(2));
  RETURN_IF_ERROR(CheckSameDType(attrs.op, *c.x, *c.dy, "dY"));
  RETURN_IF_ERROR(CheckSameDType(attrs.op, *c.x, *c.w, "W"));
  ASSIGN_OR_RETURN(Shape y_shape, ConvOutputShape(attrs.op, attrs.window, attrs.group, c.x->shape(),
                                                  c.w->shape(), nullptr, false, &c.g));
  if (c.dy->shape() != y_shape) {
    return absl::InvalidArgumentError(
        absl::StrCat(attrs.op, ": dY has shape ", ShapeToString(c.dy->shape()), " but Conv of X ",
                     ShapeToString(c.x->shape()), " and W ", ShapeToString(c.w->shape()), " gives ",
                     ShapeToString(y_shape)));
  }
  ASSIGN_OR_RETURN(c.dx, ctx.AllocateOutput(0, c.x->dtype(), c.x->shape()));
  ASSIGN_OR_RETURN(c.dw, ctx.AllocateOutput(1, c.w->dtype(), c.w->shape()));
  if (ctx.num_outputs() > 2) {
    ASSIGN_OR_RETURN(c.db, ctx.AllocateOutput(2, c.w->dtype(), {c.w->dim(0)}));
  }
  return c;
}

namespace {

// ---------------------------------------------------------------------------------------------
// The reference kernels
// ---------------------------------------------------------------------------------------------

// Calls f(o, i, k) for every term  Y[o] += W[k] * X[i]  of the convolution of geometry g with
// X [batch, channels, in...], Y [batch, maps, out...] and W [maps, channels / group, kernel...]
// (flat indices), skipping the taps that fall into the padding. Conv is this sum; ConvTranspose
// (X and Y swap roles) and ConvGrad's dX and dW are its adjoints.
template <typename F>
void ForEachTerm(const Geometry& g, int64_t batch, int64_t channels, int64_t maps, int64_t group,
                 F&& f) {
  const int64_t cg = channels / group, mg = maps / group;
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t m = 0; m < maps; ++m) {
      for (int64_t c = 0; c < cg; ++c) {
        const int64_t x_plane = n * channels + m / mg * cg + c;
        for (int64_t t = 0; t < g.kernel_size(); ++t) {
          const int64_t kd = t / (g.kernel[1] * g.kernel[2]);
          const int64_t kh = t / g.kernel[2] % g.kernel[1], kw = t % g.kernel[2];
          const int64_t k = (m * cg + c) * g.kernel_size() + t;
          for (int64_t od = 0; od < g.out[0]; ++od) {
            const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
            if (id < 0 || id >= g.in[0]) continue;
            for (int64_t oh = 0; oh < g.out[1]; ++oh) {
              const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
              if (ih < 0 || ih >= g.in[1]) continue;
              for (int64_t ow = 0; ow < g.out[2]; ++ow) {
                const int64_t iw = ow * g.stride[2] - g.pad_begin[2] + kw * g.dilation[2];
                if (iw < 0 || iw >= g.in[2]) continue;
                f((((n * maps + m) * g.out[0] + od) * g.out[1] + oh) * g.out[2] + ow,
                  ((x_plane * g.in[0] + id) * g.in[1] + ih) * g.in[2] + iw, k);
              }
            }
          }
        }
      }
    }
  }
}

// y[n, j, ...] = b[j] (0 without a bias) over planes of `plane` elements.
template <typename T>
void FillBias(const Tensor* b, Tensor* y, int64_t plane) {
  T* yp = y->data<T>();
  const int64_t maps = y->dim(1);
  for (int64_t i = 0; i < y->num_elements(); ++i) {
    yp[i] = b != nullptr ? b->data<T>()[i / plane % maps] : T(0);
  }
}

struct ReferenceConv {
  template <typename T>
  static absl::Status Run(const ConvOperands& c) {
    FillBias<T>(c.b, c.y, c.g.out_size());
    const T* x = c.x->data<T>();
    const T* w = c.w->data<T>();
    T* y = c.y->data<T>();
    ForEachTerm(c.g, c.x->dim(0), c.x->dim(1), c.y->dim(1), c.group,
                [&](int64_t o, int64_t i, int64_t k) { y[o] += w[k] * x[i]; });
    return absl::OkStatus();
  }
};

// The adjoint of Conv: X [N, C, ...] plays the convolution's output and Y [N, M, ...] its input,
// W [C, M/group, k...] its weights.
struct ReferenceConvTranspose {
  template <typename T>
  static absl::Status Run(const ConvOperands& c) {
    FillBias<T>(c.b, c.y, c.g.in_size());
    const T* x = c.x->data<T>();
    const T* w = c.w->data<T>();
    T* y = c.y->data<T>();
    ForEachTerm(c.g, c.x->dim(0), c.y->dim(1), c.x->dim(1), c.group,
                [&](int64_t o, int64_t i, int64_t k) { y[i] += w[k] * x[o]; });
    return absl::OkStatus();
  }
};

// ---------------------------------------------------------------------------------------------
// ConvGrad (training domain): the gradients of Conv with respect to X, W and the bias.
// ---------------------------------------------------------------------------------------------

// dY is [N, M, out...] for X [N, C, in...] and W [M, C/group, k...]; outputs dX (X's shape),
// dW (W's shape) and optionally dB [M].
absl::Status InferConvGrad(InferenceContext& ctx) {
  constexpr absl::string_view op = "ConvGrad";
  const TensorType& dy = ctx.input(0);
  const TensorType& x = ctx.input(1);
  const TensorType& w = ctx.input(2);
  RETURN_IF_ERROR(CommonDType({{"dY", dy.dtype}, {"X", x.dtype}, {"W", w.dtype}}).status());
  if (x.shape && w.shape) {
    ASSIGN_OR_RETURN(WindowAttrs attrs, ReadWindowAttrs(op, ctx.attrs()));
    ASSIGN_OR_RETURN(Shape y, ConvOutputShape(op, attrs, ctx.attrs().GetInt("group", 1), *x.shape,
                                              *w.shape, nullptr, false, nullptr));
    if (dy.shape && !ShapesMayMatch(*dy.shape, y)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dY has shape ", ShapeToString(*dy.shape), " but Conv of X ", ShapeToString(*x.shape),
          " and W ", ShapeToString(*w.shape), " gives ", ShapeToString(y)));
    }
  }
  ctx.set_output(0, x);
  ctx.set_output(1, w);
  std::optional<Shape> db;
  if (w.shape && !w.shape->empty()) db = Shape{(*w.shape)[0]};
  ctx.set_output(2, TensorType{w.dtype, db});
  return absl::OkStatus();
}

// dX and dW are the two adjoints of Conv's sum; dB[m] is the sum of dY[:, m].
struct ReferenceConvGrad {
  template <typename T>
  static absl::Status Run(const ConvGradOperands& c) {
    const T* dy = c.dy->data<T>();
    const T* x = c.x->data<T>();
    const T* w = c.w->data<T>();
    T* dx = c.dx->data<T>();
    T* dw = c.dw->data<T>();
    std::fill(dx, dx + c.dx->num_elements(), T(0));
    std::fill(dw, dw + c.dw->num_elements(), T(0));
    ForEachTerm(c.g, c.x->dim(0), c.x->dim(1), c.w->dim(0), c.group,
                [&](int64_t o, int64_t i, int64_t k) {
                  dx[i] += w[k] * dy[o];
                  dw[k] += x[i] * dy[o];
                });
    if (c.db != nullptr) {
      T* db = c.db->data<T>();
      std::fill(db, db + c.db->num_elements(), T(0));
      const int64_t plane = c.g.out_size(), maps = c.w->dim(0);
      for (int64_t o = 0; o < c.dy->num_elements(); ++o) db[o / plane % maps] += dy[o];
    }
    return absl::OkStatus();
  }
};

using ConvKernel = ConvKernelOf<ConvKind::kConv, ReferenceConv>;
using ConvTransposeKernel = ConvKernelOf<ConvKind::kConvTranspose, ReferenceConvTranspose>;
using ConvGradKernel = ConvKernelOf<ConvKind::kConvGrad, ReferenceConvGrad>;

// ---------------------------------------------------------------------------------------------
// Registrations
// ---------------------------------------------------------------------------------------------

// Attributes shared by Conv and ConvTranspose.
OpSchema ConvSchema(const char* name, const char* domain = "") {
  return OpSchema(name, domain)
      .Versions(1)
      .Inputs(2, 3)
      .Outputs(1, 1)
      .Attr("auto_pad", std::string("NOTSET"))
      .OptionalAttr("dilations", AttrType::kInts)
      .Attr("group", int64_t{1})
      .OptionalAttr("kernel_shape", AttrType::kInts)
      .OptionalAttr("pads", AttrType::kInts)
      .OptionalAttr("strides", AttrType::kInts);
}

// FusedConv(X, W, B?, Z?) = activation(Conv(X, W, B) + Z) (ops/fused.h).
OpSchema FusedConvSchema(const char* domain) {
  return ConvSchema("FusedConv", domain)
      .Inputs(2, 4)
      .Attr("activation", std::string())
      .Attr("activation_params", std::vector<float>{});
}

absl::Status InferFusedConv(InferenceContext& ctx) {
  RETURN_IF_ERROR(InferConv<false>(ctx));
  const std::string activation = ctx.attrs().GetString("activation");
  if (!activation.empty() && FindFusedActivation(activation) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("FusedConv: unknown activation '", activation, "'"));
  }
  const TensorType& y = ctx.outputs()[0];
  if (ctx.has_input(3) && ctx.input(3).shape && y.shape && !ShapesMayMatch(*ctx.input(3).shape, *y.shape)) {
    return absl::InvalidArgumentError(absl::StrCat("FusedConv: Z has shape ",
                                                   ShapeToString(*ctx.input(3).shape),
                                                   " but the convolution gives ",
                                                   ShapeToString(*y.shape)));
  }
  return absl::OkStatus();
}

CORTADO_REGISTER_OP(FusedConvSchema(kFusedDomain).Infer(InferFusedConv));
CORTADO_REGISTER_OP(FusedConvSchema(kNhwcDomain).Infer(ChannelsLast(InferFusedConv)));

CORTADO_REGISTER_OP(ConvSchema("Conv").Infer(InferConv<false>));
CORTADO_REGISTER_KERNEL("Conv", kCpuBackend, 1, kMaxOpset, FloatTypes(), MakeFactory<ConvKernel>());

CORTADO_REGISTER_OP(ConvSchema("ConvTranspose")
                        .OptionalAttr("output_padding", AttrType::kInts)
                        .OptionalAttr("output_shape", AttrType::kInts)
                        .Infer(InferConv<true>));
CORTADO_REGISTER_KERNEL("ConvTranspose", kCpuBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<ConvTransposeKernel>());

// Gradient operators of the eager frontend's backward pass (kTrainingDomain, opsets 1..kMaxOpset).
CORTADO_REGISTER_OP(OpSchema("ConvGrad", kTrainingDomain)
                        .Versions(1)
                        .Inputs(3, 3)
                        .Outputs(2, 3)
                        .Attr("auto_pad", std::string("NOTSET"))
                        .OptionalAttr("dilations", AttrType::kInts)
                        .Attr("group", int64_t{1})
                        .OptionalAttr("kernel_shape", AttrType::kInts)
                        .OptionalAttr("pads", AttrType::kInts)
                        .OptionalAttr("strides", AttrType::kInts)
                        .Infer(InferConvGrad));
CORTADO_REGISTER_TRAINING_KERNEL("ConvGrad", FloatTypes(), MakeFactory<ConvGradKernel>());

}  // namespace
}  // namespace cortado
