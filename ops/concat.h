// Concat's operand checks, shared by the reference kernel (ops/concat.cc) and the optimized one
// (backends/cpu/concat.cc), so that both accept and reject exactly the same inputs. Stateless:
// thread-safe.
#ifndef CORTADO_OPS_CONCAT_H_
#define CORTADO_OPS_CONCAT_H_

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "ops/kernel.h"

namespace cortado {

struct ConcatOperands {
  std::vector<const Tensor*> inputs;  // every input, in order
  int axis = 0;                       // in [0, rank)
  Shape out;                          // the output's shape
};

// Checks Concat's inputs for the `axis` attribute: all present, of one dtype and rank, equal off
// the axis; InvalidArgument naming the first that is not.
absl::StatusOr<ConcatOperands> CheckConcat(const KernelContext& ctx, int64_t axis);

}  // namespace cortado

#endif  // CORTADO_OPS_CONCAT_H_
