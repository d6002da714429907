// Elementwise operators on oneDNN, float32: the activations as eltwise primitives (Relu,
// LeakyRelu, Sigmoid, Tanh, Elu, HardSwish, Clip with constant bounds, Exp, Log, Sqrt, Abs), Add,
// Sub, Mul and Div with numpy broadcasting as binary primitives, and Concat. A call on fewer than
// kMinElements output elements, or with shapes oneDNN's primitives cannot express (a binary op
// whose first operand broadcasts and that does not commute), runs the op's reference kernel
// instead: below that size oneDNN's fixed cost per call (primitive lookup, stream, thread team)
// is larger than the work (bench/onednn_bench measures the crossover).
#include <limits>

#include "backends/onednn/onednn_util.h"
#include "ops/registry.h"

namespace cortado {
namespace onednn {
namespace {

// The eltwise algorithm and its parameters for an activation node, or nullopt.
std::optional<EltwiseOp> EltwiseFor(const KernelInfo& info) {
  using A = dnnl::algorithm;
  const AttributeMap& a = *info.attrs;
  const std::string& op = info.op_type;
  if (op == "Relu") return EltwiseOp{A::eltwise_relu};
  if (op == "LeakyRelu") return EltwiseOp{A::eltwise_relu, a.GetFloat("alpha", 0.01f)};
  if (op == "Sigmoid") return EltwiseOp{A::eltwise_logistic};
  if (op == "Tanh") return EltwiseOp{A::eltwise_tanh};
  if (op == "Elu") return EltwiseOp{A::eltwise_elu, a.GetFloat("alpha", 1.0f)};
  if (op == "HardSwish") return EltwiseOp{A::eltwise_hardswish};
  if (op == "Exp") return EltwiseOp{A::eltwise_exp};
  if (op == "Log") return EltwiseOp{A::eltwise_log};
  if (op == "Sqrt") return EltwiseOp{A::eltwise_sqrt};
  if (op == "Abs") return EltwiseOp{A::eltwise_abs};
  if (op == "Clip") {
    float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
    if (info.opset < 11) {
      lo = a.GetFloat("min", lo);
      hi = a.GetFloat("max", hi);
    } else {
      for (size_t i = 1; i < 3 && i < info.input_dtypes.size(); ++i) {
        if (info.input_dtypes[i] == DType::kUndefined) continue;
        const Tensor* bound = i < info.constant_inputs.size() ? info.constant_inputs[i] : nullptr;
        if (bound == nullptr || bound->dtype() != DType::kFloat32 || bound->num_elements() != 1) {
          return std::nullopt;  // bounds known only at run time
        }
        (i == 1 ? lo : hi) = bound->data<float>()[0];
      }
    }
    if (!(lo <= hi)) return std::nullopt;  // ONNX then gives max everywhere; oneDNN would not
    return EltwiseOp{A::eltwise_clip_v2, lo, hi};
  }
  return std::nullopt;
}

class EltwiseKernel final : public WithFallback {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    std::optional<EltwiseOp> op = EltwiseFor(info);
    if (!IsF32(info, 0) || !op) {
      return Unimplemented(info.op_type, "float32, and constant bounds for Clip");
    }
    std::unique_ptr<EltwiseKernel> k(new EltwiseKernel());
    k->op_ = *op;
    RETURN_IF_ERROR(k->InitFallback(info));
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->dtype() != DType::kFloat32 || x->num_elements() < kMinElements) {
      return fallback_->Compute(ctx);
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, x->shape()));
    const CoreShare share;
    const int64_t n = x->num_elements();
    ASSIGN_OR_RETURN(
        auto entry,
        cache_.Get({n}, share.threads(), [&]() -> absl::StatusOr<std::shared_ptr<const Entry>> {
          auto e = std::make_shared<Entry>();
          dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, op_.alg, Plain({n}),
                                           op_.alpha, op_.beta);
          e->pd = dnnl::eltwise_forward::primitive_desc(desc, UserScratchpad(), Engine());
          e->primitive = dnnl::eltwise_forward(e->pd);
          return std::shared_ptr<const Entry>(std::move(e));
        }));
    return Guarded(share.threads(), [&] { return ExecuteOn(entry->primitive, entry->pd, *x, y); });
  }

 private:
  struct Entry {
    dnnl::eltwise_forward::primitive_desc pd;
    dnnl::eltwise_forward primitive;
  };
  EltwiseKernel() = default;
  EltwiseOp op_;
  PrimitiveCache<Entry> cache_;
};

// Add, Sub, Mul, Div of two float32 tensors with numpy broadcasting. oneDNN broadcasts only its
// second source, so a broadcasting first operand of Add or Mul swaps with the second.
class BinaryKernel final : public WithFallback {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    using A = dnnl::algorithm;
    const std::string& op = info.op_type;
    const A alg = op == "Add"   ? A::binary_add
                  : op == "Sub" ? A::binary_sub
                  : op == "Mul" ? A::binary_mul
                                : A::binary_div;
    if (!IsF32(info, 0) || !IsF32(info, 1)) return Unimplemented(op, "float32 only");
    std::unique_ptr<BinaryKernel> k(new BinaryKernel());
    k->alg_ = alg;
    k->commutes_ = op == "Add" || op == "Mul";
    RETURN_IF_ERROR(k->InitFallback(info));
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    if (a->dtype() != DType::kFloat32 || b->dtype() != DType::kFloat32) {
      return fallback_->Compute(ctx);
    }
    // Both operands at the output's rank, with leading 1s.
    const int rank = std::max(a->rank(), b->rank());
    Shape sa = a->shape(), sb = b->shape();
    sa.insert(sa.begin(), rank - a->rank(), 1);
    sb.insert(sb.begin(), rank - b->rank(), 1);
    Shape out(rank);
    for (int i = 0; i < rank; ++i) {
      if (sa[i] != sb[i] && sa[i] != 1 && sb[i] != 1) return fallback_->Compute(ctx);
      out[i] = sa[i] == 1 ? sb[i] : sa[i];
    }
    const bool swap = sa != out;
    if (NumElements(out) < kMinElements || (swap && (!commutes_ || sb != out))) {
      return fallback_->Compute(ctx);
    }
    if (swap) {
      std::swap(a, b);
      std::swap(sa, sb);
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, out));
    std::vector<int64_t> key = sa;
    key.insert(key.end(), sb.begin(), sb.end());
    const CoreShare share;
    ASSIGN_OR_RETURN(
        auto entry,
        cache_.Get(key, share.threads(), [&]() -> absl::StatusOr<std::shared_ptr<const Entry>> {
          auto e = std::make_shared<Entry>();
          dnnl::binary::desc desc(alg_, Plain(Dims(sa)), Plain(Dims(sb)), Plain(Dims(out)));
          e->pd = dnnl::binary::primitive_desc(desc, UserScratchpad(), Engine());
          e->primitive = dnnl::binary(e->pd);
          return std::shared_ptr<const Entry>(std::move(e));
        }));
    return Guarded(share.threads(), [&] {
      return Execute(entry->primitive, entry->pd,
                     {{DNNL_ARG_SRC_0,
                       memory(entry->pd.src0_desc(), Engine(), const_cast<void*>(a->raw_data()))},
                      {DNNL_ARG_SRC_1,
                       memory(entry->pd.src1_desc(), Engine(), const_cast<void*>(b->raw_data()))},
                      {DNNL_ARG_DST, memory(entry->pd.dst_desc(), Engine(), y->raw_data())}});
    });
  }

 private:
  struct Entry {
    dnnl::binary::primitive_desc pd;
    dnnl::binary primitive;
  };
  BinaryKernel() = default;
  dnnl::algorithm alg_ = dnnl::algorithm::binary_add;
  bool commutes_ = false;
  PrimitiveCache<Entry> cache_;
};

// Concat of float32 tensors of one rank along `axis`.
class ConcatKernel final : public WithFallback {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    for (size_t i = 0; i < info.input_dtypes.size(); ++i) {
      if (!IsF32(info, i)) return Unimplemented("Concat", "float32 only");
    }
    std::unique_ptr<ConcatKernel> k(new ConcatKernel());
    k->axis_ = info.attrs->GetInt("axis", 0);
    RETURN_IF_ERROR(k->InitFallback(info));
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    std::vector<const Tensor*> inputs;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      ASSIGN_OR_RETURN(const Tensor* t, ctx.RequiredInput(i));
      inputs.push_back(t);
    }
    if (inputs.empty()) return fallback_->Compute(ctx);
    const int rank = inputs[0]->rank();
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    Shape out = inputs[0]->shape();
    bool fits = rank >= 1 && axis >= 0 && axis < rank;
    for (size_t i = 0; fits && i < inputs.size(); ++i) {
      const Tensor& t = *inputs[i];
      fits = t.dtype() == DType::kFloat32 && t.rank() == rank && t.num_elements() > 0;
      for (int d = 0; fits && d < rank; ++d) fits = d == axis || t.dim(d) == out[d];
      if (fits && i > 0) out[axis] += t.dim(axis);
    }
    // Invalid calls get the reference kernel's error.
    if (!fits || NumElements(out) < kMinElements) return fallback_->Compute(ctx);
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, out));
    std::vector<int64_t> key = {axis};
    for (const Tensor* t : inputs) key.insert(key.end(), t->shape().begin(), t->shape().end());
    const CoreShare share;
    ASSIGN_OR_RETURN(
        auto entry,
        cache_.Get(key, share.threads(), [&]() -> absl::StatusOr<std::shared_ptr<const Entry>> {
          auto e = std::make_shared<Entry>();
          std::vector<memory::desc> srcs;
          for (const Tensor* t : inputs) srcs.push_back(Plain(Dims(t->shape())));
          e->pd = dnnl::concat::primitive_desc(Plain(Dims(out)), static_cast<int>(axis), srcs,
                                               Engine(), UserScratchpad());
          e->primitive = dnnl::concat(e->pd);
          return std::shared_ptr<const Entry>(std::move(e));
        }));
    return Guarded(share.threads(), [&] {
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_DST, memory(entry->pd.dst_desc(), Engine(), y->raw_data())}};
      for (size_t i = 0; i < inputs.size(); ++i) {
        args.emplace(DNNL_ARG_MULTIPLE_SRC + static_cast<int>(i),
                     memory(entry->pd.src_desc(static_cast<int>(i)), Engine(),
                            const_cast<void*>(inputs[i]->raw_data())));
      }
      return Execute(entry->primitive, entry->pd, std::move(args));
    });
  }

 private:
  struct Entry {
    dnnl::concat::primitive_desc pd;
    dnnl::concat primitive;
  };
  ConcatKernel() = default;
  int64_t axis_ = 0;
  PrimitiveCache<Entry> cache_;
};

}  // namespace

CORTADO_REGISTER_KERNEL("Relu", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("LeakyRelu", kOnednn, 6, kMaxOpset, {DType::kFloat32},
                        EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Sigmoid", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Tanh", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Elu", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("HardSwish", kOnednn, 14, kMaxOpset, {DType::kFloat32},
                        EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Clip", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Exp", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Log", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Sqrt", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Abs", kOnednn, 6, kMaxOpset, {DType::kFloat32}, EltwiseKernel::Create);
CORTADO_REGISTER_KERNEL("Add", kOnednn, 7, kMaxOpset, {DType::kFloat32}, BinaryKernel::Create);
CORTADO_REGISTER_KERNEL("Sub", kOnednn, 7, kMaxOpset, {DType::kFloat32}, BinaryKernel::Create);
CORTADO_REGISTER_KERNEL("Mul", kOnednn, 7, kMaxOpset, {DType::kFloat32}, BinaryKernel::Create);
CORTADO_REGISTER_KERNEL("Div", kOnednn, 7, kMaxOpset, {DType::kFloat32}, BinaryKernel::Create);
CORTADO_REGISTER_KERNEL("Concat", kOnednn, 4, kMaxOpset, {DType::kFloat32}, ConcatKernel::Create);

}  // namespace onednn
}  // namespace cortado
