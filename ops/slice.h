// Slice's per-dimension arithmetic (ONNX's clamping of starts and ends, negative steps), shared by
// the reference kernel (ops/slice.cc) and the CUDA one (backends/cuda/tensor_kernels.cc), so
// that both cut exactly the same elements. Stateless: thread-safe.
#ifndef CORTADO_OPS_SLICE_H_
#define CORTADO_OPS_SLICE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tensor.h"

namespace cortado {

struct SliceDim {
  int64_t start = 0, step = 1, count = 0;
};

// Per-dimension slice of `in` (dims may be -1 for inference: count is -1 there). Axes and steps
// default to every leading dimension and 1; InvalidArgument for unequal lengths, a zero step or
// a bad axis.
absl::StatusOr<std::vector<SliceDim>> SliceDims(const Shape& in, const std::vector<int64_t>& starts,
                                                const std::vector<int64_t>& ends,
                                                const std::optional<std::vector<int64_t>>& axes,
                                                const std::optional<std::vector<int64_t>>& steps);

}  // namespace cortado

#endif  // CORTADO_OPS_SLICE_H_
