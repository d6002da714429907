// The optimized CPU convolutions (backend "cpu_opt"): Conv and ConvTranspose as im2col (or
// col2im) plus BlockedGemm (backends/cpu/gemm.h), with direct paths for depthwise convolutions
// (vectorized rows) and pointwise ones (X is its own column matrix), and the training gradient
// ConvGrad the same way; images, planes and GEMM tiles split over the intra-op threads
// (core/thread_pool.h). The operand checks are the reference kernels' own (ops/conv.h), and
// //backends:backends_test compares every path with the reference kernels of ops/conv.cc.
// Kernels are immutable: thread-safe.

#include "ops/conv.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
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

// Runs fn(part, begin, end) for each of `parts` contiguous parts of [0, n) (part p is
// [p * n / parts, (p + 1) * n / parts)) on the intra-op threads. Kernels size per-part scratch
// (or partial sums, reduced in part order afterwards) by parts = ParallelChunks(n, min_chunk).
template <typename F>
void ForEachPart(int64_t n, int64_t parts, F&& fn) {
  ParallelFor(parts, 1, [&](int64_t first, int64_t last) {
    for (int64_t p = first; p < last; ++p) fn(p, p * n / parts, (p + 1) * n / parts);
  });
}

// Short copies, fills and sums (the runs of Im2Col and Col2Im, often a dozen elements), inline:
// a call to memcpy or memset per run would cost more than the run.
template <typename T>
inline void CopyRun(T* dst, const T* src, int64_t n) {
  typedef T V __attribute__((vector_size(16)));
  constexpr int kLanes = sizeof(V) / sizeof(T);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    V v;
    std::memcpy(&v, src + i, sizeof(V));
    std::memcpy(dst + i, &v, sizeof(V));
  }
  for (; i < n; ++i) dst[i] = src[i];
}

template <typename T>
inline void ZeroRun(T* dst, int64_t n) {
  typedef T V __attribute__((vector_size(16)));
  constexpr int kLanes = sizeof(V) / sizeof(T);
  int64_t i = 0;
  V zero{};
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(zero));  // opaque, so that GCC does not turn the loops into memset calls
#endif
  for (; i + kLanes <= n; i += kLanes) std::memcpy(dst + i, &zero, sizeof(V));
  for (; i < n; ++i) dst[i] = zero[0];
}

template <typename T>
inline void AddRun(T* dst, const T* src, int64_t n) {
  typedef T V __attribute__((vector_size(16)));
  constexpr int kLanes = sizeof(V) / sizeof(T);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    V a, b;
    std::memcpy(&a, dst + i, sizeof(V));
    std::memcpy(&b, src + i, sizeof(V));
    a += b;
    std::memcpy(dst + i, &a, sizeof(V));
  }
  for (; i < n; ++i) dst[i] += src[i];
}

// An uninitialized scratch buffer of n elements of T (a Tensor, so that a huge request is an
// error, not a crash).
template <typename T>
absl::StatusOr<Tensor> Scratch(int64_t n) {
  return Tensor::Create(DTypeOf<T>::value, Shape{n});
}

// For output positions o in [0, out), the input position is o * stride + offset. Returns the
// range [lo, hi) of o whose input position lies in [0, in).
std::pair<int64_t, int64_t> ValidRange(int64_t offset, int64_t stride, int64_t in, int64_t out) {
  // o * stride + offset >= 0  <=>  o >= ceil(-offset / stride)
  int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  // o * stride + offset < in  <=>  o < ceil((in - offset) / stride)
  int64_t hi = in - offset <= 0 ? 0 : (in - offset + stride - 1) / stride;
  lo = std::min(lo, out);
  hi = std::max(lo, std::min(hi, out));
  return {lo, hi};
}

// Walks the im2col matrix of a [channels, in...] image: its rows are (channel, kernel tap) and
// its columns output positions. Calls f(col_index, img_index, lo, hi, offset) once per run of
// out[2] consecutive columns sharing (channel, tap, output d, output h): col_index is the flat
// index of the run's first entry, img_index that of the image row it reads (-1 when that row
// is padding), and entries [lo, hi) of the run read image column ow * stride[2] + offset; the
// others are padding.
template <typename F>
void ForEachColumnRun(const Geometry& g, int64_t channels, F&& f) {
  const int64_t out_size = g.out_size();
  int64_t row = 0;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++row) {
          const int64_t offset = kw * g.dilation[2] - g.pad_begin[2];
          const auto [lo, hi] = ValidRange(offset, g.stride[2], g.in[2], g.out[2]);
          int64_t col = row * out_size;
          for (int64_t od = 0; od < g.out[0]; ++od) {
            const int64_t id = od * g.stride[0] - g.pad_begin[0] + kd * g.dilation[0];
            const bool d_ok = id >= 0 && id < g.in[0];
            for (int64_t oh = 0; oh < g.out[1]; ++oh, col += g.out[2]) {
              const int64_t ih = oh * g.stride[1] - g.pad_begin[1] + kh * g.dilation[1];
              const bool ok = d_ok && ih >= 0 && ih < g.in[1];
              f(col, ok ? ((c * g.in[0] + id) * g.in[1] + ih) * g.in[2] : -1, lo, hi, offset);
            }
          }
        }
      }
    }
  }
}

// The padded path of Im2Col and Col2Im: a 2-D (or 1-D) window with stride 1 along the rows,
// over rows of at least one vector. The image is first copied into a zero-padded buffer, after
// which every run of the column matrix is a plain copy (or sum) of out[2] elements, without
// the per-run edge handling: for small images that bookkeeping costs as much as the copying.
template <typename T>
bool UsePaddedColumns(const Geometry& g) {
  return g.in[0] == 1 && g.kernel[0] == 1 && g.pad_begin[0] == 0 && g.pad_end[0] == 0 &&
         g.stride[2] == 1 && g.out[2] * sizeof(T) >= 16;
}

// Elements of the padded image buffer that Im2Col and Col2Im need (0: none).
template <typename T>
int64_t ColumnScratchSize(const Geometry& g, int64_t channels) {
  if (!UsePaddedColumns<T>(g)) return 0;
  return channels * (g.in[1] + g.pad_begin[1] + g.pad_end[1]) *
         (g.in[2] + g.pad_begin[2] + g.pad_end[2]);
}

// dst[0..n) = src[0..n) for n of at least one vector: the last vector may overlap the one
// before it.
template <typename T>
inline void CopyRunOverlapping(T* dst, const T* src, int64_t n) {
  typedef T V __attribute__((vector_size(16)));
  constexpr int kLanes = sizeof(V) / sizeof(T);
  V v;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    std::memcpy(&v, src + i, sizeof(V));
    std::memcpy(dst + i, &v, sizeof(V));
  }
  if (i < n) {
    std::memcpy(&v, src + n - kLanes, sizeof(V));
    std::memcpy(dst + n - kLanes, &v, sizeof(V));
  }
}

// col[channels * kernel_size, out_size] = the windows of img[channels, in...]. `scratch` holds
// ColumnScratchSize(g, channels) elements (it may be null when that is 0).
template <typename T>
void Im2Col(const Geometry& g, int64_t channels, const T* img, T* col, T* scratch) {
  if (UsePaddedColumns<T>(g)) {
    const int64_t ih = g.in[1], iw = g.in[2], top = g.pad_begin[1], left = g.pad_begin[2];
    const int64_t ph = ih + top + g.pad_end[1], pw = iw + left + g.pad_end[2];
    for (int64_t c = 0; c < channels; ++c) {
      T* plane = scratch + c * ph * pw;
      ZeroRun(plane, top * pw);
      for (int64_t r = 0; r < ih; ++r) {
        T* row = plane + (top + r) * pw;
        ZeroRun(row, left);
        CopyRun(row + left, img + (c * ih + r) * iw, iw);
        ZeroRun(row + left + iw, pw - left - iw);
      }
      ZeroRun(plane + (top + ih) * pw, (ph - top - ih) * pw);
    }
    const int64_t oh = g.out[1], ow = g.out[2];
    T* dst = col;
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
          const T* src = scratch + c * ph * pw + kh * g.dilation[1] * pw + kw * g.dilation[2];
          for (int64_t o = 0; o < oh; ++o, dst += ow) {
            CopyRunOverlapping(dst, src + o * g.stride[1] * pw, ow);
          }
        }
      }
    }
    return;
  }
  const int64_t ow = g.out[2], s = g.stride[2];
  ForEachColumnRun(g, channels, [&](int64_t ci, int64_t ii, int64_t lo, int64_t hi, int64_t off) {
    T* dst = col + ci;
    if (ii < 0) {
      ZeroRun(dst, ow);
      return;
    }
    ZeroRun(dst, lo);
    const T* src = img + ii + off;
    if (s == 1) {
      CopyRun(dst + lo, src + lo, hi - lo);
    } else {
      for (int64_t o = lo; o < hi; ++o) dst[o] = src[o * s];
    }
    ZeroRun(dst + hi, ow - hi);
  });
}

// img[channels, in...] += the windows in col (the adjoint of Im2Col), with Im2Col's scratch.
template <typename T>
void Col2Im(const Geometry& g, int64_t channels, const T* col, T* img, T* scratch) {
  if (UsePaddedColumns<T>(g)) {
    const int64_t ih = g.in[1], iw = g.in[2], top = g.pad_begin[1], left = g.pad_begin[2];
    const int64_t ph = ih + top + g.pad_end[1], pw = iw + left + g.pad_end[2];
    ZeroRun(scratch, channels * ph * pw);
    const int64_t oh = g.out[1], ow = g.out[2];
    const T* src = col;
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
          T* dst = scratch + c * ph * pw + kh * g.dilation[1] * pw + kw * g.dilation[2];
          for (int64_t o = 0; o < oh; ++o, src += ow) AddRun(dst + o * g.stride[1] * pw, src, ow);
        }
      }
    }
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t r = 0; r < ih; ++r) {
        AddRun(img + (c * ih + r) * iw, scratch + (c * ph + top + r) * pw + left, iw);
      }
    }
    return;
  }
  const int64_t s = g.stride[2];
  ForEachColumnRun(g, channels, [&](int64_t ci, int64_t ii, int64_t lo, int64_t hi, int64_t off) {
    if (ii < 0) return;
    T* dst = img + ii + off;
    const T* src = col + ci;
    if (s == 1) {
      AddRun(dst + lo, src + lo, hi - lo);
    } else {
      for (int64_t o = lo; o < hi; ++o) dst[o * s] += src[o];
    }
  });
}

// One row of a direct convolution: y[o] += sum_k w[k] * x[o * stride + k * dilation - pad] for
// o in [0, n_out), skipping taps that fall outside x[0, n_in). `phase` is scratch for
// stride * ceil(n_in / stride) elements (unused when stride is 1).
template <typename T>
void ConvRow(const T* x, int64_t n_in, const T* w, int64_t taps, int64_t stride, int64_t dilation,
             int64_t pad, T* y, int64_t n_out, T* phase) {
  // Outputs [lo, hi) have every tap inside the row.
  const int64_t lo = ValidRange(-pad, stride, n_in, n_out).first;
  const int64_t hi =
      std::max(lo, ValidRange((taps - 1) * dilation - pad, stride, n_in, n_out).second);
  auto edge = [&](int64_t o) {
    for (int64_t k = 0; k < taps; ++k) {
      const int64_t i = o * stride + k * dilation - pad;
      if (i >= 0 && i < n_in) y[o] += w[k] * x[i];
    }
  };
  for (int64_t o = 0; o < lo; ++o) edge(o);
  for (int64_t o = hi; o < n_out; ++o) edge(o);
  if (lo >= hi) return;
  // Tap k reads src[k][o]. With a stride, x is first split into `stride` phases
  // (phase r holds x[stride * j + r]) so that every tap reads contiguously.
  constexpr int kMaxTaps = 16;
  const T* src[kMaxTaps];
  const int64_t len = (n_in + stride - 1) / stride;
  if (stride > 1) {
    for (int64_t r = 0; r < stride; ++r) {
      for (int64_t j = 0; j * stride + r < n_in; ++j) phase[r * len + j] = x[j * stride + r];
    }
  }
  for (int64_t base = 0; base < taps; base += kMaxTaps) {
    const int64_t count = std::min<int64_t>(kMaxTaps, taps - base);
    for (int64_t k = 0; k < count; ++k) {
      const int64_t off = (base + k) * dilation - pad;
      if (stride == 1) {
        src[k] = x + off;
      } else {
        const int64_t r = ((off % stride) + stride) % stride;
        src[k] = phase + r * len + (off - r) / stride;
      }
    }
    typedef T V __attribute__((vector_size(16)));
    constexpr int kLanes = sizeof(V) / sizeof(T);
    int64_t o = lo;
    for (; o + kLanes <= hi; o += kLanes) {
      V acc;
      std::memcpy(&acc, y + o, sizeof(V));
      for (int64_t k = 0; k < count; ++k) {
        V xv;
        std::memcpy(&xv, src[k] + o, sizeof(V));
        acc += (V{} + w[base + k]) * xv;
      }
      std::memcpy(y + o, &acc, sizeof(V));
    }
    for (; o < hi; ++o) {
      for (int64_t k = 0; k < count; ++k) y[o] += w[base + k] * src[k][o];
    }
  }
}

// Direct depthwise convolution (one input and one output channel per group) of one 2-D plane:
// y = bias + sum over taps of w * x. Faster than im2col for these memory-bound layers.
// `phase` is ConvRow's scratch.
template <typename T>
void DepthwisePlane(const Geometry& g, const T* x, const T* w, T bias, T* y, T* phase) {
  const int64_t oh = g.out[1], ow = g.out[2], ih = g.in[1], iw = g.in[2];
  for (int64_t oy = 0; oy < oh; ++oy) {
    T* dst = y + oy * ow;
    std::fill(dst, dst + ow, bias);
    for (int64_t ky = 0; ky < g.kernel[1]; ++ky) {
      const int64_t iy = oy * g.stride[1] - g.pad_begin[1] + ky * g.dilation[1];
      if (iy < 0 || iy >= ih) continue;
      ConvRow<T>(x + iy * iw, iw, w + ky * g.kernel[2], g.kernel[2], g.stride[2], g.dilation[2],
                 g.pad_begin[2], dst, ow, phase);
    }
  }
}

// What each kernel below reads off its operands: the batch, the input and output channels (c,
// m) and per group (cg, mg), and whether the window is pointwise (1x1, stride 1, no padding: the
// image is its own column matrix).
struct ConvDims {
  ConvDims(const Geometry& g, const Tensor& x, int64_t out_channels, int64_t groups)
      : batch(x.dim(0)),
        c(x.dim(1)),
        m(out_channels),
        group(groups),
        cg(c / groups),
        mg(m / groups),
        pointwise(g.kernel_size() == 1) {
    for (int i = 0; i < kMaxSpatial; ++i) {
      pointwise = pointwise && g.stride[i] == 1 && g.pad_begin[i] == 0 && g.pad_end[i] == 0;
    }
  }
  explicit ConvDims(const ConvOperands& op) : ConvDims(op.g, *op.x, op.y->dim(1), op.group) {}
  explicit ConvDims(const ConvGradOperands& op) : ConvDims(op.g, *op.x, op.w->dim(0), op.group) {}

  int64_t batch, c, m, group, cg, mg;
  bool pointwise;
};

struct BlockedConv {
  template <typename T>
  static absl::Status Run(const ConvOperands& op) {
    const Geometry& g = op.g;
    const auto [batch, c, m, group, cg, mg, pointwise] = ConvDims(op);
    const int64_t in_size = g.in_size(), out_size = g.out_size();
    const int64_t kdim = cg * g.kernel_size();  // GEMM inner dimension
    const T* xp = op.x->data<T>();
    const T* wp = op.w->data<T>();
    const T* bp = op.b != nullptr ? op.b->data<T>() : nullptr;
    T* yp = op.y->data<T>();
    if (op.y->num_elements() == 0) return absl::OkStatus();
    if (cg == 1 && mg == 1 && g.kernel[0] == 1 && g.in[0] == 1) {
      // Planes over the intra-op threads, each part with its own ConvRow scratch.
      const int64_t planes = batch * c, phase_size = g.in[2] + g.stride[2];
      const int64_t parts = ParallelChunks(planes, std::max<int64_t>(1, 16384 / out_size));
      ASSIGN_OR_RETURN(Tensor phase, Scratch<T>(parts * phase_size));
      ForEachPart(planes, parts, [&](int64_t part, int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p) {
          DepthwisePlane<T>(g, xp + p * in_size, wp + (p % c) * g.kernel_size(),
                            bp != nullptr ? bp[p % c] : T(0), yp + p * out_size,
                            phase.data<T>() + part * phase_size);
        }
      });
      return absl::OkStatus();
    }
    // Images over the intra-op threads, each part with its own column buffer. (One image: the
    // Gemm splits instead.)
    const int64_t parts = ParallelChunks(batch, 1);
    // Per part: the column matrix, then Im2Col's scratch.
    const int64_t part_size = kdim * out_size + ColumnScratchSize<T>(g, cg);
    Tensor col;
    if (!pointwise) {
      ASSIGN_OR_RETURN(col, Scratch<T>(parts * part_size));
    }
    ForEachPart(batch, parts, [&](int64_t part, int64_t begin, int64_t end) {
      T* colp = pointwise ? nullptr : col.data<T>() + part * part_size;
      for (int64_t n = begin; n < end; ++n) {
        for (int64_t grp = 0; grp < group; ++grp) {
          const T* xg = xp + (n * c + grp * cg) * in_size;
          T* yg = yp + (n * m + grp * mg) * out_size;
          const T* cols = xg;
          if (!pointwise) {
            Im2Col<T>(g, cg, xg, colp, colp + kdim * out_size);
            cols = colp;
          }
          if (bp != nullptr) {
            for (int64_t j = 0; j < mg; ++j) {
              std::fill(yg + j * out_size, yg + (j + 1) * out_size, bp[grp * mg + j]);
            }
          }
          BlockedGemm<T>(false, false, mg, out_size, kdim, T(1), wp + grp * mg * kdim, kdim, cols,
                         out_size, bp != nullptr ? T(1) : T(0), yg, out_size);
        }
      }
    });
    return absl::OkStatus();
  }
};

struct BlockedConvTranspose {
  template <typename T>
  static absl::Status Run(const ConvOperands& op) {
    const Geometry& g = op.g;
    const auto [batch, c, m, group, cg, mg, pointwise] = ConvDims(op);
    // In the adjoint geometry, `out` is this op's input and `in` its output.
    const int64_t x_size = g.out_size(), y_size = g.in_size();
    const int64_t rows = mg * g.kernel_size();
    const T* xp = op.x->data<T>();
    const T* wp = op.w->data<T>();
    const T* bp = op.b != nullptr ? op.b->data<T>() : nullptr;
    T* yp = op.y->data<T>();
    if (op.y->num_elements() == 0) return absl::OkStatus();
    ASSIGN_OR_RETURN(Tensor col, Scratch<T>(rows * x_size + ColumnScratchSize<T>(g, mg)));
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t grp = 0; grp < group; ++grp) {
        T* yg = yp + (n * m + grp * mg) * y_size;
        for (int64_t j = 0; j < mg; ++j) {
          const T bias = bp != nullptr ? bp[grp * mg + j] : T(0);
          std::fill(yg + j * y_size, yg + (j + 1) * y_size, bias);
        }
        // col[mg * taps, x_size] = W_g^T [mg * taps, cg] * X_g [cg, x_size].
        BlockedGemm<T>(true, false, rows, x_size, cg, T(1), wp + grp * cg * rows, rows,
                       xp + (n * c + grp * cg) * x_size, x_size, T(0), col.data<T>(), x_size);
        Col2Im<T>(g, mg, col.data<T>(), yg, col.data<T>() + rows * x_size);
      }
    }
    return absl::OkStatus();
  }
};

// Per image and group, with col = Im2Col(X[n, g]) ([C/group * taps, out_size]):
//   dW[g] += dY[n, g] * col^T,   dcol = W[g]^T * dY[n, g],   dX[n, g] = Col2Im(dcol);
// dB[m] is the sum of dY[:, m]. A pointwise convolution (1x1, stride 1, no padding) skips the
// im2col: X and dX are their own column matrices.
struct BlockedConvGrad {
  template <typename T>
  static absl::Status Run(const ConvGradOperands& op) {
    const Geometry& g = op.g;
    const Tensor &dy = *op.dy, &x = *op.x, &w = *op.w;
    Tensor *dx = op.dx, *dw = op.dw, *db = op.db;
    const auto [batch, c, m, group, cg, mg, pointwise] = ConvDims(op);
    const int64_t in_size = g.in_size(), out_size = g.out_size();
    const int64_t kdim = cg * g.kernel_size();
    const T* dyp = dy.data<T>();
    const T* xp = x.data<T>();
    const T* wp = w.data<T>();
    T* dxp = dx->data<T>();
    T* dwp = dw->data<T>();
    std::memset(dw->raw_data(), 0, dw->nbytes());
    if (db != nullptr) {
      T* dbp = db->data<T>();
      ParallelFor(m, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, batch * out_size)),
                  [&](int64_t begin, int64_t end) {
                    for (int64_t j = begin; j < end; ++j) {
                      double sum = 0;
                      for (int64_t n = 0; n < batch; ++n) {
                        sum += SumD(dyp + (n * m + j) * out_size, out_size);
                      }
                      dbp[j] = static_cast<T>(sum);
                    }
                  });
    }
    if (dy.num_elements() == 0 || kdim == 0) {
      std::memset(dx->raw_data(), 0, dx->nbytes());
      return absl::OkStatus();
    }
    // Images over the intra-op threads: part 0 accumulates dW in place, part p > 0 into its own
    // zeroed buffer, added to dW in part order afterwards (deterministic for a thread count).
    const int64_t parts = ParallelChunks(batch, 1), w_size = w.num_elements();
    // Per part: the column matrix, then Im2Col's and Col2Im's scratch.
    const int64_t part_size = kdim * out_size + ColumnScratchSize<T>(g, cg);
    Tensor col, partial_dw;
    if (!pointwise) {
      ASSIGN_OR_RETURN(col, Scratch<T>(parts * part_size));
    }
    if (parts > 1) {
      ASSIGN_OR_RETURN(partial_dw, Tensor::Zeros(w.dtype(), {(parts - 1) * w_size}));
    }
    ForEachPart(batch, parts, [&](int64_t part, int64_t begin, int64_t end) {
      T* dw_part = part == 0 ? dwp : partial_dw.data<T>() + (part - 1) * w_size;
      T* cols = pointwise ? nullptr : col.data<T>() + part * part_size;
      T* scratch = pointwise ? nullptr : cols + kdim * out_size;
      for (int64_t n = begin; n < end; ++n) {
        for (int64_t grp = 0; grp < group; ++grp) {
          const T* xg = xp + (n * c + grp * cg) * in_size;
          T* dxg = dxp + (n * c + grp * cg) * in_size;
          const T* dyg = dyp + (n * m + grp * mg) * out_size;
          const T* wg = wp + grp * mg * kdim;
          T* dwg = dw_part + grp * mg * kdim;
          if (pointwise) {
            BlockedGemm<T>(false, true, mg, kdim, out_size, T(1), dyg, out_size, xg, in_size, T(1),
                           dwg, kdim);
            BlockedGemm<T>(true, false, cg, in_size, mg, T(1), wg, kdim, dyg, out_size, T(0), dxg,
                           in_size);
            continue;
          }
          std::memset(dxg, 0, cg * in_size * sizeof(T));  // here, on this part's thread
          Im2Col<T>(g, cg, xg, cols, scratch);
          BlockedGemm<T>(false, true, mg, kdim, out_size, T(1), dyg, out_size, cols, out_size, T(1),
                         dwg, kdim);
          // The column buffer is free again: it now receives dcol = W[g]^T * dY[n, g].
          BlockedGemm<T>(true, false, kdim, out_size, mg, T(1), wg, kdim, dyg, out_size, T(0), cols,
                         out_size);
          Col2Im<T>(g, cg, cols, dxg, scratch);
        }
      }
    });
    for (int64_t part = 1; part < parts; ++part) {
      const T* src = partial_dw.data<T>() + (part - 1) * w_size;
      for (int64_t i = 0; i < w_size; ++i) dwp[i] += src[i];
    }
    return absl::OkStatus();
  }
};

using ConvKernel = ConvKernelOf<ConvKind::kConv, BlockedConv>;
using ConvTransposeKernel = ConvKernelOf<ConvKind::kConvTranspose, BlockedConvTranspose>;
using ConvGradKernel = ConvKernelOf<ConvKind::kConvGrad, BlockedConvGrad>;

CORTADO_REGISTER_KERNEL("Conv", kCpuOptBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<ConvKernel>());
CORTADO_REGISTER_KERNEL("ConvTranspose", kCpuOptBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<ConvTransposeKernel>());
CORTADO_REGISTER_DOMAIN_KERNEL("ConvGrad", kTrainingDomain, kCpuOptBackend, 1, kMaxOpset,
                               FloatTypes(), MakeFactory<ConvGradKernel>());

}  // namespace
}  // namespace cortado
