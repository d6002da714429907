// Axis-wise helpers of the reduce family that other op families reuse: today the numerically
// stable log-softmax, which SoftmaxCrossEntropyLoss (ops/loss.cc) applies along the class axis.
// Pure functions on host tensors; thread-safe.
#ifndef CORTADO_OPS_REDUCE_H_
#define CORTADO_OPS_REDUCE_H_

#include "core/status.h"
#include "core/tensor.h"

namespace cortado {

// Writes log(softmax(x)) along `axis` (already normalized to [0, rank)) into `out`, which the
// caller has allocated with x's dtype and shape. x must be float32, float64, float16 or bfloat16;
// InvalidArgument otherwise or when `out` does not match.
absl::Status LogSoftmaxAlongAxis(const Tensor& x, int axis, Tensor& out);

}  // namespace cortado

#endif  // CORTADO_OPS_REDUCE_H_
