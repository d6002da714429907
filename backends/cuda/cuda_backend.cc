// The CUDA backend (device cuda:0): float32 elementwise ops and a transpose as our own kernels
// (kernels.cu), MatMul and Gemm on cuBLAS, Conv and FusedConv on cuDNN (the algorithm found once
// per input shape, AlgorithmCache). Device memory comes from a CachingAllocator whose fences are
// events on the legacy default stream (which follows every blocking stream). Each run gets a
// stream from a pool, with its cuBLAS and cuDNN handles and a pinned staging buffer for uploads.
// TF32 is off everywhere (cuBLAS's default; cuDNN told CUDNN_FMA_MATH), so results are float32's.
// On a machine without a CUDA device (or driver) it supports nothing, so plans never place work
// on it.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <array>
#include <cstring>
#include <map>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "backends/backend.h"
#include "backends/cuda/algorithm_cache.h"
#include "backends/cuda/caching_allocator.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/stream_pool.h"

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

absl::Status DnnError(cudnnStatus_t s, absl::string_view what) {
  if (s == CUDNN_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", cudnnGetErrorString(s)));
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
  cudnnHandle_t dnn = nullptr;
  void* staging = nullptr;  // pinned host memory for uploads
  size_t staging_bytes = 0;
  cudaEvent_t staged = nullptr;  // the last upload out of `staging` has finished
  ~StreamState() {
    if (stream) cudaStreamSynchronize(stream);
    if (blas) cublasDestroy(blas);
    if (dnn) cudnnDestroy(dnn);
    if (staged) cudaEventDestroy(staged);
    if (staging) cudaFreeHost(staging);
    if (stream) cudaStreamDestroy(stream);
  }
};

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

// One convolution's cuDNN descriptors, destroyed with it.
struct ConvDescriptors {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  absl::Status Create() {
    RETURN_IF_ERROR(DnnError(cudnnCreateTensorDescriptor(&x), "cudnnCreateTensorDescriptor"));
    RETURN_IF_ERROR(DnnError(cudnnCreateTensorDescriptor(&y), "cudnnCreateTensorDescriptor"));
    RETURN_IF_ERROR(DnnError(cudnnCreateTensorDescriptor(&bias), "cudnnCreateTensorDescriptor"));
    RETURN_IF_ERROR(DnnError(cudnnCreateFilterDescriptor(&w), "cudnnCreateFilterDescriptor"));
    return DnnError(cudnnCreateConvolutionDescriptor(&conv), "cudnnCreateConvolutionDescriptor");
  }
  ~ConvDescriptors() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (bias) cudnnDestroyTensorDescriptor(bias);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }
};

// ONNX Conv and ai.cortado FusedConv (ops/fused.h), 2-D NCHW float32 with symmetric pads, on
// cuDNN: the convolution (groups, strides, dilations), the bias added by cudnnAddTensor, then the
// residual Z and a Relu, Sigmoid or Tanh with our kernels. cuDNN's fastest algorithm for each
// input shape is found once (cudnnFindConvolutionForwardAlgorithm) and cached.
class ConvKernel final : public Kernel {
 public:
  ConvKernel(std::array<int, 2> pads, std::array<int, 2> strides, std::array<int, 2> dilations,
             int group, std::optional<cuda::Unary> activation)
      : pads_(pads),
        strides_(strides),
        dilations_(dilations),
        group_(group),
        activation_(activation) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* w, ctx.RequiredInput(1));
    const Tensor* b = ctx.input(2);
    const Tensor* z = ctx.input(3);
    if (x->rank() != 4 || w->rank() != 4 || x->dim(1) != w->dim(1) * group_ ||
        w->dim(0) % group_ != 0) {
      return absl::InvalidArgumentError("Conv on cuDNN: 4-D NCHW input and weights of its group");
    }
    ConvDescriptors d;
    RETURN_IF_ERROR(d.Create());
    auto i = [](int64_t v) { return static_cast<int>(v); };
    RETURN_IF_ERROR(
        DnnError(cudnnSetTensor4dDescriptor(d.x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, i(x->dim(0)),
                                            i(x->dim(1)), i(x->dim(2)), i(x->dim(3))),
                 "input descriptor"));
    RETURN_IF_ERROR(
        DnnError(cudnnSetFilter4dDescriptor(d.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, i(w->dim(0)),
                                            i(w->dim(1)), i(w->dim(2)), i(w->dim(3))),
                 "filter descriptor"));
    RETURN_IF_ERROR(
        DnnError(cudnnSetConvolution2dDescriptor(d.conv, pads_[0], pads_[1], strides_[0],
                                                 strides_[1], dilations_[0], dilations_[1],
                                                 CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                 "convolution descriptor"));
    RETURN_IF_ERROR(DnnError(cudnnSetConvolutionGroupCount(d.conv, group_), "group count"));
    RETURN_IF_ERROR(DnnError(cudnnSetConvolutionMathType(d.conv, CUDNN_FMA_MATH), "math type"));
    int n = 0, c = 0, h = 0, wd = 0;
    RETURN_IF_ERROR(DnnError(
        cudnnGetConvolution2dForwardOutputDim(d.conv, d.x, d.w, &n, &c, &h, &wd), "output shape"));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, {n, c, h, wd}));
    RETURN_IF_ERROR(
        DnnError(cudnnSetTensor4dDescriptor(d.y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, wd),
                 "output descriptor"));
    const std::string key = absl::StrCat(ShapeToString(x->shape()), " ", ShapeToString(w->shape()));
    ASSIGN_OR_RETURN(
        cudnnConvolutionFwdAlgo_t algo,
        algorithms_.GetOrSearch(key, [&]() -> absl::StatusOr<cudnnConvolutionFwdAlgo_t> {
          cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
          int found = 0;
          RETURN_IF_ERROR(DnnError(
              cudnnFindConvolutionForwardAlgorithm(s->dnn, d.x, d.w, d.conv, d.y,
                                                   CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &found, perf),
              "cudnnFindConvolutionForwardAlgorithm"));
          for (int k = 0; k < found; ++k) {  // fastest first
            if (perf[k].status == CUDNN_STATUS_SUCCESS) return perf[k].algo;
          }
          return absl::InternalError("cuDNN has no algorithm for this convolution");
        }));
    size_t workspace_bytes = 0;
    RETURN_IF_ERROR(DnnError(cudnnGetConvolutionForwardWorkspaceSize(s->dnn, d.x, d.w, d.conv, d.y,
                                                                     algo, &workspace_bytes),
                             "workspace size"));
    Tensor workspace;
    if (workspace_bytes > 0) {
      ASSIGN_OR_RETURN(
          workspace,
          Tensor::Create(DType::kUInt8, {static_cast<int64_t>(workspace_bytes)}, ctx.allocator()));
    }
    const float one = 1.0f, zero = 0.0f;
    RETURN_IF_ERROR(DnnError(
        cudnnConvolutionForward(s->dnn, &one, d.x, x->data<float>(), d.w, w->data<float>(), d.conv,
                                algo, workspace_bytes > 0 ? workspace.raw_data() : nullptr,
                                workspace_bytes, &zero, d.y, y->data<float>()),
        "cudnnConvolutionForward"));
    if (b != nullptr) {
      if (b->num_elements() != c) return absl::InvalidArgumentError("Conv: one bias per channel");
      RETURN_IF_ERROR(DnnError(
          cudnnSetTensor4dDescriptor(d.bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, c, 1, 1),
          "bias descriptor"));
      RETURN_IF_ERROR(DnnError(
          cudnnAddTensor(s->dnn, &one, d.bias, b->data<float>(), &one, d.y, y->data<float>()),
          "cudnnAddTensor"));
    }
    const int64_t count = y->num_elements();
    if (z != nullptr) {
      if (z->num_elements() != count)
        return absl::InvalidArgumentError("FusedConv: Z is not Y's size");
      RETURN_IF_ERROR(
          CudaError(cuda::LaunchBinary(cuda::Binary::kAdd, y->data<float>(), count,
                                       z->data<float>(), count, y->data<float>(), count, s->stream),
                    "residual add"));
    }
    if (activation_) {
      RETURN_IF_ERROR(CudaError(
          cuda::LaunchUnary(*activation_, y->data<float>(), y->data<float>(), count, s->stream),
          "activation"));
    }
    return absl::OkStatus();
  }

 private:
  const std::array<int, 2> pads_, strides_, dilations_;
  const int group_;
  const std::optional<cuda::Unary> activation_;
  mutable AlgorithmCache<cudnnConvolutionFwdAlgo_t> algorithms_;  // by input and weight shape
};

// A Conv or FusedConv node cuDNN runs as ConvKernel, or nullptr.
std::unique_ptr<Kernel> MakeConv(const KernelInfo& node) {
  const AttributeMap& attrs = *node.attrs;
  const bool fused = node.domain == kFusedDomain && node.op_type == "FusedConv";
  if (!fused && !(node.domain.empty() && node.op_type == "Conv")) return nullptr;
  if (attrs.GetString("auto_pad", "NOTSET") != "NOTSET") return nullptr;
  for (size_t k = 0; k < 2 && k < node.input_shapes.size(); ++k) {
    if (node.input_shapes[k] && node.input_shapes[k]->size() != 4) return nullptr;
  }
  const std::vector<int64_t> pads = attrs.GetInts("pads", {0, 0, 0, 0});
  const std::vector<int64_t> strides = attrs.GetInts("strides", {1, 1});
  const std::vector<int64_t> dilations = attrs.GetInts("dilations", {1, 1});
  if (pads.size() != 4 || pads[0] != pads[2] || pads[1] != pads[3] || strides.size() != 2 ||
      dilations.size() != 2) {
    return nullptr;  // cuDNN pads both sides alike
  }
  std::optional<cuda::Unary> activation;
  const std::string act = fused ? attrs.GetString("activation") : "";
  if (!act.empty()) {
    auto it = UnaryOps().find(act);
    if (it == UnaryOps().end() || (act != "Relu" && act != "Sigmoid" && act != "Tanh")) {
      return nullptr;
    }
    activation = it->second;
  }
  auto i = [](int64_t v) { return static_cast<int>(v); };
  return std::make_unique<ConvKernel>(std::array<int, 2>{i(pads[0]), i(pads[1])},
                                      std::array<int, 2>{i(strides[0]), i(strides[1])},
                                      std::array<int, 2>{i(dilations[0]), i(dilations[1])},
                                      i(attrs.GetInt("group", 1)), activation);
}

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
  static std::unique_ptr<Kernel> Make(const KernelInfo& node) {
    if (!HaveDevice()) return nullptr;
    for (DType t : node.input_dtypes) {
      if (t != DType::kFloat32 && t != DType::kUndefined) return nullptr;
    }
    if (std::unique_ptr<Kernel> conv = MakeConv(node)) return conv;
    if (!node.domain.empty()) return nullptr;
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
