// Test helpers for operator tables: compare tensors with a tolerance, random inputs, and RunOp
// (run_op.h) at a given intra-op thread count. For tests only; thread-safe.
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

// Standard normal values, float32 or float64; the same for the same seed.
Tensor RandomNormal(const Shape& shape, uint32_t seed, DType dtype = DType::kFloat32);

// RunOp with `threads` intra-op threads (core/thread_pool.h), set back to 1 afterwards.
absl::StatusOr<std::vector<Tensor>> RunOpWithThreads(const OpRun& run, int threads);

// Empty when `run` gives with 2, 3 and 8 intra-op threads what it gives with 1 (within rtol, and
// atol = 10 * rtol; 0 is bit for bit), else the first difference or error.
std::string ThreadCountDifference(const OpRun& run, double rtol = 0);

}  // namespace cortado

#endif  // CORTADO_OPS_OP_TEST_UTIL_H_
