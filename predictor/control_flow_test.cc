// Control flow's plumbing beyond what the conformance suites check (they compare outputs with
// ONNX's and numpy's): outer-scope values appended through two scopes, the exporter leaving them
// implicit again, and bad values at run time as errors naming the node.
#include "predictor/control_flow.h"

#include <thread>

#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "predictor/onnx/onnx_exporter.h"
#include "predictor/onnx/onnx_importer.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

SubgraphAttr Sub(Graph g) { return SubgraphAttr{std::make_shared<const Graph>(std::move(g))}; }

// out = Loop(m, "", x) { acc = If(i < k) { acc_in + w } else { acc_in * acc_in } }: w is read
// two scopes out, k one scope out (a body constant), acc_in by the If from the body.
Graph Nested() {
  Graph then_g, else_g, body, g;
  then_g.nodes = {{"t", "Add", "", {"acc_in", "w"}, {"t_out"}, {}}};
  then_g.outputs = {{"t_out", {DType::kFloat32, std::nullopt}}};
  else_g.nodes = {{"e", "Mul", "", {"acc_in", "acc_in"}, {"e_out"}, {}}};
  else_g.outputs = {{"e_out", {DType::kFloat32, std::nullopt}}};
  Node branch{"branch", "If", "", {"small"}, {"acc_out"}, {}};
  branch.attrs.Set("then_branch", Sub(then_g));
  branch.attrs.Set("else_branch", Sub(else_g));
  AddOuterInputs(branch);
  body.initializers["k"] = Tensor::Scalar<int64_t>(1);
  body.inputs = {{"i", {DType::kInt64, Shape{}}},
                 {"cond_in", {DType::kBool, Shape{}}},
                 {"acc_in", {DType::kFloat32, std::nullopt}}};
  body.nodes = {{"less", "Less", "", {"i", "k"}, {"small"}, {}},
                std::move(branch),
                {"keep", "Identity", "", {"cond_in"}, {"cond_out"}, {}}};
  body.outputs = {{"cond_out", {DType::kBool, Shape{}}},
                  {"acc_out", {DType::kFloat32, std::nullopt}}};
  Node loop{"loop", "Loop", "", {"m", "", "x"}, {"out"}, {}};
  loop.attrs.Set("body", Sub(std::move(body)));
  AddOuterInputs(loop);
  g.opsets[""] = 16;
  g.inputs = {{"x", {DType::kFloat32, Shape{2}}}, {"w", {DType::kFloat32, Shape{2}}}};
  g.initializers["m"] = Tensor::Scalar<int64_t>(3);
  g.nodes = {std::move(loop)};
  g.outputs = {{"out", {DType::kFloat32, Shape{2}}}};
  return g;
}

TEST(ControlFlowTest, OuterValuesPassThroughTheScopesBetween) {
  const Graph g = Nested();
  EXPECT_EQ(g.nodes[0].inputs, (std::vector<std::string>{"m", "", "x", "w"}));
  const Graph& body = *Subgraphs(g.nodes[0])[0];
  EXPECT_EQ(OuterValues(body), std::vector<std::string>{"w"});
  EXPECT_EQ(body.nodes[1].inputs, (std::vector<std::string>{"small", "acc_in", "w"}));
}

TEST(ControlFlowTest, RunsNestedScopesLikeTheUnrolledArithmetic) {
  const Tensor x = Tensor::FromVector<float>({1.5f, -2}, {2});
  const Tensor w = Tensor::FromVector<float>({0.25f, 3}, {2});
  // Iteration 0 adds w, iterations 1 and 2 square: ((x + w)^2)^2.
  std::vector<float> want(2);
  for (int j = 0; j < 2; ++j) {
    const float a = x.data<float>()[j] + w.data<float>()[j];
    want[j] = a * a * a * a;
  }
  for (const char* executor : {"simple", "dag"}) {
    SCOPED_TRACE(executor);
    PredictorOptions options;
    options.executor = executor;
    auto predictor = Predictor::FromGraph(Nested(), options);
    ASSERT_TRUE(predictor.ok()) << predictor.status();
    // Three callers at once, twice each (the second run in the memory plan's arena): the nested
    // plans are shared, every run has its own workspaces.
    std::vector<std::string> diffs(3);
    std::vector<std::thread> callers;
    for (int c = 0; c < 3; ++c) {
      callers.emplace_back([&, c] {
        for (int run = 0; run < 2; ++run) {
          auto out = (*predictor)->Run({{"x", x}, {"w", w}});
          diffs[c] += out.ok() ? CompareTensors(out->at("out"),
                                                Tensor::FromVector<float>(want, {2}), 1e-6, 0)
                               : std::string(out.status().message());
        }
      });
    }
    for (std::thread& t : callers) t.join();
    for (const std::string& diff : diffs) EXPECT_EQ(diff, "");
  }
}

TEST(ControlFlowTest, ExportLeavesOuterValuesImplicit) {
  auto bytes = ExportOnnx(Nested());  // ONNX's checker runs on the export
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto back = ImportOnnx(*bytes, "");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->nodes[0].inputs, (std::vector<std::string>{"m", "", "x", "w"}));
}

TEST(ControlFlowTest, BadValuesAreErrorsNamingTheNode) {
  Graph then_g, else_g, g;
  then_g.nodes = {{"t", "Identity", "", {"x"}, {"t_out"}, {}}};
  then_g.outputs = {{"t_out", {}}};
  else_g.nodes = {{"e", "Neg", "", {"x"}, {"e_out"}, {}}};
  else_g.outputs = {{"e_out", {}}};
  Node branch{"choose", "If", "", {"c"}, {"y"}, {}};
  branch.attrs.Set("then_branch", Sub(then_g));
  branch.attrs.Set("else_branch", Sub(else_g));
  AddOuterInputs(branch);
  g.opsets[""] = 16;
  g.inputs = {{"c", {DType::kBool, std::nullopt}}, {"x", {DType::kFloat32, Shape{2}}}};
  g.nodes = {std::move(branch),
             {"seq", "SequenceConstruct", "", {"x"}, {"s"}, {}},
             {"at", "SequenceAt", "", {"s", "p"}, {"z"}, {}}};
  g.inputs.push_back({"p", {DType::kInt64, Shape{}}});
  g.outputs = {{"y", {}}, {"z", {}}};
  auto predictor = Predictor::FromGraph(std::move(g));
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  const Tensor x = Tensor::FromVector<float>({1, 2}, {2});
  auto two_conditions = (*predictor)
                            ->Run({{"c", Tensor::FromVector<bool>({true, false}, {2})},
                                   {"x", x},
                                   {"p", Tensor::Scalar<int64_t>(0)}});
  ASSERT_FALSE(two_conditions.ok());
  EXPECT_EQ(two_conditions.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(two_conditions.status().message().find("node 'choose'"), std::string::npos)
      << two_conditions.status();
  auto out_of_range =
      (*predictor)
          ->Run({{"c", Tensor::Scalar<bool>(true)}, {"x", x}, {"p", Tensor::Scalar<int64_t>(1)}});
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_NE(out_of_range.status().message().find("node 'at'"), std::string::npos)
      << out_of_range.status();
  EXPECT_NE(out_of_range.status().message().find("out of range"), std::string::npos);
  auto ok =
      (*predictor)
          ->Run({{"c", Tensor::Scalar<bool>(false)}, {"x", x}, {"p", Tensor::Scalar<int64_t>(-1)}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(CompareTensors(ok->at("y"), Tensor::FromVector<float>({-1, -2}, {2}), 0, 0), "");
  EXPECT_EQ(CompareTensors(ok->at("z"), x, 0, 0), "");
}

}  // namespace
}  // namespace cortado
