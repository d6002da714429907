#include "predictor/netdef/netdef_importer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <random>
#include <set>

#include "caffe2.pb.h"
#include "core/npy.h"
#include "google/protobuf/text_format.h"
#include "predictor/netdef/op_mapping.h"

namespace cortado {
namespace {

absl::StatusOr<Shape> FillShape(const Caffe2Args& args) {
  if (!args.Has("shape")) return absl::InvalidArgumentError("missing argument 'shape'");
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, args.Ints("shape"));
  if (args.Has("extra_shape")) {
    ASSIGN_OR_RETURN(std::vector<int64_t> extra, args.Ints("extra_shape"));
    shape.insert(shape.end(), extra.begin(), extra.end());
  }
  RETURN_IF_ERROR(ValidateShape(shape));
  return Shape(shape);
}

template <typename T, typename V>
absl::StatusOr<Tensor> GivenValues(const Shape& shape, const std::vector<V>& values) {
  if (static_cast<int64_t>(values.size()) != NumElements(shape)) {
    return absl::InvalidArgumentError(absl::StrCat("'values' has ", values.size(),
                                                   " entries, shape ", ShapeToString(shape),
                                                   " needs ", NumElements(shape)));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::Create(DTypeOf<T>::value, shape));
  for (size_t i = 0; i < values.size(); ++i) t.data<T>()[i] = static_cast<T>(values[i]);
  return t;
}

// Fan-in and fan-out as Caffe2's XavierFill and MSRAFill compute them.
int64_t FanIn(const Shape& s) { return s.empty() || s[0] == 0 ? 1 : NumElements(s) / s[0]; }
int64_t FanOut(const Shape& s) { return s.size() < 2 || s[1] == 0 ? 1 : NumElements(s) / s[1]; }

// Caffe2's mobile exporter (caffe2/python/predictor/mobile_exporter.py) writes, for every input
// of the net, `ConstantFill shape: [1]` with no value into init_net, so that the blob exists
// before the first feed. Such a fill marks an input, not a parameter.
bool IsInputPlaceholder(const caffe2::OperatorDef& op) {
  if (op.type() != "ConstantFill") return false;
  const Caffe2Args args(op);
  auto shape = args.Ints("shape");
  return !args.Has("value") && shape.ok() && *shape == std::vector<int64_t>{1};
}

// The scale and zero point of an Int8 fill, nullopt for other fills.
absl::StatusOr<std::optional<QuantParams>> Int8Quant(const caffe2::OperatorDef& op) {
  if (op.type() != "Int8GivenTensorFill" && op.type() != "Int8GivenIntTensorFill") {
    return std::nullopt;
  }
  const Caffe2Args args(op);
  QuantParams q;
  ASSIGN_OR_RETURN(q.scale, args.Float("Y_scale", 1.0f));
  ASSIGN_OR_RETURN(q.zero_point, args.Int("Y_zero_point", 0));
  return q;
}

// Runs one init_net operator. A fill that makes its own values takes its bytes from
// `fill_budget`, and is refused as out of memory, before allocating, when they are not left.
absl::StatusOr<Tensor> RunFill(const caffe2::OperatorDef& op, std::mt19937& rng,
                               int64_t& fill_budget) {
  const Caffe2Args args(op);
  const std::string& type = op.type();
  ASSIGN_OR_RETURN(Shape shape, FillShape(args));
  if (type == "GivenTensorFill" || type == "GivenTensorDoubleFill") {
    ASSIGN_OR_RETURN(std::vector<float> v, args.Floats("values"));
    if (type == "GivenTensorDoubleFill") return GivenValues<double>(shape, v);
    return GivenValues<float>(shape, v);
  }
  if (type == "GivenTensorIntFill" || type == "GivenTensorInt64Fill" ||
      type == "GivenTensorInt16Fill" || type == "GivenTensorBoolFill") {
    ASSIGN_OR_RETURN(std::vector<int64_t> v, args.Ints("values"));
    if (type == "GivenTensorIntFill") return GivenValues<int32_t>(shape, v);
    if (type == "GivenTensorInt16Fill") return GivenValues<int16_t>(shape, v);
    if (type == "GivenTensorBoolFill") return GivenValues<bool>(shape, v);
    return GivenValues<int64_t>(shape, v);
  }
  // Caffe2's Int8 fills: uint8 values as the bytes of a string, or int32 values (biases); their
  // Y_scale / Y_zero_point are read by Int8Quant.
  if (type == "Int8GivenTensorFill") {
    auto it = args.all().find("values");
    if (it == args.all().end() || !it->second->has_s()) {
      return absl::InvalidArgumentError("missing argument 'values' (a string of bytes)");
    }
    const std::string& bytes = it->second->s();
    return GivenValues<uint8_t>(shape, std::vector<uint8_t>(bytes.begin(), bytes.end()));
  }
  if (type == "Int8GivenIntTensorFill") {
    ASSIGN_OR_RETURN(std::vector<int64_t> v, args.Ints("values"));
    return GivenValues<int32_t>(shape, v);
  }
  if (type == "GivenTensorStringFill") {
    auto it = args.all().find("values");
    if (it == args.all().end()) return absl::InvalidArgumentError("missing argument 'values'");
    const auto& s = it->second->strings();
    return GivenValues<std::string>(shape, std::vector<std::string>(s.begin(), s.end()));
  }
  // The fills below make their own values: nothing in the file bounds their size.
  DType dtype = DType::kFloat32;
  if (type == "ConstantFill") {
    ASSIGN_OR_RETURN(int64_t caffe2_dtype, args.Int("dtype", caffe2::TensorProto::FLOAT));
    switch (caffe2_dtype) {
      case caffe2::TensorProto::FLOAT: dtype = DType::kFloat32; break;
      case caffe2::TensorProto::DOUBLE: dtype = DType::kFloat64; break;
      case caffe2::TensorProto::INT32: dtype = DType::kInt32; break;
      case caffe2::TensorProto::INT64: dtype = DType::kInt64; break;
      case caffe2::TensorProto::BOOL: dtype = DType::kBool; break;
      case caffe2::TensorProto::UINT8: dtype = DType::kUInt8; break;
      default:
        return absl::UnimplementedError(
            absl::StrCat("ConstantFill dtype ", caffe2_dtype, " is not supported"));
    }
  } else if (type != "XavierFill" && type != "MSRAFill" && type != "GaussianFill" &&
             type != "UniformFill") {
    return absl::UnimplementedError(
        absl::StrCat("init_net operator '", type, "' is not a supported fill"));
  }
  const int64_t n = NumElements(shape);
  const int64_t bytes = n * static_cast<int64_t>(DTypeSize(dtype));
  if (n > 0 && (bytes / n != static_cast<int64_t>(DTypeSize(dtype)) || bytes > fill_budget)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "out of memory: a ", DTypeName(dtype), " fill of shape ", ShapeToString(shape),
        " would take more than the ", fill_budget, " bytes left of the init_net fill limit"));
  }
  fill_budget -= bytes;
  ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, shape));
  if (type == "ConstantFill") {
    auto it = args.all().find("value");
    const caffe2::Argument* value = it == args.all().end() ? nullptr : it->second;
    const double f = value == nullptr ? 0 : value->has_f() ? value->f() : value->i();
    const int64_t i = value == nullptr ? 0 : value->i();
    RETURN_IF_ERROR(VisitDType(dtype, DTypeSet::kAll, "ConstantFill", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_arithmetic_v<T>) {
        std::fill_n(t.data<T>(), n, std::is_floating_point_v<T> ? static_cast<T>(f) : static_cast<T>(i));
      }
      return absl::OkStatus();
    }));
    return t;
  }
  float* v = t.data<float>();
  auto generate = [&](auto distribution) { std::generate_n(v, n, [&] { return distribution(rng); }); };
  if (type == "XavierFill") {
    const float scale = std::sqrt(3.0f / FanIn(shape));
    generate(std::uniform_real_distribution<float>(-scale, scale));
  } else if (type == "MSRAFill") {
    generate(std::normal_distribution<float>(0.0f, std::sqrt(2.0f / FanOut(shape))));
  } else if (type == "GaussianFill") {
    ASSIGN_OR_RETURN(float mean, args.Float("mean", 0.0f));
    ASSIGN_OR_RETURN(float stddev, args.Float("std", 1.0f));
    generate(std::normal_distribution<float>(mean, stddev));
  } else {  // UniformFill
    ASSIGN_OR_RETURN(float lo, args.Float("min", 0.0f));
    ASSIGN_OR_RETURN(float hi, args.Float("max", 1.0f));
    if (!(lo <= hi)) return absl::InvalidArgumentError("UniformFill needs min <= max");
    generate(std::uniform_real_distribution<float>(lo, hi));
  }
  return t;
}

// Adds the blobs `op` reads to `live`: its inputs and, for an If, every blob its branches read.
void AddReads(const caffe2::OperatorDef& op, std::set<std::string>& live) {
  live.insert(op.input().begin(), op.input().end());
  if (op.type() != "If") return;
  for (const caffe2::Argument& arg : op.arg()) {
    if (!arg.has_n()) continue;
    for (const caffe2::OperatorDef& inner : arg.n().op()) AddReads(inner, live);
  }
}

using KeepName = std::function<bool(const std::string& blob, int position)>;

absl::Status ImportOps(const caffe2::NetDef& net, const std::set<std::string>& live_out,
                       const KeepName& keep, std::map<std::string, std::string>& current,
                       ImportContext& ctx);

// One branch of a Caffe2 If as a subgraph: its operators imported against `current` (the
// parent's blobs are the subgraph's outer values), its outputs the values it leaves in `blobs`.
// A blob the branch does not write passes the outer value through an Identity.
absl::StatusOr<Graph> ImportBranch(const caffe2::NetDef* net, const std::string& what,
                                   const std::vector<std::string>& blobs,
                                   const std::map<std::string, std::string>& outer,
                                   ImportContext& ctx) {
  Graph sub;
  sub.name = what;
  sub.opsets = ctx.graph().opsets;  // the mappings write their nodes for the model's opset
  ImportContext inner(&sub, &ctx);
  std::map<std::string, std::string> current = outer;
  if (net != nullptr) {
    absl::Status s = ImportOps(
        *net, std::set<std::string>(blobs.begin(), blobs.end()),
        [](const std::string&, int) { return false; }, current, inner);
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
  }
  for (const std::string& blob : blobs) {
    auto it = current.find(blob);
    if (it == current.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " does not write output '", blob,
                       "', and no blob of that name exists before the If"));
    }
    std::string value = it->second;
    auto before = outer.find(blob);
    if (before != outer.end() && before->second == value) {  // not written: the outer value
      value = inner.NewName(blob);
      inner.AddNode("Identity", {it->second}, {value});
    }
    sub.outputs.push_back({value, {}});
  }
  return sub;
}

// Caffe2's If: input 0 is the condition (a one-element bool), the other inputs only order it;
// then_net and the optional else_net run in the parent's workspace. Becomes an ONNX If whose
// outputs are the op's declared outputs.
absl::Status ImportIf(const caffe2::OperatorDef& op, const std::vector<std::string>& inputs,
                      std::vector<std::string> outputs,
                      const std::map<std::string, std::string>& current, ImportContext& ctx) {
  const caffe2::NetDef* then_net = nullptr;
  const caffe2::NetDef* else_net = nullptr;
  for (const caffe2::Argument& arg : op.arg()) {
    if (arg.name() != "then_net" && arg.name() != "else_net") continue;
    if (!arg.has_n()) {
      return absl::InvalidArgumentError(
          absl::StrCat("argument '", arg.name(), "' is not a NetDef"));
    }
    (arg.name() == "then_net" ? then_net : else_net) = &arg.n();
  }
  if (then_net == nullptr) return absl::InvalidArgumentError("missing argument 'then_net'");
  if (inputs.empty()) return absl::InvalidArgumentError("needs the condition as input 0");
  if (outputs.empty()) return absl::InvalidArgumentError("has no output");
  if (const Tensor* cond = ctx.Constant(inputs[0]);
      cond != nullptr && (cond->dtype() != DType::kBool || cond->num_elements() != 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the condition '", op.input(0), "' must be a one-element bool tensor, is ",
                     DTypeName(cond->dtype()), " ", ShapeToString(cond->shape())));
  }
  const std::vector<std::string> blobs(op.output().begin(), op.output().end());
  ASSIGN_OR_RETURN(Graph then_graph, ImportBranch(then_net, "then_net", blobs, current, ctx));
  ASSIGN_OR_RETURN(Graph else_graph, ImportBranch(else_net, "else_net", blobs, current, ctx));
  // ONNX If has no optional outputs: an unread one still gets a name.
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (outputs[k].empty()) outputs[k] = ctx.NewName(blobs[k]);
  }
  Node& node = ctx.AddNode("If", {inputs[0]}, std::move(outputs));
  node.attrs.Set("then_branch", SubgraphAttr{std::make_shared<const Graph>(std::move(then_graph))});
  node.attrs.Set("else_branch", SubgraphAttr{std::make_shared<const Graph>(std::move(else_graph))});
  AddOuterInputs(node);
  return absl::OkStatus();
}

// Imports `net`'s operators in order against `current` (blob -> its SSA value), which it keeps
// up to date. `live_out`: the blobs read after the last operator. `keep`: whether operator
// `position`'s write of a blob keeps the blob's name (else the value gets a fresh one).
absl::Status ImportOps(const caffe2::NetDef& net, const std::set<std::string>& live_out,
                       const KeepName& keep, std::map<std::string, std::string>& current,
                       ImportContext& ctx) {
  // Which outputs are read: by a later operator before the next write, or after the net.
  // The importers skip unread outputs after the first (they get "").
  std::vector<std::vector<bool>> read(net.op_size());
  std::set<std::string> live = live_out;
  for (int i = net.op_size() - 1; i >= 0; --i) {
    const caffe2::OperatorDef& op = net.op(i);
    for (const std::string& out : op.output()) read[i].push_back(live.count(out) > 0);
    for (const std::string& out : op.output()) live.erase(out);
    AddReads(op, live);
  }
  for (int i = 0; i < net.op_size(); ++i) {
    const caffe2::OperatorDef& op = net.op(i);
    std::vector<std::string> inputs, outputs;
    for (const std::string& in : op.input()) {
      auto it = current.find(in);
      if (it == current.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("operator #", i, " (", op.type(), ") reads blob '", in,
                         "' that neither init_net nor an earlier operator fills and that is not an "
                         "external input"));
      }
      inputs.push_back(it->second);
    }
    for (int k = 0; k < op.output_size(); ++k) {
      const std::string& out = op.output(k);
      outputs.push_back(k > 0 && !read[i][k] ? "" : keep(out, i) ? out : ctx.NewName(out));
    }
    if (op.type() == "If") {
      ctx.set_op_name(op.name().empty() ? absl::StrCat("If_", i) : op.name());
      absl::Status s = ImportIf(op, inputs, outputs, current, ctx);
      if (!s.ok()) {
        return absl::Status(s.code(), absl::StrCat("operator #", i, " (If): ", s.message()));
      }
    } else {
      RETURN_IF_ERROR(ImportOperator(op, i, inputs, outputs, ctx));
    }
    for (int k = 0; k < op.output_size(); ++k) current[op.output(k)] = outputs[k];
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<caffe2::NetDef> ParseNetDef(const std::string& bytes, absl::string_view what) {
  caffe2::NetDef net;
  if (!bytes.empty() && net.ParseFromString(bytes)) return net;
  net.Clear();
  google::protobuf::TextFormat::Parser parser;
  if (!bytes.empty() && parser.ParseFromString(bytes, &net)) return net;
  return absl::InvalidArgumentError(absl::StrCat(
      what, " is not a valid NetDef (neither binary nor text protobuf; truncated?)"));
}

absl::StatusOr<Graph> ImportNetDef(const caffe2::NetDef& init_net,
                                   const caffe2::NetDef& predict_net, int64_t fill_limit_bytes) {
  Graph graph;
  graph.name = predict_net.name();
  graph.opsets[""] = ImportOpset(predict_net);

  // init_net: fills, run once.
  ImportContext ctx(&graph);
  std::mt19937 rng(0);
  int64_t fill_budget = fill_limit_bytes;
  std::set<std::string> placeholders;  // outputs of IsInputPlaceholder fills
  for (int i = 0; i < init_net.op_size(); ++i) {
    const caffe2::OperatorDef& op = init_net.op(i);
    if (op.output_size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat("init_net operator #", i, " (", op.type(),
                                                     ") must have one output"));
    }
    if (IsInputPlaceholder(op)) placeholders.insert(op.output(0));
    auto t = RunFill(op, rng, fill_budget);
    auto q = Int8Quant(op);
    if (!t.ok() || !q.ok()) {
      const absl::Status& s = t.ok() ? q.status() : t.status();
      return absl::Status(s.code(), absl::StrCat("init_net operator #", i, " (", op.type(), " -> '",
                                                 op.output(0), "'): ", s.message()));
    }
    if (*q) ctx.SetQuant(op.output(0), **q);
    graph.initializers[op.output(0)] = *std::move(t);
  }

  // predict_net: inputs are external_input minus parameters, in external_input's order (Caffe2's
  // predictor fed inputs by position). An external input that init_net fills with a placeholder
  // is an input too, with the fill as its default.
  std::set<std::string> defined;
  for (const std::string& name : predict_net.external_input()) {
    defined.insert(name);
    auto filled = graph.initializers.find(name);
    if (filled != graph.initializers.end()) {
      if (!placeholders.count(name)) continue;
      graph.input_defaults[name] = std::move(filled->second);
      graph.initializers.erase(filled);
    }
    graph.inputs.push_back({name, {}});
  }
  // SSA: the last write of a blob keeps its name (so external outputs keep theirs); every
  // earlier write, and any write to an input or parameter, gets a fresh name.
  std::map<std::string, int> last_writer;
  for (int i = 0; i < predict_net.op_size(); ++i) {
    for (const std::string& out : predict_net.op(i).output()) last_writer[out] = i;
  }
  std::map<std::string, std::string> current;  // blob -> its current SSA value
  for (const std::string& name : defined) current[name] = name;
  const std::set<std::string> external_outputs(predict_net.external_output().begin(),
                                               predict_net.external_output().end());
  RETURN_IF_ERROR(ImportOps(
      predict_net, external_outputs,
      [&](const std::string& blob, int i) {
        return last_writer[blob] == i && !defined.count(blob);
      },
      current, ctx));
  for (const std::string& name : predict_net.external_output()) {
    auto it = current.find(name);
    if (it == current.end()) {
      return absl::InvalidArgumentError(absl::StrCat("external output '", name, "' is never written"));
    }
    if (it->second != name) {
      return absl::UnimplementedError(absl::StrCat(
          "external output '", name, "' overwrites an input or parameter of the same name"));
    }
    graph.outputs.push_back({name, {}});
  }
  RETURN_IF_ERROR(graph.CheckAndSort());
  return graph;
}

absl::StatusOr<Graph> ImportNetDefFiles(const std::string& init_path,
                                        const std::string& predict_path) {
  ASSIGN_OR_RETURN(std::string init_bytes, ReadFileToString(init_path));
  ASSIGN_OR_RETURN(std::string predict_bytes, ReadFileToString(predict_path));
  ASSIGN_OR_RETURN(caffe2::NetDef init, ParseNetDef(init_bytes, init_path));
  ASSIGN_OR_RETURN(caffe2::NetDef predict, ParseNetDef(predict_bytes, predict_path));
  return ImportNetDef(init, predict);
}

absl::Status FeedParameter(const std::string& name, Graph& graph) {
  auto it = graph.initializers.find(name);
  if (it == graph.initializers.end()) {
    return absl::NotFoundError(absl::StrCat("'", name, "' is not a parameter of the model"));
  }
  graph.input_defaults[name] = std::move(it->second);
  graph.initializers.erase(it);
  graph.inputs.push_back({name, {}});
  return absl::OkStatus();
}

absl::StatusOr<Graph> ImportMetaNetDef(const std::string& bytes, int64_t fill_limit_bytes) {
  caffe2::MetaNetDef meta;
  if (bytes.empty() || !meta.ParseFromString(bytes)) {
    return absl::InvalidArgumentError("not a valid MetaNetDef");
  }
  const caffe2::NetDef* init = nullptr;
  const caffe2::NetDef* predict = nullptr;
  for (const auto& entry : meta.nets()) {
    if (entry.key() == "GLOBAL_INIT_NET_TYPE") init = &entry.value();
    if (entry.key() == "PREDICT_NET_TYPE") predict = &entry.value();
  }
  if (init == nullptr || predict == nullptr) {
    return absl::InvalidArgumentError(
        "MetaNetDef lacks a GLOBAL_INIT_NET_TYPE or PREDICT_NET_TYPE net");
  }
  return ImportNetDef(*init, *predict, fill_limit_bytes);
}

}  // namespace cortado
