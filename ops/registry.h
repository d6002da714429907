// The operator library's registry: one OpSchema per operator (attributes with defaults, the
// opset range it covers, type and shape inference) and kernels keyed by op, opset range,
// backend and dtype. Both are filled by one-line registrations in each op's own .cc during static
// initialization and only read afterwards, so lookups are thread-safe.
#ifndef CORTADO_OPS_REGISTRY_H_
#define CORTADO_OPS_REGISTRY_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "ops/attributes.h"
#include "ops/kernel.h"

namespace cortado {

// The newest default-domain opset we verify: onnx 1.23's (PyPI). Schemas and kernels whose op
// changed meaning at some opset are versioned; the others cover every opset up to this one.
inline constexpr int kMaxOpset = 28;
inline constexpr char kCpuBackend[] = "cpu";
// The domain of the gradient operators the eager frontend's backward pass runs (ConvGrad,
// MaxPoolGrad, ...). They take the forward op's attributes, cover opsets 1..kMaxOpset, and
// never appear in exported models.
inline constexpr char kTrainingDomain[] = "ai.cortado.training";
// The operators the graph optimizer makes (predictor/passes), never written by an exporter:
// kFusedDomain holds fused forms (FusedConv = activation(Conv + Z)); every op of kNhwcDomain is
// the same-named op of the default or fused domain on channels-last activations (N, spatial...,
// C) instead of channels-first (N, C, spatial...). Both are at opset 1.
inline constexpr char kFusedDomain[] = "ai.cortado";
inline constexpr char kNhwcDomain[] = "ai.cortado.nhwc";
// Caffe2 operators with no ONNX counterpart (the Caffe2go stylizer's image packing), made only
// by the NetDef importer; opset 1.
inline constexpr char kCaffe2Domain[] = "ai.cortado.caffe2";

// What static analysis knows of a value: its dtype (kUndefined if unknown) and shape (nullopt if
// the rank is unknown; a dimension of -1 if that dimension is unknown).
struct TensorType {
  DType dtype = DType::kUndefined;
  std::optional<Shape> shape;
};

class InferenceContext {
 public:
  InferenceContext(std::vector<TensorType> inputs, std::vector<const Tensor*> constants,
                   const AttributeMap* attrs, int opset, int num_outputs)
      : inputs_(std::move(inputs)), constants_(std::move(constants)), attrs_(attrs),
        opset_(opset), outputs_(num_outputs) {}
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  // Absent inputs are TensorType{} with has_input(i) false.
  bool has_input(int i) const { return i < num_inputs() && inputs_[i].dtype != DType::kUndefined; }
  const TensorType& input(int i) const;
  // The input's value when it is a known constant, else nullptr.
  const Tensor* constant(int i) const { return i < static_cast<int>(constants_.size()) ? constants_[i] : nullptr; }
  const AttributeMap& attrs() const { return *attrs_; }
  int opset() const { return opset_; }
  void set_output(int i, TensorType type) {
    if (i < num_outputs()) outputs_[i] = std::move(type);
  }
  const std::vector<TensorType>& outputs() const { return outputs_; }

 private:
  std::vector<TensorType> inputs_;
  std::vector<const Tensor*> constants_;
  const AttributeMap* attrs_;
  int opset_;
  std::vector<TensorType> outputs_;
};

using InferFn = std::function<absl::Status(InferenceContext&)>;

// Common inference rules.
absl::Status InferSameAsInput0(InferenceContext& ctx);    // output 0 = input 0
absl::Status InferBroadcast(InferenceContext& ctx);       // numpy broadcast of all inputs
absl::Status InferBroadcastBool(InferenceContext& ctx);   // as above, dtype bool
// Broadcast of two possibly partly unknown shapes (-1 dims), for inference.
absl::StatusOr<Shape> BroadcastPartial(const Shape& a, const Shape& b);

class OpSchema {
 public:
  explicit OpSchema(std::string op_type, std::string domain = "")
      : op_type_(std::move(op_type)), domain_(std::move(domain)) {}
  // Opset versions of `domain` this schema covers, inclusive.
  OpSchema& Versions(int since, int until = kMaxOpset) {
    since_ = since;
    until_ = until;
    return *this;
  }
  OpSchema& Inputs(int min, int max) {
    min_inputs_ = min;
    max_inputs_ = max;
    return *this;
  }
  OpSchema& Outputs(int min, int max) {
    min_outputs_ = min;
    max_outputs_ = max;
    return *this;
  }
  // An optional attribute with its default.
  OpSchema& Attr(std::string name, AttrValue def);
  // An optional attribute without a default (kernels test Has()).
  OpSchema& OptionalAttr(std::string name, AttrType type);
  OpSchema& RequiredAttr(std::string name, AttrType type);
  OpSchema& Infer(InferFn fn) {
    infer_ = std::move(fn);
    return *this;
  }

  const std::string& op_type() const { return op_type_; }
  const std::string& domain() const { return domain_; }
  int since() const { return since_; }
  int until() const { return until_; }
  // True for control flow (a graph attribute): the plan builds its kernel, none is registered.
  bool RunsSubgraphs() const {
    for (const AttrSpec& a : attrs_) {
      if (a.type == AttrType::kGraph) return true;
    }
    return false;
  }
  // Checks input/output counts and attribute kinds, then adds defaults for absent attributes.
  absl::Status Complete(int num_inputs, int num_outputs, AttributeMap& attrs) const;
  absl::Status RunInference(InferenceContext& ctx) const;

 private:
  struct AttrSpec {
    std::string name;
    AttrType type;
    std::optional<AttrValue> def;
    bool required = false;
  };
  std::string op_type_;
  std::string domain_;
  int since_ = 1;
  int until_ = kMaxOpset;
  int min_inputs_ = 0, max_inputs_ = 1 << 20;
  int min_outputs_ = 1, max_outputs_ = 1;
  std::vector<AttrSpec> attrs_;
  InferFn infer_;
};

using KernelFactory = std::function<absl::StatusOr<std::unique_ptr<Kernel>>(const KernelInfo&)>;

struct KernelDef {
  std::string op_type;
  std::string domain;
  std::string backend;
  int since = 1;
  int until = kMaxOpset;
  // dtypes of input 0 the kernel accepts; empty means any.
  std::vector<DType> dtypes;
  KernelFactory factory;
};

class OpRegistry {
 public:
  static OpRegistry& Global();
  bool AddSchema(OpSchema schema);
  bool AddKernel(KernelDef def);
  // The schema covering `opset` of the op's domain, or nullptr.
  const OpSchema* FindSchema(absl::string_view domain, absl::string_view op_type, int opset) const;
  // The kernel for `backend` covering `opset` whose dtypes admit `dtype` (kUndefined admits any).
  // For bfloat16 on the cpu backend, where no kernel admits it, the float32 kernel computed in
  // float: bfloat16 inputs widened to float32, float32 outputs rounded to bfloat16 once.
  const KernelDef* FindKernel(absl::string_view backend, absl::string_view domain,
                              absl::string_view op_type, int opset, DType dtype) const;
  std::vector<const OpSchema*> Schemas() const;

 private:
  std::vector<std::unique_ptr<OpSchema>> schemas_;
  std::vector<std::unique_ptr<KernelDef>> kernels_;
  // One per cpu kernel admitting float32 but not bfloat16: that kernel through float32.
  std::vector<std::unique_ptr<KernelDef>> bfloat16_kernels_;
};

// Makes a factory for a kernel class constructible from `const KernelInfo&`.
template <typename K>
KernelFactory MakeFactory() {
  return [](const KernelInfo& info) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::unique_ptr<Kernel>(new K(info));
  };
}

std::vector<DType> FloatTypes();     // float32, float64
std::vector<DType> SignedTypes();    // FloatTypes + int8..int64
std::vector<DType> NumericTypes();   // SignedTypes + uint8..uint64

}  // namespace cortado

// One-line registrations, used at namespace scope in an op's .cc file.
#define CORTADO_REGISTER_OP(schema) \
  static const bool CORTADO_CONCAT_(_cortado_op_, __COUNTER__) = \
      ::cortado::OpRegistry::Global().AddSchema(schema)
// CORTADO_REGISTER_KERNEL("Relu", kCpuBackend, 6, kMaxOpset, FloatTypes(), MakeFactory<K>());
#define CORTADO_REGISTER_KERNEL(op, backend, since, until, dtypes, factory)       \
  static const bool CORTADO_CONCAT_(_cortado_kernel_, __COUNTER__) =               \
      ::cortado::OpRegistry::Global().AddKernel(                                   \
          ::cortado::KernelDef{op, "", backend, since, until, dtypes, factory})

// The same for an operator of another domain.
#define CORTADO_REGISTER_DOMAIN_KERNEL(op, domain, backend, since, until, dtypes, factory) \
  static const bool CORTADO_CONCAT_(_cortado_kernel_, __COUNTER__) =                       \
      ::cortado::OpRegistry::Global().AddKernel(                                           \
          ::cortado::KernelDef{op, domain, backend, since, until, dtypes, factory})

// The same for a gradient operator in kTrainingDomain (cpu backend, opsets 1..kMaxOpset).
#define CORTADO_REGISTER_TRAINING_KERNEL(op, dtypes, factory)                                 \
  static const bool CORTADO_CONCAT_(_cortado_kernel_, __COUNTER__) =                           \
      ::cortado::OpRegistry::Global().AddKernel(::cortado::KernelDef{                          \
          op, ::cortado::kTrainingDomain, ::cortado::kCpuBackend, 1, ::cortado::kMaxOpset,   \
          dtypes, factory})

#endif  // CORTADO_OPS_REGISTRY_H_
