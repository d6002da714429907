// Plan::Build's choice of backends: PlanOptions::backends limits where nodes go, and also where
// a kernel hands the calls it leaves to another backend's kernel (oneDNN's LSTM hands batches
// below 4 to cpu_opt's). A spy backend, ranked between oneDNN and cpu_opt, records every time it
// is asked about a node.
#include "predictor/plan.h"

#include <atomic>
#include <cmath>

#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

std::atomic<int> spy_asked{0};

// Takes LSTM nodes in Supports and then refuses to create them, so that a plan that asks it
// still places the node elsewhere.
class SpyBackend final : public Backend {
 public:
  std::string name() const override { return "spy"; }
  int priority() const override { return 7; }  // below onednn (10), above cpu_opt (5)
  bool Supports(const KernelInfo& node) const override {
    if (node.op_type != "LSTM") return false;
    spy_asked.fetch_add(1);
    return true;
  }
  absl::StatusOr<std::unique_ptr<Kernel>> CreateKernel(const KernelInfo& node) const override {
    return absl::UnimplementedError("spy: creates nothing");
  }
};
CORTADO_REGISTER_BACKEND(SpyBackend);

// X [seq 3, batch 1, 4] -> LSTM (hidden 5, constant weights) -> Y, Y_h. Batch 1 is below the
// size oneDNN's LSTM runs itself.
Graph LstmGraph() {
  Graph g;
  g.opsets[""] = 14;
  g.inputs.push_back({"X", {DType::kFloat32, Shape{3, 1, 4}}});
  g.initializers["W"] = RandomNormal({1, 20, 4}, 1);
  g.initializers["R"] = RandomNormal({1, 20, 5}, 2);
  g.initializers["B"] = RandomNormal({1, 40}, 3);
  Node lstm;
  lstm.name = "lstm";
  lstm.op_type = "LSTM";
  lstm.inputs = {"X", "W", "R", "B"};
  lstm.outputs = {"Y", "Y_h"};
  lstm.attrs.Set("hidden_size", int64_t{5});
  g.nodes.push_back(std::move(lstm));
  g.outputs.push_back({"Y", {DType::kFloat32, std::nullopt}});
  g.outputs.push_back({"Y_h", {DType::kFloat32, std::nullopt}});
  return g;
}

std::vector<std::string> Names(const std::vector<const Backend*>& backends) {
  std::vector<std::string> names;
  for (const Backend* b : backends) names.push_back(b->name());
  return names;
}

TEST(PlanTest, AllowedBackendsKeepPriorityOrderAndTheReference) {
  const std::vector<std::string> all = Names(BackendRegistry::Global().ByPriority());
  EXPECT_EQ(Names(AllowedBackends({})), all);
  EXPECT_EQ(Names(AllowedBackends({"spy"})), (std::vector<std::string>{"spy", "cpu"}));
  EXPECT_EQ(Names(AllowedBackends({"cpu_opt", "onednn"})),
            (std::vector<std::string>{"onednn", "cpu_opt", "cpu"}));
  EXPECT_EQ(Names(AllowedBackends({"onednn", "cpu_opt"})),
            (std::vector<std::string>{"onednn", "cpu_opt", "cpu"}));
  EXPECT_EQ(Names(AllowedBackends({"cpu"})), (std::vector<std::string>{"cpu"}));
}

TEST(PlanTest, CreateKernelOnFirstSkipsBackendsThatRefuse) {
  AttributeMap attrs;
  KernelInfo relu{"Relu", "", 14, "relu", &attrs, {DType::kFloat32}, {nullptr}, 1};
  auto placed = CreateKernelOnFirst(AllowedBackends({"cpu"}), relu);
  ASSERT_TRUE(placed.ok()) << placed.status();
  EXPECT_EQ(placed->backend->name(), "cpu");
  EXPECT_NE(placed->kernel, nullptr);
  KernelInfo unknown{"NoSuchOp", "", 14, "x", &attrs, {DType::kFloat32}, {nullptr}, 1};
  EXPECT_EQ(CreateKernelOnFirst(AllowedBackends({}), unknown).status().code(),
            absl::StatusCode::kUnimplemented);
}

// The oneDNN LSTM's small-batch hand-over must not reach a backend the plan excluded: with only
// onednn allowed, the spy (and cpu_opt) are never asked, and oneDNN runs batch 1 itself.
TEST(PlanTest, KernelHandOverStaysInsideTheAllowedBackends) {
  spy_asked = 0;
  PlanOptions only_onednn;
  only_onednn.backends = {"onednn"};
  auto plan = Plan::Build(LstmGraph(), only_onednn);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ((*plan)->steps().size(), 1u);
  EXPECT_EQ((*plan)->steps()[0].backend->name(), "onednn");
  EXPECT_EQ(spy_asked.load(), 0) << "a backend outside PlanOptions::backends was asked";

  // Allowed, the spy is asked (by the hand-over, oneDNN taking the node), whatever the order of
  // the names; so the count above can see a hand-over.
  for (std::vector<std::string> names :
       {std::vector<std::string>{"onednn", "spy"}, std::vector<std::string>{"spy", "onednn"}}) {
    spy_asked = 0;
    PlanOptions with_spy;
    with_spy.backends = names;
    auto spied = Plan::Build(LstmGraph(), with_spy);
    ASSERT_TRUE(spied.ok()) << spied.status();
    EXPECT_EQ((*spied)->steps()[0].backend->name(), "onednn");
    EXPECT_GT(spy_asked.load(), 0);
  }
}

// Whichever kernel runs batch 1, the outputs agree with the reference kernel's.
TEST(PlanTest, OnednnAloneMatchesTheReference) {
  const Tensor x = RandomNormal({3, 1, 4}, 4);
  std::map<std::string, Tensor> outputs[2];
  const std::vector<std::string> sets[2] = {{"cpu"}, {"onednn"}};
  for (int i = 0; i < 2; ++i) {
    PredictorOptions options;
    options.plan.backends = sets[i];
    auto p = Predictor::FromGraph(LstmGraph(), options);
    ASSERT_TRUE(p.ok()) << p.status();
    auto out = (*p)->Run({{"X", x}});
    ASSERT_TRUE(out.ok()) << out.status();
    outputs[i] = *std::move(out);
  }
  for (const std::string name : {"Y", "Y_h"}) {
    const Tensor& ref = outputs[0][name];
    const Tensor& got = outputs[1][name];
    ASSERT_EQ(ref.shape(), got.shape()) << name;
    for (int64_t i = 0; i < ref.num_elements(); ++i) {
      EXPECT_NEAR(got.data<float>()[i], ref.data<float>()[i], 1e-5) << name << " " << i;
    }
  }
}

// x [4, 64] -> Gemm (W1 [32, 64] transposed, bias) -> Relu -> MatMul (W2 [32, 32]) -> y, and
// optionally W2 also read as it is: z = W2 + x2. An initializer no node reads besides.
Graph TwoLayers(bool read_w2_as_is) {
  Graph g;
  g.opsets[""] = 17;
  g.inputs.push_back({"x", {DType::kFloat32, Shape{4, 64}}});
  g.initializers["W1"] = RandomNormal({32, 64}, 5);
  g.initializers["b1"] = RandomNormal({32}, 6);
  g.initializers["W2"] = RandomNormal({32, 32}, 7);
  g.initializers["unread"] = RandomNormal({1000}, 8);
  AttributeMap trans_b;
  trans_b.Set("transB", int64_t{1});
  g.nodes.push_back({"gemm", "Gemm", "", {"x", "W1", "b1"}, {"h"}, trans_b});
  g.nodes.push_back({"relu", "Relu", "", {"h"}, {"r"}, {}});
  g.nodes.push_back({"mm", "MatMul", "", {"r", "W2"}, {"y"}, {}});
  g.outputs.push_back({"y", {DType::kFloat32, std::nullopt}});
  if (read_w2_as_is) {
    g.inputs.push_back({"x2", {DType::kFloat32, Shape{32, 32}}});
    g.nodes.push_back({"add", "Add", "", {"W2", "x2"}, {"z"}, {}});
    g.outputs.push_back({"z", {DType::kFloat32, std::nullopt}});
  }
  return g;
}

size_t ConstantBytes(const Plan& plan) {
  size_t bytes = 0;
  for (const Tensor& t : plan.constants()) bytes += t.defined() ? t.nbytes() : 0;
  return bytes;
}

// The plan keeps no copy of the weights oneDNN's kernels pack (they keep their own): only the
// bias they read as it is, and a weight another node reads as it is. The reference kernels,
// unoptimized, read every weight as it is; no plan keeps an initializer no node reads.
TEST(PlanTest, HoldsNoCopyOfTheWeightsAKernelPacked) {
  constexpr size_t kW1 = 32 * 64 * sizeof(float), kB1 = 32 * sizeof(float),
                   kW2 = 32 * 32 * sizeof(float);
  const TensorMap inputs = {{"x", RandomNormal({4, 64}, 9)}, {"x2", RandomNormal({32, 32}, 10)}};
  for (const bool read_w2_as_is : {false, true}) {
    std::map<std::string, Tensor> outputs[2];
    for (const bool onednn : {false, true}) {
      PredictorOptions options;
      options.plan.backends = {onednn ? "onednn" : "cpu"};
      options.plan.graph_level = onednn ? 1 : -1;
      auto p = Predictor::FromGraph(TwoLayers(read_w2_as_is), options);
      ASSERT_TRUE(p.ok()) << p.status();
      const size_t expected = !onednn ? kW1 + kB1 + kW2 : read_w2_as_is ? kB1 + kW2 : kB1;
      EXPECT_EQ(ConstantBytes((*p)->plan()), expected) << onednn << read_w2_as_is;
      TensorMap feed = {{"x", inputs.at("x")}};
      if (read_w2_as_is) feed["x2"] = inputs.at("x2");
      auto out = (*p)->Run(feed);
      ASSERT_TRUE(out.ok()) << out.status();
      outputs[onednn] = *std::move(out);
    }
    for (const auto& [name, ref] : outputs[0]) {
      const Tensor& got = outputs[1][name];
      ASSERT_EQ(ref.shape(), got.shape()) << name;
      for (int64_t i = 0; i < ref.num_elements(); ++i) {
        const float want = ref.data<float>()[i];
        EXPECT_NEAR(got.data<float>()[i], want, 1e-4f * (1 + std::abs(want))) << name << i;
      }
    }
  }
}

}  // namespace
}  // namespace cortado
