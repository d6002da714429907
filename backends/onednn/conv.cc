// FusedConv on oneDNN, channels-first or channels-last (ai.cortado and ai.cortado.nhwc): grouped
// and depthwise too, bias, residual Z and activation as post-ops, weights packed once.
// Channels-last 3x3 stride-1 convolutions run as Winograd F(2x2, 3x3) (winograd.h) where it is
// faster.
#include "backends/onednn/onednn_util.h"
#include "backends/onednn/winograd.h"
#include "ops/registry.h"

namespace cortado {
namespace onednn {
namespace {

class ConvKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const std::vector<const Tensor*>& c = info.constant_inputs;
    if (!IsF32(info, 0) || c.size() < 2 || c[1] == nullptr || c[1]->dtype() != DType::kFloat32 ||
        c[1]->rank() != 4) {
      return Unimplemented("FusedConv", "needs float32 and constant 4-D weights");
    }
    const bool has_bias = c.size() > 2 && info.input_dtypes[2] != DType::kUndefined;
    if (has_bias && (c[2] == nullptr || c[2]->dtype() != DType::kFloat32)) {
      return Unimplemented("FusedConv", "needs a constant float32 bias");
    }
    const AttributeMap& attrs = *info.attrs;
    std::optional<EltwiseOp> eltwise;
    const std::string activation = attrs.GetString("activation");
    if (!activation.empty()) {
      eltwise = ToEltwise(activation, attrs.GetFloats("activation_params"));
      if (!eltwise) return Unimplemented("FusedConv", "no oneDNN post-op for " + activation);
    }
    const int64_t group = attrs.GetInt("group", 1);
    const Tensor& w = *c[1];
    if (group < 1 || w.dim(0) % group != 0) return Unimplemented("FusedConv", "bad group");
    std::unique_ptr<ConvKernel> k(new ConvKernel());
    k->channels_last_ = info.domain == kNhwcDomain;
    k->attrs_ = attrs;
    k->weights_shape_ = w.shape();
    memory::dims plain = {w.dim(0), w.dim(1), w.dim(2), w.dim(3)};
    Tag tag = Tag::oihw;
    if (group > 1) {
      plain = {group, w.dim(0) / group, w.dim(1), w.dim(2), w.dim(3)};
      tag = Tag::goihw;
    }
    k->hint_ = HintShape(info, 0);
    if (has_bias) k->bias_ = *c[2];
    k->has_z_ = info.input_dtypes.size() > 3 && info.input_dtypes[3] != DType::kUndefined;
    k->eltwise_ = eltwise;
    k->group_ = group;
    if (k->channels_last_) k->winograd_ = Winograd::Create(w, k->bias_, k->has_z_, eltwise, attrs);
    k->weights_plain_ = memory::desc(plain, kF32, tag);
    if (k->winograd_ == nullptr) {
      absl::MutexLock lock(&k->weights_mu_);
      k->weights_ = std::make_unique<PackedWeights>(w, k->weights_plain_);
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() != 4 || x->dtype() != DType::kFloat32) {
      return absl::InvalidArgumentError(
          absl::StrCat("FusedConv: X must be 4-D float32, got ", ShapeToString(x->shape())));
    }
    const Shape nchw = ToNchw(x->shape(), channels_last_);
    if (nchw[1] != weights_shape_[1] * group_) {
      return absl::InvalidArgumentError(absl::StrCat("FusedConv: X has ", nchw[1],
                                                     " channels, the weights expect ",
                                                     weights_shape_[1] * group_));
    }
    const CoreShare share;
    ASSIGN_OR_RETURN(auto entry, cache_.Get(nchw, share.threads(),
                                            [&] { return Build(nchw, share.threads()); }));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32,
                                                    FromNchw(entry->out_nchw, channels_last_)));
    if (has_z_) RETURN_IF_ERROR(StartFromAddend("FusedConv: Z", ctx.input(3), y));
    return Guarded(share.threads(), [&] {
      if (entry->run == nullptr) {
        return winograd_->Run(x->data<float>(), nchw, entry->win, y->data<float>(),
                              share.threads());
      }
      return entry->run->Execute({x->raw_data(), y->raw_data()});
    });
  }

  // Builds the primitive for the plan's shape, weights packed, so the first request finds it.
  absl::Status Prepare() override {
    if (!hint_ || hint_->size() != 4) return absl::OkStatus();
    const Shape nchw = ToNchw(*hint_, channels_last_);
    const int threads = IntraOpThreads();
    return cache_.Get(nchw, threads, [&] { return Build(nchw, threads); }).status();
  }

  bool OwnsConstantInput(int i) const override { return i == 1; }
  bool MayOverwriteInput(int i) const override { return i == 3 && has_z_; }

 private:
  struct Entry {
    std::unique_ptr<const BoundPrimitive> run;  // nullptr: Winograd
    Shape out_nchw;
    Window win;  // Winograd's
  };

  absl::StatusOr<std::shared_ptr<const Entry>> Build(const Shape& nchw, int threads) const {
    const std::vector<int64_t> kernel = {weights_shape_[2], weights_shape_[3]};
    ASSIGN_OR_RETURN(Window win, ComputeWindow({nchw[2], nchw[3]}, kernel, attrs_, false));
    const int64_t out_channels = weights_shape_[0];
    Shape out_nchw = {nchw[0], out_channels, win.out[0], win.out[1]};
    if (winograd_ != nullptr && winograd_->Faster(nchw, threads)) {
      return std::make_shared<const Entry>(Entry{nullptr, out_nchw, win});
    }
    const Tag act_tag = channels_last_ ? Tag::nhwc : Tag::nchw;
    memory::desc src(Dims(nchw), kF32, act_tag), dst(Dims(out_nchw), kF32, act_tag);
    memory::dims wdims = {out_channels, weights_shape_[1], kernel[0], kernel[1]};
    if (group_ > 1)
      wdims = {group_, out_channels / group_, weights_shape_[1], kernel[0], kernel[1]};
    memory::desc w_any(wdims, kF32, Tag::any);
    memory::desc b_md =
        bias_.defined() ? memory::desc({out_channels}, kF32, Tag::x) : memory::desc();
    std::vector<int64_t> dil = attrs_.GetInts("dilations", {1, 1});
    memory::dims dilates = {dil[0] - 1, dil[1] - 1};
    std::vector<int64_t> strides = attrs_.GetInts("strides", {1, 1});
    dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, w_any, b_md,
        dst, memory::dims(strides.begin(), strides.end()), dilates, win.pad_begin, win.pad_end);
    dnnl::post_ops post;
    if (has_z_) post.append_sum(1.0f);
    if (eltwise_) post.append_eltwise(1.0f, eltwise_->alg, eltwise_->alpha, eltwise_->beta);
    dnnl::primitive_attr attr = UserScratchpad();
    attr.set_post_ops(post);
    dnnl::convolution_forward::primitive_desc pd(desc, attr, Engine());
    ASSIGN_OR_RETURN(const PackedWeights* weights, DirectWeights());
    std::unordered_map<int, memory> fixed = {{DNNL_ARG_WEIGHTS, weights->As(pd.weights_desc())}};
    if (bias_.defined()) {
      fixed.emplace(DNNL_ARG_BIAS, memory(b_md, Engine(), const_cast<void*>(bias_.raw_data())));
    }
    auto entry = std::make_shared<Entry>();
    entry->run = std::make_unique<const BoundPrimitive>(
        pd, std::vector<int>{DNNL_ARG_SRC, DNNL_ARG_DST}, std::move(fixed));
    entry->out_nchw = out_nchw;
    return std::shared_ptr<const Entry>(std::move(entry));
  }

  // The direct convolution's weights: those of Create, or, where Winograd holds them (as U
  // alone), made back from U when a shape first takes the direct convolution.
  absl::StatusOr<const PackedWeights*> DirectWeights() const {
    absl::MutexLock lock(&weights_mu_);
    if (weights_ == nullptr) {
      ASSIGN_OR_RETURN(Tensor w, winograd_->Weights());
      weights_ = std::make_unique<PackedWeights>(std::move(w), weights_plain_);
    }
    return weights_.get();
  }

  ConvKernel() = default;
  bool channels_last_ = false;
  AttributeMap attrs_;
  Shape weights_shape_;
  memory::desc weights_plain_;
  mutable absl::Mutex weights_mu_;
  mutable std::unique_ptr<PackedWeights> weights_ ABSL_GUARDED_BY(weights_mu_);  // DirectWeights
  Tensor bias_;  // shared with the plan's constants
  std::optional<Shape> hint_;
  bool has_z_ = false;
  std::optional<EltwiseOp> eltwise_;
  int64_t group_ = 1;
  std::unique_ptr<const Winograd> winograd_;  // nullptr where Winograd does not apply
  PrimitiveCache<Entry> cache_;
};

}  // namespace

CORTADO_REGISTER_DOMAIN_KERNEL("FusedConv", kFusedDomain, kOnednn, 1, kMaxOpset, {DType::kFloat32},
                               ConvKernel::Create);
CORTADO_REGISTER_DOMAIN_KERNEL("FusedConv", kNhwcDomain, kOnednn, 1, kMaxOpset, {DType::kFloat32},
                               ConvKernel::Create);

}  // namespace onednn
}  // namespace cortado
