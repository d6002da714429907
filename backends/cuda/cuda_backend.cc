// The CUDA backend, one per GPU (device cuda:N). Its kernels live by kind in dnn_kernels.cc (cuDNN:
// Conv, FusedConv, pooling, softmax, batch norm), math_kernels.cc (elementwise ops, Gemm and
// batched MatMul on cuBLAS, reductions) and tensor_kernels.cc (Transpose, Slice, Concat, Gather,
// Cast); kernel_params.h decides which nodes each takes. Each GPU has its own DeviceContext: device
// memory from a CachingAllocator whose fences are events on that GPU's legacy default stream (which
// follows every blocking stream), and a pool of streams, each with its cuBLAS and cuDNN handles and
// a pinned staging buffer for uploads, of which each run gets one. Every entry point (allocation,
// copies, Sync, and each kernel through StateOf) first makes its GPU the calling thread's current
// device, so that any thread may run any GPU's plan. Three backends are registered per GPU, one
// per Precision (cuda_common.h), for GPUs 0 to kMaxGpus - 1 (registration is static; CUDA may not
// be called then): on GPU 0 "cuda",
// whose float32 math stays float32 (cuBLAS's default compute, cuDNN told CUDNN_FMA_MATH), and
// "cuda_tf32" and "cuda_fp16", the same kernels with matrix products and convolutions in TF32 or
// float16, at lower priorities so that a model gets one only when its backend list names it
// instead of "cuda" (config.pbtxt's cuda_tf32 and cuda_fp16 parameters, server/repository); on GPU
// N > 0 the same names with ":N" (DeviceBackendName), which the model manager swaps in for a
// model's instances on GPU N. The backends of a GPU the machine lacks (or of every GPU, without a
// driver) support nothing, so plans never place work on them.
#include <cstring>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "backends/backend.h"
#include "backends/cuda/caching_allocator.h"
#include "backends/cuda/cuda_common.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/stream_pool.h"

namespace cortado {
namespace cuda {
namespace {

// The GPUs the runtime sees (CUDA_VISIBLE_DEVICES applies), asked once.
int GpuCount() {
  static const int count = [] {
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
  }();
  return count;
}

absl::Status UseGpu(int index) { return CudaError(cudaSetDevice(index), "cudaSetDevice"); }

class CudaMemory final : public DeviceMemory {
 public:
  explicit CudaMemory(int index) : index_(index) {}
  Device device() const override { return {DeviceType::kCuda, index_}; }
  void* Allocate(size_t bytes) override {
    void* p = nullptr;
    return UseGpu(index_).ok() && cudaMalloc(&p, bytes) == cudaSuccess ? p : nullptr;
  }
  void Free(void* ptr) override {
    if (UseGpu(index_).ok()) cudaFree(ptr);
  }
  std::shared_ptr<void> Fence() override {
    cudaEvent_t e;
    if (!UseGpu(index_).ok()) return nullptr;
    if (cudaEventCreateWithFlags(&e, cudaEventDisableTiming) != cudaSuccess) return nullptr;
    if (cudaEventRecord(e, cudaStreamLegacy) != cudaSuccess) {
      cudaEventDestroy(e);
      return nullptr;
    }
    return std::shared_ptr<void>(e, [](void* p) { cudaEventDestroy(static_cast<cudaEvent_t>(p)); });
  }
  bool Passed(const std::shared_ptr<void>& fence) override {
    return cudaEventQuery(static_cast<cudaEvent_t>(fence.get())) == cudaSuccess;
  }

 private:
  const int index_;
};

}  // namespace

StreamState::~StreamState() {
  if (stream) cudaStreamSynchronize(stream);
  if (blas) cublasDestroy(blas);
  if (dnn) cudnnDestroy(dnn);
  if (staged) cudaEventDestroy(staged);
  if (staging) cudaFreeHost(staging);
  if (stream) cudaStreamDestroy(stream);
}

namespace {

// A new stream with its handles, on GPU `index`.
absl::StatusOr<std::unique_ptr<StreamState>> MakeStreamState(int index) {
  RETURN_IF_ERROR(UseGpu(index));
  auto s = std::make_unique<StreamState>();
  s->gpu = index;
  RETURN_IF_ERROR(CudaError(cudaStreamCreate(&s->stream), "cudaStreamCreate"));
  RETURN_IF_ERROR(
      CudaError(cudaEventCreateWithFlags(&s->staged, cudaEventDisableTiming), "cudaEventCreate"));
  RETURN_IF_ERROR(BlasError(cublasCreate(&s->blas), "cublasCreate"));
  RETURN_IF_ERROR(BlasError(cublasSetStream(s->blas, s->stream), "cublasSetStream"));
  RETURN_IF_ERROR(DnnError(cudnnCreate(&s->dnn), "cudnnCreate"));
  RETURN_IF_ERROR(DnnError(cudnnSetStream(s->dnn, s->stream), "cudnnSetStream"));
  return s;
}

// What the backends of one GPU (its three precisions) share: its memory and its streams.
struct DeviceContext {
  explicit DeviceContext(int index)
      : allocator(std::make_unique<CudaMemory>(index), size_t{4} << 30) {}
  CachingAllocator allocator;
  StreamPool<StreamState> streams;
};

DeviceContext& ContextOf(int index) {
  // Never destroyed: tensors may give memory back during the process's exit.
  static auto* contexts = [] {
    auto* c = new std::vector<std::unique_ptr<DeviceContext>>();
    for (int i = 0; i < kMaxGpus; ++i) c->push_back(std::make_unique<DeviceContext>(i));
    return c;
  }();
  return *(*contexts)[index];
}

class CudaStream final : public Stream {
 public:
  explicit CudaStream(std::unique_ptr<StreamState> s) : s_(std::move(s)) {}
  ~CudaStream() override {
    const int gpu = s_->gpu;
    if (UseGpu(gpu).ok() && cudaStreamSynchronize(s_->stream) == cudaSuccess) {
      ContextOf(gpu).streams.Give(std::move(s_));
    }
  }
  StreamState& state() { return *s_; }

 private:
  std::unique_ptr<StreamState> s_;
};

}  // namespace

absl::StatusOr<StreamState*> StateOf(KernelContext& ctx) {
  auto* s = dynamic_cast<CudaStream*>(ctx.stream());
  if (s == nullptr) return absl::FailedPreconditionError("a CUDA kernel ran without its stream");
  RETURN_IF_ERROR(UseGpu(s->state().gpu));
  return &s->state();
}

absl::StatusOr<Tensor> ToHalf(const Tensor& t, KernelContext& ctx, StreamState& s) {
  ASSIGN_OR_RETURN(Tensor half, Tensor::Create(DType::kFloat16, t.shape(), ctx.allocator()));
  RETURN_IF_ERROR(
      CudaError(LaunchFloatToHalf(t.data<float>(), half.raw_data(), t.num_elements(), s.stream),
                "to float16"));
  return half;
}

namespace {

const char* PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kTf32:
      return "cuda_tf32";
    case Precision::kFloat16:
      return "cuda_fp16";
    default:
      return "cuda";
  }
}

// "cuda", "cuda_tf32" or "cuda_fp16" on GPU `gpu`: the same kernels; the GPU's device, allocator
// and stream pool. Of equal priority on every GPU, registered GPU 0 first, so that a plan that
// allows them all places its work on GPU 0.
class CudaBackend final : public Backend {
 public:
  CudaBackend(Precision precision, int gpu)
      : precision_(precision), gpu_(gpu), name_(DeviceBackendName(PrecisionName(precision), gpu)) {}
  std::string name() const override { return name_; }
  int priority() const override { return 200 - static_cast<int>(precision_); }
  Device device() const override { return {DeviceType::kCuda, gpu_}; }
  Allocator* allocator() const override { return &ContextOf(gpu_).allocator; }
  bool Supports(const KernelInfo& node) const override { return Make(node) != nullptr; }
  absl::StatusOr<std::unique_ptr<Kernel>> CreateKernel(const KernelInfo& node) const override {
    std::unique_ptr<Kernel> k = Make(node);
    if (k == nullptr) {
      return absl::UnimplementedError(absl::StrCat(name(), " has no ", node.op_type));
    }
    return k;
  }
  absl::StatusOr<std::unique_ptr<Stream>> CreateStream() const override {
    ASSIGN_OR_RETURN(std::unique_ptr<StreamState> s,
                     ContextOf(gpu_).streams.Take([this] { return MakeStreamState(gpu_); }));
    return std::unique_ptr<Stream>(new CudaStream(std::move(s)));
  }
  absl::Status CopyFromHost(const Tensor& src, Tensor& dst, Stream* stream) const override {
    RETURN_IF_ERROR(CheckCopy(src, dst));
    RETURN_IF_ERROR(UseGpu(gpu_));
    if (stream == nullptr) {
      return CudaError(
          cudaMemcpy(dst.raw_data(), src.raw_data(), src.nbytes(), cudaMemcpyHostToDevice),
          "cudaMemcpy");
    }
    // Through the stream's pinned staging buffer, so that the copy is asynchronous and `src` may
    // go once this returns.
    StreamState& s = static_cast<CudaStream*>(stream)->state();
    RETURN_IF_ERROR(CudaError(cudaEventSynchronize(s.staged), "cudaEventSynchronize"));
    if (s.staging_bytes < src.nbytes()) {
      if (s.staging != nullptr) cudaFreeHost(s.staging);
      s.staging = nullptr;
      s.staging_bytes = 0;
      RETURN_IF_ERROR(CudaError(cudaMallocHost(&s.staging, src.nbytes()), "cudaMallocHost"));
      s.staging_bytes = src.nbytes();
    }
    std::memcpy(s.staging, src.raw_data(), src.nbytes());
    RETURN_IF_ERROR(CudaError(
        cudaMemcpyAsync(dst.raw_data(), s.staging, src.nbytes(), cudaMemcpyHostToDevice, s.stream),
        "cudaMemcpyAsync"));
    return CudaError(cudaEventRecord(s.staged, s.stream), "cudaEventRecord");
  }
  absl::Status CopyToHost(const Tensor& src, Tensor& dst, Stream* stream) const override {
    RETURN_IF_ERROR(CheckCopy(src, dst));
    RETURN_IF_ERROR(UseGpu(gpu_));
    cudaStream_t st = stream ? static_cast<CudaStream*>(stream)->state().stream : nullptr;
    return CudaError(
        cudaMemcpyAsync(dst.raw_data(), src.raw_data(), src.nbytes(), cudaMemcpyDeviceToHost, st),
        "cudaMemcpyAsync");
  }
  absl::Status Sync(Stream* stream) const override {
    RETURN_IF_ERROR(UseGpu(gpu_));
    if (stream == nullptr) return CudaError(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    return CudaError(cudaStreamSynchronize(static_cast<CudaStream*>(stream)->state().stream),
                     "cudaStreamSynchronize");
  }

 private:
  std::unique_ptr<Kernel> Make(const KernelInfo& node) const {
    if (gpu_ >= GpuCount()) return nullptr;
    if (std::unique_ptr<Kernel> k = MakeDnnKernel(node, precision_)) return k;
    if (std::unique_ptr<Kernel> k = MakeMathKernel(node, precision_)) return k;
    return MakeTensorKernel(node);
  }

  const Precision precision_;
  const int gpu_;
  const std::string name_;
};

const bool registered = [] {
  for (int gpu = 0; gpu < kMaxGpus; ++gpu) {
    for (Precision p : {Precision::kFloat32, Precision::kTf32, Precision::kFloat16}) {
      BackendRegistry::Global().Register(std::make_unique<CudaBackend>(p, gpu));
    }
  }
  return true;
}();

}  // namespace
}  // namespace cuda
}  // namespace cortado
