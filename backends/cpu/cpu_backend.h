// The two CPU backends of backends/cpu:
//   "cpu" (kCpuBackend, ops/registry.h): the reference kernels that ops/ registers, plain and
//     readable, the oracle every other backend is tested against; priority 0, it runs any op.
//   "cpu_opt" (kCpuOptBackend): the optimized CPU kernels registered in this folder (SIMD GEMM
//     chosen at run time, im2col, direct depthwise paths, threads), for the ops where they pay
//     off; above the reference, below oneDNN. The eager frontend runs its ops here when a kernel
//     exists (frontend/dispatch.cc).
// Both run in host memory. Registered at static initialization; immutable: thread-safe.
#ifndef CORTADO_BACKENDS_CPU_CPU_BACKEND_H_
#define CORTADO_BACKENDS_CPU_CPU_BACKEND_H_

namespace cortado {

inline constexpr char kCpuOptBackend[] = "cpu_opt";

}  // namespace cortado

#endif  // CORTADO_BACKENDS_CPU_CPU_BACKEND_H_
