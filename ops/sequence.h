// Helpers over sequences of tensors that the sequence operators (sequence.cc) and the
// control-flow kernels (predictor/control_flow.cc) share. Stateless; thread-safe.
#ifndef CORTADO_OPS_SEQUENCE_H_
#define CORTADO_OPS_SEQUENCE_H_

#include <vector>

#include "core/tensor.h"

namespace cortado {

// The tensors joined along `axis` (Concat), or, with `new_axis`, stacked along a new axis at
// that place (every tensor must then have the same shape). At least one tensor.
absl::StatusOr<Tensor> ConcatTensors(const std::vector<Tensor>& tensors, int64_t axis,
                                     bool new_axis);

// The slices of `x` along `axis`, each without that axis (x[..., i, ...] for i in order).
absl::StatusOr<std::vector<Tensor>> Unstack(const Tensor& x, int64_t axis);

}  // namespace cortado

#endif  // CORTADO_OPS_SEQUENCE_H_
