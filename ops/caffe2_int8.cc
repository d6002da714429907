// Caffe2's Int8 operators (caffe2/operators/quantized/int8_*_op.h), in kCaffe2Domain. Tensors
// are uint8, channels last (NHWC), each with one scale and zero point: real = scale * (q - zp).
// Caffe2 carries the pair in the Int8TensorCPU blob; here the NetDef importer, which knows every
// blob's pair, writes them as attributes: `input_scales` / `input_zero_points` (one per input, in
// input order; an int32 bias has zero point 0 and scale X_scale * W_scale) and `Y_scale` /
// `Y_zero_point` for the output.
//
// Semantics, written from Caffe2's operator definitions:
// - Int8Quantize(float X) -> q = clamp(Y_zero_point + nearbyint(X / Y_scale), 0, 255)
//   (ties to even, as std::nearbyint in int8_utils.h).
// - Int8Dequantize(X) -> float (q - zp) * scale.
// - Int8Conv / Int8ConvRelu (X [N,H,W,C], W [M,kh,kw,C/group], B int32 [M]) and
//   Int8ConvTranspose (W [C,kh,kw,M/group]), Int8FC (X flattened to [rows, K], W [N, K], B [N]):
//   the exact int32 sum of (x - x_zp) * (w - w_zp) plus B, requantized as
//   Y_zero_point + round(acc * X_scale * W_scale / Y_scale), rounding halves away from zero
//   (QNNPACK's requantization), clamped to 0..255, or to Y_zero_point..255 for the Relu forms.
//   QNNPACK approximates the multiplier in Q31 fixed point, so Caffe2 may differ by one step.
// - Int8AveragePool: the window's sum of (x - x_zp) (padding contributes 0) over the kernel
//   area, requantized; `global_pooling` averages the whole plane.
// - Int8Sum, Int8Add (two inputs) and their Relu forms: inputs of one shape, Y = requantize(sum of
// real
//   values) (Caffe2 uses gemmlowp fixed point, within one step of this).
// - Int8Relu: max(q, zp), same scale and zero point.
// - Int8Softmax: softmax over all dimensions after the first, output scale 1/256, zero point 0:
//   q = min(255, round(256 * softmax)) (QNNPACK's table is within one step of this).
// - Int8ResizeNearest: Caffe2's ResizeNearest (y -> min(floor(y / height_scale), H - 1)) on
//   NHWC, values copied (scale and zero point unchanged).
#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "ops/registry.h"

namespace cortado {
namespace {

absl::Status Invalid(absl::string_view op, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", message));
}

struct QParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// The quantization of every input and of the output, from the attributes.
struct QuantInfo {
  std::vector<QParams> in;
  QParams out;
};

QuantInfo ReadQuant(const AttributeMap& attrs) {
  QuantInfo q;
  const std::vector<float> scales = attrs.GetFloats("input_scales");
  const std::vector<int64_t> zps = attrs.GetInts("input_zero_points");
  for (size_t i = 0; i < scales.size(); ++i) {
    q.in.push_back({scales[i], static_cast<int32_t>(i < zps.size() ? zps[i] : 0)});
  }
  q.out = {attrs.GetFloat("Y_scale", 1.0f), static_cast<int32_t>(attrs.GetInt("Y_zero_point", 0))};
  return q;
}

uint8_t Clamp(double v, int32_t lo, int32_t hi) {
  if (!(v >= lo)) return static_cast<uint8_t>(lo);  // NaN too
  if (v > hi) return static_cast<uint8_t>(hi);
  return static_cast<uint8_t>(v);
}

// real * multiplier, rounded half away from zero, plus the zero point, clamped.
uint8_t Requantize(double real, double multiplier, const QParams& y, int32_t lo, int32_t hi) {
  return Clamp(y.zero_point + std::round(real * multiplier), lo, hi);
}

// A uint8 input and its quantization.
struct QInput {
  const Tensor* tensor;
  QParams q;
};

// The base of the Int8 kernels: the op name, quantization, and clamp range of the output.
class Int8Kernel : public Kernel {
 public:
  explicit Int8Kernel(const KernelInfo& info) : op_(info.op_type), q_(ReadQuant(*info.attrs)) {
    relu_ = absl::EndsWith(op_, "Relu");
    lo_ = relu_ ? q_.out.zero_point : 0;
  }

 protected:
  absl::StatusOr<QParams> In(int i) const {
    if (i >= static_cast<int>(q_.in.size())) {
      return Invalid(op_, absl::StrCat("no scale and zero point given for input ", i));
    }
    if (!(q_.in[i].scale > 0.0f)) return Invalid(op_, "input scales must be positive");
    return q_.in[i];
  }
  // Input `i` (named `what` in errors), which must be present and uint8.
  absl::StatusOr<const Tensor*> UInt8Input(KernelContext& ctx, int i,
                                           absl::string_view what) const {
    ASSIGN_OR_RETURN(const Tensor* t, ctx.RequiredInput(i));
    if (t->dtype() != DType::kUInt8) {
      return Invalid(op_, absl::StrCat(what, " must be uint8, got ", DTypeName(t->dtype())));
    }
    return t;
  }
  // The same, with its scale and zero point.
  absl::StatusOr<QInput> QuantizedInput(KernelContext& ctx, int i, absl::string_view what) const {
    ASSIGN_OR_RETURN(const Tensor* t, UInt8Input(ctx, i, what));
    ASSIGN_OR_RETURN(QParams q, In(i));
    return QInput{t, q};
  }
  absl::Status CheckOut() const {
    if (!(q_.out.scale > 0.0f) || q_.out.zero_point < 0 || q_.out.zero_point > 255) {
      return Invalid(op_, "Y_scale must be positive and Y_zero_point in 0..255");
    }
    return absl::OkStatus();
  }

  std::string op_;
  QuantInfo q_;
  bool relu_ = false;
  int32_t lo_ = 0;
};

// ---- Quantize / Dequantize ----

class QuantizeKernel : public Int8Kernel {
 public:
  using Int8Kernel::Int8Kernel;
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->dtype() != DType::kFloat32) return Invalid(op_, "X must be float32");
    RETURN_IF_ERROR(CheckOut());
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kUInt8, x->shape()));
    const float* in = x->data<float>();
    uint8_t* out = y->data<uint8_t>();
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      out[i] = Clamp(q_.out.zero_point + std::nearbyint(in[i] / q_.out.scale), 0, 255);
    }
    return absl::OkStatus();
  }
};

class DequantizeKernel : public Int8Kernel {
 public:
  using Int8Kernel::Int8Kernel;
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const QInput x_in, QuantizedInput(ctx, 0, "X"));
    const auto& [x, xq] = x_in;
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, x->shape()));
    const uint8_t* in = x->data<uint8_t>();
    float* out = y->data<float>();
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      out[i] = static_cast<float>(static_cast<int32_t>(in[i]) - xq.zero_point) * xq.scale;
    }
    return absl::OkStatus();
  }
};

// ---- Conv, ConvTranspose, FC ----

struct ConvGeometry {
  int64_t n, h, w, c;  // input
  int64_t oh, ow, m;   // output
  int64_t kh, kw, group;
  int64_t sh, sw, dh, dw;
  int64_t pt, pl;
};

// Operands shared by the three weighted ops: X, W and B with their quantization.
struct Weighted {
  const Tensor* x;
  const Tensor* w;
  const int32_t* bias;  // nullptr when absent
  QParams xq, wq;
  double multiplier;  // X_scale * W_scale / Y_scale
};

class WeightedKernel : public Int8Kernel {
 public:
  using Int8Kernel::Int8Kernel;

 protected:
  // B has W.dim(bias_dim) * bias_groups entries (one per output channel).
  absl::StatusOr<Weighted> Operands(KernelContext& ctx, int bias_dim, int64_t bias_groups) const {
    ASSIGN_OR_RETURN(const QInput x, QuantizedInput(ctx, 0, "X"));
    ASSIGN_OR_RETURN(const QInput w, QuantizedInput(ctx, 1, "W"));
    RETURN_IF_ERROR(CheckOut());
    Weighted o{x.tensor, w.tensor, nullptr, x.q, w.q, 0.0};
    if (const Tensor* b = ctx.input(2)) {
      const int64_t size = o.w->rank() > bias_dim ? o.w->dim(bias_dim) * bias_groups : -1;
      if (b->dtype() != DType::kInt32 || b->rank() != 1 || b->dim(0) != size) {
        return Invalid(op_, absl::StrCat("B must be int32 [", size, "], got ",
                                         DTypeName(b->dtype()), " ", ShapeToString(b->shape())));
      }
      o.bias = b->data<int32_t>();
    }
    o.multiplier = static_cast<double>(o.xq.scale) * o.wq.scale / q_.out.scale;
    return o;
  }
};

class ConvKernel : public WeightedKernel {
 public:
  explicit ConvKernel(const KernelInfo& info) : WeightedKernel(info) {
    const AttributeMap& a = *info.attrs;
    transpose_ = op_ == "Int8ConvTranspose";
    strides_ = a.GetInts("strides", {1, 1});
    dilations_ = a.GetInts("dilations", {1, 1});
    pads_ = a.GetInts("pads", {0, 0, 0, 0});
    adj_ = a.GetInts("output_padding", {0, 0});
    group_ = a.GetInt("group", 1);
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(Weighted o, transpose_ ? Operands(ctx, 3, group_) : Operands(ctx, 0, 1));
    ASSIGN_OR_RETURN(ConvGeometry g, Geometry(*o.x, *o.w));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kUInt8, {g.n, g.oh, g.ow, g.m}));
    std::vector<int64_t> acc(g.n * g.oh * g.ow * g.m, 0);
    if (transpose_) {
      Scatter(o, g, acc);
    } else {
      Gather(o, g, acc);
    }
    uint8_t* out = y->data<uint8_t>();
    for (size_t i = 0; i < acc.size(); ++i) {
      const int64_t bias = o.bias ? o.bias[i % g.m] : 0;
      out[i] = Requantize(static_cast<double>(acc[i] + bias), o.multiplier, q_.out, lo_, 255);
    }
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<ConvGeometry> Geometry(const Tensor& x, const Tensor& w) const {
    if (x.rank() != 4 || w.rank() != 4) {
      return Invalid(op_, absl::StrCat("X and W must be 4-D (NHWC), got ", ShapeToString(x.shape()),
                                       " and ", ShapeToString(w.shape())));
    }
    if (strides_.size() != 2 || dilations_.size() != 2 || pads_.size() != 4 || adj_.size() != 2 ||
        group_ < 1) {
      return Invalid(op_, "strides, dilations and output_padding need 2 values, pads 4");
    }
    ConvGeometry g{x.dim(0),    x.dim(1),    x.dim(2),      x.dim(3),      0,
                   0,           0,           w.dim(1),      w.dim(2),      group_,
                   strides_[0], strides_[1], dilations_[0], dilations_[1], pads_[0],
                   pads_[1]};
    if (g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1) return Invalid(op_, "bad strides");
    if (transpose_) {
      g.m = w.dim(3) * g.group;
      if (w.dim(0) != g.c || g.c % g.group != 0) {
        return Invalid(op_, absl::StrCat("W ", ShapeToString(w.shape()), " does not fit ", g.c,
                                         " input channels in ", g.group, " groups"));
      }
      g.oh = (g.h - 1) * g.sh - pads_[0] - pads_[2] + (g.kh - 1) * g.dh + 1 + adj_[0];
      g.ow = (g.w - 1) * g.sw - pads_[1] - pads_[3] + (g.kw - 1) * g.dw + 1 + adj_[1];
    } else {
      g.m = w.dim(0);
      if (w.dim(3) * g.group != g.c || g.m % g.group != 0) {
        return Invalid(op_, absl::StrCat("W ", ShapeToString(w.shape()), " does not fit ", g.c,
                                         " input channels in ", g.group, " groups"));
      }
      g.oh = (g.h + pads_[0] + pads_[2] - (g.kh - 1) * g.dh - 1) / g.sh + 1;
      g.ow = (g.w + pads_[1] + pads_[3] - (g.kw - 1) * g.dw - 1) / g.sw + 1;
    }
    if (g.oh < 0 || g.ow < 0) return Invalid(op_, "the output would be empty");
    return g;
  }

  // Conv: each output gathers its window.
  static void Gather(const Weighted& o, const ConvGeometry& g, std::vector<int64_t>& acc) {
    const uint8_t* x = o.x->data<uint8_t>();
    const uint8_t* w = o.w->data<uint8_t>();
    const int64_t cg = g.c / g.group, mg = g.m / g.group;
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox)
          for (int64_t m = 0; m < g.m; ++m) {
            const int64_t c0 = (m / mg) * cg;
            int64_t sum = 0;
            for (int64_t ky = 0; ky < g.kh; ++ky) {
              const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
              if (iy < 0 || iy >= g.h) continue;
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
                if (ix < 0 || ix >= g.w) continue;
                const uint8_t* xp = x + ((n * g.h + iy) * g.w + ix) * g.c + c0;
                const uint8_t* wp = w + ((m * g.kh + ky) * g.kw + kx) * cg;
                for (int64_t c = 0; c < cg; ++c) {
                  sum += (static_cast<int32_t>(xp[c]) - o.xq.zero_point) *
                         (static_cast<int32_t>(wp[c]) - o.wq.zero_point);
                }
              }
            }
            acc[((n * g.oh + oy) * g.ow + ox) * g.m + m] = sum;
          }
  }

  // ConvTranspose: each input scatters into the outputs its kernel covers.
  static void Scatter(const Weighted& o, const ConvGeometry& g, std::vector<int64_t>& acc) {
    const uint8_t* x = o.x->data<uint8_t>();
    const uint8_t* w = o.w->data<uint8_t>();
    const int64_t cg = g.c / g.group, mg = g.m / g.group;
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t iy = 0; iy < g.h; ++iy)
        for (int64_t ix = 0; ix < g.w; ++ix)
          for (int64_t c = 0; c < g.c; ++c) {
            const int32_t xv =
                static_cast<int32_t>(x[((n * g.h + iy) * g.w + ix) * g.c + c]) - o.xq.zero_point;
            const int64_t m0 = (c / cg) * mg;
            for (int64_t ky = 0; ky < g.kh; ++ky) {
              const int64_t oy = iy * g.sh - g.pt + ky * g.dh;
              if (oy < 0 || oy >= g.oh) continue;
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                const int64_t ox = ix * g.sw - g.pl + kx * g.dw;
                if (ox < 0 || ox >= g.ow) continue;
                const uint8_t* wp = w + ((c * g.kh + ky) * g.kw + kx) * mg;
                int64_t* ap = acc.data() + ((n * g.oh + oy) * g.ow + ox) * g.m + m0;
                for (int64_t m = 0; m < mg; ++m) {
                  ap[m] += xv * (static_cast<int32_t>(wp[m]) - o.wq.zero_point);
                }
              }
            }
          }
  }

  bool transpose_ = false;
  std::vector<int64_t> strides_, dilations_, pads_, adj_;
  int64_t group_ = 1;
};

class FCKernel : public WeightedKernel {
 public:
  using WeightedKernel::WeightedKernel;
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(Weighted o, Operands(ctx, 0, 1));
    if (o.x->rank() < 1 || o.w->rank() != 2) return Invalid(op_, "W must be 2-D [N, K]");
    const int64_t k = o.w->dim(1), n = o.w->dim(0);
    const int64_t rows = o.x->dim(0), from1 = o.x->num_elements() / std::max<int64_t>(rows, 1);
    if (rows > 0 && from1 != k) {
      return Invalid(op_, absl::StrCat("X ", ShapeToString(o.x->shape()), " has ", from1,
                                       " features per row, W expects ", k));
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kUInt8, {rows, n}));
    const uint8_t* x = o.x->data<uint8_t>();
    const uint8_t* w = o.w->data<uint8_t>();
    uint8_t* out = y->data<uint8_t>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j) {
        int64_t sum = o.bias ? o.bias[j] : 0;
        for (int64_t i = 0; i < k; ++i) {
          sum += (static_cast<int32_t>(x[r * k + i]) - o.xq.zero_point) *
                 (static_cast<int32_t>(w[j * k + i]) - o.wq.zero_point);
        }
        out[r * n + j] = Requantize(static_cast<double>(sum), o.multiplier, q_.out, lo_, 255);
      }
    return absl::OkStatus();
  }
};

// ---- Pooling, elementwise, softmax, resize ----

class AveragePoolKernel : public Int8Kernel {
 public:
  explicit AveragePoolKernel(const KernelInfo& info) : Int8Kernel(info) {
    const AttributeMap& a = *info.attrs;
    global_ = a.GetInt("global_pooling", 0) != 0;
    kernel_ = a.GetInts("kernel_shape", {1, 1});
    strides_ = a.GetInts("strides", {1, 1});
    pads_ = a.GetInts("pads", {0, 0, 0, 0});
  }
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const QInput x_in, QuantizedInput(ctx, 0, "X"));
    const auto& [x, xq] = x_in;
    RETURN_IF_ERROR(CheckOut());
    if (x->rank() != 4) return Invalid(op_, "X must be 4-D (NHWC)");
    if (!global_ && (kernel_.size() != 2 || strides_.size() != 2 || pads_.size() != 4)) {
      return Invalid(op_, "kernel_shape and strides need 2 values, pads 4");
    }
    const int64_t n = x->dim(0), h = x->dim(1), w = x->dim(2), c = x->dim(3);
    const int64_t kh = global_ ? h : kernel_[0], kw = global_ ? w : kernel_[1];
    const int64_t sh = global_ ? 1 : strides_[0], sw = global_ ? 1 : strides_[1];
    const int64_t pt = global_ ? 0 : pads_[0], pl = global_ ? 0 : pads_[1];
    const int64_t pb = global_ ? 0 : pads_[2], pr = global_ ? 0 : pads_[3];
    if (kh < 1 || kw < 1 || sh < 1 || sw < 1) return Invalid(op_, "bad kernel or strides");
    const int64_t oh = (h + pt + pb - kh) / sh + 1, ow = (w + pl + pr - kw) / sw + 1;
    if (oh < 1 || ow < 1) return Invalid(op_, "the kernel is larger than the padded input");
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kUInt8, {n, oh, ow, c}));
    const double multiplier = static_cast<double>(xq.scale) / (q_.out.scale * kh * kw);
    const uint8_t* in = x->data<uint8_t>();
    uint8_t* out = y->data<uint8_t>();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox)
          for (int64_t ch = 0; ch < c; ++ch) {
            int64_t sum = 0;
            for (int64_t iy = oy * sh - pt; iy < oy * sh - pt + kh; ++iy)
              for (int64_t ix = ox * sw - pl; ix < ox * sw - pl + kw; ++ix) {
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                sum += static_cast<int32_t>(in[((b * h + iy) * w + ix) * c + ch]) - xq.zero_point;
              }
            out[((b * oh + oy) * ow + ox) * c + ch] =
                Requantize(static_cast<double>(sum), multiplier, q_.out, lo_, 255);
          }
    return absl::OkStatus();
  }

 private:
  bool global_ = false;
  std::vector<int64_t> kernel_, strides_, pads_;
};

class SumKernel : public Int8Kernel {
 public:
  using Int8Kernel::Int8Kernel;
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x0, ctx.RequiredInput(0));
    RETURN_IF_ERROR(CheckOut());
    std::vector<const Tensor*> xs;
    std::vector<QParams> qs;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      ASSIGN_OR_RETURN(const QInput x_in, QuantizedInput(ctx, i, "every input"));
      const auto& [x, q] = x_in;
      if (x->shape() != x0->shape()) {
        return Invalid(op_,
                       absl::StrCat("inputs must have one shape, got ", ShapeToString(x0->shape()),
                                    " and ", ShapeToString(x->shape())));
      }
      xs.push_back(x);
      qs.push_back(q);
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kUInt8, x0->shape()));
    uint8_t* out = y->data<uint8_t>();
    for (int64_t e = 0; e < x0->num_elements(); ++e) {
      double real = 0.0;
      for (size_t i = 0; i < xs.size(); ++i) {
        real += static_cast<double>(qs[i].scale) *
                (static_cast<int32_t>(xs[i]->data<uint8_t>()[e]) - qs[i].zero_point);
      }
      out[e] = Requantize(real, 1.0 / q_.out.scale, q_.out, lo_, 255);
    }
    return absl::OkStatus();
  }
};

class ReluKernel : public Int8Kernel {
 public:
  using Int8Kernel::Int8Kernel;
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const QInput x_in, QuantizedInput(ctx, 0, "X"));
    const auto& [x, xq] = x_in;
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kUInt8, x->shape()));
    const uint8_t* in = x->data<uint8_t>();
    uint8_t* out = y->data<uint8_t>();
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      out[i] = std::max<int32_t>(in[i], xq.zero_point);
    }
    return absl::OkStatus();
  }
  bool MayOverwriteInput(int i) const override { return i == 0; }
};

class SoftmaxKernel : public Int8Kernel {
 public:
  using Int8Kernel::Int8Kernel;
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const QInput x_in, QuantizedInput(ctx, 0, "X"));
    const auto& [x, xq] = x_in;
    if (q_.out.zero_point != 0 || q_.out.scale != 1.0f / 256.0f) {
      return Invalid(op_, "Y_scale must be 1/256 and Y_zero_point 0, as Caffe2 requires");
    }
    if (x->rank() < 1) return Invalid(op_, "X must have a batch dimension");
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kUInt8, x->shape()));
    const int64_t rows = x->dim(0);
    const int64_t cols = rows == 0 ? 0 : x->num_elements() / rows;
    const uint8_t* in = x->data<uint8_t>();
    uint8_t* out = y->data<uint8_t>();
    std::vector<double> e(cols);
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* row = in + r * cols;
      const int32_t max = cols ? *std::max_element(row, row + cols) : 0;
      double sum = 0.0;
      for (int64_t j = 0; j < cols; ++j) {
        e[j] = std::exp(static_cast<double>(xq.scale) * (static_cast<int32_t>(row[j]) - max));
        sum += e[j];
      }
      for (int64_t j = 0; j < cols; ++j)
        out[r * cols + j] = Clamp(std::round(256.0 * e[j] / sum), 0, 255);
    }
    return absl::OkStatus();
  }
};

class ResizeNearestKernel : public Int8Kernel {
 public:
  explicit ResizeNearestKernel(const KernelInfo& info) : Int8Kernel(info) {
    height_scale_ = info.attrs->GetFloat("height_scale", 1.0f);
    width_scale_ = info.attrs->GetFloat("width_scale", 1.0f);
  }
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, UInt8Input(ctx, 0, "X"));
    if (x->rank() != 4) return Invalid(op_, "X must be 4-D (NHWC)");
    if (!(height_scale_ > 0.0f) || !(width_scale_ > 0.0f)) {
      return Invalid(op_, "height_scale and width_scale must be positive");
    }
    const int64_t n = x->dim(0), h = x->dim(1), w = x->dim(2), c = x->dim(3);
    const int64_t oh = static_cast<int64_t>(h * height_scale_);
    const int64_t ow = static_cast<int64_t>(w * width_scale_);
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kUInt8, {n, oh, ow, c}));
    const uint8_t* in = x->data<uint8_t>();
    uint8_t* out = y->data<uint8_t>();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t oy = 0; oy < oh; ++oy) {
        const int64_t iy = std::min(static_cast<int64_t>(oy / height_scale_), h - 1);
        for (int64_t ox = 0; ox < ow; ++ox) {
          const int64_t ix = std::min(static_cast<int64_t>(ox / width_scale_), w - 1);
          std::copy_n(in + ((b * h + iy) * w + ix) * c, c, out + ((b * oh + oy) * ow + ox) * c);
        }
      }
    return absl::OkStatus();
  }

 private:
  float height_scale_ = 1.0f, width_scale_ = 1.0f;
};

// uint8 of the input's rank, its batch dimension kept, the others unknown.
absl::Status InferUInt8(InferenceContext& ctx) {
  TensorType out{DType::kUInt8, std::nullopt};
  const auto& x = ctx.input(0).shape;
  if (x && !x->empty()) {
    Shape shape(x->size(), -1);
    shape[0] = (*x)[0];
    out.shape = shape;
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}
absl::Status InferFC(InferenceContext& ctx) {
  TensorType out{DType::kUInt8, std::nullopt};
  const auto& x = ctx.input(0).shape;
  const auto& w = ctx.input(1).shape;
  if (x && !x->empty() && w && w->size() == 2) out.shape = Shape{(*x)[0], (*w)[0]};
  ctx.set_output(0, out);
  return absl::OkStatus();
}
absl::Status InferSameUInt8(InferenceContext& ctx) {
  ctx.set_output(0, TensorType{DType::kUInt8, ctx.input(0).shape});
  return absl::OkStatus();
}
absl::Status InferSameFloat(InferenceContext& ctx) {
  ctx.set_output(0, TensorType{DType::kFloat32, ctx.input(0).shape});
  return absl::OkStatus();
}

// One schema: every Int8 op takes the quantization attributes.
OpSchema Int8Schema(const char* op, int min_in, int max_in, InferFn infer) {
  return OpSchema(op, kCaffe2Domain)
      .Versions(1)
      .Inputs(min_in, max_in)
      .Attr("input_scales", std::vector<float>{})
      .Attr("input_zero_points", std::vector<int64_t>{})
      .Attr("Y_scale", 1.0f)
      .Attr("Y_zero_point", int64_t{0})
      .OptionalAttr("strides", AttrType::kInts)
      .OptionalAttr("pads", AttrType::kInts)
      .OptionalAttr("dilations", AttrType::kInts)
      .OptionalAttr("kernel_shape", AttrType::kInts)
      .OptionalAttr("output_padding", AttrType::kInts)
      .Attr("group", int64_t{1})
      .Attr("global_pooling", int64_t{0})
      .Attr("height_scale", 1.0f)
      .Attr("width_scale", 1.0f)
      .Infer(std::move(infer));
}

#define CORTADO_INT8_OP(op, min_in, max_in, infer, dtype, kernel)                       \
  CORTADO_REGISTER_OP(Int8Schema(op, min_in, max_in, infer));                           \
  CORTADO_REGISTER_DOMAIN_KERNEL(op, kCaffe2Domain, kCpuBackend, 1, kMaxOpset, {dtype}, \
                                 MakeFactory<kernel>())

}  // namespace

CORTADO_INT8_OP("Int8Quantize", 1, 1, InferSameUInt8, DType::kFloat32, QuantizeKernel);
CORTADO_INT8_OP("Int8Dequantize", 1, 1, InferSameFloat, DType::kUInt8, DequantizeKernel);
CORTADO_INT8_OP("Int8Conv", 2, 3, InferUInt8, DType::kUInt8, ConvKernel);
CORTADO_INT8_OP("Int8ConvRelu", 2, 3, InferUInt8, DType::kUInt8, ConvKernel);
CORTADO_INT8_OP("Int8ConvTranspose", 2, 3, InferUInt8, DType::kUInt8, ConvKernel);
CORTADO_INT8_OP("Int8FC", 2, 3, InferFC, DType::kUInt8, FCKernel);
CORTADO_INT8_OP("Int8AveragePool", 1, 1, InferUInt8, DType::kUInt8, AveragePoolKernel);
CORTADO_INT8_OP("Int8Sum", 1, 1 << 10, InferSameUInt8, DType::kUInt8, SumKernel);
CORTADO_INT8_OP("Int8SumRelu", 1, 1 << 10, InferSameUInt8, DType::kUInt8, SumKernel);
CORTADO_INT8_OP("Int8Add", 2, 2, InferSameUInt8, DType::kUInt8, SumKernel);
CORTADO_INT8_OP("Int8AddRelu", 2, 2, InferSameUInt8, DType::kUInt8, SumKernel);
CORTADO_INT8_OP("Int8Relu", 1, 1, InferSameUInt8, DType::kUInt8, ReluKernel);
CORTADO_INT8_OP("Int8Softmax", 1, 1, InferSameUInt8, DType::kUInt8, SoftmaxKernel);
CORTADO_INT8_OP("Int8ResizeNearest", 1, 1, InferUInt8, DType::kUInt8, ResizeNearestKernel);

}  // namespace cortado
