// trace: records the operators an eager forward pass actually executes into the predictor's Graph
// (the hybrid frontend's path from training to serving), and exports a module in one call.
//
// trace() runs the forward once on example inputs, in eval mode and under NoGradGuard, with a
// Tracer installed (frontend/dispatch.h). Every Call becomes a Node (opset 17, ai.onnx), in
// execution order; values are identified by their TensorImpl. The Graph holds:
//   - inputs: options.input_names (default "input", "input_1", ...), typed from the examples,
//     with dimension 0 unknown (-1) when options.dynamic_batch (the default);
//   - outputs: options.output_names (default "output", "output_1", ...); an output that no
//     recorded node produced (an input, a parameter, a repeated output) goes through Identity;
//   - initializers: the parameters and buffers the recorded nodes read, under their dotted module
//     names ("conv1.weight"), and every other tensor a node read that no recorded node produced
//     (constants made inside ops: Reshape shapes, axes, scalars) as "const_N". Initializers are
//     deep copies: training the module further does not change a traced Graph;
//   - only the nodes that the outputs depend on (dead nodes are dropped, and so are trailing
//     optional outputs that nothing reads, such as MaxPool's Indices).
// The module's BatchNorm and Dropout therefore appear in their inference form. The frontend's
// reshape writes 0 for a leading dimension equal to its input's, so the batch stays dynamic; a
// forward whose control flow or constants depend on the example's batch size traces that size in.
//
// Export writes the traced Graph with the predictor's SaveGraph (predictor/model_io.h): a path
// ending in .onnx gives ONNX (opset 17), anything else a Caffe2 NetDef folder (init_net.pb +
// predict_net.pb). To load it back, use LoadGraph or Predictor::FromFile.
//
// Errors: any failure (a forward that throws, an op the Graph cannot hold, a Graph that fails
// CheckAndSort, a write error) is returned as a Status; nothing here throws. The module's
// train/eval mode is restored afterwards, also on failure.
//
// Thread safety: the tracer is per-thread; a module must not be used by another thread while it
// is traced (its mode is switched to eval for the duration).
#ifndef CORTADO_FRONTEND_TRACE_H_
#define CORTADO_FRONTEND_TRACE_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "frontend/nn/module.h"
#include "frontend/tensor.h"
#include "predictor/graph.h"

namespace cortado {
namespace frontend {

struct TraceOptions {
  // Names of the graph inputs, one per example input; missing ones default to "input",
  // "input_1", "input_2", ...
  std::vector<std::string> input_names;
  // Names of the graph outputs; missing ones default to "output", "output_1", ...
  std::vector<std::string> output_names;
  // Leaves dimension 0 of every input unknown (-1). The types recorded for intermediate values and
  // outputs then keep only dtype and rank (the predictor infers the rest); without it they hold
  // the traced shapes.
  bool dynamic_batch = true;
  // Graph::name.
  std::string graph_name = "cortado_traced";
};

// The function traced by the generic overload: inputs in, outputs out.
using TraceFunction = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// Traces `fn` on `example_inputs`. `named_tensors` names the parameters and buffers `fn` may read
// (the first name of a tensor listed twice wins); every other tensor that `fn` reads and no
// recorded op produced becomes a "const_N" initializer. Runs `fn` under NoGradGuard; switching
// modules to eval mode is the caller's business.
absl::StatusOr<Graph> trace(const TraceFunction& fn, const std::vector<Tensor>& example_inputs,
                            const std::vector<std::pair<std::string, Tensor>>& named_tensors,
                            const TraceOptions& options = {});

// Traces `module.forward(example_inputs[0])` (a single-input module: exactly one example) in eval
// mode, naming its parameters and buffers by named_parameters() and named_buffers().
absl::StatusOr<Graph> trace(nn::Module& module, const std::vector<Tensor>& example_inputs,
                            const TraceOptions& options = {});

// trace(module, example_inputs, options), then SaveGraph(graph, path).
absl::Status Export(nn::Module& module, const std::vector<Tensor>& example_inputs,
                    const std::string& path, const TraceOptions& options = {});

}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_TRACE_H_
