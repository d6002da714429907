// cortado's own CUDA kernels (kernels.cu, compiled by nvcc): elementwise ops with broadcasting
// of one operand over leading dimensions, and a 2-D transpose. Each enqueues on `stream` and
// returns the launch's cudaError_t (as int, so that this header needs no CUDA headers).
#ifndef CORTADO_BACKENDS_CUDA_KERNELS_H_
#define CORTADO_BACKENDS_CUDA_KERNELS_H_

#include <cstdint>

namespace cortado {
namespace cuda {

enum class Unary { kRelu, kSigmoid, kTanh, kNeg, kAbs, kExp };
enum class Binary { kAdd, kSub, kMul, kDiv, kFirst };  // kFirst: y = a (a broadcast)

int LaunchUnary(Unary op, const float* x, float* y, int64_t n, void* stream);
// y[i] = a[i % na] op b[i % nb], for i < n.
int LaunchBinary(Binary op, const float* a, int64_t na, const float* b, int64_t nb, float* y,
                 int64_t n, void* stream);
// y[c][r] = x[r][c] for an rows x cols x.
int LaunchTranspose2D(const float* x, float* y, int64_t rows, int64_t cols, void* stream);

}  // namespace cuda
}  // namespace cortado

#endif  // CORTADO_BACKENDS_CUDA_KERNELS_H_
