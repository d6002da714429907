#include "predictor/plan.h"

#include <algorithm>
#include <set>

#include "predictor/control_flow.h"

namespace cortado {
namespace {

// An inserted copy step: its one input between the host and `backend`'s device, enqueued on the
// run's queue there. A copy to the host waits for that queue, since host steps read it next.
class CopyKernel final : public Kernel {
 public:
  CopyKernel(const Backend* backend, bool to_host) : backend_(backend), to_host_(to_host) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* src, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(Tensor * dst, ctx.AllocateOutput(0, src->dtype(), src->shape()));
    if (!to_host_) return backend_->CopyFromHost(*src, *dst, ctx.stream());
    RETURN_IF_ERROR(backend_->CopyToHost(*src, *dst, ctx.stream()));
    return backend_->Sync(ctx.stream());
  }

 private:
  const Backend* backend_;
  const bool to_host_;
};

}  // namespace

int Plan::NewSlot(Device device) {
  constants_.emplace_back();
  devices_.push_back(device);
  return static_cast<int>(constants_.size()) - 1;
}

int Plan::StreamOf(const Backend* backend) {
  if (backend->device() == Device{}) return -1;
  auto it = std::find(stream_backends_.begin(), stream_backends_.end(), backend);
  if (it != stream_backends_.end()) return static_cast<int>(it - stream_backends_.begin());
  stream_backends_.push_back(backend);
  return static_cast<int>(stream_backends_.size()) - 1;
}

bool Plan::StaysOnHost(const std::vector<int>& in_slots, Device device) const {
  bool host_made = false;
  for (int slot : in_slots) {
    if (slot < 0) continue;
    if (constants_[slot].defined()) {
      if (constants_[slot].rank() >= 2) return false;  // weights: worth the device
      continue;
    }
    if (devices_[slot] != Device{} || copies_.count({slot, device.ToString()}) > 0 ||
        std::find(input_slots_.begin(), input_slots_.end(), slot) != input_slots_.end()) {
      return false;
    }
    host_made = true;
  }
  return host_made;
}

absl::StatusOr<int> Plan::OnDevice(int slot, Device device, const std::string& name,
                                   const std::vector<const Backend*>& backends) {
  if (slot < 0 || devices_[slot] == device) return slot;
  const std::pair<int, std::string> key(slot, device.ToString());
  if (auto it = copies_.find(key); it != copies_.end()) return it->second;
  const Device host;
  if (devices_[slot] != host && device != host) {  // from one device to another: by the host
    ASSIGN_OR_RETURN(const int on_host, OnDevice(slot, host, name, backends));
    return OnDevice(on_host, device, name, backends);
  }
  const bool to_host = device == host;
  const Device other = to_host ? devices_[slot] : device;
  const Backend* backend = nullptr;
  for (const Backend* b : backends) {
    if (backend == nullptr && b->device() == other) backend = b;
  }
  if (backend == nullptr) {
    return absl::InternalError(absl::StrCat("no backend for device ", other.ToString()));
  }
  const int copy = NewSlot(device);
  copies_[key] = copy;
  copies_[{copy, devices_[slot].ToString()}] = slot;  // and back
  if (constants_[slot].defined()) {                   // a weight: uploaded once, now
    const Tensor& weight = constants_[slot];
    ASSIGN_OR_RETURN(constants_[copy],
                     Tensor::Create(weight.dtype(), weight.shape(), backend->allocator()));
    RETURN_IF_ERROR(backend->CopyFromHost(weight, constants_[copy], nullptr));
    return copy;
  }
  PlanStep step;
  step.node_name = absl::StrCat("copy of '", name, "' to ", device.ToString());
  step.op_type = to_host ? "CopyToHost" : "CopyFromHost";
  step.backend = to_host ? BackendRegistry::Global().Find(kCpuBackend) : backend;
  step.stream = StreamOf(backend);
  step.kernel = std::make_unique<CopyKernel>(backend, to_host);
  step.inputs = {slot};
  step.outputs = {copy};
  steps_.push_back(std::move(step));
  return copy;
}

void Plan::ReleaseConstantsReadLast(const PlanStep& step, const std::vector<std::string>& names,
                                    const std::vector<bool>& read_last,
                                    std::vector<bool>& read_as_is) {
  if (read_as_is.size() < constants_.size()) read_as_is.resize(constants_.size(), false);
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    if (step.inputs[i] >= 0 && !step.kernel->OwnsConstantInput(static_cast<int>(i))) {
      read_as_is[step.inputs[i]] = true;
    }
  }
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    if (step.inputs[i] < 0 || !read_last[i]) continue;
    const int slot = slots_.at(names[i]);
    std::vector<int> held = {slot};  // the value where it is made, and its copies elsewhere
    for (const auto& [from, copy] : copies_) {
      if (from.first == slot) held.push_back(copy);
    }
    for (int s : held) {
      if (!read_as_is[s]) constants_[s] = Tensor();
    }
  }
}

std::vector<Plan::Lifetime> Plan::Lifetimes(const std::vector<int>& step_time) const {
  std::vector<Lifetime> live(constants_.size());
  for (size_t i = 0; i < steps_.size(); ++i) {
    const int t = step_time[i];
    for (int slot : steps_[i].inputs) {
      if (slot >= 0) live[slot].end = std::max(live[slot].end, t);
    }
    for (int slot : steps_[i].outputs) {
      if (slot < 0) continue;
      live[slot].begin = t;
      live[slot].end = std::max(live[slot].end, t);
    }
  }
  return live;
}

void Plan::PlanLifetimes() {
  // A step's level is one past the highest level that made one of its inputs.
  std::vector<int> producer_level(constants_.size(), -1);
  std::vector<int> index(steps_.size()), level_of(steps_.size(), 0);
  levels_.clear();
  for (size_t i = 0; i < steps_.size(); ++i) {
    int level = 0;
    for (int slot : steps_[i].inputs) {
      if (slot >= 0) level = std::max(level, producer_level[slot] + 1);
    }
    for (int slot : steps_[i].outputs) {
      if (slot >= 0) producer_level[slot] = level;
    }
    index[i] = static_cast<int>(i);
    level_of[i] = level;
    if (level >= static_cast<int>(levels_.size())) levels_.resize(level + 1);
    levels_[level].push_back(static_cast<int>(i));
  }
  // Per-run values go once their last reader has run: by step, and by level.
  const std::set<int> keep(output_slots_.begin(), output_slots_.end());
  const std::vector<Lifetime> by_step = Lifetimes(index), by_level = Lifetimes(level_of);
  level_releases_.assign(levels_.size(), {});
  for (size_t slot = 0; slot < constants_.size(); ++slot) {
    if (by_step[slot].end < 0 || keep.count(static_cast<int>(slot)) || constants_[slot].defined()) {
      continue;
    }
    steps_[by_step[slot].end].release_after.push_back(static_cast<int>(slot));
    level_releases_[by_level[slot].end].push_back(static_cast<int>(slot));
  }
}

int Plan::SlotOf(const std::string& name) const {
  auto it = slots_.find(name);
  return it == slots_.end() ? -1 : it->second;
}

absl::StatusOr<std::unique_ptr<Plan>> Plan::Build(Graph graph, const PlanOptions& options) {
  RETURN_IF_ERROR(graph.CheckAndSort());
  std::unique_ptr<Plan> plan(new Plan());

  const std::vector<const Backend*> backends = AllowedBackends(options.backends);
  const Backend* host = BackendRegistry::Global().Find(kCpuBackend);
  if (host == nullptr) return absl::InternalError("the reference CPU backend is not linked in");
  ASSIGN_OR_RETURN(plan->pass_reports_, Optimize(graph, {options.graph_level, backends}));
  plan->inputs_ = graph.inputs;
  plan->outputs_ = graph.outputs;

  // Reserve every slot up front: kernels may keep pointers to constants while the plan grows.
  // A value may have two copies (on the host, on another device) besides its own slot.
  size_t max_slots = graph.inputs.size() + graph.initializers.size() + graph.outputs.size();
  for (const Node& node : graph.nodes) max_slots += node.inputs.size() + node.outputs.size();
  plan->constants_.reserve(3 * max_slots);
  auto slot_for = [&](const std::string& name) {
    auto [it, inserted] = plan->slots_.emplace(name, static_cast<int>(plan->constants_.size()));
    if (inserted) plan->NewSlot(Device{});
    return it->second;
  };
  for (const ValueInfo& v : graph.inputs) plan->input_slots_.push_back(slot_for(v.name));
  // Moved, not shared, and only those a node or the model's outputs read: each goes when the last
  // node reading it no longer needs it (ReleaseConstantsReadLast).
  std::map<std::string, size_t> last_reader;  // value -> index of the last node reading it
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    for (const std::string& in : graph.nodes[n].inputs) last_reader[in] = n;
  }
  std::set<std::string> output_names;
  for (const ValueInfo& v : graph.outputs) output_names.insert(v.name);
  for (auto& [name, t] : graph.initializers) {
    if (last_reader.count(name) > 0 || output_names.count(name) > 0) {
      plan->constants_[slot_for(name)] = std::move(t);
    }
  }
  std::vector<bool> read_as_is(plan->constants_.capacity(), false);  // model outputs are read so
  for (const std::string& name : output_names) read_as_is[slot_for(name)] = true;

  for (Node& node : graph.nodes) {
    const int opset = graph.OpsetFor(node.domain);
    std::vector<const Tensor*> constants;
    std::vector<DType> dtypes;
    std::vector<std::optional<Shape>> shapes;
    std::vector<int> in_slots;
    for (const std::string& in : node.inputs) {
      const int slot = in.empty() ? -1 : slot_for(in);
      in_slots.push_back(slot);
      const Tensor* c =
          slot >= 0 && plan->constants_[slot].defined() ? &plan->constants_[slot] : nullptr;
      constants.push_back(c);
      const TensorType type = c != nullptr ? TensorType{c->dtype(), c->shape()}
                              : in.empty() ? TensorType{}
                                           : ValueType(graph, in);
      dtypes.push_back(type.dtype);
      shapes.push_back(type.shape);
    }
    const int num_outputs = static_cast<int>(node.outputs.size());
    KernelInfo info{node.op_type, node.domain, opset,       node.name, &node.attrs,
                    dtypes,       constants,   num_outputs, shapes,    options.backends};
    std::vector<int> out_slots;
    for (const std::string& out : node.outputs)
      out_slots.push_back(out.empty() ? -1 : slot_for(out));

    PlanStep step;
    step.node_name = node.name;
    step.op_type = node.op_type;
    if (!Subgraphs(node).empty()) {  // control flow: its subgraphs are nested plans
      auto kernel = MakeControlFlowKernel(node, info, graph.opsets, options);
      if (!kernel.ok()) return NodeError(node, opset, kernel.status());
      step.kernel = *std::move(kernel);
      step.backend = host;
    } else {
      // A device backend is passed over for a node the host should keep (StaysOnHost).
      std::vector<const Backend*> candidates;
      for (const Backend* b : backends) {
        if (b->device() != Device{} && plan->StaysOnHost(in_slots, b->device()) &&
            host->Supports(info)) {
          continue;
        }
        candidates.push_back(b);
      }
      auto placed = CreateKernelOnFirst(candidates, info);
      if (!placed.ok()) return NodeError(node, opset, placed.status());
      step.kernel = std::move(placed->kernel);
      step.backend = placed->backend;
    }
    absl::Status prepared = step.kernel->Prepare();
    if (!prepared.ok()) return NodeError(node, opset, prepared);
    for (size_t i = 0; i < in_slots.size(); ++i) {
      const Device want =
          step.kernel->InputOnHost(static_cast<int>(i)) ? Device{} : step.backend->device();
      ASSIGN_OR_RETURN(in_slots[i], plan->OnDevice(in_slots[i], want, node.inputs[i], backends));
    }
    for (int slot : out_slots) {
      if (slot >= 0) plan->devices_[slot] = step.backend->device();
    }
    step.stream = plan->StreamOf(step.backend);
    step.inputs = std::move(in_slots);
    step.outputs = std::move(out_slots);
    const size_t index = static_cast<size_t>(&node - graph.nodes.data());
    std::vector<bool> read_last;
    for (const std::string& in : node.inputs) read_last.push_back(last_reader[in] == index);
    plan->ReleaseConstantsReadLast(step, node.inputs, read_last, read_as_is);
    plan->steps_.push_back(std::move(step));
  }

  for (const ValueInfo& v : graph.outputs) {
    ASSIGN_OR_RETURN(const int slot, plan->OnDevice(slot_for(v.name), Device{}, v.name, backends));
    plan->output_slots_.push_back(slot);
  }
  plan->PlanLifetimes();
  return plan;
}

}  // namespace cortado
