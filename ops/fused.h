// The fused and channels-last operators that the graph optimizer (predictor/passes) makes, and
// the facts about them that the passes and the backends share. Their schemas sit beside the ops
// they wrap (ops/conv.cc, ops/pool.cc; FusedMatMul's in ops/fused.cc); their reference kernels
// (ops/fused.cc) are built from the plain operators' reference kernels, so they mean exactly
// what the unfused graph meant.
//
//   ai.cortado FusedConv(X, W, B?, Z?) = activation(Conv(X, W, B) + Z)
//     attributes: Conv's, and `activation` (an entry of FusedActivations(), "" for none) with
//     `activation_params` (that activation's attributes, in the table's order).
//   ai.cortado FusedMatMul(A, B, C?) = activation(MatMul(A, B) + C), C broadcast onto the
//     product; attributes `activation` and `activation_params` as above.
//   ai.cortado.nhwc <Op>: the same-named operator of ai.cortado or ai.onnx (see NchwDomainOf)
//     on channels-last activations (N, spatial..., C); weights keep their layout.
//
// Plain functions and constant tables; thread-safe.
#ifndef CORTADO_OPS_FUSED_H_
#define CORTADO_OPS_FUSED_H_

#include <string>
#include <vector>

#include "core/shape.h"
#include "ops/registry.h"

namespace cortado {

// An activation a fused operator may apply: the ONNX operator it stands for (at `opset`), and
// the names of that operator's float attributes that `activation_params` carries, in order.
// "Swish" (x * Sigmoid(x), PyTorch's SiLU) has no ONNX operator of its own here.
struct FusedActivation {
  std::string name;
  int opset;
  std::vector<std::string> params;
};
const std::vector<FusedActivation>& FusedActivations();
const FusedActivation* FindFusedActivation(const std::string& name);

// Whether input `i` of a kNhwcDomain operator is a channels-last activation: X (0), and Z (3)
// of FusedConv; weights and other inputs keep their layout.
inline bool IsChannelsLastInput(int i) { return i == 0 || i == 3; }

// The operators of kNhwcDomain, and the domain of the channels-first operator each one wraps.
const std::vector<std::string>& NhwcOps();
std::string NchwDomainOf(const std::string& nhwc_op);

// The kernel factory of FusedConv and FusedMatMul (kFusedDomain) composed of the plain
// operators' kernels on `backend` (Conv or MatMul, Add, the activation; the reference kernel of
// any that `backend` lacks): the reference backend's kernel, and that of a backend with faster
// plain kernels (backends/cpu).
KernelFactory ComposedFusedKernel(std::string backend);

// (N, C, d1, ..., dk) <-> (N, d1, ..., dk, C), for rank >= 3, as Transpose perms and on shapes.
std::vector<int64_t> ToChannelsLastPerm(int rank);
std::vector<int64_t> ToChannelsFirstPerm(int rank);
Shape ToChannelsLast(const Shape& nchw);
Shape ToChannelsFirst(const Shape& nhwc);

}  // namespace cortado

#endif  // CORTADO_OPS_FUSED_H_
