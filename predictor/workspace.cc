#include "predictor/workspace.h"

namespace cortado {

const Tensor* Workspace::GetBlob(const std::string& name) const {
  const int slot = plan_.SlotOf(name);
  if (slot < 0 || !blobs_[slot].defined()) return nullptr;
  return &blobs_[slot];
}

}  // namespace cortado
