// General matrix multiply on the host, shared by the Conv, ConvTranspose, MatMul and Gemm
// kernels:  C = alpha * op(A) * op(B) + beta * C,  with op(X) = X or X^T.
//
// Matrices are row-major with leading dimensions (row strides) lda, ldb, ldc:
//   op(A) is M x K: A is M x K (lda >= K), or K x M when trans_a (lda >= M);
//   op(B) is K x N: B is K x N (ldb >= N), or N x K when trans_b (ldb >= K);
//   C is M x N (ldc >= N) and must not overlap A or B.
// When beta == 0, C is only written (NaN or garbage already in C does not propagate), as in BLAS.
// float and double use a cache-blocked, packed, register-tiled kernel (with an AVX-512 or
// AVX2+FMA micro-kernel chosen at run time when the CPU has it), or direct dot products / axpys
// when op(A) or op(B) has at most two rows or columns; the integer types use plain loops with
// wrapping arithmetic, as numpy does. Large float products split C over the intra-op threads
// (core/thread_pool.h; each element is computed the same way whatever the split). No shared
// state: thread-safe. (Defining CORTADO_GEMM_NO_AVX2 when compiling gemm.cc keeps the baseline
// SSE kernels, for testing them; CORTADO_GEMM_NO_AVX512 keeps AVX2 the widest.)
#ifndef CORTADO_OPS_GEMM_H_
#define CORTADO_OPS_GEMM_H_

#include <cstdint>

namespace cortado {

// Defined for T = float, double, int32_t, int64_t, uint32_t, uint64_t.
template <typename T>
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// y[0..n) += alpha * x[0..n) (BLAS axpy), vectorized. Defined for T = float, double.
template <typename T>
void Axpy(int64_t n, T alpha, const T* x, T* y);

}  // namespace cortado

#endif  // CORTADO_OPS_GEMM_H_
