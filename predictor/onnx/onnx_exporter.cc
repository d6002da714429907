#include "predictor/onnx/onnx_exporter.h"

#include <exception>

#include "core/npy.h"
#include "onnx/checker.h"
#include "onnx/onnx_pb.h"
#include "predictor/onnx/onnx_importer.h"

namespace cortado {
namespace {

// A graph input's or output's type: a tensor's, or a sequence's or optional's element type.
absl::Status SetType(const ValueInfo& value, onnx::TypeProto* proto) {
  const TensorType& type = value.type;
  if (value.kind == ValueKind::kOptional) {
    proto = proto->mutable_optional_type()->mutable_elem_type();
  }
  if (value.kind == ValueKind::kSequence) {
    proto = proto->mutable_sequence_type()->mutable_elem_type();
  }
  auto* tt = proto->mutable_tensor_type();
  const int elem = OnnxTypeOf(type.dtype);
  if (elem == onnx::TensorProto::UNDEFINED) {
    return absl::InvalidArgumentError("value has no known dtype; ONNX needs one for graph inputs and outputs");
  }
  tt->set_elem_type(elem);
  if (type.shape) {
    auto* shape = tt->mutable_shape();
    for (int64_t d : *type.shape) {
      auto* dim = shape->add_dim();
      if (d >= 0) dim->set_dim_value(d);
    }
  }
  return absl::OkStatus();
}

absl::Status ExportGraph(const Graph& graph, bool main, onnx::GraphProto* g);

absl::Status ExportAttribute(const std::string& name, const AttrValue& value,
                             onnx::AttributeProto* a) {
  using onnx::AttributeProto;
  a->set_name(name);
  switch (TypeOf(value)) {
    case AttrType::kInt:
      a->set_type(AttributeProto::INT);
      a->set_i(std::get<int64_t>(value));
      break;
    case AttrType::kFloat:
      a->set_type(AttributeProto::FLOAT);
      a->set_f(std::get<float>(value));
      break;
    case AttrType::kString:
      a->set_type(AttributeProto::STRING);
      a->set_s(std::get<std::string>(value));
      break;
    case AttrType::kInts:
      a->set_type(AttributeProto::INTS);
      for (int64_t v : std::get<std::vector<int64_t>>(value)) a->add_ints(v);
      break;
    case AttrType::kFloats:
      a->set_type(AttributeProto::FLOATS);
      for (float v : std::get<std::vector<float>>(value)) a->add_floats(v);
      break;
    case AttrType::kStrings:
      a->set_type(AttributeProto::STRINGS);
      for (const std::string& v : std::get<std::vector<std::string>>(value)) a->add_strings(v);
      break;
    case AttrType::kTensor:
      a->set_type(AttributeProto::TENSOR);
      return TensorToOnnx(std::get<Tensor>(value), "", a->mutable_t());
    case AttrType::kGraph:
      a->set_type(AttributeProto::GRAPH);
      return ExportGraph(*std::static_pointer_cast<const Graph>(std::get<SubgraphAttr>(value).graph),
                         /*main=*/false,
                         a->mutable_g());
  }
  return absl::OkStatus();
}

// ONNX lets a subgraph's inputs and outputs go untyped (`main` false); a NetDef If branch's
// outputs are, their dtypes known only once the graph around them is planned.
absl::Status ExportGraph(const Graph& graph, bool main, onnx::GraphProto* g) {
  g->set_name(graph.name.empty() ? "cortado" : graph.name);
  for (const auto& [name, t] : graph.initializers) {
    RETURN_IF_ERROR(TensorToOnnx(t, name, g->add_initializer()));
  }
  for (const ValueInfo& v : graph.inputs) {
    auto* in = g->add_input();
    in->set_name(v.name);
    RETURN_IF_ERROR(SetType(v, in->mutable_type()));
  }
  for (const ValueInfo& v : graph.outputs) {
    auto* out = g->add_output();
    out->set_name(v.name);
    if (main || v.type.dtype != DType::kUndefined) RETURN_IF_ERROR(SetType(v, out->mutable_type()));
  }
  for (const Node& node : graph.nodes) {
    onnx::NodeProto* n = g->add_node();
    n->set_name(node.name);
    n->set_op_type(node.op_type);
    if (!node.domain.empty()) n->set_domain(node.domain);
    // The outer-scope values a node's subgraphs read (graph.h) are implicit in ONNX.
    const size_t own = node.inputs.size() - OuterValues(node).size();
    for (size_t i = 0; i < own; ++i) n->add_input(node.inputs[i]);
    for (const std::string& out : node.outputs) n->add_output(out);
    for (const auto& [name, value] : node.attrs.values()) {
      RETURN_IF_ERROR(ExportAttribute(name, value, n->add_attribute()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status TensorToOnnx(const Tensor& t, const std::string& name, onnx::TensorProto* proto) {
  const int elem = OnnxTypeOf(t.dtype());
  if (elem == onnx::TensorProto::UNDEFINED) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "' has no ONNX type"));
  }
  proto->set_name(name);
  proto->set_data_type(elem);
  for (int64_t d : t.shape()) proto->add_dims(d);
  if (t.dtype() == DType::kString) {
    for (int64_t i = 0; i < t.num_elements(); ++i) proto->add_string_data(t.data<std::string>()[i]);
  } else if (IsNarrow(t.dtype())) {
    const int per_byte = ValuesPerByte(t.dtype());
    std::string packed((t.num_elements() + per_byte - 1) / per_byte, '\0');
    PackNarrow(t.dtype(), static_cast<const uint8_t*>(t.raw_data()), t.num_elements(),
               reinterpret_cast<uint8_t*>(packed.data()));
    proto->set_raw_data(std::move(packed));
  } else {
    proto->set_raw_data(t.raw_data(), t.nbytes());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ExportOnnx(const Graph& graph) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("cortado");
  for (const auto& [domain, version] : graph.opsets) {
    auto* op = model.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
  }
  RETURN_IF_ERROR(ExportGraph(graph, /*main=*/true, model.mutable_graph()));
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("exported model fails ONNX's checker: ", e.what()));
  }
  return model.SerializeAsString();
}

absl::Status ExportOnnxFile(const Graph& graph, const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ExportOnnx(graph));
  return WriteStringToFile(path, bytes);
}

}  // namespace cortado
