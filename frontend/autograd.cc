#include "frontend/autograd.h"

#include <unordered_map>

#include "frontend/dispatch.h"
#include "frontend/tensor_impl.h"

namespace cortado {
namespace frontend {
namespace {

cortado::Tensor ZerosLike(const TensorType& type) {
  return ValueOrThrow(cortado::Tensor::Zeros(type.dtype, *type.shape));
}

// grad += g, keeping the first gradient's storage untouched (it may be shared).
void Accumulate(cortado::Tensor& grad, const cortado::Tensor& g) {
  grad = grad.defined() ? GradCall1("Add", {grad, g}) : g;
}

void CheckGradShape(const cortado::Tensor& g, const Shape& expected, const std::string& node) {
  if (g.shape() != expected) {
    throw Error(absl::InternalError(absl::StrCat(node, " returned a gradient of shape ",
                                                 ShapeToString(g.shape()), " for an input of shape ",
                                                 ShapeToString(expected))));
  }
}

}  // namespace

std::vector<cortado::Tensor> Node::Apply(const std::vector<cortado::Tensor>& grad_outputs) {
  if (!fn_) {
    throw Error(absl::FailedPreconditionError(absl::StrCat(
        "backward through ", name_,
        " a second time: the graph was freed (pass retain_graph=true the first time)")));
  }
  return fn_(grad_outputs);
}

bool NeedsGrad(const std::vector<Tensor>& inputs) {
  if (!GradEnabled()) return false;
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

void AttachGrad(const std::string& name, const std::vector<Tensor>& inputs,
                std::vector<Tensor>& outputs, BackwardFn fn) {
  if (!NeedsGrad(inputs)) return;
  std::vector<Edge> next(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    const auto& impl = AutogradAccess::impl(inputs[i]);
    if (impl->grad_fn) {
      next[i].node = impl->grad_fn;
      next[i].output_nr = impl->output_nr;
    } else {
      next[i].leaf = impl;
    }
  }
  std::vector<TensorType> types;
  for (const Tensor& t : outputs) {
    types.push_back(t.defined() ? TensorType{t.dtype(), t.shape()} : TensorType{});
  }
  auto node = std::make_shared<Node>(name, std::move(fn), std::move(next), std::move(types));
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].defined() || !IsFloatingPoint(outputs[i].dtype())) continue;
    const auto& impl = AutogradAccess::impl(outputs[i]);
    impl->requires_grad = true;
    impl->grad_fn = node;
    impl->output_nr = static_cast<int>(i);
  }
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  const auto& root = AutogradAccess::impl(*this);
  if (!requires_grad()) {
    throw Error(absl::FailedPreconditionError(
        "backward() on a tensor that does not require grad"));
  }
  cortado::Tensor seed;
  if (gradient.defined()) {
    if (gradient.shape() != shape() || gradient.dtype() != dtype()) {
      throw Error(absl::InvalidArgumentError(absl::StrCat(
          "backward(): gradient ", ShapeToString(gradient.shape()), " does not match the tensor's ",
          ShapeToString(shape()))));
    }
    seed = gradient.value();
  } else {
    if (numel() != 1) {
      throw Error(absl::InvalidArgumentError(absl::StrCat(
          "backward() without a gradient needs a one-element tensor, got shape ",
          ShapeToString(shape()))));
    }
    seed = Tensor::ones(shape(), dtype()).value();
  }
  if (!root->grad_fn) {
    Accumulate(root->grad, seed);
    return;
  }
  // Count, for every node reachable from the root, the edges that lead into it.
  std::unordered_map<Node*, int> pending;
  std::vector<Node*> stack = {root->grad_fn.get()};
  pending[root->grad_fn.get()] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next()) {
      if (!e.node) continue;
      auto [it, inserted] = pending.emplace(e.node.get(), 0);
      ++it->second;
      if (inserted) stack.push_back(e.node.get());
    }
  }
  std::unordered_map<Node*, std::vector<cortado::Tensor>> buffers;
  buffers[root->grad_fn.get()].resize(root->grad_fn->outputs().size());
  buffers[root->grad_fn.get()][root->output_nr] = seed;
  std::vector<std::shared_ptr<Node>> ready = {root->grad_fn};
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    std::vector<cortado::Tensor> grads = std::move(buffers[node.get()]);
    buffers.erase(node.get());
    grads.resize(node->outputs().size());
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!grads[i].defined() && node->outputs()[i].shape) grads[i] = ZerosLike(node->outputs()[i]);
    }
    std::vector<cortado::Tensor> input_grads = node->Apply(grads);
    if (!retain_graph) node->Release();
    for (size_t i = 0; i < node->next().size() && i < input_grads.size(); ++i) {
      const Edge& e = node->next()[i];
      const cortado::Tensor& g = input_grads[i];
      if (e.leaf) {
        if (!g.defined()) continue;
        CheckGradShape(g, e.leaf->value.shape(), node->name());
        Accumulate(e.leaf->grad, g);
      } else if (e.node) {
        if (g.defined()) {
          CheckGradShape(g, *e.node->outputs()[e.output_nr].shape, node->name());
          auto& buffer = buffers[e.node.get()];
          buffer.resize(e.node->outputs().size());
          Accumulate(buffer[e.output_nr], g);
        }
        if (--pending[e.node.get()] == 0) ready.push_back(e.node);
      }
    }
  }
}

std::vector<cortado::Tensor> GradCall(const std::string& op_type,
                                      std::vector<cortado::Tensor> inputs, AttributeMap attrs,
                                      int num_outputs, const std::string& domain) {
  // Gradient operators of kTrainingDomain cover every opset; the ai.onnx ones run at kOpset.
  OpRun run{op_type, kOpset, std::move(attrs), std::move(inputs), num_outputs};
  run.domain = domain;
  return RunOnHost(std::move(run));
}

cortado::Tensor GradCall1(const std::string& op_type, std::vector<cortado::Tensor> inputs,
                          AttributeMap attrs, const std::string& domain) {
  return GradCall(op_type, std::move(inputs), std::move(attrs), 1, domain)[0];
}

cortado::Tensor SumToShape(const cortado::Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const int lead = grad.rank() - static_cast<int>(shape.size());
  std::vector<int64_t> axes;
  for (int i = 0; i < grad.rank(); ++i) {
    if (i < lead || (shape[i - lead] == 1 && grad.dim(i) != 1)) axes.push_back(i);
  }
  cortado::Tensor g = grad;
  if (!axes.empty()) {
    AttributeMap attrs;
    attrs.Set("keepdims", int64_t{1});
    g = GradCall1("ReduceSum",
                  {grad, cortado::Tensor::FromVector<int64_t>(axes, {int64_t(axes.size())})},
                  std::move(attrs));
  }
  return ValueOrThrow(g.Reshaped(shape));
}

}  // namespace frontend
}  // namespace cortado
