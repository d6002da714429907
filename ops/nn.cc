// The "nn" operator family: MatMul, Gemm, Conv, ConvTranspose, the pools (MaxPool,
// AveragePool, LpPool, GlobalAveragePool, GlobalMaxPool, GlobalLpPool, MaxUnpool) and the
// normalizations (BatchNormalization, LayerNormalization, InstanceNormalization,
// LpNormalization, LRN, MeanVarianceNormalization): schemas with type and shape inference, and
// reference CPU kernels. The matrix products all go through Gemm (ops/gemm.h). Also the gradient
// operators of these families that the eager frontend's backward pass runs (kTrainingDomain):
// ConvGrad, MaxPoolGrad, AveragePoolGrad, BatchNormalizationGrad and LayerNormalizationGrad.

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "absl/strings/str_join.h"
#include "core/thread_pool.h"
#include "ops/broadcast.h"
#include "ops/fused.h"
#include "ops/gemm.h"
#include "ops/registry.h"

// As in math.cc: Bazel builds with -O2, where GCC 12 leaves the elementwise loops scalar. Enable
// the loop vectorizer (it does not reorder floating-point sums, so results are unchanged).
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

typedef double D2 __attribute__((vector_size(16)));

// Two consecutive elements as doubles.
template <typename T>
D2 LoadD2(const T* p) {
  if constexpr (std::is_same_v<T, float>) {
#ifdef __SSE2__
    double bits;  // the two floats, loaded as one 8-byte value for cvtps2pd
    std::memcpy(&bits, p, sizeof(bits));
    return reinterpret_cast<D2>(_mm_cvtps_pd(_mm_castpd_ps(_mm_set_sd(bits))));
#else
    return D2{static_cast<double>(p[0]), static_cast<double>(p[1])};
#endif
  } else {
    D2 d;
    std::memcpy(&d, p, sizeof(D2));
    return d;
  }
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

// Sum of v[0..n) in double, as four interleaved partial sums (a fixed order).
template <typename T>
double SumD(const T* v, int64_t n) {
  D2 a0{}, a1{};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += LoadD2(v + i);
    a1 += LoadD2(v + i + 2);
  }
  a0 += a1;
  double sum = a0[0] + a0[1];
  for (; i < n; ++i) sum += static_cast<double>(v[i]);
  return sum;
}

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

// dtypes of the matrix products (what Gemm in ops/gemm.h implements).
std::vector<DType> GemmTypes() {
  return {DType::kFloat32, DType::kFloat64, DType::kInt32,
          DType::kInt64,   DType::kUInt32,  DType::kUInt64};
}

// Calls f(TypeTag<T>{}) for the T among Ts whose DType is `dtype`, else returns
// InvalidArgument naming `op`. Unlike VisitDType, f is only instantiated for Ts.
template <typename... Ts, typename F>
absl::Status VisitTypes(DType dtype, absl::string_view op, F&& f) {
  absl::Status result;
  const bool found =
      ((DTypeOf<Ts>::value == dtype ? (result = f(TypeTag<Ts>{}), true) : false) || ...);
  if (!found) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": unsupported dtype ", DTypeName(dtype)));
  }
  return result;
}

template <typename F>
absl::Status VisitFloatType(DType dtype, absl::string_view op, F&& f) {
  return VisitTypes<float, double>(dtype, op, std::forward<F>(f));
}

template <typename F>
absl::Status VisitGemmType(DType dtype, absl::string_view op, F&& f) {
  return VisitTypes<float, double, int32_t, int64_t, uint32_t, uint64_t>(dtype, op,
                                                                         std::forward<F>(f));
}

// An uninitialized scratch buffer of n elements of T (a Tensor, so that a huge request is an
// error, not a crash).
template <typename T>
absl::StatusOr<Tensor> Scratch(int64_t n) {
  return Tensor::Create(DTypeOf<T>::value, Shape{n});
}

absl::Status CheckSameDType(absl::string_view op, const Tensor& a, const Tensor& b,
                            absl::string_view what) {
  if (a.dtype() != b.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ", what, " has dtype ", DTypeName(b.dtype()), " but X has ", DTypeName(a.dtype())));
  }
  return absl::OkStatus();
}

int64_t Product(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < s.size(); ++i) p *= s[i];
  return p;
}

// ---------------------------------------------------------------------------------------------
// MatMul
// ---------------------------------------------------------------------------------------------

// numpy matmul shapes: 1-D operands are promoted ([K] -> [1,K] for A, [K,1] for B) and the
// promoted dimension is dropped from the result. Works on partly unknown (-1) shapes.
struct MatMulShapes {
  Shape a_batch, b_batch, out_batch;
  int64_t m = 0, n = 0, k = 0;
  Shape out;
};

absl::StatusOr<MatMulShapes> MatMulShape(const Shape& a, const Shape& b) {
  if (a.empty() || b.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("MatMul: operands must have rank >= 1, got ",
                                                   ShapeToString(a), " and ", ShapeToString(b)));
  }
  MatMulShapes s;
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  s.m = a_vec ? 1 : a[a.size() - 2];
  const int64_t ka = a.back();
  const int64_t kb = b_vec ? b[0] : b[b.size() - 2];
  s.n = b_vec ? 1 : b.back();
  if (ka >= 0 && kb >= 0 && ka != kb) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MatMul: inner dimensions differ: ", ShapeToString(a), " x ", ShapeToString(b)));
  }
  s.k = ka >= 0 ? ka : kb;
  s.a_batch.assign(a.begin(), a.end() - (a_vec ? 1 : 2));
  s.b_batch.assign(b.begin(), b.end() - (b_vec ? 1 : 2));
  absl::StatusOr<Shape> batch = BroadcastPartial(s.a_batch, s.b_batch);
  if (!batch.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("MatMul: batch dimensions of ", ShapeToString(a),
                                                   " and ", ShapeToString(b), " do not broadcast"));
  }
  s.out_batch = *batch;
  s.out = s.out_batch;
  if (!a_vec) s.out.push_back(s.m);
  if (!b_vec) s.out.push_back(s.n);
  return s;
}

absl::Status InferMatMul(InferenceContext& ctx) {
  const TensorType& a = ctx.input(0);
  const TensorType& b = ctx.input(1);
  TensorType out{a.dtype, std::nullopt};
  if (a.shape && b.shape) {
    ASSIGN_OR_RETURN(MatMulShapes s, MatMulShape(*a.shape, *b.shape));
    out.shape = s.out;
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

class MatMulKernel : public Kernel {
 public:
  explicit MatMulKernel(const KernelInfo&) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    RETURN_IF_ERROR(CheckSameDType("MatMul", *a, *b, "B"));
    ASSIGN_OR_RETURN(MatMulShapes s, MatMulShape(a->shape(), b->shape()));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, a->dtype(), s.out));
    return VisitGemmType(a->dtype(), "MatMul", [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* ap = a->data<T>();
      const T* bp = b->data<T>();
      T* yp = y->data<T>();
      const int64_t a_mat = s.m * s.k, b_mat = s.k * s.n, y_mat = s.m * s.n;
      if (y->num_elements() == 0) return absl::OkStatus();
      if (s.b_batch.empty() || NumElements(s.b_batch) == 1) {
        // One B for every batch: the batches of A stack into one tall matrix.
        const int64_t rows = NumElements(s.out_batch) * s.m;
        Gemm<T>(false, false, rows, s.n, s.k, T(1), ap, s.k, bp, s.n, T(0), yp, s.n);
        return absl::OkStatus();
      }
      ForEachBroadcast<2>(s.out_batch, {&s.a_batch, &s.b_batch},
                          [&](int64_t o, const std::array<int64_t, 2>& in) {
                            Gemm<T>(false, false, s.m, s.n, s.k, T(1), ap + in[0] * a_mat, s.k,
                                    bp + in[1] * b_mat, s.n, T(0), yp + o * y_mat, s.n);
                          });
      return absl::OkStatus();
    });
  }
};

// ---------------------------------------------------------------------------------------------
// Gemm
// ---------------------------------------------------------------------------------------------

// Checks that C (of `c_shape`) broadcasts unidirectionally to [m, n]; -1 dims are unknown.
absl::Status CheckGemmBias(const Shape& c_shape, int64_t m, int64_t n) {
  const Shape target{m, n};
  bool ok = c_shape.size() <= 2;
  for (size_t i = 0; ok && i < c_shape.size(); ++i) {
    const int64_t want = target[2 - c_shape.size() + i];
    ok = c_shape[i] == 1 || c_shape[i] == want || c_shape[i] < 0 || want < 0;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("Gemm: C of shape ", ShapeToString(c_shape),
                                                   " does not broadcast to [", m, ",", n, "]"));
  }
  return absl::OkStatus();
}

struct GemmDims {
  int64_t m, n, k;
};

absl::StatusOr<GemmDims> GemmShape(const Shape& a, const Shape& b, bool trans_a, bool trans_b) {
  if (a.size() != 2 || b.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat("Gemm: A and B must be 2-D, got ",
                                                   ShapeToString(a), " and ", ShapeToString(b)));
  }
  GemmDims d;
  d.m = trans_a ? a[1] : a[0];
  const int64_t ka = trans_a ? a[0] : a[1];
  const int64_t kb = trans_b ? b[1] : b[0];
  d.n = trans_b ? b[0] : b[1];
  if (ka >= 0 && kb >= 0 && ka != kb) {
    return absl::InvalidArgumentError(
        absl::StrCat("Gemm: inner dimensions differ: A ", ShapeToString(a), " (transA ", trans_a,
                     ") and B ", ShapeToString(b), " (transB ", trans_b, ")"));
  }
  d.k = ka >= 0 ? ka : kb;
  return d;
}

absl::Status InferGemm(InferenceContext& ctx) {
  const TensorType& a = ctx.input(0);
  const TensorType& b = ctx.input(1);
  TensorType out{a.dtype, std::nullopt};
  if (a.shape && b.shape) {
    ASSIGN_OR_RETURN(GemmDims d, GemmShape(*a.shape, *b.shape, ctx.attrs().GetInt("transA") != 0,
                                           ctx.attrs().GetInt("transB") != 0));
    if (ctx.has_input(2) && ctx.input(2).shape) {
      RETURN_IF_ERROR(CheckGemmBias(*ctx.input(2).shape, d.m, d.n));
    }
    out.shape = Shape{d.m, d.n};
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

class GemmKernel : public Kernel {
 public:
  explicit GemmKernel(const KernelInfo& info)
      : alpha_(info.attrs->GetFloat("alpha", 1.0f)),
        beta_(info.attrs->GetFloat("beta", 1.0f)),
        trans_a_(info.attrs->GetInt("transA") != 0),
        trans_b_(info.attrs->GetInt("transB") != 0) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    RETURN_IF_ERROR(CheckSameDType("Gemm", *a, *b, "B"));
    const Tensor* c = ctx.input(2);
    if (c != nullptr && !c->defined()) c = nullptr;
    if (c != nullptr) RETURN_IF_ERROR(CheckSameDType("Gemm", *a, *c, "C"));
    ASSIGN_OR_RETURN(GemmDims d, GemmShape(a->shape(), b->shape(), trans_a_, trans_b_));
    if (c != nullptr) RETURN_IF_ERROR(CheckGemmBias(c->shape(), d.m, d.n));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, a->dtype(), {d.m, d.n}));
    return VisitGemmType(a->dtype(), "Gemm", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_integral_v<T>) {
        auto whole = [](float v) { return v == std::floor(v) && std::fabs(v) < 1e9f; };
        if (!whole(alpha_) || !whole(beta_)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "Gemm: alpha (", alpha_, ") and beta (", beta_,
              ") must be whole numbers below 1e9 for integer dtype ", DTypeName(a->dtype())));
        }
      }
      // Through int64 for integer T, so that a negative factor wraps for unsigned types.
      auto cast = [](float v) {
        if constexpr (std::is_integral_v<T>) return static_cast<T>(static_cast<int64_t>(v));
        return static_cast<T>(v);
      };
      T* yp = y->data<T>();
      T beta = T(0);
      if (c != nullptr && beta_ != 0.0f) {
        // Y starts as C broadcast to [m, n]; Gemm then scales it by beta.
        const Shape& cs = c->shape();
        const int64_t c_rows = cs.size() == 2 ? cs[0] : 1;
        const int64_t c_cols = cs.empty() ? 1 : cs.back();
        const T* cp = c->data<T>();
        for (int64_t i = 0; i < d.m; ++i) {
          const T* crow = cp + (c_rows == 1 ? 0 : i) * c_cols;
          for (int64_t j = 0; j < d.n; ++j) yp[i * d.n + j] = crow[c_cols == 1 ? 0 : j];
        }
        beta = cast(beta_);
      }
      Gemm<T>(trans_a_, trans_b_, d.m, d.n, d.k, cast(alpha_), a->data<T>(), a->dim(1),
              b->data<T>(), b->dim(1), beta, yp, d.n);
      return absl::OkStatus();
    });
  }

 private:
  const float alpha_, beta_;
  const bool trans_a_, trans_b_;
};

// ---------------------------------------------------------------------------------------------
// Sliding windows: the attributes shared by Conv, ConvTranspose and the pools, and the geometry
// they resolve to for one input.
// ---------------------------------------------------------------------------------------------

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// Spatial ranks the window kernels handle (1-D, 2-D and 3-D).
constexpr int kMaxSpatial = 3;

// Window attributes as written on the node; empty vectors mean "not given".
struct WindowAttrs {
  AutoPad auto_pad = AutoPad::kNotSet;
  std::vector<int64_t> kernel_shape, strides, dilations, pads;
  bool ceil_mode = false;
  // ConvTranspose only.
  std::vector<int64_t> output_padding, output_shape;
};

absl::StatusOr<WindowAttrs> ReadWindowAttrs(absl::string_view op, const AttributeMap& attrs) {
  WindowAttrs w;
  const std::string auto_pad = attrs.GetString("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    w.auto_pad = AutoPad::kNotSet;
  } else if (auto_pad == "SAME_UPPER") {
    w.auto_pad = AutoPad::kSameUpper;
  } else if (auto_pad == "SAME_LOWER") {
    w.auto_pad = AutoPad::kSameLower;
  } else if (auto_pad == "VALID") {
    w.auto_pad = AutoPad::kValid;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(op, ": unknown auto_pad '", auto_pad, "'"));
  }
  w.kernel_shape = attrs.GetInts("kernel_shape");
  w.strides = attrs.GetInts("strides");
  w.dilations = attrs.GetInts("dilations");
  w.pads = attrs.GetInts("pads");
  w.ceil_mode = attrs.GetInt("ceil_mode") != 0;
  w.output_padding = attrs.GetInts("output_padding");
  w.output_shape = attrs.GetInts("output_shape");
  return w;
}

// Bound on kernel sizes, strides, dilations and pads, far above any real model, so that the
// window arithmetic on int64 cannot overflow.
constexpr int64_t kMaxWindowAttr = int64_t{1} << 20;

// Checks that an attribute list has `want` entries (or is absent), all in [min, kMaxWindowAttr].
absl::Status CheckAttrList(absl::string_view op, absl::string_view name,
                           const std::vector<int64_t>& v, size_t want, int64_t min) {
  if (v.empty()) return absl::OkStatus();
  if (v.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ", name, " has ", v.size(), " values, expected ", want));
  }
  for (int64_t x : v) {
    if (x < min || x > kMaxWindowAttr) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " [", absl::StrJoin(v, ","),
                                                     "] has a value outside [", min, ", ",
                                                     kMaxWindowAttr, "]"));
    }
  }
  return absl::OkStatus();
}

// One spatial problem, normalized to 3 dimensions: a 1-D or 2-D problem gets leading dimensions
// of size 1 (kernel 1, stride 1, no padding). For a forward window (Conv, pools) `in` is the
// input and `out` the output; ConvTranspose uses the geometry of the forward convolution that it
// is the adjoint of (its output is `in`, its input `out`).
struct Geometry {
  int nd = 0;  // the real spatial rank
  std::array<int64_t, kMaxSpatial> in{}, out{}, kernel{}, stride{}, dilation{}, pad_begin{},
      pad_end{};
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t kernel_size() const { return kernel[0] * kernel[1] * kernel[2]; }
  Shape OutSpatial() const { return Shape(out.end() - nd, out.end()); }
  Shape InSpatial() const { return Shape(in.end() - nd, in.end()); }
};

// Splits a total padding between the two ends as the auto_pad mode says (SAME_UPPER puts the
// extra one at the end).
void SplitPadding(int64_t total, AutoPad mode, int64_t* begin, int64_t* end) {
  *begin = mode == AutoPad::kSameUpper ? total / 2 : total - total / 2;
  *end = total - *begin;
}

// Validates the window attributes for `nd` spatial dims and fills kernel, stride, dilation
// and (for auto_pad NOTSET) the explicit pads; in and out are left at 1.
absl::StatusOr<Geometry> InitGeometry(absl::string_view op, size_t nd,
                                      const std::vector<int64_t>& kernel, const WindowAttrs& w) {
  if (nd < 1 || nd > kMaxSpatial) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": supports 1 to ", kMaxSpatial,
                                                   " spatial dimensions, got ", nd, " (input rank ",
                                                   nd + 2, ")"));
  }
  if (kernel.size() != nd) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": kernel_shape [", absl::StrJoin(kernel, ","), "] has ", kernel.size(),
                     " values for ", nd, " spatial dimensions"));
  }
  RETURN_IF_ERROR(CheckAttrList(op, "kernel_shape", kernel, nd, 1));
  RETURN_IF_ERROR(CheckAttrList(op, "strides", w.strides, nd, 1));
  RETURN_IF_ERROR(CheckAttrList(op, "dilations", w.dilations, nd, 1));
  RETURN_IF_ERROR(CheckAttrList(op, "pads", w.pads, 2 * nd, 0));
  Geometry g;
  g.nd = static_cast<int>(nd);
  g.in.fill(1);
  g.out.fill(1);
  g.kernel.fill(1);
  g.stride.fill(1);
  g.dilation.fill(1);
  const size_t lead = kMaxSpatial - nd;
  for (size_t i = 0; i < nd; ++i) {
    const size_t j = lead + i;
    g.kernel[j] = kernel[i];
    if (!w.strides.empty()) g.stride[j] = w.strides[i];
    if (!w.dilations.empty()) g.dilation[j] = w.dilations[i];
    if (w.auto_pad == AutoPad::kNotSet && !w.pads.empty()) {
      g.pad_begin[j] = w.pads[i];
      g.pad_end[j] = w.pads[i + nd];
    }
  }
  return g;
}

// Resolves attributes against the spatial input dims of a forward window op (Conv, pools).
// `kernel` is the resolved kernel shape. Input dims of -1 (unknown, for inference) give output
// dims of -1.
absl::StatusOr<Geometry> ForwardGeometry(absl::string_view op, const Shape& in,
                                         const std::vector<int64_t>& kernel, const WindowAttrs& w) {
  ASSIGN_OR_RETURN(Geometry g, InitGeometry(op, in.size(), kernel, w));
  const size_t lead = kMaxSpatial - in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    const size_t j = lead + i;
    g.in[j] = in[i];
    const int64_t span = (g.kernel[j] - 1) * g.dilation[j] + 1;
    const int64_t s = g.stride[j];
    if (in[i] < 0) {
      g.out[j] = -1;
    } else if (w.auto_pad == AutoPad::kSameUpper || w.auto_pad == AutoPad::kSameLower) {
      g.out[j] = (in[i] + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (g.out[j] - 1) * s + span - in[i]);
      SplitPadding(total, w.auto_pad, &g.pad_begin[j], &g.pad_end[j]);
    } else {
      const int64_t room = in[i] + g.pad_begin[j] + g.pad_end[j] - span;
      if (room < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(op, ": window of extent ", span, " (kernel ", g.kernel[j], ", dilation ",
                         g.dilation[j], ") is larger than the padded input (", in[i], " + pads ",
                         g.pad_begin[j], ",", g.pad_end[j], ") in spatial dimension ", i));
      }
      g.out[j] = (w.ceil_mode ? (room + s - 1) / s : room / s) + 1;
      // As in PyTorch and ONNX Runtime: the last window must start inside the input or its
      // leading padding.
      if (w.ceil_mode && (g.out[j] - 1) * s >= in[i] + g.pad_begin[j]) --g.out[j];
    }
  }
  return g;
}

// Resolves ConvTranspose attributes against its spatial input dims (-1 = unknown) into the
// geometry of the adjoint forward convolution.
absl::StatusOr<Geometry> TransposedGeometry(const Shape& in, const std::vector<int64_t>& kernel,
                                            const WindowAttrs& w) {
  constexpr absl::string_view op = "ConvTranspose";
  const size_t nd = in.size();
  ASSIGN_OR_RETURN(Geometry g, InitGeometry(op, nd, kernel, w));
  RETURN_IF_ERROR(CheckAttrList(op, "output_padding", w.output_padding, nd, 0));
  if (!w.output_shape.empty() && w.output_shape.size() < nd) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": output_shape [",
                                                   absl::StrJoin(w.output_shape, ","),
                                                   "] has fewer than ", nd, " values"));
  }
  for (int64_t v : w.output_shape) {
    if (v < 0 || v > (int64_t{1} << 40)) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": output_shape [",
                                                     absl::StrJoin(w.output_shape, ","),
                                                     "] is negative or too large"));
    }
  }
  const size_t lead = kMaxSpatial - nd;
  for (size_t i = 0; i < nd; ++i) {
    const size_t j = lead + i;
    g.out[j] = in[i];  // the adjoint convolution's output is this op's input
    if (in[i] < 0) {
      g.in[j] = -1;
      continue;
    }
    const int64_t span = (g.kernel[j] - 1) * g.dilation[j] + 1;
    const int64_t s = g.stride[j];
    const int64_t adj = w.output_padding.empty() ? 0 : w.output_padding[i];
    const int64_t full = s * (in[i] - 1) + adj + span;
    int64_t size = -1;
    if (!w.output_shape.empty()) {
      size = w.output_shape[w.output_shape.size() - nd + i];
    } else if (w.auto_pad == AutoPad::kSameUpper || w.auto_pad == AutoPad::kSameLower) {
      size = in[i] * s;
    }
    if (size >= 0) {
      // Pads follow from the requested size; a negative total leaves the extra outputs at the
      // end (they only get the bias).
      const int64_t total = full - size;
      if (total >= 0) {
        SplitPadding(total,
                     w.auto_pad == AutoPad::kSameUpper ? AutoPad::kSameUpper : AutoPad::kSameLower,
                     &g.pad_begin[j], &g.pad_end[j]);
      } else {
        g.pad_begin[j] = 0;
        g.pad_end[j] = total;
      }
    } else {
      size = full - g.pad_begin[j] - g.pad_end[j];  // explicit pads, or none for VALID
    }
    if (size < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": pads ", g.pad_begin[j], ",", g.pad_end[j],
          " are larger than the full output size ", full, " in spatial dimension ", i));
    }
    g.in[j] = size;
  }
  return g;
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

// ---------------------------------------------------------------------------------------------
// Conv and ConvTranspose
// ---------------------------------------------------------------------------------------------

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

class ConvKernel : public Kernel {
 public:
  explicit ConvKernel(const KernelInfo& info) : group_(info.attrs->GetInt("group", 1)) {
    absl::StatusOr<WindowAttrs> w = ReadWindowAttrs("Conv", *info.attrs);
    if (w.ok()) {
      attrs_ = *std::move(w);
    } else {
      status_ = w.status();
    }
  }

  absl::Status Compute(KernelContext& ctx) const override {
    RETURN_IF_ERROR(status_);
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* w, ctx.RequiredInput(1));
    const Tensor* b = ctx.input(2);
    if (b != nullptr && !b->defined()) b = nullptr;
    RETURN_IF_ERROR(CheckSameDType("Conv", *x, *w, "W"));
    if (b != nullptr) RETURN_IF_ERROR(CheckSameDType("Conv", *x, *b, "B"));
    Geometry g;
    ASSIGN_OR_RETURN(Shape out_shape,
                     ConvOutputShape("Conv", attrs_, group_, x->shape(), w->shape(),
                                     b != nullptr ? &b->shape() : nullptr, false, &g));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out_shape));
    return VisitFloatType(x->dtype(), "Conv", [&](auto tag) {
      using T = typename decltype(tag)::type;
      return Run<T>(g, *x, *w, b, y);
    });
  }

 private:
  template <typename T>
  absl::Status Run(const Geometry& g, const Tensor& x, const Tensor& w, const Tensor* b,
                   Tensor* y) const {
    const int64_t batch = x.dim(0), c = x.dim(1), m = y->dim(1);
    const int64_t cg = c / group_, mg = m / group_;
    const int64_t in_size = g.in_size(), out_size = g.out_size();
    const int64_t kdim = cg * g.kernel_size();  // GEMM inner dimension
    const T* xp = x.data<T>();
    const T* wp = w.data<T>();
    const T* bp = b != nullptr ? b->data<T>() : nullptr;
    T* yp = y->data<T>();
    if (y->num_elements() == 0) return absl::OkStatus();
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
    bool pointwise = g.kernel_size() == 1;  // 1x1, stride 1, no padding: X is its own im2col
    for (int i = 0; i < kMaxSpatial; ++i) {
      pointwise = pointwise && g.stride[i] == 1 && g.pad_begin[i] == 0 && g.pad_end[i] == 0;
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
        for (int64_t grp = 0; grp < group_; ++grp) {
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
          Gemm<T>(false, false, mg, out_size, kdim, T(1), wp + grp * mg * kdim, kdim, cols,
                  out_size, bp != nullptr ? T(1) : T(0), yg, out_size);
        }
      }
    });
    return absl::OkStatus();
  }

  const int64_t group_;
  WindowAttrs attrs_;
  absl::Status status_;
};

class ConvTransposeKernel : public Kernel {
 public:
  explicit ConvTransposeKernel(const KernelInfo& info) : group_(info.attrs->GetInt("group", 1)) {
    absl::StatusOr<WindowAttrs> w = ReadWindowAttrs("ConvTranspose", *info.attrs);
    if (w.ok()) {
      attrs_ = *std::move(w);
    } else {
      status_ = w.status();
    }
  }

  absl::Status Compute(KernelContext& ctx) const override {
    RETURN_IF_ERROR(status_);
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* w, ctx.RequiredInput(1));
    const Tensor* b = ctx.input(2);
    if (b != nullptr && !b->defined()) b = nullptr;
    RETURN_IF_ERROR(CheckSameDType("ConvTranspose", *x, *w, "W"));
    if (b != nullptr) RETURN_IF_ERROR(CheckSameDType("ConvTranspose", *x, *b, "B"));
    Geometry g;
    ASSIGN_OR_RETURN(Shape out_shape,
                     ConvOutputShape("ConvTranspose", attrs_, group_, x->shape(), w->shape(),
                                     b != nullptr ? &b->shape() : nullptr, true, &g));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out_shape));
    return VisitFloatType(x->dtype(), "ConvTranspose", [&](auto tag) {
      using T = typename decltype(tag)::type;
      return Run<T>(g, *x, *w, b, y);
    });
  }

 private:
  template <typename T>
  absl::Status Run(const Geometry& g, const Tensor& x, const Tensor& w, const Tensor* b,
                   Tensor* y) const {
    const int64_t batch = x.dim(0), c = x.dim(1), m = y->dim(1);
    const int64_t cg = c / group_, mg = m / group_;
    // In the adjoint geometry, `out` is this op's input and `in` its output.
    const int64_t x_size = g.out_size(), y_size = g.in_size();
    const int64_t rows = mg * g.kernel_size();
    const T* xp = x.data<T>();
    const T* wp = w.data<T>();
    T* yp = y->data<T>();
    if (y->num_elements() == 0) return absl::OkStatus();
    ASSIGN_OR_RETURN(Tensor col, Scratch<T>(rows * x_size + ColumnScratchSize<T>(g, mg)));
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t grp = 0; grp < group_; ++grp) {
        T* yg = yp + (n * m + grp * mg) * y_size;
        for (int64_t j = 0; j < mg; ++j) {
          const T bias = b != nullptr ? b->data<T>()[grp * mg + j] : T(0);
          std::fill(yg + j * y_size, yg + (j + 1) * y_size, bias);
        }
        // col[mg * taps, x_size] = W_g^T [mg * taps, cg] * X_g [cg, x_size].
        Gemm<T>(true, false, rows, x_size, cg, T(1), wp + grp * cg * rows, rows,
                xp + (n * c + grp * cg) * x_size, x_size, T(0), col.data<T>(), x_size);
        Col2Im<T>(g, mg, col.data<T>(), yg, col.data<T>() + rows * x_size);
      }
    }
    return absl::OkStatus();
  }

  const int64_t group_;
  WindowAttrs attrs_;
  absl::Status status_;
};

// ---------------------------------------------------------------------------------------------
// ConvGrad (training domain): the gradients of Conv with respect to X, W and the bias.
// ---------------------------------------------------------------------------------------------

// True when two shapes, either possibly holding unknown (-1) dims, can be the same.
bool ShapesMayMatch(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) return false;
  }
  return true;
}

// The first known dtype among `types`, or InvalidArgument when two known ones differ (for
// inference, which prefixes the op's name).
absl::StatusOr<DType> CommonDType(std::initializer_list<std::pair<const char*, DType>> types) {
  DType first = DType::kUndefined;
  const char* first_name = "";
  for (const auto& [name, d] : types) {
    if (d == DType::kUndefined) continue;
    if (first == DType::kUndefined) {
      first = d;
      first_name = name;
    } else if (d != first) {
      return absl::InvalidArgumentError(absl::StrCat(name, " has dtype ", DTypeName(d), " but ",
                                                     first_name, " has ", DTypeName(first)));
    }
  }
  return first;
}

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

// Per image and group, with col = Im2Col(X[n, g]) ([C/group * taps, out_size]):
//   dW[g] += dY[n, g] * col^T,   dcol = W[g]^T * dY[n, g],   dX[n, g] = Col2Im(dcol);
// dB[m] is the sum of dY[:, m]. A pointwise convolution (1x1, stride 1, no padding) skips the
// im2col: X and dX are their own column matrices.
class ConvGradKernel : public Kernel {
 public:
  explicit ConvGradKernel(const KernelInfo& info) : group_(info.attrs->GetInt("group", 1)) {
    absl::StatusOr<WindowAttrs> w = ReadWindowAttrs(kOp, *info.attrs);
    if (w.ok()) {
      attrs_ = *std::move(w);
    } else {
      status_ = w.status();
    }
  }

  absl::Status Compute(KernelContext& ctx) const override {
    RETURN_IF_ERROR(status_);
    ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* w, ctx.RequiredInput(2));
    RETURN_IF_ERROR(CheckSameDType(kOp, *x, *dy, "dY"));
    RETURN_IF_ERROR(CheckSameDType(kOp, *x, *w, "W"));
    Geometry g;
    ASSIGN_OR_RETURN(Shape y_shape, ConvOutputShape(kOp, attrs_, group_, x->shape(), w->shape(),
                                                    nullptr, false, &g));
    if (dy->shape() != y_shape) {
      return absl::InvalidArgumentError(
          absl::StrCat(kOp, ": dY has shape ", ShapeToString(dy->shape()), " but Conv of X ",
                       ShapeToString(x->shape()), " and W ", ShapeToString(w->shape()), " gives ",
                       ShapeToString(y_shape)));
    }
    ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    ASSIGN_OR_RETURN(Tensor * dw, ctx.AllocateOutput(1, w->dtype(), w->shape()));
    Tensor* db = nullptr;
    if (ctx.num_outputs() > 2) {
      ASSIGN_OR_RETURN(db, ctx.AllocateOutput(2, w->dtype(), {w->dim(0)}));
    }
    return VisitFloatType(x->dtype(), kOp, [&](auto tag) {
      using T = typename decltype(tag)::type;
      return Run<T>(g, *dy, *x, *w, dx, dw, db);
    });
  }

 private:
  static constexpr absl::string_view kOp = "ConvGrad";

  template <typename T>
  absl::Status Run(const Geometry& g, const Tensor& dy, const Tensor& x, const Tensor& w,
                   Tensor* dx, Tensor* dw, Tensor* db) const {
    const int64_t batch = x.dim(0), c = x.dim(1), m = w.dim(0);
    const int64_t cg = c / group_, mg = m / group_;
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
    bool pointwise = g.kernel_size() == 1;
    for (int i = 0; i < kMaxSpatial; ++i) {
      pointwise = pointwise && g.stride[i] == 1 && g.pad_begin[i] == 0 && g.pad_end[i] == 0;
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
        for (int64_t grp = 0; grp < group_; ++grp) {
          const T* xg = xp + (n * c + grp * cg) * in_size;
          T* dxg = dxp + (n * c + grp * cg) * in_size;
          const T* dyg = dyp + (n * m + grp * mg) * out_size;
          const T* wg = wp + grp * mg * kdim;
          T* dwg = dw_part + grp * mg * kdim;
          if (pointwise) {
            Gemm<T>(false, true, mg, kdim, out_size, T(1), dyg, out_size, xg, in_size, T(1), dwg,
                    kdim);
            Gemm<T>(true, false, cg, in_size, mg, T(1), wg, kdim, dyg, out_size, T(0), dxg,
                    in_size);
            continue;
          }
          std::memset(dxg, 0, cg * in_size * sizeof(T));  // here, on this part's thread
          Im2Col<T>(g, cg, xg, cols, scratch);
          Gemm<T>(false, true, mg, kdim, out_size, T(1), dyg, out_size, cols, out_size, T(1), dwg,
                  kdim);
          // The column buffer is free again: it now receives dcol = W[g]^T * dY[n, g].
          Gemm<T>(true, false, kdim, out_size, mg, T(1), wg, kdim, dyg, out_size, T(0), cols,
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

  const int64_t group_;
  WindowAttrs attrs_;
  absl::Status status_;
};

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
    // Dilations arrived in MaxPool-10 only; AveragePool and LpPool have none before opset 18.
    if (kKind != PoolKind::kMax) attrs_.dilations.clear();
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
// Normalizations
// ---------------------------------------------------------------------------------------------

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

// Inference of a kNhwcDomain operator: `infer` on the channels-first view of its activations
// (input 0, and Z of FusedConv), output 0 turned back to channels-last.
InferFn ChannelsLast(InferFn infer) {
  return [infer](InferenceContext& ctx) -> absl::Status {
    std::vector<TensorType> inputs;
    std::vector<const Tensor*> constants;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      TensorType t = ctx.input(i);
      const bool activation = i == 0 || i == 3;
      if (activation && t.shape) {
        if (t.shape->size() < 3) {
          return absl::InvalidArgumentError(absl::StrCat(
              "channels-last input ", i, " must have rank >= 3, got ", ShapeToString(*t.shape)));
        }
        t.shape = ToChannelsFirst(*t.shape);
      }
      inputs.push_back(t);
      constants.push_back(activation ? nullptr : ctx.constant(i));
    }
    InferenceContext inner(inputs, constants, &ctx.attrs(), kMaxOpset, ctx.num_outputs());
    RETURN_IF_ERROR(infer(inner));
    TensorType y = inner.outputs()[0];
    if (y.shape) y.shape = ToChannelsLast(*y.shape);
    ctx.set_output(0, y);
    return absl::OkStatus();
  };
}

CORTADO_REGISTER_OP(FusedConvSchema(kFusedDomain).Infer(InferFusedConv));
CORTADO_REGISTER_OP(FusedConvSchema(kNhwcDomain).Infer(ChannelsLast(InferFusedConv)));
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

CORTADO_REGISTER_OP(OpSchema("MatMul").Versions(1).Inputs(2, 2).Infer(InferMatMul));
CORTADO_REGISTER_KERNEL("MatMul", kCpuBackend, 1, kMaxOpset, GemmTypes(),
                        MakeFactory<MatMulKernel>());

CORTADO_REGISTER_OP(OpSchema("Gemm")
                        .Versions(7)
                        .Inputs(2, 3)
                        .Attr("alpha", 1.0f)
                        .Attr("beta", 1.0f)
                        .Attr("transA", int64_t{0})
                        .Attr("transB", int64_t{0})
                        .Infer(InferGemm));
CORTADO_REGISTER_KERNEL("Gemm", kCpuBackend, 7, kMaxOpset, GemmTypes(), MakeFactory<GemmKernel>());

CORTADO_REGISTER_OP(ConvSchema("Conv").Infer(InferConv<false>));
CORTADO_REGISTER_KERNEL("Conv", kCpuBackend, 1, kMaxOpset, FloatTypes(), MakeFactory<ConvKernel>());

CORTADO_REGISTER_OP(ConvSchema("ConvTranspose")
                        .OptionalAttr("output_padding", AttrType::kInts)
                        .OptionalAttr("output_shape", AttrType::kInts)
                        .Infer(InferConv<true>));
CORTADO_REGISTER_KERNEL("ConvTranspose", kCpuBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<ConvTransposeKernel>());

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
                        .Infer([](InferenceContext& ctx) {
                          return InferPool<1>(ctx, "AveragePool");
                        }));
CORTADO_REGISTER_KERNEL("AveragePool", kCpuBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<PoolKernel<PoolKind::kAverage>>());

CORTADO_REGISTER_OP(
    PoolSchema("LpPool", 1, 1).Attr("p", int64_t{2}).Infer([](InferenceContext& ctx) {
      return InferPool<1>(ctx, "LpPool");
    }));
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

CORTADO_REGISTER_OP(OpSchema("BatchNormalization")
                        .Versions(7)
                        .Inputs(5, 5)
                        .Outputs(1, 5)
                        .Attr("epsilon", 1e-5f)
                        .Attr("momentum", 0.9f)
                        .Attr("spatial", int64_t{1})
                        .Attr("training_mode", int64_t{0})
                        .Infer(InferBatchNorm));
CORTADO_REGISTER_KERNEL("BatchNormalization", kCpuBackend, 7, kMaxOpset, FloatTypes(),
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
                        .Versions(6)
                        .Inputs(3, 3)
                        .Attr("epsilon", 1e-5f)
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("InstanceNormalization", kCpuBackend, 6, kMaxOpset, FloatTypes(),
                        MakeFactory<InstanceNormKernel>());

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

// Gradient operators of the eager frontend's backward pass (kTrainingDomain, opsets 1..17).
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
