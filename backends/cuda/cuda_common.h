// What the CUDA backend's kernel files (dnn_kernels.cc, math_kernels.cc, tensor_kernels.cc) share
// with the backend (cuda_backend.cc): the status of a CUDA, cuBLAS or cuDNN call, the per-run
// stream state kernels find in their context, and the factories the backend asks in turn.
// Internal to backends/cuda. Thread-safety: a StreamState belongs to one run at a time.
#ifndef CORTADO_BACKENDS_CUDA_CUDA_COMMON_H_
#define CORTADO_BACKENDS_CUDA_CUDA_COMMON_H_

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ops/kernel.h"

namespace cortado {
namespace cuda {

inline absl::Status CudaError(int code, absl::string_view what) {
  if (code == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(what, ": ", cudaGetErrorString(static_cast<cudaError_t>(code))));
}

inline absl::Status BlasError(cublasStatus_t s, absl::string_view what) {
  if (s == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", cublasGetStatusString(s)));
}

inline absl::Status DnnError(cudnnStatus_t s, absl::string_view what) {
  if (s == CUDNN_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", cudnnGetErrorString(s)));
}

// The GPUs the backend is registered for (cuda_backend.cc): 0 to kMaxGpus - 1.
inline constexpr int kMaxGpus = 8;

// One stream with what a run needs on it, on GPU `gpu`; pooled across runs (cuda_backend.cc).
struct StreamState {
  int gpu = 0;
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  cudnnHandle_t dnn = nullptr;
  void* staging = nullptr;  // pinned host memory for uploads
  size_t staging_bytes = 0;
  cudaEvent_t staged = nullptr;  // the last upload out of `staging` has finished
  ~StreamState();
};

// The state of the run's stream in a CUDA kernel's context, with its GPU made the calling
// thread's current device; FailedPrecondition without one.
absl::StatusOr<StreamState*> StateOf(KernelContext& ctx);

// How the backend a kernel is made for does the float32 math of matrix products (Gemm, MatMul)
// and convolutions: in float32 ("cuda"); with their inputs rounded to TF32 on tensor cores
// ("cuda_tf32"); or in float16 with float32 accumulation, the inputs converted to float16 on the
// device before each product and its output converted back to float32 ("cuda_fp16"). Everything
// else is float32 in all three.
enum class Precision { kFloat32, kTf32, kFloat16 };

// A float16 copy of float32 `t`, on the device, enqueued on `s`.
absl::StatusOr<Tensor> ToHalf(const Tensor& t, KernelContext& ctx, StreamState& s);

// The kernels of each file for `node`, or nullptr when it has none for it. The caller has checked
// that a device is present.
std::unique_ptr<Kernel> MakeDnnKernel(const KernelInfo& node, Precision precision);
std::unique_ptr<Kernel> MakeMathKernel(const KernelInfo& node, Precision precision);
std::unique_ptr<Kernel> MakeTensorKernel(const KernelInfo& node);

}  // namespace cuda
}  // namespace cortado

#endif  // CORTADO_BACKENDS_CUDA_CUDA_COMMON_H_
