// Kernel: the compiled form of one graph node on one backend. Built once from a KernelInfo
// (attributes completed with schema defaults, weights known at load time) and then immutable:
// Compute() is const and keeps all per-request state in the KernelContext, so one kernel serves
// concurrent requests without locks.
#ifndef CORTADO_OPS_KERNEL_H_
#define CORTADO_OPS_KERNEL_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "core/tensor.h"
#include "ops/attributes.h"
#include "ops/value.h"

namespace cortado {

// What a kernel is created from. Pointers are valid only during creation.
struct KernelInfo {
  std::string op_type;
  std::string domain;  // "" is the default ONNX domain
  int opset = 0;       // the model's opset for `domain`
  std::string node_name;
  const AttributeMap* attrs = nullptr;
  // One per node input: its dtype when known (kUndefined otherwise) and, for inputs fed by
  // parameters or constants, the value (nullptr otherwise). Absent optional inputs are
  // (kUndefined, nullptr).
  std::vector<DType> input_dtypes;
  std::vector<const Tensor*> constant_inputs;
  int num_outputs = 0;
  // What the plan knows of each input's shape (-1 for an unknown dimension), when it knows it:
  // a hint for pre-packing, never a promise (Compute still checks what it gets).
  std::vector<std::optional<Shape>> input_shapes;
  // The backends the plan may place kernels on (PlanOptions::backends; empty: every one), so
  // that a kernel which hands some calls to another backend's kernel picks an allowed one.
  absl::Span<const std::string> backends;
};

// A queue of one run's work on one device (a CUDA stream, an OpenCL command queue), made by the
// backend (backends/backend.h) at the start of a run; kernels on host backends get none.
class Stream {
 public:
  virtual ~Stream() = default;
};

class KernelContext {
 public:
  // `inputs[i]` is nullptr for an absent optional input.
  KernelContext(std::vector<const Tensor*> inputs, int num_outputs,
                Allocator* allocator = CpuAllocator())
      : inputs_(std::move(inputs)), outputs_(num_outputs), allocator_(allocator) {}

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  // nullptr when the input is absent (beyond the count, or an empty name in the graph).
  const Tensor* input(int i) const {
    return i < num_inputs() ? inputs_[i] : nullptr;
  }
  // The input, or InvalidArgument when it is absent.
  absl::StatusOr<const Tensor*> RequiredInput(int i) const;

  // Allocates output `i`: in the memory the run's memory plan gave it (PlanOutput) when the
  // tensor fits there, else on this context's allocator.
  absl::StatusOr<Tensor*> AllocateOutput(int i, DType dtype, Shape shape);
  // The memory plan's place for output `i`: `bytes` at `data`, inside `arena`. Strings never go
  // there.
  void PlanOutput(int i, void* data, size_t bytes, std::shared_ptr<void> arena);
  // Bytes AllocateOutput allocated for output `i` (0 if it did not: the output is absent, or was
  // set whole with SetOutput, for example as a view of an input).
  size_t allocated_bytes(int i) const { return i < static_cast<int>(allocated_.size()) ? allocated_[i] : 0; }
  // Sets output `i` to an existing tensor (for example, a reshaped view of an input).
  void SetOutput(int i, Tensor tensor) { outputs_[i] = std::move(tensor); }
  // Values of any kind (value.h): the executor gives every input as a Value too (a context made
  // from tensors alone has none). Input `i` as a Value, or nullptr when absent or not given.
  const Value* value(int i) const {
    return i < static_cast<int>(values_.size()) ? values_[i] : nullptr;
  }
  void set_values(std::vector<const Value*> values) { values_ = std::move(values); }
  // Sets output `i` to a value of any kind; a tensor goes to output(i) as SetOutput would.
  void SetValue(int i, Value value);
  // Output `i` when it was set to a sequence or an empty optional, else nullptr.
  Value* value_output(int i) {
    return i < static_cast<int>(value_outputs_.size()) && value_outputs_[i].defined()
               ? &value_outputs_[i]
               : nullptr;
  }
  Tensor& output(int i) { return outputs_[i]; }
  std::vector<Tensor>& outputs() { return outputs_; }
  Allocator* allocator() const { return allocator_; }
  // The run's queue on this kernel's device, or nullptr on the host.
  Stream* stream() const { return stream_; }
  void set_stream(Stream* stream) { stream_ = stream; }

 private:
  std::vector<const Tensor*> inputs_;
  std::vector<Tensor> outputs_;
  std::vector<const Value*> values_;  // per input, when the executor gives them
  std::vector<Value> value_outputs_;  // per output, sized on the first non-tensor SetValue
  Allocator* allocator_;
  Stream* stream_ = nullptr;
  struct Place {
    void* data = nullptr;
    size_t bytes = 0;
  };
  std::vector<Place> planned_;      // per output, sized on the first PlanOutput
  std::shared_ptr<void> arena_;     // what planned_ points into
  std::vector<size_t> allocated_;  // per output, sized on the first AllocateOutput
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  Kernel() = default;
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;
  virtual absl::Status Compute(KernelContext& ctx) const = 0;
  // Runs once, on the loader thread, after the plan has placed the kernel and before any
  // Compute: the place to pre-pack weights for the shapes KernelInfo announced.
  virtual absl::Status Prepare() { return absl::OkStatus(); }
  // True when the kernel keeps its own (for example packed) copy of constant input `i` and never
  // reads it from the context, so that the plan need not keep the original.
  virtual bool OwnsConstantInput(int i) const { return false; }
  // True when output 0 may be written over input `i` whenever both have the same size: the
  // kernel reads each element of that input before writing the output element at the same
  // place, and nothing else. The memory plan then reuses the input's bytes when nothing reads
  // the input afterwards.
  virtual bool MayOverwriteInput(int i) const { return false; }
  // True when input `i` must be in host memory even though the kernel runs on a device (shapes,
  // axes, sizes it reads on the host); the plan then leaves it there instead of copying it over.
  virtual bool InputOnHost(int i) const { return false; }
};

}  // namespace cortado

#endif  // CORTADO_OPS_KERNEL_H_
