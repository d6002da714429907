// Reverse-mode autograd: the nodes that eager operations attach to their outputs, and the engine
// that backward() runs. A Node holds the backward function of one operation, with the values it
// saved (core Tensors, so saved outputs make no reference cycles), and edges to the nodes (or
// leaves) that produced its inputs. Backward functions compute on core Tensors through RunOp.
// Not synchronized: one backward pass at a time per graph.
#ifndef CORTADO_FRONTEND_AUTOGRAD_H_
#define CORTADO_FRONTEND_AUTOGRAD_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "frontend/tensor.h"
#include "ops/registry.h"

namespace cortado {
namespace frontend {

// Gradients of the outputs in, gradients of the inputs out (an undefined Tensor where an input
// gets no gradient). An output that received no gradient is passed as zeros.
using BackwardFn =
    std::function<std::vector<cortado::Tensor>(const std::vector<cortado::Tensor>& grad_outputs)>;

struct Edge {
  std::shared_ptr<Node> node;        // the op that produced the input, or
  std::shared_ptr<TensorImpl> leaf;  // the leaf that requires grad (at most one is set)
  int output_nr = 0;                 // which output of `node`
};

class Node {
 public:
  Node(std::string name, BackwardFn fn, std::vector<Edge> next, std::vector<TensorType> outputs)
      : name_(std::move(name)), fn_(std::move(fn)), next_(std::move(next)),
        outputs_(std::move(outputs)) {}
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return name_; }  // e.g. "ConvBackward"
  const std::vector<Edge>& next() const { return next_; }
  const std::vector<TensorType>& outputs() const { return outputs_; }
  // Runs the backward function; throws if the graph was freed.
  std::vector<cortado::Tensor> Apply(const std::vector<cortado::Tensor>& grad_outputs);
  void Release() { fn_ = nullptr; }

 private:
  std::string name_;
  BackwardFn fn_;
  std::vector<Edge> next_;
  std::vector<TensorType> outputs_;  // dtype and shape of each forward output
};

// When grad mode is on and some input requires grad, makes `outputs` non-leaf tensors that
// require grad, with a new Node running `fn`. `inputs` are the differentiable inputs, in the
// order `fn` returns their gradients.
void AttachGrad(const std::string& name, const std::vector<Tensor>& inputs,
                std::vector<Tensor>& outputs, BackwardFn fn);
// True when AttachGrad would attach (grad mode on and an input requires grad): lets ops skip
// saving values for backward.
bool NeedsGrad(const std::vector<Tensor>& inputs);

// Runs RunOp on core tensors for backward formulas; throws cortado::Error on failure.
std::vector<cortado::Tensor> GradCall(const std::string& op_type,
                                      std::vector<cortado::Tensor> inputs,
                                      AttributeMap attrs = {}, int num_outputs = 1,
                                      const std::string& domain = "");
cortado::Tensor GradCall1(const std::string& op_type, std::vector<cortado::Tensor> inputs,
                          AttributeMap attrs = {}, const std::string& domain = "");
// Sums `grad` down to `shape` (the adjoint of numpy broadcasting).
cortado::Tensor SumToShape(const cortado::Tensor& grad, const Shape& shape);

}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_AUTOGRAD_H_
