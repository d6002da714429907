// Channels-last (ai.cortado.nhwc) MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool on
// oneDNN.
#include "backends/onednn/onednn_util.h"
#include "ops/registry.h"

namespace cortado {
namespace onednn {
namespace {

class PoolKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    if (!IsF32(info, 0) || info.num_outputs != 1) {
      return Unimplemented(info.op_type, "needs float32 and one output");
    }
    const AttributeMap& a = *info.attrs;
    std::unique_ptr<PoolKernel> k(new PoolKernel());
    k->global_ = info.op_type == "GlobalAveragePool" || info.op_type == "GlobalMaxPool";
    k->max_ = info.op_type == "MaxPool" || info.op_type == "GlobalMaxPool";
    k->attrs_ = a;
    if (!k->global_) {
      k->kernel_ = a.GetInts("kernel_shape");
      if (k->kernel_.size() != 2) return Unimplemented(info.op_type, "2-D windows only");
      for (int64_t d : a.GetInts("dilations", {1, 1})) {
        if (d != 1) return Unimplemented(info.op_type, "dilations");
      }
      k->ceil_mode_ = a.GetInt("ceil_mode", 0) != 0;
      k->include_pad_ = a.GetInt("count_include_pad", 0) != 0;
      if (k->ceil_mode_ && k->include_pad_) {
        return Unimplemented(info.op_type, "ceil_mode with count_include_pad");
      }
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() != 4 || x->dtype() != DType::kFloat32) {
      return absl::InvalidArgumentError(
          absl::StrCat("pool: X must be 4-D float32, got ", ShapeToString(x->shape())));
    }
    const Shape nchw = ToChannelsFirst(x->shape());
    const CoreShare share;
    ASSIGN_OR_RETURN(auto entry, cache_.Get(nchw, share.threads(), [&] { return Build(nchw); }));
    ASSIGN_OR_RETURN(Tensor * y,
                     ctx.AllocateOutput(0, DType::kFloat32, ToChannelsLast(entry->out_nchw)));
    return Guarded(share.threads(), [&] {
      return entry->run->Execute({x->raw_data(), y->raw_data()});
    });
  }

 private:
  struct Entry {
    std::unique_ptr<const BoundPrimitive> run;
    Shape out_nchw;
  };

  absl::StatusOr<std::shared_ptr<const Entry>> Build(const Shape& nchw) const {
    std::vector<int64_t> kernel = kernel_;
    Window win;
    if (global_) {
      kernel = {nchw[2], nchw[3]};
      win = {{1, 1}, {0, 0}, {0, 0}};
    } else {
      ASSIGN_OR_RETURN(win, ComputeWindow({nchw[2], nchw[3]}, kernel, attrs_, ceil_mode_));
    }
    Shape out_nchw = {nchw[0], nchw[1], win.out[0], win.out[1]};
    memory::desc src(Dims(nchw), kF32, Tag::nhwc), dst(Dims(out_nchw), kF32, Tag::nhwc);
    const dnnl::algorithm alg = max_           ? dnnl::algorithm::pooling_max
                                : include_pad_ ? dnnl::algorithm::pooling_avg_include_padding
                                               : dnnl::algorithm::pooling_avg_exclude_padding;
    std::vector<int64_t> strides =
        global_ ? std::vector<int64_t>{1, 1} : attrs_.GetInts("strides", {1, 1});
    dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, alg, src, dst,
                                     memory::dims(strides.begin(), strides.end()),
                                     memory::dims(kernel.begin(), kernel.end()), win.pad_begin,
                                     win.pad_end);
    auto entry = std::make_shared<Entry>();
    entry->run = std::make_unique<const BoundPrimitive>(
        dnnl::pooling_forward::primitive_desc(desc, UserScratchpad(), Engine()),
        std::vector<int>{DNNL_ARG_SRC, DNNL_ARG_DST});
    entry->out_nchw = out_nchw;
    return std::shared_ptr<const Entry>(std::move(entry));
  }

  PoolKernel() = default;
  bool global_ = false, max_ = false, ceil_mode_ = false, include_pad_ = false;
  std::vector<int64_t> kernel_;
  AttributeMap attrs_;
  PrimitiveCache<Entry> cache_;
};

}  // namespace

CORTADO_REGISTER_DOMAIN_KERNEL("MaxPool", kNhwcDomain, kOnednn, 1, kMaxOpset, {DType::kFloat32},
                               PoolKernel::Create);
CORTADO_REGISTER_DOMAIN_KERNEL("AveragePool", kNhwcDomain, kOnednn, 1, kMaxOpset, {DType::kFloat32},
                               PoolKernel::Create);
CORTADO_REGISTER_DOMAIN_KERNEL("GlobalAveragePool", kNhwcDomain, kOnednn, 1, kMaxOpset,
                               {DType::kFloat32}, PoolKernel::Create);
CORTADO_REGISTER_DOMAIN_KERNEL("GlobalMaxPool", kNhwcDomain, kOnednn, 1, kMaxOpset,
                               {DType::kFloat32}, PoolKernel::Create);

}  // namespace onednn
}  // namespace cortado
