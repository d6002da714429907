// Predictor: a loaded model ready to serve, Caffe2-style. Created once from a model file, bytes
// or a Graph (importing, checking and planning it); then Run() may be called from any number of
// threads at once: the Plan and its parameters are shared and immutable, and every run gets its
// own Workspace.
#ifndef CORTADO_PREDICTOR_PREDICTOR_H_
#define CORTADO_PREDICTOR_PREDICTOR_H_

#include <map>
#include <memory>
#include <string>

#include "predictor/executor.h"
#include "predictor/memory_plan.h"
#include "predictor/plan.h"

namespace cortado {

using TensorMap = std::map<std::string, Tensor>;
// Values by name, for models whose inputs or outputs are sequences or optionals.
using ValueMap = std::map<std::string, Value>;

struct PredictorOptions {
  PlanOptions plan;
  // "simple" (steps one after another) or "dag" (independent steps side by side); executor.h.
  std::string executor = "simple";
  // Threads one run may use inside its operators; 0 keeps the process's IntraOpThreads().
  int intra_op_threads = 0;
  // Runs place their values in one arena, laid out once per input shape signature
  // (memory_plan.h); off, every value is allocated on its own.
  bool memory_plan = true;
};

class Predictor {
 public:
  // `path` is any model LoadGraph (model_io.h) reads: ONNX or a Caffe2 NetDef.
  static absl::StatusOr<std::unique_ptr<Predictor>> FromFile(const std::string& path,
                                                             const PredictorOptions& options = {});
  // A Caffe2 NetDef pair, binary or text.
  static absl::StatusOr<std::unique_ptr<Predictor>> FromNetDefFiles(
      const std::string& init_net, const std::string& predict_net,
      const PredictorOptions& options = {});
  // ONNX model bytes (external data, if any, resolves against `base_dir`).
  static absl::StatusOr<std::unique_ptr<Predictor>> FromOnnxBytes(
      const std::string& bytes, const std::string& base_dir = "",
      const PredictorOptions& options = {});
  static absl::StatusOr<std::unique_ptr<Predictor>> FromGraph(Graph graph,
                                                              const PredictorOptions& options = {});
  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;

  const std::vector<ValueInfo>& inputs() const { return plan_->inputs(); }
  const std::vector<ValueInfo>& outputs() const { return plan_->outputs(); }
  const Plan& plan() const { return *plan_; }
  // The model's own intra-op thread count (PredictorOptions::intra_op_threads); 0 when its runs
  // use the process's IntraOpThreads().
  int intra_op_threads() const { return intra_op_threads_; }

  // Checks every input against the model (names, dtypes, ranks and fixed dimensions) and
  // returns every model output by name. An omitted input with a default (Graph::input_defaults)
  // takes it.
  absl::StatusOr<TensorMap> Run(const TensorMap& inputs) const;
  // The same with values of any kind: a sequence input takes a sequence, an optional input a
  // tensor, a sequence or Value::None(). Run is this for models of tensors alone.
  absl::StatusOr<ValueMap> RunValues(const ValueMap& inputs) const;

 private:
  Predictor(std::unique_ptr<Plan> plan, std::unique_ptr<Executor> executor, ValueMap input_defaults,
            const PredictorOptions& options);
  // Checks the inputs against the model; returns them in the plan's input order.
  absl::StatusOr<std::vector<const Value*>> CheckInputs(const ValueMap& inputs) const;
  std::unique_ptr<Plan> plan_;
  std::unique_ptr<Executor> executor_;
  ValueMap input_defaults_;
  int intra_op_threads_;
  std::unique_ptr<MemoryPlanner> memory_;  // null when the memory plan is off
};

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_PREDICTOR_H_
