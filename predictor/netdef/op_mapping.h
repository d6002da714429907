// The table between Caffe2 operators and cortado's canonical (ONNX-semantics) operators. Each
// entry knows how to import one Caffe2 op type (its argument conventions: kernel/kernels/
// kernel_h, stride(s), pad(s)/pad_t..., order NCHW/NHWC, legacy broadcast/axis, ...) into Graph
// nodes. Immutable after static initialization; thread-safe.
#ifndef CORTADO_PREDICTOR_NETDEF_OP_MAPPING_H_
#define CORTADO_PREDICTOR_NETDEF_OP_MAPPING_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "caffe2.pb.h"
#include "predictor/graph.h"

namespace cortado {

// Typed access to an OperatorDef's arguments, with clear errors on a wrong kind.
class Caffe2Args {
 public:
  explicit Caffe2Args(const caffe2::OperatorDef& op);
  bool Has(const std::string& name) const { return args_.count(name) > 0; }
  absl::StatusOr<int64_t> Int(const std::string& name, int64_t def) const;
  absl::StatusOr<float> Float(const std::string& name, float def) const;
  absl::StatusOr<std::string> String(const std::string& name, const std::string& def) const;
  absl::StatusOr<std::vector<int64_t>> Ints(const std::string& name) const;
  absl::StatusOr<std::vector<float>> Floats(const std::string& name) const;
  const std::map<std::string, const caffe2::Argument*>& all() const { return args_; }

 private:
  std::map<std::string, const caffe2::Argument*> args_;
};

// The scale and zero point of a Caffe2 Int8 blob (real = scale * (q - zero_point)).
struct QuantParams {
  float scale = 1.0f;
  int64_t zero_point = 0;
};

// Where an importer writes: the graph under construction, fresh value names, and the
// quantization of each Int8 value (Caffe2 keeps it in the blob; the graph in attributes).
// A context for a subgraph (an If branch) has the context around it as `outer`: names stay
// unique across both, and its constants and quantizations are visible inside.
class ImportContext {
 public:
  explicit ImportContext(Graph* graph, ImportContext* outer = nullptr)
      : graph_(graph), outer_(outer) {}
  Graph& graph() { return *graph_; }
  // A value name not used anywhere yet, derived from `base`.
  std::string NewName(const std::string& base);
  // Adds a node; returns it for attributes.
  Node& AddNode(const std::string& op_type, std::vector<std::string> inputs,
                std::vector<std::string> outputs);
  // Adds a constant (initializer) and returns its name.
  std::string AddConstant(const std::string& base, Tensor value);
  // The parameter's value when `name` is one, else nullptr.
  const Tensor* Constant(const std::string& name) const;
  // Names the nodes of the Caffe2 operator being imported.
  void set_op_name(std::string name) { op_name_ = std::move(name); }
  void SetQuant(const std::string& value, QuantParams q) { quant_[value] = q; }
  // The quantization of an Int8 value; InvalidArgument for a value that is not Int8.
  absl::StatusOr<QuantParams> Quant(const std::string& value) const;

 private:
  int NextId() { return outer_ != nullptr ? outer_->NextId() : counter_++; }

  Graph* graph_;
  ImportContext* outer_;
  std::map<std::string, QuantParams> quant_;
  int counter_ = 0;
  std::string op_name_;
};

// An importer gets every output of the Caffe2 operator; outputs after the first may be "" where
// nothing reads them (an unread mean, mask, old shape or split_info), and need not be computed.
using Caffe2ImportFn = std::function<absl::Status(
    const caffe2::OperatorDef& op, const Caffe2Args& args, const std::vector<std::string>& inputs,
    const std::vector<std::string>& outputs, ImportContext& ctx)>;

// Imports one Caffe2 operator (inputs/outputs already renamed to SSA values). An op with no
// mapping fails with its type and position.
absl::Status ImportOperator(const caffe2::OperatorDef& op, int position,
                            std::vector<std::string> inputs, std::vector<std::string> outputs,
                            ImportContext& ctx);
// Every Caffe2 op type the importer maps, sorted.
std::vector<std::string> MappedCaffe2Ops();

// The default-domain ONNX opset an import of `predict_net` is written in: 11, whose Softmax
// (flattening at `axis`), Split, Squeeze and Unsqueeze (attributes) follow Caffe2's conventions,
// or 17 where an operator, in the net or an If's branches, maps to an ONNX operator that needs
// it (LayerNorm -> LayerNormalization). The mappings read the graph's opset and write their
// nodes for it, so the importer sets graph.opsets[""] to this before importing the first
// operator.
int ImportOpset(const caffe2::NetDef& predict_net);

// Converts a Caffe2 TensorProto (parameters, Argument.t) to a Tensor.
absl::StatusOr<Tensor> TensorFromCaffe2(const caffe2::TensorProto& proto);

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_NETDEF_OP_MAPPING_H_
