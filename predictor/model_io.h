// Loading and saving models by file name, in any format cortado reads or writes:
//   x.onnx                          ONNX
//   DIR/ holding model.onnx         ONNX
//   DIR/ holding init_net.pb + predict_net.pb, or predict_net.pb(txt) with init_net beside it:
//                                   Caffe2 NetDef
// Saving picks ONNX for a name ending in .onnx and a NetDef folder otherwise. Pure functions;
// thread-safe.
#ifndef CORTADO_PREDICTOR_MODEL_IO_H_
#define CORTADO_PREDICTOR_MODEL_IO_H_

#include <string>

#include "predictor/graph.h"

namespace cortado {

absl::StatusOr<Graph> LoadGraph(const std::string& path);
// A NetDef pair given file by file.
absl::StatusOr<Graph> LoadNetDefGraph(const std::string& init_net, const std::string& predict_net);
// Completes value types (ONNX needs them on inputs and outputs) by planning the graph, then
// writes it. Caffe2 records no input types: an input of unknown dtype is taken as float32, and
// ONNX needs each input's shape, which the caller sets on graph.inputs (as Caffe2's own ONNX
// converter asks for value_info).
absl::Status SaveGraph(Graph graph, const std::string& path);

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_MODEL_IO_H_
