// The host-side decisions of the CUDA backend's kernels: which nodes each kernel accepts (from
// attributes and what the plan knows of the input shapes), and the arguments of cuDNN's
// descriptors, cuBLAS's batched GEMM and our kernels (kernels.h) for the shapes a run brings.
// Pure functions without CUDA headers, so that they are unit-tested on machines without a GPU
// (kernel_params_test.cc). Stateless: thread-safe.
#ifndef CORTADO_BACKENDS_CUDA_KERNEL_PARAMS_H_
#define CORTADO_BACKENDS_CUDA_KERNEL_PARAMS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/cuda/kernels.h"
#include "core/tensor.h"
#include "ops/kernel.h"
#include "ops/slice.h"

namespace cortado {
namespace cuda {

// True when input `i` is absent, or its dtype is unknown or one of `dtypes`.
bool InputDTypeIn(const KernelInfo& node, size_t i, std::initializer_list<DType> dtypes);
// True when input `i` is a constant (KernelInfo::constant_inputs).
bool IsConstant(const KernelInfo& node, size_t i);

// An elementwise op of LaunchUnary with its parameters: Relu, Sigmoid, Tanh, Neg, Abs, Exp,
// LeakyRelu, HardSigmoid, HardSwish, and Clip with its bounds as attributes (opset < 11) or
// constant float32 scalar inputs; nullopt otherwise.
struct UnaryOp {
  Unary op = Unary::kRelu;
  float alpha = 0.0f, beta = 0.0f;
};
std::optional<UnaryOp> UnaryFor(const KernelInfo& node);
// The activations FusedConv names (ops/fused.h) that ConvKernel applies: Relu, Sigmoid, Tanh.
std::optional<Unary> ActivationFor(const std::string& name);

// MaxPool (one output, no dilations), AveragePool (count_include_pad) and GlobalAveragePool /
// GlobalMaxPool over 4-D NCHW on cuDNN: explicit symmetric pads, floor mode (ceil_mode 0).
// Global pools take their window from the input at run time.
struct Pool2d {
  bool max = false, global = false, count_include_pad = false;
  std::array<int, 2> window = {1, 1}, pads = {0, 0}, strides = {1, 1};
};
std::optional<Pool2d> PoolFor(const KernelInfo& node);

// Softmax and LogSoftmax as cuDNN's channel mode over (n, c, inner, 1): opset 13 on reduces
// along `axis` alone (c = its dim); before, over every dim from `axis` on (the input flattened
// to 2-D there). `axis` may be negative; InvalidArgument when out of range or too large for cuDNN.
struct SoftmaxDims {
  int n = 1, c = 1, inner = 1;
};
absl::StatusOr<SoftmaxDims> SoftmaxFor(const Shape& x, int64_t axis, int opset);

// BatchNormalization in inference mode (one output, training_mode 0, spatial): its epsilon, or
// nullopt.
std::optional<double> BatchNormFor(const KernelInfo& node);
// X (N, C, D1, ..., Dk) as cuDNN's 4-D (N, C, D1 * ... * Dk, 1).
absl::StatusOr<std::array<int, 4>> BatchNormDims(const Shape& x);

// The view of `in` that `dims` (SliceDims of ops/slice.h) cuts out.
absl::StatusOr<StridedView> SliceView(const Shape& in, const std::vector<SliceDim>& dims);
// The view of `in` that Transpose with `perm` (empty: reversed dims) reads.
absl::StatusOr<StridedView> TransposeView(const Shape& in, const std::vector<int64_t>& perm);

// A reduction over `axes` (empty: all) of a contiguous `in`: the output's shape (keepdims or
// not) and LaunchReduce's views. InvalidArgument for a bad or repeated axis.
struct ReducePlan {
  Shape out_shape;
  StridedView out, reduced;
};
absl::StatusOr<ReducePlan> ReduceFor(const Shape& in, const std::vector<int64_t>& axes,
                                     bool keepdims);

// ONNX MatMul (1-D operands promoted, batch dims broadcast) as one strided batched GEMM of
// row-major m x k by k x n matrices: A's batches `stride_a` elements apart, B's `stride_b`
// (0: one matrix for every batch); B shared by all batches folds them into m. Unimplemented
// when the batch dims broadcast other than whole (one side's batch is not all ones and differs
// from the other's); InvalidArgument for mismatched operands.
struct BatchedGemm {
  int batch = 1, m = 1, n = 1, k = 1;
  int64_t stride_a = 0, stride_b = 0;
  Shape out;
};
absl::StatusOr<BatchedGemm> MatMulFor(const Shape& a, const Shape& b);
// Whether MatMulFor can take operands of these shapes (dims may be -1, unknown), as far as the
// plan knows them: true for unknown shapes, when either side's batch dims are none or all ones,
// or when they are equal (an unknown one equal to an unknown one).
bool MatMulMayFit(const std::optional<Shape>& a, const std::optional<Shape>& b);

// Whether Gemm's C, as far as the plan knows its shape, broadcasts as GemmKernel does it: a
// scalar, a row [N] or [1, N], or the whole output; false for a column [M, 1] (M not 1).
bool GemmBiasFits(const std::optional<Shape>& c);

// Gather along `axis` as LaunchGather's (outer, axis_dim, inner, count) and the output's shape.
struct GatherDims {
  int64_t outer = 1, axis_dim = 1, inner = 1, count = 0;
  Shape out;
};
absl::StatusOr<GatherDims> GatherFor(const Shape& data, const Shape& indices, int64_t axis);
// Int32 or int64 `indices` as int64 in [0, dim) (negative ones count from the end);
// InvalidArgument naming the first out of range.
absl::StatusOr<std::vector<int64_t>> GatherIndices(const Tensor& indices, int64_t dim);

// Cast between float32 and float16: the target dtype, or nullopt for any other pair.
std::optional<DType> CastFor(const KernelInfo& node);

}  // namespace cuda
}  // namespace cortado

#endif  // CORTADO_BACKENDS_CUDA_KERNEL_PARAMS_H_
