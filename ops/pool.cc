// The pools: MaxPool, AveragePool, LpPool, GlobalAveragePool, GlobalMaxPool, GlobalLpPool and
// MaxUnpool, the channels-last (kNhwcDomain) schemas of MaxPool, AveragePool and the global
// pools that the graph optimizer makes (their kernels are in ops/fused.cc), and the gradient
// operators MaxPoolGrad and AveragePoolGrad (kTrainingDomain) that the eager frontend's backward
// pass runs. Schemas with type and shape inference, and reference CPU kernels. Window geometry
// is in ops/nn_util.h.

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/thread_pool.h"
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

// ---------------------------------------------------------------------------------------------
// Pools
// ---------------------------------------------------------------------------------------------

absl::Status CheckPoolInput(absl::string_view op, const Shape& x) {
  if (x.size() < 3) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": X must be [N, C, D1, ...] (rank >= 3), got ", ShapeToString(x)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Shape> PoolOutputShape(absl::string_view op, const WindowAttrs& w, const Shape& x,
                                      Geometry* geometry) {
  RETURN_IF_ERROR(CheckPoolInput(op, x));
  if (w.kernel_shape.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(op, " requires attribute 'kernel_shape'"));
  }
  ASSIGN_OR_RETURN(Geometry g,
                   ForwardGeometry(op, Shape(x.begin() + 2, x.end()), w.kernel_shape, w));
  if (geometry != nullptr) *geometry = g;
  Shape out{x[0], x[1]};
  const Shape spatial = g.OutSpatial();
  out.insert(out.end(), spatial.begin(), spatial.end());
  return out;
}

template <int kNumOutputs>
absl::Status InferPool(InferenceContext& ctx, absl::string_view op) {
  const TensorType& x = ctx.input(0);
  TensorType out{x.dtype, std::nullopt};
  if (x.shape) {
    ASSIGN_OR_RETURN(WindowAttrs w, ReadWindowAttrs(op, ctx.attrs()));
    ASSIGN_OR_RETURN(out.shape, PoolOutputShape(op, w, *x.shape, nullptr));
  }
  ctx.set_output(0, out);
  if (kNumOutputs > 1) ctx.set_output(1, TensorType{DType::kInt64, out.shape});
  return absl::OkStatus();
}

enum class PoolKind { kMax, kAverage, kLp };

// Per spatial dimension of one window: taps [lo, hi) lie inside the input; `padded` counts the
// taps inside the input plus its padding (count_include_pad).
struct TapRange {
  int64_t start, lo, hi, padded;
};

TapRange Taps(const Geometry& g, int dim, int64_t o) {
  TapRange t;
  const int64_t d = g.dilation[dim], k = g.kernel[dim];
  t.start = o * g.stride[dim] - g.pad_begin[dim];
  // start + kk * d in [0, in)
  t.lo = t.start >= 0 ? 0 : (-t.start + d - 1) / d;
  t.hi = g.in[dim] - t.start <= 0 ? 0 : std::min(k, (g.in[dim] - t.start + d - 1) / d);
  t.hi = std::max(t.lo, t.hi);
  // start + kk * d in [-pad_begin, in + pad_end)
  const int64_t lo = -g.pad_begin[dim], hi = g.in[dim] + g.pad_end[dim];
  const int64_t plo = t.start >= lo ? 0 : (lo - t.start + d - 1) / d;
  const int64_t phi = hi - t.start <= 0 ? 0 : std::min(k, (hi - t.start + d - 1) / d);
  t.padded = std::max<int64_t>(0, phi - plo);
  return t;
}

struct PoolParams {
  bool count_include_pad = false;
  int64_t p = 2;           // LpPool
  bool col_major = false;  // MaxPool indices (storage_order 1)
};

// True for the common 2x2, stride 2 window of a 2-D max pool that lies wholly inside the input
// (no padding, no dilation, no ceil_mode overhang) with row-major indices.
bool IsPlainMaxPool2x2(const Geometry& g, const PoolParams& params) {
  if (params.col_major || g.in[0] != 1 || g.out[0] != 1 || g.kernel[0] != 1) return false;
  for (int d = 1; d < kMaxSpatial; ++d) {
    if (g.kernel[d] != 2 || g.stride[d] != 2 || g.dilation[d] != 1 || g.pad_begin[d] != 0 ||
        2 * g.out[d] > g.in[d]) {
      return false;
    }
  }
  return true;
}

// MaxPool with a plain 2x2 window (IsPlainMaxPool2x2) over planes [begin, end): the general
// walk of PoolPlanes, unrolled, with the same results (taps in row-major order; with kArgMax the
// first maximum wins and a NaN first tap stays, without it a NaN never replaces the maximum).
template <typename T, bool kArgMax>
void MaxPool2x2Planes(const Geometry& g, int64_t begin, int64_t end, const T* x, T* y,
                      int64_t* indices) {
  const int64_t ih = g.in[1], iw = g.in[2], oh = g.out[1], ow = g.out[2];
  const int64_t in_size = ih * iw, out_size = oh * ow;
  for (int64_t pl = begin; pl < end; ++pl) {
    const T* xp = x + pl * in_size;
    T* yp = y + pl * out_size;
    for (int64_t r = 0; r < oh; ++r) {
      const T* row0 = xp + 2 * r * iw;
      const T* row1 = row0 + iw;
      T* out = yp + r * ow;
      if constexpr (kArgMax) {
        int64_t* ind = indices + pl * out_size + r * ow;
        const int64_t base = pl * in_size + 2 * r * iw;
        for (int64_t c = 0; c < ow; ++c) {
          T best = row0[2 * c];
          int64_t at = base + 2 * c;
          const T v1 = row0[2 * c + 1], v2 = row1[2 * c], v3 = row1[2 * c + 1];
          at = v1 > best ? base + 2 * c + 1 : at;
          best = v1 > best ? v1 : best;
          at = v2 > best ? base + iw + 2 * c : at;
          best = v2 > best ? v2 : best;
          at = v3 > best ? base + iw + 2 * c + 1 : at;
          best = v3 > best ? v3 : best;
          out[c] = best;
          ind[c] = at;
        }
      } else {
        for (int64_t c = 0; c < ow; ++c) {
          T best = std::numeric_limits<T>::lowest();
          const T v0 = row0[2 * c], v1 = row0[2 * c + 1], v2 = row1[2 * c], v3 = row1[2 * c + 1];
          best = v0 > best ? v0 : best;
          best = v1 > best ? v1 : best;
          best = v2 > best ? v2 : best;
          best = v3 > best ? v3 : best;
          out[c] = best;
        }
      }
    }
  }
}

// Pools planes [begin, end) of x into y (and, for kArgMax, the flat argmax into `indices`).
template <typename T, PoolKind kKind, bool kArgMax = false>
void PoolPlanes(const Geometry& g, int64_t begin, int64_t end, const T* x, T* y, int64_t* indices,
                const PoolParams& params) {
  if constexpr (kKind == PoolKind::kMax) {
    if (IsPlainMaxPool2x2(g, params)) {
      MaxPool2x2Planes<T, kArgMax>(g, begin, end, x, y, indices);
      return;
    }
  }
  const int64_t in_size = g.in_size();
  std::array<std::vector<TapRange>, kMaxSpatial> taps;
  for (int d = 0; d < kMaxSpatial; ++d) {
    for (int64_t o = 0; o < g.out[d]; ++o) taps[d].push_back(Taps(g, d, o));
  }
  for (int64_t pl = begin; pl < end; ++pl) {
    const T* xp = x + pl * in_size;
    for (int64_t od = 0; od < g.out[0]; ++od) {
      const TapRange& td = taps[0][od];
      for (int64_t oh = 0; oh < g.out[1]; ++oh) {
        const TapRange& th = taps[1][oh];
        for (int64_t ow = 0; ow < g.out[2]; ++ow) {
          const TapRange& tw = taps[2][ow];
          double acc = 0;
          T best = std::numeric_limits<T>::lowest();
          int64_t best_at = -1;  // row-major offset in the plane
          int64_t count = 0;
          for (int64_t kd = td.lo; kd < td.hi; ++kd) {
            const int64_t id = td.start + kd * g.dilation[0];
            for (int64_t kh = th.lo; kh < th.hi; ++kh) {
              const int64_t row = (id * g.in[1] + th.start + kh * g.dilation[1]) * g.in[2];
              for (int64_t kw = tw.lo; kw < tw.hi; ++kw) {
                const int64_t at = row + tw.start + kw * g.dilation[2];
                const T v = xp[at];
                if constexpr (kArgMax) {
                  const bool take = v > best || best_at < 0;  // branch-free where it can be
                  best = take ? v : best;
                  best_at = take ? at : best_at;
                } else if constexpr (kKind == PoolKind::kMax) {
                  best = v > best ? v : best;  // branch-free
                } else if constexpr (kKind == PoolKind::kAverage) {
                  acc += static_cast<double>(v);
                } else {
                  const double a = std::fabs(static_cast<double>(v));
                  acc += params.p == 1 ? a : params.p == 2 ? a * a : std::pow(a, params.p);
                }
                ++count;
              }
            }
          }
          const int64_t o = ((pl * g.out[0] + od) * g.out[1] + oh) * g.out[2] + ow;
          if constexpr (kKind == PoolKind::kMax) {
            y[o] = best;
            if constexpr (kArgMax) {
              int64_t at = best_at;
              if (params.col_major && at >= 0) {  // (d, h, w) -> d + h * D + w * D * H
                const int64_t iw = at % g.in[2], ih = at / g.in[2] % g.in[1];
                at = at / (g.in[1] * g.in[2]) + (ih + iw * g.in[1]) * g.in[0];
              }
              indices[o] = at < 0 ? -1 : pl * in_size + at;
            }
          } else if constexpr (kKind == PoolKind::kAverage) {
            if (params.count_include_pad) count = td.padded * th.padded * tw.padded;
            y[o] = static_cast<T>(count > 0 ? acc / static_cast<double>(count) : 0.0);
          } else {
            y[o] = static_cast<T>(params.p == 1   ? acc
                                  : params.p == 2 ? std::sqrt(acc)
                                                  : std::pow(acc, 1.0 / params.p));
          }
        }
      }
    }
  }
}

// MaxPool, AveragePool and LpPool share attribute handling and the window walk.
template <PoolKind kKind>
class PoolKernel : public Kernel {
 public:
  static constexpr absl::string_view kName = kKind == PoolKind::kMax       ? "MaxPool"
                                             : kKind == PoolKind::kAverage ? "AveragePool"
                                                                           : "LpPool";

  explicit PoolKernel(const KernelInfo& info) {
    absl::StatusOr<WindowAttrs> w = ReadWindowAttrs(kName, *info.attrs);
    if (w.ok()) {
      attrs_ = *std::move(w);
    } else {
      status_ = w.status();
    }
    params_.count_include_pad = info.attrs->GetInt("count_include_pad") != 0;
    params_.p = info.attrs->GetInt("p", 2);
    params_.col_major = info.attrs->GetInt("storage_order") != 0;
    if (kKind == PoolKind::kLp && params_.p < 1 && status_.ok()) {
      status_ = absl::InvalidArgumentError(absl::StrCat("LpPool: p must be >= 1, got ", params_.p));
    }
  }

  absl::Status Compute(KernelContext& ctx) const override {
    RETURN_IF_ERROR(status_);
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    Geometry g;
    ASSIGN_OR_RETURN(Shape out_shape, PoolOutputShape(kName, attrs_, x->shape(), &g));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out_shape));
    int64_t* indices = nullptr;
    if (kKind == PoolKind::kMax && ctx.num_outputs() > 1) {
      ASSIGN_OR_RETURN(Tensor * ind, ctx.AllocateOutput(1, DType::kInt64, out_shape));
      indices = ind->data<int64_t>();
    }
    auto run = [&](auto tag) {
      using T = typename decltype(tag)::type;
      const int64_t planes = x->dim(0) * x->dim(1);
      const int64_t work = std::max<int64_t>(1, g.out_size() * g.kernel_size());
      ParallelFor(planes, std::max<int64_t>(1, 32768 / work), [&](int64_t begin, int64_t end) {
        if (indices != nullptr) {
          PoolPlanes<T, kKind, true>(g, begin, end, x->data<T>(), y->data<T>(), indices, params_);
        } else {
          PoolPlanes<T, kKind>(g, begin, end, x->data<T>(), y->data<T>(), nullptr, params_);
        }
      });
      return absl::OkStatus();
    };
    if constexpr (kKind == PoolKind::kMax) {
      return VisitTypes<float, double, int8_t, uint8_t>(x->dtype(), kName, run);
    } else {
      return VisitFloatType(x->dtype(), kName, run);
    }
  }

 private:
  WindowAttrs attrs_;
  PoolParams params_;
  absl::Status status_;
};

// MaxPoolGrad (training domain): dX = zeros like X, then dX[Indices[i]] += dY[i], with Indices
// MaxPool's second output (flat row-major indices into X; -1, a window with no input tap,
// contributes nothing).
absl::Status InferMaxPoolGrad(InferenceContext& ctx) {
  const TensorType& dy = ctx.input(0);
  const TensorType& ind = ctx.input(1);
  const TensorType& x = ctx.input(2);
  RETURN_IF_ERROR(CommonDType({{"dY", dy.dtype}, {"X", x.dtype}}).status());
  if (ind.dtype != DType::kUndefined && ind.dtype != DType::kInt64) {
    return absl::InvalidArgumentError(
        absl::StrCat("Indices must be int64, got ", DTypeName(ind.dtype)));
  }
  if (dy.shape && ind.shape && !ShapesMayMatch(*dy.shape, *ind.shape)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Indices ", ShapeToString(*ind.shape), " must have dY's shape ", ShapeToString(*dy.shape)));
  }
  ctx.set_output(0, x);
  return absl::OkStatus();
}

class MaxPoolGradKernel : public Kernel {
 public:
  explicit MaxPoolGradKernel(const KernelInfo&) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view op = "MaxPoolGrad";
    ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(2));
    RETURN_IF_ERROR(CheckSameDType(op, *x, *dy, "dY"));
    RETURN_IF_ERROR(CheckPoolInput(op, x->shape()));
    if (dy->rank() != x->rank() || dy->dim(0) != x->dim(0) || dy->dim(1) != x->dim(1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": dY ", ShapeToString(dy->shape()), " does not fit X ", ShapeToString(x->shape())));
    }
    if (ind->dtype() != DType::kInt64 || ind->shape() != dy->shape()) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": Indices must be int64 of dY's shape ", ShapeToString(dy->shape()),
                       ", got ", DTypeName(ind->dtype()), ShapeToString(ind->shape())));
    }
    ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    const int64_t* ip = ind->data<int64_t>();
    const int64_t total = x->num_elements();
    const int64_t planes = x->dim(0) * x->dim(1);
    if (planes == 0) return absl::OkStatus();
    const int64_t in_size = total / planes, out_size = dy->num_elements() / planes;
    return VisitFloatType(x->dtype(), op, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* dyp = dy->data<T>();
      T* dxp = dx->data<T>();
      // MaxPool's indices point into their own plane: planes go over the intra-op threads, each
      // adding in index order. Any other index (never from MaxPool) is added afterwards, in
      // order, on this thread, which also rejects those outside X.
      std::atomic<bool> stray{false};
      ParallelFor(planes, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, out_size)),
                  [&](int64_t begin, int64_t end) {
                    for (int64_t pl = begin; pl < end; ++pl) {
                      const int64_t lo = pl * in_size, hi = lo + in_size;
                      std::fill(dxp + lo, dxp + hi, T(0));
                      for (int64_t i = pl * out_size; i < (pl + 1) * out_size; ++i) {
                        const int64_t at = ip[i];
                        if (at >= lo && at < hi) {
                          dxp[at] += dyp[i];
                        } else if (at != -1) {
                          stray.store(true, std::memory_order_relaxed);
                        }
                      }
                    }
                  });
      if (!stray.load()) return absl::OkStatus();
      for (int64_t i = 0; i < planes * out_size; ++i) {
        const int64_t at = ip[i], pl = i / out_size;
        if (at == -1 || (at >= pl * in_size && at < (pl + 1) * in_size)) continue;
        if (at < 0 || at >= total) {
          return absl::InvalidArgumentError(absl::StrCat(
              op, ": index ", at, " is outside X of shape ", ShapeToString(x->shape())));
        }
        dxp[at] += dyp[i];
      }
      return absl::OkStatus();
    });
  }
};

// AveragePoolGrad (training domain): the adjoint of AveragePool, with its attributes: every
// window spreads dY / count over its input taps (count as the forward op divides by).
absl::Status InferAveragePoolGrad(InferenceContext& ctx) {
  constexpr absl::string_view op = "AveragePoolGrad";
  const TensorType& dy = ctx.input(0);
  const TensorType& x = ctx.input(1);
  RETURN_IF_ERROR(CommonDType({{"dY", dy.dtype}, {"X", x.dtype}}).status());
  if (x.shape) {
    ASSIGN_OR_RETURN(WindowAttrs w, ReadWindowAttrs(op, ctx.attrs()));
    w.dilations.clear();
    ASSIGN_OR_RETURN(Shape y, PoolOutputShape(op, w, *x.shape, nullptr));
    if (dy.shape && !ShapesMayMatch(*dy.shape, y)) {
      return absl::InvalidArgumentError(
          absl::StrCat("dY has shape ", ShapeToString(*dy.shape), " but AveragePool of X ",
                       ShapeToString(*x.shape), " gives ", ShapeToString(y)));
    }
  }
  ctx.set_output(0, x);
  return absl::OkStatus();
}

// Planes [begin, end) of dx = the adjoint of AveragePool applied to dy.
template <typename T>
void AveragePoolGradPlanes(const Geometry& g, int64_t begin, int64_t end, const T* dy, T* dx,
                           bool count_include_pad) {
  const int64_t in_size = g.in_size();
  std::fill(dx + begin * in_size, dx + end * in_size, T(0));
  std::array<std::vector<TapRange>, kMaxSpatial> taps;
  for (int d = 0; d < kMaxSpatial; ++d) {
    for (int64_t o = 0; o < g.out[d]; ++o) taps[d].push_back(Taps(g, d, o));
  }
  int64_t o = begin * g.out_size();
  for (int64_t pl = begin; pl < end; ++pl) {
    T* xp = dx + pl * in_size;
    for (int64_t od = 0; od < g.out[0]; ++od) {
      const TapRange& td = taps[0][od];
      for (int64_t oh = 0; oh < g.out[1]; ++oh) {
        const TapRange& th = taps[1][oh];
        for (int64_t ow = 0; ow < g.out[2]; ++ow, ++o) {
          const TapRange& tw = taps[2][ow];
          const int64_t count = count_include_pad
                                    ? td.padded * th.padded * tw.padded
                                    : (td.hi - td.lo) * (th.hi - th.lo) * (tw.hi - tw.lo);
          if (count <= 0) continue;
          const T v = static_cast<T>(static_cast<double>(dy[o]) / static_cast<double>(count));
          for (int64_t kd = td.lo; kd < td.hi; ++kd) {
            const int64_t id = td.start + kd * g.dilation[0];
            for (int64_t kh = th.lo; kh < th.hi; ++kh) {
              T* row = xp + (id * g.in[1] + th.start + kh * g.dilation[1]) * g.in[2] + tw.start;
              for (int64_t kw = tw.lo; kw < tw.hi; ++kw) row[kw * g.dilation[2]] += v;
            }
          }
        }
      }
    }
  }
}

class AveragePoolGradKernel : public Kernel {
 public:
  explicit AveragePoolGradKernel(const KernelInfo& info)
      : count_include_pad_(info.attrs->GetInt("count_include_pad") != 0) {
    absl::StatusOr<WindowAttrs> w = ReadWindowAttrs(kOp, *info.attrs);
    if (w.ok()) {
      attrs_ = *std::move(w);
      attrs_.dilations.clear();  // as AveragePool, which has none before opset 18
    } else {
      status_ = w.status();
    }
  }

  absl::Status Compute(KernelContext& ctx) const override {
    RETURN_IF_ERROR(status_);
    ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    RETURN_IF_ERROR(CheckSameDType(kOp, *x, *dy, "dY"));
    Geometry g;
    ASSIGN_OR_RETURN(Shape y_shape, PoolOutputShape(kOp, attrs_, x->shape(), &g));
    if (dy->shape() != y_shape) {
      return absl::InvalidArgumentError(
          absl::StrCat(kOp, ": dY has shape ", ShapeToString(dy->shape()), " but AveragePool of X ",
                       ShapeToString(x->shape()), " gives ", ShapeToString(y_shape)));
    }
    ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    return VisitFloatType(x->dtype(), kOp, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const int64_t work = std::max<int64_t>(1, g.out_size() * g.kernel_size());
      ParallelFor(x->dim(0) * x->dim(1), std::max<int64_t>(1, 32768 / work),
                  [&](int64_t begin, int64_t end) {
                    AveragePoolGradPlanes<T>(g, begin, end, dy->data<T>(), dx->data<T>(),
                                             count_include_pad_);
                  });
      return absl::OkStatus();
    });
  }

 private:
  static constexpr absl::string_view kOp = "AveragePoolGrad";
  const bool count_include_pad_;
  WindowAttrs attrs_;
  absl::Status status_;
};

// GlobalAveragePool, GlobalMaxPool and GlobalLpPool: one value per [n, c] plane.
absl::Status InferGlobalPool(InferenceContext& ctx) {
  const TensorType& x = ctx.input(0);
  TensorType out{x.dtype, std::nullopt};
  if (x.shape) {
    if (x.shape->size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("X must have rank >= 2, got ", ShapeToString(*x.shape)));
    }
    Shape s = *x.shape;
    std::fill(s.begin() + 2, s.end(), 1);
    out.shape = s;
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

template <PoolKind kKind>
class GlobalPoolKernel : public Kernel {
 public:
  static constexpr absl::string_view kName = kKind == PoolKind::kMax       ? "GlobalMaxPool"
                                             : kKind == PoolKind::kAverage ? "GlobalAveragePool"
                                                                           : "GlobalLpPool";
  explicit GlobalPoolKernel(const KernelInfo& info) : p_(info.attrs->GetInt("p", 2)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(kName, ": X must have rank >= 2, got ", ShapeToString(x->shape())));
    }
    if (kKind == PoolKind::kLp && p_ < 1) {
      return absl::InvalidArgumentError(absl::StrCat(kName, ": p must be >= 1, got ", p_));
    }
    Shape out_shape = x->shape();
    std::fill(out_shape.begin() + 2, out_shape.end(), 1);
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out_shape));
    const int64_t planes = x->dim(0) * x->dim(1);
    const int64_t size = Product(x->shape(), 2, x->rank());
    return VisitFloatType(x->dtype(), kName, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = x->data<T>();
      T* yp = y->data<T>();
      for (int64_t pl = 0; pl < planes; ++pl) {
        const T* v = xp + pl * size;
        if constexpr (kKind == PoolKind::kMax) {
          T best = size > 0 ? v[0] : T(0);
          for (int64_t i = 1; i < size; ++i) best = v[i] > best ? v[i] : best;
          yp[pl] = best;
        } else if constexpr (kKind == PoolKind::kAverage) {
          double acc = 0;
          for (int64_t i = 0; i < size; ++i) acc += v[i];
          yp[pl] = static_cast<T>(size > 0 ? acc / static_cast<double>(size) : 0.0);
        } else {
          double acc = 0;
          for (int64_t i = 0; i < size; ++i) acc += std::pow(std::fabs(double(v[i])), p_);
          yp[pl] = static_cast<T>(std::pow(acc, 1.0 / p_));
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  const int64_t p_;
};

// MaxUnpool: scatters X into zeros at the flat positions I (as MaxPool's Indices output gives).
absl::StatusOr<Shape> MaxUnpoolShape(const WindowAttrs& w, const Shape& x,
                                     const Tensor* output_shape) {
  constexpr absl::string_view op = "MaxUnpool";
  RETURN_IF_ERROR(CheckPoolInput(op, x));
  if (output_shape != nullptr) {
    ASSIGN_OR_RETURN(std::vector<int64_t> s, output_shape->ToInt64Vector());
    if (s.size() != x.size() || (x[0] >= 0 && s[0] != x[0]) || (x[1] >= 0 && s[1] != x[1])) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": output_shape [", absl::StrJoin(s, ","),
                                                     "] does not fit X ", ShapeToString(x)));
    }
    RETURN_IF_ERROR(ValidateShape(s));
    return s;
  }
  if (w.kernel_shape.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(op, " requires attribute 'kernel_shape'"));
  }
  // The default output is the input of the MaxPool that X could have come from.
  const Shape in(x.begin() + 2, x.end());
  ASSIGN_OR_RETURN(
      Geometry g,
      TransposedGeometry(in, w.kernel_shape,
                         WindowAttrs{AutoPad::kNotSet, w.kernel_shape, w.strides, {}, w.pads}));
  Shape out{x[0], x[1]};
  const Shape spatial = g.InSpatial();
  out.insert(out.end(), spatial.begin(), spatial.end());
  return out;
}

absl::Status InferMaxUnpool(InferenceContext& ctx) {
  const TensorType& x = ctx.input(0);
  TensorType out{x.dtype, std::nullopt};
  const bool shape_input = ctx.has_input(2);
  if (x.shape && (!shape_input || ctx.constant(2) != nullptr)) {
    ASSIGN_OR_RETURN(WindowAttrs w, ReadWindowAttrs("MaxUnpool", ctx.attrs()));
    ASSIGN_OR_RETURN(out.shape, MaxUnpoolShape(w, *x.shape, ctx.constant(2)));
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

class MaxUnpoolKernel : public Kernel {
 public:
  explicit MaxUnpoolKernel(const KernelInfo& info) {
    absl::StatusOr<WindowAttrs> w = ReadWindowAttrs("MaxUnpool", *info.attrs);
    if (w.ok()) {
      attrs_ = *std::move(w);
    } else {
      status_ = w.status();
    }
  }

  absl::Status Compute(KernelContext& ctx) const override {
    RETURN_IF_ERROR(status_);
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequiredInput(1));
    const Tensor* shape_in = ctx.input(2);
    if (shape_in != nullptr && !shape_in->defined()) shape_in = nullptr;
    if (ind->dtype() != DType::kInt64 || ind->shape() != x->shape()) {
      return absl::InvalidArgumentError(
          absl::StrCat("MaxUnpool: I must be int64 of X's shape ", ShapeToString(x->shape()),
                       ", got ", DTypeName(ind->dtype()), ShapeToString(ind->shape())));
    }
    // Indices address the default output (the input of the MaxPool X came from); a larger
    // output_shape pads each dimension at its end, as ONNX's reference does.
    ASSIGN_OR_RETURN(const Shape base_shape, MaxUnpoolShape(attrs_, x->shape(), nullptr));
    ASSIGN_OR_RETURN(const Shape out_shape, MaxUnpoolShape(attrs_, x->shape(), shape_in));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out_shape));
    std::memset(y->raw_data(), 0, y->nbytes());
    const int64_t* ip = ind->data<int64_t>();
    const int64_t base_total = NumElements(base_shape);
    const std::vector<int64_t> base_strides = Strides(base_shape);
    const std::vector<int64_t> out_strides = Strides(out_shape);
    return VisitFloatType(x->dtype(), "MaxUnpool", [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = x->data<T>();
      T* yp = y->data<T>();
      for (int64_t i = 0; i < x->num_elements(); ++i) {
        int64_t rest = ip[i], at = 0;
        bool ok = rest >= 0 && rest < base_total;
        for (size_t d = 0; ok && d < base_shape.size(); ++d) {
          const int64_t coord = rest / base_strides[d];
          rest %= base_strides[d];
          ok = coord < out_shape[d];
          at += coord * out_strides[d];
        }
        if (!ok) {
          return absl::InvalidArgumentError(absl::StrCat(
              "MaxUnpool: index ", ip[i], " is outside the unpooled shape ",
              ShapeToString(base_shape), " or the output shape ", ShapeToString(out_shape)));
        }
        yp[at] = xp[i];
      }
      return absl::OkStatus();
    });
  }

 private:
  WindowAttrs attrs_;
  absl::Status status_;
};

// ---------------------------------------------------------------------------------------------
// Registrations
// ---------------------------------------------------------------------------------------------

OpSchema PoolSchema(const char* name, int since, int max_outputs, const char* domain = "") {
  return OpSchema(name, domain)
      .Versions(since)
      .Inputs(1, 1)
      .Outputs(1, max_outputs)
      .Attr("auto_pad", std::string("NOTSET"))
      .RequiredAttr("kernel_shape", AttrType::kInts)
      .OptionalAttr("pads", AttrType::kInts)
      .OptionalAttr("strides", AttrType::kInts);
}

CORTADO_REGISTER_OP(PoolSchema("MaxPool", 1, 1, kNhwcDomain)
                        .Attr("ceil_mode", int64_t{0})
                        .OptionalAttr("dilations", AttrType::kInts)
                        .Attr("storage_order", int64_t{0})
                        .Infer(ChannelsLast(
                            [](InferenceContext& ctx) { return InferPool<1>(ctx, "MaxPool"); })));
CORTADO_REGISTER_OP(PoolSchema("AveragePool", 1, 1, kNhwcDomain)
                        .Attr("ceil_mode", int64_t{0})
                        .Attr("count_include_pad", int64_t{0})
                        .Infer(ChannelsLast([](InferenceContext& ctx) {
                          return InferPool<1>(ctx, "AveragePool");
                        })));
CORTADO_REGISTER_OP(OpSchema("GlobalAveragePool", kNhwcDomain)
                        .Versions(1)
                        .Inputs(1, 1)
                        .Infer(ChannelsLast(InferGlobalPool)));
CORTADO_REGISTER_OP(OpSchema("GlobalMaxPool", kNhwcDomain)
                        .Versions(1)
                        .Inputs(1, 1)
                        .Infer(ChannelsLast(InferGlobalPool)));

CORTADO_REGISTER_OP(PoolSchema("MaxPool", 1, 2)
                        .Attr("ceil_mode", int64_t{0})
                        .OptionalAttr("dilations", AttrType::kInts)
                        .Attr("storage_order", int64_t{0})
                        .Infer([](InferenceContext& ctx) { return InferPool<2>(ctx, "MaxPool"); }));
CORTADO_REGISTER_KERNEL("MaxPool", kCpuBackend, 1, kMaxOpset,
                        (std::vector<DType>{DType::kFloat32, DType::kFloat64, DType::kInt8,
                                            DType::kUInt8}),
                        MakeFactory<PoolKernel<PoolKind::kMax>>());

CORTADO_REGISTER_OP(PoolSchema("AveragePool", 1, 1)
                        .Attr("ceil_mode", int64_t{0})
                        .Attr("count_include_pad", int64_t{0})
                        .OptionalAttr("dilations", AttrType::kInts)  // opset 19
                        .Infer([](InferenceContext& ctx) {
                          return InferPool<1>(ctx, "AveragePool");
                        }));
CORTADO_REGISTER_KERNEL("AveragePool", kCpuBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<PoolKernel<PoolKind::kAverage>>());

CORTADO_REGISTER_OP(PoolSchema("LpPool", 1, 1)
                        .Attr("p", int64_t{2})
                        .Attr("ceil_mode", int64_t{0})               // opset 18
                        .OptionalAttr("dilations", AttrType::kInts)  // opset 18
                        .Infer([](InferenceContext& ctx) { return InferPool<1>(ctx, "LpPool"); }));
CORTADO_REGISTER_KERNEL("LpPool", kCpuBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<PoolKernel<PoolKind::kLp>>());

CORTADO_REGISTER_OP(OpSchema("GlobalAveragePool").Versions(1).Inputs(1, 1).Infer(InferGlobalPool));
CORTADO_REGISTER_KERNEL("GlobalAveragePool", kCpuBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<GlobalPoolKernel<PoolKind::kAverage>>());
CORTADO_REGISTER_OP(OpSchema("GlobalMaxPool").Versions(1).Inputs(1, 1).Infer(InferGlobalPool));
CORTADO_REGISTER_KERNEL("GlobalMaxPool", kCpuBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<GlobalPoolKernel<PoolKind::kMax>>());
CORTADO_REGISTER_OP(
    OpSchema("GlobalLpPool").Versions(2).Inputs(1, 1).Attr("p", int64_t{2}).Infer(InferGlobalPool));
CORTADO_REGISTER_KERNEL("GlobalLpPool", kCpuBackend, 2, kMaxOpset, FloatTypes(),
                        MakeFactory<GlobalPoolKernel<PoolKind::kLp>>());

CORTADO_REGISTER_OP(OpSchema("MaxUnpool")
                        .Versions(9)
                        .Inputs(2, 3)
                        .RequiredAttr("kernel_shape", AttrType::kInts)
                        .OptionalAttr("pads", AttrType::kInts)
                        .OptionalAttr("strides", AttrType::kInts)
                        .Infer(InferMaxUnpool));
CORTADO_REGISTER_KERNEL("MaxUnpool", kCpuBackend, 9, kMaxOpset, FloatTypes(),
                        MakeFactory<MaxUnpoolKernel>());

CORTADO_REGISTER_OP(OpSchema("MaxPoolGrad", kTrainingDomain)
                        .Versions(1)
                        .Inputs(3, 3)
                        .Outputs(1, 1)
                        .Infer(InferMaxPoolGrad));
CORTADO_REGISTER_TRAINING_KERNEL("MaxPoolGrad", FloatTypes(), MakeFactory<MaxPoolGradKernel>());

CORTADO_REGISTER_OP(OpSchema("AveragePoolGrad", kTrainingDomain)
                        .Versions(1)
                        .Inputs(2, 2)
                        .Outputs(1, 1)
                        .Attr("auto_pad", std::string("NOTSET"))
                        .Attr("ceil_mode", int64_t{0})
                        .Attr("count_include_pad", int64_t{0})
                        .RequiredAttr("kernel_shape", AttrType::kInts)
                        .OptionalAttr("pads", AttrType::kInts)
                        .OptionalAttr("strides", AttrType::kInts)
                        .Infer(InferAveragePoolGrad));
CORTADO_REGISTER_TRAINING_KERNEL("AveragePoolGrad", FloatTypes(),
                                 MakeFactory<AveragePoolGradKernel>());

}  // namespace
}  // namespace cortado
