// The normalizations: BatchNormalization, LayerNormalization, InstanceNormalization,
// GroupNormalization (opset 18), RMSNormalization (23),
// LpNormalization, LRN and MeanVarianceNormalization, and the gradient operators
// BatchNormalizationGrad and LayerNormalizationGrad (kTrainingDomain) that the eager frontend's
// backward pass runs. Schemas with type and shape inference, and reference CPU kernels.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/thread_pool.h"
#include "ops/broadcast.h"
#include "ops/nn_util.h"
#include "ops/registry.h"

// As in ops/elementwise.h: Bazel builds with -O2, where GCC 12 leaves the elementwise loops
// scalar. Enable the loop vectorizer (it does not reorder floating-point sums, so results are
// unchanged).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "no-trapping-math")
#endif

namespace cortado {
namespace {

// Sum of (v[i] - mean)^2 over v[0..n) in double, in a fixed order.
template <typename T>
double SumSqDevD(const T* v, int64_t n, double mean) {
  const D2 m = D2{} + mean;
  D2 a0{}, a1{};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const D2 d0 = LoadD2(v + i) - m, d1 = LoadD2(v + i + 2) - m;
    a0 += d0 * d0;
    a1 += d1 * d1;
  }
  a0 += a1;
  double sum = a0[0] + a0[1];
  for (; i < n; ++i) {
    const double d = static_cast<double>(v[i]) - mean;
    sum += d * d;
  }
  return sum;
}

// Reads a small parameter tensor (per-channel statistics) of shape `want` as doubles, whatever
// its float dtype.
absl::StatusOr<std::vector<double>> ParamVector(absl::string_view op, absl::string_view name,
                                                const Tensor& t, const Shape& want) {
  if (!IsFloatingPoint(t.dtype()) || t.shape() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ", name, " must be a float tensor of shape ", ShapeToString(want),
                     ", got ", DTypeName(t.dtype()), ShapeToString(t.shape())));
  }
  std::vector<double> v(t.num_elements());
  for (int64_t i = 0; i < t.num_elements(); ++i) v[i] = t.ElementAsDouble(i);
  return v;
}

// Writes doubles into a float tensor of dtype `dtype`.
absl::Status StoreParams(absl::string_view op, const std::vector<double>& v, Tensor* out) {
  return VisitTypes<float, double, Half, BFloat16>(out->dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (size_t i = 0; i < v.size(); ++i) {
      if constexpr (std::is_floating_point_v<T>) {
        out->data<T>()[i] = static_cast<T>(v[i]);
      } else {
        out->data<T>()[i] = T(static_cast<float>(v[i]));
      }
    }
    return absl::OkStatus();
  });
}

// y[n, c, i] = x[n, c, i] * a[c] + b[c] over planes of `inner` elements.
template <typename T>
void ScaleShiftPlanes(const T* x, int64_t batch, int64_t channels, int64_t inner,
                      const std::vector<double>& a, const std::vector<double>& b, T* y) {
  ParallelFor(batch * channels, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, inner)),
              [&](int64_t begin, int64_t end) {
                for (int64_t p = begin; p < end; ++p) {
                  const int64_t base = p * inner, c = p % channels;
                  const T av = static_cast<T>(a[c]), bv = static_cast<T>(b[c]);
                  for (int64_t i = 0; i < inner; ++i) y[base + i] = x[base + i] * av + bv;
                }
              });
}

absl::Status InferBatchNorm(InferenceContext& ctx) {
  ctx.set_output(0, ctx.input(0));
  // Outputs 1 and 3 are means (like input 3), 2 and 4 variances (like input 4).
  for (int i = 1; i < ctx.num_outputs(); ++i) ctx.set_output(i, ctx.input(i % 2 == 1 ? 3 : 4));
  return absl::OkStatus();
}

class BatchNormKernel : public Kernel {
 public:
  explicit BatchNormKernel(const KernelInfo& info)
      : epsilon_(info.attrs->GetFloat("epsilon", 1e-5f)),
        momentum_(info.attrs->GetFloat("momentum", 0.9f)),
        training_(info.opset >= 14 ? info.attrs->GetInt("training_mode") != 0
                                   : info.num_outputs > 1),
        spatial_(info.opset >= 9 || info.attrs->GetInt("spatial", 1) != 0) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "BatchNormalization";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const Tensor* params[4];
    for (int i = 0; i < 4; ++i) {
      ASSIGN_OR_RETURN(params[i], ctx.RequiredInput(i + 1));
    }
    if (x->rank() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": X must be [N, C, ...], got ", ShapeToString(x->shape())));
    }
    // Statistics are per channel, or (spatial=0, opsets 7 and 8) per element of X.shape[1:];
    // X is then viewed as [N, channels, inner].
    const Shape stat_shape =
        spatial_ ? Shape{x->dim(1)} : Shape(x->shape().begin() + 1, x->shape().end());
    const int64_t batch = x->dim(0), channels = NumElements(stat_shape);
    const int64_t inner = channels == 0 ? 0 : Product(x->shape(), 1, x->rank()) / channels;
    const char* names[4] = {"scale", "B", "mean", "var"};
    std::vector<double> p[4];
    for (int i = 0; i < 4; ++i) {
      ASSIGN_OR_RETURN(p[i], ParamVector(op, names[i], *params[i], stat_shape));
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    return VisitFloatType(x->dtype(), op, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* xp = x->data<T>();
      std::vector<double> mean = p[2], var = p[3];
      if (training_) {
        // Batch statistics over N and the spatial dims (biased variance, as ONNX specifies).
        // Channels over the intra-op threads; each sums in a fixed order.
        const double count = static_cast<double>(batch * inner);
        ParallelFor(channels, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, batch * inner)),
                    [&](int64_t begin, int64_t end) {
                      for (int64_t c = begin; c < end; ++c) {
                        double sum = 0, sq = 0;
                        for (int64_t n = 0; n < batch; ++n) {
                          sum += SumD(xp + (n * channels + c) * inner, inner);
                        }
                        mean[c] = count > 0 ? sum / count : 0;
                        for (int64_t n = 0; n < batch; ++n) {
                          sq += SumSqDevD(xp + (n * channels + c) * inner, inner, mean[c]);
                        }
                        var[c] = count > 0 ? sq / count : 0;
                      }
                    });
      }
      std::vector<double> a(channels), b(channels);
      for (int64_t c = 0; c < channels; ++c) {
        a[c] = p[0][c] / std::sqrt(var[c] + epsilon_);
        b[c] = p[1][c] - mean[c] * a[c];
      }
      ScaleShiftPlanes(xp, batch, channels, inner, a, b, y->data<T>());
      if (!training_) return absl::OkStatus();
      // Opset 14+: running mean and var. Before: running mean, var, saved mean, saved var.
      std::vector<double> running_mean(channels), running_var(channels);
      for (int64_t c = 0; c < channels; ++c) {
        running_mean[c] = p[2][c] * momentum_ + mean[c] * (1 - momentum_);
        running_var[c] = p[3][c] * momentum_ + var[c] * (1 - momentum_);
      }
      const std::vector<double>* outs[4] = {&running_mean, &running_var, &mean, &var};
      for (int i = 1; i < ctx.num_outputs() && i <= 4; ++i) {
        ASSIGN_OR_RETURN(Tensor * t,
                         ctx.AllocateOutput(i, params[i % 2 == 1 ? 2 : 3]->dtype(), stat_shape));
        RETURN_IF_ERROR(StoreParams(op, *outs[i - 1], t));
      }
      return absl::OkStatus();
    });
  }

 private:
  const float epsilon_, momentum_;
  const bool training_, spatial_;
};

// Normalizes x over groups of `inner` contiguous elements (outer groups): y = (x - mean) *
// inv_std * scale + bias, with scale and bias indexed by `param_index(group, i)`. Returns the
// per-group mean and 1/sqrt(var + eps) through the optional vectors.
template <typename T, typename Affine>
void NormalizeGroups(const T* x, int64_t outer, int64_t inner, double epsilon, Affine&& affine,
                     T* y, std::vector<double>* means, std::vector<double>* inv_stds) {
  for (int64_t o = 0; o < outer; ++o) {
    const T* v = x + o * inner;
    double sum = 0;
    for (int64_t i = 0; i < inner; ++i) sum += static_cast<double>(v[i]);
    const double mean = inner > 0 ? sum / static_cast<double>(inner) : 0;
    double sq = 0;
    for (int64_t i = 0; i < inner; ++i) {
      const double d = static_cast<double>(v[i]) - mean;
      sq += d * d;
    }
    const double var = inner > 0 ? sq / static_cast<double>(inner) : 0;
    const double inv_std = 1.0 / std::sqrt(var + epsilon);
    for (int64_t i = 0; i < inner; ++i) {
      y[o * inner + i] = affine(o, i, (static_cast<double>(v[i]) - mean) * inv_std);
    }
    if (means != nullptr) (*means)[o] = mean;
    if (inv_stds != nullptr) (*inv_stds)[o] = inv_std;
  }
}

DType StashDType(int64_t stash_type) {
  // TensorProto data types: 1 float, 11 double, 16 bfloat16, 10 float16.
  switch (stash_type) {
    case 1:
      return DType::kFloat32;
    case 11:
      return DType::kFloat64;
    case 16:
      return DType::kBFloat16;
    case 10:
      return DType::kFloat16;
    default:
      return DType::kUndefined;
  }
}

absl::Status InferLayerNorm(InferenceContext& ctx) {
  const TensorType& x = ctx.input(0);
  ctx.set_output(0, x);
  const DType stash = StashDType(ctx.attrs().GetInt("stash_type", 1));
  if (stash == DType::kUndefined) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported stash_type ", ctx.attrs().GetInt("stash_type", 1)));
  }
  std::optional<Shape> stat;
  if (x.shape) {
    ASSIGN_OR_RETURN(
        int axis, NormalizeAxis(ctx.attrs().GetInt("axis", -1), static_cast<int>(x.shape->size())));
    Shape s = *x.shape;
    std::fill(s.begin() + axis, s.end(), 1);
    stat = s;
  }
  for (int i = 1; i < ctx.num_outputs(); ++i) ctx.set_output(i, TensorType{stash, stat});
  return absl::OkStatus();
}

// Expands a parameter of shape broadcastable (unidirectionally) to `target` into
// NumElements(target) doubles.
absl::StatusOr<std::vector<double>> ExpandParam(absl::string_view op, absl::string_view name,
                                                const Tensor& t, const Shape& target) {
  absl::StatusOr<Shape> b = BroadcastShapes(target, t.shape());
  if (!b.ok() || *b != target) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ", name, " of shape ", ShapeToString(t.shape()),
                     " does not broadcast to ", ShapeToString(target)));
  }
  std::vector<double> out(NumElements(target));
  ForEachBroadcast<1>(target, {&t.shape()}, [&](int64_t o, const std::array<int64_t, 1>& in) {
    out[o] = t.ElementAsDouble(in[0]);
  });
  return out;
}

class LayerNormKernel : public Kernel {
 public:
  explicit LayerNormKernel(const KernelInfo& info)
      : axis_(info.attrs->GetInt("axis", -1)),
        epsilon_(info.attrs->GetFloat("epsilon", 1e-5f)),
        stash_(StashDType(info.attrs->GetInt("stash_type", 1))) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "LayerNormalization";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(1));
    const Tensor* bias = ctx.input(2);
    if (bias != nullptr && !bias->defined()) bias = nullptr;
    if (stash_ == DType::kUndefined) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": unsupported stash_type"));
    }
    if (x->rank() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": X must have rank >= 1"));
    }
    absl::StatusOr<int> axis = NormalizeAxis(axis_, x->rank());
    if (!axis.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": ", axis.status().message()));
    }
    const Shape norm_shape(x->shape().begin() + *axis, x->shape().end());
    RETURN_IF_ERROR(CheckSameDType(op, *x, *scale, "Scale"));
    if (bias != nullptr) RETURN_IF_ERROR(CheckSameDType(op, *x, *bias, "B"));
    ASSIGN_OR_RETURN(std::vector<double> s, ExpandParam(op, "Scale", *scale, norm_shape));
    std::vector<double> b(s.size(), 0.0);
    if (bias != nullptr) {
      ASSIGN_OR_RETURN(b, ExpandParam(op, "B", *bias, norm_shape));
    }
    const int64_t outer = Product(x->shape(), 0, *axis);
    const int64_t inner = NumElements(norm_shape);
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    std::vector<double> means(outer), inv_stds(outer);
    RETURN_IF_ERROR(VisitFloatType(x->dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      NormalizeGroups<T>(
          x->data<T>(), outer, inner, epsilon_,
          [&](int64_t, int64_t i, double v) { return static_cast<T>(v * s[i] + b[i]); },
          y->data<T>(), &means, &inv_stds);
      return absl::OkStatus();
    }));
    Shape stat_shape = x->shape();
    std::fill(stat_shape.begin() + *axis, stat_shape.end(), 1);
    const std::vector<double>* stats[2] = {&means, &inv_stds};
    for (int i = 1; i < ctx.num_outputs() && i <= 2; ++i) {
      ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(i, stash_, stat_shape));
      RETURN_IF_ERROR(StoreParams(op, *stats[i - 1], t));
    }
    return absl::OkStatus();
  }

 private:
  const int64_t axis_;
  const float epsilon_;
  const DType stash_;
};

// BatchNormalizationGrad (training domain): the gradient of training-mode BatchNormalization
// (statistics over all axes but 1, biased variance), recomputing the batch mean and variance
// from X. With xhat = (x - mean) * inv_std and M elements per channel:
//   dBias = sum dY,  dScale = sum dY * xhat,
//   dX = scale * inv_std * (dY - dBias / M - xhat * dScale / M).
absl::Status InferNormGrad(InferenceContext& ctx) {
  const TensorType& dy = ctx.input(0);
  const TensorType& x = ctx.input(1);
  RETURN_IF_ERROR(CommonDType({{"dY", dy.dtype}, {"X", x.dtype}}).status());
  if (dy.shape && x.shape && !ShapesMayMatch(*dy.shape, *x.shape)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dY ", ShapeToString(*dy.shape), " must have X's shape ", ShapeToString(*x.shape)));
  }
  ctx.set_output(0, x);
  ctx.set_output(1, ctx.input(2));
  ctx.set_output(2, ctx.input(2));
  return absl::OkStatus();
}

// Checks that dY has X's dtype and shape.
absl::Status CheckGradLikeX(absl::string_view op, const Tensor& dy, const Tensor& x) {
  RETURN_IF_ERROR(CheckSameDType(op, x, dy, "dY"));
  if (dy.shape() != x.shape()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": dY ", ShapeToString(dy.shape()), " must have X's shape ", ShapeToString(x.shape())));
  }
  return absl::OkStatus();
}

class BatchNormGradKernel : public Kernel {
 public:
  explicit BatchNormGradKernel(const KernelInfo& info)
      : epsilon_(info.attrs->GetFloat("epsilon", 1e-5f)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "BatchNormalizationGrad";
    ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(2));
    if (x->rank() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": X must be [N, C, ...], got ", ShapeToString(x->shape())));
    }
    RETURN_IF_ERROR(CheckGradLikeX(op, *dy, *x));
    const int64_t batch = x->dim(0), channels = x->dim(1);
    const int64_t inner = Product(x->shape(), 2, x->rank());
    ASSIGN_OR_RETURN(std::vector<double> s, ParamVector(op, "scale", *scale, {channels}));
    ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    std::vector<double> dscale(channels), dbias(channels);
    RETURN_IF_ERROR(VisitFloatType(x->dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = x->data<T>();
      const T* dyp = dy->data<T>();
      T* dxp = dx->data<T>();
      const double count = static_cast<double>(batch * inner);
      // Channels over the intra-op threads; each sums in a fixed order.
      auto channel = [&](int64_t c) {
        double sum = 0;
        for (int64_t n = 0; n < batch; ++n) sum += SumD(xp + (n * channels + c) * inner, inner);
        const double mean = count > 0 ? sum / count : 0;
        const D2 mean2 = D2{} + mean;
        D2 sq2{}, dy2{}, dyxc2{};
        double sq = 0, sum_dy = 0, sum_dy_xc = 0;
        for (int64_t n = 0; n < batch; ++n) {
          const T* v = xp + (n * channels + c) * inner;
          const T* d = dyp + (n * channels + c) * inner;
          int64_t i = 0;
          for (; i + 2 <= inner; i += 2) {
            const D2 xc = LoadD2(v + i) - mean2, dv = LoadD2(d + i);
            sq2 += xc * xc;
            dy2 += dv;
            dyxc2 += dv * xc;
          }
          for (; i < inner; ++i) {
            const double xc = static_cast<double>(v[i]) - mean;
            sq += xc * xc;
            sum_dy += static_cast<double>(d[i]);
            sum_dy_xc += static_cast<double>(d[i]) * xc;
          }
        }
        sq += sq2[0] + sq2[1];
        sum_dy += dy2[0] + dy2[1];
        sum_dy_xc += dyxc2[0] + dyxc2[1];
        const double var = count > 0 ? sq / count : 0;
        const double inv_std = 1.0 / std::sqrt(var + epsilon_);
        dbias[c] = sum_dy;
        dscale[c] = sum_dy_xc * inv_std;
        if (count == 0) return;
        // dX = k * (dY - mean(dY)) - k2 * (x - mean).
        const double k = s[c] * inv_std;
        const double k2 = k * inv_std * dscale[c] / count;
        const double shift = -k * sum_dy / count;
        const D2 k_2 = D2{} + k, k2_2 = D2{} + k2, shift2 = D2{} + shift;
        for (int64_t n = 0; n < batch; ++n) {
          const int64_t base = (n * channels + c) * inner;
          int64_t i = 0;
          for (; i + 2 <= inner; i += 2) {
            const D2 r =
                k_2 * LoadD2(dyp + base + i) - k2_2 * (LoadD2(xp + base + i) - mean2) + shift2;
            dxp[base + i] = static_cast<T>(r[0]);
            dxp[base + i + 1] = static_cast<T>(r[1]);
          }
          for (; i < inner; ++i) {
            dxp[base + i] = static_cast<T>(k * static_cast<double>(dyp[base + i]) -
                                           k2 * (static_cast<double>(xp[base + i]) - mean) + shift);
          }
        }
      };
      ParallelFor(channels, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, batch * inner)),
                  [&](int64_t begin, int64_t end) {
                    for (int64_t c = begin; c < end; ++c) channel(c);
                  });
      return absl::OkStatus();
    }));
    const std::vector<double>* outs[2] = {&dscale, &dbias};
    for (int i = 1; i < ctx.num_outputs() && i <= 2; ++i) {
      ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(i, scale->dtype(), scale->shape()));
      RETURN_IF_ERROR(StoreParams(op, *outs[i - 1], t));
    }
    return absl::OkStatus();
  }

 private:
  const float epsilon_;
};

// LayerNormalizationGrad (training domain): the gradient of LayerNormalization over the axes
// from `axis` on, from the forward op's Mean and InvStdDev (outputs 1 and 2). Per group of H
// normalized elements, with xhat = (x - mean) * inv_std and g = dY * scale:
//   dX = inv_std * (g - mean(g) - xhat * mean(g * xhat)),
// and dScale = sum dY * xhat, dBias = sum dY over the groups, reduced to scale's shape.
class LayerNormGradKernel : public Kernel {
 public:
  explicit LayerNormGradKernel(const KernelInfo& info) : axis_(info.attrs->GetInt("axis", -1)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "LayerNormalizationGrad";
    ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(2));
    ASSIGN_OR_RETURN(const Tensor* mean_t, ctx.RequiredInput(3));
    ASSIGN_OR_RETURN(const Tensor* inv_std_t, ctx.RequiredInput(4));
    if (x->rank() < 1) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": X must have rank >= 1"));
    }
    RETURN_IF_ERROR(CheckGradLikeX(op, *dy, *x));
    RETURN_IF_ERROR(CheckSameDType(op, *x, *scale, "Scale"));
    absl::StatusOr<int> axis = NormalizeAxis(axis_, x->rank());
    if (!axis.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": ", axis.status().message()));
    }
    const Shape norm_shape(x->shape().begin() + *axis, x->shape().end());
    ASSIGN_OR_RETURN(std::vector<double> s, ExpandParam(op, "Scale", *scale, norm_shape));
    Shape stat_shape = x->shape();
    std::fill(stat_shape.begin() + *axis, stat_shape.end(), 1);
    ASSIGN_OR_RETURN(std::vector<double> means, ParamVector(op, "Mean", *mean_t, stat_shape));
    ASSIGN_OR_RETURN(std::vector<double> inv_stds,
                     ParamVector(op, "InvStdDev", *inv_std_t, stat_shape));
    const int64_t outer = Product(x->shape(), 0, *axis);
    const int64_t inner = NumElements(norm_shape);
    ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    std::vector<double> dscale(inner, 0.0), dbias(inner, 0.0);
    RETURN_IF_ERROR(VisitFloatType(x->dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      std::vector<double> xhat(inner);
      for (int64_t o = 0; o < outer; ++o) {
        const T* xv = x->data<T>() + o * inner;
        const T* dv = dy->data<T>() + o * inner;
        T* out = dx->data<T>() + o * inner;
        const double mean = means[o], inv_std = inv_stds[o];
        double sum_g = 0, sum_gx = 0;
        for (int64_t i = 0; i < inner; ++i) {
          const double d = static_cast<double>(dv[i]);
          xhat[i] = (static_cast<double>(xv[i]) - mean) * inv_std;
          const double gi = d * s[i];
          sum_g += gi;
          sum_gx += gi * xhat[i];
          dscale[i] += d * xhat[i];
          dbias[i] += d;
        }
        const double mg = inner > 0 ? sum_g / inner : 0, mgx = inner > 0 ? sum_gx / inner : 0;
        for (int64_t i = 0; i < inner; ++i) {
          out[i] =
              static_cast<T>(inv_std * (static_cast<double>(dv[i]) * s[i] - mg - xhat[i] * mgx));
        }
      }
      return absl::OkStatus();
    }));
    const std::vector<double>* full[2] = {&dscale, &dbias};
    for (int i = 1; i < ctx.num_outputs() && i <= 2; ++i) {
      // Sum over the dimensions along which scale broadcasts.
      std::vector<double> reduced(scale->num_elements(), 0.0);
      ForEachBroadcast<1>(norm_shape, {&scale->shape()},
                          [&](int64_t o, const std::array<int64_t, 1>& in) {
                            reduced[in[0]] += (*full[i - 1])[o];
                          });
      ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(i, scale->dtype(), scale->shape()));
      RETURN_IF_ERROR(StoreParams(op, reduced, t));
    }
    return absl::OkStatus();
  }

 private:
  const int64_t axis_;
};

class InstanceNormKernel : public Kernel {
 public:
  explicit InstanceNormKernel(const KernelInfo& info)
      : epsilon_(info.attrs->GetFloat("epsilon", 1e-5f)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "InstanceNormalization";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* bias, ctx.RequiredInput(2));
    if (x->rank() < 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": X must be [N, C, D1, ...], got ", ShapeToString(x->shape())));
    }
    const int64_t channels = x->dim(1);
    ASSIGN_OR_RETURN(std::vector<double> s, ParamVector(op, "scale", *scale, {channels}));
    ASSIGN_OR_RETURN(std::vector<double> b, ParamVector(op, "B", *bias, {channels}));
    const int64_t inner = Product(x->shape(), 2, x->rank());
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    return VisitFloatType(x->dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      NormalizeGroups<T>(
          x->data<T>(), x->dim(0) * channels, inner, epsilon_,
          [&](int64_t o, int64_t, double v) {
            return static_cast<T>(v * s[o % channels] + b[o % channels]);
          },
          y->data<T>(), nullptr, nullptr);
      return absl::OkStatus();
    });
  }

 private:
  const float epsilon_;
};

// GroupNormalization (opset 18): x [N, C, D...] normalized over each of num_groups groups of
// C / num_groups channels; scale and bias hold one value per group before opset 21 and one per
// channel from 21.
class GroupNormKernel : public Kernel {
 public:
  explicit GroupNormKernel(const KernelInfo& info)
      : groups_(info.attrs->GetInt("num_groups")),
        epsilon_(info.attrs->GetFloat("epsilon", 1e-5f)),
        per_channel_(info.opset >= 21) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "GroupNormalization";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* bias, ctx.RequiredInput(2));
    if (x->rank() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": X must be [N, C, D...], got ", ShapeToString(x->shape())));
    }
    const int64_t channels = x->dim(1);
    if (groups_ <= 0 || channels % groups_ != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": num_groups ", groups_, " does not divide the channels ", channels));
    }
    const int64_t params = per_channel_ ? channels : groups_;
    ASSIGN_OR_RETURN(std::vector<double> s, ParamVector(op, "scale", *scale, {params}));
    ASSIGN_OR_RETURN(std::vector<double> b, ParamVector(op, "bias", *bias, {params}));
    const int64_t spatial = Product(x->shape(), 2, x->rank());
    const int64_t per_group = channels / groups_;
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    return VisitFloatType(x->dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      NormalizeGroups<T>(
          x->data<T>(), x->dim(0) * groups_, per_group * spatial, epsilon_,
          [&](int64_t o, int64_t i, double v) {
            const int64_t g = o % groups_;
            const int64_t p = per_channel_ ? g * per_group + i / spatial : g;
            return static_cast<T>(v * s[p] + b[p]);
          },
          y->data<T>(), nullptr, nullptr);
      return absl::OkStatus();
    });
  }

 private:
  const int64_t groups_;
  const float epsilon_;
  const bool per_channel_;
};

// RMSNormalization (opset 23): y = x / sqrt(mean(x^2) + epsilon) * scale over the axes from
// `axis` on; scale broadcasts to those axes.
class RmsNormKernel : public Kernel {
 public:
  explicit RmsNormKernel(const KernelInfo& info)
      : axis_(info.attrs->GetInt("axis", -1)), epsilon_(info.attrs->GetFloat("epsilon", 1e-5f)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "RMSNormalization";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(1));
    absl::StatusOr<int> axis = NormalizeAxis(axis_, x->rank());
    if (!axis.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": ", axis.status().message()));
    }
    const Shape norm_shape(x->shape().begin() + *axis, x->shape().end());
    RETURN_IF_ERROR(CheckSameDType(op, *x, *scale, "scale"));
    ASSIGN_OR_RETURN(std::vector<double> s, ExpandParam(op, "scale", *scale, norm_shape));
    const int64_t outer = Product(x->shape(), 0, *axis);
    const int64_t inner = NumElements(norm_shape);
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    return VisitFloatType(x->dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = x->data<T>();
      T* yp = y->data<T>();
      for (int64_t o = 0; o < outer; ++o) {
        double sq = 0;
        for (int64_t i = 0; i < inner; ++i) {
          const double v = static_cast<double>(xp[o * inner + i]);
          sq += v * v;
        }
        const double inv_rms =
            1.0 / std::sqrt((inner > 0 ? sq / static_cast<double>(inner) : 0) + epsilon_);
        for (int64_t i = 0; i < inner; ++i) {
          yp[o * inner + i] =
              static_cast<T>(static_cast<double>(xp[o * inner + i]) * inv_rms * s[i]);
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  const int64_t axis_;
  const float epsilon_;
};

// Views a tensor as [outer, axis_dim, inner] around `axis`.
struct AxisSplit {
  int64_t outer = 1, dim = 1, inner = 1;
};
AxisSplit SplitAtAxis(const Shape& s, int axis) {
  return {Product(s, 0, axis), s[axis], Product(s, axis + 1, s.size())};
}

class LpNormKernel : public Kernel {
 public:
  explicit LpNormKernel(const KernelInfo& info)
      : axis_(info.attrs->GetInt("axis", -1)), p_(info.attrs->GetInt("p", 2)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "LpNormalization";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (p_ != 1 && p_ != 2) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": p must be 1 or 2, got ", p_));
    }
    absl::StatusOr<int> axis = NormalizeAxis(axis_, x->rank());
    if (!axis.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": ", axis.status().message()));
    }
    const AxisSplit v = SplitAtAxis(x->shape(), *axis);
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    return VisitFloatType(x->dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = x->data<T>();
      T* yp = y->data<T>();
      for (int64_t o = 0; o < v.outer; ++o) {
        for (int64_t i = 0; i < v.inner; ++i) {
          const int64_t base = o * v.dim * v.inner + i;
          double norm = 0;
          for (int64_t k = 0; k < v.dim; ++k) {
            const double e = static_cast<double>(xp[base + k * v.inner]);
            norm += p_ == 1 ? std::fabs(e) : e * e;
          }
          if (p_ == 2) norm = std::sqrt(norm);
          // A zero vector stays zero rather than becoming NaN.
          const double inv = norm == 0 ? 0.0 : 1.0 / norm;
          for (int64_t k = 0; k < v.dim; ++k) {
            yp[base + k * v.inner] = static_cast<T>(xp[base + k * v.inner] * inv);
          }
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  const int64_t axis_, p_;
};

class LrnKernel : public Kernel {
 public:
  explicit LrnKernel(const KernelInfo& info)
      : alpha_(info.attrs->GetFloat("alpha", 1e-4f)),
        beta_(info.attrs->GetFloat("beta", 0.75f)),
        bias_(info.attrs->GetFloat("bias", 1.0f)),
        size_(info.attrs->GetInt("size")) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "LRN";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() < 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": X must be [N, C, D1, ...], got ", ShapeToString(x->shape())));
    }
    if (size_ < 1) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": size must be >= 1, got ", size_));
    }
    const AxisSplit v = SplitAtAxis(x->shape(), 1);
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    const int64_t before = (size_ - 1) / 2, after = size_ - 1 - before;
    return VisitFloatType(x->dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = x->data<T>();
      T* yp = y->data<T>();
      for (int64_t o = 0; o < v.outer; ++o) {
        for (int64_t c = 0; c < v.dim; ++c) {
          const int64_t lo = std::max<int64_t>(0, c - before);
          const int64_t hi = std::min<int64_t>(v.dim - 1, c + after);
          for (int64_t i = 0; i < v.inner; ++i) {
            double sq = 0;
            for (int64_t k = lo; k <= hi; ++k) {
              const double e = static_cast<double>(xp[(o * v.dim + k) * v.inner + i]);
              sq += e * e;
            }
            const int64_t at = (o * v.dim + c) * v.inner + i;
            yp[at] = static_cast<T>(xp[at] / std::pow(bias_ + alpha_ / size_ * sq, beta_));
          }
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  const double alpha_, beta_, bias_;
  const int64_t size_;
};

class MeanVarianceNormKernel : public Kernel {
 public:
  explicit MeanVarianceNormKernel(const KernelInfo& info)
      : axes_(info.attrs->GetInts("axes", {0, 2, 3})) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "MeanVarianceNormalization";
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int rank = x->rank();
    std::vector<bool> reduced(rank, false);
    for (int64_t a : axes_) {
      absl::StatusOr<int> axis = NormalizeAxis(a, rank);
      if (!axis.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(op, ": axes [", absl::StrJoin(axes_, ","),
                                                       "] do not fit X of shape ",
                                                       ShapeToString(x->shape())));
      }
      reduced[*axis] = true;
    }
    // kept[i]: X's shape with the reduced axes set to 1; each element maps to a group there.
    Shape kept = x->shape();
    for (int i = 0; i < rank; ++i) {
      if (reduced[i]) kept[i] = 1;
    }
    const int64_t groups = NumElements(kept);
    const double count = groups > 0 ? static_cast<double>(x->num_elements()) / groups : 0;
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    return VisitFloatType(x->dtype(), op, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = x->data<T>();
      T* yp = y->data<T>();
      std::vector<double> sum(groups, 0.0), sq(groups, 0.0);
      // Broadcasting the kept shape to X maps every element to its group.
      ForEachBroadcast<1>(x->shape(), {&kept}, [&](int64_t i, const std::array<int64_t, 1>& g) {
        const double v = static_cast<double>(xp[i]);
        sum[g[0]] += v;
        sq[g[0]] += v * v;
      });
      for (int64_t g = 0; g < groups; ++g) {
        const double mean = sum[g] / count;
        sum[g] = mean;
        sq[g] = std::sqrt(std::max(0.0, sq[g] / count - mean * mean)) + 1e-9;
      }
      ForEachBroadcast<1>(x->shape(), {&kept}, [&](int64_t i, const std::array<int64_t, 1>& g) {
        yp[i] = static_cast<T>((static_cast<double>(xp[i]) - sum[g[0]]) / sq[g[0]]);
      });
      return absl::OkStatus();
    });
  }

 private:
  const std::vector<int64_t> axes_;
};

// ---------------------------------------------------------------------------------------------
// Registrations
// ---------------------------------------------------------------------------------------------

// Before opset 7: consumed_inputs and is_test, ignored (training mode is chosen by the number of
// outputs until opset 14, as ONNX Runtime does).
CORTADO_REGISTER_OP(OpSchema("BatchNormalization")
                        .Versions(1)
                        .Inputs(5, 5)
                        .Outputs(1, 5)
                        .Attr("epsilon", 1e-5f)
                        .Attr("momentum", 0.9f)
                        .Attr("spatial", int64_t{1})
                        .Attr("training_mode", int64_t{0})
                        .Infer(InferBatchNorm));
CORTADO_REGISTER_KERNEL("BatchNormalization", kCpuBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<BatchNormKernel>());

CORTADO_REGISTER_OP(OpSchema("LayerNormalization")
                        .Versions(17)
                        .Inputs(2, 3)
                        .Outputs(1, 3)
                        .Attr("axis", int64_t{-1})
                        .Attr("epsilon", 1e-5f)
                        .Attr("stash_type", int64_t{1})
                        .Infer(InferLayerNorm));
CORTADO_REGISTER_KERNEL("LayerNormalization", kCpuBackend, 17, kMaxOpset, FloatTypes(),
                        MakeFactory<LayerNormKernel>());

CORTADO_REGISTER_OP(OpSchema("InstanceNormalization")
                        .Versions(1)
                        .Inputs(3, 3)
                        .Attr("epsilon", 1e-5f)
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("InstanceNormalization", kCpuBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<InstanceNormKernel>());

CORTADO_REGISTER_OP(OpSchema("GroupNormalization")
                        .Versions(18)
                        .Inputs(3, 3)
                        .RequiredAttr("num_groups", AttrType::kInt)
                        .Attr("epsilon", 1e-5f)
                        .Attr("stash_type", int64_t{1})  // opset 21
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("GroupNormalization", kCpuBackend, 18, kMaxOpset, FloatTypes(),
                        MakeFactory<GroupNormKernel>());

CORTADO_REGISTER_OP(OpSchema("RMSNormalization")
                        .Versions(23)
                        .Inputs(2, 2)
                        .Attr("axis", int64_t{-1})
                        .Attr("epsilon", 1e-5f)
                        .Attr("stash_type", int64_t{1})
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("RMSNormalization", kCpuBackend, 23, kMaxOpset, FloatTypes(),
                        MakeFactory<RmsNormKernel>());

CORTADO_REGISTER_OP(OpSchema("LpNormalization")
                        .Versions(1)
                        .Inputs(1, 1)
                        .Attr("axis", int64_t{-1})
                        .Attr("p", int64_t{2})
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("LpNormalization", kCpuBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<LpNormKernel>());

CORTADO_REGISTER_OP(OpSchema("LRN")
                        .Versions(1)
                        .Inputs(1, 1)
                        .Attr("alpha", 1e-4f)
                        .Attr("beta", 0.75f)
                        .Attr("bias", 1.0f)
                        .RequiredAttr("size", AttrType::kInt)
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("LRN", kCpuBackend, 1, kMaxOpset, FloatTypes(), MakeFactory<LrnKernel>());

CORTADO_REGISTER_OP(OpSchema("MeanVarianceNormalization")
                        .Versions(9)
                        .Inputs(1, 1)
                        .Attr("axes", std::vector<int64_t>{0, 2, 3})
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("MeanVarianceNormalization", kCpuBackend, 9, kMaxOpset, FloatTypes(),
                        MakeFactory<MeanVarianceNormKernel>());

CORTADO_REGISTER_OP(OpSchema("BatchNormalizationGrad", kTrainingDomain)
                        .Versions(1)
                        .Inputs(3, 3)
                        .Outputs(1, 3)
                        .Attr("epsilon", 1e-5f)
                        .Infer(InferNormGrad));
CORTADO_REGISTER_TRAINING_KERNEL("BatchNormalizationGrad", FloatTypes(),
                                 MakeFactory<BatchNormGradKernel>());

CORTADO_REGISTER_OP(OpSchema("LayerNormalizationGrad", kTrainingDomain)
                        .Versions(1)
                        .Inputs(5, 5)
                        .Outputs(1, 3)
                        .Attr("axis", int64_t{-1})
                        .Infer(InferNormGrad));
CORTADO_REGISTER_TRAINING_KERNEL("LayerNormalizationGrad", FloatTypes(),
                                 MakeFactory<LayerNormGradKernel>());

}  // namespace
}  // namespace cortado
