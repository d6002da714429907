// FoldShapes: shape arithmetic on dimensions that type inference already knows becomes constant.
// Shape(X) with X's shape fully known, and Gather(Shape(X), indices) on axis 0 with constant
// indices that pick known dimensions, become initializers (a model exported with a dynamic batch
// still knows every other dimension). FoldConstants then folds what was computed from them.
#include <algorithm>
#include <optional>

#include "predictor/passes/passes.h"

namespace cortado {
namespace {

// X's dimensions as Shape(X) reports them at `opset` (start and end attributes from 15 on).
std::optional<std::vector<int64_t>> ShapeOutput(const Node& shape, const Shape& dims, int opset) {
  const int64_t rank = static_cast<int64_t>(dims.size());
  int64_t start = 0, end = rank;
  if (opset >= 15) {
    start = shape.attrs.GetInt("start", 0);
    end = shape.attrs.GetInt("end", rank);
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, start, rank);
  }
  std::vector<int64_t> out(dims.begin() + start, dims.begin() + end);
  return out;
}

bool AllKnown(const std::vector<int64_t>& dims) {
  for (int64_t d : dims) {
    if (d < 0) return false;
  }
  return true;
}

}  // namespace

absl::Status FoldShapes(Graph& graph) {
  std::map<std::string, std::vector<int64_t>> shapes;  // Shape outputs -> X's dims (-1 unknown)
  std::vector<Node> kept;
  for (Node& node : graph.nodes) {
    if (node.domain.empty() && node.op_type == "Shape" && node.outputs.size() == 1) {
      const TensorType x = ValueType(graph, node.inputs[0]);
      if (x.shape) {
        std::vector<int64_t> dims = *ShapeOutput(node, *x.shape, graph.OpsetFor(""));
        if (AllKnown(dims)) {
          graph.initializers[node.outputs[0]] =
              Tensor::FromVector<int64_t>(dims, {static_cast<int64_t>(dims.size())});
          continue;
        }
        shapes[node.outputs[0]] = dims;
      }
    } else if (node.domain.empty() && node.op_type == "Gather" && node.outputs.size() == 1 &&
               node.attrs.GetInt("axis", 0) == 0 && shapes.count(node.inputs[0])) {
      const std::vector<int64_t>& dims = shapes[node.inputs[0]];
      const Tensor* indices = ConstantOf(graph, node.inputs[1]);
      if (indices != nullptr && indices->rank() <= 1 &&
          (indices->dtype() == DType::kInt64 || indices->dtype() == DType::kInt32)) {
        std::vector<int64_t> picked;
        for (int64_t i = 0; i < indices->num_elements(); ++i) {
          int64_t k = static_cast<int64_t>(indices->ElementAsDouble(i));
          if (k < 0) k += static_cast<int64_t>(dims.size());
          if (k < 0 || k >= static_cast<int64_t>(dims.size()) || dims[k] < 0) break;
          picked.push_back(dims[k]);
        }
        if (static_cast<int64_t>(picked.size()) == indices->num_elements()) {
          graph.initializers[node.outputs[0]] =
              Tensor::FromVector<int64_t>(picked, indices->shape());
          continue;
        }
      }
    }
    kept.push_back(std::move(node));
  }
  graph.nodes = std::move(kept);
  return absl::OkStatus();
}

}  // namespace cortado
