// The reference general matrix multiply, shared by the reference MatMul, Gemm, RNN and
// quantized kernels:  C = alpha * op(A) * op(B) + beta * C,  with op(X) = X or X^T.
//
// Matrices are row-major with leading dimensions (row strides) lda, ldb, ldc:
//   op(A) is M x K: A is M x K (lda >= K), or K x M when trans_a (lda >= M);
//   op(B) is K x N: B is K x N (ldb >= N), or N x K when trans_b (ldb >= K);
//   C is M x N (ldc >= N) and must not overlap A or B.
// When beta == 0, C is only written (NaN or garbage already in C does not propagate), as in BLAS;
// when alpha == 0 or K == 0, A and B are not read. Each element is one plain dot product in
// order of K; the integer types compute in their unsigned type, so overflow wraps as in numpy.
// This is the readable oracle; the fast GEMM of the optimized CPU kernels is BlockedGemm
// (backends/cpu/gemm.h). No shared state: thread-safe.
#ifndef CORTADO_OPS_GEMM_H_
#define CORTADO_OPS_GEMM_H_

#include <cstdint>

namespace cortado {

// Defined for T = float, double, int32_t, int64_t, uint32_t, uint64_t.
template <typename T>
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// The GEMM routine of the reference kernels, for the kernel templates of ops/matmul.h.
struct ReferenceGemm {
  template <typename T>
  static void Run(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                  int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
    Gemm<T>(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
};

}  // namespace cortado

#endif  // CORTADO_OPS_GEMM_H_
