// The vision family: NonMaxSuppression (opsets 10..), RoiAlign (10; 16 adds
// coordinate_transformation_mode), GridSample (16), AffineGrid (20) and Col2Im (18). Semantics
// follow the ONNX documents and, where those leave a choice, ONNX Runtime's CPU kernels (which
// ONNX's own test data match): NMS suppresses a box when its IoU with a kept box is strictly above
// iou_threshold and keeps only scores strictly above score_threshold; RoiAlign's max mode takes the
// maximum of the weighted bilinear corner values; GridSample matches
// torch.nn.functional.grid_sample.
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/registry.h"

namespace cortado {
namespace {

absl::Status Invalid(absl::string_view op, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", message));
}

// Optional scalar input (a scalar or one-element tensor) read as double; `def` when absent.
absl::StatusOr<double> OptionalScalar(const Tensor* t, double def, absl::string_view op,
                                      absl::string_view what) {
  if (t == nullptr) return def;
  if (t->num_elements() != 1 || t->rank() > 1) {
    return Invalid(op,
                   absl::StrCat(what, " must be a scalar, got shape ", ShapeToString(t->shape())));
  }
  if (t->dtype() == DType::kString) return Invalid(op, absl::StrCat(what, " must be numeric"));
  return t->ElementAsDouble(0);
}

// Calls f(TypeTag<T>) for float32 and float64 only.
template <typename F>
absl::Status VisitFloat(DType dtype, absl::string_view what, F&& f) {
  switch (dtype) {
    case DType::kFloat32:
      return f(TypeTag<float>{});
    case DType::kFloat64:
      return f(TypeTag<double>{});
    default:
      return Invalid(what, absl::StrCat("unsupported dtype ", DTypeName(dtype),
                                        " (float32 or float64 expected)"));
  }
}

// ---------------------------------------------------------------------------------------------
// NonMaxSuppression
// ---------------------------------------------------------------------------------------------

// A box as its corners, x_min <= x_max and y_min <= y_max.
struct Box {
  float x_min, y_min, x_max, y_max;
};

Box ReadBox(const float* b, bool center_point) {
  if (center_point) {  // [x_center, y_center, width, height]
    const float hw = b[2] / 2, hh = b[3] / 2;
    return {b[0] - hw, b[1] - hh, b[0] + hw, b[1] + hh};
  }
  // [y1, x1, y2, x2], either diagonal.
  return {std::min(b[1], b[3]), std::min(b[0], b[2]), std::max(b[1], b[3]), std::max(b[0], b[2])};
}

// True when IoU(a, b) > threshold. Empty boxes or intersections never suppress.
bool Suppresses(const Box& a, const Box& b, float threshold) {
  const float iw = std::min(a.x_max, b.x_max) - std::max(a.x_min, b.x_min);
  const float ih = std::min(a.y_max, b.y_max) - std::max(a.y_min, b.y_min);
  if (iw <= 0 || ih <= 0) return false;
  const float inter = iw * ih;
  const float area_a = (a.x_max - a.x_min) * (a.y_max - a.y_min);
  const float area_b = (b.x_max - b.x_min) * (b.y_max - b.y_min);
  const float uni = area_a + area_b - inter;
  if (area_a <= 0 || area_b <= 0 || uni <= 0) return false;
  return inter / uni > threshold;
}

class NonMaxSuppressionKernel : public Kernel {
 public:
  explicit NonMaxSuppressionKernel(const KernelInfo& info)
      : center_point_box_(info.attrs->GetInt("center_point_box", 0)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view kOp = "NonMaxSuppression";
    if (center_point_box_ != 0 && center_point_box_ != 1) {
      return Invalid(kOp, absl::StrCat("center_point_box must be 0 or 1, got ", center_point_box_));
    }
    ASSIGN_OR_RETURN(const Tensor* boxes, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* scores, ctx.RequiredInput(1));
    if (boxes->dtype() != DType::kFloat32 || scores->dtype() != DType::kFloat32) {
      return Invalid(
          kOp, absl::StrCat("boxes and scores must be float32, got ", DTypeName(boxes->dtype()),
                            " and ", DTypeName(scores->dtype())));
    }
    if (boxes->rank() != 3 || boxes->dim(2) != 4 || scores->rank() != 3 ||
        scores->dim(0) != boxes->dim(0) || scores->dim(2) != boxes->dim(1)) {
      return Invalid(kOp, absl::StrCat("boxes must be [batch, boxes, 4] and scores [batch, "
                                       "classes, boxes], got ",
                                       ShapeToString(boxes->shape()), " and ",
                                       ShapeToString(scores->shape())));
    }
    ASSIGN_OR_RETURN(const double max_out,
                     OptionalScalar(ctx.input(2), 0, kOp, "max_output_boxes_per_class"));
    ASSIGN_OR_RETURN(const double iou, OptionalScalar(ctx.input(3), 0, kOp, "iou_threshold"));
    const Tensor* score_in = ctx.input(4);
    ASSIGN_OR_RETURN(const double score_threshold,
                     OptionalScalar(score_in, 0, kOp, "score_threshold"));
    if (!(iou >= 0 && iou <= 1)) {
      return Invalid(kOp, absl::StrCat("iou_threshold must be in [0, 1], got ", iou));
    }
    const int64_t batches = boxes->dim(0), classes = scores->dim(1), n = boxes->dim(1);
    const int64_t limit = static_cast<int64_t>(std::max(0.0, std::min(max_out, double(n))));
    const float* box_data = boxes->data<float>();
    const float* score_data = scores->data<float>();
    std::vector<int64_t> selected;  // (batch, class, box) triples
    std::vector<int64_t> order(n);
    std::vector<Box> kept;
    for (int64_t b = 0; b < batches && limit > 0; ++b) {
      for (int64_t c = 0; c < classes; ++c) {
        const float* s = score_data + (b * classes + c) * n;
        order.clear();
        for (int64_t i = 0; i < n; ++i) {
          if (score_in == nullptr || s[i] > static_cast<float>(score_threshold)) order.push_back(i);
        }
        std::stable_sort(order.begin(), order.end(),
                         [s](int64_t i, int64_t j) { return s[i] > s[j]; });
        kept.clear();
        for (int64_t i : order) {
          if (static_cast<int64_t>(kept.size()) >= limit) break;
          const Box box = ReadBox(box_data + (b * n + i) * 4, center_point_box_ == 1);
          const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](const Box& k) {
            return Suppresses(k, box, static_cast<float>(iou));
          });
          if (suppressed) continue;
          kept.push_back(box);
          selected.insert(selected.end(), {b, c, i});
        }
      }
    }
    const int64_t count = static_cast<int64_t>(selected.size()) / 3;
    ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, DType::kInt64, {count, 3}));
    std::copy(selected.begin(), selected.end(), out->data<int64_t>());
    return absl::OkStatus();
  }

 private:
  int64_t center_point_box_;
};

// ---------------------------------------------------------------------------------------------
// RoiAlign
// ---------------------------------------------------------------------------------------------

absl::Status InferRoiAlign(InferenceContext& ctx) {
  TensorType out{ctx.input(0).dtype, std::nullopt};
  const auto& x = ctx.input(0).shape;
  const auto& rois = ctx.input(1).shape;
  if (x && x->size() == 4) {
    out.shape =
        Shape{rois && rois->size() == 2 ? (*rois)[0] : -1, (*x)[1],
              ctx.attrs().GetInt("output_height", 1), ctx.attrs().GetInt("output_width", 1)};
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

class RoiAlignKernel : public Kernel {
 public:
  explicit RoiAlignKernel(const KernelInfo& info)
      : max_mode_(info.attrs->GetString("mode", "avg") == "max"),
        mode_(info.attrs->GetString("mode", "avg")),
        out_h_(info.attrs->GetInt("output_height", 1)),
        out_w_(info.attrs->GetInt("output_width", 1)),
        sampling_ratio_(info.attrs->GetInt("sampling_ratio", 0)),
        spatial_scale_(info.attrs->GetFloat("spatial_scale", 1.0f)),
        // Opset 10 had no attribute and behaved as output_half_pixel.
        transform_(info.opset >= 16
                       ? info.attrs->GetString("coordinate_transformation_mode", "half_pixel")
                       : "output_half_pixel") {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view kOp = "RoiAlign";
    if (mode_ != "avg" && mode_ != "max") {
      return Invalid(kOp, absl::StrCat("mode must be avg or max, got '", mode_, "'"));
    }
    if (transform_ != "half_pixel" && transform_ != "output_half_pixel") {
      return Invalid(kOp, absl::StrCat("coordinate_transformation_mode must be half_pixel or "
                                       "output_half_pixel, got '",
                                       transform_, "'"));
    }
    if (out_h_ <= 0 || out_w_ <= 0 || sampling_ratio_ < 0) {
      return Invalid(kOp,
                     "output_height and output_width must be positive and sampling_ratio "
                     "non-negative");
    }
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* rois, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* batch_indices, ctx.RequiredInput(2));
    if (x->rank() != 4 || rois->rank() != 2 || rois->dim(1) != 4 || batch_indices->rank() != 1 ||
        batch_indices->dim(0) != rois->dim(0)) {
      return Invalid(
          kOp, absl::StrCat("expected X [N, C, H, W], rois [R, 4], batch_indices [R]; "
                            "got ",
                            ShapeToString(x->shape()), ", ", ShapeToString(rois->shape()), ", ",
                            ShapeToString(batch_indices->shape())));
    }
    if (rois->dtype() != x->dtype()) {
      return Invalid(kOp, absl::StrCat("rois dtype ", DTypeName(rois->dtype()),
                                       " differs from X's ", DTypeName(x->dtype())));
    }
    if (batch_indices->dtype() != DType::kInt64 && batch_indices->dtype() != DType::kInt32) {
      return Invalid(kOp, absl::StrCat("batch_indices must be int64, got ",
                                       DTypeName(batch_indices->dtype())));
    }
    ASSIGN_OR_RETURN(const std::vector<int64_t> batch, batch_indices->ToInt64Vector());
    for (int64_t b : batch) {
      if (b < 0 || b >= x->dim(0)) {
        return Invalid(kOp, absl::StrCat("batch index ", b, " out of range for X ",
                                         ShapeToString(x->shape())));
      }
    }
    return VisitFloat(x->dtype(), kOp, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const int64_t r = rois->dim(0), c = x->dim(1);
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), {r, c, out_h_, out_w_}));
      for (int64_t i = 0; i < r; ++i) {
        RETURN_IF_ERROR(
            Pool<T>(*x, rois->data<T>() + i * 4, batch[i], y->data<T>() + i * c * out_h_ * out_w_));
      }
      return absl::OkStatus();
    });
  }

 private:
  // One bilinear sample: four pixel offsets within a channel plane and their weights.
  template <typename T>
  struct Sample {
    std::array<int64_t, 4> pos{};
    std::array<T, 4> w{};
  };

  // The bilinear sample at (y, x) of an h x w plane; all weights zero when outside.
  template <typename T>
  static Sample<T> MakeSample(T y, T x, int64_t h, int64_t w) {
    Sample<T> s;
    if (!(y >= T(-1) && y <= T(h) && x >= T(-1) && x <= T(w))) return s;  // NaN too
    y = std::max(y, T(0));
    x = std::max(x, T(0));
    int64_t y_lo = static_cast<int64_t>(y), x_lo = static_cast<int64_t>(x), y_hi, x_hi;
    if (y_lo >= h - 1) {
      y_hi = y_lo = h - 1;
      y = static_cast<T>(y_lo);
    } else {
      y_hi = y_lo + 1;
    }
    if (x_lo >= w - 1) {
      x_hi = x_lo = w - 1;
      x = static_cast<T>(x_lo);
    } else {
      x_hi = x_lo + 1;
    }
    const T ly = y - y_lo, lx = x - x_lo, hy = 1 - ly, hx = 1 - lx;
    s.pos = {y_lo * w + x_lo, y_lo * w + x_hi, y_hi * w + x_lo, y_hi * w + x_hi};
    s.w = {hy * hx, hy * lx, ly * hx, ly * lx};
    return s;
  }

  // Pools one roi [x1, y1, x2, y2] of image `b` into out [C, out_h, out_w].
  template <typename T>
  absl::Status Pool(const Tensor& x, const T* roi, int64_t b, T* out) const {
    const int64_t c = x.dim(1), h = x.dim(2), w = x.dim(3);
    if (h == 0 || w == 0) {  // nothing to sample
      std::fill(out, out + c * out_h_ * out_w_, T(0));
      return absl::OkStatus();
    }
    const bool half_pixel = transform_ == "half_pixel";
    const T offset = half_pixel ? T(0.5) : T(0);
    const T scale = static_cast<T>(spatial_scale_);
    const T start_w = roi[0] * scale - offset, start_h = roi[1] * scale - offset;
    T roi_w = roi[2] * scale - offset - start_w, roi_h = roi[3] * scale - offset - start_h;
    if (!half_pixel) {  // legacy: force rois to be at least 1x1
      roi_w = std::max(roi_w, T(1));
      roi_h = std::max(roi_h, T(1));
    }
    const T bin_h = roi_h / static_cast<T>(out_h_), bin_w = roi_w / static_cast<T>(out_w_);
    auto grid = [&](T bin) {
      const double g = sampling_ratio_ > 0 ? sampling_ratio_ : std::ceil(static_cast<double>(bin));
      return static_cast<int64_t>(std::max(0.0, std::min(g, 1e6)));  // NaN-safe, bounded
    };
    const int64_t grid_h = grid(bin_h), grid_w = grid(bin_w);
    if (grid_h * grid_w > (int64_t{1} << 24)) {
      return Invalid("RoiAlign", absl::StrCat("roi [", roi[0], ", ", roi[1], ", ", roi[2], ", ",
                                              roi[3], "] needs a ", grid_h, " x ", grid_w,
                                              " sampling grid per bin; too large"));
    }
    const T count = static_cast<T>(std::max<int64_t>(grid_h * grid_w, 1));
    std::vector<Sample<T>> samples(grid_h * grid_w);
    const T* image = x.data<T>() + b * c * h * w;
    for (int64_t ph = 0; ph < out_h_; ++ph) {
      for (int64_t pw = 0; pw < out_w_; ++pw) {
        for (int64_t iy = 0; iy < grid_h; ++iy) {
          const T yy = start_h + ph * bin_h + (iy + T(0.5)) * bin_h / static_cast<T>(grid_h);
          for (int64_t ix = 0; ix < grid_w; ++ix) {
            const T xx = start_w + pw * bin_w + (ix + T(0.5)) * bin_w / static_cast<T>(grid_w);
            samples[iy * grid_w + ix] = MakeSample<T>(yy, xx, h, w);
          }
        }
        for (int64_t ch = 0; ch < c; ++ch) {
          const T* plane = image + ch * h * w;
          T acc = T(0);
          for (size_t k = 0; k < samples.size(); ++k) {
            const Sample<T>& s = samples[k];
            if (max_mode_) {
              T v = s.w[0] * plane[s.pos[0]];
              for (int j = 1; j < 4; ++j) v = std::max(v, s.w[j] * plane[s.pos[j]]);
              acc = k == 0 ? v : std::max(acc, v);
            } else {
              for (int j = 0; j < 4; ++j) acc += s.w[j] * plane[s.pos[j]];
            }
          }
          out[(ch * out_h_ + ph) * out_w_ + pw] = max_mode_ ? acc : acc / count;
        }
      }
    }
    return absl::OkStatus();
  }

  bool max_mode_;
  std::string mode_;
  int64_t out_h_, out_w_, sampling_ratio_;
  float spatial_scale_;
  std::string transform_;
};

// ---------------------------------------------------------------------------------------------
// GridSample
// ---------------------------------------------------------------------------------------------

enum class SampleMode { kBilinear, kNearest, kBicubic };
enum class PaddingMode { kZeros, kBorder, kReflection };

absl::Status InferGridSample(InferenceContext& ctx) {
  TensorType out{ctx.input(0).dtype, std::nullopt};
  const auto& x = ctx.input(0).shape;
  const auto& grid = ctx.input(1).shape;
  if (x && x->size() == 4) {
    const bool g = grid && grid->size() == 4;
    out.shape = Shape{(*x)[0], (*x)[1], g ? (*grid)[1] : -1, g ? (*grid)[2] : -1};
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

// Reflects x into [lo, hi] (as ONNX Runtime and PyTorch do).
template <typename T>
T Reflect(T x, T lo, T hi) {
  const T range = hi - lo;
  if (range <= T(0)) return lo;
  if (x < lo) {
    const T d = lo - x;
    const T n = std::floor(d / range), r = d - n * range;
    return std::fmod(n, T(2)) == T(0) ? lo + r : hi - r;
  }
  if (x > hi) {
    const T d = x - hi;
    const T n = std::floor(d / range), r = d - n * range;
    return std::fmod(n, T(2)) == T(0) ? hi - r : lo + r;
  }
  return x;
}

// Cubic convolution weights (A = -0.75) of the four taps around a point at fraction t.
template <typename T>
std::array<T, 4> CubicWeights(T t) {
  constexpr T a = T(-0.75);
  auto near = [&](T d) { return ((a + 2) * d - (a + 3)) * d * d + 1; };       // |d| <= 1
  auto far = [&](T d) { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a; };  // 1 < |d| < 2
  return {far(t + 1), near(t), near(1 - t), far(2 - t)};
}

class GridSampleKernel : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    std::unique_ptr<GridSampleKernel> k(new GridSampleKernel());
    const std::string mode = info.attrs->GetString("mode", "bilinear");
    const std::string padding = info.attrs->GetString("padding_mode", "zeros");
    k->align_corners_ = info.attrs->GetInt("align_corners", 0) != 0;
    if (mode == "bilinear" || mode == "linear") {
      k->mode_ = SampleMode::kBilinear;
    } else if (mode == "nearest") {
      k->mode_ = SampleMode::kNearest;
    } else if (mode == "bicubic" || mode == "cubic") {
      k->mode_ = SampleMode::kBicubic;
    } else {
      return Invalid("GridSample", absl::StrCat("unknown mode '", mode, "'"));
    }
    if (padding == "zeros") {
      k->padding_ = PaddingMode::kZeros;
    } else if (padding == "border") {
      k->padding_ = PaddingMode::kBorder;
    } else if (padding == "reflection") {
      k->padding_ = PaddingMode::kReflection;
    } else {
      return Invalid("GridSample", absl::StrCat("unknown padding_mode '", padding, "'"));
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view kOp = "GridSample";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* grid, ctx.RequiredInput(1));
    if (x->rank() != 4 || grid->rank() != 4 || grid->dim(3) != 2 || grid->dim(0) != x->dim(0)) {
      return Invalid(
          kOp, absl::StrCat("expected X [N, C, H, W] and grid [N, H_out, W_out, 2], "
                            "got ",
                            ShapeToString(x->shape()), " and ", ShapeToString(grid->shape())));
    }
    return VisitFloat(x->dtype(), "GridSample: X", [&](auto xtag) -> absl::Status {
      using T = typename decltype(xtag)::type;
      return VisitFloat(grid->dtype(), "GridSample: grid", [&](auto gtag) -> absl::Status {
        using G = typename decltype(gtag)::type;
        ASSIGN_OR_RETURN(
            Tensor * y,
            ctx.AllocateOutput(0, x->dtype(), {x->dim(0), x->dim(1), grid->dim(1), grid->dim(2)}));
        Run<T>(*x, grid->data<G>(), grid->dim(1) * grid->dim(2), y->data<T>());
        return absl::OkStatus();
      });
    });
  }

 private:
  GridSampleKernel() = default;

  // Pixel (r, c) of an h x w plane, with the padding mode applied to out-of-range taps.
  template <typename T>
  T PixelAt(const T* plane, int64_t r, int64_t c, int64_t h, int64_t w,
            const std::array<double, 4>& border) const {
    switch (padding_) {
      case PaddingMode::kZeros:
        return r >= 0 && r < h && c >= 0 && c < w ? plane[r * w + c] : T(0);
      case PaddingMode::kBorder:
        break;
      case PaddingMode::kReflection:
        c = static_cast<int64_t>(Reflect<double>(static_cast<double>(c), border[0], border[2]));
        r = static_cast<int64_t>(Reflect<double>(static_cast<double>(r), border[1], border[3]));
        break;
    }
    r = std::min(std::max<int64_t>(r, 0), h - 1);
    c = std::min(std::max<int64_t>(c, 0), w - 1);
    return plane[r * w + c];
  }

  // Samples every plane of x at the `points` grid locations of each batch.
  template <typename T, typename G>
  void Run(const Tensor& x, const G* grid, int64_t points, T* out) const {
    const int64_t n = x.dim(0), channels = x.dim(1), h = x.dim(2), w = x.dim(3);
    // Valid coordinate range [x_min, y_min, x_max, y_max] in pixels.
    const std::array<double, 4> border =
        align_corners_ ? std::array<double, 4>{0, 0, double(w - 1), double(h - 1)}
                       : std::array<double, 4>{-0.5, -0.5, w - 0.5, h - 0.5};
    auto unnormalize = [&](double v, int64_t size) {
      return align_corners_ ? (v + 1) / 2 * (size - 1) : ((v + 1) * size - 1) / 2;
    };
    for (int64_t b = 0; b < n; ++b) {
      for (int64_t p = 0; p < points; ++p) {
        const G* g = grid + (b * points + p) * 2;
        double xf = unnormalize(static_cast<double>(g[0]), w);
        double yf = unnormalize(static_cast<double>(g[1]), h);
        if (mode_ == SampleMode::kNearest) {
          xf = std::nearbyint(xf);
          yf = std::nearbyint(yf);
        }
        const bool outside = xf < border[0] || xf > border[2] || yf < border[1] || yf > border[3];
        if (outside && padding_ == PaddingMode::kBorder) {
          xf = std::min(std::max(xf, 0.0), double(w - 1));
          yf = std::min(std::max(yf, 0.0), double(h - 1));
        } else if (outside && padding_ == PaddingMode::kReflection) {
          xf = Reflect(xf, border[0], border[2]);
          yf = Reflect(yf, border[1], border[3]);
        }
        // Non-finite coordinates, and points so far out that every tap is padding, read zeros
        // (this also keeps the integer conversions below in range).
        const bool skip = !std::isfinite(xf) || !std::isfinite(yf) || xf < -4 || yf < -4 ||
                          xf > w + 4 || yf > h + 4 || w == 0 || h == 0;
        for (int64_t c = 0; c < channels; ++c) {
          const T* plane = x.data<T>() + (b * channels + c) * h * w;
          T& dst = out[(b * channels + c) * points + p];
          if (skip) {
            dst = T(0);
            continue;
          }
          const int64_t x0 = static_cast<int64_t>(std::floor(xf));
          const int64_t y0 = static_cast<int64_t>(std::floor(yf));
          const T dx = static_cast<T>(xf - x0), dy = static_cast<T>(yf - y0);
          switch (mode_) {
            case SampleMode::kNearest:
              dst = PixelAt(plane, y0, x0, h, w, border);
              break;
            case SampleMode::kBilinear:
              dst = (1 - dy) * ((1 - dx) * PixelAt(plane, y0, x0, h, w, border) +
                                dx * PixelAt(plane, y0, x0 + 1, h, w, border)) +
                    dy * ((1 - dx) * PixelAt(plane, y0 + 1, x0, h, w, border) +
                          dx * PixelAt(plane, y0 + 1, x0 + 1, h, w, border));
              break;
            case SampleMode::kBicubic: {
              const std::array<T, 4> wx = CubicWeights(dx), wy = CubicWeights(dy);
              T acc = T(0);
              for (int i = 0; i < 4; ++i) {
                T row = T(0);
                for (int j = 0; j < 4; ++j) {
                  row += wx[j] * PixelAt(plane, y0 - 1 + i, x0 - 1 + j, h, w, border);
                }
                acc += wy[i] * row;
              }
              dst = acc;
              break;
            }
          }
        }
      }
    }
  }

  SampleMode mode_ = SampleMode::kBilinear;
  PaddingMode padding_ = PaddingMode::kZeros;
  bool align_corners_ = false;
};

// ---------------------------------------------------------------------------------------------
// AffineGrid: grid[n, (d,) h, w, :] = theta[n] * (x, y, (z,) 1), the coordinates spread over
// [-1, 1] along each spatial dim (x along the last), on pixel centres or, with align_corners,
// corners; as torch.nn.functional.affine_grid.

absl::Status InferAffineGrid(InferenceContext& ctx) {
  TensorType out{ctx.input(0).dtype, std::nullopt};
  if (const Tensor* size = ctx.constant(1)) {
    ASSIGN_OR_RETURN(std::vector<int64_t> dims, size->ToInt64Vector());
    if (dims.size() == 4 || dims.size() == 5) {
      Shape s{dims[0]};
      s.insert(s.end(), dims.begin() + 2, dims.end());
      s.push_back(static_cast<int64_t>(dims.size()) - 2);
      out.shape = s;
    }
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

class AffineGridKernel : public Kernel {
 public:
  explicit AffineGridKernel(const KernelInfo& info)
      : align_corners_(info.attrs->GetInt("align_corners") != 0) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "AffineGrid";
    ASSIGN_OR_RETURN(const Tensor* theta, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* size_in, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(std::vector<int64_t> size, size_in->ToInt64Vector());
    if (size.size() != 4 && size.size() != 5) {
      return Invalid(op, "size must be [N, C, H, W] or [N, C, D, H, W]");
    }
    const int nd = static_cast<int>(size.size()) - 2;
    const int64_t n = size[0];
    if (theta->shape() != Shape{n, nd, nd + 1}) {
      return Invalid(op, absl::StrCat("theta must be [", n, ", ", nd, ", ", nd + 1, "], got ",
                                      ShapeToString(theta->shape())));
    }
    Shape out{n};
    int64_t points = 1;
    for (int d = 0; d < nd; ++d) {
      if (size[2 + d] <= 0) return Invalid(op, "spatial sizes must be positive");
      out.push_back(size[2 + d]);
      points *= size[2 + d];
    }
    out.push_back(nd);
    auto coord = [&](int64_t i, int64_t len) {
      if (align_corners_) return len == 1 ? -1.0 : -1.0 + 2.0 * i / (len - 1);
      return -1.0 + (2.0 * i + 1.0) / len;
    };
    return VisitFloat(theta->dtype(), op, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * grid, ctx.AllocateOutput(0, theta->dtype(), out));
      const T* th = theta->data<T>();
      T* g = grid->data<T>();
      for (int64_t b = 0; b < n; ++b) {
        for (int64_t p = 0; p < points; ++p) {
          // Homogeneous (x, y, (z,) 1): x along the last spatial dim.
          std::array<double, 4> homo{0, 0, 0, 1};
          int64_t rest = p;
          for (int d = nd - 1; d >= 0; --d) {
            const int64_t len = size[2 + d];
            homo[nd - 1 - d] = coord(rest % len, len);
            rest /= len;
          }
          homo[nd] = 1;
          for (int k = 0; k < nd; ++k) {
            double v = 0;
            for (int j = 0; j <= nd; ++j) {
              v += static_cast<double>(th[(b * nd + k) * (nd + 1) + j]) * homo[j];
            }
            g[(b * points + p) * nd + k] = static_cast<T>(v);
          }
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  const bool align_corners_;
};

// ---------------------------------------------------------------------------------------------
// Col2Im: the inverse of im2col (torch.nn.Fold, N-D): input [N, C * prod(block), L] holds one
// column per sliding-window position; each value is added into the image at its window
// position and block offset (strides, dilations and pads as a convolution's).

struct Col2ImGeometry {
  std::vector<int64_t> image, block, strides, dilations, pads, positions;
};

absl::StatusOr<Col2ImGeometry> Col2ImShape(const std::vector<int64_t>& image,
                                           const std::vector<int64_t>& block,
                                           const AttributeMap& attrs) {
  constexpr absl::string_view op = "Col2Im";
  const size_t nd = image.size();
  if (nd == 0 || block.size() != nd) {
    return Invalid(op, "image_shape and block_shape must have the same non-zero length");
  }
  Col2ImGeometry g{
      image, block, attrs.GetInts("strides"), attrs.GetInts("dilations"), attrs.GetInts("pads"),
      {}};
  if (g.strides.empty()) g.strides.assign(nd, 1);
  if (g.dilations.empty()) g.dilations.assign(nd, 1);
  if (g.pads.empty()) g.pads.assign(2 * nd, 0);
  if (g.strides.size() != nd || g.dilations.size() != nd || g.pads.size() != 2 * nd) {
    return Invalid(op, "strides, dilations and pads must match the spatial rank");
  }
  for (size_t d = 0; d < nd; ++d) {
    const int64_t span = g.dilations[d] * (block[d] - 1) + 1;
    const int64_t room = image[d] + g.pads[d] + g.pads[d + nd] - span;
    if (block[d] <= 0 || g.strides[d] <= 0 || g.dilations[d] <= 0 || image[d] <= 0 || room < 0) {
      return Invalid(op, "block does not fit the padded image");
    }
    g.positions.push_back(room / g.strides[d] + 1);
  }
  return g;
}

class Col2ImKernel : public Kernel {
 public:
  explicit Col2ImKernel(const KernelInfo& info) : attrs_(*info.attrs) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "Col2Im";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* image_t, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* block_t, ctx.RequiredInput(2));
    ASSIGN_OR_RETURN(std::vector<int64_t> image, image_t->ToInt64Vector());
    ASSIGN_OR_RETURN(std::vector<int64_t> block, block_t->ToInt64Vector());
    ASSIGN_OR_RETURN(Col2ImGeometry g, Col2ImShape(image, block, attrs_));
    const int64_t block_size =
        std::accumulate(block.begin(), block.end(), int64_t{1}, std::multiplies<int64_t>());
    const int64_t count = std::accumulate(g.positions.begin(), g.positions.end(), int64_t{1},
                                          std::multiplies<int64_t>());
    if (x->rank() != 3 || x->dim(1) % block_size != 0 || x->dim(2) != count) {
      return Invalid(op, absl::StrCat("input ", ShapeToString(x->shape()), " must be [N, C * ",
                                      block_size, ", ", count, "]"));
    }
    const int64_t batch = x->dim(0), channels = x->dim(1) / block_size;
    const size_t nd = image.size();
    Shape out{batch, channels};
    out.insert(out.end(), image.begin(), image.end());
    const int64_t plane = NumElements(Shape(image.begin(), image.end()));
    return VisitFloat(x->dtype(), op, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out));
      T* yp = y->data<T>();
      std::fill_n(yp, y->num_elements(), T(0));
      const T* xp = x->data<T>();
      std::vector<int64_t> pos(nd), off(nd);
      for (int64_t b = 0; b < batch; ++b) {
        for (int64_t c = 0; c < channels; ++c) {
          for (int64_t k = 0; k < block_size; ++k) {
            for (int64_t l = 0; l < count; ++l) {
              // Block offset k and window position l, row-major over the spatial dims.
              int64_t rk = k, rl = l, at = 0;
              bool inside = true;
              for (size_t d = nd; d-- > 0;) {
                off[d] = rk % block[d];
                rk /= block[d];
                pos[d] = rl % g.positions[d];
                rl /= g.positions[d];
              }
              for (size_t d = 0; d < nd && inside; ++d) {
                const int64_t i = pos[d] * g.strides[d] - g.pads[d] + off[d] * g.dilations[d];
                inside = i >= 0 && i < image[d];
                at = at * image[d] + i;
              }
              if (!inside) continue;
              yp[(b * channels + c) * plane + at] +=
                  xp[(b * channels * block_size + c * block_size + k) * count + l];
            }
          }
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  const AttributeMap attrs_;
};

absl::Status InferCol2Im(InferenceContext& ctx) {
  TensorType out{ctx.input(0).dtype, std::nullopt};
  const Tensor* image = ctx.constant(1);
  const Tensor* block = ctx.constant(2);
  const auto& x = ctx.input(0).shape;
  if (image != nullptr && block != nullptr && x && x->size() == 3) {
    ASSIGN_OR_RETURN(std::vector<int64_t> dims, image->ToInt64Vector());
    ASSIGN_OR_RETURN(std::vector<int64_t> b, block->ToInt64Vector());
    const int64_t block_size =
        std::accumulate(b.begin(), b.end(), int64_t{1}, std::multiplies<int64_t>());
    Shape s{(*x)[0], (*x)[1] < 0 || block_size <= 0 ? -1 : (*x)[1] / block_size};
    s.insert(s.end(), dims.begin(), dims.end());
    out.shape = s;
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

}  // namespace

CORTADO_REGISTER_OP(OpSchema("NonMaxSuppression")
                        .Versions(10)
                        .Inputs(2, 5)
                        .Attr("center_point_box", int64_t{0})
                        .Infer([](InferenceContext& ctx) {
                          ctx.set_output(0, TensorType{DType::kInt64, Shape{-1, 3}});
                          return absl::OkStatus();
                        }));
CORTADO_REGISTER_KERNEL("NonMaxSuppression", kCpuBackend, 10, kMaxOpset,
                        std::vector<DType>{DType::kFloat32},
                        MakeFactory<NonMaxSuppressionKernel>());

CORTADO_REGISTER_OP(OpSchema("RoiAlign")
                        .Versions(10)
                        .Inputs(3, 3)
                        .Attr("coordinate_transformation_mode", std::string("half_pixel"))
                        .Attr("mode", std::string("avg"))
                        .Attr("output_height", int64_t{1})
                        .Attr("output_width", int64_t{1})
                        .Attr("sampling_ratio", int64_t{0})
                        .Attr("spatial_scale", 1.0f)
                        .Infer(InferRoiAlign));
CORTADO_REGISTER_KERNEL("RoiAlign", kCpuBackend, 10, kMaxOpset, FloatTypes(),
                        MakeFactory<RoiAlignKernel>());

CORTADO_REGISTER_OP(OpSchema("GridSample")
                        .Versions(16)
                        .Inputs(2, 2)
                        .Attr("align_corners", int64_t{0})
                        .Attr("mode", std::string("bilinear"))
                        .Attr("padding_mode", std::string("zeros"))
                        .Infer(InferGridSample));
CORTADO_REGISTER_KERNEL("GridSample", kCpuBackend, 16, kMaxOpset, FloatTypes(),
                        GridSampleKernel::Create);

CORTADO_REGISTER_OP(OpSchema("AffineGrid")
                        .Versions(20)
                        .Inputs(2, 2)
                        .Attr("align_corners", int64_t{0})
                        .Infer(InferAffineGrid));
CORTADO_REGISTER_KERNEL("AffineGrid", kCpuBackend, 20, kMaxOpset, FloatTypes(),
                        MakeFactory<AffineGridKernel>());

CORTADO_REGISTER_OP(OpSchema("Col2Im")
                        .Versions(18)
                        .Inputs(3, 3)
                        .OptionalAttr("dilations", AttrType::kInts)
                        .OptionalAttr("pads", AttrType::kInts)
                        .OptionalAttr("strides", AttrType::kInts)
                        .Infer(InferCol2Im));
CORTADO_REGISTER_KERNEL("Col2Im", kCpuBackend, 18, kMaxOpset, FloatTypes(),
                        MakeFactory<Col2ImKernel>());

}  // namespace cortado
