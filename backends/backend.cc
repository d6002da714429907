#include "backends/backend.h"

#include <algorithm>
#include <cstring>

namespace cortado {
namespace {
DType FirstInputDType(const KernelInfo& node) {
  return node.input_dtypes.empty() ? DType::kUndefined : node.input_dtypes[0];
}
}  // namespace

bool Backend::Supports(const KernelInfo& node) const {
  return OpRegistry::Global().FindKernel(name(), node.domain, node.op_type, node.opset,
                                         FirstInputDType(node)) != nullptr;
}

absl::StatusOr<std::unique_ptr<Kernel>> Backend::CreateKernel(const KernelInfo& node) const {
  const KernelDef* def = OpRegistry::Global().FindKernel(name(), node.domain, node.op_type,
                                                         node.opset, FirstInputDType(node));
  if (def == nullptr) {
    return absl::UnimplementedError(absl::StrCat("backend ", name(), " has no kernel for ",
                                                 node.op_type, " opset ", node.opset));
  }
  return def->factory(node);
}

absl::Status CheckCopy(const Tensor& src, const Tensor& dst) {
  if (src.dtype() != dst.dtype() || src.shape() != dst.shape() ||
      (src.dtype() == DType::kString && src.device() != dst.device())) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot copy ", src.DebugString(0), " into ", dst.DebugString(0)));
  }
  return absl::OkStatus();
}

namespace {
absl::Status CopyHostMemory(const Tensor& src, Tensor& dst) {
  RETURN_IF_ERROR(CheckCopy(src, dst));
  if (src.dtype() == DType::kString) {
    for (int64_t i = 0; i < src.num_elements(); ++i)
      dst.data<std::string>()[i] = src.data<std::string>()[i];
  } else if (src.nbytes() > 0) {
    std::memcpy(dst.raw_data(), src.raw_data(), src.nbytes());
  }
  return absl::OkStatus();
}
}  // namespace

absl::Status Backend::CopyFromHost(const Tensor& src, Tensor& dst, Stream*) const {
  return CopyHostMemory(src, dst);
}

absl::Status Backend::CopyToHost(const Tensor& src, Tensor& dst, Stream*) const {
  return CopyHostMemory(src, dst);
}

std::string DeviceBackendName(absl::string_view name, int index) {
  return index == 0 ? std::string(name) : absl::StrCat(name, ":", index);
}

std::vector<const Backend*> AllowedBackends(absl::Span<const std::string> names) {
  std::vector<const Backend*> allowed;
  for (const Backend* b : BackendRegistry::Global().ByPriority()) {
    if (names.empty() || b->name() == kCpuBackend ||
        std::find(names.begin(), names.end(), b->name()) != names.end()) {
      allowed.push_back(b);
    }
  }
  return allowed;
}

absl::StatusOr<PlacedKernel> CreateKernelOnFirst(absl::Span<const Backend* const> backends,
                                                 const KernelInfo& node) {
  for (const Backend* b : backends) {
    if (!b->Supports(node)) continue;
    absl::StatusOr<std::unique_ptr<Kernel>> kernel = b->CreateKernel(node);
    if (kernel.ok()) return PlacedKernel{b, *std::move(kernel)};
    if (kernel.status().code() != absl::StatusCode::kUnimplemented) return kernel.status();
  }
  return absl::UnimplementedError(
      absl::StrCat("no backend has a kernel for input dtype ", DTypeName(FirstInputDType(node))));
}

BackendRegistry& BackendRegistry::Global() {
  static BackendRegistry* registry = new BackendRegistry();
  return *registry;
}

bool BackendRegistry::Register(std::unique_ptr<Backend> backend) {
  backends_.push_back(std::move(backend));
  std::stable_sort(backends_.begin(), backends_.end(),
                   [](const auto& a, const auto& b) { return a->priority() > b->priority(); });
  return true;
}

std::vector<const Backend*> BackendRegistry::ByPriority() const {
  std::vector<const Backend*> out;
  for (const auto& b : backends_) out.push_back(b.get());
  return out;
}

const Backend* BackendRegistry::Find(absl::string_view name) const {
  for (const auto& b : backends_) {
    if (b->name() == name) return b.get();
  }
  return nullptr;
}

}  // namespace cortado
