// RunOp: runs one operator eagerly through the registry: completes its attributes from the
// schema, runs type/shape inference, creates the kernel on the backend and computes it. Used by
// the eager frontend (every frontend op and gradient formula is a RunOp) and by the op tests.
// Stateless; thread-safe.
#ifndef CORTADO_OPS_RUN_OP_H_
#define CORTADO_OPS_RUN_OP_H_

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
  std::string domain;  // "" is ai.onnx; kTrainingDomain holds the gradient operators
};

// The op's outputs (an output the kernel leaves unset is an undefined Tensor). Checks the
// inferred types against the computed outputs, so a schema that disagrees with its kernel fails.
absl::StatusOr<std::vector<Tensor>> RunOp(const OpRun& run);

}  // namespace cortado

#endif  // CORTADO_OPS_RUN_OP_H_
