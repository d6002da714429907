#include "frontend/trace.h"

#include <exception>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "frontend/dispatch.h"
#include "predictor/model_io.h"

namespace cortado {
namespace frontend {
namespace {


// One op reported by Call. Holding the Tensors keeps every TensorImpl alive for the whole trace,
// so an impl pointer names one value.
struct OpRecord {
  std::string op_type;
  AttributeMap attrs;
  std::vector<Tensor> inputs;
  std::vector<Tensor> outputs;
};

class GraphTracer : public Tracer {
 public:
  void Record(const std::string& op_type, const AttributeMap& attrs,
              const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs) override {
    records_.push_back(OpRecord{op_type, attrs, inputs, outputs});
  }
  const std::vector<OpRecord>& records() const { return records_; }

 private:
  std::vector<OpRecord> records_;
};

// Ops whose outputs after the first are optional in ONNX, so that an unread one may be dropped.
bool HasOptionalTrailingOutputs(const std::string& op_type) {
  static const std::set<std::string>* ops = new std::set<std::string>{
      "BatchNormalization", "Dropout", "GRU", "LayerNormalization", "LSTM", "MaxPool", "RNN"};
  return ops->count(op_type) > 0;
}

std::string DefaultName(const std::string& base, size_t i) {
  return i == 0 ? base : absl::StrCat(base, "_", i);
}

// dtype and shape of a traced value; with `rank_only` every dimension is unknown.
TensorType TypeOf(const Tensor& t, bool rank_only) {
  TensorType type;
  type.dtype = t.dtype();
  Shape shape = t.shape();
  if (rank_only) shape.assign(shape.size(), -1);
  type.shape = std::move(shape);
  return type;
}

// Names values as the Graph is assembled, keeping every name unique.
class Namer {
 public:
  bool Taken(const std::string& name) const { return used_.count(name) > 0; }
  // Reserves a name chosen by the caller; false if it is already in use.
  bool Reserve(const std::string& name) { return used_.insert(name).second; }
  // `base` if free, else base_2, base_3, ...
  std::string Fresh(const std::string& base) {
    std::string name = base;
    for (int i = 2; !Reserve(name); ++i) name = absl::StrCat(base, "_", i);
    return name;
  }

 private:
  std::set<std::string> used_;
};

absl::StatusOr<Graph> BuildGraph(const std::vector<OpRecord>& records,
                                 const std::vector<Tensor>& example_inputs,
                                 const std::vector<std::pair<std::string, Tensor>>& named_tensors,
                                 const std::vector<Tensor>& outputs, const TraceOptions& options) {
  using Impl = const TensorImpl*;
  const bool rank_only = options.dynamic_batch;

  // Which record produced each value.
  std::map<Impl, std::pair<size_t, size_t>> producer;
  for (size_t r = 0; r < records.size(); ++r) {
    for (size_t o = 0; o < records[r].outputs.size(); ++o) {
      const Tensor& t = records[r].outputs[o];
      if (!t.defined()) continue;
      if (!producer.emplace(t.impl(), std::make_pair(r, o)).second) {
        return absl::InternalError(absl::StrCat("trace: op ", r, " (", records[r].op_type,
                                                ") returned a tensor that an earlier op produced"));
      }
    }
  }

  // Liveness, walking back from the outputs: live records and the values something reads.
  std::set<Impl> read;
  for (size_t j = 0; j < outputs.size(); ++j) {
    if (!outputs[j].defined()) {
      return absl::InvalidArgumentError(absl::StrCat("trace: output ", j, " is undefined"));
    }
    read.insert(outputs[j].impl());
  }
  std::vector<bool> live(records.size(), false);
  for (size_t r = records.size(); r-- > 0;) {
    for (const Tensor& t : records[r].outputs) {
      if (t.defined() && read.count(t.impl())) live[r] = true;
    }
    if (!live[r]) continue;
    for (const Tensor& t : records[r].inputs) {
      if (t.defined()) read.insert(t.impl());
    }
  }

  Graph graph;
  graph.name = options.graph_name;
  graph.opsets[""] = kOpset;
  Namer namer;
  std::map<Impl, std::string> names;

  // Inputs.
  for (size_t i = 0; i < example_inputs.size(); ++i) {
    const Tensor& x = example_inputs[i];
    if (!x.defined()) {
      return absl::InvalidArgumentError(absl::StrCat("trace: example input ", i, " is undefined"));
    }
    const std::string name =
        i < options.input_names.size() ? options.input_names[i] : DefaultName("input", i);
    if (name.empty() || !namer.Reserve(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("trace: input name '", name, "' is empty or used twice"));
    }
    if (!names.emplace(x.impl(), name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "trace: example input ", i, " is the same tensor as an earlier example input"));
    }
    ValueInfo info{name, TypeOf(x, /*rank_only=*/false)};
    if (options.dynamic_batch && !info.type.shape->empty()) (*info.type.shape)[0] = -1;
    graph.inputs.push_back(std::move(info));
  }

  // Outputs: a value a live node produces takes the output's name; anything else (an input, a
  // parameter, a constant, a value already returned) is copied out through Identity.
  std::vector<std::pair<Impl, std::string>> identities;  // source value, output name
  for (size_t j = 0; j < outputs.size(); ++j) {
    const std::string name =
        j < options.output_names.size() ? options.output_names[j] : DefaultName("output", j);
    if (name.empty() || !namer.Reserve(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "trace: output name '", name, "' is empty or already names an input or output"));
    }
    const Impl impl = outputs[j].impl();
    if (producer.count(impl) && !names.count(impl)) {
      names[impl] = name;
    } else {
      identities.emplace_back(impl, name);
    }
    graph.outputs.push_back(ValueInfo{name, TypeOf(outputs[j], rank_only)});
  }

  // Parameters and buffers that something reads, under their module names.
  for (const auto& [name, t] : named_tensors) {
    if (!t.defined() || !read.count(t.impl()) || names.count(t.impl())) continue;
    if (producer.count(t.impl())) continue;  // cannot happen: ops return new tensors
    if (name.empty() || !namer.Reserve(name)) {
      return absl::InvalidArgumentError(absl::StrCat("trace: parameter name '", name,
                                                     "' is empty or already names another value"));
    }
    names[t.impl()] = name;
    graph.initializers[name] = t.value().Clone();
  }

  // Nodes, in execution order; values they read that nothing produced become constants.
  int num_constants = 0;
  auto name_of_input = [&](const Tensor& t) -> std::string {
    if (!t.defined()) return "";
    auto it = names.find(t.impl());
    if (it != names.end()) return it->second;
    // Not an input, parameter or produced value: a constant made outside the traced ops.
    std::string name = namer.Fresh(absl::StrCat("const_", num_constants++));
    names[t.impl()] = name;
    graph.initializers[name] = t.value().Clone();
    return name;
  };
  for (size_t r = 0; r < records.size(); ++r) {
    if (!live[r]) continue;
    const OpRecord& rec = records[r];
    cortado::Node node;
    node.name = namer.Fresh(absl::StrCat(rec.op_type, "_", r));
    node.op_type = rec.op_type;
    node.attrs = rec.attrs;
    for (const Tensor& t : rec.inputs) node.inputs.push_back(name_of_input(t));
    for (size_t o = 0; o < rec.outputs.size(); ++o) {
      const Tensor& t = rec.outputs[o];
      std::string name;
      if (t.defined()) {
        auto it = names.find(t.impl());
        if (it != names.end()) {
          name = it->second;  // a graph output
        } else if (read.count(t.impl()) || o == 0 || !HasOptionalTrailingOutputs(rec.op_type)) {
          name = namer.Fresh(o == 0 ? absl::StrCat(node.name, "_y")
                                    : absl::StrCat(node.name, "_y", o));
          names[t.impl()] = name;
          graph.value_types[name] = TypeOf(t, rank_only);
        }
      }
      node.outputs.push_back(std::move(name));
    }
    if (HasOptionalTrailingOutputs(rec.op_type)) {
      while (node.outputs.size() > 1 && node.outputs.back().empty()) node.outputs.pop_back();
    }
    graph.nodes.push_back(std::move(node));
  }
  for (const auto& [impl, out_name] : identities) {
    cortado::Node node;
    node.name = namer.Fresh(absl::StrCat("Identity_", out_name));
    node.op_type = "Identity";
    auto it = names.find(impl);
    if (it == names.end()) {  // an output that is a tensor made before the trace: a constant
      size_t j = 0;
      while (outputs[j].impl() != impl) ++j;
      node.inputs.push_back(name_of_input(outputs[j]));
    } else {
      node.inputs.push_back(it->second);
    }
    node.outputs.push_back(out_name);
    graph.nodes.push_back(std::move(node));
  }

  absl::Status s = graph.CheckAndSort();
  if (!s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("trace: the traced graph is invalid: ", s.message()));
  }
  return graph;
}

// Runs `f`, turning an exception into a status.
absl::Status RunCatching(const std::function<void()>& f, const std::string& what) {
  try {
    f();
  } catch (const Error& e) {
    return absl::Status(e.status().code(), absl::StrCat(what, ": ", e.status().message()));
  } catch (const std::exception& e) {
    return absl::UnknownError(absl::StrCat(what, ": ", e.what()));
  }
  return absl::OkStatus();
}

// Restores the train/eval mode of a module and of each of its descendants (which may differ)
// when it goes out of scope.
class ModeRestorer {
 public:
  explicit ModeRestorer(nn::Module& module) {
    // Depth first, ancestors before descendants: train() is recursive, so setting each module
    // in this order leaves every one in its own saved mode.
    for (const auto& [name, m] : module.named_modules()) modes_.emplace_back(m, m->is_training());
  }
  ~ModeRestorer() {
    for (const auto& [m, training] : modes_) m->train(training);
  }
  ModeRestorer(const ModeRestorer&) = delete;
  ModeRestorer& operator=(const ModeRestorer&) = delete;

 private:
  std::vector<std::pair<nn::Module*, bool>> modes_;
};

}  // namespace

absl::StatusOr<Graph> trace(const TraceFunction& fn, const std::vector<Tensor>& example_inputs,
                            const std::vector<std::pair<std::string, Tensor>>& named_tensors,
                            const TraceOptions& options) {
  if (!fn) return absl::InvalidArgumentError("trace: no function to trace");
  GraphTracer tracer;
  std::vector<Tensor> outputs;
  RETURN_IF_ERROR(RunCatching(
      [&] {
        NoGradGuard no_grad;
        TracerScope scope(&tracer);
        outputs = fn(example_inputs);
      },
      "trace: the forward pass failed"));
  if (outputs.empty())
    return absl::InvalidArgumentError("trace: the forward pass returned nothing");
  absl::StatusOr<Graph> graph = absl::InternalError("unset");
  // Building reads tensor metadata only; guard anyway, nothing here may throw out.
  RETURN_IF_ERROR(RunCatching(
      [&] {
        graph = BuildGraph(tracer.records(), example_inputs, named_tensors, outputs, options);
      },
      "trace"));
  return graph;
}

absl::StatusOr<Graph> trace(nn::Module& module, const std::vector<Tensor>& example_inputs,
                            const TraceOptions& options) {
  if (example_inputs.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("trace: a module takes one example input, got ", example_inputs.size()));
  }
  std::vector<std::pair<std::string, Tensor>> named;
  RETURN_IF_ERROR(RunCatching(
      [&] {
        named = module.named_parameters();
        for (auto& b : module.named_buffers()) named.push_back(std::move(b));
      },
      "trace: listing the module's parameters failed"));
  std::unique_ptr<ModeRestorer> restore;
  RETURN_IF_ERROR(RunCatching(
      [&] {
        restore = std::make_unique<ModeRestorer>(module);
        module.eval();
      },
      "trace: switching the module to eval mode failed"));
  return trace(
      [&module](const std::vector<Tensor>& in) {
        return std::vector<Tensor>{module.forward(in[0])};
      },
      example_inputs, named, options);
}

absl::Status Export(nn::Module& module, const std::vector<Tensor>& example_inputs,
                    const std::string& path, const TraceOptions& options) {
  ASSIGN_OR_RETURN(Graph graph, trace(module, example_inputs, options));
  return SaveGraph(std::move(graph), path);
}

}  // namespace frontend
}  // namespace cortado
