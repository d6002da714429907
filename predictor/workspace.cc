#include "predictor/workspace.h"

namespace cortado {

const Tensor* Workspace::GetBlob(const std::string& name) const {
  const int slot = plan_.SlotOf(name);
  if (slot < 0 || !values_[slot].tensor.defined()) return nullptr;
  return &values_[slot].tensor;
}

absl::Status Workspace::OpenStreams() {
  streams_.clear();
  for (const Backend* backend : plan_.stream_backends()) {
    ASSIGN_OR_RETURN(std::unique_ptr<Stream> stream, backend->CreateStream());
    streams_.push_back(std::move(stream));
  }
  return absl::OkStatus();
}

absl::Status Workspace::WaitStreams() {
  for (size_t i = 0; i < streams_.size(); ++i) {
    RETURN_IF_ERROR(plan_.stream_backends()[i]->Sync(streams_[i].get()));
  }
  return absl::OkStatus();
}

}  // namespace cortado
