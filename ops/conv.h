// What every Conv, ConvTranspose and ConvGrad kernel starts with: the attributes read once at
// creation, then per call the operands checked against them, the window geometry resolved and
// the outputs allocated. Shared by the reference kernels (ops/conv.cc) and the optimized CPU
// kernels (backends/cpu/conv.cc), so that both accept and refuse exactly the same calls.
// Plain values and functions: thread-safe.
#ifndef CORTADO_OPS_CONV_H_
#define CORTADO_OPS_CONV_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "core/tensor.h"
#include "ops/kernel.h"
#include "ops/nn_util.h"

namespace cortado {

// The attributes of a Conv, ConvTranspose or ConvGrad node (named `op` in errors).
struct ConvAttrs {
  ConvAttrs(absl::string_view op, const AttributeMap& attrs);
  absl::string_view op;
  int64_t group;
  WindowAttrs window;
  absl::Status status;  // of reading them: the Bind functions return it first
};

// Conv (transposed false: X [N, C, in...], W [M, C/group, k...]) or ConvTranspose (X [N, C,
// ...], W [C, M/group, k...]) with the optional bias B [M]; Y allocated, unwritten. `g` is the
// window geometry; for ConvTranspose that of the forward convolution it is the adjoint of (Y's
// spatial dims are g.in, X's g.out).
struct ConvOperands {
  int64_t group = 1;
  const Tensor* x = nullptr;
  const Tensor* w = nullptr;
  const Tensor* b = nullptr;  // nullptr when absent
  Tensor* y = nullptr;
  Geometry g;
};
absl::StatusOr<ConvOperands> BindConv(const ConvAttrs& attrs, bool transposed, KernelContext& ctx);

// ConvGrad(dY, X, W) -> dX, dW and, when the node has a third output, dB; all allocated,
// unwritten. `g` is the forward convolution's geometry.
struct ConvGradOperands {
  int64_t group = 1;
  const Tensor* dy = nullptr;
  const Tensor* x = nullptr;
  const Tensor* w = nullptr;
  Tensor* dx = nullptr;
  Tensor* dw = nullptr;
  Tensor* db = nullptr;  // nullptr when not asked for
  Geometry g;
};
absl::StatusOr<ConvGradOperands> BindConvGrad(const ConvAttrs& attrs, KernelContext& ctx);

// A Conv, ConvTranspose or ConvGrad kernel that `Impl` computes: Impl has
// `template <typename T> static absl::Status Run(const ConvOperands&)` (ConvGradOperands for
// ConvGrad) for float and double. The binding and the dtype dispatch are this template's.
enum class ConvKind { kConv, kConvTranspose, kConvGrad };

template <ConvKind kKind, typename Impl>
class ConvKernelOf final : public Kernel {
 public:
  explicit ConvKernelOf(const KernelInfo& info)
      : attrs_(kKind == ConvKind::kConv            ? "Conv"
               : kKind == ConvKind::kConvTranspose ? "ConvTranspose"
                                                   : "ConvGrad",
               *info.attrs) {}

  absl::Status Compute(KernelContext& ctx) const override {
    if constexpr (kKind == ConvKind::kConvGrad) {
      ASSIGN_OR_RETURN(ConvGradOperands operands, BindConvGrad(attrs_, ctx));
      return Dispatch(operands);
    } else {
      ASSIGN_OR_RETURN(ConvOperands operands,
                       BindConv(attrs_, kKind == ConvKind::kConvTranspose, ctx));
      return Dispatch(operands);
    }
  }

 private:
  template <typename Operands>
  absl::Status Dispatch(const Operands& operands) const {
    return VisitFloatType(operands.x->dtype(), attrs_.op, [&](auto tag) {
      return Impl::template Run<typename decltype(tag)::type>(operands);
    });
  }

  const ConvAttrs attrs_;
};

}  // namespace cortado

#endif  // CORTADO_OPS_CONV_H_
