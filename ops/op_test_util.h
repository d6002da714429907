// Test helpers for operator tables: compare tensors with a tolerance (RunOp, from run_op.h, runs
// one op). For tests only; thread-safe.
#ifndef CORTADO_OPS_OP_TEST_UTIL_H_
#define CORTADO_OPS_OP_TEST_UTIL_H_

#include <string>
#include <vector>

#include "core/tensor.h"
#include "ops/run_op.h"

namespace cortado {

// Empty when `actual` matches `expected` (same dtype and shape; |a-e| <= atol + rtol*|e| for
// floats, NaN matching NaN; exact otherwise), else a description of the first mismatch.
std::string CompareTensors(const Tensor& actual, const Tensor& expected, double rtol = 1e-5,
                           double atol = 1e-6);

}  // namespace cortado

#endif  // CORTADO_OPS_OP_TEST_UTIL_H_
