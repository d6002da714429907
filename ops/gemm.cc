#include "ops/gemm.h"

#include <type_traits>

namespace cortado {
namespace {

// The type a product is accumulated in: T itself, or for an integer T its unsigned type.
template <typename T, bool = std::is_integral_v<T>>
struct Accumulator {
  using type = T;
};
template <typename T>
struct Accumulator<T, true> {
  using type = std::make_unsigned_t<T>;
};

}  // namespace

template <typename T>
void Gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  using U = typename Accumulator<T>::type;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      U sum = 0;
      if (alpha != T(0)) {
        for (int64_t p = 0; p < k; ++p) {
          const T av = trans_a ? a[p * lda + i] : a[i * lda + p];
          const T bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
          sum += static_cast<U>(av) * static_cast<U>(bv);
        }
      }
      U value = static_cast<U>(alpha) * sum;
      if (beta != T(0)) value += static_cast<U>(beta) * static_cast<U>(c[i * ldc + j]);
      c[i * ldc + j] = static_cast<T>(value);
    }
  }
}

#define CORTADO_INSTANTIATE_GEMM_(T)                                                           \
  template void Gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, \
                        int64_t, T, T*, int64_t);
CORTADO_INSTANTIATE_GEMM_(float)
CORTADO_INSTANTIATE_GEMM_(double)
CORTADO_INSTANTIATE_GEMM_(int32_t)
CORTADO_INSTANTIATE_GEMM_(int64_t)
CORTADO_INSTANTIATE_GEMM_(uint32_t)
CORTADO_INSTANTIATE_GEMM_(uint64_t)
#undef CORTADO_INSTANTIATE_GEMM_

}  // namespace cortado
