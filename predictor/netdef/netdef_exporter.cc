#include "predictor/netdef/netdef_exporter.h"

#include <sys/stat.h>

#include <cerrno>
#include <functional>
#include <limits>
#include <map>

#include "core/npy.h"

namespace cortado {
namespace {

using caffe2::OperatorDef;

class ExportContext {
 public:
  ExportContext(const Graph& graph, caffe2::NetDef* net) : graph_(graph), net_(net) {
    for (const Node& n : graph.nodes) {
      if (n.op_type == "Constant" && n.outputs.size() == 1) {
        Tensor v = n.attrs.GetTensor("value");
        if (v.defined()) constants_[n.outputs[0]] = v;
      }
    }
  }
  // The value of a parameter or Constant output, or nullptr.
  const Tensor* Constant(const std::string& name) const {
    auto it = graph_.initializers.find(name);
    if (it != graph_.initializers.end()) return &it->second;
    auto c = constants_.find(name);
    return c == constants_.end() ? nullptr : &c->second;
  }
  absl::StatusOr<std::vector<int64_t>> ConstInts(const Node& n, size_t i) const {
    if (i >= n.inputs.size() || n.inputs[i].empty()) return std::vector<int64_t>{};
    const Tensor* t = Constant(n.inputs[i]);
    if (t == nullptr) {
      return absl::UnimplementedError(absl::StrCat("input '", n.inputs[i],
                                                   "' must be a constant for Caffe2"));
    }
    return t->ToInt64Vector();
  }
  absl::StatusOr<float> ConstFloat(const Node& n, size_t i, float def) const {
    if (i >= n.inputs.size() || n.inputs[i].empty()) return def;
    const Tensor* t = Constant(n.inputs[i]);
    if (t == nullptr || t->num_elements() != 1) {
      return absl::UnimplementedError(absl::StrCat("input '", n.inputs[i],
                                                   "' must be a constant scalar for Caffe2"));
    }
    return static_cast<float>(t->ElementAsDouble(0));
  }
  // Shape of a value when known from type inference (-1 marks a dynamic dimension), else null.
  const Shape* ShapeOf(const std::string& name) const {
    auto it = graph_.value_types.find(name);
    if (it != graph_.value_types.end() && it->second.shape) return &*it->second.shape;
    for (const ValueInfo& v : graph_.inputs) {
      if (v.name == name && v.type.shape) return &*v.type.shape;
    }
    return nullptr;
  }
  // Rank of a value when known from type inference, else -1.
  int RankOf(const std::string& name) const {
    const Shape* shape = ShapeOf(name);
    return shape == nullptr ? -1 : static_cast<int>(shape->size());
  }
  OperatorDef* Add(const std::string& type, std::vector<std::string> in,
                   std::vector<std::string> out, const std::string& name) {
    OperatorDef* op = net_->add_op();
    op->set_type(type);
    op->set_name(name);
    for (auto& i : in) op->add_input(i);
    for (auto& o : out) op->add_output(o);
    return op;
  }
  bool IsConstantNode(const Node& n) const { return n.op_type == "Constant" && constants_.count(n.outputs[0]); }

 private:
  const Graph& graph_;
  caffe2::NetDef* net_;
  std::map<std::string, Tensor> constants_;
};

void ArgInt(OperatorDef* op, const std::string& name, int64_t v) {
  auto* a = op->add_arg();
  a->set_name(name);
  a->set_i(v);
}
void ArgFloat(OperatorDef* op, const std::string& name, float v) {
  auto* a = op->add_arg();
  a->set_name(name);
  a->set_f(v);
}
void ArgString(OperatorDef* op, const std::string& name, const std::string& v) {
  auto* a = op->add_arg();
  a->set_name(name);
  a->set_s(v);
}
void ArgInts(OperatorDef* op, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = op->add_arg();
  a->set_name(name);
  for (int64_t x : v) a->add_ints(x);
}

absl::Status Unsupported(const std::string& what) { return absl::UnimplementedError(what); }

using ExportFn = std::function<absl::Status(const Node&, int opset, ExportContext&)>;

ExportFn Renamed(std::string type) {
  return [type](const Node& n, int, ExportContext& ctx) {
    ctx.Add(type, n.inputs, {n.outputs[0]}, n.name);
    return absl::OkStatus();
  };
}

absl::Status SpatialArgs(const Node& n, OperatorDef* op, bool with_dilations) {
  if (n.attrs.GetString("auto_pad", "NOTSET") != "NOTSET" &&
      n.attrs.GetString("auto_pad") != "VALID") {
    return Unsupported("auto_pad SAME_* (Caffe2 needs explicit pads)");
  }
  const std::vector<int64_t> kernel = n.attrs.GetInts("kernel_shape");
  const size_t rank = kernel.size();
  if (rank > 0) ArgInts(op, "kernels", kernel);
  ArgInts(op, "strides", n.attrs.GetInts("strides", std::vector<int64_t>(rank, 1)));
  ArgInts(op, "pads", n.attrs.GetInts("pads", std::vector<int64_t>(2 * rank, 0)));
  if (with_dilations) {
    ArgInts(op, "dilations", n.attrs.GetInts("dilations", std::vector<int64_t>(rank, 1)));
  }
  return absl::OkStatus();
}

absl::Status ExportConv(const Node& n, int, ExportContext& ctx) {
  OperatorDef* op = ctx.Add(n.op_type, n.inputs, {n.outputs[0]}, n.name);
  Node with_kernel = n;
  if (!n.attrs.Has("kernel_shape")) {
    const Tensor* w = ctx.Constant(n.inputs[1]);
    if (w == nullptr) return Unsupported("Conv without kernel_shape needs constant weights");
    with_kernel.attrs.Set("kernel_shape", Shape(w->shape().begin() + 2, w->shape().end()));
  }
  RETURN_IF_ERROR(SpatialArgs(with_kernel, op, /*with_dilations=*/true));
  ArgInt(op, "group", n.attrs.GetInt("group", 1));
  if (n.op_type == "ConvTranspose") {
    if (n.attrs.Has("output_shape")) return Unsupported("ConvTranspose with output_shape");
    const std::vector<int64_t> adj = n.attrs.GetInts("output_padding");
    if (!adj.empty()) ArgInts(op, "adjs", adj);
  }
  return absl::OkStatus();
}

absl::Status ExportPool(const Node& n, int, ExportContext& ctx) {
  if (n.outputs.size() > 1 && !n.outputs[1].empty()) return Unsupported("MaxPool's Indices output");
  for (int64_t d : n.attrs.GetInts("dilations")) {
    if (d != 1) return Unsupported("pooling dilations");
  }
  const bool max = n.op_type == "MaxPool";
  OperatorDef* op = ctx.Add(max ? "MaxPool" : "AveragePool", {n.inputs[0]}, {n.outputs[0]}, n.name);
  RETURN_IF_ERROR(SpatialArgs(n, op, /*with_dilations=*/false));
  if (!max) ArgInt(op, "count_include_pad", n.attrs.GetInt("count_include_pad", 0));
  if (n.attrs.GetInt("ceil_mode", 0)) ArgInt(op, "legacy_pad", 3);  // CAFFE_LEGACY_POOLING
  return absl::OkStatus();
}

ExportFn GlobalPool(std::string type) {
  return [type](const Node& n, int, ExportContext& ctx) {
    ArgInt(ctx.Add(type, n.inputs, {n.outputs[0]}, n.name), "global_pooling", 1);
    return absl::OkStatus();
  };
}

absl::Status ExportGemm(const Node& n, int, ExportContext& ctx) {
  if (n.attrs.GetInt("transA", 0) || n.attrs.GetFloat("alpha", 1) != 1 ||
      n.attrs.GetFloat("beta", 1) != 1 || n.inputs.size() < 3 || n.inputs[2].empty()) {
    return Unsupported("Gemm other than A * B(^T) + bias (Caffe2 FC)");
  }
  if (const Tensor* c = ctx.Constant(n.inputs[2]); c != nullptr && c->rank() != 1) {
    return Unsupported("Gemm with a bias that is not 1-D");
  }
  ctx.Add(n.attrs.GetInt("transB", 0) ? "FC" : "FCTransposed", n.inputs, {n.outputs[0]}, n.name);
  return absl::OkStatus();
}

absl::Status ExportBatchNorm(const Node& n, int, ExportContext& ctx) {
  if (n.attrs.GetInt("training_mode", 0) || n.outputs.size() > 1) {
    return Unsupported("BatchNormalization in training mode");
  }
  OperatorDef* op = ctx.Add("SpatialBN", n.inputs, {n.outputs[0]}, n.name);
  ArgInt(op, "is_test", 1);
  ArgFloat(op, "epsilon", n.attrs.GetFloat("epsilon", 1e-5f));
  return absl::OkStatus();
}

// LayerNormalization -> LayerNorm with elementwise_affine: both normalize over the axes from
// `axis` on; Caffe2 takes gamma and beta together and computes its statistics in the input's
// type. Its extra outputs (mean, std = 1 / InvStdDev, of another shape) get names of their own.
absl::Status ExportLayerNorm(const Node& n, int, ExportContext& ctx) {
  if (n.inputs.size() < 3 || n.inputs[2].empty()) {
    return Unsupported("LayerNormalization without a bias (Caffe2's LayerNorm takes gamma and "
                       "beta together)");
  }
  for (size_t i = 1; i < n.outputs.size(); ++i) {
    if (!n.outputs[i].empty()) {
      return Unsupported("LayerNormalization's Mean and InvStdDev outputs");
    }
  }
  const int64_t stash_type = n.attrs.GetInt("stash_type", 1);
  if (stash_type != 1 && stash_type != 11) {
    return Unsupported(absl::StrCat("LayerNormalization with stash_type ", stash_type));
  }
  int64_t axis = n.attrs.GetInt("axis", -1);
  if (const Shape* shape = ctx.ShapeOf(n.inputs[0]); shape != nullptr) {
    const int64_t rank = static_cast<int64_t>(shape->size());
    if (rank < 2) return Unsupported("LayerNormalization of a 0-D or 1-D input");
    if (axis < -rank || axis >= rank) return Unsupported("LayerNormalization axis out of range");
    // Counted from the end, the axis does not depend on the rank, and an importer sees that a
    // gamma of rank -axis already has the normalized shape.
    if (axis >= 0) axis -= rank;
    // Caffe2 wants one gamma and one beta value for each normalized element; ONNX broadcasts.
    int64_t count = 1;
    for (int64_t d = rank + axis; d < rank && count >= 0; ++d) {
      count = (*shape)[d] < 0 ? -1 : count * (*shape)[d];
    }
    for (int i : {1, 2}) {
      const Tensor* t = ctx.Constant(n.inputs[i]);
      if (count >= 0 && t != nullptr && t->num_elements() != count) {
        return Unsupported("LayerNormalization with a scale or bias broadcast along the "
                           "normalized axes (Caffe2 needs a value for each element)");
      }
    }
  }
  OperatorDef* op = ctx.Add("LayerNorm", n.inputs,
                            {n.outputs[0], n.outputs[0] + "_mean", n.outputs[0] + "_std"}, n.name);
  ArgInt(op, "axis", axis);
  ArgFloat(op, "epsilon", n.attrs.GetFloat("epsilon", 1e-5f));
  ArgInt(op, "elementwise_affine", 1);
  return absl::OkStatus();
}

absl::Status ExportSoftmax(const Node& n, int opset, ExportContext& ctx) {
  int64_t axis = n.attrs.GetInt("axis", opset >= 13 ? -1 : 1);
  const int rank = ctx.RankOf(n.inputs[0]);
  if (axis < 0) {
    if (rank < 0) return Unsupported("Softmax with a negative axis on an input of unknown rank");
    axis += rank;
  }
  // From opset 13 Softmax works along one axis; Caffe2 flattens at `axis`, the same only when
  // `axis` is the last one.
  if (opset >= 13 && axis != rank - 1) {
    return Unsupported("Softmax (opset 13+) along an axis that is not the last");
  }
  ArgInt(ctx.Add("Softmax", n.inputs, {n.outputs[0]}, n.name), "axis", axis);
  return absl::OkStatus();
}

absl::Status ExportReshape(const Node& n, int, ExportContext& ctx) {
  if (n.attrs.GetInt("allowzero", 0)) return Unsupported("Reshape with allowzero");
  const std::vector<std::string> outs = {n.outputs[0], n.outputs[0] + "_old_shape"};
  if (ctx.Constant(n.inputs[1]) == nullptr) {  // a shape computed in the graph
    ctx.Add("Reshape", n.inputs, outs, n.name);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, ctx.ConstInts(n, 1));
  ArgInts(ctx.Add("Reshape", {n.inputs[0]}, outs, n.name), "shape", shape);
  return absl::OkStatus();
}

absl::Status ExportConstantOfShape(const Node& n, int, ExportContext& ctx) {
  Tensor value = n.attrs.GetTensor("value");
  if (!value.defined()) value = Tensor::Scalar<float>(0);
  OperatorDef* op = ctx.Add("ConstantFill", n.inputs, {n.outputs[0]}, n.name);
  ArgInt(op, "input_as_shape", 1);
  switch (value.dtype()) {
    case DType::kFloat32: ArgFloat(op, "value", static_cast<float>(value.ElementAsDouble(0))); break;
    case DType::kInt64:
      ArgInt(op, "dtype", caffe2::TensorProto::INT64);
      ArgInt(op, "value", value.data<int64_t>()[0]);
      break;
    case DType::kInt32:
      ArgInt(op, "dtype", caffe2::TensorProto::INT32);
      ArgInt(op, "value", value.data<int32_t>()[0]);
      break;
    case DType::kBool:
      ArgInt(op, "dtype", caffe2::TensorProto::BOOL);
      ArgInt(op, "value", value.data<bool>()[0]);
      break;
    default:
      return Unsupported("ConstantOfShape of this dtype");
  }
  return absl::OkStatus();
}

ExportFn WithAxes(std::string type, std::string arg) {
  return [type, arg](const Node& n, int opset, ExportContext& ctx) -> absl::Status {
    std::vector<int64_t> axes = n.attrs.GetInts("axes");
    if (opset >= 13 && n.inputs.size() > 1) {
      ASSIGN_OR_RETURN(axes, ctx.ConstInts(n, 1));
    }
    if (axes.empty()) return Unsupported(type + " without explicit axes");
    ArgInts(ctx.Add(type, {n.inputs[0]}, {n.outputs[0]}, n.name), arg, axes);
    return absl::OkStatus();
  };
}

absl::Status ExportClip(const Node& n, int opset, ExportContext& ctx) {
  float lo = n.attrs.GetFloat("min", -std::numeric_limits<float>::max());
  float hi = n.attrs.GetFloat("max", std::numeric_limits<float>::max());
  if (opset >= 11) {
    ASSIGN_OR_RETURN(lo, ctx.ConstFloat(n, 1, -std::numeric_limits<float>::max()));
    ASSIGN_OR_RETURN(hi, ctx.ConstFloat(n, 2, std::numeric_limits<float>::max()));
  }
  OperatorDef* op = ctx.Add("Clip", {n.inputs[0]}, {n.outputs[0]}, n.name);
  ArgFloat(op, "min", lo);
  ArgFloat(op, "max", hi);
  return absl::OkStatus();
}

absl::Status ExportCast(const Node& n, int, ExportContext& ctx) {
  static const std::map<int64_t, int> kTypes = {
      {1, caffe2::TensorProto::FLOAT},  {2, caffe2::TensorProto::UINT8},
      {3, caffe2::TensorProto::INT8},   {4, caffe2::TensorProto::UINT16},
      {5, caffe2::TensorProto::INT16},  {6, caffe2::TensorProto::INT32},
      {7, caffe2::TensorProto::INT64},  {8, caffe2::TensorProto::STRING},
      {9, caffe2::TensorProto::BOOL},   {10, caffe2::TensorProto::FLOAT16},
      {11, caffe2::TensorProto::DOUBLE}};
  auto it = kTypes.find(n.attrs.GetInt("to"));
  if (it == kTypes.end()) return Unsupported("Cast to a type Caffe2 lacks");
  ArgInt(ctx.Add("Cast", n.inputs, {n.outputs[0]}, n.name), "to", it->second);
  return absl::OkStatus();
}

absl::Status ExportPad(const Node& n, int opset, ExportContext& ctx) {
  std::vector<int64_t> pads = n.attrs.GetInts("pads");
  float value = n.attrs.GetFloat("value", 0);
  if (opset >= 11) {
    ASSIGN_OR_RETURN(pads, ctx.ConstInts(n, 1));
    ASSIGN_OR_RETURN(value, ctx.ConstFloat(n, 2, 0));
  }
  if (pads.size() != 8 || pads[0] || pads[1] || pads[4] || pads[5]) {
    return Unsupported("Pad other than the spatial axes of a 4-D NCHW tensor");
  }
  OperatorDef* op = ctx.Add("PadImage", {n.inputs[0]}, {n.outputs[0]}, n.name);
  ArgInts(op, "pads", {pads[2], pads[3], pads[6], pads[7]});
  ArgString(op, "mode", n.attrs.GetString("mode", "constant"));
  ArgFloat(op, "value", value);
  return absl::OkStatus();
}

absl::Status ExportResize(const Node& n, int, ExportContext& ctx) {
  const Tensor* scales = n.inputs.size() > 2 && !n.inputs[2].empty() ? ctx.Constant(n.inputs[2]) : nullptr;
  if (n.attrs.GetString("mode", "nearest") != "nearest" ||
      n.attrs.GetString("coordinate_transformation_mode", "half_pixel") != "asymmetric" ||
      n.attrs.GetString("nearest_mode", "round_prefer_floor") != "floor" || scales == nullptr ||
      scales->num_elements() != 4 || scales->ElementAsDouble(0) != 1 ||
      scales->ElementAsDouble(1) != 1) {
    return Unsupported("Resize other than nearest/asymmetric/floor by constant NCHW scales");
  }
  OperatorDef* op = ctx.Add("ResizeNearest", {n.inputs[0]}, {n.outputs[0]}, n.name);
  ArgFloat(op, "height_scale", static_cast<float>(scales->ElementAsDouble(2)));
  ArgFloat(op, "width_scale", static_cast<float>(scales->ElementAsDouble(3)));
  return absl::OkStatus();
}

absl::Status ExportSlice(const Node& n, int opset, ExportContext& ctx) {
  std::vector<int64_t> starts = n.attrs.GetInts("starts"), ends = n.attrs.GetInts("ends"),
                       axes = n.attrs.GetInts("axes"), steps;
  if (opset >= 10) {
    ASSIGN_OR_RETURN(starts, ctx.ConstInts(n, 1));
    ASSIGN_OR_RETURN(ends, ctx.ConstInts(n, 2));
    ASSIGN_OR_RETURN(axes, ctx.ConstInts(n, 3));
    ASSIGN_OR_RETURN(steps, ctx.ConstInts(n, 4));
  }
  for (int64_t s : steps) {
    if (s != 1) return Unsupported("Slice with steps");
  }
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] != static_cast<int64_t>(i)) return Unsupported("Slice on axes other than 0..k-1");
  }
  // Caffe2 counts negative indices from one past the end.
  for (size_t i = 0; i < starts.size(); ++i) {
    for (int64_t* index : {&starts[i], &ends[i]}) {
      if (*index >= std::numeric_limits<int32_t>::max()) {
        *index = -1;
      } else if (*index < 0) {
        *index -= 1;
      }
    }
  }
  OperatorDef* op = ctx.Add("Slice", {n.inputs[0]}, {n.outputs[0]}, n.name);
  ArgInts(op, "starts", starts);
  ArgInts(op, "ends", ends);
  return absl::OkStatus();
}

absl::Status ExportSplit(const Node& n, int opset, ExportContext& ctx) {
  std::vector<int64_t> split = n.attrs.GetInts("split");
  if (opset >= 13) {
    ASSIGN_OR_RETURN(split, ctx.ConstInts(n, 1));
  }
  OperatorDef* op = ctx.Add("Split", {n.inputs[0]}, n.outputs, n.name);
  ArgInt(op, "axis", n.attrs.GetInt("axis", 0));
  if (!split.empty()) ArgInts(op, "split", split);
  return absl::OkStatus();
}

const std::map<std::string, ExportFn>& ExportTable() {
  static const auto* table = new std::map<std::string, ExportFn>{
      {"Abs", Renamed("Abs")},
      {"Add", Renamed("Add")},
      {"AveragePool", ExportPool},
      {"BatchNormalization", ExportBatchNorm},
      {"Cast", ExportCast},
      {"Clip", ExportClip},
      {"Concat", [](const Node& n, int, ExportContext& ctx) {
         ArgInt(ctx.Add("Concat", n.inputs, {n.outputs[0], n.outputs[0] + "_split_info"}, n.name),
                "axis", n.attrs.GetInt("axis"));
         return absl::OkStatus();
       }},
      {"ConstantOfShape", ExportConstantOfShape},
      {"Conv", ExportConv},
      {"ConvTranspose", ExportConv},
      {"Div", Renamed("Div")},
      {"Dropout", [](const Node& n, int, ExportContext& ctx) {
         ctx.Add("Copy", {n.inputs[0]}, {n.outputs[0]}, n.name);
         return n.outputs.size() > 1 && !n.outputs[1].empty() ? Unsupported("Dropout's mask output")
                                                              : absl::OkStatus();
       }},
      {"Erf", Renamed("Erf")},
      {"Exp", Renamed("Exp")},
      {"Flatten", [](const Node& n, int, ExportContext& ctx) {
         ArgInt(ctx.Add("Flatten", n.inputs, {n.outputs[0]}, n.name), "axis",
                n.attrs.GetInt("axis", 1));
         return absl::OkStatus();
       }},
      {"Gemm", ExportGemm},
      {"GlobalAveragePool", GlobalPool("AveragePool")},
      {"GlobalMaxPool", GlobalPool("MaxPool")},
      {"Identity", Renamed("Copy")},
      {"InstanceNormalization", [](const Node& n, int, ExportContext& ctx) {
         ArgFloat(ctx.Add("InstanceNorm", n.inputs, {n.outputs[0]}, n.name), "epsilon",
                  n.attrs.GetFloat("epsilon", 1e-5f));
         return absl::OkStatus();
       }},
      {"LayerNormalization", ExportLayerNorm},
      {"LeakyRelu", [](const Node& n, int, ExportContext& ctx) {
         ArgFloat(ctx.Add("LeakyRelu", n.inputs, {n.outputs[0]}, n.name), "alpha",
                  n.attrs.GetFloat("alpha", 0.01f));
         return absl::OkStatus();
       }},
      {"Log", Renamed("Log")},
      {"LRN", [](const Node& n, int, ExportContext& ctx) {
         OperatorDef* op = ctx.Add("LRN", n.inputs, {n.outputs[0]}, n.name);
         ArgInt(op, "size", n.attrs.GetInt("size"));
         ArgFloat(op, "alpha", n.attrs.GetFloat("alpha", 1e-4f));
         ArgFloat(op, "beta", n.attrs.GetFloat("beta", 0.75f));
         ArgFloat(op, "bias", n.attrs.GetFloat("bias", 1.0f));
         return absl::OkStatus();
       }},
      {"MatMul", [](const Node& n, int, ExportContext& ctx) {
         ArgInt(ctx.Add("BatchMatMul", n.inputs, {n.outputs[0]}, n.name), "broadcast", 1);
         return absl::OkStatus();
       }},
      {"MaxPool", ExportPool},
      {"Mul", Renamed("Mul")},
      {"Neg", Renamed("Negative")},
      {"Pad", ExportPad},
      {"PRelu", Renamed("PRelu")},
      {"Relu", Renamed("Relu")},
      {"Reshape", ExportReshape},
      {"Resize", ExportResize},
      {"Shape", Renamed("Shape")},
      {"Sigmoid", Renamed("Sigmoid")},
      {"Size", Renamed("Size")},
      {"Slice", ExportSlice},
      {"Softmax", ExportSoftmax},
      {"Split", ExportSplit},
      {"Sqrt", Renamed("Sqrt")},
      {"Squeeze", WithAxes("Squeeze", "dims")},
      {"Sub", Renamed("Sub")},
      {"Sum", Renamed("Sum")},
      {"Tanh", Renamed("Tanh")},
      {"Transpose", [](const Node& n, int, ExportContext& ctx) {
         OperatorDef* op = ctx.Add("Transpose", n.inputs, {n.outputs[0]}, n.name);
         if (n.attrs.Has("perm")) ArgInts(op, "axes", n.attrs.GetInts("perm"));
         return absl::OkStatus();
       }},
      {"Unsqueeze", WithAxes("ExpandDims", "dims")},
  };
  return *table;
}

template <typename T>
void FillValues(OperatorDef* op, const Tensor& t, bool as_floats) {
  auto* a = op->add_arg();
  a->set_name("values");
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if (as_floats) {
      a->add_floats(static_cast<float>(t.data<T>()[i]));
    } else {
      a->add_ints(static_cast<int64_t>(t.data<T>()[i]));
    }
  }
}

absl::Status AddFill(const std::string& name, const Tensor& t, caffe2::NetDef* init) {
  OperatorDef* op = init->add_op();
  op->add_output(name);
  ArgInts(op, "shape", t.shape());
  switch (t.dtype()) {
    case DType::kFloat32: op->set_type("GivenTensorFill"); FillValues<float>(op, t, true); break;
    case DType::kFloat64: op->set_type("GivenTensorDoubleFill"); FillValues<double>(op, t, true); break;
    case DType::kInt32: op->set_type("GivenTensorIntFill"); FillValues<int32_t>(op, t, false); break;
    case DType::kInt64: op->set_type("GivenTensorInt64Fill"); FillValues<int64_t>(op, t, false); break;
    case DType::kInt16: op->set_type("GivenTensorInt16Fill"); FillValues<int16_t>(op, t, false); break;
    case DType::kBool: op->set_type("GivenTensorBoolFill"); FillValues<bool>(op, t, false); break;
    case DType::kString: {
      op->set_type("GivenTensorStringFill");
      auto* a = op->add_arg();
      a->set_name("values");
      for (int64_t i = 0; i < t.num_elements(); ++i) a->add_strings(t.data<std::string>()[i]);
      break;
    }
    default:
      return Unsupported(absl::StrCat("parameter '", name, "' of dtype ", DTypeName(t.dtype()),
                                      " has no Caffe2 fill"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<NetDefPair> ExportNetDef(const Graph& graph) {
  NetDefPair out;
  out.init_net.set_name(graph.name + "_init");
  out.predict_net.set_name(graph.name.empty() ? "cortado" : graph.name);
  ExportContext ctx(graph, &out.predict_net);
  for (const auto& [name, t] : graph.initializers) {
    RETURN_IF_ERROR(AddFill(name, t, &out.init_net));
    out.init_net.add_external_output(name);
  }
  for (const Node& n : graph.nodes) {  // Constant nodes become parameters too
    if (ctx.IsConstantNode(n)) {
      RETURN_IF_ERROR(AddFill(n.outputs[0], *ctx.Constant(n.outputs[0]), &out.init_net));
      out.init_net.add_external_output(n.outputs[0]);
    }
  }
  for (const ValueInfo& v : graph.inputs) out.predict_net.add_external_input(v.name);
  for (const std::string& p : out.init_net.external_output()) out.predict_net.add_external_input(p);
  for (const Node& n : graph.nodes) {
    if (ctx.IsConstantNode(n)) continue;
    auto it = ExportTable().find(n.op_type);
    absl::Status s = it == ExportTable().end() || !n.domain.empty()
                         ? Unsupported("no Caffe2 operator for it")
                         : it->second(n, graph.OpsetFor(n.domain), ctx);
    if (!s.ok()) {
      return absl::Status(s.code(), absl::StrCat("node '", n.name, "' (", n.op_type,
                                                 ") cannot be exported to Caffe2: ", s.message()));
    }
  }
  for (const ValueInfo& v : graph.outputs) out.predict_net.add_external_output(v.name);
  return out;
}

absl::Status ExportNetDefFiles(const Graph& graph, const std::string& dir) {
  ASSIGN_OR_RETURN(NetDefPair nets, ExportNetDef(graph));
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::PermissionDeniedError(absl::StrCat("cannot create folder ", dir));
  }
  RETURN_IF_ERROR(WriteStringToFile(dir + "/init_net.pb", nets.init_net.SerializeAsString()));
  return WriteStringToFile(dir + "/predict_net.pb", nets.predict_net.SerializeAsString());
}

}  // namespace cortado
