// MatMul (numpy matmul, batched) and Gemm kernels as templates over a GEMM routine G, a type
// with `template <typename T> static void Run(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
// beta, c, ldc)` of the contract of ops/gemm.h for every dtype of GemmTypes(). The reference
// kernels (ops/matmul.cc) are these on ReferenceGemm, the optimized CPU kernels
// (backends/cpu/matmul.cc) these on FastGemm, so both share the operand checks and the batching.
// The kernels are immutable: thread-safe.
#ifndef CORTADO_OPS_MATMUL_H_
#define CORTADO_OPS_MATMUL_H_

#include <array>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/broadcast.h"
#include "ops/gemm.h"
#include "ops/nn_util.h"
#include "ops/registry.h"

namespace cortado {

// dtypes of the matrix products (what Gemm in ops/gemm.h implements).
std::vector<DType> GemmTypes();

template <typename F>
absl::Status VisitGemmType(DType dtype, absl::string_view op, F&& f) {
  return VisitTypes<float, double, int32_t, int64_t, uint32_t, uint64_t>(dtype, op,
                                                                         std::forward<F>(f));
}

// numpy matmul shapes: 1-D operands are promoted ([K] -> [1,K] for A, [K,1] for B) and the
// promoted dimension is dropped from the result. Works on partly unknown (-1) shapes.
struct MatMulShapes {
  Shape a_batch, b_batch, out_batch;
  int64_t m = 0, n = 0, k = 0;
  Shape out;
};

absl::StatusOr<MatMulShapes> MatMulShape(const Shape& a, const Shape& b);

// Checks that C (of `c_shape`) broadcasts unidirectionally to [m, n]; -1 dims are unknown.
absl::Status CheckGemmBias(const Shape& c_shape, int64_t m, int64_t n);

struct GemmDims {
  int64_t m, n, k;
};

absl::StatusOr<GemmDims> GemmShape(const Shape& a, const Shape& b, bool trans_a, bool trans_b);

// MatMul's dtypes: Gemm's, and float16 and bfloat16 (multiplied in float32).
std::vector<DType> MatMulTypes();

// Y = A x B for one of Gemm's types on G, batched as `s` says.
template <typename G, typename T>
void MatMulBatches(const MatMulShapes& s, const T* ap, const T* bp, T* yp) {
  const int64_t a_mat = s.m * s.k, b_mat = s.k * s.n, y_mat = s.m * s.n;
  if (s.b_batch.empty() || NumElements(s.b_batch) == 1) {
    // One B for every batch: the batches of A stack into one tall matrix.
    const int64_t rows = NumElements(s.out_batch) * s.m;
    G::template Run<T>(false, false, rows, s.n, s.k, T(1), ap, s.k, bp, s.n, T(0), yp, s.n);
    return;
  }
  ForEachBroadcast<2>(s.out_batch, {&s.a_batch, &s.b_batch},
                      [&](int64_t o, const std::array<int64_t, 2>& in) {
                        G::template Run<T>(false, false, s.m, s.n, s.k, T(1), ap + in[0] * a_mat,
                                           s.k, bp + in[1] * b_mat, s.n, T(0), yp + o * y_mat, s.n);
                      });
}

template <typename G>
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
      // float16 and bfloat16 multiply in float32 and round to nearest even.
      auto run = [&](auto tag) {
        using H = typename decltype(tag)::type;
        auto widen = [](const Tensor& t) {
          std::vector<float> v(t.num_elements());
          for (int64_t i = 0; i < t.num_elements(); ++i) v[i] = static_cast<float>(t.data<H>()[i]);
          return v;
        };
        const std::vector<float> af = widen(*a), bf = widen(*b);
        std::vector<float> yf(y->num_elements());
        MatMulBatches<G, float>(s, af.data(), bf.data(), yf.data());
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
      MatMulBatches<G, T>(s, a->data<T>(), b->data<T>(), y->data<T>());
      return absl::OkStatus();
    });
  }
};

template <typename G>
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
      G::template Run<T>(trans_a_, trans_b_, d.m, d.n, d.k, cast(alpha_), a->data<T>(), a->dim(1),
                         b->data<T>(), b->dim(1), beta, yp, d.n);
      return absl::OkStatus();
    });
  }

 private:
  const float alpha_, beta_;
  const bool trans_a_, trans_b_;
};

}  // namespace cortado

#endif  // CORTADO_OPS_MATMUL_H_
