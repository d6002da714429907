// Backend: a place kernels run (reference CPU, oneDNN, CUDA, plug-ins). The plan asks backends in
// priority order whether they support a node and falls back to the reference CPU backend.
// Backends register once at static-initialization time and are immutable afterwards, so every
// method is thread-safe.
#ifndef CORTADO_BACKENDS_BACKEND_H_
#define CORTADO_BACKENDS_BACKEND_H_

#include <memory>
#include <string>
#include <vector>

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
  virtual Device device() const { return Device{}; }
  virtual Allocator* allocator() const { return CpuAllocator(); }
  // Default: a kernel registered for this backend's name covers the node's op, opset and dtype.
  virtual bool Supports(const KernelInfo& node) const;
  // Default: that registered kernel's factory.
  virtual absl::StatusOr<std::unique_ptr<Kernel>> CreateKernel(const KernelInfo& node) const;
  // Host <-> device copies; the default (host memory) shares the storage.
  virtual absl::StatusOr<Tensor> CopyToHost(const Tensor& t) const { return t; }
  virtual absl::StatusOr<Tensor> CopyFromHost(const Tensor& t) const { return t; }
  // Waits for queued work; host backends have none.
  virtual absl::Status Sync() const { return absl::OkStatus(); }
};

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

#define CORTADO_REGISTER_BACKEND(cls)                                    \
  static const bool CORTADO_CONCAT_(_cortado_backend_, __COUNTER__) = \
      ::cortado::BackendRegistry::Global().Register(std::make_unique<cls>())

#endif  // CORTADO_BACKENDS_BACKEND_H_
