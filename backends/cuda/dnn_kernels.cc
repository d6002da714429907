// The CUDA backend's kernels on cuDNN, float32 NCHW: Conv and FusedConv (the algorithm found once
// per input shape, AlgorithmCache), MaxPool / AveragePool / GlobalAveragePool / GlobalMaxPool,
// Softmax / LogSoftmax, and BatchNormalization in inference mode. kernel_params.h decides which
// nodes they take and computes their descriptors' dimensions.
#include <array>
#include <optional>
#include <string>

#include "backends/cuda/algorithm_cache.h"
#include "backends/cuda/cuda_common.h"
#include "backends/cuda/kernel_params.h"
#include "backends/cuda/kernels.h"
#include "ops/registry.h"

namespace cortado {
namespace cuda {
namespace {

// A 4-D NCHW tensor descriptor (float32 unless told), destroyed with it.
class TensorDescriptor {
 public:
  TensorDescriptor() = default;
  TensorDescriptor(const TensorDescriptor&) = delete;
  TensorDescriptor& operator=(const TensorDescriptor&) = delete;
  ~TensorDescriptor() {
    if (d_) cudnnDestroyTensorDescriptor(d_);
  }
  absl::Status Set(int n, int c, int h, int w, cudnnDataType_t type = CUDNN_DATA_FLOAT) {
    if (!d_) RETURN_IF_ERROR(DnnError(cudnnCreateTensorDescriptor(&d_), "tensor descriptor"));
    return DnnError(cudnnSetTensor4dDescriptor(d_, CUDNN_TENSOR_NCHW, type, n, c, h, w),
                    absl::StrCat("tensor descriptor (", n, ", ", c, ", ", h, ", ", w, ")"));
  }
  absl::Status Set(const Shape& s, cudnnDataType_t type = CUDNN_DATA_FLOAT) {  // 4-D
    for (int64_t d : s) {
      if (d > INT_MAX) return absl::InvalidArgumentError("a dimension is too large for cuDNN");
    }
    auto i = [](int64_t v) { return static_cast<int>(v); };
    return Set(i(s[0]), i(s[1]), i(s[2]), i(s[3]), type);
  }
  cudnnTensorDescriptor_t get() const { return d_; }

 private:
  cudnnTensorDescriptor_t d_ = nullptr;
};

absl::Status CheckRank4(const Tensor& x, absl::string_view op) {
  if (x.rank() == 4) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, " on cuDNN: a 4-D NCHW input, not ", ShapeToString(x.shape())));
}

// Convolution and filter descriptors, destroyed with them. x, w and y are in the convolution's
// data type; y_float describes the float32 output the bias is added to.
struct ConvDescriptors {
  TensorDescriptor x, y, y_float, bias;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  absl::Status Create() {
    RETURN_IF_ERROR(DnnError(cudnnCreateFilterDescriptor(&w), "cudnnCreateFilterDescriptor"));
    return DnnError(cudnnCreateConvolutionDescriptor(&conv), "cudnnCreateConvolutionDescriptor");
  }
  ~ConvDescriptors() {
    if (w) cudnnDestroyFilterDescriptor(w);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }
};

// ONNX Conv and ai.cortado FusedConv (ops/fused.h), 2-D NCHW float32 with symmetric pads, on
// cuDNN: the convolution (groups, strides, dilations), the bias added by cudnnAddTensor, then the
// residual Z and a Relu, Sigmoid or Tanh with our kernels. cuDNN's fastest algorithm for each
// input shape is found once (cudnnFindConvolutionForwardAlgorithm) and cached. By Precision:
// FMA math (float32 results); tensor-op math (TF32); or x and w converted to float16, the
// convolution in float16 with float32 accumulation (cuDNN's pseudo-half configuration) and its
// output converted back before the bias.
class ConvKernel final : public Kernel {
 public:
  ConvKernel(std::array<int, 2> pads, std::array<int, 2> strides, std::array<int, 2> dilations,
             int group, std::optional<Unary> activation, Precision precision)
      : pads_(pads),
        strides_(strides),
        dilations_(dilations),
        group_(group),
        activation_(activation),
        precision_(precision) {}
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
    const bool half = precision_ == Precision::kFloat16;
    const cudnnDataType_t type = half ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    const void* px = x->raw_data();
    const void* pw = w->raw_data();
    Tensor half_x, half_w, half_y;  // for float16, until the end of the call (allocator fences)
    if (half) {
      ASSIGN_OR_RETURN(half_x, ToHalf(*x, ctx, *s));
      ASSIGN_OR_RETURN(half_w, ToHalf(*w, ctx, *s));
      px = half_x.raw_data();
      pw = half_w.raw_data();
    }
    ConvDescriptors d;
    RETURN_IF_ERROR(d.Create());
    RETURN_IF_ERROR(d.x.Set(x->shape(), type));
    auto i = [](int64_t v) { return static_cast<int>(v); };
    RETURN_IF_ERROR(DnnError(cudnnSetFilter4dDescriptor(d.w, type, CUDNN_TENSOR_NCHW, i(w->dim(0)),
                                                        i(w->dim(1)), i(w->dim(2)), i(w->dim(3))),
                             "filter descriptor"));
    RETURN_IF_ERROR(
        DnnError(cudnnSetConvolution2dDescriptor(d.conv, pads_[0], pads_[1], strides_[0],
                                                 strides_[1], dilations_[0], dilations_[1],
                                                 CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                 "convolution descriptor"));
    RETURN_IF_ERROR(DnnError(cudnnSetConvolutionGroupCount(d.conv, group_), "group count"));
    RETURN_IF_ERROR(DnnError(
        cudnnSetConvolutionMathType(
            d.conv, precision_ == Precision::kFloat32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH),
        "math type"));
    int n = 0, c = 0, h = 0, wd = 0;
    RETURN_IF_ERROR(
        DnnError(cudnnGetConvolution2dForwardOutputDim(d.conv, d.x.get(), d.w, &n, &c, &h, &wd),
                 "output shape"));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, {n, c, h, wd}));
    RETURN_IF_ERROR(d.y.Set(n, c, h, wd, type));
    RETURN_IF_ERROR(d.y_float.Set(n, c, h, wd));
    void* py = y->raw_data();
    if (half) {
      ASSIGN_OR_RETURN(half_y, Tensor::Create(DType::kFloat16, y->shape(), ctx.allocator()));
      py = half_y.raw_data();
    }
    const std::string key = absl::StrCat(ShapeToString(x->shape()), " ", ShapeToString(w->shape()));
    ASSIGN_OR_RETURN(
        cudnnConvolutionFwdAlgo_t algo,
        algorithms_.GetOrSearch(key, [&]() -> absl::StatusOr<cudnnConvolutionFwdAlgo_t> {
          cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
          int found = 0;
          RETURN_IF_ERROR(DnnError(
              cudnnFindConvolutionForwardAlgorithm(s->dnn, d.x.get(), d.w, d.conv, d.y.get(),
                                                   CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &found, perf),
              "cudnnFindConvolutionForwardAlgorithm"));
          for (int k = 0; k < found; ++k) {  // fastest first
            if (perf[k].status == CUDNN_STATUS_SUCCESS) return perf[k].algo;
          }
          return absl::InternalError("cuDNN has no algorithm for this convolution");
        }));
    size_t workspace_bytes = 0;
    RETURN_IF_ERROR(DnnError(cudnnGetConvolutionForwardWorkspaceSize(
                                 s->dnn, d.x.get(), d.w, d.conv, d.y.get(), algo, &workspace_bytes),
                             "workspace size"));
    Tensor workspace;
    if (workspace_bytes > 0) {
      ASSIGN_OR_RETURN(
          workspace,
          Tensor::Create(DType::kUInt8, {static_cast<int64_t>(workspace_bytes)}, ctx.allocator()));
    }
    const float one = 1.0f, zero = 0.0f;
    RETURN_IF_ERROR(
        DnnError(cudnnConvolutionForward(s->dnn, &one, d.x.get(), px, d.w, pw, d.conv, algo,
                                         workspace_bytes > 0 ? workspace.raw_data() : nullptr,
                                         workspace_bytes, &zero, d.y.get(), py),
                 "cudnnConvolutionForward"));
    const int64_t count = y->num_elements();
    if (half) {
      RETURN_IF_ERROR(
          CudaError(LaunchHalfToFloat(py, y->data<float>(), count, s->stream), "to float32"));
    }
    if (b != nullptr) {
      if (b->num_elements() != c) return absl::InvalidArgumentError("Conv: one bias per channel");
      RETURN_IF_ERROR(d.bias.Set(1, c, 1, 1));
      RETURN_IF_ERROR(DnnError(cudnnAddTensor(s->dnn, &one, d.bias.get(), b->data<float>(), &one,
                                              d.y_float.get(), y->data<float>()),
                               "cudnnAddTensor"));
    }
    if (z != nullptr) {
      if (z->num_elements() != count) {
        return absl::InvalidArgumentError("FusedConv: Z is not Y's size");
      }
      RETURN_IF_ERROR(
          CudaError(LaunchBinary(Binary::kAdd, y->data<float>(), count, z->data<float>(), count,
                                 y->data<float>(), count, s->stream),
                    "residual add"));
    }
    if (activation_) {
      RETURN_IF_ERROR(CudaError(
          LaunchUnary(*activation_, 0, 0, y->data<float>(), y->data<float>(), count, s->stream),
          "activation"));
    }
    return absl::OkStatus();
  }

 private:
  const std::array<int, 2> pads_, strides_, dilations_;
  const int group_;
  const std::optional<Unary> activation_;
  const Precision precision_;
  mutable AlgorithmCache<cudnnConvolutionFwdAlgo_t> algorithms_;  // by input and weight shape
};

// A Conv or FusedConv node cuDNN runs as ConvKernel, or nullptr.
std::unique_ptr<Kernel> MakeConv(const KernelInfo& node, Precision precision) {
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
  std::optional<Unary> activation;
  const std::string act = fused ? attrs.GetString("activation") : "";
  if (!act.empty()) {
    activation = ActivationFor(act);
    if (!activation) return nullptr;
  }
  auto i = [](int64_t v) { return static_cast<int>(v); };
  return std::make_unique<ConvKernel>(std::array<int, 2>{i(pads[0]), i(pads[1])},
                                      std::array<int, 2>{i(strides[0]), i(strides[1])},
                                      std::array<int, 2>{i(dilations[0]), i(dilations[1])},
                                      i(attrs.GetInt("group", 1)), activation, precision);
}

// MaxPool, AveragePool and the global pools (PoolFor) on cudnnPoolingForward.
class PoolKernel final : public Kernel {
 public:
  explicit PoolKernel(Pool2d p) : p_(p) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    RETURN_IF_ERROR(CheckRank4(*x, "pooling"));
    std::array<int, 2> window = p_.window;
    if (p_.global) {
      if (x->dim(2) > INT_MAX || x->dim(3) > INT_MAX || x->dim(2) < 1 || x->dim(3) < 1) {
        return absl::InvalidArgumentError("global pooling on cuDNN: an empty or too large window");
      }
      window = {static_cast<int>(x->dim(2)), static_cast<int>(x->dim(3))};
    }
    const cudnnPoolingMode_t mode = p_.max ? CUDNN_POOLING_MAX
                                    : p_.count_include_pad
                                        ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                        : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
    cudnnPoolingDescriptor_t pool = nullptr;
    RETURN_IF_ERROR(DnnError(cudnnCreatePoolingDescriptor(&pool), "pooling descriptor"));
    std::unique_ptr<cudnnPoolingStruct, cudnnStatus_t (*)(cudnnPoolingDescriptor_t)> owned(
        pool, cudnnDestroyPoolingDescriptor);
    RETURN_IF_ERROR(
        DnnError(cudnnSetPooling2dDescriptor(pool, mode, CUDNN_PROPAGATE_NAN, window[0], window[1],
                                             p_.pads[0], p_.pads[1], p_.strides[0], p_.strides[1]),
                 "pooling descriptor"));
    TensorDescriptor xd, yd;
    RETURN_IF_ERROR(xd.Set(x->shape()));
    int n = 0, c = 0, h = 0, w = 0;
    RETURN_IF_ERROR(DnnError(cudnnGetPooling2dForwardOutputDim(pool, xd.get(), &n, &c, &h, &w),
                             "pooling output shape"));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, {n, c, h, w}));
    if (y->num_elements() == 0) return absl::OkStatus();
    RETURN_IF_ERROR(yd.Set(n, c, h, w));
    const float one = 1.0f, zero = 0.0f;
    return DnnError(cudnnPoolingForward(s->dnn, pool, &one, xd.get(), x->data<float>(), &zero,
                                        yd.get(), y->data<float>()),
                    "cudnnPoolingForward");
  }

 private:
  const Pool2d p_;
};

// Softmax and LogSoftmax (SoftmaxFor) on cudnnSoftmaxForward's channel mode.
class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(bool log, int64_t axis, int opset) : log_(log), axis_(axis), opset_(opset) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(SoftmaxDims d, SoftmaxFor(x->shape(), axis_, opset_));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, x->shape()));
    if (y->num_elements() == 0) return absl::OkStatus();
    TensorDescriptor desc;
    RETURN_IF_ERROR(desc.Set(d.n, d.c, d.inner, 1));
    const float one = 1.0f, zero = 0.0f;
    return DnnError(cudnnSoftmaxForward(s->dnn, log_ ? CUDNN_SOFTMAX_LOG : CUDNN_SOFTMAX_ACCURATE,
                                        CUDNN_SOFTMAX_MODE_CHANNEL, &one, desc.get(),
                                        x->data<float>(), &zero, desc.get(), y->data<float>()),
                    "cudnnSoftmaxForward");
  }

 private:
  const bool log_;
  const int64_t axis_;
  const int opset_;
};

// BatchNormalization in inference mode: cudnnBatchNormalizationForwardInference, spatial, with
// the input as (N, C, rest, 1) (BatchNormDims).
class BatchNormKernel final : public Kernel {
 public:
  explicit BatchNormKernel(double epsilon) : epsilon_(epsilon) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    using Dims = std::array<int, 4>;
    ASSIGN_OR_RETURN(Dims d, BatchNormDims(x->shape()));
    const Tensor* params[4];
    for (int i = 0; i < 4; ++i) {
      ASSIGN_OR_RETURN(params[i], ctx.RequiredInput(i + 1));
      if (params[i]->num_elements() != d[1]) {
        return absl::InvalidArgumentError(absl::StrCat("BatchNormalization: input ", i + 1, " has ",
                                                       params[i]->num_elements(), " elements for ",
                                                       d[1], " channels"));
      }
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, x->shape()));
    if (y->num_elements() == 0) return absl::OkStatus();
    TensorDescriptor xd, bn;
    RETURN_IF_ERROR(xd.Set(d[0], d[1], d[2], d[3]));
    RETURN_IF_ERROR(bn.Set(1, d[1], 1, 1));
    const float one = 1.0f, zero = 0.0f;
    return DnnError(
        cudnnBatchNormalizationForwardInference(
            s->dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, xd.get(), x->data<float>(), xd.get(),
            y->data<float>(), bn.get(), params[0]->data<float>(), params[1]->data<float>(),
            params[2]->data<float>(), params[3]->data<float>(), epsilon_),
        "cudnnBatchNormalizationForwardInference");
  }

 private:
  const double epsilon_;
};

}  // namespace

std::unique_ptr<Kernel> MakeDnnKernel(const KernelInfo& node, Precision precision) {
  for (size_t i = 0; i < node.input_dtypes.size(); ++i) {
    if (!InputDTypeIn(node, i, {DType::kFloat32})) return nullptr;
  }
  if (std::unique_ptr<Kernel> conv = MakeConv(node, precision)) return conv;
  if (std::optional<Pool2d> p = PoolFor(node)) return std::make_unique<PoolKernel>(*p);
  if (node.domain.empty() && (node.op_type == "Softmax" || node.op_type == "LogSoftmax")) {
    const int64_t axis = node.attrs->GetInt("axis", node.opset >= 13 ? -1 : 1);
    return std::make_unique<SoftmaxKernel>(node.op_type == "LogSoftmax", axis, node.opset);
  }
  if (std::optional<double> epsilon = BatchNormFor(node)) {
    return std::make_unique<BatchNormKernel>(*epsilon);
  }
  return nullptr;
}

}  // namespace cuda
}  // namespace cortado
