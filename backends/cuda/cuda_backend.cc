// The CUDA backend (device cuda:0). Its kernels live by kind in dnn_kernels.cc (cuDNN: Conv,
// FusedConv, pooling, softmax, batch norm), math_kernels.cc (elementwise ops, Gemm and batched
// MatMul on cuBLAS, reductions) and tensor_kernels.cc (Transpose, Slice, Concat, Gather, Cast);
// kernel_params.h decides which nodes each takes. Device memory comes from a CachingAllocator
// whose fences are events on the legacy default stream (which follows every blocking stream).
// Each run gets a stream from a pool, with its cuBLAS and cuDNN handles and a pinned staging
// buffer for uploads. Three backends are registered, one per Precision (cuda_common.h): "cuda",
// whose float32 math stays float32 (cuBLAS's default compute, cuDNN told CUDNN_FMA_MATH), and
// "cuda_tf32" and "cuda_fp16", the same kernels with matrix products and convolutions in TF32 or
// float16, at lower priorities so that a model gets one only when its backend list names it
// instead of "cuda" (config.pbtxt's cuda_tf32 and cuda_fp16 parameters, server/repository). On a
// machine without a CUDA device (or driver) they support nothing, so plans never place work on
// them.
#include <cstring>

#include "absl/synchronization/mutex.h"
#include "backends/backend.h"
#include "backends/cuda/caching_allocator.h"
#include "backends/cuda/cuda_common.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/stream_pool.h"

namespace cortado {
namespace cuda {
namespace {

constexpr Device kGpu{DeviceType::kCuda, 0};

bool HaveDevice() {
  static const bool have = [] {
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
  }();
  return have;
}

class CudaMemory final : public DeviceMemory {
 public:
  Device device() const override { return kGpu; }
  void* Allocate(size_t bytes) override {
    void* p = nullptr;
    return cudaMalloc(&p, bytes) == cudaSuccess ? p : nullptr;
  }
  void Free(void* ptr) override { cudaFree(ptr); }
  std::shared_ptr<void> Fence() override {
    cudaEvent_t e;
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

// A new stream with its handles.
absl::StatusOr<std::unique_ptr<StreamState>> MakeStreamState() {
  auto s = std::make_unique<StreamState>();
  RETURN_IF_ERROR(CudaError(cudaStreamCreate(&s->stream), "cudaStreamCreate"));
  RETURN_IF_ERROR(
      CudaError(cudaEventCreateWithFlags(&s->staged, cudaEventDisableTiming), "cudaEventCreate"));
  RETURN_IF_ERROR(BlasError(cublasCreate(&s->blas), "cublasCreate"));
  RETURN_IF_ERROR(BlasError(cublasSetStream(s->blas, s->stream), "cublasSetStream"));
  RETURN_IF_ERROR(DnnError(cudnnCreate(&s->dnn), "cudnnCreate"));
  RETURN_IF_ERROR(DnnError(cudnnSetStream(s->dnn, s->stream), "cudnnSetStream"));
  return s;
}

StreamPool<StreamState>& Pool() {
  static auto* pool = new StreamPool<StreamState>();
  return *pool;
}

class CudaStream final : public Stream {
 public:
  explicit CudaStream(std::unique_ptr<StreamState> s) : s_(std::move(s)) {}
  ~CudaStream() override {
    if (cudaStreamSynchronize(s_->stream) == cudaSuccess) Pool().Give(std::move(s_));
  }
  StreamState& state() { return *s_; }

 private:
  std::unique_ptr<StreamState> s_;
};

}  // namespace

absl::StatusOr<StreamState*> StateOf(KernelContext& ctx) {
  auto* s = dynamic_cast<CudaStream*>(ctx.stream());
  if (s == nullptr) return absl::FailedPreconditionError("a CUDA kernel ran without its stream");
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

// "cuda", "cuda_tf32" or "cuda_fp16": the same kernels, device, allocator and stream pool.
class CudaBackend : public Backend {
 public:
  explicit CudaBackend(Precision precision) : precision_(precision) {}
  std::string name() const override {
    switch (precision_) {
      case Precision::kTf32:
        return "cuda_tf32";
      case Precision::kFloat16:
        return "cuda_fp16";
      default:
        return "cuda";
    }
  }
  int priority() const override { return 200 - static_cast<int>(precision_); }
  Device device() const override { return kGpu; }
  Allocator* allocator() const override {
    static CachingAllocator* allocator =
        new CachingAllocator(std::make_unique<CudaMemory>(), size_t{4} << 30);
    return allocator;
  }
  bool Supports(const KernelInfo& node) const override { return Make(node) != nullptr; }
  absl::StatusOr<std::unique_ptr<Kernel>> CreateKernel(const KernelInfo& node) const override {
    std::unique_ptr<Kernel> k = Make(node);
    if (k == nullptr) {
      return absl::UnimplementedError(absl::StrCat(name(), " has no ", node.op_type));
    }
    return k;
  }
  absl::StatusOr<std::unique_ptr<Stream>> CreateStream() const override {
    ASSIGN_OR_RETURN(std::unique_ptr<StreamState> s, Pool().Take(MakeStreamState));
    return std::unique_ptr<Stream>(new CudaStream(std::move(s)));
  }
  absl::Status CopyFromHost(const Tensor& src, Tensor& dst, Stream* stream) const override {
    RETURN_IF_ERROR(CheckCopy(src, dst));
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
    cudaStream_t st = stream ? static_cast<CudaStream*>(stream)->state().stream : nullptr;
    return CudaError(
        cudaMemcpyAsync(dst.raw_data(), src.raw_data(), src.nbytes(), cudaMemcpyDeviceToHost, st),
        "cudaMemcpyAsync");
  }
  absl::Status Sync(Stream* stream) const override {
    if (stream == nullptr) return CudaError(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    return CudaError(cudaStreamSynchronize(static_cast<CudaStream*>(stream)->state().stream),
                     "cudaStreamSynchronize");
  }

 private:
  std::unique_ptr<Kernel> Make(const KernelInfo& node) const {
    if (!HaveDevice()) return nullptr;
    if (std::unique_ptr<Kernel> k = MakeDnnKernel(node, precision_)) return k;
    if (std::unique_ptr<Kernel> k = MakeMathKernel(node, precision_)) return k;
    return MakeTensorKernel(node);
  }

  const Precision precision_;
};

// One registration per precision: CORTADO_REGISTER_BACKEND takes a default-constructible class.
template <Precision kPrecision>
class CudaBackendOf final : public CudaBackend {
 public:
  CudaBackendOf() : CudaBackend(kPrecision) {}
};
CORTADO_REGISTER_BACKEND(CudaBackendOf<Precision::kFloat32>);
CORTADO_REGISTER_BACKEND(CudaBackendOf<Precision::kTf32>);
CORTADO_REGISTER_BACKEND(CudaBackendOf<Precision::kFloat16>);

}  // namespace
}  // namespace cuda
}  // namespace cortado
