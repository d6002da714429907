#include <cuda_runtime.h>

#include "backends/cuda/kernels.h"

namespace cortado {
namespace cuda {
namespace {

constexpr int kThreads = 256;

int Blocks(int64_t n) { return static_cast<int>((n + kThreads - 1) / kThreads); }

__global__ void UnaryKernel(Unary op, const float* x, float* y, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const float v = x[i];
  switch (op) {
    case Unary::kRelu: y[i] = fmaxf(v, 0.0f); break;
    case Unary::kSigmoid: y[i] = 1.0f / (1.0f + expf(-v)); break;
    case Unary::kTanh: y[i] = tanhf(v); break;
    case Unary::kNeg: y[i] = -v; break;
    case Unary::kAbs: y[i] = fabsf(v); break;
    case Unary::kExp: y[i] = expf(v); break;
  }
}

__global__ void BinaryKernel(Binary op, const float* a, int64_t na, const float* b, int64_t nb,
                             float* y, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const float p = a[i % na], q = b[i % nb];
  switch (op) {
    case Binary::kAdd: y[i] = p + q; break;
    case Binary::kSub: y[i] = p - q; break;
    case Binary::kMul: y[i] = p * q; break;
    case Binary::kDiv: y[i] = p / q; break;
    case Binary::kFirst: y[i] = p; break;
  }
}

// 32x32 tiles through shared memory, padded against bank conflicts.
__global__ void TransposeKernel(const float* x, float* y, int64_t rows, int64_t cols) {
  __shared__ float tile[32][33];
  const int64_t c = blockIdx.x * 32 + threadIdx.x, r0 = blockIdx.y * 32;
  for (int j = threadIdx.y; j < 32; j += blockDim.y) {
    if (r0 + j < rows && c < cols) tile[j][threadIdx.x] = x[(r0 + j) * cols + c];
  }
  __syncthreads();
  const int64_t r = blockIdx.y * 32 + threadIdx.x, c0 = blockIdx.x * 32;
  for (int j = threadIdx.y; j < 32; j += blockDim.y) {
    if (c0 + j < cols && r < rows) y[(c0 + j) * rows + r] = tile[threadIdx.x][j];
  }
}

}  // namespace

int LaunchUnary(Unary op, const float* x, float* y, int64_t n, void* stream) {
  if (n == 0) return cudaSuccess;
  UnaryKernel<<<Blocks(n), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(op, x, y, n);
  return cudaGetLastError();
}

int LaunchBinary(Binary op, const float* a, int64_t na, const float* b, int64_t nb, float* y,
                 int64_t n, void* stream) {
  if (n == 0) return cudaSuccess;
  BinaryKernel<<<Blocks(n), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(op, a, na, b, nb,
                                                                               y, n);
  return cudaGetLastError();
}

int LaunchTranspose2D(const float* x, float* y, int64_t rows, int64_t cols, void* stream) {
  if (rows == 0 || cols == 0) return cudaSuccess;
  const dim3 block(32, 8), grid(static_cast<unsigned>((cols + 31) / 32),
                                static_cast<unsigned>((rows + 31) / 32));
  TransposeKernel<<<grid, block, 0, static_cast<cudaStream_t>(stream)>>>(x, y, rows, cols);
  return cudaGetLastError();
}

}  // namespace cuda
}  // namespace cortado
