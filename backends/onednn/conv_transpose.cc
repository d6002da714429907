// ConvTranspose on oneDNN's deconvolution: float32, channels-first, 1-D to 3-D, grouped, with
// constant weights (reordered and packed once) and an optional constant bias. The output size
// follows ONNX (pads, auto_pad, output_padding, dilations), resolved by the reference geometry
// (ops/nn_util.h); an output_shape attribute is left to the reference kernel.
#include "backends/onednn/onednn_util.h"
#include "ops/nn_util.h"
#include "ops/registry.h"

namespace cortado {
namespace onednn {
namespace {

class ConvTransposeKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const std::vector<const Tensor*>& c = info.constant_inputs;
    if (!IsF32(info, 0) || c.size() < 2 || c[1] == nullptr || c[1]->dtype() != DType::kFloat32 ||
        c[1]->rank() < 3 || c[1]->rank() > 5) {
      return Unimplemented("ConvTranspose", "needs float32 and constant 3-D to 5-D weights");
    }
    const bool has_bias = c.size() > 2 && info.input_dtypes[2] != DType::kUndefined;
    if (has_bias && (c[2] == nullptr || c[2]->dtype() != DType::kFloat32)) {
      return Unimplemented("ConvTranspose", "needs a constant float32 bias");
    }
    const AttributeMap& attrs = *info.attrs;
    if (attrs.Has("output_shape")) return Unimplemented("ConvTranspose", "output_shape");
    ASSIGN_OR_RETURN(WindowAttrs window, ReadWindowAttrs("ConvTranspose", attrs));
    const int64_t group = attrs.GetInt("group", 1);
    const Tensor& w = *c[1];
    if (group < 1 || w.dim(0) % group != 0) return Unimplemented("ConvTranspose", "bad group");
    std::unique_ptr<ConvTransposeKernel> k(new ConvTransposeKernel());
    k->window_ = std::move(window);
    k->group_ = group;
    k->weights_shape_ = w.shape();
    // ONNX's W is [C, M/group, k...] = [group, C/group, M/group, k...]; oneDNN's plain weights
    // are [group, M/group, C/group, k...] (no group dimension for one group): the same memory
    // with the two channel strides swapped.
    const int64_t taps = NumElements(Shape(w.shape().begin() + 2, w.shape().end()));
    const int64_t in_per_group = w.dim(0) / group, out_per_group = w.dim(1);
    memory::dims dims = {group, out_per_group, in_per_group};
    memory::dims strides = {in_per_group * out_per_group * taps, taps, out_per_group * taps};
    for (int i = 2; i < w.rank(); ++i) {
      dims.push_back(w.dim(i));
      strides.push_back(NumElements(Shape(w.shape().begin() + i + 1, w.shape().end())));
    }
    if (group == 1) {
      dims.erase(dims.begin());
      strides.erase(strides.begin());
    }
    k->weights_ = std::make_unique<PackedWeights>(w, memory::desc(dims, kF32, strides));
    if (has_bias) k->bias_ = *c[2];
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() != static_cast<int>(weights_shape_.size()) || x->dtype() != DType::kFloat32 ||
        x->dim(1) != weights_shape_[0]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ConvTranspose: X must be float32 [N, ", weights_shape_[0], ", ...] of rank ",
          weights_shape_.size(), ", got ", ShapeToString(x->shape())));
    }
    const CoreShare share;
    ASSIGN_OR_RETURN(auto entry,
                     cache_.Get(x->shape(), share.threads(), [&] { return Build(x->shape()); }));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, entry->y_shape));
    if (y->num_elements() == 0) return absl::OkStatus();
    return Guarded(share.threads(), [&] {
      return ExecuteWeighted(entry->primitive, entry->pd, *x, entry->weights,
                             bias_.defined() ? &entry->bias : nullptr, y);
    });
  }

  bool OwnsConstantInput(int i) const override { return i == 1; }

 private:
  struct Entry {
    dnnl::deconvolution_forward::primitive_desc pd;
    dnnl::deconvolution_forward primitive;
    memory weights, bias;
    Shape y_shape;
  };

  absl::StatusOr<std::shared_ptr<const Entry>> Build(const Shape& x) const {
    const std::vector<int64_t> kernel(weights_shape_.begin() + 2, weights_shape_.end());
    ASSIGN_OR_RETURN(Geometry g,
                     TransposedGeometry(Shape(x.begin() + 2, x.end()), kernel, window_));
    const int64_t maps = weights_shape_[1] * group_;
    Shape y_shape = {x[0], maps};
    const Shape spatial = g.InSpatial();
    y_shape.insert(y_shape.end(), spatial.begin(), spatial.end());
    memory::dims strides, dilates, pad_l, pad_r;
    for (int i = kMaxSpatial - g.nd; i < kMaxSpatial; ++i) {
      strides.push_back(g.stride[i]);
      dilates.push_back(g.dilation[i] - 1);
      pad_l.push_back(g.pad_begin[i]);
      pad_r.push_back(g.pad_end[i]);
    }
    memory::dims wdims = {group_, maps / group_, weights_shape_[0] / group_};
    wdims.insert(wdims.end(), kernel.begin(), kernel.end());
    if (group_ == 1) wdims.erase(wdims.begin());
    const memory::desc b_md = bias_.defined() ? memory::desc({maps}, kF32, Tag::x) : memory::desc();
    dnnl::deconvolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                           dnnl::algorithm::deconvolution_direct, Plain(Dims(x)),
                                           memory::desc(wdims, kF32, Tag::any), b_md,
                                           Plain(Dims(y_shape)), strides, dilates, pad_l, pad_r);
    auto entry = std::make_shared<Entry>();
    entry->pd = dnnl::deconvolution_forward::primitive_desc(desc, UserScratchpad(), Engine());
    entry->primitive = dnnl::deconvolution_forward(entry->pd);
    entry->y_shape = y_shape;
    entry->weights = weights_->As(entry->pd.weights_desc());
    if (bias_.defined()) {
      entry->bias = memory(b_md, Engine(), const_cast<void*>(bias_.raw_data()));
    }
    return std::shared_ptr<const Entry>(std::move(entry));
  }

  ConvTransposeKernel() = default;
  WindowAttrs window_;
  int64_t group_ = 1;
  Shape weights_shape_;
  std::unique_ptr<PackedWeights> weights_;
  Tensor bias_;  // shared with the plan's constants
  PrimitiveCache<Entry> cache_;
};

}  // namespace

CORTADO_REGISTER_KERNEL("ConvTranspose", kOnednn, 1, kMaxOpset, {DType::kFloat32},
                        ConvTransposeKernel::Create);

}  // namespace onednn
}  // namespace cortado
