#include "predictor/onnx/onnx_importer.h"

#include <cstring>
#include <exception>
#include <fstream>
#include <memory>

#include "absl/strings/numbers.h"
#include "core/child_process.h"
#include "core/npy.h"
#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace {

using onnx::TensorProto;

// A tensor of `shape` from typed proto values, narrowed as ONNX's storage rules say. The values
// are counted before the tensor is allocated.
template <typename Src>
absl::StatusOr<Tensor> TypedTensor(const google::protobuf::RepeatedField<Src>& src, DType dtype,
                                   const Shape& shape) {
  if (src.size() != NumElements(shape)) {
    return absl::InvalidArgumentError(absl::StrCat("tensor has ", src.size(), " values, shape ",
                                                   ShapeToString(shape), " needs ",
                                                   NumElements(shape)));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, shape));
  RETURN_IF_ERROR(VisitDType(t.dtype(), DTypeSet::kAll, "TensorProto", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
      for (int i = 0; i < src.size(); ++i) t.data<T>()[i].bits = static_cast<uint16_t>(src[i]);
    } else if constexpr (std::is_same_v<T, std::string>) {
      return absl::InternalError("string tensor in a numeric field");
    } else {
      for (int i = 0; i < src.size(); ++i) t.data<T>()[i] = static_cast<T>(src[i]);
    }
    return absl::OkStatus();
  }));
  return t;
}

// The narrow types: their bytes are in raw_data, or one to an entry of int32_data; the 4- and
// 2-bit types packed ValuesPerByte to a byte.
absl::StatusOr<Tensor> NarrowFromOnnx(const TensorProto& proto, DType dtype, const Shape& shape) {
  std::string bytes;
  if (proto.has_raw_data()) {
    bytes = proto.raw_data();
  } else {
    for (int32_t v : proto.int32_data()) bytes.push_back(static_cast<char>(v));
  }
  const int64_t n = NumElements(shape);
  const int per_byte = ValuesPerByte(dtype);
  const int64_t needed = (n + per_byte - 1) / per_byte;
  if (static_cast<int64_t>(bytes.size()) != needed) {
    return absl::InvalidArgumentError(absl::StrCat("tensor has ", bytes.size(),
                                                   " bytes of data, shape ", ShapeToString(shape),
                                                   " of ", DTypeName(dtype), " needs ", needed));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, shape));
  UnpackNarrow(dtype, reinterpret_cast<const uint8_t*>(bytes.data()), n,
               static_cast<uint8_t*>(t.raw_data()));
  return t;
}

absl::StatusOr<std::string> ReadExternalData(const TensorProto& proto, const std::string& base_dir) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : proto.external_data()) {
    if (kv.key() == "location") location = kv.value();
    if ((kv.key() == "offset" && !absl::SimpleAtoi(kv.value(), &offset)) ||
        (kv.key() == "length" && !absl::SimpleAtoi(kv.value(), &length))) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", proto.name(), "' has a bad external data ",
                                                     kv.key(), " '", kv.value(), "'"));
    }
  }
  if (location.empty() || location[0] == '/' || location.find("..") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", proto.name(),
                                                   "' has an invalid external data location '",
                                                   location, "'"));
  }
  ASSIGN_OR_RETURN(std::string file, ReadFileToString(base_dir + "/" + location));
  if (offset < 0 || offset > static_cast<int64_t>(file.size()) ||
      (length >= 0 && offset + length > static_cast<int64_t>(file.size()))) {
    return absl::InvalidArgumentError(absl::StrCat("external data of '", proto.name(),
                                                   "' lies outside ", location));
  }
  return file.substr(offset, length < 0 ? std::string::npos : static_cast<size_t>(length));
}

// A value's type: a tensor's, or the element type of a sequence of tensors or an optional (of a
// tensor or such a sequence); a subgraph input may leave it unset (unknown). Maps and sparse
// tensors are refused.
absl::Status ConvertType(const onnx::TypeProto& type, const std::string& name, TensorType& out,
                         ValueKind* kind = nullptr) {
  const onnx::TypeProto* t = &type;
  ValueKind k = ValueKind::kTensor;
  if (t->has_optional_type()) {
    k = ValueKind::kOptional;
    t = &t->optional_type().elem_type();
  }
  if (t->has_sequence_type()) {
    if (k == ValueKind::kTensor) k = ValueKind::kSequence;
    t = &t->sequence_type().elem_type();
  }
  if (kind != nullptr) *kind = k;
  if (t->value_case() == onnx::TypeProto::VALUE_NOT_SET) return absl::OkStatus();
  if (!t->has_tensor_type()) {
    return absl::UnimplementedError(
        absl::StrCat("value '", name,
                     "' is not a tensor, a sequence of tensors or an optional of either "
                     "(map and sparse values are not supported)"));
  }
  const auto& tt = t->tensor_type();
  if (tt.elem_type() != onnx::TensorProto::UNDEFINED) {
    ASSIGN_OR_RETURN(out.dtype, DTypeFromOnnx(tt.elem_type()));
  }
  if (tt.has_shape()) {
    Shape shape;
    for (const auto& d : tt.shape().dim()) shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
    out.shape = shape;
  }
  return absl::OkStatus();
}

// The dtype of each of the node's outputs that its (first) subgraph declares: If's outputs are
// its branches', Loop's and Scan's its body's last ones. Declared only where the model did not.
void DeclareSubgraphOutputTypes(const Node& node, Graph& graph) {
  const std::vector<const Graph*> subs = Subgraphs(node);
  if (subs.empty()) return;
  const auto& outputs = subs[0]->outputs;
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    const size_t j = i + outputs.size() - node.outputs.size();
    if (j >= outputs.size() || node.outputs[i].empty()) continue;
    const ValueInfo& v = outputs[j];
    if (v.kind == ValueKind::kTensor && v.type.dtype != DType::kUndefined) {
      graph.value_types.emplace(node.outputs[i], TensorType{v.type.dtype, std::nullopt});
    }
  }
}

absl::StatusOr<Graph> ConvertGraph(const onnx::GraphProto& g, const std::map<std::string, int>& opsets,
                                   const std::string& base_dir);

absl::Status ConvertAttribute(const onnx::AttributeProto& a, const std::map<std::string, int>& opsets,
                              const std::string& base_dir, AttributeMap& attrs) {
  using onnx::AttributeProto;
  switch (a.type()) {
    case AttributeProto::FLOAT: attrs.Set(a.name(), a.f()); break;
    case AttributeProto::INT: attrs.Set(a.name(), static_cast<int64_t>(a.i())); break;
    case AttributeProto::STRING: attrs.Set(a.name(), a.s()); break;
    case AttributeProto::FLOATS:
      attrs.Set(a.name(), std::vector<float>(a.floats().begin(), a.floats().end()));
      break;
    case AttributeProto::INTS:
      attrs.Set(a.name(), std::vector<int64_t>(a.ints().begin(), a.ints().end()));
      break;
    case AttributeProto::STRINGS:
      attrs.Set(a.name(), std::vector<std::string>(a.strings().begin(), a.strings().end()));
      break;
    case AttributeProto::TENSOR: {
      ASSIGN_OR_RETURN(Tensor t, TensorFromOnnx(a.t(), base_dir));
      attrs.Set(a.name(), std::move(t));
      break;
    }
    case AttributeProto::GRAPH: {
      ASSIGN_OR_RETURN(Graph sub, ConvertGraph(a.g(), opsets, base_dir));
      attrs.Set(a.name(), SubgraphAttr{std::make_shared<const Graph>(std::move(sub))});
      break;
    }
    case AttributeProto::TYPE_PROTO:  // Optional's `type`: the value carries its own kind
      break;
    default:
      return absl::UnimplementedError(absl::StrCat("attribute '", a.name(), "' has unsupported type ",
                                                   AttributeProto::AttributeType_Name(a.type())));
  }
  return absl::OkStatus();
}

absl::StatusOr<Graph> ConvertGraph(const onnx::GraphProto& g, const std::map<std::string, int>& opsets,
                                   const std::string& base_dir) {
  Graph graph;
  graph.name = g.name();
  graph.opsets = opsets;
  for (const TensorProto& init : g.initializer()) {
    auto t = TensorFromOnnx(init, base_dir);
    if (!t.ok()) {
      return absl::Status(t.status().code(), absl::StrCat("initializer '", init.name(), "': ",
                                                          t.status().message()));
    }
    graph.initializers[init.name()] = *std::move(t);
  }
  for (const auto& in : g.input()) {
    if (graph.initializers.count(in.name())) continue;  // IR < 4 lists parameters as inputs
    ValueInfo v{in.name(), {}};
    RETURN_IF_ERROR(ConvertType(in.type(), in.name(), v.type, &v.kind));
    graph.inputs.push_back(std::move(v));
  }
  for (const auto& out : g.output()) {
    ValueInfo v{out.name(), {}};
    RETURN_IF_ERROR(ConvertType(out.type(), out.name(), v.type, &v.kind));
    graph.outputs.push_back(std::move(v));
  }
  for (const auto& vi : g.value_info()) {
    TensorType t;
    if (ConvertType(vi.type(), vi.name(), t).ok()) graph.value_types[vi.name()] = t;
  }
  int index = 0;
  for (const auto& n : g.node()) {
    Node node;
    node.name = n.name().empty() ? absl::StrCat(n.op_type(), "_", index) : n.name();
    node.op_type = n.op_type();
    node.domain = n.domain() == "ai.onnx" ? "" : n.domain();
    node.inputs.assign(n.input().begin(), n.input().end());
    node.outputs.assign(n.output().begin(), n.output().end());
    for (const auto& a : n.attribute()) {
      absl::Status s = ConvertAttribute(a, opsets, base_dir, node.attrs);
      if (!s.ok()) {
        return absl::Status(s.code(), absl::StrCat("node '", node.name, "' (", node.op_type,
                                                   "): ", s.message()));
      }
    }
    AddOuterInputs(node);
    DeclareSubgraphOutputTypes(node, graph);
    graph.nodes.push_back(std::move(node));
    ++index;
  }
  return graph;
}

}  // namespace

absl::StatusOr<DType> DTypeFromOnnx(int onnx_type) {
  absl::StatusOr<DType> dtype = tensor_ops::DTypeFromOnnx(onnx_type, "");
  if (dtype.ok()) return dtype;
  return absl::UnimplementedError(absl::StrCat(
      "unsupported ONNX element type ",
      TensorProto::DataType_IsValid(onnx_type)
          ? TensorProto::DataType_Name(static_cast<TensorProto::DataType>(onnx_type))
          : std::to_string(onnx_type)));
}

int OnnxTypeOf(DType dtype) { return static_cast<int>(tensor_ops::OnnxDataType(dtype)); }

absl::StatusOr<Tensor> TensorFromOnnx(const TensorProto& proto, const std::string& base_dir) {
  ASSIGN_OR_RETURN(DType dtype, DTypeFromOnnx(proto.data_type()));
  if (proto.data_location() == TensorProto::EXTERNAL) {
    TensorProto inlined = proto;
    ASSIGN_OR_RETURN(*inlined.mutable_raw_data(), ReadExternalData(proto, base_dir));
    inlined.clear_external_data();
    inlined.set_data_location(TensorProto::DEFAULT);
    return TensorFromOnnx(inlined);
  }
  // The values are counted before the tensor is allocated: a few bytes of model can claim any
  // shape.
  Shape shape(proto.dims().begin(), proto.dims().end());
  RETURN_IF_ERROR(ValidateShape(shape));
  const int64_t n = NumElements(shape);
  if (dtype == DType::kString) {
    if (proto.string_data_size() != n) {
      return absl::InvalidArgumentError(
          absl::StrCat("string tensor has ", proto.string_data_size(), " values, shape needs ", n));
    }
    ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, shape));
    for (int i = 0; i < proto.string_data_size(); ++i) t.data<std::string>()[i] = proto.string_data(i);
    return t;
  }
  if (IsNarrow(dtype)) return NarrowFromOnnx(proto, dtype, shape);
  if (proto.has_raw_data()) {
    const uint64_t nbytes = static_cast<uint64_t>(n) * DTypeSize(dtype);
    if (proto.raw_data().size() != nbytes) {
      return absl::InvalidArgumentError(absl::StrCat("raw_data has ", proto.raw_data().size(),
                                                     " bytes, shape ", ShapeToString(shape), " of ",
                                                     DTypeName(dtype), " needs ", nbytes));
    }
    ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, shape));
    if (nbytes > 0) std::memcpy(t.raw_data(), proto.raw_data().data(), nbytes);
    return t;
  }
  switch (dtype) {
    case DType::kFloat32:
      return TypedTensor(proto.float_data(), dtype, shape);
    case DType::kFloat64:
      return TypedTensor(proto.double_data(), dtype, shape);
    case DType::kInt64:
      return TypedTensor(proto.int64_data(), dtype, shape);
    case DType::kUInt32:
    case DType::kUInt64:
      return TypedTensor(proto.uint64_data(), dtype, shape);
    default:
      return TypedTensor(proto.int32_data(), dtype, shape);
  }
}

absl::StatusOr<Tensor> ParseOnnxTensor(const std::string& bytes) {
  TensorProto proto;
  if (!proto.ParseFromString(bytes)) return absl::InvalidArgumentError("not a valid ONNX TensorProto");
  return TensorFromOnnx(proto);
}

namespace {

absl::StatusOr<Value> SequenceFromOnnx(const onnx::SequenceProto& proto) {
  if (proto.elem_type() != onnx::SequenceProto::TENSOR &&
      proto.elem_type() != onnx::SequenceProto::UNDEFINED) {
    return absl::UnimplementedError("only sequences of tensors are supported");
  }
  std::vector<Tensor> elements;
  for (const TensorProto& t : proto.tensor_values()) {
    ASSIGN_OR_RETURN(Tensor e, TensorFromOnnx(t));
    elements.push_back(std::move(e));
  }
  const DType dtype = elements.empty() ? DType::kUndefined : elements[0].dtype();
  return Value::Sequence(std::move(elements), dtype);
}

}  // namespace

absl::StatusOr<Value> ParseOnnxValue(const std::string& bytes, ValueKind kind) {
  if (kind == ValueKind::kTensor) return ParseOnnxTensor(bytes);
  if (kind == ValueKind::kSequence) {
    onnx::SequenceProto proto;
    if (!proto.ParseFromString(bytes)) {
      return absl::InvalidArgumentError("not a valid ONNX SequenceProto");
    }
    return SequenceFromOnnx(proto);
  }
  onnx::OptionalProto proto;
  if (!proto.ParseFromString(bytes)) {
    return absl::InvalidArgumentError("not a valid ONNX OptionalProto");
  }
  switch (proto.elem_type()) {
    case onnx::OptionalProto::UNDEFINED:
      return Value::None();
    case onnx::OptionalProto::TENSOR:
      return TensorFromOnnx(proto.tensor_value());
    case onnx::OptionalProto::SEQUENCE:
      return SequenceFromOnnx(proto.sequence_value());
    default:
      return absl::UnimplementedError("only optionals of tensors and sequences are supported");
  }
}

namespace {

// The newest ONNX IR version whose models this importer reads: onnx 1.23's (PyPI).
constexpr int64_t kMaxIrVersion = 14;

// Whether Debian's libonnx knows the model's IR version and every opset it imports of the
// domains libonnx defines. Newer models skip libonnx's checker and shape inference, which refuse
// what they do not know; our own schemas (predictor/passes/infer_types) check and infer them.
bool LibOnnxKnows(const onnx::ModelProto& model) {
  if (model.ir_version() > onnx::Version::IR_VERSION) return false;
  const auto& known = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  for (const auto& op : model.opset_import()) {
    auto it = known.find(op.domain() == "ai.onnx" ? "" : op.domain());
    if (it != known.end() && op.version() > it->second.second) return false;
  }
  return true;
}

// onnx's checker and shape inference, run in-process.
absl::Status CheckAndInferWithLibOnnx(onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("ONNX checker rejected the model: ", e.what()));
  }
  try {
    onnx::ShapeInferenceOptions options(/*check_type=*/false, /*error_mode=*/0,
                                        /*enable_data_propagation=*/true);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("ONNX shape inference failed: ", e.what()));
  }
  return absl::OkStatus();
}

// How long a model's trial run of libonnx may take before it counts as hung.
constexpr absl::Duration kLibOnnxTrialTimeout = absl::Seconds(120);

// libonnx 1.12 trusts the model: some of its shape inference functions read out of bounds on a
// malformed one (a Conv whose input rank is below its weight's, found by
// server/fuzz/onnx_importer_fuzzer; newer onnx checks), and it may hold more such bugs. So the
// checker and shape inference first run in a child process on its copy of `model`; only when
// that ends normally (whatever they decided) does the importer run them for real, which then
// takes the same path. A child that crashes or hangs refuses the model. Unavailable when no
// child could be made (a strict overcommit policy): the caller then leaves libonnx out.
absl::Status TryLibOnnxInChild(onnx::ModelProto& model) {
  onnx::OpSchemaRegistry::Instance();  // built here, never half-built in the child
  absl::Status trial =
      RunInChild([&] { CheckAndInferWithLibOnnx(model).IgnoreError(); }, kLibOnnxTrialTimeout);
  if (trial.ok() || absl::IsUnavailable(trial)) return trial;
  return absl::InvalidArgumentError(
      absl::StrCat("malformed model: onnx's checker or shape inference (libonnx) ", trial.message(),
                   " in a trial run"));
}

// The model's top-level graph, its initializers converted one at a time with each one's bytes
// freed from the proto at once, so that a large model is held about twice at its peak (proto
// and tensors), not three times.
absl::StatusOr<Graph> ImportOnnxModel(onnx::ModelProto& model, const std::string& base_dir) {
  if (!model.has_graph()) return absl::InvalidArgumentError("ONNX model has no graph");
  if (model.ir_version() > kMaxIrVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("ONNX IR version ", model.ir_version(),
                     " is newer than the newest this importer knows (", kMaxIrVersion, ")"));
  }
  // Bring external data in first: the checker then sees whole tensors, wherever the model lives.
  for (TensorProto& init : *model.mutable_graph()->mutable_initializer()) {
    if (init.data_location() != TensorProto::EXTERNAL) continue;
    auto raw = ReadExternalData(init, base_dir);
    if (!raw.ok()) {
      return absl::Status(raw.status().code(),
                          absl::StrCat("initializer '", init.name(), "': ", raw.status().message()));
    }
    init.set_raw_data(*std::move(raw));
    init.clear_external_data();
    init.set_data_location(TensorProto::DEFAULT);
  }
  if (LibOnnxKnows(model)) {
    // Without a trial run libonnx is left out; cortado's own schemas still check the model.
    const absl::Status trial = TryLibOnnxInChild(model);
    if (trial.ok()) RETURN_IF_ERROR(CheckAndInferWithLibOnnx(model));
    if (!trial.ok() && !absl::IsUnavailable(trial)) return trial;
  }
  std::map<std::string, int> opsets;
  for (const auto& op : model.opset_import()) {
    opsets[op.domain() == "ai.onnx" ? "" : op.domain()] = static_cast<int>(op.version());
  }
  std::map<std::string, Tensor> initializers;
  for (TensorProto& init : *model.mutable_graph()->mutable_initializer()) {
    auto t = TensorFromOnnx(init, base_dir);
    if (!t.ok()) {
      return absl::Status(t.status().code(), absl::StrCat("initializer '", init.name(), "': ",
                                                          t.status().message()));
    }
    initializers[init.name()] = *std::move(t);
    std::string().swap(*init.mutable_raw_data());
    init.Clear();
  }
  model.mutable_graph()->clear_initializer();
  ASSIGN_OR_RETURN(Graph graph, ConvertGraph(model.graph(), opsets, base_dir));
  // IR < 4 lists parameters as inputs too.
  std::vector<ValueInfo> inputs;
  for (ValueInfo& v : graph.inputs) {
    if (!initializers.count(v.name)) inputs.push_back(std::move(v));
  }
  graph.inputs = std::move(inputs);
  graph.initializers = std::move(initializers);
  RETURN_IF_ERROR(graph.CheckAndSort());
  return graph;
}

}  // namespace

absl::StatusOr<Graph> ImportOnnx(const std::string& bytes, const std::string& base_dir) {
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes)) {
    return absl::InvalidArgumentError("not a valid ONNX model (protobuf parse failed; truncated or not ONNX?)");
  }
  return ImportOnnxModel(model, base_dir);
}

absl::StatusOr<Graph> ImportOnnxFile(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string base_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  absl::StatusOr<Graph> graph = [&]() -> absl::StatusOr<Graph> {
    // Parsed straight from the file, so that its bytes are never held whole beside the proto.
    std::ifstream file(path, std::ios::binary);
    if (!file) return absl::NotFoundError("cannot open the file");
    onnx::ModelProto model;
    if (!model.ParseFromIstream(&file) || model.ByteSizeLong() == 0) {
      return absl::InvalidArgumentError(
          "not a valid ONNX model (protobuf parse failed; truncated or not ONNX?)");
    }
    return ImportOnnxModel(model, base_dir);
  }();
  if (!graph.ok()) {
    return absl::Status(graph.status().code(), absl::StrCat(path, ": ", graph.status().message()));
  }
  return graph;
}

}  // namespace cortado
