// The optimized Gather of backend "cpu_opt": float32 data, constant indices (a node whose indices
// are a per-run value runs the reference kernel of ops/gather.cc, which //backends:backends_test
// compares this one with). Made for the channel gathers that FoldChannelShuffle and AssignLayout
// make of ShuffleNet's channel shuffles: on the last axis of a channels-last activation, with
// indices that interleave two contiguous runs (out[2m] = in[a + m], out[2m + 1] = in[b + m]: a
// shuffle of two groups, and either half of it). Those copy four pairs at a time through vector
// shuffles; any other gather copies its slices one by one. Kernels are immutable: thread-safe.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "ops/registry.h"

namespace cortado {
namespace {

class GatherKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const Tensor* ind = info.constant_inputs.size() == 2 ? info.constant_inputs[1] : nullptr;
    if (ind == nullptr || (ind->dtype() != DType::kInt64 && ind->dtype() != DType::kInt32)) {
      return absl::UnimplementedError("cpu_opt Gather: constant int32 or int64 indices only");
    }
    std::unique_ptr<GatherKernel> k(new GatherKernel());
    k->axis_ = info.attrs->GetInt("axis", 0);
    k->indices_shape_ = ind->shape();
    for (int64_t i = 0; i < ind->num_elements(); ++i) {
      k->indices_.push_back(static_cast<int64_t>(ind->ElementAsDouble(i)));
    }
    if (!k->indices_.empty()) {
      const auto [lo, hi] = std::minmax_element(k->indices_.begin(), k->indices_.end());
      k->min_ = *lo;
      k->max_ = *hi;
    }
    const std::vector<int64_t>& idx = k->indices_;
    bool pairs = idx.size() >= 2 && k->min_ >= 0;
    for (size_t j = 2; pairs && j < idx.size(); ++j) pairs = idx[j] == idx[j - 2] + 1;
    k->interleaved_ = pairs;
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int rank = x->rank();
    if (rank < 1 || axis_ < -rank || axis_ >= rank || x->dtype() != DType::kFloat32) {
      return absl::InvalidArgumentError(absl::StrCat("Gather: axis ", axis_, " of a ",
                                                     DTypeName(x->dtype()), " tensor of rank ",
                                                     rank, " (cpu_opt: float32 of rank >= 1)"));
    }
    const int axis = axis_ < 0 ? axis_ + rank : static_cast<int>(axis_);
    const int64_t dim = x->dim(axis);
    if (!indices_.empty() && (min_ < -dim || max_ >= dim)) {
      return absl::InvalidArgumentError(absl::StrCat("Gather: an index is out of range [", -dim,
                                                     ", ", dim, ") (min ", min_, ", max ", max_,
                                                     ")"));
    }
    Shape out(x->shape().begin(), x->shape().begin() + axis);
    out.insert(out.end(), indices_shape_.begin(), indices_shape_.end());
    out.insert(out.end(), x->shape().begin() + axis + 1, x->shape().end());
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, out));
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= x->dim(d);
    for (int d = axis + 1; d < rank; ++d) inner *= x->dim(d);
    const int64_t count = static_cast<int64_t>(indices_.size());
    const float* src = x->data<float>();
    float* dst = y->data<float>();
    if (inner == 1 && interleaved_) {
      for (int64_t o = 0; o < outer; ++o) Interleave(src + o * dim, dst + o * count);
      return absl::OkStatus();
    }
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t k = 0; k < count; ++k) {
        const int64_t i = indices_[k] < 0 ? indices_[k] + dim : indices_[k];
        std::memcpy(dst + (o * count + k) * inner, src + (o * dim + i) * inner,
                    inner * sizeof(float));
      }
    }
    return absl::OkStatus();
  }

 private:
  GatherKernel() = default;

  // One row: out[2m] = in[a + m], out[2m + 1] = in[b + m].
  void Interleave(const float* in, float* out) const {
    typedef float V __attribute__((vector_size(16)));
    typedef int32_t I __attribute__((vector_size(16)));
    const int64_t n = static_cast<int64_t>(indices_.size());
    const float* a = in + indices_[0];
    const float* b = in + indices_[1];
    int64_t m = 0;
    for (; 2 * m + 8 <= n; m += 4) {
      V va, vb;
      std::memcpy(&va, a + m, sizeof(V));
      std::memcpy(&vb, b + m, sizeof(V));
      const V lo = __builtin_shuffle(va, vb, I{0, 4, 1, 5});
      const V hi = __builtin_shuffle(va, vb, I{2, 6, 3, 7});
      std::memcpy(out + 2 * m, &lo, sizeof(V));
      std::memcpy(out + 2 * m + 4, &hi, sizeof(V));
    }
    for (int64_t j = 2 * m; j < n; ++j) out[j] = in[indices_[j]];
  }

  int64_t axis_ = 0;
  Shape indices_shape_;
  std::vector<int64_t> indices_;
  int64_t min_ = 0, max_ = 0;
  bool interleaved_ = false;  // indices_ interleave two contiguous runs (all non-negative)
};

}  // namespace

CORTADO_REGISTER_KERNEL("Gather", kCpuOptBackend, 1, kMaxOpset, {DType::kFloat32},
                        GatherKernel::Create);

}  // namespace cortado
