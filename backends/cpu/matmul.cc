// The optimized CPU matrix products (backend "cpu_opt"): MatMul and Gemm, the reference kernels'
// templates (ops/matmul.h) on BlockedGemm, and FusedMatMul and FusedConv composed of this
// backend's MatMul and Conv (ops/fused.h). Kernels are immutable: thread-safe.

#include "ops/matmul.h"

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
#include "ops/fused.h"
#include "ops/registry.h"

namespace cortado {
namespace {

CORTADO_REGISTER_KERNEL("MatMul", kCpuOptBackend, 1, kMaxOpset, GemmTypes(),
                        MakeFactory<MatMulKernel<FastGemm>>());
CORTADO_REGISTER_KERNEL("Gemm", kCpuOptBackend, 7, kMaxOpset, GemmTypes(),
                        MakeFactory<GemmKernel<FastGemm>>());
CORTADO_REGISTER_DOMAIN_KERNEL("FusedMatMul", kFusedDomain, kCpuOptBackend, 1, kMaxOpset,
                               FloatTypes(), ComposedFusedKernel(kCpuOptBackend));
CORTADO_REGISTER_DOMAIN_KERNEL("FusedConv", kFusedDomain, kCpuOptBackend, 1, kMaxOpset,
                               FloatTypes(), ComposedFusedKernel(kCpuOptBackend));

}  // namespace
}  // namespace cortado
