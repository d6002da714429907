// The activations that oneDNN's eltwise primitive runs faster than the reference kernels of
// ops/, float32, each from the size where it does; a smaller call runs the FallbackKernel (the
// reference one). Measured with bench/onednn_bench at 1 thread, oneDNN / ours: Sigmoid, Tanh, Exp,
// Log and Sqrt 0.2-0.6 from 4096 elements (1.1-1.7 at 1024); LeakyRelu, Elu and HardSwish 0.4-0.9
// from 16384. Relu, Abs and Clip measured no faster at any size (1.0-7), nor did Add, Sub, Mul, Div
// with or without broadcasting (0.9-9) and Concat (4-25): those stay on the reference kernels.
#include "backends/onednn/onednn_util.h"
#include "ops/registry.h"

namespace cortado {
namespace onednn {
namespace {

// The eltwise algorithm, its parameters and the measured crossover for an activation node.
struct Eltwise {
  EltwiseOp op;
  int64_t min_elements;
};

std::optional<Eltwise> EltwiseFor(const KernelInfo& info) {
  using A = dnnl::algorithm;
  const AttributeMap& a = *info.attrs;
  const std::string& op = info.op_type;
  const int64_t transcendental = Threshold(4096), simple = Threshold(16384);
  if (op == "Sigmoid") return Eltwise{{A::eltwise_logistic}, transcendental};
  if (op == "Tanh") return Eltwise{{A::eltwise_tanh}, transcendental};
  if (op == "Exp") return Eltwise{{A::eltwise_exp}, transcendental};
  if (op == "Log") return Eltwise{{A::eltwise_log}, transcendental};
  if (op == "Sqrt") return Eltwise{{A::eltwise_sqrt}, transcendental};
  if (op == "LeakyRelu") return Eltwise{{A::eltwise_relu, a.GetFloat("alpha", 0.01f)}, simple};
  if (op == "Elu") return Eltwise{{A::eltwise_elu, a.GetFloat("alpha", 1.0f)}, simple};
  if (op == "HardSwish") return Eltwise{{A::eltwise_hardswish}, simple};
  return std::nullopt;
}

class EltwiseKernel final : public WithFallback {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    std::optional<Eltwise> eltwise = EltwiseFor(info);
    if (!IsF32(info, 0) || !eltwise) return Unimplemented(info.op_type, "float32 only");
    std::unique_ptr<EltwiseKernel> k(new EltwiseKernel());
    k->op_ = eltwise->op;
    k->min_elements_ = eltwise->min_elements;
    RETURN_IF_ERROR(k->InitFallback(info));
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->dtype() != DType::kFloat32 || x->num_elements() < min_elements_) {
      return fallback_->Compute(ctx);
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, x->shape()));
    const CoreShare share;
    const int64_t n = x->num_elements();
    ASSIGN_OR_RETURN(
        auto entry,
        cache_.Get({n}, share.threads(), [&]() -> absl::StatusOr<std::shared_ptr<const Entry>> {
          dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, op_.alg, Plain({n}),
                                           op_.alpha, op_.beta);
          dnnl::eltwise_forward::primitive_desc pd(desc, UserScratchpad(), Engine());
          return std::make_shared<const Entry>(pd, std::vector<int>{DNNL_ARG_SRC, DNNL_ARG_DST});
        }));
    return Guarded(share.threads(), [&] { return entry->Execute({x->raw_data(), y->raw_data()}); });
  }
  // oneDNN's eltwise runs in place, and so does the reference kernel it falls back on.
  bool MayOverwriteInput(int i) const override { return i == 0; }

 private:
  using Entry = BoundPrimitive;
  EltwiseKernel() = default;
  EltwiseOp op_;
  int64_t min_elements_ = 0;
  PrimitiveCache<Entry> cache_;
};

}  // namespace

CORTADO_REGISTER_KERNEL("LeakyRelu", kOnednn, 6, kMaxOpset, {DType::kFloat32},
                        EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Sigmoid", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Tanh", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Elu", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("HardSwish", kOnednn, 14, kMaxOpset, {DType::kFloat32},
                        EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Exp", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Log", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Sqrt", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);

}  // namespace onednn
}  // namespace cortado
