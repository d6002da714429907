#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cfloat>

#include "backends/cuda/kernels.h"

namespace cortado {
namespace cuda {
namespace {

constexpr int kThreads = 256;

// Blocks for n threads; at most 2^31 - 1, the rest covered by grid-stride loops.
unsigned Blocks(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 0x7fffffff ? b : 0x7fffffff);
}

#define FOR_EACH_INDEX(i, n)                                                             \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__global__ void UnaryKernel(Unary op, float alpha, float beta, const float* x, float* y,
                            int64_t n) {
  FOR_EACH_INDEX(i, n) {
    const float v = x[i];
    switch (op) {
      case Unary::kRelu:
        y[i] = fmaxf(v, 0.0f);
        break;
      case Unary::kSigmoid:
        y[i] = 1.0f / (1.0f + expf(-v));
        break;
      case Unary::kTanh:
        y[i] = tanhf(v);
        break;
      case Unary::kNeg:
        y[i] = -v;
        break;
      case Unary::kAbs:
        y[i] = fabsf(v);
        break;
      case Unary::kExp:
        y[i] = expf(v);
        break;
      case Unary::kClip: {  // as the reference: NaN stays NaN, min > max gives max
        const float low = v < alpha ? alpha : v;
        y[i] = low > beta ? beta : low;
        break;
      }
      case Unary::kHardSigmoid:
        y[i] = fmaxf(0.0f, fminf(1.0f, alpha * v + beta));
        break;
      case Unary::kLeakyRelu:
        y[i] = v < 0.0f ? alpha * v : v;
        break;
      case Unary::kHardSwish:
        y[i] = v * fmaxf(0.0f, fminf(1.0f, alpha * v + beta));
        break;
    }
  }
}

__global__ void BinaryKernel(Binary op, const float* a, int64_t na, const float* b, int64_t nb,
                             float* y, int64_t n) {
  FOR_EACH_INDEX(i, n) {
    const float p = a[i % na], q = b[i % nb];
    switch (op) {
      case Binary::kAdd:
        y[i] = p + q;
        break;
      case Binary::kSub:
        y[i] = p - q;
        break;
      case Binary::kMul:
        y[i] = p * q;
        break;
      case Binary::kDiv:
        y[i] = p / q;
        break;
      case Binary::kFirst:
        y[i] = p;
        break;
    }
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

int64_t Count(const StridedView& v) {
  int64_t n = 1;
  for (int d = 0; d < v.rank; ++d) n *= v.dims[d];
  return n;
}

// The offset of element i of `v` (its own offset included).
__device__ int64_t OffsetOf(const StridedView& v, int64_t i) {
  int64_t off = v.offset;
  for (int d = v.rank - 1; d >= 0; --d) {
    const int64_t q = i / v.dims[d];
    off += (i - q * v.dims[d]) * v.strides[d];
    i = q;
  }
  return off;
}

template <typename T>
__global__ void StridedCopyKernel(const T* x, T* y, StridedView view, int64_t n) {
  FOR_EACH_INDEX(i, n) { y[i] = x[OffsetOf(view, i)]; }
}

// One block per output element: its threads stride over the reduced elements, then reduce in
// shared memory.
__global__ void ReduceKernel(Reduce op, const float* x, float* y, StridedView out,
                             StridedView reduced, int64_t n_out, int64_t n_reduced) {
  __shared__ float partial[kThreads];
  for (int64_t o = blockIdx.x; o < n_out; o += gridDim.x) {
    const int64_t base = OffsetOf(out, o);
    float acc = op == Reduce::kMax ? -INFINITY : 0.0f;
    for (int64_t r = threadIdx.x; r < n_reduced; r += blockDim.x) {
      const float v = x[base + OffsetOf(reduced, r)];
      acc = op == Reduce::kMax ? fmaxf(acc, v) : acc + v;
    }
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s /= 2) {
      if (threadIdx.x < s) {
        const float other = partial[threadIdx.x + s];
        partial[threadIdx.x] =
            op == Reduce::kMax ? fmaxf(partial[threadIdx.x], other) : partial[threadIdx.x] + other;
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      y[o] = op == Reduce::kMean ? partial[0] / static_cast<float>(n_reduced) : partial[0];
    }
    __syncthreads();
  }
}

template <typename T>
__global__ void GatherKernel(const T* x, T* y, const int64_t* indices, int64_t axis_dim,
                             int64_t inner, int64_t count, int64_t n) {
  FOR_EACH_INDEX(i, n) {
    const int64_t r = i % inner, rest = i / inner, k = rest % count, o = rest / count;
    y[i] = x[(o * axis_dim + indices[k]) * inner + r];
  }
}

__global__ void FloatToHalfKernel(const float* x, __half* y, int64_t n) {
  FOR_EACH_INDEX(i, n) { y[i] = __float2half_rn(x[i]); }
}

__global__ void HalfToFloatKernel(const __half* x, float* y, int64_t n) {
  FOR_EACH_INDEX(i, n) { y[i] = __half2float(x[i]); }
}

// Calls f(T{}) with the unsigned integer type of `bytes` bytes; cudaErrorInvalidValue otherwise.
template <typename F>
int ByElementSize(int bytes, F&& f) {
  switch (bytes) {
    case 1:
      f(uint8_t{});
      break;
    case 2:
      f(uint16_t{});
      break;
    case 4:
      f(uint32_t{});
      break;
    case 8:
      f(uint64_t{});
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

cudaStream_t AsStream(void* stream) { return static_cast<cudaStream_t>(stream); }

}  // namespace

int LaunchUnary(Unary op, float alpha, float beta, const float* x, float* y, int64_t n,
                void* stream) {
  if (n == 0) return cudaSuccess;
  UnaryKernel<<<Blocks(n), kThreads, 0, AsStream(stream)>>>(op, alpha, beta, x, y, n);
  return cudaGetLastError();
}

int LaunchBinary(Binary op, const float* a, int64_t na, const float* b, int64_t nb, float* y,
                 int64_t n, void* stream) {
  if (n == 0) return cudaSuccess;
  BinaryKernel<<<Blocks(n), kThreads, 0, AsStream(stream)>>>(op, a, na, b, nb, y, n);
  return cudaGetLastError();
}

int LaunchTranspose2D(const float* x, float* y, int64_t rows, int64_t cols, void* stream) {
  if (rows == 0 || cols == 0) return cudaSuccess;
  const dim3 block(32, 8),
      grid(static_cast<unsigned>((cols + 31) / 32), static_cast<unsigned>((rows + 31) / 32));
  TransposeKernel<<<grid, block, 0, AsStream(stream)>>>(x, y, rows, cols);
  return cudaGetLastError();
}

int LaunchStridedCopy(const void* x, void* y, int element_bytes, const StridedView& view,
                      void* stream) {
  const int64_t n = Count(view);
  if (n == 0) return cudaSuccess;
  return ByElementSize(element_bytes, [&](auto t) {
    using T = decltype(t);
    StridedCopyKernel<T><<<Blocks(n), kThreads, 0, AsStream(stream)>>>(static_cast<const T*>(x),
                                                                       static_cast<T*>(y), view, n);
  });
}

int LaunchReduce(Reduce op, const float* x, float* y, const StridedView& out,
                 const StridedView& reduced, void* stream) {
  const int64_t n_out = Count(out), n_reduced = Count(reduced);
  if (n_out == 0) return cudaSuccess;
  int threads = 32;  // a power of two, up to kThreads, not far above the reduced count
  while (threads < kThreads && threads < n_reduced) threads *= 2;
  const unsigned blocks = static_cast<unsigned>(n_out < 0x7fffffff ? n_out : 0x7fffffff);
  ReduceKernel<<<blocks, threads, 0, AsStream(stream)>>>(op, x, y, out, reduced, n_out, n_reduced);
  return cudaGetLastError();
}

int LaunchGather(const void* x, void* y, int element_bytes, const int64_t* indices, int64_t outer,
                 int64_t axis_dim, int64_t inner, int64_t count, void* stream) {
  const int64_t n = outer * count * inner;
  if (n == 0) return cudaSuccess;
  return ByElementSize(element_bytes, [&](auto t) {
    using T = decltype(t);
    GatherKernel<T><<<Blocks(n), kThreads, 0, AsStream(stream)>>>(
        static_cast<const T*>(x), static_cast<T*>(y), indices, axis_dim, inner, count, n);
  });
}

int LaunchFloatToHalf(const float* x, void* y, int64_t n, void* stream) {
  if (n == 0) return cudaSuccess;
  FloatToHalfKernel<<<Blocks(n), kThreads, 0, AsStream(stream)>>>(x, static_cast<__half*>(y), n);
  return cudaGetLastError();
}

int LaunchHalfToFloat(const void* x, float* y, int64_t n, void* stream) {
  if (n == 0) return cudaSuccess;
  HalfToFloatKernel<<<Blocks(n), kThreads, 0, AsStream(stream)>>>(static_cast<const __half*>(x), y,
                                                                  n);
  return cudaGetLastError();
}

}  // namespace cuda
}  // namespace cortado
