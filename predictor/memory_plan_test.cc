#include "predictor/memory_plan.h"

#include <atomic>
#include <cmath>
#include <thread>

#include "core/thread_pool.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "predictor/executor.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

constexpr int64_t kRows = 64, kCols = 256;
constexpr size_t kBytes = kRows * kCols * sizeof(float);

// x -> Relu a -> Reshape (a view) v -> Sigmoid b -> Tanh c -> Neg d -> Reshape d2 ->
// Sum(d2, x, e) y, with a branch x -> Abs e read only by the last step, so that e is live the
// whole time. With `keep_b` the last step reads b too (through a Reshape).
Graph Chain(bool keep_b = false) {
  Graph g;
  g.opsets[""] = 17;
  g.inputs.push_back({"x", {DType::kFloat32, Shape{kRows, kCols}}});
  g.initializers["shape"] = Tensor::FromVector<int64_t>({kCols, kRows}, {2});
  g.initializers["back"] = Tensor::FromVector<int64_t>({kRows, kCols}, {2});
  g.nodes = {{"e", "Abs", "", {"x"}, {"e"}, {}},
             {"a", "Relu", "", {"x"}, {"a"}, {}},
             {"v", "Reshape", "", {"a", "shape"}, {"v"}, {}},
             {"b", "Sigmoid", "", {"v"}, {"b"}, {}},
             {"c", "Tanh", "", {"b"}, {"c"}, {}},
             {"d", "Neg", "", {"c"}, {"d"}, {}},
             {"d2", "Reshape", "", {"d", "back"}, {"d2"}, {}},
             {"y", "Sum", "", {"d2", "x", "e"}, {"y"}, {}}};
  if (keep_b) {
    g.nodes.back().inputs.push_back("b2");
    g.nodes.push_back({"b2", "Reshape", "", {"b", "back"}, {"b2"}, {}});
  }
  g.outputs.push_back({"y", {}});
  return g;
}

Tensor Input(float phase) {
  Tensor x = Tensor::Create(DType::kFloat32, {kRows, kCols}).value();
  for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] = std::sin(0.01f * i + phase);
  return x;
}

std::unique_ptr<Plan> ChainPlan(bool keep_b = false) {
  PlanOptions options;
  options.graph_level = -1;  // keep every node, so that the layout is the chain's
  auto plan = Plan::Build(Chain(keep_b), options);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return *std::move(plan);
}

TEST(MemoryPlanTest, RecordsAllocationsAndViews) {
  std::unique_ptr<Plan> plan = ChainPlan();
  MemoryRecord record(plan->num_slots());
  {
    Workspace ws(*plan);
    ws.blob(plan->input_slots()[0]) = Input(0);
    ws.Record(&record);
    ASSERT_TRUE(SimpleExecutor().Run(ws).ok());
  }
  for (const char* fresh : {"e", "a", "b", "c", "d", "y"}) {
    EXPECT_EQ(record.bytes[plan->SlotOf(fresh)], kBytes) << fresh;
    EXPECT_EQ(record.view_of[plan->SlotOf(fresh)], -1) << fresh;
  }
  EXPECT_EQ(record.bytes[plan->SlotOf("v")], 0u);
  EXPECT_EQ(record.view_of[plan->SlotOf("v")], plan->SlotOf("a"));
  EXPECT_EQ(record.view_of[plan->SlotOf("d2")], plan->SlotOf("d"));
  EXPECT_EQ(record.bytes[plan->SlotOf("x")], 0u);  // the caller's
}

ArenaLayout RecordAndPlan(const Plan& plan, const Executor& exec) {
  MemoryRecord record(plan.num_slots());
  {
    Workspace ws(plan);
    ws.blob(plan.input_slots()[0]) = Input(0);
    ws.Record(&record);
    EXPECT_TRUE(exec.Run(ws).ok());
  }
  return PlanArena(plan, exec.StepTimes(plan), record);
}

TEST(MemoryPlanTest, ValuesLiveAtTheSameTimeNeverShareBytes) {
  for (bool keep_b : {false, true}) {
    std::unique_ptr<Plan> plan = ChainPlan(keep_b);
    for (const char* executor : {"simple", "dag"}) {
      auto exec = MakeExecutor(executor).value();
      const std::vector<int> time = exec->StepTimes(*plan);
      const ArenaLayout layout = RecordAndPlan(*plan, *exec);
      auto slot = [&](const char* name) { return plan->SlotOf(name); };
      // Graph inputs, constants and model outputs stay outside; views share their root's place.
      EXPECT_EQ(layout.offset[slot("x")], -1);
      EXPECT_EQ(layout.offset[slot("shape")], -1);
      EXPECT_EQ(layout.offset[slot("y")], -1);
      EXPECT_EQ(layout.offset[slot("v")], layout.offset[slot("a")]);
      EXPECT_EQ(layout.bytes[slot("v")], 0u);  // a view: its step allocates nothing
      EXPECT_EQ(layout.offset[slot("d2")], layout.offset[slot("d")]);
      // Elementwise steps write over an input that nothing reads afterwards: b over a, c over b
      // (unless the last step still reads b), d over c.
      EXPECT_EQ(layout.offset[slot("b")], layout.offset[slot("a")]);
      EXPECT_EQ(layout.offset[slot("c")] == layout.offset[slot("b")], !keep_b);
      EXPECT_EQ(layout.offset[slot("d")], layout.offset[slot("c")]);
      EXPECT_NE(layout.offset[slot("e")], layout.offset[slot("a")]);
      EXPECT_EQ(layout.total_bytes, (keep_b ? 3 : 2) * kBytes) << executor;

      // Lifetimes by the executor's clock, views and in-place writes included: groups alive at
      // the same time are disjoint.
      const int n = plan->num_slots();
      std::vector<int> begin(n, -1), end(n, -1);
      for (size_t i = 0; i < plan->steps().size(); ++i) {
        for (int s : plan->steps()[i].inputs) {
          if (s >= 0) end[s] = std::max(end[s], time[i]);
        }
        for (int s : plan->steps()[i].outputs) begin[s] = end[s] = time[i];
      }
      std::vector<int> group_begin(n, 1 << 30), group_end(n, -1);
      for (int s = 0; s < n; ++s) {
        if (layout.group[s] < 0) continue;
        group_begin[layout.group[s]] = std::min(group_begin[layout.group[s]], begin[s]);
        group_end[layout.group[s]] = std::max(group_end[layout.group[s]], end[s]);
      }
      for (int p = 0; p < n; ++p) {
        if (layout.group[p] != p) continue;
        EXPECT_LE(layout.offset[p] + layout.bytes[p], layout.total_bytes);
        for (int q = p + 1; q < n; ++q) {
          if (layout.group[q] != q) continue;
          const bool together = group_begin[p] <= group_end[q] && group_begin[q] <= group_end[p];
          const bool disjoint =
              layout.offset[p] + static_cast<int64_t>(layout.bytes[p]) <= layout.offset[q] ||
              layout.offset[q] + static_cast<int64_t>(layout.bytes[q]) <= layout.offset[p];
          EXPECT_TRUE(!together || disjoint) << executor << ": slots " << p << " and " << q;
        }
      }
    }
  }
}

TEST(MemoryPlanTest, ArenaRunsMatchPlainRuns) {
  PredictorOptions plain_options;
  plain_options.memory_plan = false;
  plain_options.plan.graph_level = -1;
  for (bool keep_b : {false, true})
    for (const char* executor : {"simple", "dag"}) {
      auto plain = Predictor::FromGraph(Chain(keep_b), plain_options);
      ASSERT_TRUE(plain.ok()) << plain.status();
      PredictorOptions options;
      options.executor = executor;
      options.plan.graph_level = -1;
      auto planned = Predictor::FromGraph(Chain(keep_b), options);
      ASSERT_TRUE(planned.ok()) << planned.status();
      // The first run records, the next ones run in arenas; outputs a caller holds are not in an
      // arena, so later runs never change them.
      auto first = (*planned)->Run({{"x", Input(0)}});
      ASSERT_TRUE(first.ok()) << first.status();
      const Tensor kept = first->at("y").Clone();
      const int saved = IntraOpThreads();
      SetIntraOpThreads(2);
      std::atomic<int> mismatches{0};
      std::vector<std::thread> callers;
      for (int t = 0; t < 3; ++t) {
        callers.emplace_back([&, t] {
          for (int r = 0; r < 20; ++r) {
            Tensor x = Input(0.1f * (t * 20 + r));
            auto want = (*plain)->Run({{"x", x}});
            auto got = (*planned)->Run({{"x", x}});
            if (!want.ok() || !got.ok() ||
                !CompareTensors(got->at("y"), want->at("y"), 0, 0).empty()) {
              ++mismatches;
            }
          }
        });
      }
      for (auto& c : callers) c.join();
      SetIntraOpThreads(saved);
      EXPECT_EQ(mismatches.load(), 0) << executor;
      EXPECT_TRUE(CompareTensors(first->at("y"), kept, 0, 0).empty()) << executor;
    }
}

}  // namespace
}  // namespace cortado
