// The CUDA backend's arithmetic, float32: elementwise unary ops (with Clip, LeakyRelu,
// HardSigmoid, HardSwish) and binary ops broadcasting one operand over leading dimensions as our
// own kernels; Gemm and MatMul (batch dims broadcast whole, kernel_params.h's MatMulFor) as one
// cublasGemmStridedBatchedEx call, its products in the backend's Precision; ReduceSum /
// ReduceMean / ReduceMax over constant axes as our own kernel.
#include <map>
#include <string>
#include <vector>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/kernel_params.h"
#include "backends/cuda/kernels.h"
#include "ops/reduce.h"

namespace cortado {
namespace cuda {
namespace {

// Inputs from `first` on are constants the kernel read when it was made (bounds, axes): they
// stay on the host and the plan need not keep them.
class HostConstantsFrom : public Kernel {
 public:
  explicit HostConstantsFrom(int first) : first_(first) {}
  bool InputOnHost(int i) const override { return i >= first_; }
  bool OwnsConstantInput(int i) const override { return i >= first_; }

 private:
  const int first_;
};

class UnaryKernel final : public HostConstantsFrom {
 public:
  explicit UnaryKernel(UnaryOp op) : HostConstantsFrom(1), op_(op) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, x->shape()));
    return CudaError(LaunchUnary(op_.op, op_.alpha, op_.beta, x->data<float>(), y->data<float>(),
                                 y->num_elements(), s->stream),
                     "unary kernel");
  }

 private:
  const UnaryOp op_;
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
  explicit BinaryKernel(Binary op) : op_(op) {}
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
        LaunchBinary(op_, a->data<float>(), a->num_elements(), b->data<float>(), b->num_elements(),
                     y->data<float>(), y->num_elements(), s->stream),
        "binary kernel");
  }

 private:
  const Binary op_;
};

// Row-major Y = alpha op(A) op(B) + beta Y for `batch` matrices (A's `stride_a` elements apart,
// B's `stride_b`, Y's m n), as cuBLAS's column-major Y^T = op(B)^T op(A)^T: float32 in and out,
// the products in `precision` (float16: A and B converted first, float32 accumulation).
absl::Status RowMajorGemm(KernelContext& ctx, StreamState& s, Precision precision, bool trans_a,
                          bool trans_b, const BatchedGemm& g, float alpha, const Tensor& a,
                          const Tensor& b, float beta, float* y) {
  const void* pa = a.raw_data();
  const void* pb = b.raw_data();
  cudaDataType_t in = CUDA_R_32F;
  Tensor half_a, half_b;  // in float16, until the end of the call (the allocator's fences)
  if (precision == Precision::kFloat16) {
    ASSIGN_OR_RETURN(half_a, ToHalf(a, ctx, s));
    ASSIGN_OR_RETURN(half_b, ToHalf(b, ctx, s));
    pa = half_a.raw_data();
    pb = half_b.raw_data();
    in = CUDA_R_16F;
  }
  return BlasError(
      cublasGemmStridedBatchedEx(
          s.blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, g.n,
          g.m, g.k, &alpha, pb, in, trans_b ? g.k : g.n, g.stride_b, pa, in, trans_a ? g.m : g.k,
          g.stride_a, &beta, y, CUDA_R_32F, g.n, static_cast<int64_t>(g.m) * g.n, g.batch,
          precision == Precision::kTf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F,
          CUBLAS_GEMM_DEFAULT),
      "cublasGemmStridedBatchedEx");
}

// ONNX Gemm: Y[M,N] = alpha op(A) op(B) + beta C, C broadcast as a scalar, a row or whole.
class GemmKernel final : public Kernel {
 public:
  GemmKernel(bool trans_a, bool trans_b, float alpha, float beta, Precision precision)
      : trans_a_(trans_a), trans_b_(trans_b), alpha_(alpha), beta_(beta), precision_(precision) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    const Tensor* c = ctx.input(2);
    if (a->rank() != 2 || b->rank() != 2) return absl::InvalidArgumentError("2-D operands only");
    const int64_t m = trans_a_ ? a->dim(1) : a->dim(0), k = trans_a_ ? a->dim(0) : a->dim(1);
    const int64_t kb = trans_b_ ? b->dim(1) : b->dim(0), n = trans_b_ ? b->dim(0) : b->dim(1);
    if (k != kb) return absl::InvalidArgumentError("inner dimensions differ");
    ASSIGN_OR_RETURN(BatchedGemm g, MatMulFor({m, k}, {k, n}));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, {m, n}));
    float beta = 0;
    if (c != nullptr) {
      const int64_t nc = c->num_elements();
      if (nc != m * n && !(nc == n && c->dim(c->rank() - 1) == n) && nc != 1) {
        return absl::InvalidArgumentError("C broadcasts only as a scalar, a row or the output");
      }
      RETURN_IF_ERROR(CudaError(LaunchBinary(Binary::kFirst, c->data<float>(), nc, c->data<float>(),
                                             nc, y->data<float>(), m * n, s->stream),
                                "broadcast C"));
      beta = beta_;
    }
    return RowMajorGemm(ctx, *s, precision_, trans_a_, trans_b_, g, alpha_, *a, *b, beta,
                        y->data<float>());
  }

 private:
  const bool trans_a_, trans_b_;
  const float alpha_, beta_;
  const Precision precision_;
};

// ONNX MatMul, batched (MatMulFor).
class MatMulKernel final : public Kernel {
 public:
  explicit MatMulKernel(Precision precision) : precision_(precision) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(BatchedGemm g, MatMulFor(a->shape(), b->shape()));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, g.out));
    if (y->num_elements() == 0) return absl::OkStatus();
    if (g.k == 0) {
      return CudaError(cudaMemsetAsync(y->raw_data(), 0, y->nbytes(), s->stream), "zero MatMul");
    }
    return RowMajorGemm(ctx, *s, precision_, false, false, g, 1.0f, *a, *b, 0.0f, y->data<float>());
  }

 private:
  const Precision precision_;
};

// ReduceSum, ReduceMean and ReduceMax over axes known when the kernel is made (ReduceFor).
class ReduceKernel final : public HostConstantsFrom {
 public:
  ReduceKernel(Reduce op, std::vector<int64_t> axes, bool keepdims)
      : HostConstantsFrom(1), op_(op), axes_(std::move(axes)), keepdims_(keepdims) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(StreamState * s, StateOf(ctx));
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(ReducePlan p, ReduceFor(x->shape(), axes_, keepdims_));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, p.out_shape));
    return CudaError(
        LaunchReduce(op_, x->data<float>(), y->data<float>(), p.out, p.reduced, s->stream),
        "reduce kernel");
  }

 private:
  const Reduce op_;
  const std::vector<int64_t> axes_;
  const bool keepdims_;
};

std::unique_ptr<Kernel> MakeReduce(const KernelInfo& node) {
  static const auto* ops = new std::map<std::string, Reduce>{
      {"ReduceSum", Reduce::kSum}, {"ReduceMean", Reduce::kMean}, {"ReduceMax", Reduce::kMax}};
  auto it = ops->find(node.op_type);
  if (it == ops->end()) return nullptr;
  std::vector<int64_t> axes = node.attrs->GetInts("axes");
  if (node.opset >= AxesInputSince(node.op_type) && node.input_dtypes.size() > 1 &&
      node.input_dtypes[1] != DType::kUndefined) {
    if (!IsConstant(node, 1)) return nullptr;
    absl::StatusOr<std::vector<int64_t>> values = node.constant_inputs[1]->ToInt64Vector();
    if (!values.ok()) return nullptr;
    axes = *std::move(values);
  }
  if (axes.empty() && node.attrs->GetInt("noop_with_empty_axes", 0) != 0) return nullptr;
  if (!node.input_shapes.empty() && node.input_shapes[0] &&
      node.input_shapes[0]->size() > static_cast<size_t>(kMaxRank)) {
    return nullptr;
  }
  return std::make_unique<ReduceKernel>(it->second, std::move(axes),
                                        node.attrs->GetInt("keepdims", 1) != 0);
}

}  // namespace

std::unique_ptr<Kernel> MakeMathKernel(const KernelInfo& node, Precision precision) {
  if (!node.domain.empty() || !InputDTypeIn(node, 0, {DType::kFloat32})) return nullptr;
  if (std::optional<UnaryOp> op = UnaryFor(node)) return std::make_unique<UnaryKernel>(*op);
  if (std::unique_ptr<Kernel> reduce = MakeReduce(node)) return reduce;
  // The rest take float32 inputs alone.
  for (size_t i = 1; i < node.input_dtypes.size(); ++i) {
    if (!InputDTypeIn(node, i, {DType::kFloat32})) return nullptr;
  }
  static const auto* binary = new std::map<std::string, Binary>{
      {"Add", Binary::kAdd}, {"Sub", Binary::kSub}, {"Mul", Binary::kMul}, {"Div", Binary::kDiv}};
  const auto& shapes = node.input_shapes;
  auto shape = [&](size_t i) { return i < shapes.size() ? shapes[i] : std::nullopt; };
  if (auto it = binary->find(node.op_type); it != binary->end()) {
    if (shape(0) && shape(1) && !SuffixOf(*shape(0), *shape(1)) &&
        !SuffixOf(*shape(1), *shape(0))) {
      return nullptr;
    }
    return std::make_unique<BinaryKernel>(it->second);
  }
  if (node.op_type == "MatMul") {
    if (!MatMulMayFit(shape(0), shape(1))) return nullptr;
    return std::make_unique<MatMulKernel>(precision);
  }
  if (node.op_type == "Gemm") {
    for (size_t i = 0; i < 2; ++i) {
      if (shape(i) && shape(i)->size() != 2) return nullptr;
    }
    if (!GemmBiasFits(shape(2))) return nullptr;
    const AttributeMap& attrs = *node.attrs;
    return std::make_unique<GemmKernel>(attrs.GetInt("transA") != 0, attrs.GetInt("transB") != 0,
                                        attrs.GetFloat("alpha", 1.0f), attrs.GetFloat("beta", 1.0f),
                                        precision);
  }
  return nullptr;
}

}  // namespace cuda
}  // namespace cortado
