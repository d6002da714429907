// Plan: a Graph compiled for execution. Built once per loaded model version (on a loader thread):
// runs the graph optimizer (predictor/passes: schema checks, type inference, constant folding,
// fusion, layout), places each node on the highest-priority backend that supports it, builds
// the kernels (weights pre-packed there) and numbers every value with a slot. Every slot lives on
// one device: where a step runs on another device than its input lives, the plan reads a copy
// of that input there, made by a copy step it inserts before the first reader (or, for a
// constant, uploaded once here); model outputs are copied back to the host. Inputs a kernel
// reads on the host (Kernel::InputOnHost) stay there. Immutable after Build, so one Plan serves
// any number of concurrent runs.
#ifndef CORTADO_PREDICTOR_PLAN_H_
#define CORTADO_PREDICTOR_PLAN_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "predictor/graph.h"
#include "predictor/passes/passes.h"

namespace cortado {

struct PlanOptions {
  // Backend names allowed, in addition to the reference "cpu"; empty allows every registered one.
  // Only "cpu" limits the plan to the reference kernels. A node goes to the highest-priority
  // allowed backend that takes it, whatever the order of the names; so does a call a kernel
  // hands to another backend's kernel (KernelInfo::backends).
  std::vector<std::string> backends;
  // The graph optimizer's level (passes.h): -1 none, 0 constant folding, 1 every pass.
  int graph_level = 1;
};

struct PlanStep {
  std::string node_name;
  std::string op_type;               // a node's, or CopyFromHost / CopyToHost for an inserted copy
  const Backend* backend = nullptr;  // its outputs live on this backend's device
  int stream = -1;  // the run's queue the kernel enqueues on (Plan::stream_backends), or -1
  std::unique_ptr<Kernel> kernel;
  std::vector<int> inputs;         // slot per node input; -1 for an absent optional input
  std::vector<int> outputs;        // slot per node output; -1 for an unused optional output
  std::vector<int> release_after;  // slots no longer needed once this step has run
};

class Plan {
 public:
  static absl::StatusOr<std::unique_ptr<Plan>> Build(Graph graph, const PlanOptions& options = {});
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  const std::vector<ValueInfo>& inputs() const { return inputs_; }
  const std::vector<ValueInfo>& outputs() const { return outputs_; }
  const std::vector<PlanStep>& steps() const { return steps_; }
  int num_slots() const { return static_cast<int>(constants_.size()); }
  // Parameters and folded constants by slot (undefined for per-run values). Shared by all runs.
  const std::vector<Tensor>& constants() const { return constants_; }
  const std::vector<int>& input_slots() const { return input_slots_; }
  const std::vector<int>& output_slots() const { return output_slots_; }
  // Where the value in `slot` lives.
  Device device(int slot) const { return devices_[slot]; }
  // The device backends whose queues a run opens (PlanStep::stream indexes them).
  const std::vector<const Backend*>& stream_backends() const { return stream_backends_; }
  // Slot of a named value, or -1.
  int SlotOf(const std::string& name) const;
  // The steps by wavefront: level 0 reads only inputs and constants, level k also values of
  // levels below k; a level's steps are independent of one another (DagExecutor).
  const std::vector<std::vector<int>>& levels() const { return levels_; }
  // Per level, the per-run values that no later level reads (released after that level).
  const std::vector<std::vector<int>>& level_releases() const { return level_releases_; }
  // What each optimizer pass did (node count after it, time).
  const std::vector<PassReport>& pass_reports() const { return pass_reports_; }
  // When each slot's value is live, given the time each step runs (`step_time[i]` for step i:
  // Executor::StepTimes): from its producer's time to the last time a step reads or makes it.
  // begin is -1 for a value no step makes (an input, a constant); both are -1 for a slot no step
  // touches. The plan's releases and the memory plan's arena both follow it.
  struct Lifetime {
    int begin = -1, end = -1;
  };
  std::vector<Lifetime> Lifetimes(const std::vector<int>& step_time) const;

 private:
  Plan() = default;
  // Build's one release of constants, once `step` is placed and its inputs are on their devices.
  // `step` reads `names`; `read_last[i]`: no later node reads names[i]. Marks in `read_as_is` the
  // slots `step` reads as they are (not as a kernel keeping its own copy of the constant,
  // Kernel::OwnsConstantInput), then drops each constant `step` is the last to read, where it is
  // made and its copies on other devices, unless some step or a model output read it as it is.
  void ReleaseConstantsReadLast(const PlanStep& step, const std::vector<std::string>& names,
                                const std::vector<bool>& read_last, std::vector<bool>& read_as_is);
  // Fills release_after (plan order), levels_ and level_releases_.
  void PlanLifetimes();
  // A new slot on `device` (unnamed: a copy, or a value's place on another device).
  int NewSlot(Device device);
  // The index of `backend`'s queue in stream_backends_ (-1 for a host backend).
  int StreamOf(const Backend* backend);
  // True when a node whose inputs are `in_slots` should not start work on `device` although its
  // backend there supports it: it has no weights (no constant input of two or more dimensions)
  // and its per-run inputs are all on the host, made there by steps the device could not run
  // (not model inputs, none copied to the device already). Following them on the host saves
  // copying its result up and the next host step's input back down (no ping-pong).
  bool StaysOnHost(const std::vector<int>& in_slots, Device device) const;
  // The slot holding `slot`'s value on `device`: itself, a copy made earlier, a constant
  // uploaded now, or the output of copy steps appended to steps_ now. `name` is the value's,
  // `backends` the allowed ones (the device's backend is the first of them on it).
  absl::StatusOr<int> OnDevice(int slot, Device device, const std::string& name,
                               const std::vector<const Backend*>& backends);
  std::vector<ValueInfo> inputs_, outputs_;
  std::vector<PlanStep> steps_;
  std::vector<Tensor> constants_;
  std::vector<int> input_slots_, output_slots_;
  std::vector<Device> devices_;  // per slot
  std::vector<const Backend*> stream_backends_;
  std::map<std::string, int> slots_;                   // a named value's slot where it is made
  std::map<std::pair<int, std::string>, int> copies_;  // (slot, device) -> its copy there
  std::vector<PassReport> pass_reports_;
  std::vector<std::vector<int>> levels_, level_releases_;
};

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_PLAN_H_
