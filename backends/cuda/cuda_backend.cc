// The CUDA backend (device cuda:0): float32 elementwise ops and a transpose as our own kernels
// (kernels.cu), MatMul and Gemm on cuBLAS. Device memory comes from a CachingAllocator whose
// fences are events on the legacy default stream (which follows every blocking stream). Each run
// gets a stream from a pool, with its cuBLAS handle and a pinned staging buffer for uploads. On a
// machine without a CUDA device (or driver) it supports nothing, so plans never place work on it.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstring>
#include <map>

#include "absl/synchronization/mutex.h"
#include "backends/backend.h"
#include "backends/cuda/caching_allocator.h"
#include "backends/cuda/kernels.h"

namespace cortado {
namespace {

constexpr Device kGpu{DeviceType::kCuda, 0};

absl::Status CudaError(int code, absl::string_view what) {
  if (code == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(what, ": ", cudaGetErrorString(static_cast<cudaError_t>(code))));
}

absl::Status BlasError(cublasStatus_t s, absl::string_view what) {
  if (s == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": cuBLAS status ", static_cast<int>(s)));
}

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

// One stream with what a run needs on it; pooled across runs.
struct StreamState {
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  void* staging = nullptr;  // pinned host memory for uploads
  size_t staging_bytes = 0;
  cudaEvent_t staged = nullptr;  // the last upload out of `staging` has finished
  ~StreamState() {
    if (stream) cudaStreamSynchronize(stream);
    if (blas) cublasDestroy(blas);
    if (staged) cudaEventDestroy(staged);
    if (staging) cudaFreeHost(staging);
    if (stream) cudaStreamDestroy(stream);
  }
};

class StreamPool {
 public:
  absl::StatusOr<std::unique_ptr<StreamState>> Take() {
    {
      absl::MutexLock lock(&mu_);
      if (!idle_.empty()) {
        auto s = std::move(idle_.back());
        idle_.pop_back();
        return s;
      }
    }
    auto s = std::make_unique<StreamState>();
    RETURN_IF_ERROR(CudaError(cudaStreamCreate(&s->stream), "cudaStreamCreate"));
    RETURN_IF_ERROR(
        CudaError(cudaEventCreateWithFlags(&s->staged, cudaEventDisableTiming), "cudaEventCreate"));
    RETURN_IF_ERROR(BlasError(cublasCreate(&s->blas), "cublasCreate"));
    RETURN_IF_ERROR(BlasError(cublasSetStream(s->blas, s->stream), "cublasSetStream"));
    return s;
  }
  void Give(std::unique_ptr<StreamState> s) {
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(s));
  }

 private:
  absl::Mutex mu_;
  std::vector<std::unique_ptr<StreamState>> idle_ ABSL_GUARDED_BY(mu_);
};

StreamPool& Pool() {
  static StreamPool* pool = new StreamPool();
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

absl::StatusOr<StreamState*> StateOf(KernelContext& ctx) {
  auto* s = dynamic_cast<CudaStream*>(ctx.stream());
  if (s == nullptr) return absl::FailedPreconditionError("a CUDA kernel ran without its stream");
  return &s->state();
}

class UnaryKernel final : public Kernel {
 public:
  explicit UnaryKernel(cuda::Unary op) : op_(op) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, x->shape()));
    return CudaError(
        cuda::LaunchUnary(op_, x->data<float>(), y->data<float>(), y->num_elements(), s->stream),
        "unary kernel");
  }

 private:
  cuda::Unary op_;
};

// True when `b`, its leading ones dropped, is `a`'s last dimensions.
bool SuffixOf(const Shape& b, const Shape& a) {
  size_t lead = 0;
  while (lead < b.size() && b[lead] == 1) ++lead;
  const size_t rb = b.size() - lead;
  if (rb > a.size()) return false;
  for (size_t i = 0; i < rb; ++i) {
    if (b[b.size() - 1 - i] != a[a.size() - 1 - i]) return false;
  }
  return true;
}

class BinaryKernel final : public Kernel {
 public:
  explicit BinaryKernel(cuda::Binary op) : op_(op) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    const Tensor* big = a->num_elements() >= b->num_elements() ? a : b;
    const Tensor* small = big == a ? b : a;
    if (!SuffixOf(small->shape(), big->shape())) {
      return absl::InvalidArgumentError(
          "the CUDA binary kernel broadcasts over leading dimensions only");
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, big->shape()));
    return CudaError(
        cuda::LaunchBinary(op_, a->data<float>(), a->num_elements(), b->data<float>(),
                           b->num_elements(), y->data<float>(), y->num_elements(), s->stream),
        "binary kernel");
  }

 private:
  cuda::Binary op_;
};

// Row-major Y[M,N] = alpha * op(A) op(B) (+ beta * C broadcast as a row or whole), as cuBLAS's
// column-major Y^T = op(B)^T op(A)^T.
class GemmKernel final : public Kernel {
 public:
  GemmKernel(bool trans_a, bool trans_b, float alpha, float beta)
      : trans_a_(trans_a), trans_b_(trans_b), alpha_(alpha), beta_(beta) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    const Tensor* c = ctx.input(2);
    if (a->rank() != 2 || b->rank() != 2) return absl::InvalidArgumentError("2-D operands only");
    const int64_t m = trans_a_ ? a->dim(1) : a->dim(0), k = trans_a_ ? a->dim(0) : a->dim(1);
    const int64_t kb = trans_b_ ? b->dim(1) : b->dim(0), n = trans_b_ ? b->dim(0) : b->dim(1);
    if (k != kb) return absl::InvalidArgumentError("inner dimensions differ");
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, {m, n}));
    float beta = 0;
    if (c != nullptr) {
      const int64_t nc = c->num_elements();
      if (nc != m * n && !(nc == n && c->dim(c->rank() - 1) == n) && nc != 1) {
        return absl::InvalidArgumentError("C broadcasts only as a scalar, a row or the output");
      }
      RETURN_IF_ERROR(
          CudaError(cuda::LaunchBinary(cuda::Binary::kFirst, c->data<float>(), nc, c->data<float>(),
                                       nc, y->data<float>(), m * n, s->stream),
                    "broadcast C"));
      beta = beta_;
    }
    return BlasError(cublasSgemm(s->blas, trans_b_ ? CUBLAS_OP_T : CUBLAS_OP_N,
                                 trans_a_ ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                                 static_cast<int>(m), static_cast<int>(k), &alpha_,
                                 b->data<float>(), static_cast<int>(trans_b_ ? k : n),
                                 a->data<float>(), static_cast<int>(trans_a_ ? m : k), &beta,
                                 y->data<float>(), static_cast<int>(n)),
                     "cublasSgemm");
  }

 private:
  bool trans_a_, trans_b_;
  float alpha_, beta_;
};

class TransposeKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() != 2) return absl::InvalidArgumentError("2-D transpose only");
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, {x->dim(1), x->dim(0)}));
    return CudaError(cuda::LaunchTranspose2D(x->data<float>(), y->data<float>(), x->dim(0),
                                             x->dim(1), s->stream),
                     "transpose kernel");
  }
};

const std::map<std::string, cuda::Unary>& UnaryOps() {
  static const auto* ops = new std::map<std::string, cuda::Unary>{
      {"Relu", cuda::Unary::kRelu}, {"Sigmoid", cuda::Unary::kSigmoid},
      {"Tanh", cuda::Unary::kTanh}, {"Neg", cuda::Unary::kNeg},
      {"Abs", cuda::Unary::kAbs},   {"Exp", cuda::Unary::kExp}};
  return *ops;
}
const std::map<std::string, cuda::Binary>& BinaryOps() {
  static const auto* ops = new std::map<std::string, cuda::Binary>{{"Add", cuda::Binary::kAdd},
                                                                   {"Sub", cuda::Binary::kSub},
                                                                   {"Mul", cuda::Binary::kMul},
                                                                   {"Div", cuda::Binary::kDiv}};
  return *ops;
}

class CudaBackend final : public Backend {
 public:
  std::string name() const override { return "cuda"; }
  int priority() const override { return 200; }
  Device device() const override { return kGpu; }
  Allocator* allocator() const override {
    static CachingAllocator* allocator =
        new CachingAllocator(std::make_unique<CudaMemory>(), size_t{4} << 30);
    return allocator;
  }
  bool Supports(const KernelInfo& node) const override { return Make(node) != nullptr; }
  absl::StatusOr<std::unique_ptr<Kernel>> CreateKernel(const KernelInfo& node) const override {
    std::unique_ptr<Kernel> k = Make(node);
    if (k == nullptr) return absl::UnimplementedError(absl::StrCat("cuda has no ", node.op_type));
    return k;
  }
  absl::StatusOr<std::unique_ptr<Stream>> CreateStream() const override {
    ASSIGN_OR_RETURN(std::unique_ptr<StreamState> s, Pool().Take());
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
  static std::unique_ptr<Kernel> Make(const KernelInfo& node) {
    if (!HaveDevice() || !node.domain.empty()) return nullptr;
    for (DType t : node.input_dtypes) {
      if (t != DType::kFloat32 && t != DType::kUndefined) return nullptr;
    }
    const AttributeMap& attrs = *node.attrs;
    auto rank_is = [&](size_t i, size_t rank) {  // when the plan knows it
      return i >= node.input_shapes.size() || !node.input_shapes[i] ||
             node.input_shapes[i]->size() == rank;
    };
    if (auto it = UnaryOps().find(node.op_type); it != UnaryOps().end()) {
      return std::make_unique<UnaryKernel>(it->second);
    }
    if (auto it = BinaryOps().find(node.op_type); it != BinaryOps().end()) {
      const auto& shapes = node.input_shapes;
      if (shapes.size() == 2 && shapes[0] && shapes[1] && !SuffixOf(*shapes[0], *shapes[1]) &&
          !SuffixOf(*shapes[1], *shapes[0])) {
        return nullptr;
      }
      return std::make_unique<BinaryKernel>(it->second);
    }
    if (!rank_is(0, 2) || !rank_is(1, 2)) return nullptr;
    if (node.op_type == "MatMul") return std::make_unique<GemmKernel>(false, false, 1.0f, 0.0f);
    if (node.op_type == "Gemm") {
      return std::make_unique<GemmKernel>(attrs.GetInt("transA") != 0, attrs.GetInt("transB") != 0,
                                          attrs.GetFloat("alpha", 1.0f),
                                          attrs.GetFloat("beta", 1.0f));
    }
    if (node.op_type == "Transpose" &&
        attrs.GetInts("perm", {1, 0}) == std::vector<int64_t>{1, 0}) {
      return std::make_unique<TransposeKernel>();
    }
    return nullptr;
  }
};

CORTADO_REGISTER_BACKEND(CudaBackend);

}  // namespace
}  // namespace cortado
