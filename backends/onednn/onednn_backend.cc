// The oneDNN backend (Debian's libdnnl 2.6, OpenMP runtime), float32, one file per op group:
// FusedConv in channels-first or channels-last layout with bias, residual and activation as
// post-ops (conv.cc); FusedMatMul with constant weights, and MatMul of two per-run operands
// (matmul.cc); LSTM, GRU and RNN, one direction or both (rnn.cc); Softmax and LayerNormalization
// (norm.cc); the activations where oneDNN is faster than ours (elementwise.cc); channels-last
// pools (pool.cc); and the layout Transposes as reorders (transpose.cc). Kernels that oneDNN
// runs slower below some size hand smaller calls to the kernel the plan would otherwise have
// placed (onednn_util.h FallbackKernel). Weights
// are reordered once into the layout oneDNN picks. oneDNN picks its kernels for the CPU at run time
// (AVX2, AVX-512, AMX).
//
// Each kernel caches its primitives by input shape and thread count, so a steady stream of
// same-shape requests creates nothing; the cache is guarded by a mutex, and execution is
// thread-safe (scratchpads are per run). oneDNN's OpenMP team follows cortado's intra-op thread
// count (core/thread_pool.h), set on the calling thread before each primitive runs; since each
// calling thread gets a team of its own, kernels running at once divide that count between them
// (a CoreShare) rather than multiply it.
#include "backends/backend.h"
#include "backends/onednn/onednn_util.h"

namespace cortado {
namespace onednn {
namespace {

// A backend that runs a node exactly when its kernel accepts the node's attributes and inputs.
class OnednnBackend final : public Backend {
 public:
  std::string name() const override { return kOnednn; }
  int priority() const override { return kOnednnPriority; }
  bool Supports(const KernelInfo& node) const override { return CreateKernel(node).ok(); }
};

CORTADO_REGISTER_BACKEND(OnednnBackend);

}  // namespace
}  // namespace onednn
}  // namespace cortado
