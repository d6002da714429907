// BlockedGemm: the fast general matrix multiply of the optimized CPU kernels (backends/cpu),
// with the contract of the reference Gemm in ops/gemm.h (C = alpha * op(A) * op(B) + beta * C,
// row-major with leading dimensions; C must not overlap A or B; beta == 0 only writes C).
//
// Cache-blocked, packed and register-tiled after Goto and van de Geijn / BLIS, with an AVX-512
// or AVX2+FMA micro-kernel chosen at run time from the CPU it runs on (never at compile time),
// and the baseline SSE2 one otherwise; direct dot products / axpys when op(A) or op(B) has at
// most two rows or columns. Large products split C over the intra-op threads
// (core/thread_pool.h); each element is computed the same way whatever the split. No shared
// state: thread-safe. (simd::CapIsa runs the narrower kernels on a wider CPU, for tests.)
#ifndef CORTADO_BACKENDS_CPU_GEMM_H_
#define CORTADO_BACKENDS_CPU_GEMM_H_

#include <cstdint>
#include <type_traits>

#include "ops/gemm.h"

namespace cortado {

// Defined for T = float and double.
template <typename T>
void BlockedGemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                 int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// The GEMM routine of the optimized kernels for every dtype of ops/gemm.h: BlockedGemm for the
// floating-point types, the reference (wrapping) loops for the integer ones. A GemmRoutine for
// the kernel templates of ops/matmul.h.
struct FastGemm {
  template <typename T>
  static void Run(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                  int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
    if constexpr (std::is_floating_point_v<T>) {
      BlockedGemm<T>(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else {
      Gemm<T>(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
  }
};

}  // namespace cortado

#endif  // CORTADO_BACKENDS_CPU_GEMM_H_
