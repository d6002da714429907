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

bool OpRegistry::AddKernel(KernelDef def) {
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
  for (const auto& k : kernels_) {
    if (k->op_type != op_type || k->domain != domain || k->backend != backend ||
        opset < k->since || opset > k->until) {
      continue;
    }
    if (dtype == DType::kUndefined || k->dtypes.empty() ||
        std::find(k->dtypes.begin(), k->dtypes.end(), dtype) != k->dtypes.end()) {
      return k.get();
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
