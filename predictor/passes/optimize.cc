// Optimize: the passes of a level, in order, each timed.
#include <chrono>
#include <functional>

#include "predictor/passes/passes.h"

namespace cortado {

namespace {

// FoldChannelShuffle in rounds: once a shuffle is a Gather, inference knows its shape, so the
// bounds of the Slices after it fold (and the next round turns them into Gathers), and with them
// the shape arithmetic of the next block's shuffle. Rounds go on while one removes nodes (at
// most one per block of a ShuffleNet).
absl::Status FoldChannelShuffles(Graph& graph) {
  for (;;) {
    const size_t before = graph.nodes.size();
    RETURN_IF_ERROR(FoldChannelShuffle(graph));
    RETURN_IF_ERROR(InferTypes(graph));
    RETURN_IF_ERROR(FoldShapes(graph));
    RETURN_IF_ERROR(FoldConstants(graph));
    if (graph.nodes.size() == before) return absl::OkStatus();
  }
}

}  // namespace

absl::StatusOr<std::vector<PassReport>> Optimize(Graph& graph, const OptimizeOptions& options) {
  using Step = std::pair<const char*, std::function<absl::Status(Graph&)>>;
  std::vector<Step> steps = {{"InferTypes", InferTypes}};
  if (options.level >= 0) {
    steps.push_back({"FoldConstants", FoldConstants});
    steps.push_back({"FoldShapes", FoldShapes});
    steps.push_back({"FoldConstants", FoldConstants});
  }
  if (options.level >= 1) {
    steps.push_back({"FoldChannelShuffle", FoldChannelShuffles});
    steps.push_back({"EliminateDeadNodes", EliminateDeadNodes});
    steps.push_back({"FuseBatchNorm", FuseBatchNorm});
    steps.push_back({"FuseActivations", FuseActivations});
    steps.push_back({"AssignLayout", [&](Graph& g) { return AssignLayout(g, options.backends); }});
    steps.push_back({"EliminateDeadNodes", EliminateDeadNodes});
    steps.push_back({"InferTypes", InferTypes});
  }
  std::vector<PassReport> reports;
  for (const auto& [name, pass] : steps) {
    const auto start = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(pass(graph));
    reports.push_back(
        {name, static_cast<int>(graph.nodes.size()),
         std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
             .count()});
  }
  return reports;
}

}  // namespace cortado
