// Joining the inputs of a batch along the batch dimension (dimension 0) and splitting its
// outputs back per request, for the dynamic batcher. Plain functions on host tensors of any
// dtype (strings included); the results own copies of the data. Thread-safe.
#ifndef CORTADO_SERVER_SCHEDULER_BATCH_TENSORS_H_
#define CORTADO_SERVER_SCHEDULER_BATCH_TENSORS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tensor.h"

namespace cortado {

// The parts stacked along dimension 0. InvalidArgument when there are none, or when they differ
// in dtype, rank or any dimension but the first.
absl::StatusOr<Tensor> ConcatRows(const std::vector<const Tensor*>& parts);

// `whole` cut along dimension 0 into consecutive pieces of rows[i] rows. InvalidArgument when
// `whole` is a scalar or its first dimension is not the sum of `rows`.
absl::StatusOr<std::vector<Tensor>> SplitRows(const Tensor& whole,
                                              const std::vector<int64_t>& rows);

}  // namespace cortado

#endif  // CORTADO_SERVER_SCHEDULER_BATCH_TENSORS_H_
