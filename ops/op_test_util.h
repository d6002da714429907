// Test helpers for operator tables: run one op through the registry on a backend and compare
// tensors with a tolerance. For tests only; thread-safe.
#ifndef CORTADO_OPS_OP_TEST_UTIL_H_
#define CORTADO_OPS_OP_TEST_UTIL_H_

#include <string>
#include <vector>

#include "core/tensor.h"
#include "ops/registry.h"

namespace cortado {

struct OpRun {
  std::string op_type;
  int opset = kMaxOpset;
  AttributeMap attrs;
  std::vector<Tensor> inputs;  // an undefined Tensor is an absent optional input
  int num_outputs = 1;
  std::string backend = kCpuBackend;
};

// Completes the attributes from the schema, runs type/shape inference, creates the kernel on
// the backend and runs it. Checks the inferred types against the computed outputs.
absl::StatusOr<std::vector<Tensor>> RunOp(const OpRun& run);

// Empty when `actual` matches `expected` (same dtype and shape; |a-e| <= atol + rtol*|e| for
// floats, NaN matching NaN; exact otherwise), else a description of the first mismatch.
std::string CompareTensors(const Tensor& actual, const Tensor& expected, double rtol = 1e-5,
                           double atol = 1e-6);

}  // namespace cortado

#endif  // CORTADO_OPS_OP_TEST_UTIL_H_
