#include "frontend/trace.h"

#include <cmath>
#include <cstdlib>
#include <set>
#include <stdexcept>

#include "frontend/dispatch.h"
#include "frontend/ops.h"
#include "frontend/trace_test_models.h"
#include "gtest/gtest.h"
#include "predictor/model_io.h"
#include "predictor/predictor.h"

namespace cortado {
namespace frontend {
namespace {

using trace_test::AllModels;
using trace_test::EagerEval;
using trace_test::ModelCase;
using trace_test::RandomInput;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

// Largest |a - b|; +inf when the shapes differ.
double MaxAbsDiff(const cortado::Tensor& a, const cortado::Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return INFINITY;
  double worst = 0;
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    worst = std::max(worst, std::abs(a.ElementAsDouble(i) - b.ElementAsDouble(i)));
  }
  return worst;
}

absl::StatusOr<cortado::Tensor> RunGraph(const Graph& graph, const TensorMap& inputs,
                                         const std::string& output = "output") {
  ASSIGN_OR_RETURN(auto predictor, Predictor::FromGraph(graph));
  ASSIGN_OR_RETURN(TensorMap out, predictor->Run(inputs));
  auto it = out.find(output);
  if (it == out.end()) return absl::NotFoundError("no output " + output);
  return it->second;
}

// Runs `graph` at batch 2 and 5 and compares with the eager eval-mode outputs.
void ExpectMatchesEager(const Graph& graph, const ModelCase& model, const std::string& what) {
  for (int64_t batch : {2, 5}) {
    Tensor x = RandomInput(model, batch);
    Tensor expected = EagerEval(*model.module, x);
    auto got = RunGraph(graph, {{"input", x.value()}});
    ASSERT_TRUE(got.ok()) << what << " batch " << batch << ": " << got.status();
    EXPECT_LE(MaxAbsDiff(*got, expected.value()), 1e-5)
        << what << " batch " << batch << ": shapes " << ShapeToString(got->shape()) << " vs "
        << ShapeToString(expected.shape());
  }
}

class TraceModelTest : public ::testing::TestWithParam<int> {};

TEST_P(TraceModelTest, PredictorAndExportsMatchEager) {
  std::vector<ModelCase> models = AllModels();
  const ModelCase& model = models[GetParam()];
  SCOPED_TRACE(model.name);
  ASSERT_TRUE(model.module->is_training());

  auto graph = trace(*model.module, {RandomInput(model, 2)});
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_TRUE(model.module->is_training()) << "trace must restore the training mode";
  EXPECT_EQ(CurrentTracer(), nullptr);

  // Shape of the graph: one dynamic-batch input, one output, opset 17, inference-form nodes.
  ASSERT_EQ(graph->inputs.size(), 1u);
  EXPECT_EQ(graph->inputs[0].name, "input");
  EXPECT_EQ(graph->inputs[0].type.dtype, DType::kFloat32);
  ASSERT_TRUE(graph->inputs[0].type.shape.has_value());
  Shape expected_shape = model.input_shape(2);
  expected_shape[0] = -1;
  EXPECT_EQ(*graph->inputs[0].type.shape, expected_shape);
  ASSERT_EQ(graph->outputs.size(), 1u);
  EXPECT_EQ(graph->outputs[0].name, "output");
  EXPECT_EQ(graph->opsets, (std::map<std::string, int>{{"", 17}}));
  for (const cortado::Node& n : graph->nodes) {
    EXPECT_NE(n.op_type, "Dropout") << n.name;
    EXPECT_NE(n.op_type, "RandomUniformLike") << n.name;
    if (n.op_type == "BatchNormalization") {
      EXPECT_EQ(n.outputs.size(), 1u) << n.name;
      EXPECT_EQ(n.attrs.GetInt("training_mode", 0), 0) << n.name;
    }
    if (n.op_type == "MaxPool") {
      EXPECT_EQ(n.outputs.size(), 1u) << n.name;
    }
  }
  // Parameters and the buffers that are read, under their module names.
  for (const auto& [name, t] : model.module->named_parameters()) {
    EXPECT_EQ(graph->initializers.count(name), 1u) << name;
  }
  if (model.name == "cnn") {
    // Sequential child 1 is the BatchNorm2d.
    EXPECT_EQ(graph->initializers.count("1.running_mean"), 1u);
    EXPECT_EQ(graph->initializers.count("1.running_var"), 1u);
    EXPECT_EQ(graph->initializers.count("1.num_batches_tracked"), 0u);
  }

  ExpectMatchesEager(*graph, model, "traced graph");

  // ONNX: save, load, run.
  const std::string onnx_path = TempPath(model.name + ".onnx");
  ASSERT_TRUE(SaveGraph(*graph, onnx_path).ok()) << SaveGraph(*graph, onnx_path);
  auto onnx = LoadGraph(onnx_path);
  ASSERT_TRUE(onnx.ok()) << onnx.status();
  ExpectMatchesEager(*onnx, model, "ONNX reloaded");

  // NetDef: save, load, run (LayerNorm and GELU's Erf included).
  const std::string netdef_dir = TempPath(model.name + "_netdef");
  absl::Status saved = SaveGraph(*graph, netdef_dir);
  ASSERT_TRUE(saved.ok()) << saved;
  auto netdef = LoadGraph(netdef_dir);
  ASSERT_TRUE(netdef.ok()) << netdef.status();
  ExpectMatchesEager(*netdef, model, "NetDef reloaded");

  // Export() is trace + SaveGraph.
  const std::string export_path = TempPath(model.name + "_export.onnx");
  absl::Status exported = Export(*model.module, {RandomInput(model, 3)}, export_path);
  ASSERT_TRUE(exported.ok()) << exported;
  auto reloaded = LoadGraph(export_path);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  ExpectMatchesEager(*reloaded, model, "Export()");
  EXPECT_TRUE(model.module->is_training());
}

std::string ModelName(const ::testing::TestParamInfo<int>& info) {
  static const char* const kNames[] = {"mlp", "cnn", "norm"};
  return kNames[info.param];
}
INSTANTIATE_TEST_SUITE_P(Models, TraceModelTest, ::testing::Values(0, 1, 2), ModelName);

TEST(TraceTest, InitializersAreSnapshots) {
  std::vector<ModelCase> models = AllModels();
  nn::Module& mlp = *models[0].module;
  Tensor x = RandomInput(models[0], 2);
  auto graph = trace(mlp, {x});
  ASSERT_TRUE(graph.ok()) << graph.status();
  std::set<std::string> names;
  for (const auto& [name, t] : graph->initializers) names.insert(name);
  EXPECT_EQ(names, (std::set<std::string>{"fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"}));
  Tensor expected = EagerEval(mlp, x);
  // Training on after the trace must not change the traced graph.
  for (auto& [name, p] : mlp.named_parameters()) {
    float* d = p.mutable_data<float>();
    for (int64_t i = 0; i < p.numel(); ++i) d[i] += 1;
  }
  auto got = RunGraph(*graph, {{"input", x.value()}});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_LE(MaxAbsDiff(*got, expected.value()), 1e-6);
}

class Throwing : public nn::Module {
 public:
  explicit Throwing(bool cortado_error) : cortado_error_(cortado_error) {
    register_module("inner", std::make_shared<Throwing>(cortado_error, 0));
  }
  Throwing(bool cortado_error, int) : cortado_error_(cortado_error) {}
  Tensor forward(const Tensor& x) override {
    if (!cortado_error_) throw std::runtime_error("plain failure");
    return matmul(x, Tensor::ones({3, 3}));  // x is [2, 4]: shape mismatch
  }
  std::string name() const override { return "Throwing"; }

 private:
  bool cortado_error_;
};

TEST(TraceTest, ForwardThatThrowsGivesStatus) {
  for (bool cortado_error : {true, false}) {
    Throwing module(cortado_error);
    // Mixed modes: both must come back.
    module.train();
    module.named_modules()[1].second->eval();
    auto graph = trace(module, {Tensor::ones({2, 4})});
    ASSERT_FALSE(graph.ok());
    EXPECT_NE(graph.status().message().find("forward"), absl::string_view::npos) << graph.status();
    if (!cortado_error) {
      EXPECT_NE(graph.status().message().find("plain failure"), absl::string_view::npos);
    }
    EXPECT_EQ(CurrentTracer(), nullptr);
    EXPECT_TRUE(module.is_training());
    EXPECT_FALSE(module.named_modules()[1].second->is_training());
    EXPECT_FALSE(Export(module, {Tensor::ones({2, 4})}, TempPath("throwing.onnx")).ok());
  }
}

TEST(TraceTest, ModuleTakesOneExample) {
  std::vector<ModelCase> models = AllModels();
  auto graph = trace(*models[0].module, {});
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kInvalidArgument);
}

// Dropout in eval mode records nothing, so the output is the input: it needs an Identity node.
class DropoutOnly : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return dropout(x, 0.5, is_training()); }
  std::string name() const override { return "DropoutOnly"; }
};

TEST(TraceTest, OutputThatIsTheInputGoesThroughIdentity) {
  DropoutOnly module;
  auto graph = trace(module, {Tensor::randn({2, 3})});
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->nodes.size(), 1u);
  EXPECT_EQ(graph->nodes[0].op_type, "Identity");
  Tensor x = Tensor::randn({4, 3});
  auto got = RunGraph(*graph, {{"input", x.value()}});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(MaxAbsDiff(*got, x.value()), 0);
  EXPECT_TRUE(SaveGraph(*graph, TempPath("identity.onnx")).ok());
}

TEST(TraceTest, FunctionWithSeveralInputsAndOutputs) {
  Tensor w = Tensor::randn({3});
  TraceFunction fn = [&w](const std::vector<Tensor>& in) {
    Tensor unused = exp(in[0]);  // dead: not in the graph
    Tensor s = in[0] + in[1] * 2.0 + w;
    return std::vector<Tensor>{s, s, in[1], w};
  };
  TraceOptions options;
  options.input_names = {"a", "b"};
  options.output_names = {"sum", "sum_again"};  // the rest default to output_2, output_3
  auto graph = trace(fn, {Tensor::randn({2, 3}), Tensor::randn({2, 3})}, {{"w", w}}, options);
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->inputs.size(), 2u);
  EXPECT_EQ(graph->inputs[0].name, "a");
  EXPECT_EQ(graph->inputs[1].name, "b");
  std::vector<std::string> outs;
  for (const ValueInfo& v : graph->outputs) outs.push_back(v.name);
  EXPECT_EQ(outs, (std::vector<std::string>{"sum", "sum_again", "output_2", "output_3"}));
  for (const cortado::Node& n : graph->nodes) EXPECT_NE(n.op_type, "Exp");
  EXPECT_EQ(graph->initializers.count("w"), 1u);
  EXPECT_EQ(graph->initializers.count("const_0"), 1u);  // the scalar 2.0
  EXPECT_EQ(graph->initializers.size(), 2u);

  Tensor a = Tensor::randn({4, 3}), b = Tensor::randn({4, 3});
  std::vector<Tensor> expected = fn({a, b});
  auto predictor = Predictor::FromGraph(*graph);
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  auto out = (*predictor)->Run({{"a", a.value()}, {"b", b.value()}});
  ASSERT_TRUE(out.ok()) << out.status();
  for (size_t j = 0; j < outs.size(); ++j) {
    EXPECT_LE(MaxAbsDiff(out->at(outs[j]), expected[j].value()), 1e-6) << outs[j];
  }
  EXPECT_TRUE(SaveGraph(*graph, TempPath("multi.onnx")).ok());
}

TEST(TraceTest, BadNamesAndExamples) {
  TraceFunction fn = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{relu(in[0])}; };
  Tensor x = Tensor::randn({2, 3});
  TraceOptions clash;
  clash.input_names = {"x"};
  clash.output_names = {"x"};
  EXPECT_EQ(trace(fn, {x}, {}, clash).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(trace(fn, {Tensor()}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  TraceFunction nothing = [](const std::vector<Tensor>&) { return std::vector<Tensor>{}; };
  EXPECT_EQ(trace(nothing, {x}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(trace(TraceFunction(), {x}, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TraceTest, FixedBatch) {
  std::vector<ModelCase> models = AllModels();
  TraceOptions options;
  options.dynamic_batch = false;
  auto graph = trace(*models[0].module, {RandomInput(models[0], 2)}, options);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(*graph->inputs[0].type.shape, (Shape{2, 8}));
  EXPECT_EQ(*graph->outputs[0].type.shape, (Shape{2, 4}));
  Tensor x2 = RandomInput(models[0], 2);
  auto got = RunGraph(*graph, {{"input", x2.value()}});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_LE(MaxAbsDiff(*got, EagerEval(*models[0].module, x2).value()), 1e-5);
  // The predictor checks fixed dimensions.
  EXPECT_FALSE(RunGraph(*graph, {{"input", RandomInput(models[0], 5).value()}}).ok());
}

}  // namespace
}  // namespace frontend
}  // namespace cortado
