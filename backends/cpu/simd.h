// The SIMD vocabulary of the optimized CPU kernels (backends/cpu): GCC vector types for SSE2,
// AVX2 and AVX-512, broadcasts for each, and the choice of instruction set at run time. The wide
// kernels are ordinary templates over the vector type, instantiated inside functions compiled
// for that ISA (`__attribute__((target(...), flatten)))`) and called only when ActiveIsa() says
// the CPU has it, so one binary runs on any x86-64 and uses the widest ISA the CPU has. CapIsa
// lowers that choice at run time, so that tests run the AVX2 and SSE2 kernels on an AVX-512
// machine. ActiveIsa and CapIsa are thread-safe (an atomic); the rest is stateless.
#ifndef CORTADO_BACKENDS_CPU_SIMD_H_
#define CORTADO_BACKENDS_CPU_SIMD_H_

#include <algorithm>
#include <atomic>
#include <cstddef>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CORTADO_SIMD_X86 1  // the wide kernels exist only here
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

// The instruction sets the kernels have versions for, narrowest first. kSse2 is the baseline
// (what -march=x86-64-v2 gives, and plain GCC vectors elsewhere); kAvx2 includes FMA.
enum class Isa { kSse2 = 0, kAvx2 = 1, kAvx512 = 2 };

inline const char* IsaName(Isa isa) {
  return isa == Isa::kAvx512 ? "avx512" : isa == Isa::kAvx2 ? "avx2" : "sse2";
}

// The widest Isa this CPU runs.
inline Isa CpuIsa() {
#ifdef CORTADO_SIMD_X86
  static const Isa isa = __builtin_cpu_supports("avx512f") ? Isa::kAvx512
                         : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                             ? Isa::kAvx2
                             : Isa::kSse2;
  return isa;
#else
  return Isa::kSse2;
#endif
}

namespace internal {
inline std::atomic<int> isa_cap{static_cast<int>(Isa::kAvx512)};
}  // namespace internal

// The Isa the kernels use: CpuIsa(), at most the cap. Kernels that pack weights for a block
// width read it once, when they are created; the others at each call.
inline Isa ActiveIsa() {
  return static_cast<Isa>(std::min(static_cast<int>(CpuIsa()), internal::isa_cap.load()));
}

// Caps ActiveIsa() at `cap` from now on and returns the previous cap (for tests).
inline Isa CapIsa(Isa cap) {
  return static_cast<Isa>(internal::isa_cap.exchange(static_cast<int>(cap)));
}

// The vector of kBytes bytes of T.
template <typename T, int kBytes>
struct VecOf {
  typedef T type __attribute__((vector_size(kBytes)));
};

#ifdef CORTADO_SIMD_X86
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
struct BcastAvx512 {
  __attribute__((target("avx512f"))) static F32x16 Load(const float* p) {
    return reinterpret_cast<F32x16>(_mm512_set1_ps(*p));
  }
  __attribute__((target("avx512f"))) static F64x8 Load(const double* p) {
    return reinterpret_cast<F64x8>(_mm512_set1_pd(*p));
  }
};
#endif

}  // namespace simd
}  // namespace cortado

#endif  // CORTADO_BACKENDS_CPU_SIMD_H_
