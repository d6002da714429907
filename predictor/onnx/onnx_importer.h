// ONNX import on Debian's libonnx: parses a ModelProto of IR version 14 or older, runs onnx's
// checker and shape inference where libonnx knows the model's IR version and opsets (newer
// models are checked by cortado's own schemas when the Graph is planned) after a trial run of
// them in a forked child (a model that crashes libonnx is refused), and builds a Graph
// (initializers, external data, attributes, value types; subgraphs with their outer-scope values
// appended to the node's inputs, graph.h). Also the
// TensorProto <-> Tensor conversions that the CLI and the conformance runner use.
// Pure functions; thread-safe (the trial run forks the calling process).
#ifndef CORTADO_PREDICTOR_ONNX_ONNX_IMPORTER_H_
#define CORTADO_PREDICTOR_ONNX_ONNX_IMPORTER_H_

#include <string>

#include "predictor/graph.h"

namespace onnx {
class TensorProto;
}

namespace cortado {

// `base_dir` resolves external data files ("" when the model has none).
absl::StatusOr<Graph> ImportOnnx(const std::string& bytes, const std::string& base_dir);
absl::StatusOr<Graph> ImportOnnxFile(const std::string& path);

absl::StatusOr<Tensor> TensorFromOnnx(const onnx::TensorProto& proto,
                                      const std::string& base_dir = "");
// A serialized TensorProto (the test-data .pb files).
absl::StatusOr<Tensor> ParseOnnxTensor(const std::string& bytes);
// A serialized TensorProto, SequenceProto or OptionalProto, as `kind` says.
absl::StatusOr<Value> ParseOnnxValue(const std::string& bytes, ValueKind kind);
absl::StatusOr<DType> DTypeFromOnnx(int onnx_type);
int OnnxTypeOf(DType dtype);

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_ONNX_ONNX_IMPORTER_H_
