// The graph optimizer: named passes that rewrite a Graph before the Plan compiles it. Each pass
// is one function in its own file (a pass may assume the graph is topologically sorted and
// leaves it so); Optimize runs them in order for a level. Called on a loader thread with a Graph
// the caller owns; no shared state.
//
//   InferTypes           completes attributes with schema defaults and records every value's
//                        inferred type in graph.value_types
//   FoldShapes           Shape(X), and Gather of its entries, where inference knows the
//                        dimensions asked for, become constants
//   FoldConstants        runs nodes whose inputs are all constant (Constant too) at load time
//                        and keeps their outputs as initializers
//   FoldChannelShuffle   Reshape-Transpose-Reshape channel shuffles (ShuffleNet) -> a Gather of
//                        channels with constant indices; a Slice of its channels -> a Gather
//   FuseBatchNorm        folds an inference BatchNormalization into the Conv before it
//   FuseActivations      Conv [+ residual Add] [+ activation] -> ai.cortado FusedConv;
//                        MatMul/Gemm with constant weights [+ Add] [+ activation] -> FusedMatMul
//   AssignLayout         moves the nodes that a non-reference backend runs channels-last into
//                        ai.cortado.nhwc, with Transposes only where the layout changes
//   EliminateDeadNodes   drops nodes whose outputs nobody reads, and unread initializers
#ifndef CORTADO_PREDICTOR_PASSES_PASSES_H_
#define CORTADO_PREDICTOR_PASSES_PASSES_H_

#include <map>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "predictor/graph.h"

namespace cortado {

absl::Status InferTypes(Graph& graph);
absl::Status FoldShapes(Graph& graph);
absl::Status FoldConstants(Graph& graph);
absl::Status FoldChannelShuffle(Graph& graph);
absl::Status FuseBatchNorm(Graph& graph);
absl::Status FuseActivations(Graph& graph);
// `backends`: the backends the plan may place nodes on (the reference one is never asked).
absl::Status AssignLayout(Graph& graph, const std::vector<const Backend*>& backends);
absl::Status EliminateDeadNodes(Graph& graph);

// Graph optimization levels, as config.pbtxt's `optimization { graph { level } }`:
// -1 none, 0 constant folding only, 1 (the default) every pass.
struct OptimizeOptions {
  int level = 1;
  std::vector<const Backend*> backends;
};

// One line per pass run: its name, the node count after it and the milliseconds it took.
struct PassReport {
  std::string name;
  int nodes = 0;
  double ms = 0;
};

absl::StatusOr<std::vector<PassReport>> Optimize(Graph& graph, const OptimizeOptions& options);

// Helpers the passes share.
// How many node inputs read each value, graph outputs counted as readers too.
std::map<std::string, int> CountReaders(const Graph& graph);
// Index of the node producing each value.
std::map<std::string, int> Producers(const Graph& graph);
// The constant behind a value (an initializer), or nullptr.
const Tensor* ConstantOf(const Graph& graph, const std::string& value);
// What is known of a value's type: an input's declared type, an initializer's, or the one
// InferTypes recorded; TensorType{} when nothing is.
TensorType ValueType(const Graph& graph, const std::string& value);

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_PASSES_PASSES_H_
