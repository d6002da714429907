// Helpers of the reduce family that others reuse: the numerically stable log-softmax, which
// SoftmaxCrossEntropyLoss (ops/loss.cc) applies along the class axis, and the opset where a
// reduction's axes become an input (backends/cuda).
// Pure functions on host tensors; thread-safe.
#ifndef CORTADO_OPS_REDUCE_H_
#define CORTADO_OPS_REDUCE_H_

#include "core/status.h"
#include "core/tensor.h"

namespace cortado {

// The first opset where Reduce<op_type> takes `axes` as input 1 instead of an attribute.
int AxesInputSince(absl::string_view op_type);

// Writes log(softmax(x)) along `axis` (already normalized to [0, rank)) into `out`, which the
// caller has allocated with x's dtype and shape. x must be float32, float64, float16 or bfloat16;
// InvalidArgument otherwise or when `out` does not match.
absl::Status LogSoftmaxAlongAxis(const Tensor& x, int axis, Tensor& out);

}  // namespace cortado

#endif  // CORTADO_OPS_REDUCE_H_
