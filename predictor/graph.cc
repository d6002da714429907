#include "predictor/graph.h"

#include <set>

namespace cortado {

int Graph::OpsetFor(const std::string& domain) const {
  auto it = opsets.find(domain == "ai.onnx" ? "" : domain);
  return it == opsets.end() ? 0 : it->second;
}

std::string DomainName(const std::string& domain) { return domain.empty() ? "ai.onnx" : domain; }

absl::Status NodeError(const Node& node, int opset, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat("node '", node.name, "' (", node.op_type, ", domain ",
                                             DomainName(node.domain), ", opset ", opset,
                                             "): ", s.message()));
}

std::vector<const Graph*> Subgraphs(const Node& node) {
  std::vector<const Graph*> graphs;
  for (const auto& [name, value] : node.attrs.values()) {
    if (const auto* sub = std::get_if<SubgraphAttr>(&value)) {
      graphs.push_back(static_cast<const Graph*>(sub->graph.get()));
    }
  }
  return graphs;
}

std::vector<std::string> OuterValues(const Graph& graph) {
  std::set<std::string> own, outer;
  for (const ValueInfo& v : graph.inputs) own.insert(v.name);
  for (const auto& [name, t] : graph.initializers) own.insert(name);
  for (const Node& node : graph.nodes) own.insert(node.outputs.begin(), node.outputs.end());
  auto read = [&](const std::string& name) {
    if (!name.empty() && !own.count(name)) outer.insert(name);
  };
  for (const Node& node : graph.nodes) {
    for (const std::string& in : node.inputs) read(in);
  }
  for (const ValueInfo& v : graph.outputs) read(v.name);
  return {outer.begin(), outer.end()};
}

std::vector<std::string> OuterValues(const Node& node) {
  std::set<std::string> outer;
  for (const Graph* sub : Subgraphs(node)) {
    for (std::string& name : OuterValues(*sub)) outer.insert(std::move(name));
  }
  return {outer.begin(), outer.end()};
}

void AddOuterInputs(Node& node) {
  for (std::string& name : OuterValues(node)) node.inputs.push_back(std::move(name));
}

absl::Status Graph::CheckAndSort() {
  std::map<std::string, int> producer;  // value -> node index
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const std::string& out : nodes[i].outputs) {
      if (out.empty()) continue;
      if (!producer.emplace(out, static_cast<int>(i)).second || initializers.count(out)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "value '", out, "' is produced twice (node '", nodes[i].name, "', ", nodes[i].op_type, ")"));
      }
    }
  }
  std::set<std::string> available;
  for (const auto& v : inputs) available.insert(v.name);
  for (const auto& [name, t] : initializers) available.insert(name);
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  std::vector<bool> done(nodes.size(), false);
  // Kahn's algorithm, keeping the original order among ready nodes.
  bool progress = true;
  while (sorted.size() < nodes.size() && progress) {
    progress = false;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (done[i]) continue;
      bool ready = true;
      for (const std::string& in : nodes[i].inputs) {
        if (!in.empty() && !available.count(in)) {
          if (!producer.count(in)) {
            return absl::InvalidArgumentError(absl::StrCat("node '", nodes[i].name, "' (",
                                                           nodes[i].op_type, ") reads value '", in,
                                                           "' that nothing produces"));
          }
          ready = false;
          break;
        }
      }
      if (!ready) continue;
      done[i] = true;
      progress = true;
      for (const std::string& out : nodes[i].outputs) available.insert(out);
      sorted.push_back(std::move(nodes[i]));
    }
  }
  if (sorted.size() < nodes.size()) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!done[i]) {
        return absl::InvalidArgumentError(
            absl::StrCat("graph has a cycle through node '", nodes[i].name, "' (", nodes[i].op_type, ")"));
      }
    }
  }
  nodes = std::move(sorted);
  for (const auto& v : outputs) {
    if (!available.count(v.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("graph output '", v.name, "' is never produced"));
    }
  }
  return absl::OkStatus();
}

}  // namespace cortado
