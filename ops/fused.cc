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
  static const auto* ops = new std::vector<std::string>{
      "FusedConv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"};
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

// The reference kernel of another operator, built once inside a composite kernel.
class RefOp {
 public:
  static absl::StatusOr<RefOp> Make(const std::string& domain, const std::string& op, int opset,
                                    AttributeMap attrs, std::vector<DType> dtypes,
                                    std::vector<const Tensor*> constants = {}) {
    const OpRegistry& reg = OpRegistry::Global();
    const OpSchema* schema = reg.FindSchema(domain, op, opset);
    const DType first = dtypes.empty() ? DType::kUndefined : dtypes[0];
    const KernelDef* def = reg.FindKernel(kCpuBackend, domain, op, opset, first);
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

// activation(Conv(X, W, B) + Z) as Conv, Add and the activation's own operators.
class FusedConvKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const AttributeMap& attrs = *info.attrs;
    const DType dtype = info.input_dtypes[0];
    std::vector<DType> conv_types(info.input_dtypes.begin(),
                                  info.input_dtypes.begin() + std::min<size_t>(3, info.input_dtypes.size()));
    std::vector<const Tensor*> conv_constants(info.constant_inputs.begin(),
                                              info.constant_inputs.begin() + conv_types.size());
    std::unique_ptr<FusedConvKernel> k(new FusedConvKernel());
    k->has_bias_ = conv_types.size() == 3 && conv_types[2] != DType::kUndefined;
    if (!k->has_bias_ && conv_types.size() == 3) {
      conv_types.pop_back();
      conv_constants.pop_back();
    }
    ASSIGN_OR_RETURN(RefOp conv, RefOp::Make("", "Conv", 11,
                                             Without(attrs, {"activation", "activation_params"}),
                                             conv_types, conv_constants));
    k->steps_.push_back(std::move(conv));
    if (info.input_dtypes.size() == 4) {
      ASSIGN_OR_RETURN(RefOp add, RefOp::Make("", "Add", 14, {}, {dtype, dtype}));
      k->add_ = std::make_unique<RefOp>(std::move(add));
    }
    const std::string name = attrs.GetString("activation");
    if (!name.empty()) {
      const FusedActivation* a = FindFusedActivation(name);
      if (a == nullptr) return absl::InvalidArgumentError("FusedConv: unknown activation " + name);
      const std::vector<float> params = attrs.GetFloats("activation_params");
      if (params.size() != a->params.size()) {
        return absl::InvalidArgumentError(absl::StrCat("FusedConv: activation ", name, " takes ",
                                                       a->params.size(), " params, got ",
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
    std::vector<const Tensor*> conv_in = {ctx.input(0), ctx.input(1)};
    if (has_bias_) conv_in.push_back(ctx.input(2));
    ASSIGN_OR_RETURN(Tensor y, steps_[0].Run(conv_in, ctx.allocator()));
    if (add_ != nullptr) {
      ASSIGN_OR_RETURN(const Tensor* z, ctx.RequiredInput(3));
      ASSIGN_OR_RETURN(y, add_->Run({&y, z}, ctx.allocator()));
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
  FusedConvKernel() = default;
  bool has_bias_ = false;
  bool swish_ = false;
  std::vector<RefOp> steps_;  // Conv, then the activation's operators
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
      if (i == 0 || i == 3) constants[i] = nullptr;
    }
    ASSIGN_OR_RETURN(RefOp inner, RefOp::Make(domain, info.op_type, domain.empty() ? kMaxOpset : 1,
                                              *info.attrs, info.input_dtypes, constants));
    k->inner_ = std::make_unique<RefOp>(std::move(inner));
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() < 3) {
      return absl::InvalidArgumentError(absl::StrCat("channels-last input must have rank >= 3, got ",
                                                     ShapeToString(x->shape())));
    }
    const int rank = x->rank();
    ASSIGN_OR_RETURN(RefOp to_first, Transpose(ToChannelsFirstPerm(rank), x->dtype()));
    ASSIGN_OR_RETURN(RefOp to_last, Transpose(ToChannelsLastPerm(rank), x->dtype()));
    std::vector<Tensor> firsts;  // channels-first copies of input 0 and Z
    std::vector<const Tensor*> inputs;
    for (int i = 0; i < ctx.num_inputs(); ++i) inputs.push_back(ctx.input(i));
    firsts.reserve(2);
    for (int i : {0, 3}) {
      if (ctx.input(i) == nullptr) continue;
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

CORTADO_REGISTER_DOMAIN_KERNEL("FusedConv", kFusedDomain, kCpuBackend, 1, kMaxOpset, FloatTypes(),
                               FusedConvKernel::Create);

const bool kNhwcKernels = [] {
  for (const std::string& op : NhwcOps()) {
    OpRegistry::Global().AddKernel(KernelDef{op, kNhwcDomain, kCpuBackend, 1, kMaxOpset,
                                             FloatTypes(), ChannelsLastKernel::Create});
  }
  return true;
}();

}  // namespace
}  // namespace cortado
