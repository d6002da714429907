// The matrix products MatMul (numpy matmul, batched) and Gemm: schemas with type and shape
// inference, and reference CPU kernels. Both go through Gemm (ops/gemm.h).

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/broadcast.h"
#include "ops/gemm.h"
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

// dtypes of the matrix products (what Gemm in ops/gemm.h implements).
std::vector<DType> GemmTypes() {
  return {DType::kFloat32, DType::kFloat64, DType::kInt32,
          DType::kInt64,   DType::kUInt32,  DType::kUInt64};
}

// MatMul's: Gemm's, and float16 and bfloat16 (multiplied in float32).
std::vector<DType> MatMulTypes() {
  std::vector<DType> types = GemmTypes();
  types.push_back(DType::kFloat16);
  types.push_back(DType::kBFloat16);
  return types;
}

template <typename F>
absl::Status VisitGemmType(DType dtype, absl::string_view op, F&& f) {
  return VisitTypes<float, double, int32_t, int64_t, uint32_t, uint64_t>(dtype, op,
                                                                         std::forward<F>(f));
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

// Y = A x B for one of Gemm's types, batched as `s` says.
template <typename T>
void MatMulBatches(const MatMulShapes& s, const T* ap, const T* bp, T* yp) {
  const int64_t a_mat = s.m * s.k, b_mat = s.k * s.n, y_mat = s.m * s.n;
  if (s.b_batch.empty() || NumElements(s.b_batch) == 1) {
    // One B for every batch: the batches of A stack into one tall matrix.
    const int64_t rows = NumElements(s.out_batch) * s.m;
    Gemm<T>(false, false, rows, s.n, s.k, T(1), ap, s.k, bp, s.n, T(0), yp, s.n);
    return;
  }
  ForEachBroadcast<2>(s.out_batch, {&s.a_batch, &s.b_batch},
                      [&](int64_t o, const std::array<int64_t, 2>& in) {
                        Gemm<T>(false, false, s.m, s.n, s.k, T(1), ap + in[0] * a_mat, s.k,
                                bp + in[1] * b_mat, s.n, T(0), yp + o * y_mat, s.n);
                      });
}

// The 16-bit floats' values as float32, and back (rounding to nearest even).
template <typename H>
std::vector<float> Widen(const Tensor& t) {
  std::vector<float> v(t.num_elements());
  for (int64_t i = 0; i < t.num_elements(); ++i) v[i] = static_cast<float>(t.data<H>()[i]);
  return v;
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
    if (y->num_elements() == 0) return absl::OkStatus();
    if (a->dtype() == DType::kFloat16 || a->dtype() == DType::kBFloat16) {
      // float16 and bfloat16 multiply in float32.
      auto run = [&](auto tag) {
        using H = typename decltype(tag)::type;
        const std::vector<float> af = Widen<H>(*a), bf = Widen<H>(*b);
        std::vector<float> yf(y->num_elements());
        MatMulBatches<float>(s, af.data(), bf.data(), yf.data());
        for (size_t i = 0; i < yf.size(); ++i) y->data<H>()[i] = H(yf[i]);
      };
      if (a->dtype() == DType::kFloat16) {
        run(TypeTag<Half>{});
      } else {
        run(TypeTag<BFloat16>{});
      }
      return absl::OkStatus();
    }
    return VisitGemmType(a->dtype(), "MatMul", [&](auto tag) {
      using T = typename decltype(tag)::type;
      MatMulBatches<T>(s, a->data<T>(), b->data<T>(), y->data<T>());
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
// Registrations
// ---------------------------------------------------------------------------------------------

CORTADO_REGISTER_OP(OpSchema("MatMul").Versions(1).Inputs(2, 2).Infer(InferMatMul));
CORTADO_REGISTER_KERNEL("MatMul", kCpuBackend, 1, kMaxOpset, MatMulTypes(),
                        MakeFactory<MatMulKernel>());

// Gemm before opset 7 requires C and says with `broadcast` whether it broadcasts; unidirectional
// broadcasting of an optional C covers both.
CORTADO_REGISTER_OP(OpSchema("Gemm")
                        .Versions(1)
                        .Inputs(2, 3)
                        .Attr("alpha", 1.0f)
                        .Attr("beta", 1.0f)
                        .Attr("transA", int64_t{0})
                        .Attr("transB", int64_t{0})
                        .Infer(InferGemm));
CORTADO_REGISTER_KERNEL("Gemm", kCpuBackend, 1, kMaxOpset, GemmTypes(), MakeFactory<GemmKernel>());

}  // namespace
}  // namespace cortado
