// Call: the one way an eager operation runs an operator. It runs the op through RunOnHost (the
// shared operator library, on the fastest CPU kernel) and, when a Tracer is active on this thread,
// reports the op so that trace() can record it into a Graph. Call does no autograd; the functions
// in ops.h attach gradient nodes to its outputs. Thread-safe; the tracer is per-thread.
#ifndef CORTADO_FRONTEND_DISPATCH_H_
#define CORTADO_FRONTEND_DISPATCH_H_

#include <string>
#include <vector>

#include "frontend/tensor.h"
#include "ops/run_op.h"

namespace cortado {
namespace frontend {

// The ai.onnx opset the eager frontend runs its operators at and its traces are exported at: its
// attribute conventions (Reduce* axes as attributes, ...) are this opset's.
inline constexpr int kOpset = 17;

// Runs `run` on the optimized CPU kernel of backends/cpu where there is one, else on the
// reference kernel (run.backend is ignored); throws cortado::Error on failure. Every eager
// forward op and gradient formula runs through it.
std::vector<cortado::Tensor> RunOnHost(OpRun run);

// Runs ai.onnx operator `op_type` (opset kOpset) on `inputs` (an undefined Tensor is an absent
// optional input); throws cortado::Error on failure. The outputs do not require grad.
std::vector<Tensor> Call(const std::string& op_type, const std::vector<Tensor>& inputs,
                         AttributeMap attrs = {}, int num_outputs = 1);
// The same, for a single output.
Tensor Call1(const std::string& op_type, const std::vector<Tensor>& inputs,
             AttributeMap attrs = {});

// Receives every op Call runs on this thread while installed (see TracerScope).
class Tracer {
 public:
  virtual ~Tracer() = default;
  virtual void Record(const std::string& op_type, const AttributeMap& attrs,
                      const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs) = 0;
};

Tracer* CurrentTracer();
// Installs `tracer` on this thread while alive.
class TracerScope {
 public:
  explicit TracerScope(Tracer* tracer);
  ~TracerScope();
  TracerScope(const TracerScope&) = delete;
  TracerScope& operator=(const TracerScope&) = delete;

 private:
  Tracer* previous_;
};

}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_DISPATCH_H_
