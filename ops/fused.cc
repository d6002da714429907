// Reference kernels of the fused and channels-last operators (ops/fused.h): each one runs the
// plain operators it stands for, through their own reference kernels, one after another.
#include "ops/fused.h"

#include <algorithm>
#include <memory>

#include "ops/registry.h"

namespace cortado {

const std::vector<FusedActivation>& FusedActivations() {
  static const auto* table = new std::vector<FusedActivation>{
      {"Relu", 14, {}},
      {"Sigmoid", 13, {}},
      {"Tanh", 13, {}},
      {"HardSwish", 14, {}},
      {"Swish", 14, {}},
      {"LeakyRelu", 6, {"alpha"}},
      {"Elu", 6, {"alpha"}},
      {"HardSigmoid", 6, {"alpha", "beta"}},
      {"Clip", 6, {"min", "max"}},
  };
  return *table;
}

const FusedActivation* FindFusedActivation(const std::string& name) {
  for (const FusedActivation& a : FusedActivations()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const std::vector<std::string>& NhwcOps() {
  static const auto* ops = new std::vector<std::string>{"FusedConv", "MaxPool", "AveragePool",
                                                        "GlobalAveragePool", "GlobalMaxPool"};
  return *ops;
}

std::string NchwDomainOf(const std::string& nhwc_op) {
  return nhwc_op == "FusedConv" ? kFusedDomain : "";
}

std::vector<int64_t> ToChannelsLastPerm(int rank) {
  std::vector<int64_t> perm = {0};
  for (int i = 2; i < rank; ++i) perm.push_back(i);
  perm.push_back(1);
  return perm;
}

std::vector<int64_t> ToChannelsFirstPerm(int rank) {
  std::vector<int64_t> perm = {0, rank - 1};
  for (int i = 1; i < rank - 1; ++i) perm.push_back(i);
  return perm;
}

namespace {

Shape Permuted(const Shape& s, const std::vector<int64_t>& perm) {
  Shape out;
  for (int64_t p : perm) out.push_back(s[p]);
  return out;
}

}  // namespace

Shape ToChannelsLast(const Shape& nchw) {
  return Permuted(nchw, ToChannelsLastPerm(static_cast<int>(nchw.size())));
}

Shape ToChannelsFirst(const Shape& nhwc) {
  return Permuted(nhwc, ToChannelsFirstPerm(static_cast<int>(nhwc.size())));
}

namespace {

// The kernel of another operator, built once inside a composite kernel: `backend`'s, or the
// reference kernel where that backend has none.
class RefOp {
 public:
  static absl::StatusOr<RefOp> Make(const std::string& domain, const std::string& op, int opset,
                                    AttributeMap attrs, std::vector<DType> dtypes,
                                    std::vector<const Tensor*> constants = {},
                                    const std::string& backend = kCpuBackend) {
    const OpRegistry& reg = OpRegistry::Global();
    const OpSchema* schema = reg.FindSchema(domain, op, opset);
    const DType first = dtypes.empty() ? DType::kUndefined : dtypes[0];
    const KernelDef* def = reg.FindKernel(backend, domain, op, opset, first);
    if (def == nullptr) def = reg.FindKernel(kCpuBackend, domain, op, opset, first);
    if (schema == nullptr || def == nullptr) {
      return absl::InternalError(absl::StrCat("no reference kernel for ", op, " opset ", opset));
    }
    RETURN_IF_ERROR(schema->Complete(static_cast<int>(dtypes.size()), 1, attrs));
    constants.resize(dtypes.size(), nullptr);
    KernelInfo info{op, domain, opset, op, &attrs, std::move(dtypes), std::move(constants), 1};
    ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel, def->factory(info));
    return RefOp(std::move(kernel));
  }

  absl::StatusOr<Tensor> Run(std::vector<const Tensor*> inputs, Allocator* allocator) const {
    KernelContext ctx(std::move(inputs), 1, allocator);
    RETURN_IF_ERROR(kernel_->Compute(ctx));
    return std::move(ctx.output(0));
  }

 private:
  explicit RefOp(std::unique_ptr<Kernel> kernel) : kernel_(std::move(kernel)) {}
  std::shared_ptr<const Kernel> kernel_;
};

AttributeMap Without(const AttributeMap& attrs, std::initializer_list<const char*> names) {
  AttributeMap out;
  for (const auto& [name, value] : attrs.values()) {
    if (std::none_of(names.begin(), names.end(), [&](const char* n) { return name == n; })) {
      out.Set(name, value);
    }
  }
  return out;
}

// activation(Base(inputs...) + addend) as the base operator, Add and the activation's own
// operators: FusedConv (base Conv on X, W, B?; addend Z) and FusedMatMul (base MatMul on A, B;
// addend C).
class FusedKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info,
                                                        const std::string& backend) {
    const bool conv = info.op_type == "FusedConv";
    const AttributeMap& attrs = *info.attrs;
    const DType dtype = info.input_dtypes[0];
    // The base operator's inputs: X, W and B when present (Conv), or A and B (MatMul).
    size_t base_inputs = std::min<size_t>(conv ? 3 : 2, info.input_dtypes.size());
    if (conv && base_inputs == 3 && info.input_dtypes[2] == DType::kUndefined) base_inputs = 2;
    std::vector<DType> base_types(info.input_dtypes.begin(),
                                  info.input_dtypes.begin() + base_inputs);
    std::vector<const Tensor*> base_constants(info.constant_inputs.begin(),
                                              info.constant_inputs.begin() + base_inputs);
    std::unique_ptr<FusedKernel> k(new FusedKernel());
    k->base_inputs_ = static_cast<int>(base_inputs);
    k->addend_ = conv ? 3 : 2;
    ASSIGN_OR_RETURN(RefOp base, RefOp::Make("", conv ? "Conv" : "MatMul", conv ? 11 : 13,
                                             Without(attrs, {"activation", "activation_params"}),
                                             base_types, base_constants, backend));
    k->steps_.push_back(std::move(base));
    if (static_cast<int>(info.input_dtypes.size()) > k->addend_ &&
        info.input_dtypes[k->addend_] != DType::kUndefined) {
      ASSIGN_OR_RETURN(RefOp add, RefOp::Make("", "Add", 14, {}, {dtype, dtype}));
      k->add_ = std::make_unique<RefOp>(std::move(add));
    }
    const std::string name = attrs.GetString("activation");
    if (!name.empty()) {
      const FusedActivation* a = FindFusedActivation(name);
      if (a == nullptr)
        return absl::InvalidArgumentError(info.op_type + ": unknown activation " + name);
      const std::vector<float> params = attrs.GetFloats("activation_params");
      if (params.size() != a->params.size()) {
        return absl::InvalidArgumentError(absl::StrCat(info.op_type, ": activation ", name,
                                                       " takes ", a->params.size(), " params, got ",
                                                       params.size()));
      }
      AttributeMap act_attrs;
      for (size_t i = 0; i < params.size(); ++i) act_attrs.Set(a->params[i], params[i]);
      if (name == "Swish") {
        ASSIGN_OR_RETURN(RefOp sigmoid, RefOp::Make("", "Sigmoid", 13, {}, {dtype}));
        ASSIGN_OR_RETURN(RefOp mul, RefOp::Make("", "Mul", 14, {}, {dtype, dtype}));
        k->swish_ = true;
        k->steps_.push_back(std::move(sigmoid));
        k->steps_.push_back(std::move(mul));
      } else {
        ASSIGN_OR_RETURN(RefOp act, RefOp::Make("", a->name, a->opset, act_attrs, {dtype}));
        k->steps_.push_back(std::move(act));
      }
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    std::vector<const Tensor*> base_in;
    for (int i = 0; i < base_inputs_; ++i) base_in.push_back(ctx.input(i));
    ASSIGN_OR_RETURN(Tensor y, steps_[0].Run(base_in, ctx.allocator()));
    if (add_ != nullptr) {
      ASSIGN_OR_RETURN(const Tensor* addend, ctx.RequiredInput(addend_));
      ASSIGN_OR_RETURN(y, add_->Run({&y, addend}, ctx.allocator()));
    }
    if (swish_) {
      ASSIGN_OR_RETURN(Tensor s, steps_[1].Run({&y}, ctx.allocator()));
      ASSIGN_OR_RETURN(y, steps_[2].Run({&y, &s}, ctx.allocator()));
    } else if (steps_.size() == 2) {
      ASSIGN_OR_RETURN(y, steps_[1].Run({&y}, ctx.allocator()));
    }
    ctx.SetOutput(0, std::move(y));
    return absl::OkStatus();
  }

 private:
  FusedKernel() = default;
  int base_inputs_ = 0;
  int addend_ = 0;
  bool swish_ = false;
  std::vector<RefOp> steps_;  // the base operator, then the activation's operators
  std::unique_ptr<RefOp> add_;
};

// A kNhwcDomain operator: Transpose to channels-first, the wrapped operator, Transpose back.
class ChannelsLastKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    std::unique_ptr<ChannelsLastKernel> k(new ChannelsLastKernel());
    const std::string domain = NchwDomainOf(info.op_type);
    std::vector<const Tensor*> constants = info.constant_inputs;
    for (size_t i = 0; i < constants.size(); ++i) {
      if (IsChannelsLastInput(static_cast<int>(i))) constants[i] = nullptr;
    }
    ASSIGN_OR_RETURN(RefOp inner, RefOp::Make(domain, info.op_type, domain.empty() ? kMaxOpset : 1,
                                              *info.attrs, info.input_dtypes, constants));
    k->inner_ = std::make_unique<RefOp>(std::move(inner));
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() < 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("channels-last input must have rank >= 3, got ", ShapeToString(x->shape())));
    }
    const int rank = x->rank();
    ASSIGN_OR_RETURN(RefOp to_first, Transpose(ToChannelsFirstPerm(rank), x->dtype()));
    ASSIGN_OR_RETURN(RefOp to_last, Transpose(ToChannelsLastPerm(rank), x->dtype()));
    std::vector<Tensor> firsts;  // channels-first copies of input 0 and Z
    std::vector<const Tensor*> inputs;
    for (int i = 0; i < ctx.num_inputs(); ++i) inputs.push_back(ctx.input(i));
    firsts.reserve(ctx.num_inputs());  // keeps the pointers into it valid
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      if (!IsChannelsLastInput(i) || ctx.input(i) == nullptr) continue;
      ASSIGN_OR_RETURN(Tensor t, to_first.Run({ctx.input(i)}, ctx.allocator()));
      firsts.push_back(std::move(t));
      inputs[i] = &firsts.back();
    }
    ASSIGN_OR_RETURN(Tensor y, inner_->Run(inputs, ctx.allocator()));
    ASSIGN_OR_RETURN(Tensor out, to_last.Run({&y}, ctx.allocator()));
    ctx.SetOutput(0, std::move(out));
    return absl::OkStatus();
  }

 private:
  ChannelsLastKernel() = default;
  static absl::StatusOr<RefOp> Transpose(std::vector<int64_t> perm, DType dtype) {
    AttributeMap attrs;
    attrs.Set("perm", std::move(perm));
    return RefOp::Make("", "Transpose", 13, attrs, {dtype});
  }
  std::unique_ptr<RefOp> inner_;
};

}  // namespace

KernelFactory ComposedFusedKernel(std::string backend) {
  return [backend](const KernelInfo& info) { return FusedKernel::Create(info, backend); };
}

namespace {

CORTADO_REGISTER_DOMAIN_KERNEL("FusedConv", kFusedDomain, kCpuBackend, 1, kMaxOpset, FloatTypes(),
                               ComposedFusedKernel(kCpuBackend));

// FusedMatMul(A, B, C?) = activation(MatMul(A, B) + C): MatMul's inference, C broadcast onto it.
absl::Status InferFusedMatMul(InferenceContext& ctx) {
  const OpSchema* matmul = OpRegistry::Global().FindSchema("", "MatMul", 13);
  std::vector<TensorType> inputs = {ctx.input(0), ctx.input(1)};
  InferenceContext base(inputs, {ctx.constant(0), ctx.constant(1)}, &ctx.attrs(), 13, 1);
  RETURN_IF_ERROR(matmul->RunInference(base));
  TensorType y = base.outputs()[0];
  if (ctx.has_input(2) && ctx.input(2).shape && y.shape) {
    ASSIGN_OR_RETURN(Shape broadcast, BroadcastPartial(*y.shape, *ctx.input(2).shape));
    if (broadcast != *y.shape) {
      return absl::InvalidArgumentError(
          absl::StrCat("FusedMatMul: C of shape ", ShapeToString(*ctx.input(2).shape),
                       " does not broadcast onto ", ShapeToString(*y.shape)));
    }
  }
  const std::string activation = ctx.attrs().GetString("activation");
  if (!activation.empty() && FindFusedActivation(activation) == nullptr) {
    return absl::InvalidArgumentError("FusedMatMul: unknown activation '" + activation + "'");
  }
  ctx.set_output(0, y);
  return absl::OkStatus();
}

CORTADO_REGISTER_OP(OpSchema("FusedMatMul", kFusedDomain)
                        .Versions(1)
                        .Inputs(2, 3)
                        .Attr("activation", std::string())
                        .Attr("activation_params", std::vector<float>{})
                        .Infer(InferFusedMatMul));
CORTADO_REGISTER_DOMAIN_KERNEL("FusedMatMul", kFusedDomain, kCpuBackend, 1, kMaxOpset, FloatTypes(),
                               ComposedFusedKernel(kCpuBackend));

const bool kNhwcKernels = [] {
  for (const std::string& op : NhwcOps()) {
    OpRegistry::Global().AddKernel(KernelDef{op, kNhwcDomain, kCpuBackend, 1, kMaxOpset,
                                             FloatTypes(), ChannelsLastKernel::Create});
  }
  return true;
}();

}  // namespace
}  // namespace cortado
