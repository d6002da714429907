// Matrix products on oneDNN. FusedMatMul: A of any rank >= 2 (leading dimensions flattened)
// times constant 2-D weights, packed once; a bias row or a same-shape residual, and the
// activation, as post-ops. MatMul of two per-run operands (attention's Q K^T and weights V):
// batched, with numpy broadcasting of the batch dimensions.
#include "backends/onednn/onednn_util.h"
#include "ops/registry.h"

namespace cortado {
namespace onednn {
namespace {

// ---------------------------------------------------------------------------------------------

class MatMulKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const std::vector<const Tensor*>& c = info.constant_inputs;
    if (!IsF32(info, 0) || c.size() < 2 || c[1] == nullptr || c[1]->rank() != 2 ||
        c[1]->dtype() != DType::kFloat32) {
      return Unimplemented("FusedMatMul", "needs float32 and constant 2-D weights");
    }
    std::unique_ptr<MatMulKernel> k(new MatMulKernel());
    k->k_ = c[1]->dim(0);
    k->n_ = c[1]->dim(1);
    k->weights_ =
        std::make_unique<PackedWeights>(*c[1], memory::desc({k->k_, k->n_}, kF32, Tag::ab));
    if (std::optional<Shape> a = HintShape(info, 0); a && !a->empty()) {
      k->hint_m_ = NumElements(*a) / std::max<int64_t>(a->back(), 1);
    }
    const int64_t n = k->n_;
    if (info.input_dtypes.size() > 2 && info.input_dtypes[2] != DType::kUndefined) {
      const Tensor* addend = c.size() > 2 ? c[2] : nullptr;
      if (addend == nullptr) {
        k->residual_ = true;
      } else {
        bool per_column = addend->dtype() == DType::kFloat32 && addend->num_elements() == n &&
                          addend->rank() >= 1 && addend->shape().back() == n;
        if (!per_column) return Unimplemented("FusedMatMul", "a constant C other than a bias row");
        k->bias_ = *addend;
      }
    }
    const std::string activation = info.attrs->GetString("activation");
    if (!activation.empty()) {
      k->eltwise_ = ToEltwise(activation, info.attrs->GetFloats("activation_params"));
      if (!k->eltwise_) return Unimplemented("FusedMatMul", "no oneDNN post-op for " + activation);
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    const int64_t k = k_, n = n_;
    if (a->rank() < 2 || a->dtype() != DType::kFloat32 || a->shape().back() != k) {
      return absl::InvalidArgumentError(absl::StrCat("FusedMatMul: A of shape ",
                                                     ShapeToString(a->shape()),
                                                     " does not multiply weights of ", k, " rows"));
    }
    const int64_t m = a->num_elements() / k;
    Shape y_shape = a->shape();
    y_shape.back() = n;
    const CoreShare share;
    ASSIGN_OR_RETURN(auto entry, cache_.Get({m}, share.threads(), [&] { return Build(m); }));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, y_shape));
    if (residual_) RETURN_IF_ERROR(StartFromAddend("FusedMatMul: C", ctx.input(2), y));
    return Guarded(share.threads(), [&] { return entry->Execute({a->raw_data(), y->raw_data()}); });
  }

 private:
  // Builds the primitive for the plan's shape, weights packed, so the first request finds it.
  absl::Status Prepare() override {
    if (hint_m_ < 1) return absl::OkStatus();
    return cache_.Get({hint_m_}, IntraOpThreads(), [&] { return Build(hint_m_); }).status();
  }

  bool OwnsConstantInput(int i) const override { return i == 1; }
  bool MayOverwriteInput(int i) const override { return i == 2 && residual_; }

 private:
  using Entry = BoundPrimitive;

  absl::StatusOr<std::shared_ptr<const Entry>> Build(int64_t m) const {
    const int64_t k = k_, n = n_;
    memory::desc src({m, k}, kF32, Tag::ab), dst({m, n}, kF32, Tag::ab);
    memory::desc w_any({k, n}, kF32, Tag::any);
    memory::desc b_md = bias_.defined() ? memory::desc({1, n}, kF32, Tag::ab) : memory::desc();
    dnnl::post_ops post;
    if (residual_) post.append_sum(1.0f);
    if (eltwise_) post.append_eltwise(1.0f, eltwise_->alg, eltwise_->alpha, eltwise_->beta);
    dnnl::primitive_attr attr = UserScratchpad();
    attr.set_post_ops(post);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, w_any, b_md, dst), attr, Engine());
    std::unordered_map<int, memory> fixed = {{DNNL_ARG_WEIGHTS, weights_->As(pd.weights_desc())}};
    if (bias_.defined()) {
      fixed.emplace(DNNL_ARG_BIAS, memory(b_md, Engine(), const_cast<void*>(bias_.raw_data())));
    }
    return std::make_shared<const Entry>(pd, std::vector<int>{DNNL_ARG_SRC, DNNL_ARG_DST},
                                         std::move(fixed));
  }

  MatMulKernel() = default;
  int64_t k_ = 0, n_ = 0;
  std::unique_ptr<PackedWeights> weights_;
  Tensor bias_;  // shared with the plan's constants
  int64_t hint_m_ = 0;
  bool residual_ = false;
  std::optional<EltwiseOp> eltwise_;
  PrimitiveCache<Entry> cache_;
};

// MatMul of per-run float32 operands of rank >= 2; 1-D operands, products under 16384
// multiply-adds and shapes oneDNN refuses go to the FallbackKernel (cpu_opt's).
// (bench/onednn_bench, four heads' Q K^T for sequences of 8 to 128, oneDNN / cpu_opt at 1 thread:
// 0.4-0.8 in the quietest of three runs, 0.5-1.7 in the others.)
class BatchedMatMulKernel final : public WithFallback {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    if (!IsF32(info, 0) || !IsF32(info, 1)) return Unimplemented("MatMul", "float32 only");
    std::unique_ptr<BatchedMatMulKernel> k(new BatchedMatMulKernel());
    RETURN_IF_ERROR(k->InitFallback(info));
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    if (a->dtype() != DType::kFloat32 || b->dtype() != DType::kFloat32 || a->rank() < 2 ||
        b->rank() < 2 || a->shape().back() != b->dim(b->rank() - 2)) {
      return fallback_->Compute(ctx);
    }
    // Both at one rank, with leading 1s; the batch dimensions broadcast.
    const int rank = std::max(a->rank(), b->rank());
    Shape sa = a->shape(), sb = b->shape();
    sa.insert(sa.begin(), rank - a->rank(), 1);
    sb.insert(sb.begin(), rank - b->rank(), 1);
    Shape out = sa;
    out.back() = sb.back();
    for (int i = 0; i < rank - 2; ++i) {
      if (sa[i] != sb[i] && sa[i] != 1 && sb[i] != 1) return fallback_->Compute(ctx);
      out[i] = std::max(sa[i], sb[i]);
    }
    if (NumElements(out) * sa.back() < Threshold(16384) || NumElements(out) == 0) {
      return fallback_->Compute(ctx);
    }
    std::vector<int64_t> key = sa;
    key.insert(key.end(), sb.begin(), sb.end());
    const CoreShare share;
    auto entry =
        cache_.Get(key, share.threads(), [&]() -> absl::StatusOr<std::shared_ptr<const Entry>> {
          dnnl::matmul::desc desc(Plain(Dims(sa)), Plain(Dims(sb)), Plain(Dims(out)));
          dnnl::matmul::primitive_desc pd(desc, UserScratchpad(), Engine());
          return std::make_shared<const Entry>(
              pd, std::vector<int>{DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
              std::unordered_map<int, memory>{});
        });
    if (!entry.ok()) return fallback_->Compute(ctx);  // a broadcast oneDNN does not take
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, out));
    return Guarded(share.threads(), [&] {
      return (*entry)->Execute({a->raw_data(), b->raw_data(), y->raw_data()});
    });
  }

 private:
  using Entry = BoundPrimitive;
  BatchedMatMulKernel() = default;
  PrimitiveCache<Entry> cache_;
};

}  // namespace

CORTADO_REGISTER_KERNEL("MatMul", kOnednn, 1, kMaxOpset, {DType::kFloat32},
                        BatchedMatMulKernel::Create);
CORTADO_REGISTER_DOMAIN_KERNEL("FusedMatMul", kFusedDomain, kOnednn, 1, kMaxOpset,
                               {DType::kFloat32}, MatMulKernel::Create);

}  // namespace onednn
}  // namespace cortado
