// EliminateDeadNodes: walks back from the graph's outputs and drops every node none of whose
// outputs is read, then every initializer nothing reads.
#include <set>

#include "predictor/passes/passes.h"

namespace cortado {

absl::Status EliminateDeadNodes(Graph& graph) {
  std::set<std::string> live;
  for (const ValueInfo& v : graph.outputs) live.insert(v.name);
  std::vector<bool> keep(graph.nodes.size(), false);
  for (size_t i = graph.nodes.size(); i-- > 0;) {
    const Node& node = graph.nodes[i];
    for (const std::string& out : node.outputs) keep[i] = keep[i] || live.count(out) > 0;
    if (keep[i]) live.insert(node.inputs.begin(), node.inputs.end());
  }
  std::vector<Node> nodes;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (keep[i]) nodes.push_back(std::move(graph.nodes[i]));
  }
  graph.nodes = std::move(nodes);
  for (auto it = graph.initializers.begin(); it != graph.initializers.end();) {
    it = live.count(it->first) ? std::next(it) : graph.initializers.erase(it);
  }
  return absl::OkStatus();
}

}  // namespace cortado
