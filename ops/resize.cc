// Resize (opsets 10..) and Upsample (opsets 7..9): nearest, n-linear and cubic interpolation
// over every dimension, with ONNX's coordinate transformation modes, nearest rounding modes,
// exclude_outside and tf_crop_and_resize extrapolation; from opset 18 `axes`,
// keep_aspect_ratio_policy and antialiased (widened) linear and cubic filters, from 19
// half_pixel_symmetric. Semantics follow ONNX's reference implementation
// (onnx/backend/test/case/node/resize.py, onnx/reference/ops/op_resize.py); Resize-10 and
// Upsample map output to input coordinates as `asymmetric` and round nearest the way those
// opsets did (floor when upsampling, ceil when downsampling).
//
// Interpolation is separable, so each dimension is resampled in turn: nearest copies elements
// (every dtype, exactly); linear and cubic compute in double and convert back.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/registry.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace tensor_ops {
namespace {

enum class Mode { kNearest, kLinear, kCubic };
enum class Coord {
  kHalfPixel,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,
  kTfCropAndResize,
  kHalfPixelSymmetric
};
enum class AspectPolicy { kStretch, kNotLarger, kNotSmaller };
enum class Rounding { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kLegacy };

struct ResizeParams {
  Mode mode = Mode::kNearest;
  Coord coord = Coord::kHalfPixel;
  Rounding rounding = Rounding::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0;
  bool antialias = false;
  AspectPolicy policy = AspectPolicy::kStretch;
};

// Which inputs hold what, by op and opset.
struct InputLayout {
  int roi = -1, scales = -1, sizes = -1;
  bool scales_attr = false;  // Upsample-7
};

InputLayout Layout(absl::string_view op, int opset) {
  if (op == "Upsample") return opset < 9 ? InputLayout{-1, -1, -1, true} : InputLayout{-1, 1, -1};
  if (opset < 11) return {-1, 1, -1};
  return {1, 2, 3};
}

absl::StatusOr<ResizeParams> ParseParams(const AttributeMap& attrs, absl::string_view op,
                                         int opset) {
  ResizeParams p;
  const std::string mode = attrs.GetString("mode", "nearest");
  if (mode == "nearest") {
    p.mode = Mode::kNearest;
  } else if (mode == "linear" || mode == "bilinear") {
    p.mode = Mode::kLinear;
  } else if (mode == "cubic" && op == "Resize" && opset >= 11) {
    p.mode = Mode::kCubic;
  } else {
    return Bad(op, "unsupported mode '", mode, "'");
  }
  if (op == "Upsample" || opset < 11) {
    p.coord = Coord::kAsymmetric;
    p.rounding = Rounding::kLegacy;
    return p;
  }
  const std::string coord = attrs.GetString("coordinate_transformation_mode", "half_pixel");
  if (coord == "half_pixel") {
    p.coord = Coord::kHalfPixel;
  } else if (coord == "pytorch_half_pixel") {
    p.coord = Coord::kPytorchHalfPixel;
  } else if (coord == "align_corners") {
    p.coord = Coord::kAlignCorners;
  } else if (coord == "asymmetric") {
    p.coord = Coord::kAsymmetric;
  } else if (coord == "tf_half_pixel_for_nn") {
    p.coord = Coord::kTfHalfPixelForNn;
  } else if (coord == "tf_crop_and_resize") {
    p.coord = Coord::kTfCropAndResize;
  } else if (coord == "half_pixel_symmetric" && opset >= 19) {
    p.coord = Coord::kHalfPixelSymmetric;
  } else {
    return Bad(op, "unsupported coordinate_transformation_mode '", coord, "'");
  }
  const std::string rounding = attrs.GetString("nearest_mode", "round_prefer_floor");
  if (rounding == "round_prefer_floor") {
    p.rounding = Rounding::kRoundPreferFloor;
  } else if (rounding == "round_prefer_ceil") {
    p.rounding = Rounding::kRoundPreferCeil;
  } else if (rounding == "floor") {
    p.rounding = Rounding::kFloor;
  } else if (rounding == "ceil") {
    p.rounding = Rounding::kCeil;
  } else {
    return Bad(op, "unsupported nearest_mode '", rounding, "'");
  }
  p.cubic_a = attrs.GetFloat("cubic_coeff_a", -0.75f);
  p.exclude_outside = attrs.GetInt("exclude_outside") != 0;
  p.extrapolation = attrs.GetFloat("extrapolation_value");
  p.antialias = attrs.GetInt("antialias") != 0;
  if (p.antialias && p.mode == Mode::kNearest) {
    return Bad(op, "antialias needs linear or cubic mode");
  }
  const std::string policy = attrs.GetString("keep_aspect_ratio_policy", "stretch");
  if (policy == "not_larger") {
    p.policy = AspectPolicy::kNotLarger;
  } else if (policy == "not_smaller") {
    p.policy = AspectPolicy::kNotSmaller;
  } else if (policy != "stretch") {
    return Bad(op, "unsupported keep_aspect_ratio_policy '", policy, "'");
  }
  return p;
}

// Resize-18's `axes`: scales, sizes and roi hold values for those axes only. Returns them for
// every axis (scale 1, the input's size and roi 0..1 elsewhere), and the axes resized.
struct AxisValues {
  std::optional<std::vector<double>> scales, sizes, roi;
  std::vector<bool> resized;
};

absl::StatusOr<AxisValues> OnAxes(AxisValues v, const std::vector<int64_t>& axes, const Shape& in,
                                  absl::string_view op) {
  const int rank = static_cast<int>(in.size());
  if (axes.empty()) {
    v.resized.assign(rank, true);
    return v;
  }
  v.resized.assign(rank, false);
  std::vector<int> resolved;
  for (int64_t a : axes) {
    ASSIGN_OR_RETURN(int axis, Axis(a, rank, op));
    if (v.resized[axis]) return Bad(op, "axes repeats axis ", a);
    v.resized[axis] = true;
    resolved.push_back(axis);
  }
  const size_t n = resolved.size();
  auto spread = [&](std::optional<std::vector<double>>& values, const char* name, size_t per_axis,
                    auto fill) -> absl::Status {
    if (!values) return absl::OkStatus();
    if (values->size() != per_axis * n) {
      return Bad(op, name, " has ", values->size(), " entries for ", n, " axes");
    }
    std::vector<double> full(per_axis * rank);
    for (int d = 0; d < rank; ++d) {
      for (size_t k = 0; k < per_axis; ++k) full[k * rank + d] = fill(d, k);
    }
    for (size_t i = 0; i < n; ++i) {
      for (size_t k = 0; k < per_axis; ++k) full[k * rank + resolved[i]] = (*values)[k * n + i];
    }
    values = std::move(full);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(spread(v.scales, "scales", 1, [](int, size_t) { return 1.0; }));
  RETURN_IF_ERROR(
      spread(v.sizes, "sizes", 1, [&](int d, size_t) { return static_cast<double>(in[d]); }));
  RETURN_IF_ERROR(spread(v.roi, "roi", 2, [](int, size_t k) { return k == 0 ? 0.0 : 1.0; }));
  return v;
}

// The values of an optional float or integer input; nullopt when absent or empty.
std::optional<std::vector<double>> DoubleValues(const Tensor* t) {
  if (t == nullptr || !t->defined() || t->num_elements() == 0 || t->dtype() == DType::kString) {
    return std::nullopt;
  }
  std::vector<double> v(t->num_elements());
  for (int64_t i = 0; i < t->num_elements(); ++i) v[i] = t->ElementAsDouble(i);
  return v;
}

// Output shape and per-dimension scale from `scales` or `sizes` (exactly one must be given).
// Input dims may be -1 (inference): the output dim is then -1 too.
struct Geometry {
  Shape out;
  std::vector<double> scale;
};

absl::StatusOr<Geometry> ComputeGeometry(const Shape& in,
                                         const std::optional<std::vector<double>>& scales,
                                         const std::optional<std::vector<double>>& sizes,
                                         absl::string_view op,
                                         AspectPolicy policy = AspectPolicy::kStretch,
                                         const std::vector<bool>& resized = {}) {
  const size_t rank = in.size();
  if (scales.has_value() == sizes.has_value()) {
    return Bad(op, "exactly one of scales and sizes must be given");
  }
  const std::vector<double>& v = scales ? *scales : *sizes;
  if (v.size() != rank) {
    return Bad(op, scales ? "scales" : "sizes", " has ", v.size(), " entries for input ",
               ShapeToString(in));
  }
  Geometry g{Shape(rank), std::vector<double>(rank)};
  for (size_t d = 0; d < rank; ++d) {
    if (scales) {
      if (!(v[d] > 0) || !(v[d] < 1e9)) return Bad(op, "invalid scale ", v[d]);
      g.scale[d] = v[d];
      const double out = std::floor(v[d] * static_cast<double>(in[d]));
      if (!(out < 1e15)) return Bad(op, "scale ", v[d], " makes dim ", in[d], " too large");
      g.out[d] = in[d] < 0 ? -1 : static_cast<int64_t>(out);
    } else {
      if (!(v[d] >= 0) || !(v[d] < 1e15)) return Bad(op, "invalid size ", v[d]);
      g.out[d] = static_cast<int64_t>(v[d]);
      g.scale[d] = in[d] > 0 ? v[d] / static_cast<double>(in[d]) : 1.0;
    }
  }
  if (sizes && policy != AspectPolicy::kStretch) {
    // One scale for every resized axis, the smallest (not_larger) or largest (not_smaller) of
    // theirs; sizes then round half up.
    std::optional<double> scale;
    for (size_t d = 0; d < rank; ++d) {
      if (!resized.empty() && !resized[d]) continue;
      if (in[d] < 0) return g;  // unknown until run time
      if (!scale) scale = g.scale[d];
      scale = policy == AspectPolicy::kNotLarger ? std::min(*scale, g.scale[d])
                                                 : std::max(*scale, g.scale[d]);
    }
    for (size_t d = 0; d < rank && scale; ++d) {
      if (!resized.empty() && !resized[d]) continue;
      g.scale[d] = *scale;
      g.out[d] = static_cast<int64_t>(*scale * static_cast<double>(in[d]) + 0.5);
    }
  }
  return g;
}

struct Tap {
  int64_t index;
  double weight;
};
// Taps of each output position along one axis; an empty list means "outside": the output is the
// extrapolation value.
using AxisTaps = std::vector<std::vector<Tap>>;

std::vector<double> LinearCoeffs(double r) { return {1 - r, r}; }

std::vector<double> CubicCoeffs(double r, double a) {
  return {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
          ((a + 2) * r - (a + 3)) * r * r + 1,
          ((a + 2) * (1 - r) - (a + 3)) * (1 - r) * (1 - r) + 1,
          ((a * ((1 - r) + 1) - 5 * a) * ((1 - r) + 1) + 8 * a) * ((1 - r) + 1) - 4 * a};
}

// Antialiased filters (Resize-18): when downsampling, the linear (support 1) or cubic (support 2)
// kernel is stretched by 1/scale and normalized, as ONNX's reference does. The taps start at
// `floor(-support / scale) + 1` samples from the base index.
std::vector<double> AntialiasCoeffs(double r, double scale, bool cubic, double a, int64_t* start) {
  scale = std::min(scale, 1.0);
  const double support = cubic ? 2 : 1;
  *start = static_cast<int64_t>(std::floor(-support / scale)) + 1;
  const int64_t count = 2 - 2 * *start;
  std::vector<double> w(count);
  double sum = 0;
  for (int64_t i = 0; i < count; ++i) {
    const double x = std::abs(scale * (static_cast<double>(*start + i) - r));
    if (cubic) {
      w[i] = x <= 1  ? ((a + 2) * x - (a + 3)) * x * x + 1
             : x < 2 ? ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
                     : 0;
    } else {
      w[i] = std::max(0.0, 1 - x);
    }
    sum += w[i];
  }
  for (double& v : w) v /= sum;
  return w;
}

AxisTaps ComputeTaps(const ResizeParams& p, int64_t in, int64_t out, double scale, double roi_start,
                     double roi_end) {
  AxisTaps taps(out);
  const double length = scale * static_cast<double>(in);  // as the reference computes it
  for (int64_t j = 0; j < out; ++j) {
    const double x = static_cast<double>(j);
    double xo = 0;
    switch (p.coord) {
      case Coord::kHalfPixel:
        xo = (x + 0.5) / scale - 0.5;
        break;
      case Coord::kPytorchHalfPixel:
        xo = length > 1 ? (x + 0.5) / scale - 0.5 : 0;
        break;
      case Coord::kAlignCorners:
        xo = length == 1 ? 0 : x * static_cast<double>(in - 1) / (length - 1);
        break;
      case Coord::kAsymmetric:
        xo = x / scale;
        break;
      case Coord::kTfHalfPixelForNn:
        xo = (x + 0.5) / scale;
        break;
      case Coord::kHalfPixelSymmetric: {
        const double center = static_cast<double>(in) / 2;
        xo = center * (1 - static_cast<double>(out) / length) + (x + 0.5) / scale - 0.5;
        break;
      }
      case Coord::kTfCropAndResize:
        xo = length > 1 ? x * (roi_end - roi_start) * static_cast<double>(in - 1) / (length - 1)
                        : (roi_end - roi_start) * static_cast<double>(in - 1) / 2;
        xo += roi_start * static_cast<double>(in - 1);
        if (xo < 0 || xo > static_cast<double>(in - 1)) continue;  // extrapolate
        break;
    }
    const double fl = std::floor(xo);
    const double ratio = xo - fl;
    const int64_t base = static_cast<int64_t>(fl);
    auto clamp = [in](int64_t i) { return std::clamp<int64_t>(i, 0, in - 1); };
    if (p.mode == Mode::kNearest) {
      int64_t i = base;
      switch (p.rounding) {
        case Rounding::kLegacy:
          i = scale < 1 ? static_cast<int64_t>(std::ceil(xo)) : static_cast<int64_t>(xo);
          break;
        case Rounding::kRoundPreferFloor:
          i = ratio <= 0.5 ? base : base + 1;
          break;
        case Rounding::kRoundPreferCeil:
          i = ratio < 0.5 ? base : base + 1;
          break;
        case Rounding::kFloor:
          i = base;
          break;
        case Rounding::kCeil:
          i = ratio == 0 ? base : base + 1;
          break;
      }
      taps[j] = {{clamp(i), 1.0}};
      continue;
    }
    const bool cubic = p.mode == Mode::kCubic;
    std::vector<double> w;
    int64_t first;
    if (p.antialias) {
      // As the reference: on a sample, the taps lean left (ratio 1 from the sample before).
      const int64_t left = ratio == 0 ? base - 1 : base;
      int64_t start;
      w = AntialiasCoeffs(ratio == 0 ? 1.0 : ratio, scale, cubic, p.cubic_a, &start);
      first = left + start;
    } else if (ratio == 0) {  // exactly on an input sample
      taps[j] = {{clamp(base), 1.0}};
      continue;
    } else {
      w = cubic ? CubicCoeffs(ratio, p.cubic_a) : LinearCoeffs(ratio);
      first = cubic ? base - 1 : base;
    }
    double sum = 0;
    for (size_t t = 0; t < w.size(); ++t) {
      const int64_t i = first + static_cast<int64_t>(t);
      if (p.exclude_outside && (i < 0 || i >= in)) w[t] = 0;
      sum += w[t];
    }
    for (size_t t = 0; t < w.size(); ++t) {
      if (p.exclude_outside) w[t] /= sum;
      taps[j].push_back({clamp(first + static_cast<int64_t>(t)), w[t]});
    }
  }
  return taps;
}

bool IsIdentity(const AxisTaps& taps, int64_t in) {
  if (static_cast<int64_t>(taps.size()) != in) return false;
  for (int64_t j = 0; j < in; ++j) {
    if (taps[j].size() != 1 || taps[j][0].index != j || taps[j][0].weight != 1.0) return false;
  }
  return true;
}

// Resamples `axis` of `data` (of `shape`, updated) through `taps`. T is double (weighted sums)
// or an element storage type (nearest: copies of the single tap).
template <typename T>
std::vector<T> ResampleAxis(const std::vector<T>& data, Shape& shape, int axis,
                            const AxisTaps& taps, const T& extrapolation) {
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  const int64_t n = shape[axis], out_n = static_cast<int64_t>(taps.size());
  std::vector<T> out(outer * out_n * inner);
  for (int64_t o = 0; o < outer; ++o) {
    const T* src = data.data() + o * n * inner;
    for (int64_t j = 0; j < out_n; ++j) {
      T* dst = out.data() + (o * out_n + j) * inner;
      const std::vector<Tap>& tj = taps[j];
      if (tj.empty()) {
        std::fill_n(dst, inner, extrapolation);
      } else if constexpr (std::is_same_v<T, double>) {
        for (int64_t i = 0; i < inner; ++i) {
          double acc = 0;
          for (const Tap& t : tj) acc += t.weight * src[t.index * inner + i];
          dst[i] = acc;
        }
      } else {
        std::copy_n(src + tj[0].index * inner, inner, dst);
      }
    }
  }
  shape[axis] = out_n;
  return out;
}

template <typename T>
std::vector<T> ResampleAll(std::vector<T> data, Shape shape, const std::vector<AxisTaps>& taps,
                           const T& extrapolation) {
  for (size_t d = 0; d < shape.size(); ++d) {
    if (IsIdentity(taps[d], shape[d])) continue;
    data = ResampleAxis(data, shape, static_cast<int>(d), taps[d], extrapolation);
  }
  return data;
}

class ResizeKernel : public Kernel {
 public:
  explicit ResizeKernel(const KernelInfo& info)
      : op_(info.op_type),
        layout_(Layout(info.op_type, info.opset)),
        params_(ParseParams(*info.attrs, info.op_type, info.opset)),
        scales_attr_(info.attrs->GetFloats("scales")),
        axes_(info.attrs->GetInts("axes")) {}

  absl::Status Compute(KernelContext& ctx) const override {
    RETURN_IF_ERROR(params_.status());
    const ResizeParams& p = *params_;
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    std::optional<std::vector<double>> scales, sizes, roi;
    if (layout_.scales_attr) {
      scales = std::vector<double>(scales_attr_.begin(), scales_attr_.end());
    } else {
      scales = DoubleValues(ctx.input(layout_.scales));
    }
    if (layout_.sizes >= 0) {
      const Tensor* s = ctx.input(layout_.sizes);
      if (s != nullptr && s->defined() && !IsInteger(s->dtype())) {
        return Bad(op_, "sizes must be int64, got ", DTypeName(s->dtype()));
      }
      sizes = DoubleValues(s);
    }
    if (layout_.roi >= 0) roi = DoubleValues(ctx.input(layout_.roi));
    ASSIGN_OR_RETURN(AxisValues v, OnAxes({scales, sizes, roi, {}}, axes_, x->shape(), op_));
    roi = v.roi;
    ASSIGN_OR_RETURN(Geometry g,
                     ComputeGeometry(x->shape(), v.scales, v.sizes, op_, p.policy, v.resized));
    const int rank = x->rank();
    if (p.coord == Coord::kTfCropAndResize && (!roi || static_cast<int>(roi->size()) != 2 * rank)) {
      return Bad(op_, "tf_crop_and_resize needs roi with ", 2 * rank, " values");
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), g.out));
    if (y->num_elements() == 0) return absl::OkStatus();
    std::vector<AxisTaps> taps(rank);
    const bool crop = p.coord == Coord::kTfCropAndResize;  // the only mode that reads roi
    for (int d = 0; d < rank; ++d) {
      if (x->dim(d) == 0) {
        return Bad(op_, "cannot resize an empty dim of ", ShapeToString(x->shape()));
      }
      const double rs = crop ? (*roi)[d] : 0, re = crop ? (*roi)[d + rank] : 1;
      taps[d] = ComputeTaps(p, x->dim(d), g.out[d], g.scale[d], rs, re);
    }
    if (p.mode == Mode::kNearest) {
      const Tensor fill = ScalarOf(x->dtype(), p.extrapolation);
      return VisitStorage(x->dtype(), op_, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* in = x->data<T>();
        std::vector<T> out = ResampleAll(std::vector<T>(in, in + x->num_elements()), x->shape(),
                                         taps, fill.data<T>()[0]);
        std::copy(out.begin(), out.end(), y->data<T>());
        return absl::OkStatus();
      });
    }
    return VisitDType(x->dtype(), DTypeSet::kAll, op_, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool>) {
        return Bad(op_, "linear and cubic modes do not apply to ", DTypeName(x->dtype()));
      } else {
        std::vector<double> in(x->num_elements());
        for (int64_t i = 0; i < x->num_elements(); ++i) {
          in[i] = ConvertValue<double>(x->data<T>()[i]);
        }
        std::vector<double> out = ResampleAll(std::move(in), x->shape(), taps, p.extrapolation);
        // Back to T as a cast does: integers truncate toward zero (and saturate).
        for (size_t i = 0; i < out.size(); ++i) y->data<T>()[i] = ConvertValue<T>(out[i]);
        return absl::OkStatus();
      }
    });
  }

 private:
  std::string op_;
  InputLayout layout_;
  absl::StatusOr<ResizeParams> params_;
  std::vector<float> scales_attr_;
  std::vector<int64_t> axes_;
};

absl::Status InferResize(InferenceContext& ctx, absl::string_view op) {
  const DType dtype = ctx.input(0).dtype;
  const TensorType& in = ctx.input(0);
  const InputLayout layout = Layout(op, ctx.opset());
  ctx.set_output(
      0, {dtype, in.shape ? std::optional<Shape>(Shape(in.shape->size(), -1)) : std::nullopt});
  if (!in.shape) return absl::OkStatus();
  std::optional<std::vector<double>> scales, sizes;
  bool known = true;
  auto read = [&](int i, std::optional<std::vector<double>>& v) {
    if (i < 0 || !ctx.has_input(i)) return;
    if (ctx.constant(i) == nullptr) {
      // An input known to be empty counts as absent.
      const std::optional<Shape>& s = ctx.input(i).shape;
      known = known && s && NumElements(*s) == 0 && std::count(s->begin(), s->end(), -1) == 0;
      return;
    }
    v = DoubleValues(ctx.constant(i));
  };
  if (layout.scales_attr) {
    const std::vector<float> s = ctx.attrs().GetFloats("scales");
    scales = std::vector<double>(s.begin(), s.end());
  } else {
    read(layout.scales, scales);
  }
  read(layout.sizes, sizes);
  if (!known) return absl::OkStatus();
  // Bad attributes are the kernel's to report; here they only leave the shape unknown.
  absl::StatusOr<ResizeParams> p = ParseParams(ctx.attrs(), op, ctx.opset());
  if (!p.ok()) return absl::OkStatus();
  ASSIGN_OR_RETURN(AxisValues v, OnAxes({scales, sizes, std::nullopt, {}},
                                        ctx.attrs().GetInts("axes"), *in.shape, op));
  ASSIGN_OR_RETURN(Geometry g,
                   ComputeGeometry(*in.shape, v.scales, v.sizes, op, p->policy, v.resized));
  ctx.set_output(0, {dtype, g.out});
  return absl::OkStatus();
}

}  // namespace

CORTADO_REGISTER_OP(OpSchema("Resize")
                        .Versions(10)
                        .Inputs(2, 4)
                        .Attr("mode", std::string("nearest"))
                        .Attr("coordinate_transformation_mode", std::string("half_pixel"))
                        .Attr("nearest_mode", std::string("round_prefer_floor"))
                        .Attr("cubic_coeff_a", -0.75f)
                        .Attr("exclude_outside", int64_t{0})
                        .Attr("extrapolation_value", 0.0f)
                        .Attr("antialias", int64_t{0})                             // opset 18
                        .OptionalAttr("axes", AttrType::kInts)                     // opset 18
                        .Attr("keep_aspect_ratio_policy", std::string("stretch"))  // opset 18
                        .Infer([](InferenceContext& ctx) { return InferResize(ctx, "Resize"); }));
CORTADO_REGISTER_KERNEL("Resize", kCpuBackend, 10, kMaxOpset, AnyType(),
                        MakeFactory<ResizeKernel>());

CORTADO_REGISTER_OP(OpSchema("Upsample")
                        .Versions(7, 9)
                        .Inputs(1, 2)
                        .Attr("mode", std::string("nearest"))
                        .OptionalAttr("scales", AttrType::kFloats)
                        .Infer([](InferenceContext& ctx) { return InferResize(ctx, "Upsample"); }));
CORTADO_REGISTER_KERNEL("Upsample", kCpuBackend, 7, 9, AnyType(), MakeFactory<ResizeKernel>());

}  // namespace tensor_ops
}  // namespace cortado
