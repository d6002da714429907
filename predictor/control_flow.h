// Control-flow kernels: If, Loop (every opset), Scan (opset 8's batched form and 9 on) and
// SequenceMap. Built by Plan::Build for a node with subgraphs: each subgraph is planned once,
// here, as a nested Plan with the outer plan's options. A run binds the subgraph's inputs and
// its outer-scope values (the node's trailing inputs, graph.h) by position, runs the nested plan
// with the simple executor in a Workspace of its own, and reads its outputs; nothing is planned
// per run. Immutable like every kernel, so one serves concurrent runs.
#ifndef CORTADO_PREDICTOR_CONTROL_FLOW_H_
#define CORTADO_PREDICTOR_CONTROL_FLOW_H_

#include <memory>

#include "predictor/plan.h"

namespace cortado {

// The kernel of `node`, whose graph attributes hold its subgraphs; `info` describes its inputs
// (outer-scope values included). The subgraphs import the enclosing graph's `opsets` (ONNX
// declares them once per model). Errors name the subgraph that failed to plan.
absl::StatusOr<std::unique_ptr<Kernel>> MakeControlFlowKernel(
    const Node& node, const KernelInfo& info, const std::map<std::string, int>& opsets,
    const PlanOptions& options);

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_CONTROL_FLOW_H_
