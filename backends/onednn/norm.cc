// Softmax (each opset's axis semantics) and LayerNormalization over the last axis, on oneDNN.
// (Inference BatchNormalization measured 5-8x slower than the reference kernel at 1 thread with
// bench/onednn_bench, so it stays there; the graph optimizer folds most into convolutions.)
#include "backends/onednn/onednn_util.h"
#include "ops/registry.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace onednn {
namespace {

class SoftmaxKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    if (!IsF32(info, 0)) return Unimplemented("Softmax", "float32 only");
    std::unique_ptr<SoftmaxKernel> k(new SoftmaxKernel());
    k->coerced_ = info.opset < 13;  // before 13: softmax of the 2-D view at `axis`
    k->axis_ = info.attrs->GetInt("axis", k->coerced_ ? 1 : -1);
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int64_t rank = x->rank();
    if (x->dtype() != DType::kFloat32 || rank < 1 || axis_ < -rank || axis_ >= rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("Softmax: axis ", axis_, " of a float32 ", ShapeToString(x->shape())));
    }
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    std::vector<int64_t> dims(x->shape().begin(), x->shape().end());
    int64_t softmax_axis = axis;
    if (coerced_) {
      dims = {tensor_ops::PartialProduct(x->shape(), 0, axis),
              tensor_ops::PartialProduct(x->shape(), axis, rank)};
      softmax_axis = 1;
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, x->shape()));
    if (x->num_elements() == 0) return absl::OkStatus();
    std::vector<int64_t> key = dims;
    key.push_back(softmax_axis);
    const CoreShare share;
    ASSIGN_OR_RETURN(
        auto entry,
        cache_.Get(key, share.threads(), [&]() -> absl::StatusOr<std::shared_ptr<const Entry>> {
          dnnl::softmax_forward::desc desc(dnnl::prop_kind::forward_inference,
                                           Plain(memory::dims(dims.begin(), dims.end())),
                                           static_cast<int>(softmax_axis));
          dnnl::softmax_forward::primitive_desc pd(desc, UserScratchpad(), Engine());
          return std::make_shared<const Entry>(pd, std::vector<int>{DNNL_ARG_SRC, DNNL_ARG_DST});
        }));
    return Guarded(share.threads(), [&] { return entry->Execute({x->raw_data(), y->raw_data()}); });
  }

 private:
  using Entry = BoundPrimitive;
  SoftmaxKernel() = default;
  bool coerced_ = false;
  int64_t axis_ = -1;
  PrimitiveCache<Entry> cache_;
};

class LayerNormKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const std::vector<const Tensor*>& c = info.constant_inputs;
    auto row = [&](size_t i) {
      return i < c.size() && c[i] != nullptr && c[i]->dtype() == DType::kFloat32 &&
             c[i]->rank() == 1;
    };
    const bool has_bias = info.input_dtypes.size() > 2 && info.input_dtypes[2] != DType::kUndefined;
    if (!IsF32(info, 0) || info.num_outputs != 1 || info.attrs->GetInt("axis", -1) != -1 ||
        !row(1) || (has_bias && !row(2))) {
      return Unimplemented("LayerNormalization",
                           "float32 over the last axis, constant 1-D scale and bias, Y alone");
    }
    std::unique_ptr<LayerNormKernel> k(new LayerNormKernel());
    k->epsilon_ = info.attrs->GetFloat("epsilon", 1e-5f);
    k->scale_ = *c[1];
    if (has_bias) k->bias_ = *c[2];
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int64_t channels = scale_.num_elements();
    if (x->dtype() != DType::kFloat32 || x->rank() < 1 || x->shape().back() != channels ||
        (bias_.defined() && bias_.num_elements() != channels)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "LayerNormalization: X ", ShapeToString(x->shape()), " against a scale of ", channels));
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, x->shape()));
    const int64_t rows = x->num_elements() / channels;
    if (rows == 0) return absl::OkStatus();
    const CoreShare share;
    ASSIGN_OR_RETURN(
        auto entry,
        cache_.Get({rows}, share.threads(), [&]() -> absl::StatusOr<std::shared_ptr<const Entry>> {
          auto flags = dnnl::normalization_flags::use_scale;
          if (bias_.defined()) flags = flags | dnnl::normalization_flags::use_shift;
          dnnl::layer_normalization_forward::desc desc(dnnl::prop_kind::forward_inference,
                                                       Plain({rows, channels}), epsilon_, flags);
          dnnl::layer_normalization_forward::primitive_desc pd(desc, UserScratchpad(), Engine());
          const memory::desc row({channels}, kF32, Tag::x);
          std::unordered_map<int, memory> fixed = {
              {DNNL_ARG_SCALE, memory(row, Engine(), const_cast<void*>(scale_.raw_data()))}};
          if (bias_.defined()) {
            fixed.emplace(DNNL_ARG_SHIFT,
                          memory(row, Engine(), const_cast<void*>(bias_.raw_data())));
          }
          return std::make_shared<const Entry>(pd, std::vector<int>{DNNL_ARG_SRC, DNNL_ARG_DST},
                                               std::move(fixed));
        }));
    return Guarded(share.threads(), [&] { return entry->Execute({x->raw_data(), y->raw_data()}); });
  }

 private:
  using Entry = BoundPrimitive;
  LayerNormKernel() = default;
  float epsilon_ = 1e-5f;
  Tensor scale_, bias_;  // shared with the plan's constants
  PrimitiveCache<Entry> cache_;
};

}  // namespace

CORTADO_REGISTER_KERNEL("Softmax", kOnednn, 1, kMaxOpset, {DType::kFloat32}, SoftmaxKernel::Create);
CORTADO_REGISTER_KERNEL("LayerNormalization", kOnednn, 17, kMaxOpset, {DType::kFloat32},
                        LayerNormKernel::Create);

}  // namespace onednn
}  // namespace cortado
