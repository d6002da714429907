// The SIMD vocabulary of the optimized CPU kernels (backends/cpu): GCC vector types for SSE2,
// AVX2 and AVX-512, broadcasts for each, and the run-time checks of what the CPU supports. The
// wide kernels are ordinary templates over the vector type, instantiated inside functions
// compiled for that ISA (`__attribute__((target(...), flatten)))` and called only after the
// matching check, so the binary runs on any x86-64 and uses the widest ISA the CPU has.
// Defining CORTADO_GEMM_NO_AVX2 when compiling a kernel keeps it to the baseline (for testing);
// CORTADO_GEMM_NO_AVX512 keeps AVX2 the widest. Stateless: thread-safe.
#ifndef CORTADO_BACKENDS_CPU_SIMD_H_
#define CORTADO_BACKENDS_CPU_SIMD_H_

#include <cstddef>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

// The broadcasts below return AVX vectors, but every call is inlined (by `flatten`) into a
// function compiled for that ISA: GCC's note that the call's ABI would differ without AVX does
// not apply.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace cortado {
namespace simd {

typedef float F32x4 __attribute__((vector_size(16)));
typedef double F64x2 __attribute__((vector_size(16)));
typedef float F32x8 __attribute__((vector_size(32)));
typedef double F64x4 __attribute__((vector_size(32)));
typedef float F32x16 __attribute__((vector_size(64)));
typedef double F64x8 __attribute__((vector_size(64)));

// Broadcast lane by lane (`V{} + *p` would add 0.0 first, a real operation for IEEE signed
// zeros); what the baseline gets.
template <typename V>
struct BcastLanes {
  template <typename T>
  static V Load(const T* p) {
    V v;
#pragma GCC unroll 16
    for (size_t l = 0; l < sizeof(V) / sizeof(T); ++l) v[l] = *p;
    return v;
  }
};

#if defined(__x86_64__) && defined(__GNUC__) && !defined(CORTADO_GEMM_NO_AVX2)
#define CORTADO_SIMD_HAVE_AVX2 1
// The broadcasts as intrinsics: through the vector extensions GCC builds them as a narrower
// broadcast and an insert, which compete with the FMAs for a port.
struct BcastAvx2 {
  __attribute__((target("avx2,fma"))) static F32x8 Load(const float* p) {
    return reinterpret_cast<F32x8>(_mm256_broadcast_ss(p));
  }
  __attribute__((target("avx2,fma"))) static F64x4 Load(const double* p) {
    return reinterpret_cast<F64x4>(_mm256_broadcast_sd(p));
  }
};
inline bool CpuHasAvx2Fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#ifndef CORTADO_GEMM_NO_AVX512
#define CORTADO_SIMD_HAVE_AVX512 1
struct BcastAvx512 {
  __attribute__((target("avx512f"))) static F32x16 Load(const float* p) {
    return reinterpret_cast<F32x16>(_mm512_set1_ps(*p));
  }
  __attribute__((target("avx512f"))) static F64x8 Load(const double* p) {
    return reinterpret_cast<F64x8>(_mm512_set1_pd(*p));
  }
};
inline bool CpuHasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}
#endif
#endif

}  // namespace simd
}  // namespace cortado

#endif  // CORTADO_BACKENDS_CPU_SIMD_H_
