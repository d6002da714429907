// Graph: the intermediate representation shared by the importers (ONNX, NetDef), the exporters,
// the passes and the frontend's tracer. Nodes are in topological order once a Graph is handed
// to the Plan (CheckAndSort makes it so). A plain value; not synchronized.
#ifndef CORTADO_PREDICTOR_GRAPH_H_
#define CORTADO_PREDICTOR_GRAPH_H_

#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ops/attributes.h"
#include "ops/registry.h"

namespace cortado {

// What a value is statically: a tensor, a sequence of tensors, or an optional (of either; at
// run time one holds its element or nothing). type.dtype is the element dtype for all three.
enum class ValueKind { kTensor, kSequence, kOptional };

struct ValueInfo {
  std::string name;
  TensorType type;
  ValueKind kind = ValueKind::kTensor;
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;               // "" for the default ONNX domain
  std::vector<std::string> inputs;  // "" marks an absent optional input
  std::vector<std::string> outputs;
  AttributeMap attrs;
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::vector<ValueInfo> inputs;   // values fed per request (parameters excluded)
  std::vector<ValueInfo> outputs;  // values returned
  std::map<std::string, Tensor> initializers;  // parameters, loaded once and shared
  // Values of inputs a request may omit (a NetDef input that init_net fills).
  std::map<std::string, Tensor> input_defaults;
  std::map<std::string, TensorType> value_types;  // known types of intermediate values
  std::map<std::string, int> opsets;  // domain -> opset version ("" is ai.onnx)

  int OpsetFor(const std::string& domain) const;
  // Checks that every value is defined once before use and orders the nodes topologically;
  // InvalidArgument names the offending node or value.
  absl::Status CheckAndSort();
};

// Subgraphs (If's branches, Loop's and Scan's bodies) read values of the scopes around them by
// name. Importers append those outer values to the node's inputs (AddOuterInputs), so that the
// passes, the plan's lifetimes and device copies, and the memory plan see them as ordinary
// inputs; the control-flow kernels bind them to the subgraph by position.

// The subgraphs of the node's graph attributes, in attribute name order.
std::vector<const Graph*> Subgraphs(const Node& node);
// The values `graph` reads from around it: read by its nodes or listed as its outputs, and
// neither its inputs, its initializers nor made by its nodes. Sorted by name.
std::vector<std::string> OuterValues(const Graph& graph);
// The union of OuterValues over the node's subgraphs, sorted by name.
std::vector<std::string> OuterValues(const Node& node);
// Appends OuterValues(node) to node.inputs. Call once per node, after its subgraphs are complete
// (their own nodes' outer values appended), so that values read two scopes out pass through.
void AddOuterInputs(Node& node);

// "ai.onnx" for the default domain, else the domain itself (for messages).
std::string DomainName(const std::string& domain);

// `s` with the node's name, op type, domain and opset in front, the code kept.
absl::Status NodeError(const Node& node, int opset, const absl::Status& s);

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_GRAPH_H_
