#include "ops/registry.h"

#include <algorithm>

namespace cortado {

const TensorType& InferenceContext::input(int i) const {
  static const TensorType* absent = new TensorType();
  return i < num_inputs() ? inputs_[i] : *absent;
}

absl::StatusOr<Shape> BroadcastPartial(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else if (da == -1 || db == -1) {
      out[i] = da == -1 ? db : da;  // the known one must be it (or 1, handled above)
    } else {
      return absl::InvalidArgumentError(absl::StrCat("shapes ", ShapeToString(a), " and ",
                                                     ShapeToString(b), " do not broadcast"));
    }
  }
  return out;
}

absl::Status InferSameAsInput0(InferenceContext& ctx) {
  ctx.set_output(0, ctx.input(0));
  return absl::OkStatus();
}

absl::Status InferBroadcast(InferenceContext& ctx) {
  TensorType out{ctx.input(0).dtype, Shape{}};
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const TensorType& in = ctx.input(i);
    if (!in.shape || !out.shape) {
      out.shape.reset();
      continue;
    }
    ASSIGN_OR_RETURN(out.shape, BroadcastPartial(*out.shape, *in.shape));
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

absl::Status InferBroadcastBool(InferenceContext& ctx) {
  RETURN_IF_ERROR(InferBroadcast(ctx));
  TensorType out = ctx.outputs()[0];
  out.dtype = DType::kBool;
  ctx.set_output(0, out);
  return absl::OkStatus();
}

OpSchema& OpSchema::Attr(std::string name, AttrValue def) {
  const AttrType type = TypeOf(def);
  attrs_.push_back({std::move(name), type, std::move(def), false});
  return *this;
}

OpSchema& OpSchema::OptionalAttr(std::string name, AttrType type) {
  attrs_.push_back({std::move(name), type, std::nullopt, false});
  return *this;
}

OpSchema& OpSchema::RequiredAttr(std::string name, AttrType type) {
  attrs_.push_back({std::move(name), type, std::nullopt, true});
  return *this;
}

absl::Status OpSchema::Complete(int num_inputs, int num_outputs, AttributeMap& attrs) const {
  if (num_inputs < min_inputs_ || num_inputs > max_inputs_) {
    return absl::InvalidArgumentError(absl::StrCat(op_type_, " takes ", min_inputs_, " to ",
                                                   max_inputs_, " inputs, got ", num_inputs));
  }
  if (num_outputs < min_outputs_ || num_outputs > max_outputs_) {
    return absl::InvalidArgumentError(absl::StrCat(op_type_, " has ", min_outputs_, " to ",
                                                   max_outputs_, " outputs, got ", num_outputs));
  }
  for (const AttrSpec& spec : attrs_) {
    const AttrValue* v = attrs.Find(spec.name);
    if (v == nullptr) {
      if (spec.required) {
        return absl::InvalidArgumentError(
            absl::StrCat(op_type_, " requires attribute '", spec.name, "'"));
      }
      if (spec.def) attrs.Set(spec.name, *spec.def);
      continue;
    }
    const AttrType got = TypeOf(*v);
    if (got == spec.type) continue;
    // ONNX writers sometimes use an int where a float is expected, or a single value for a list.
    if (spec.type == AttrType::kFloat && got == AttrType::kInt) {
      attrs.Set(spec.name, static_cast<float>(std::get<int64_t>(*v)));
      continue;
    }
    return absl::InvalidArgumentError(absl::StrCat(op_type_, " attribute '", spec.name,
                                                   "' must be ", AttrTypeName(spec.type),
                                                   ", got ", AttrTypeName(got)));
  }
  return absl::OkStatus();
}

absl::Status OpSchema::RunInference(InferenceContext& ctx) const {
  if (!infer_) return absl::OkStatus();
  absl::Status s = infer_(ctx);
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat(op_type_, ": ", s.message()));
  return s;
}

OpRegistry& OpRegistry::Global() {
  static OpRegistry* registry = new OpRegistry();
  return *registry;
}

bool OpRegistry::AddSchema(OpSchema schema) {
  schemas_.push_back(std::make_unique<OpSchema>(std::move(schema)));
  return true;
}

namespace {

// Copies `from`'s elements into `to`, of the same shape, converting between float32 and
// bfloat16 (bfloat16 rounds to nearest even).
void ConvertInto(const Tensor& from, Tensor& to) {
  for (int64_t i = 0; i < from.num_elements(); ++i) {
    if (to.dtype() == DType::kFloat32) {
      to.data<float>()[i] = static_cast<float>(from.data<BFloat16>()[i]);
    } else {
      to.data<BFloat16>()[i] = BFloat16(from.data<float>()[i]);
    }
  }
}

absl::StatusOr<Tensor> Widen(const Tensor& t) {
  ASSIGN_OR_RETURN(Tensor out, Tensor::Create(DType::kFloat32, t.shape()));
  ConvertInto(t, out);
  return out;
}

// A float32 kernel run on bfloat16 values: each bfloat16 input is widened to float32 and each
// float32 output rounded to bfloat16, once. Immutable; as thread-safe as the kernel it wraps.
class BFloat16ViaFloat32Kernel : public Kernel {
 public:
  explicit BFloat16ViaFloat32Kernel(std::unique_ptr<Kernel> inner) : inner_(std::move(inner)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    std::vector<Tensor> widened(ctx.num_inputs());
    std::vector<const Tensor*> inputs(ctx.num_inputs());
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor* t = ctx.input(i);
      if (t == nullptr || t->dtype() != DType::kBFloat16) {
        inputs[i] = t;
        continue;
      }
      ASSIGN_OR_RETURN(widened[i], Widen(*t));
      inputs[i] = &widened[i];
    }
    KernelContext inner(std::move(inputs), ctx.num_outputs(), ctx.allocator());
    inner.set_stream(ctx.stream());
    RETURN_IF_ERROR(inner_->Compute(inner));
    for (int i = 0; i < ctx.num_outputs(); ++i) {
      if (const Value* v = inner.value_output(i)) {
        ctx.SetValue(i, *v);
        continue;
      }
      const Tensor& out = inner.output(i);
      if (!out.defined() || out.dtype() != DType::kFloat32) {
        ctx.SetOutput(i, out);
        continue;
      }
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(i, DType::kBFloat16, out.shape()));
      ConvertInto(out, *y);
    }
    return absl::OkStatus();
  }
  absl::Status Prepare() override { return inner_->Prepare(); }
  bool InputOnHost(int i) const override { return inner_->InputOnHost(i); }

 private:
  std::unique_ptr<Kernel> inner_;
};

// The factory of BFloat16ViaFloat32Kernel over `factory`'s float32 kernel, which it makes from
// `info` with bfloat16 input dtypes and constants widened to float32.
KernelFactory BFloat16ViaFloat32(KernelFactory factory) {
  return [factory = std::move(factory)](
             const KernelInfo& info) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    KernelInfo widened = info;
    for (DType& d : widened.input_dtypes) {
      if (d == DType::kBFloat16) d = DType::kFloat32;
    }
    std::vector<Tensor> constants(info.constant_inputs.size());  // alive during creation only
    for (size_t i = 0; i < constants.size(); ++i) {
      const Tensor* c = info.constant_inputs[i];
      if (c == nullptr || c->dtype() != DType::kBFloat16) continue;
      ASSIGN_OR_RETURN(constants[i], Widen(*c));
      widened.constant_inputs[i] = &constants[i];
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Kernel> inner, factory(widened));
    return std::unique_ptr<Kernel>(new BFloat16ViaFloat32Kernel(std::move(inner)));
  };
}

bool Admits(const KernelDef& k, DType dtype) {
  return k.dtypes.empty() || std::find(k.dtypes.begin(), k.dtypes.end(), dtype) != k.dtypes.end();
}

}  // namespace

bool OpRegistry::AddKernel(KernelDef def) {
  if (def.backend == kCpuBackend && Admits(def, DType::kFloat32) &&
      !Admits(def, DType::kBFloat16)) {
    KernelDef via = def;
    via.dtypes = {DType::kBFloat16};
    via.factory = BFloat16ViaFloat32(def.factory);
    bfloat16_kernels_.push_back(std::make_unique<KernelDef>(std::move(via)));
  }
  kernels_.push_back(std::make_unique<KernelDef>(std::move(def)));
  return true;
}

const OpSchema* OpRegistry::FindSchema(absl::string_view domain, absl::string_view op_type,
                                       int opset) const {
  for (const auto& s : schemas_) {
    if (s->op_type() == op_type && s->domain() == domain && s->since() <= opset &&
        opset <= s->until()) {
      return s.get();
    }
  }
  return nullptr;
}

const KernelDef* OpRegistry::FindKernel(absl::string_view backend, absl::string_view domain,
                                        absl::string_view op_type, int opset, DType dtype) const {
  for (const auto* list : {&kernels_, &bfloat16_kernels_}) {
    for (const auto& k : *list) {
      if (k->op_type != op_type || k->domain != domain || k->backend != backend ||
          opset < k->since || opset > k->until) {
        continue;
      }
      if (dtype == DType::kUndefined || Admits(*k, dtype)) return k.get();
    }
  }
  return nullptr;
}

std::vector<const OpSchema*> OpRegistry::Schemas() const {
  std::vector<const OpSchema*> out;
  for (const auto& s : schemas_) out.push_back(s.get());
  return out;
}

std::vector<DType> FloatTypes() { return {DType::kFloat32, DType::kFloat64}; }
std::vector<DType> SignedTypes() {
  return {DType::kFloat32, DType::kFloat64, DType::kInt8,
          DType::kInt16,   DType::kInt32,   DType::kInt64};
}
std::vector<DType> NumericTypes() {
  std::vector<DType> t = SignedTypes();
  for (DType d : {DType::kUInt8, DType::kUInt16, DType::kUInt32, DType::kUInt64}) t.push_back(d);
  return t;
}

}  // namespace cortado
