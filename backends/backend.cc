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

namespace {
absl::Status CopyHostMemory(const Tensor& src, Tensor& dst) {
  if (src.dtype() != dst.dtype() || src.shape() != dst.shape()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot copy ", src.DebugString(0), " into ", dst.DebugString(0)));
  }
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
