// nn::Module: the base of the eager frontend's layers and models, in the spirit of PyTorch's
// torch::nn::Module. A module owns named parameters (leaf tensors that require grad), named
// buffers (state that is not trained, e.g. BatchNorm's running statistics) and named submodules,
// each in registration order. Names are dotted paths from the module they are asked of:
// "conv1.weight", "0.bias", "3.1.running_mean".
//
// Identity: a registered tensor is a handle (frontend::Tensor shares its value and autograd
// state), and the module never replaces it: optimizers hold the handles from parameters() and
// update them in place through mutable_data(), load()/load_state_dict() copy into the existing
// storage, and BatchNorm2d updates its running statistics in place. Layers expose their tensors as
// public members (`linear->weight`); update them in place, never assign a new tensor to them.
//
// State files (save/load) use the container format of frontend/nn/serialize.h: every parameter and
// buffer of state_dict(), by dotted name, each stored as a complete .npy image. load() checks the
// names (missing and unexpected keys), shapes and dtypes of every entry before it writes anything,
// so a failed load leaves the module unchanged.
//
// Modules are non-copyable and are held by std::shared_ptr. Errors in construction or forward
// (bad options, bad input shapes, duplicate registration names) throw cortado::Error; the state
// file entry points return absl::Status. Not synchronized: use a module from one thread at a time.
#ifndef CORTADO_FRONTEND_NN_MODULE_H_
#define CORTADO_FRONTEND_NN_MODULE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "frontend/tensor.h"

namespace cortado {
namespace frontend {
namespace nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // One input, one output.
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  // "Linear", "Conv2d", ... for printing.
  virtual std::string name() const = 0;
  // The options shown between the parentheses by str(), e.g. "in_features=4, out_features=2".
  virtual std::string extra_repr() const { return ""; }
  // PyTorch-style multi-line description of the module tree.
  std::string str() const;

  // Parameters by dotted name, this module's own first, then each child's (recursively) in
  // registration order. A tensor registered under several names (weight tying) is listed once,
  // under its first name.
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  // Buffers, in the same order.
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  // Direct submodules in registration order.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // This module (name "") and every descendant, depth first, in registration order.
  std::vector<std::pair<std::string, Module*>> named_modules();
  // Number of parameter elements (each tensor counted once).
  int64_t num_parameters() const;

  // Training mode, for this module and every descendant (Dropout and BatchNorm2d depend on it).
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Clears (undefines) the grad of every parameter.
  void zero_grad();

  // Every parameter and buffer by dotted name, in PyTorch's state_dict order (each module's
  // parameters, then its buffers, then its children's entries). Handles, not copies.
  NamedTensors state_dict() const;
  // Copies `state` into the existing parameters and buffers. Every key of state_dict() must be
  // present with the same shape and dtype and no other key may be (the error lists every
  // problem); on error nothing is written.
  absl::Status load_state_dict(const std::vector<std::pair<std::string, cortado::Tensor>>& state);

  // Writes state_dict() to `path` (frontend/nn/serialize.h's format; written to a temporary file
  // beside it and renamed into place).
  absl::Status save(const std::string& path) const;
  // Reads a state file written by save() (or by anything writing that format) into this module,
  // as load_state_dict.
  absl::Status load(const std::string& path);

 protected:
  // Registers `t` as parameter `name` and returns the stored handle (stable for the module's
  // life). A leaf that already requires grad is registered as is (so one tensor can be shared by
  // several modules); anything else is detached and made a leaf that requires grad.
  Tensor& register_parameter(std::string name, Tensor t);
  // Registers `t` as buffer `name` (stored as is).
  Tensor& register_buffer(std::string name, Tensor t);
  // Registers `m` as submodule `name` and returns it.
  template <typename M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> m) {
    AddChild(std::move(name), m);
    return m;
  }

 private:
  void CheckNewName(const std::string& name) const;
  void AddChild(std::string name, std::shared_ptr<Module> m);
  void CollectParameters(const std::string& prefix, bool recurse, NamedTensors& out,
                         std::vector<const TensorImpl*>& seen) const;
  void CollectBuffers(const std::string& prefix, bool recurse, NamedTensors& out) const;
  void CollectState(const std::string& prefix, NamedTensors& out) const;
  void CollectModules(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out);
  void Print(std::string& out, int indent) const;

  // Deques: push_back keeps references to earlier elements valid.
  std::deque<std::pair<std::string, Tensor>> parameters_;
  std::deque<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

std::ostream& operator<<(std::ostream& os, const Module& module);

}  // namespace nn
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_NN_MODULE_H_
