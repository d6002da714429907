// The quantization family: QuantizeLinear and DequantizeLinear (opset 10, per-axis from 13),
// DynamicQuantizeLinear (11), MatMulInteger and ConvInteger (10), QLinearMatMul and QLinearConv
// (10). Quantized values are uint8 or int8 (QuantizeLinear / DequantizeLinear also hold 16-bit
// integers, int4/uint4, int2/uint2, float8 and float4 from opsets 19-25, with float16 and
// bfloat16 scales); rounding is to nearest, ties to even; results saturate to the range of the
// output type (float8 by the `saturate` attribute). Integer products accumulate in int32 (wrapping,
// as the ONNX documents allow); requantization multiplies the int32 accumulator by the float
// multiplier (input scale * weight scale / output scale), as ONNX Runtime does.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/broadcast.h"
#include "ops/gemm.h"
#include "ops/registry.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace {

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

// Rounds v (x / scale) to nearest even, adds the zero point and saturates to the integer type Q
// (a 4- or 2-bit one too). NaN maps to the zero point.
template <typename Q, typename F>
Q Quantize(F v, int32_t zero_point) {
  F r = std::nearbyint(v);
  if (std::isnan(r)) r = F(0);
  r += static_cast<F>(zero_point);
  if constexpr (kIsNarrowInt<Q>) {
    return Q(static_cast<int64_t>(std::clamp(r, static_cast<F>(Q::kMin), static_cast<F>(Q::kMax))));
  } else {
    r = std::max(r, static_cast<F>(std::numeric_limits<Q>::lowest()));
    r = std::min(r, static_cast<F>(std::numeric_limits<Q>::max()));
    return static_cast<Q>(r);
  }
}

// Calls f(TypeTag<Q>) for the 8-bit quantized dtypes.
template <typename F>
absl::Status Visit8Bit(DType dtype, absl::string_view what, F&& f) {
  switch (dtype) {
    case DType::kUInt8:
      return f(TypeTag<uint8_t>{});
    case DType::kInt8:
      return f(TypeTag<int8_t>{});
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(what, " must be uint8 or int8, got ", DTypeName(dtype)));
  }
}

// Calls f(TypeTag<Q>) for the types QuantizeLinear and DequantizeLinear hold: 8-bit, and from
// opset 19 on 16-, 4- and 2-bit integers, float8 and float4.
template <typename F>
absl::Status VisitQuantized(DType dtype, absl::string_view what, F&& f) {
  switch (dtype) {
    case DType::kUInt16:
      return f(TypeTag<uint16_t>{});
    case DType::kInt16:
      return f(TypeTag<int16_t>{});
    case DType::kInt4:
      return f(TypeTag<Int4>{});
    case DType::kUInt4:
      return f(TypeTag<UInt4>{});
    case DType::kInt2:
      return f(TypeTag<Int2>{});
    case DType::kUInt2:
      return f(TypeTag<UInt2>{});
    case DType::kFloat8E4M3FN:
      return f(TypeTag<Float8E4M3FN>{});
    case DType::kFloat8E4M3FNUZ:
      return f(TypeTag<Float8E4M3FNUZ>{});
    case DType::kFloat8E5M2:
      return f(TypeTag<Float8E5M2>{});
    case DType::kFloat8E5M2FNUZ:
      return f(TypeTag<Float8E5M2FNUZ>{});
    case DType::kFloat4E2M1:
      return f(TypeTag<Float4E2M1>{});
    default:
      return Visit8Bit(dtype, what, f);
  }
}

// Zero point value `i` of an optional zero-point tensor (0 when absent).
double ZeroPointValue(const Tensor* zp, int64_t i) {
  return zp == nullptr ? 0 : zp->ElementAsDouble(zp->num_elements() == 1 ? 0 : i);
}
int32_t ZeroPointAt(const Tensor* zp, int64_t i) {
  return static_cast<int32_t>(ZeroPointValue(zp, i));
}

// QuantizeLinear of one value v = x / scale: Quantize for the integer types; v + zero point
// converted to a float8 or float4 (to nearest even, saturating when `saturate`) for the others.
template <typename Q>
Q QuantizeValue(float v, double zero_point, bool saturate) {
  if constexpr (kIsNarrowFloat<Q>) {
    return Q::FromBits(
        EncodeNarrowFloat(Q::kFormat, static_cast<double>(v) + zero_point, saturate));
  } else {
    return Quantize<Q>(v, static_cast<int32_t>(zero_point));
  }
}

absl::Status CheckDType(const Tensor* t, DType want, absl::string_view op, absl::string_view what) {
  if (t->dtype() != want) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", what, " must be ", DTypeName(want),
                                                   ", got ", DTypeName(t->dtype())));
  }
  return absl::OkStatus();
}

absl::Status CheckScalar(const Tensor* t, absl::string_view op, absl::string_view what) {
  if (t != nullptr && (t->num_elements() != 1 || t->rank() > 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ", what, " must be a scalar (per-tensor), got shape ", ShapeToString(t->shape())));
  }
  return absl::OkStatus();
}

// How a per-tensor, per-axis or blocked (scale, zero point) pair maps onto x: element i of x, at
// index a = (i / inner) % channels along the axis, uses parameter a (per-axis), or with blocks
// of `block` along the axis (opset 21) the parameter of the same index but a / block.
struct AxisLayout {
  int64_t channels = 1;
  int64_t inner = 1;
  int64_t block = 0;
  int64_t blocks = 1;  // scale's dim along the axis when blocked
  int64_t Channel(int64_t i) const {
    const int64_t a = (i / inner) % channels;
    if (block == 0) return a;
    const int64_t outer = i / (inner * channels);
    return (outer * blocks + a / block) * inner + i % inner;
  }
};

// The dtypes a scale may have (float16 and bfloat16 from opset 19 on for QuantizeLinear,
// DequantizeLinear and QLinearMatMul).
absl::Status CheckScaleDType(const Tensor& scale, absl::string_view op) {
  const DType d = scale.dtype();
  if (d == DType::kFloat32 || d == DType::kFloat16 || d == DType::kBFloat16)
    return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": scale must be float32, float16 or bfloat16, got ", DTypeName(d)));
}

// The scale's values as float.
std::vector<float> ScaleValues(const Tensor& scale) {
  std::vector<float> out(scale.num_elements());
  for (int64_t i = 0; i < scale.num_elements(); ++i) {
    out[i] = static_cast<float>(scale.ElementAsDouble(i));
  }
  return out;
}

// Validates scale (float32, float16 or bfloat16) and the optional zero point against x for
// QuantizeLinear / DequantizeLinear: both scalars (or one-element 1-D), 1-D of length x.dim(axis)
// (opset 13), or with block_size > 0 (opset 21) of x's shape but ceil(x.dim(axis) / block_size)
// along the axis.
absl::StatusOr<AxisLayout> ResolveAxis(absl::string_view op, const Tensor& x, const Tensor& scale,
                                       const Tensor* zp, int64_t axis, int opset,
                                       int64_t block_size = 0) {
  RETURN_IF_ERROR(CheckScaleDType(scale, op));
  const bool both_per_tensor = zp != nullptr && zp->num_elements() == 1 &&
                               scale.num_elements() == 1 && zp->rank() <= 1 && scale.rank() <= 1;
  if (zp != nullptr && zp->shape() != scale.shape() && !both_per_tensor) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": scale and zero point must have the same shape, got ",
                     ShapeToString(scale.shape()), " and ", ShapeToString(zp->shape())));
  }
  AxisLayout layout;
  if (block_size > 0) {
    ASSIGN_OR_RETURN(const int a, NormalizeAxis(axis, x.rank()));
    bool ok = a < x.rank() && scale.rank() == x.rank();
    for (int d = 0; ok && d < x.rank(); ++d) {
      ok = scale.dim(d) == (d == a ? (x.dim(d) + block_size - 1) / block_size : x.dim(d));
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": blocked scale ", ShapeToString(scale.shape()), " does not match x ",
          ShapeToString(x.shape()), " with block_size ", block_size, " along axis ", axis));
    }
    layout.channels = x.dim(a);
    layout.block = block_size;
    layout.blocks = scale.dim(a);
    for (int d = a + 1; d < x.rank(); ++d) layout.inner *= x.dim(d);
    return layout;
  }
  if (block_size < 0) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": block_size must be >= 0"));
  }
  if (scale.rank() == 0 || (scale.rank() == 1 && scale.num_elements() == 1)) {
    layout.inner = std::max<int64_t>(1, x.num_elements());
    return layout;
  }
  if (opset < 13 || scale.rank() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": scale must be a scalar",
                                                   opset < 13 ? "" : " or a 1-D tensor",
                                                   ", got shape ", ShapeToString(scale.shape())));
  }
  ASSIGN_OR_RETURN(const int a, NormalizeAxis(axis, x.rank()));
  if (a >= x.rank() || scale.dim(0) != x.dim(a)) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": per-axis scale has ", scale.dim(0),
                                                   " values, which does not match x ",
                                                   ShapeToString(x.shape()), " along axis ", axis));
  }
  layout.channels = x.dim(a);
  for (int d = a + 1; d < x.rank(); ++d) layout.inner *= x.dim(d);
  return layout;
}

// ---------------------------------------------------------------------------------------------
// QuantizeLinear / DequantizeLinear
// ---------------------------------------------------------------------------------------------

// QuantizeLinear's output type: the zero point's, else the attribute output_dtype (opset 21),
// else uint8.
DType QuantizedType(DType zero_point, const AttributeMap& attrs) {
  if (zero_point != DType::kUndefined) return zero_point;
  const int64_t onnx_type = attrs.GetInt("output_dtype");
  absl::StatusOr<DType> t = tensor_ops::DTypeFromOnnx(onnx_type, "QuantizeLinear");
  return onnx_type != 0 && t.ok() ? *t : DType::kUInt8;
}

absl::Status InferQuantizeLinear(InferenceContext& ctx) {
  const DType out =
      QuantizedType(ctx.has_input(2) ? ctx.input(2).dtype : DType::kUndefined, ctx.attrs());
  ctx.set_output(0, TensorType{out, ctx.input(0).shape});
  return absl::OkStatus();
}

class QuantizeLinearKernel : public Kernel {
 public:
  explicit QuantizeLinearKernel(const KernelInfo& info)
      : axis_(info.attrs->GetInt("axis", 1)),
        block_size_(info.attrs->GetInt("block_size")),
        saturate_(info.attrs->GetInt("saturate", 1) != 0),
        opset_(info.opset),
        out_dtype_(QuantizedType(DType::kUndefined, *info.attrs)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(1));
    const Tensor* zp = ctx.input(2);
    ASSIGN_OR_RETURN(AxisLayout layout,
                     ResolveAxis("QuantizeLinear", *x, *scale, zp, axis_, opset_, block_size_));
    const DType out_dtype = zp ? zp->dtype() : out_dtype_;
    if (!IsFloatingPoint(x->dtype()) && x->dtype() != DType::kInt32) {
      return absl::InvalidArgumentError(absl::StrCat(
          "QuantizeLinear: x must be a float type or int32, got ", DTypeName(x->dtype())));
    }
    const std::vector<float> s = ScaleValues(*scale);
    return VisitQuantized(
        out_dtype, "QuantizeLinear: y_zero_point", [&](auto qtag) -> absl::Status {
          using Q = typename decltype(qtag)::type;
          ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, out_dtype, x->shape()));
          Q* out = y->data<Q>();
          for (int64_t i = 0; i < x->num_elements(); ++i) {
            const int64_t c = layout.Channel(i);
            const double z = ZeroPointValue(zp, c);
            // Divided in float, as ONNX's reference does for float32 and narrower inputs.
            const float v = x->dtype() == DType::kFloat64
                                ? static_cast<float>(x->ElementAsDouble(i) / s[c])
                                : static_cast<float>(x->ElementAsDouble(i)) / s[c];
            out[i] = QuantizeValue<Q>(v, z, saturate_);
          }
          return absl::OkStatus();
        });
  }

 private:
  int64_t axis_;
  int64_t block_size_;
  bool saturate_;
  int opset_;
  DType out_dtype_;  // without a zero point
};

// DequantizeLinear's output type: the attribute output_dtype (opset 23), else the scale's.
absl::StatusOr<DType> DequantizedType(DType scale, int64_t onnx_type) {
  if (onnx_type == 0) return scale == DType::kUndefined ? DType::kFloat32 : scale;
  return tensor_ops::DTypeFromOnnx(onnx_type, "DequantizeLinear");
}

absl::Status InferDequantizeLinear(InferenceContext& ctx) {
  ASSIGN_OR_RETURN(DType out,
                   DequantizedType(ctx.input(1).dtype, ctx.attrs().GetInt("output_dtype")));
  ctx.set_output(0, TensorType{out, ctx.input(0).shape});
  return absl::OkStatus();
}

class DequantizeLinearKernel : public Kernel {
 public:
  explicit DequantizeLinearKernel(const KernelInfo& info)
      : axis_(info.attrs->GetInt("axis", 1)),
        block_size_(info.attrs->GetInt("block_size")),
        opset_(info.opset),
        output_dtype_(info.attrs->GetInt("output_dtype")) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(1));
    const Tensor* zp = ctx.input(2);
    RETURN_IF_ERROR(x->dtype() == DType::kInt32
                        ? absl::OkStatus()
                        : VisitQuantized(x->dtype(), "DequantizeLinear: x",
                                         [](auto) { return absl::OkStatus(); }));
    if (zp != nullptr)
      RETURN_IF_ERROR(CheckDType(zp, x->dtype(), "DequantizeLinear", "x_zero_point"));
    ASSIGN_OR_RETURN(AxisLayout layout,
                     ResolveAxis("DequantizeLinear", *x, *scale, zp, axis_, opset_, block_size_));
    ASSIGN_OR_RETURN(const DType out_dtype, DequantizedType(scale->dtype(), output_dtype_));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, out_dtype, x->shape()));
    const std::vector<float> s = ScaleValues(*scale);
    // Computed in float32 and rounded once to the output type, as ONNX's reference does.
    return VisitDType(out_dtype, DTypeSet::kAll, "DequantizeLinear: output", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_floating_point_v<T> || tensor_ops::kIsReducedFloat<T>) {
        T* out = y->data<T>();
        for (int64_t i = 0; i < x->num_elements(); ++i) {
          const int64_t c = layout.Channel(i);
          const auto z = static_cast<float>(ZeroPointValue(zp, c));
          out[i] =
              tensor_ops::ConvertValue<T>((static_cast<float>(x->ElementAsDouble(i)) - z) * s[c]);
        }
        return absl::OkStatus();
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "DequantizeLinear: output_dtype must be a float type, got ", DTypeName(out_dtype)));
      }
    });
  }

 private:
  int64_t axis_;
  int64_t block_size_;
  int opset_;
  int64_t output_dtype_;  // ONNX type code, 0 when absent
};

// ---------------------------------------------------------------------------------------------
// DynamicQuantizeLinear
// ---------------------------------------------------------------------------------------------

absl::Status InferDynamicQuantizeLinear(InferenceContext& ctx) {
  ctx.set_output(0, TensorType{DType::kUInt8, ctx.input(0).shape});
  ctx.set_output(1, TensorType{DType::kFloat32, Shape{}});
  ctx.set_output(2, TensorType{DType::kUInt8, Shape{}});
  return absl::OkStatus();
}

class DynamicQuantizeLinearKernel : public Kernel {
 public:
  explicit DynamicQuantizeLinearKernel(const KernelInfo&) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    RETURN_IF_ERROR(CheckDType(x, DType::kFloat32, "DynamicQuantizeLinear", "x"));
    const float* in = x->data<float>();
    // The range always includes zero, so that zero is exactly representable.
    float lo = 0.0f, hi = 0.0f;
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      if (std::isnan(in[i])) continue;
      lo = std::min(lo, in[i]);
      hi = std::max(hi, in[i]);
    }
    constexpr float kQMin = 0.0f, kQMax = 255.0f;
    // An all-zero input has an empty range: report scale 1 and zero point 0 (as ONNX Runtime).
    const float scale = hi == lo ? 1.0f : (hi - lo) / (kQMax - kQMin);
    const float zp_real = std::min(kQMax, std::max(kQMin, kQMin - lo / scale));
    const int32_t zp = static_cast<int32_t>(std::nearbyint(zp_real));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kUInt8, x->shape()));
    uint8_t* out = y->data<uint8_t>();
    for (int64_t i = 0; i < x->num_elements(); ++i) out[i] = Quantize<uint8_t>(in[i] / scale, zp);
    if (ctx.num_outputs() > 1) {
      ASSIGN_OR_RETURN(Tensor * s, ctx.AllocateOutput(1, DType::kFloat32, {}));
      *s->data<float>() = scale;
    }
    if (ctx.num_outputs() > 2) {
      ASSIGN_OR_RETURN(Tensor * z, ctx.AllocateOutput(2, DType::kUInt8, {}));
      *z->data<uint8_t>() = static_cast<uint8_t>(zp);
    }
    return absl::OkStatus();
  }
};

// ---------------------------------------------------------------------------------------------
// Integer matrix multiplication: MatMulInteger and QLinearMatMul
// ---------------------------------------------------------------------------------------------

// Widens a quantized tensor to int32 and subtracts its zero point. The zero point is a scalar, or
// broadcasts against `shape` (the tensor's shape) after `as_row` reshaping of a 1-D vector to a
// column ([M] -> [M, 1], per row of A) when `per_row`.
absl::StatusOr<std::vector<int32_t>> WidenMinusZeroPoint(absl::string_view op,
                                                         absl::string_view what, const Tensor& q,
                                                         const Tensor* zp, bool per_row) {
  std::vector<int32_t> out(q.num_elements());
  if (zp != nullptr && zp->dtype() != q.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", what, " zero point dtype ",
                                                   DTypeName(zp->dtype()), " differs from ",
                                                   DTypeName(q.dtype())));
  }
  if (zp == nullptr || zp->num_elements() == 1) {
    const int32_t z = ZeroPointAt(zp, 0);
    for (int64_t i = 0; i < q.num_elements(); ++i) {
      out[i] = static_cast<int32_t>(q.ElementAsDouble(i)) - z;
    }
    return out;
  }
  Shape zshape = zp->shape();
  if (per_row && zshape.size() == 1) zshape.push_back(1);
  auto b = BroadcastShapes(q.shape(), zshape);
  if (!b.ok() || *b != q.shape()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ", what, " zero point of shape ", ShapeToString(zp->shape()), " does not apply per ",
        per_row ? "row" : "column", " to shape ", ShapeToString(q.shape())));
  }
  ForEachBroadcast<2>(q.shape(), {&q.shape(), &zshape}, [&](int64_t o, const auto& off) {
    out[o] = static_cast<int32_t>(q.ElementAsDouble(off[0])) -
             static_cast<int32_t>(zp->ElementAsDouble(off[1]));
  });
  return out;
}

// Per-row (of A) or per-column (of B) float scales of QLinearMatMul, expanded to one value per
// row of each A matrix ([batch_a * M]) or per column of each B matrix ([batch_b * N]).
absl::StatusOr<std::vector<float>> ExpandScale(absl::string_view what, const Tensor& scale,
                                               const Shape& shape, bool per_row) {
  RETURN_IF_ERROR(CheckScaleDType(scale, "QLinearMatMul"));
  const std::vector<float> values = ScaleValues(scale);
  // Target: shape with the reduced dimension set to 1 (K of A, K of B).
  Shape target = shape;
  target[target.size() - (per_row ? 1 : 2)] = 1;
  std::vector<float> out(NumElements(target));
  if (scale.num_elements() == 1) {
    std::fill(out.begin(), out.end(), values[0]);
    return out;
  }
  Shape sshape = scale.shape();
  if (per_row && sshape.size() == 1) sshape.push_back(1);
  auto b = BroadcastShapes(target, sshape);
  if (!b.ok() || *b != target) {
    return absl::InvalidArgumentError(absl::StrCat(
        "QLinearMatMul: ", what, " of shape ", ShapeToString(scale.shape()), " does not apply per ",
        per_row ? "row" : "column", " to shape ", ShapeToString(shape)));
  }
  ForEachBroadcast<2>(target, {&target, &sshape},
                      [&](int64_t o, const auto& off) { out[o] = values[off[1]]; });
  return out;
}

// numpy.matmul shapes: 1-D operands are promoted (A to [1, K], B to [K, 1]) and the added
// dimension removed from the result; batch dimensions broadcast.
struct MatMulPlan {
  Shape a, b;   // operands as matrices (rank >= 2)
  Shape out;    // result shape, promoted dimensions removed
  Shape batch;  // broadcast batch shape
  int64_t m = 0, n = 0, k = 0;
  // For each output batch: the A and B matrix index.
  std::vector<int64_t> a_index, b_index;
};

absl::StatusOr<MatMulPlan> PlanMatMul(absl::string_view op, const Shape& a_in, const Shape& b_in) {
  if (a_in.empty() || b_in.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": operands must have rank >= 1, got ",
                                                   ShapeToString(a_in), " and ",
                                                   ShapeToString(b_in)));
  }
  MatMulPlan p;
  p.a = a_in.size() == 1 ? Shape{1, a_in[0]} : a_in;
  p.b = b_in.size() == 1 ? Shape{b_in[0], 1} : b_in;
  p.m = p.a[p.a.size() - 2];
  p.k = p.a.back();
  p.n = p.b.back();
  if (p.b[p.b.size() - 2] != p.k) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": inner dimensions differ: ", ShapeToString(a_in), " x ", ShapeToString(b_in)));
  }
  const Shape a_batch(p.a.begin(), p.a.end() - 2), b_batch(p.b.begin(), p.b.end() - 2);
  auto batch = BroadcastShapes(a_batch, b_batch);
  if (!batch.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": batch dimensions of ",
                                                   ShapeToString(a_in), " and ",
                                                   ShapeToString(b_in), " do not broadcast"));
  }
  p.batch = *batch;
  const int64_t nb = NumElements(p.batch);
  p.a_index.resize(nb);
  p.b_index.resize(nb);
  if (nb > 0) {
    ForEachBroadcast<2>(p.batch, {&a_batch, &b_batch}, [&](int64_t o, const auto& off) {
      p.a_index[o] = off[0];
      p.b_index[o] = off[1];
    });
  }
  p.out = p.batch;
  if (a_in.size() > 1) p.out.push_back(p.m);
  if (b_in.size() > 1) p.out.push_back(p.n);
  return p;
}

// Returns the int32 products (a - a_zp) x (b - b_zp) laid out as plan.batch x M x N.
std::vector<int32_t> IntegerMatMul(const MatMulPlan& p, const std::vector<int32_t>& a,
                                   const std::vector<int32_t>& b) {
  std::vector<int32_t> acc(p.a_index.size() * p.m * p.n);
  for (size_t o = 0; o < p.a_index.size(); ++o) {
    Gemm<int32_t>(false, false, p.m, p.n, p.k, 1, a.data() + p.a_index[o] * p.m * p.k, p.k,
                  b.data() + p.b_index[o] * p.k * p.n, p.n, 0, acc.data() + o * p.m * p.n, p.n);
  }
  return acc;
}

absl::Status InferMatMulShape(InferenceContext& ctx, int a, int b, DType out) {
  TensorType t{out, std::nullopt};
  const TensorType& ta = ctx.input(a);
  const TensorType& tb = ctx.input(b);
  if (ta.shape && tb.shape && !ta.shape->empty() && !tb.shape->empty()) {
    const Shape sa = ta.shape->size() == 1 ? Shape{1, (*ta.shape)[0]} : *ta.shape;
    const Shape sb = tb.shape->size() == 1 ? Shape{(*tb.shape)[0], 1} : *tb.shape;
    ASSIGN_OR_RETURN(Shape batch, BroadcastPartial(Shape(sa.begin(), sa.end() - 2),
                                                   Shape(sb.begin(), sb.end() - 2)));
    if (ta.shape->size() > 1) batch.push_back(sa[sa.size() - 2]);
    if (tb.shape->size() > 1) batch.push_back(sb.back());
    t.shape = batch;
  }
  ctx.set_output(0, t);
  return absl::OkStatus();
}

class MatMulIntegerKernel : public Kernel {
 public:
  explicit MatMulIntegerKernel(const KernelInfo&) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view kOp = "MatMulInteger";
    ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    RETURN_IF_ERROR(
        Visit8Bit(a->dtype(), "MatMulInteger: A", [](auto) { return absl::OkStatus(); }));
    RETURN_IF_ERROR(
        Visit8Bit(b->dtype(), "MatMulInteger: B", [](auto) { return absl::OkStatus(); }));
    ASSIGN_OR_RETURN(MatMulPlan p, PlanMatMul(kOp, a->shape(), b->shape()));
    ASSIGN_OR_RETURN(auto wa, WidenMinusZeroPoint(kOp, "A", *a, ctx.input(2), /*per_row=*/true));
    ASSIGN_OR_RETURN(auto wb, WidenMinusZeroPoint(kOp, "B", *b, ctx.input(3), /*per_row=*/false));
    const std::vector<int32_t> acc = IntegerMatMul(p, wa, wb);
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kInt32, p.out));
    std::copy(acc.begin(), acc.end(), y->data<int32_t>());
    return absl::OkStatus();
  }
};

class QLinearMatMulKernel : public Kernel {
 public:
  explicit QLinearMatMulKernel(const KernelInfo&) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view kOp = "QLinearMatMul";
    std::vector<const Tensor*> in(8);
    for (int i = 0; i < 8; ++i) {
      ASSIGN_OR_RETURN(in[i], ctx.RequiredInput(i));
    }
    const Tensor &a = *in[0], &b = *in[3];
    RETURN_IF_ERROR(
        Visit8Bit(a.dtype(), "QLinearMatMul: a", [](auto) { return absl::OkStatus(); }));
    RETURN_IF_ERROR(
        Visit8Bit(b.dtype(), "QLinearMatMul: b", [](auto) { return absl::OkStatus(); }));
    RETURN_IF_ERROR(CheckScalar(in[6], kOp, "y_scale"));
    RETURN_IF_ERROR(CheckScalar(in[7], kOp, "y_zero_point"));
    RETURN_IF_ERROR(CheckScaleDType(*in[6], kOp));
    ASSIGN_OR_RETURN(MatMulPlan p, PlanMatMul(kOp, a.shape(), b.shape()));
    ASSIGN_OR_RETURN(auto wa, WidenMinusZeroPoint(kOp, "a", a, in[2], /*per_row=*/true));
    ASSIGN_OR_RETURN(auto wb, WidenMinusZeroPoint(kOp, "b", b, in[5], /*per_row=*/false));
    ASSIGN_OR_RETURN(auto sa, ExpandScale("a_scale", *in[1], p.a, /*per_row=*/true));
    ASSIGN_OR_RETURN(auto sb, ExpandScale("b_scale", *in[4], p.b, /*per_row=*/false));
    const std::vector<int32_t> acc = IntegerMatMul(p, wa, wb);
    const float y_scale = ScaleValues(*in[6])[0];
    const int32_t y_zp = ZeroPointAt(in[7], 0);
    return Visit8Bit(in[7]->dtype(), "QLinearMatMul: y_zero_point", [&](auto tag) -> absl::Status {
      using Q = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, in[7]->dtype(), p.out));
      Q* out = y->data<Q>();
      for (size_t o = 0; o < p.a_index.size(); ++o) {
        for (int64_t i = 0; i < p.m; ++i) {
          for (int64_t j = 0; j < p.n; ++j) {
            const float multiplier =
                sa[p.a_index[o] * p.m + i] * sb[p.b_index[o] * p.n + j] / y_scale;
            const int64_t idx = (o * p.m + i) * p.n + j;
            out[idx] = Quantize<Q>(static_cast<float>(acc[idx]) * multiplier, y_zp);
          }
        }
      }
      return absl::OkStatus();
    });
  }
};

// ---------------------------------------------------------------------------------------------
// Integer convolution: ConvInteger and QLinearConv
// ---------------------------------------------------------------------------------------------

// Conv attributes resolved against one input: per spatial dimension kernel, stride, dilation,
// begin and end padding, and output size.
struct ConvGeometry {
  int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1;
  Shape in, kernel, strides, dilations, pad_begin, pad_end, out;
};

// Reads kernel_shape, strides, dilations, pads, auto_pad and group once, at kernel creation.
struct ConvAttrs {
  std::vector<int64_t> kernel_shape, strides, dilations, pads;
  std::string auto_pad;
  int64_t group;
  explicit ConvAttrs(const AttributeMap& a)
      : kernel_shape(a.GetInts("kernel_shape")),
        strides(a.GetInts("strides")),
        dilations(a.GetInts("dilations")),
        pads(a.GetInts("pads")),
        auto_pad(a.GetString("auto_pad", "NOTSET")),
        group(a.GetInt("group", 1)) {}

  // x: [N, C, D1..Dn]; w: [M, C/group, k1..kn]. Unknown dims (-1) give -1 outputs.
  absl::StatusOr<ConvGeometry> Resolve(absl::string_view op, const Shape& x, const Shape& w) const {
    if (x.size() < 3 || w.size() != x.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": x must be [N, C, D1, ...] and w [M, C/group, k1, ...] of the same rank, got ",
          ShapeToString(x), " and ", ShapeToString(w)));
    }
    const size_t nd = x.size() - 2;
    ConvGeometry g;
    g.batch = x[0];
    g.in_channels = x[1];
    g.out_channels = w[0];
    g.group = group;
    const bool channels_known = x[1] >= 0 && w[1] >= 0;
    if (group <= 0 || (channels_known && x[1] != w[1] * group) ||
        (w[0] >= 0 && w[0] % group != 0)) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": channels do not match group ", group,
                                                     ": x ", ShapeToString(x), ", w ",
                                                     ShapeToString(w)));
    }
    g.in.assign(x.begin() + 2, x.end());
    g.kernel.assign(w.begin() + 2, w.end());
    if (!kernel_shape.empty()) {
      bool match = kernel_shape.size() == nd;
      for (size_t d = 0; match && d < nd; ++d) {
        if (g.kernel[d] < 0) g.kernel[d] = kernel_shape[d];  // unknown during inference
        match = kernel_shape[d] == g.kernel[d];
      }
      if (!match) {
        return absl::InvalidArgumentError(absl::StrCat(op, ": kernel_shape ",
                                                       ShapeToString(kernel_shape),
                                                       " does not match w ", ShapeToString(w)));
      }
    }
    g.strides = strides.empty() ? Shape(nd, 1) : strides;
    g.dilations = dilations.empty() ? Shape(nd, 1) : dilations;
    Shape p = pads.empty() ? Shape(2 * nd, 0) : pads;
    if (g.strides.size() != nd || g.dilations.size() != nd || p.size() != 2 * nd) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": strides, dilations and pads must have ",
                                                     nd, ", ", nd, " and ", 2 * nd,
                                                     " values for input ", ShapeToString(x)));
    }
    g.pad_begin.assign(p.begin(), p.begin() + nd);
    g.pad_end.assign(p.begin() + nd, p.end());
    g.out.resize(nd);
    for (size_t d = 0; d < nd; ++d) {
      if (g.strides[d] <= 0 || g.dilations[d] <= 0 || g.pad_begin[d] < 0 || g.pad_end[d] < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(op, ": strides and dilations must be positive and pads non-negative"));
      }
      const int64_t span = (g.kernel[d] - 1) * g.dilations[d] + 1;
      if (g.in[d] < 0 || g.kernel[d] < 0) {
        g.out[d] = -1;
        continue;
      }
      if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        g.out[d] = (g.in[d] + g.strides[d] - 1) / g.strides[d];
        const int64_t total = std::max<int64_t>(0, (g.out[d] - 1) * g.strides[d] + span - g.in[d]);
        g.pad_begin[d] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        g.pad_end[d] = total - g.pad_begin[d];
        continue;
      }
      if (auto_pad == "VALID") {
        g.pad_begin[d] = g.pad_end[d] = 0;
      } else if (auto_pad != "NOTSET") {
        return absl::InvalidArgumentError(absl::StrCat(op, ": unknown auto_pad '", auto_pad, "'"));
      }
      const int64_t padded = g.in[d] + g.pad_begin[d] + g.pad_end[d];
      if (padded < span) {
        return absl::InvalidArgumentError(
            absl::StrCat(op, ": kernel ", ShapeToString(g.kernel),
                         " (dilated) is larger than the padded input ", ShapeToString(x)));
      }
      g.out[d] = (padded - span) / g.strides[d] + 1;
    }
    return g;
  }
};

absl::Status InferConvInteger(InferenceContext& ctx, DType out_dtype, int w_input) {
  TensorType t{out_dtype, std::nullopt};
  const TensorType& x = ctx.input(0);
  const TensorType& w = ctx.input(w_input);
  if (x.shape && w.shape) {
    ASSIGN_OR_RETURN(ConvGeometry g, ConvAttrs(ctx.attrs()).Resolve("Conv", *x.shape, *w.shape));
    Shape out = {g.batch, g.out_channels};
    out.insert(out.end(), g.out.begin(), g.out.end());
    t.shape = out;
  }
  ctx.set_output(0, t);
  return absl::OkStatus();
}

// acc[n][m][out...] = sum over the group's channels and the kernel window of
// (x - x_zp) * (w - w_zp), with padding contributing zero. Layout: [N, M, prod(out)].
std::vector<int32_t> IntegerConv(const ConvGeometry& g, const std::vector<int32_t>& x,
                                 const std::vector<int32_t>& w) {
  const size_t nd = g.in.size();
  const int64_t in_size = NumElements(g.in), out_size = NumElements(g.out);
  const int64_t k_size = NumElements(g.kernel);
  const int64_t cg = g.in_channels / g.group, mg = g.out_channels / g.group;
  const int64_t rows = cg * k_size;
  std::vector<int32_t> col(rows * out_size);
  std::vector<int32_t> acc(g.batch * g.out_channels * out_size);
  const std::vector<int64_t> in_strides = Strides(g.in);
  std::vector<int64_t> kidx(nd), oidx(nd);
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t grp = 0; grp < g.group; ++grp) {
      // im2col: row (c, kernel offset), column output position.
      for (int64_t c = 0; c < cg; ++c) {
        const int32_t* xc = x.data() + (n * g.in_channels + grp * cg + c) * in_size;
        std::fill(kidx.begin(), kidx.end(), 0);
        for (int64_t kk = 0; kk < k_size; ++kk) {
          int32_t* row = col.data() + (c * k_size + kk) * out_size;
          std::fill(oidx.begin(), oidx.end(), 0);
          for (int64_t o = 0; o < out_size; ++o) {
            int64_t offset = 0;
            bool inside = true;
            for (size_t d = 0; d < nd && inside; ++d) {
              const int64_t pos =
                  oidx[d] * g.strides[d] - g.pad_begin[d] + kidx[d] * g.dilations[d];
              inside = pos >= 0 && pos < g.in[d];
              offset += pos * in_strides[d];
            }
            row[o] = inside ? xc[offset] : 0;
            for (int d = static_cast<int>(nd) - 1; d >= 0 && ++oidx[d] == g.out[d]; --d)
              oidx[d] = 0;
          }
          for (int d = static_cast<int>(nd) - 1; d >= 0 && ++kidx[d] == g.kernel[d]; --d)
            kidx[d] = 0;
        }
      }
      Gemm<int32_t>(false, false, mg, out_size, rows, 1, w.data() + grp * mg * rows, rows,
                    col.data(), out_size, 0,
                    acc.data() + (n * g.out_channels + grp * mg) * out_size, out_size);
    }
  }
  return acc;
}

// Widens w to int32 minus its zero point: a scalar, or one per output channel ([M]).
absl::StatusOr<std::vector<int32_t>> WidenWeights(absl::string_view op, const Tensor& w,
                                                  const Tensor* zp) {
  if (zp != nullptr && zp->dtype() != w.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": w zero point dtype ",
                                                   DTypeName(zp->dtype()), " differs from w's ",
                                                   DTypeName(w.dtype())));
  }
  if (zp != nullptr && zp->num_elements() != 1 && (zp->rank() != 1 || zp->dim(0) != w.dim(0))) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": w zero point must be a scalar or have one value per output channel (",
                     w.dim(0), "), got shape ", ShapeToString(zp->shape())));
  }
  const int64_t per_channel = w.dim(0) == 0 ? 0 : w.num_elements() / w.dim(0);
  std::vector<int32_t> out(w.num_elements());
  for (int64_t i = 0; i < w.num_elements(); ++i) {
    out[i] = static_cast<int32_t>(w.ElementAsDouble(i)) - ZeroPointAt(zp, i / per_channel);
  }
  return out;
}

class ConvIntegerKernel : public Kernel {
 public:
  explicit ConvIntegerKernel(const KernelInfo& info) : attrs_(*info.attrs) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view kOp = "ConvInteger";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* w, ctx.RequiredInput(1));
    RETURN_IF_ERROR(Visit8Bit(x->dtype(), "ConvInteger: x", [](auto) { return absl::OkStatus(); }));
    RETURN_IF_ERROR(Visit8Bit(w->dtype(), "ConvInteger: w", [](auto) { return absl::OkStatus(); }));
    RETURN_IF_ERROR(CheckScalar(ctx.input(2), kOp, "x_zero_point"));
    ASSIGN_OR_RETURN(ConvGeometry g, attrs_.Resolve(kOp, x->shape(), w->shape()));
    ASSIGN_OR_RETURN(auto wx, WidenMinusZeroPoint(kOp, "x", *x, ctx.input(2), false));
    ASSIGN_OR_RETURN(auto ww, WidenWeights(kOp, *w, ctx.input(3)));
    const std::vector<int32_t> acc = IntegerConv(g, wx, ww);
    Shape out = {g.batch, g.out_channels};
    out.insert(out.end(), g.out.begin(), g.out.end());
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kInt32, out));
    std::copy(acc.begin(), acc.end(), y->data<int32_t>());
    return absl::OkStatus();
  }

 private:
  ConvAttrs attrs_;
};

class QLinearConvKernel : public Kernel {
 public:
  explicit QLinearConvKernel(const KernelInfo& info) : attrs_(*info.attrs) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view kOp = "QLinearConv";
    std::vector<const Tensor*> in(8);
    for (int i = 0; i < 8; ++i) {
      ASSIGN_OR_RETURN(in[i], ctx.RequiredInput(i));
    }
    const Tensor* bias = ctx.input(8);
    const Tensor &x = *in[0], &w = *in[3];
    RETURN_IF_ERROR(Visit8Bit(x.dtype(), "QLinearConv: x", [](auto) { return absl::OkStatus(); }));
    RETURN_IF_ERROR(Visit8Bit(w.dtype(), "QLinearConv: w", [](auto) { return absl::OkStatus(); }));
    for (int i : {1, 2, 6, 7}) {
      RETURN_IF_ERROR(CheckScalar(in[i], kOp,
                                  i == 1   ? "x_scale"
                                  : i == 2 ? "x_zero_point"
                                  : i == 6 ? "y_scale"
                                           : "y_zero_point"));
    }
    RETURN_IF_ERROR(CheckDType(in[1], DType::kFloat32, kOp, "x_scale"));
    RETURN_IF_ERROR(CheckDType(in[4], DType::kFloat32, kOp, "w_scale"));
    RETURN_IF_ERROR(CheckDType(in[6], DType::kFloat32, kOp, "y_scale"));
    ASSIGN_OR_RETURN(ConvGeometry g, attrs_.Resolve(kOp, x.shape(), w.shape()));
    const int64_t m = g.out_channels;
    if (in[4]->num_elements() != 1 && (in[4]->rank() != 1 || in[4]->dim(0) != m)) {
      return absl::InvalidArgumentError(
          absl::StrCat(kOp, ": w_scale must be a scalar or have one value per output channel (", m,
                       "), got shape ", ShapeToString(in[4]->shape())));
    }
    if (bias != nullptr) {
      RETURN_IF_ERROR(CheckDType(bias, DType::kInt32, kOp, "B"));
      if (bias->shape() != Shape{m}) {
        return absl::InvalidArgumentError(
            absl::StrCat(kOp, ": B must have shape [", m, "], got ", ShapeToString(bias->shape())));
      }
    }
    ASSIGN_OR_RETURN(auto wx, WidenMinusZeroPoint(kOp, "x", x, in[2], false));
    ASSIGN_OR_RETURN(auto ww, WidenWeights(kOp, w, in[5]));
    const std::vector<int32_t> acc = IntegerConv(g, wx, ww);
    const float x_scale = in[1]->data<float>()[0], y_scale = in[6]->data<float>()[0];
    const float* w_scale = in[4]->data<float>();
    const int32_t y_zp = ZeroPointAt(in[7], 0);
    Shape out_shape = {g.batch, m};
    out_shape.insert(out_shape.end(), g.out.begin(), g.out.end());
    const int64_t out_size = NumElements(g.out);
    return Visit8Bit(in[7]->dtype(), "QLinearConv: y_zero_point", [&](auto tag) -> absl::Status {
      using Q = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, in[7]->dtype(), out_shape));
      Q* out = y->data<Q>();
      for (int64_t n = 0; n < g.batch; ++n) {
        for (int64_t c = 0; c < m; ++c) {
          const float multiplier = x_scale * w_scale[in[4]->num_elements() == 1 ? 0 : c] / y_scale;
          const int32_t b = bias ? bias->data<int32_t>()[c] : 0;
          const int64_t base = (n * m + c) * out_size;
          for (int64_t i = 0; i < out_size; ++i) {
            out[base + i] = Quantize<Q>(static_cast<float>(acc[base + i] + b) * multiplier, y_zp);
          }
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  ConvAttrs attrs_;
};

// Conv attributes shared by ConvInteger and QLinearConv.
OpSchema& ConvAttributes(OpSchema& s) {
  return s.Attr("auto_pad", std::string("NOTSET"))
      .OptionalAttr("dilations", AttrType::kInts)
      .Attr("group", int64_t{1})
      .OptionalAttr("kernel_shape", AttrType::kInts)
      .OptionalAttr("pads", AttrType::kInts)
      .OptionalAttr("strides", AttrType::kInts);
}

OpSchema ConvIntegerSchema() {
  OpSchema s("ConvInteger");
  s.Versions(10).Inputs(2, 4).Infer(
      [](InferenceContext& ctx) { return InferConvInteger(ctx, DType::kInt32, 1); });
  return ConvAttributes(s);
}

OpSchema QLinearConvSchema() {
  OpSchema s("QLinearConv");
  s.Versions(10).Inputs(8, 9).Infer(
      [](InferenceContext& ctx) { return InferConvInteger(ctx, ctx.input(7).dtype, 3); });
  return ConvAttributes(s);
}

const std::vector<DType>& EightBitTypes() {
  static const auto* types = new std::vector<DType>{DType::kUInt8, DType::kInt8};
  return *types;
}

}  // namespace

// saturate (19) applies to float8 outputs; the division is in float whatever `precision` (23)
// asks; block_size and output_dtype (21) are honoured.
CORTADO_REGISTER_OP(OpSchema("QuantizeLinear")
                        .Versions(10)
                        .Inputs(2, 3)
                        .Attr("axis", int64_t{1})
                        .Attr("block_size", int64_t{0})
                        .Attr("output_dtype", int64_t{0})
                        .Attr("saturate", int64_t{1})
                        .Attr("precision", int64_t{0})
                        .Infer(InferQuantizeLinear));
CORTADO_REGISTER_KERNEL("QuantizeLinear", kCpuBackend, 10, kMaxOpset,
                        (std::vector<DType>{DType::kFloat32, DType::kFloat64, DType::kFloat16,
                                            DType::kBFloat16, DType::kInt32}),
                        MakeFactory<QuantizeLinearKernel>());

CORTADO_REGISTER_OP(OpSchema("DequantizeLinear")
                        .Versions(10)
                        .Inputs(2, 3)
                        .Attr("axis", int64_t{1})
                        .Attr("block_size", int64_t{0})    // opset 21
                        .Attr("output_dtype", int64_t{0})  // opset 23
                        .Infer(InferDequantizeLinear));
CORTADO_REGISTER_KERNEL("DequantizeLinear", kCpuBackend, 10, kMaxOpset, tensor_ops::AnyType(),
                        MakeFactory<DequantizeLinearKernel>());

CORTADO_REGISTER_OP(OpSchema("DynamicQuantizeLinear")
                        .Versions(11)
                        .Inputs(1, 1)
                        .Outputs(3, 3)
                        .Infer(InferDynamicQuantizeLinear));
CORTADO_REGISTER_KERNEL("DynamicQuantizeLinear", kCpuBackend, 11, kMaxOpset,
                        std::vector<DType>{DType::kFloat32},
                        MakeFactory<DynamicQuantizeLinearKernel>());

CORTADO_REGISTER_OP(
    OpSchema("MatMulInteger").Versions(10).Inputs(2, 4).Infer([](InferenceContext& ctx) {
      return InferMatMulShape(ctx, 0, 1, DType::kInt32);
    }));
CORTADO_REGISTER_KERNEL("MatMulInteger", kCpuBackend, 10, kMaxOpset, EightBitTypes(),
                        MakeFactory<MatMulIntegerKernel>());

CORTADO_REGISTER_OP(
    OpSchema("QLinearMatMul").Versions(10).Inputs(8, 8).Infer([](InferenceContext& ctx) {
      return InferMatMulShape(ctx, 0, 3, ctx.input(7).dtype);
    }));
CORTADO_REGISTER_KERNEL("QLinearMatMul", kCpuBackend, 10, kMaxOpset, EightBitTypes(),
                        MakeFactory<QLinearMatMulKernel>());

CORTADO_REGISTER_OP(ConvIntegerSchema());
CORTADO_REGISTER_KERNEL("ConvInteger", kCpuBackend, 10, kMaxOpset, EightBitTypes(),
                        MakeFactory<ConvIntegerKernel>());

CORTADO_REGISTER_OP(QLinearConvSchema());
CORTADO_REGISTER_KERNEL("QLinearConv", kCpuBackend, 10, kMaxOpset, EightBitTypes(),
                        MakeFactory<QLinearConvKernel>());

}  // namespace cortado
