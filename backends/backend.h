// Backend: a place kernels run (reference CPU, oneDNN, CUDA, plug-ins). The plan asks backends in
// priority order whether they support a node and falls back to the reference CPU backend.
// Backends register at static-initialization time (plug-ins: at start-up, before any model
// loads) and are immutable afterwards, so every method is thread-safe.
#ifndef CORTADO_BACKENDS_BACKEND_H_
#define CORTADO_BACKENDS_BACKEND_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "core/tensor.h"
#include "ops/kernel.h"
#include "ops/registry.h"

namespace cortado {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Higher runs first; the reference CPU backend has priority 0.
  virtual int priority() const = 0;
  // Where the kernels' outputs live (allocator()'s device). A backend whose device is not the
  // host gets the plan's copy steps around it and implements the four methods below.
  virtual Device device() const { return Device{}; }
  virtual Allocator* allocator() const { return CpuAllocator(); }
  // Default: a kernel registered for this backend's name covers the node's op, opset and dtype.
  virtual bool Supports(const KernelInfo& node) const;
  // Default: that registered kernel's factory.
  virtual absl::StatusOr<std::unique_ptr<Kernel>> CreateKernel(const KernelInfo& node) const;
  // One run's queue on the device, handed to kernels in their context; nullptr (the default)
  // for host backends.
  virtual absl::StatusOr<std::unique_ptr<Stream>> CreateStream() const { return nullptr; }
  // Copy all of `src` into `dst` (same dtype and shape; `dst` allocated on the host or by
  // allocator()), enqueued on `stream`, or done before returning when `stream` is nullptr.
  // `src` may be released as soon as the call returns; `dst` may be read once Sync returns.
  // The defaults copy host memory.
  virtual absl::Status CopyFromHost(const Tensor& src, Tensor& dst, Stream* stream) const;
  virtual absl::Status CopyToHost(const Tensor& src, Tensor& dst, Stream* stream) const;
  // Waits for the work enqueued on `stream`.
  virtual absl::Status Sync(Stream* stream) const { return absl::OkStatus(); }
};

// OK when `dst` can take a copy of `src` (Backend::CopyFromHost, CopyToHost): the same dtype and
// shape, and no strings between different devices (a string is a host object, not bytes).
// Every backend's copies check this first.
absl::Status CheckCopy(const Tensor& src, const Tensor& dst);

// A backend registered once per device of its kind (the CUDA backend, per GPU) is named `name` on
// device index 0 and "<name>:<index>" on the others; the model manager swaps these names to put a
// model's instances on one GPU.
std::string DeviceBackendName(absl::string_view name, int index);

// The backends `names` allows (PlanOptions::backends, KernelInfo::backends: every registered one
// when empty) and the reference CPU backend always, highest priority first.
std::vector<const Backend*> AllowedBackends(absl::Span<const std::string> names);

// A kernel for `node` from the first of `backends` that supports it and creates one, with that
// backend. Unimplemented when none does; another error of a backend's CreateKernel as it is.
struct PlacedKernel {
  const Backend* backend = nullptr;
  std::unique_ptr<Kernel> kernel;
};
absl::StatusOr<PlacedKernel> CreateKernelOnFirst(absl::Span<const Backend* const> backends,
                                                 const KernelInfo& node);

class BackendRegistry {
 public:
  static BackendRegistry& Global();
  bool Register(std::unique_ptr<Backend> backend);
  // All backends, highest priority first.
  std::vector<const Backend*> ByPriority() const;
  const Backend* Find(absl::string_view name) const;

 private:
  std::vector<std::unique_ptr<Backend>> backends_;
};

}  // namespace cortado

#define CORTADO_REGISTER_BACKEND(cls)                                 \
  static const bool CORTADO_CONCAT_(_cortado_backend_, __COUNTER__) = \
      ::cortado::BackendRegistry::Global().Register(std::make_unique<cls>())

#endif  // CORTADO_BACKENDS_BACKEND_H_
