// The rank-4 Transposes between channels-first and channels-last, as oneDNN reorders.
#include "backends/onednn/onednn_util.h"
#include "ops/registry.h"

namespace cortado {
namespace onednn {
namespace {

class TransposeKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const std::vector<int64_t> perm = info.attrs->GetInts("perm");
    if (!IsF32(info, 0) || (perm != ToChannelsLastPerm(4) && perm != ToChannelsFirstPerm(4))) {
      return Unimplemented("Transpose", "only the rank-4 layout permutations of float32");
    }
    std::unique_ptr<TransposeKernel> k(new TransposeKernel());
    k->to_last_ = perm == ToChannelsLastPerm(4);
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() != 4 || x->dtype() != DType::kFloat32) {
      return absl::InvalidArgumentError(
          absl::StrCat("Transpose: expected 4-D float32, got ", ShapeToString(x->shape())));
    }
    const Shape nchw = to_last_ ? x->shape() : ToChannelsFirst(x->shape());
    const CoreShare share;
    ASSIGN_OR_RETURN(
        auto entry,
        cache_.Get(nchw, share.threads(), [&]() -> absl::StatusOr<std::shared_ptr<const Entry>> {
          auto e = std::make_shared<Entry>();
          e->from = memory::desc(Dims(nchw), kF32, to_last_ ? Tag::nchw : Tag::nhwc);
          e->to = memory::desc(Dims(nchw), kF32, to_last_ ? Tag::nhwc : Tag::nchw);
          e->primitive =
              dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), e->from, Engine(), e->to));
          return std::shared_ptr<const Entry>(std::move(e));
        }));
    ASSIGN_OR_RETURN(
        Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, to_last_ ? ToChannelsLast(nchw) : nchw));
    return Guarded(share.threads(), [&] {
      memory from(entry->from, Engine(), const_cast<void*>(x->raw_data()));
      memory to(entry->to, Engine(), y->raw_data());
      dnnl::stream& stream = ThreadStream();
      entry->primitive.execute(stream, from, to);
      stream.wait();
      return absl::OkStatus();
    });
  }

 private:
  struct Entry {
    memory::desc from, to;
    dnnl::reorder primitive;
  };
  TransposeKernel() = default;
  bool to_last_ = false;
  PrimitiveCache<Entry> cache_;
};

}  // namespace

CORTADO_REGISTER_KERNEL("Transpose", kOnednn, 1, kMaxOpset, {DType::kFloat32},
                        TransposeKernel::Create);

}  // namespace onednn
}  // namespace cortado
