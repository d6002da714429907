// ONNX export: writes a Graph (imported from ONNX or NetDef, or traced by the frontend) as an
// ONNX ModelProto that passes onnx's checker. Pure functions; thread-safe.
#ifndef CORTADO_PREDICTOR_ONNX_ONNX_EXPORTER_H_
#define CORTADO_PREDICTOR_ONNX_ONNX_EXPORTER_H_

#include <string>

#include "predictor/graph.h"

namespace onnx {
class TensorProto;
}

namespace cortado {

// Serialized ModelProto (IR version 8). The graph's opset imports are kept.
absl::StatusOr<std::string> ExportOnnx(const Graph& graph);
absl::Status ExportOnnxFile(const Graph& graph, const std::string& path);
absl::Status TensorToOnnx(const Tensor& tensor, const std::string& name, onnx::TensorProto* proto);

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_ONNX_ONNX_EXPORTER_H_
