#include "predictor/predictor.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/npy.h"
#include "core/thread_pool.h"
#include "gtest/gtest.h"
#include "onnx/onnx_pb.h"
#include "ops/op_test_util.h"
#include "ops/registry.h"
#include "predictor/onnx/onnx_importer.h"

namespace cortado {
namespace {

// A two-layer MLP as ONNX bytes: x[N,8] -> Gemm(8x16) -> Relu -> Gemm(16x4) -> Softmax -> y.
std::string MlpModelBytes() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("mlp");
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  auto add_weight = [&](const std::string& name, std::vector<int64_t> dims) {
    onnx::TensorProto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : dims) {
      t->add_dims(d);
      n *= d;
    }
    for (int64_t i = 0; i < n; ++i) t->add_float_data(dist(rng));
  };
  add_weight("w1", {8, 16});
  add_weight("b1", {16});
  add_weight("w2", {16, 4});
  add_weight("b2", {4});
  auto add_node = [&](const std::string& op, std::vector<std::string> in, const std::string& out) {
    onnx::NodeProto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + out);
    for (const auto& i : in) n->add_input(i);
    n->add_output(out);
  };
  add_node("Gemm", {"x", "w1", "b1"}, "h");
  add_node("Relu", {"h"}, "r");
  add_node("Gemm", {"r", "w2", "b2"}, "logits");
  add_node("Softmax", {"logits"}, "y");
  auto add_value = [](google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list,
                      const std::string& name, bool batch_dim, int64_t width) {
    onnx::ValueInfoProto* v = list->Add();
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    if (batch_dim) tt->mutable_shape()->add_dim()->set_dim_param("N");
    tt->mutable_shape()->add_dim()->set_dim_value(width);
  };
  add_value(g->mutable_input(), "x", true, 8);
  add_value(g->mutable_output(), "y", true, 4);
  return model.SerializeAsString();
}

Tensor RandomInput(int64_t batch, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist;
  std::vector<float> v(batch * 8);
  for (float& x : v) x = dist(rng);
  return Tensor::FromVector<float>(v, {batch, 8});
}

TEST(PredictorTest, RunsAndReportsMetadata) {
  auto p = Predictor::FromOnnxBytes(MlpModelBytes());
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ((*p)->inputs().size(), 1u);
  EXPECT_EQ((*p)->inputs()[0].name, "x");
  EXPECT_EQ(*(*p)->inputs()[0].type.shape, (Shape{-1, 8}));
  auto out = (*p)->Run({{"x", RandomInput(3, 1)}});
  ASSERT_TRUE(out.ok()) << out.status();
  const Tensor& y = out->at("y");
  ASSERT_EQ(y.shape(), (Shape{3, 4}));
  for (int r = 0; r < 3; ++r) {  // softmax rows sum to one
    double sum = 0;
    for (int c = 0; c < 4; ++c) sum += y.data<float>()[r * 4 + c];
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST(PredictorTest, ConcurrentRunsMatchASingleThreadedRun) {
  auto p = Predictor::FromOnnxBytes(MlpModelBytes());
  ASSERT_TRUE(p.ok()) << p.status();
  const Predictor& predictor = **p;
  constexpr int kThreads = 8, kRuns = 100;
  std::vector<Tensor> inputs, expected;
  for (int i = 0; i < kThreads; ++i) {
    inputs.push_back(RandomInput(1 + i, 100 + i));
    expected.push_back(predictor.Run({{"x", inputs.back()}}).value().at("y"));
  }
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRuns && errors[t].empty(); ++r) {
        auto out = predictor.Run({{"x", inputs[t]}});
        errors[t] = out.ok() ? CompareTensors(out->at("y"), expected[t], 0, 0)
                             : std::string(out.status().message());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
}

TEST(PredictorTest, BadModelBytesAreErrors) {
  const std::string bytes = MlpModelBytes();
  for (const std::string& bad : {std::string(), std::string("garbage, not protobuf \xff\xff"),
                                 bytes.substr(0, bytes.size() / 2), bytes.substr(0, 10)}) {
    auto p = Predictor::FromOnnxBytes(bad);
    EXPECT_FALSE(p.ok());
    EXPECT_FALSE(p.status().message().empty());
  }
  auto missing = Predictor::FromFile("/nonexistent/model.onnx");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST(PredictorTest, UnsupportedOperatorNamesNodeTypeDomainAndOpset) {
  onnx::ModelProto model;
  model.ParseFromString(MlpModelBytes());
  model.mutable_graph()->mutable_node(1)->set_op_type("Frobnicate");
  model.mutable_graph()->mutable_node(1)->set_domain("com.example");
  auto* op = model.add_opset_import();
  op->set_domain("com.example");
  op->set_version(3);
  auto graph = ImportOnnx(model.SerializeAsString(), "");
  ASSERT_TRUE(graph.ok()) << graph.status();  // the checker allows custom domains
  auto p = Predictor::FromGraph(*std::move(graph));
  ASSERT_FALSE(p.ok());
  const std::string msg(p.status().message());
  EXPECT_NE(msg.find("Relu_r"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Frobnicate"), std::string::npos) << msg;
  EXPECT_NE(msg.find("com.example"), std::string::npos) << msg;
  EXPECT_NE(msg.find("opset 3"), std::string::npos) << msg;
}

// A model newer than Debian's libonnx (IR 8, opset 17) skips its checker and loads through our own
// schemas: the MLP at onnx 1.23's IR 14 and opset 28 (a ReduceMean with axes as input 1, which
// libonnx 1.12 rejects, appended), and an opset-18 Identity.
TEST(PredictorTest, LoadsModelsNewerThanLibOnnx) {
  onnx::ModelProto model;
  model.ParseFromString(MlpModelBytes());
  model.set_ir_version(14);
  model.mutable_opset_import(0)->set_version(28);
  onnx::GraphProto* g = model.mutable_graph();
  onnx::TensorProto* axes = g->add_initializer();
  axes->set_name("axes");
  axes->set_data_type(onnx::TensorProto::INT64);
  axes->add_dims(1);
  axes->add_int64_data(1);
  onnx::NodeProto* mean = g->add_node();
  mean->set_op_type("ReduceMean");
  mean->set_name("mean");
  mean->add_input("y");
  mean->add_input("axes");
  mean->add_output("m");
  onnx::ValueInfoProto* out = g->add_output();
  out->set_name("m");
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  auto p = Predictor::FromOnnxBytes(model.SerializeAsString());
  ASSERT_TRUE(p.ok()) << p.status();
  auto outputs = (*p)->Run({{"x", RandomInput(3, 5)}});
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  // Softmax rows sum to 1, so their mean over axis 1 is 1/4.
  const Tensor& m = outputs->at("m");
  ASSERT_EQ(m.shape(), (Shape{3, 1}));
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(m.data<float>()[i], 0.25f, 1e-6f);

  onnx::ModelProto identity;
  identity.set_ir_version(10);
  identity.add_opset_import()->set_version(18);
  onnx::NodeProto* n = identity.mutable_graph()->add_node();
  n->set_op_type("Identity");
  n->add_input("a");
  n->add_output("b");
  for (auto* list :
       {identity.mutable_graph()->mutable_input(), identity.mutable_graph()->mutable_output()}) {
    onnx::ValueInfoProto* v = list->Add();
    v->set_name(list == identity.mutable_graph()->mutable_input() ? "a" : "b");
    v->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  }
  auto q = Predictor::FromOnnxBytes(identity.SerializeAsString());
  ASSERT_TRUE(q.ok()) << q.status();
}

// IR versions newer than onnx 1.23's and opsets newer than the newest we verify are refused with
// a clear error; the second names the node, op type, domain and opset.
TEST(PredictorTest, RefusesNewerThanKnownIrAndOpset) {
  onnx::ModelProto model;
  model.ParseFromString(MlpModelBytes());
  model.set_ir_version(15);
  auto p = Predictor::FromOnnxBytes(model.SerializeAsString());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(std::string(p.status().message()).find("IR version 15"), std::string::npos)
      << p.status();
  model.set_ir_version(14);
  model.mutable_opset_import(0)->set_version(kMaxOpset + 1);
  p = Predictor::FromOnnxBytes(model.SerializeAsString());
  ASSERT_FALSE(p.ok());
  const std::string msg(p.status().message());
  EXPECT_NE(msg.find("Gemm"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ai.onnx"), std::string::npos) << msg;
  EXPECT_NE(msg.find(absl::StrCat("opset ", kMaxOpset + 1)), std::string::npos) << msg;
}

TEST(PredictorTest, BadInputsAreErrors) {
  auto p = Predictor::FromOnnxBytes(MlpModelBytes());
  ASSERT_TRUE(p.ok()) << p.status();
  struct Case {
    TensorMap inputs;
    std::string expect;
  } cases[] = {
      {{{"nope", RandomInput(1, 1)}}, "unknown input 'nope'"},
      {{}, "missing input 'x'"},
      {{{"x", Tensor::FromVector<float>({1, 2, 3}, {1, 3})}}, "expects float32[?,8]"},
      {{{"x", Tensor::FromVector<double>(std::vector<double>(8), {1, 8})}}, "got float64[1,8]"},
      {{{"x", Tensor::FromVector<float>(std::vector<float>(8), {8})}}, "expects float32[?,8]"},
  };
  for (const Case& c : cases) {
    auto out = (*p)->Run(c.inputs);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(out.status().message().find(c.expect), std::string::npos) << out.status();
  }
}

TEST(PredictorTest, LoadsExternalData) {
  // Move w1's values into a side file, as onnx.save(..., save_as_external_data=True) does.
  onnx::ModelProto model;
  model.ParseFromString(MlpModelBytes());
  onnx::TensorProto* w1 = model.mutable_graph()->mutable_initializer(0);
  const std::vector<float> values(w1->float_data().begin(), w1->float_data().end());
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string padding = "pad!";
  std::string raw(reinterpret_cast<const char*>(values.data()), values.size() * 4);
  ASSERT_TRUE(WriteStringToFile(dir + "/weights.bin", padding + raw).ok());
  w1->clear_float_data();
  w1->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_entry = [&](const std::string& k, const std::string& v) {
    auto* e = w1->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add_entry("location", "weights.bin");
  add_entry("offset", std::to_string(padding.size()));
  add_entry("length", std::to_string(raw.size()));
  ASSERT_TRUE(WriteStringToFile(dir + "/external.onnx", model.SerializeAsString()).ok());

  auto inline_model = Predictor::FromOnnxBytes(MlpModelBytes());
  auto external_model = Predictor::FromFile(dir + "/external.onnx");
  ASSERT_TRUE(external_model.ok()) << external_model.status();
  const Tensor x = RandomInput(2, 5);
  EXPECT_EQ(CompareTensors((*external_model)->Run({{"x", x}})->at("y"),
                           (*inline_model)->Run({{"x", x}})->at("y"), 0, 0),
            "");

  // A location outside the model's folder and a truncated side file are refused.
  w1->mutable_external_data(0)->set_value("../weights.bin");
  EXPECT_FALSE(ImportOnnx(model.SerializeAsString(), dir).ok());
  w1->mutable_external_data(0)->set_value("weights.bin");
  ASSERT_TRUE(WriteStringToFile(dir + "/weights.bin", padding + raw.substr(0, 10)).ok());
  auto truncated = ImportOnnx(model.SerializeAsString(), dir);
  EXPECT_FALSE(truncated.ok());
}

// Four branches from one input, joined: x -> {Relu, Sigmoid -> Neg, Tanh, Abs -> Sqrt} -> Sum.
Graph Branches() {
  Graph g;
  g.opsets[""] = 17;
  g.inputs.push_back({"x", {DType::kFloat32, Shape{64, 256}}});
  g.nodes = {{"a", "Relu", "", {"x"}, {"a"}, {}},        {"b1", "Sigmoid", "", {"x"}, {"b1"}, {}},
             {"b2", "Neg", "", {"b1"}, {"b"}, {}},       {"c", "Tanh", "", {"x"}, {"c"}, {}},
             {"d1", "Abs", "", {"x"}, {"d1"}, {}},        {"d", "Sqrt", "", {"d1"}, {"d"}, {}},
             {"sum", "Sum", "", {"a", "b", "c", "d"}, {"y"}, {}}};
  g.outputs.push_back({"y", {}});
  return g;
}

TEST(DagExecutorTest, LevelsAndResultsMatchTheSimpleExecutor) {
  PredictorOptions dag_options;
  dag_options.executor = "dag";
  auto simple = Predictor::FromGraph(Branches());
  auto dag = Predictor::FromGraph(Branches(), dag_options);
  ASSERT_TRUE(simple.ok()) << simple.status();
  ASSERT_TRUE(dag.ok()) << dag.status();
  const std::vector<std::vector<int>>& levels = (*dag)->plan().levels();
  ASSERT_EQ(levels.size(), 3u);  // {a, b1, c, d1}, {b2, d}, {sum}
  EXPECT_EQ(levels[0].size(), 4u);
  EXPECT_EQ(levels[1].size(), 2u);
  Tensor x = Tensor::Create(DType::kFloat32, {64, 256}).value();
  for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] = std::sin(0.01f * i);
  auto expected = (*simple)->Run({{"x", x}});
  ASSERT_TRUE(expected.ok());
  const int saved = IntraOpThreads();
  for (int threads : {1, 2, 4}) {
    SetIntraOpThreads(threads);
    std::vector<std::thread> callers;
    std::atomic<int> mismatches{0};
    for (int t = 0; t < 3; ++t) {
      callers.emplace_back([&] {
        for (int r = 0; r < 20; ++r) {
          auto y = (*dag)->Run({{"x", x}});
          if (!y.ok() || !CompareTensors(y->at("y"), expected->at("y"), 0, 0).empty()) ++mismatches;
        }
      });
    }
    for (auto& c : callers) c.join();
    EXPECT_EQ(mismatches.load(), 0) << threads << " threads";
  }
  SetIntraOpThreads(saved);
}

TEST(DagExecutorTest, AFailingBranchIsAnErrorNamingItsNode) {
  Graph g = Branches();
  g.nodes[3] = {"c", "Reshape", "", {"x", "bad_shape"}, {"c"}, {}};  // 64*256 into 7 elements
  g.inputs.push_back({"bad_shape", {DType::kInt64, Shape{1}}});
  PredictorOptions options;
  options.executor = "dag";
  options.plan.graph_level = -1;
  auto dag = Predictor::FromGraph(g, options);
  ASSERT_TRUE(dag.ok()) << dag.status();
  SetIntraOpThreads(2);
  auto y = (*dag)->Run({{"x", Tensor::Zeros(DType::kFloat32, {64, 256}).value()},
                        {"bad_shape", Tensor::FromVector<int64_t>({7}, {1})}});
  SetIntraOpThreads(1);
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("'c'"), std::string::npos) << y.status();
}

TEST(PredictorTest, PerModelIntraOpThreads) {
  // A model's own thread count applies to its runs, whatever the process's is.
  PredictorOptions two;
  two.intra_op_threads = 2;
  auto p = Predictor::FromGraph(Branches(), two);
  ASSERT_TRUE(p.ok()) << p.status();
  SetIntraOpThreads(1);
  Tensor x = Tensor::Zeros(DType::kFloat32, {64, 256}).value();
  ASSERT_TRUE((*p)->Run({{"x", x}}).ok());
  EXPECT_EQ(IntraOpThreads(), 1);  // restored after the run
  {
    ScopedIntraOpThreads scoped(3);
    EXPECT_EQ(IntraOpThreads(), 3);
  }
  EXPECT_EQ(IntraOpThreads(), 1);
  PredictorOptions negative;
  negative.intra_op_threads = -1;
  EXPECT_FALSE(Predictor::FromGraph(Branches(), negative).ok());
}

TEST(DagExecutorTest, UnknownExecutorIsAnError) {
  PredictorOptions options;
  options.executor = "parallel";
  auto p = Predictor::FromGraph(Branches(), options);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("simple, dag"), std::string::npos) << p.status();
}

TEST(GraphTest, CheckAndSortOrdersNodesAndRejectsBadGraphs) {
  Graph g;
  g.inputs.push_back({"a", {DType::kFloat32, Shape{1}}});
  g.outputs.push_back({"c", {}});
  g.nodes.push_back({"second", "Relu", "", {"b"}, {"c"}, {}});
  g.nodes.push_back({"first", "Relu", "", {"a"}, {"b"}, {}});
  ASSERT_TRUE(g.CheckAndSort().ok());
  EXPECT_EQ(g.nodes[0].name, "first");

  Graph undefined = g;
  undefined.nodes[0].inputs = {"zzz"};
  EXPECT_NE(undefined.CheckAndSort().message().find("zzz"), std::string::npos);

  Graph cycle;
  cycle.outputs.push_back({"x", {}});
  cycle.nodes.push_back({"n1", "Relu", "", {"y"}, {"x"}, {}});
  cycle.nodes.push_back({"n2", "Relu", "", {"x"}, {"y"}, {}});
  EXPECT_NE(cycle.CheckAndSort().message().find("cycle"), std::string::npos);

  Graph twice = g;  // sorted: first (a -> b), second (b -> c)
  twice.nodes[0].outputs = {"c"};
  EXPECT_FALSE(twice.CheckAndSort().ok());
}

}  // namespace
}  // namespace cortado
