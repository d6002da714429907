// cortado's own CUDA kernels (kernels.cu, compiled by nvcc): elementwise ops (broadcasting one
// operand over leading dimensions), a tiled 2-D transpose, a strided copy (Slice, any
// Transpose), reductions, Gather and the float32/float16 Cast. Each enqueues on `stream` and
// returns the launch's cudaError_t (as int, so that this header needs no CUDA headers).
// kernel_params.h computes their arguments on the host.
#ifndef CORTADO_BACKENDS_CUDA_KERNELS_H_
#define CORTADO_BACKENDS_CUDA_KERNELS_H_

#include <cstdint>

namespace cortado {
namespace cuda {

// Unary ops; the parameterized ones read alpha and beta: Clip (y = min(max(x, alpha), beta)),
// HardSigmoid (max(0, min(1, alpha x + beta))), LeakyRelu (x < 0: alpha x).
enum class Unary {
  kRelu,
  kSigmoid,
  kTanh,
  kNeg,
  kAbs,
  kExp,
  kClip,
  kHardSigmoid,
  kLeakyRelu,
  kHardSwish
};
enum class Binary { kAdd, kSub, kMul, kDiv, kFirst };  // kFirst: y = a (a broadcast)
enum class Reduce { kSum, kMean, kMax };

// The most dimensions a strided view has.
constexpr int kMaxRank = 8;

// Element i of a view, as a multi-index over `dims` (row-major), is the element
// offset + sum_d index_d * strides[d] of the tensor viewed (strides in elements, any sign).
struct StridedView {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};
  int64_t offset = 0;
};

int LaunchUnary(Unary op, float alpha, float beta, const float* x, float* y, int64_t n,
                void* stream);
// y[i] = a[i % na] op b[i % nb], for i < n.
int LaunchBinary(Binary op, const float* a, int64_t na, const float* b, int64_t nb, float* y,
                 int64_t n, void* stream);
// y[c][r] = x[r][c] for an rows x cols x.
int LaunchTranspose2D(const float* x, float* y, int64_t rows, int64_t cols, void* stream);
// y[i] = x[view(i)] for every element of `view` (contiguous y), elements of 1, 2, 4 or 8 bytes.
int LaunchStridedCopy(const void* x, void* y, int element_bytes, const StridedView& view,
                      void* stream);
// y[o] = op over r of x[out(o) + reduced(r)] (the views' offsets added), o over `out`'s
// elements, r over `reduced`'s; over none, the sum is 0, the mean NaN and the max -inf.
int LaunchReduce(Reduce op, const float* x, float* y, const StridedView& out,
                 const StridedView& reduced, void* stream);
// y[o][i][r] = x[o][indices[i]][r], o < outer, i < count, r < inner; x's middle dimension is
// axis_dim and the indices are already in [0, axis_dim). Elements of 1, 2, 4 or 8 bytes.
int LaunchGather(const void* x, void* y, int element_bytes, const int64_t* indices, int64_t outer,
                 int64_t axis_dim, int64_t inner, int64_t count, void* stream);
// float32 <-> float16 (round to nearest even), n elements.
int LaunchFloatToHalf(const float* x, void* y, int64_t n, void* stream);
int LaunchHalfToFloat(const void* x, float* y, int64_t n, void* stream);

}  // namespace cuda
}  // namespace cortado

#endif  // CORTADO_BACKENDS_CUDA_KERNELS_H_
