// The optimized CPU kernels (backend "cpu_opt") split their work over the intra-op threads
// (core/thread_pool.h) and give the results they give on one thread: bit for bit where each
// output is computed the same way whatever the split, within rounding where per-thread partial
// sums are reduced (ConvGrad's dW); and, for a given thread count, the same bits every run.
// (That they agree with the reference kernels is //backends:backends_test.)
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "ops/run_op.h"

namespace cortado {
namespace {

std::vector<Tensor> RunWithThreads(const OpRun& run, int threads) {
  absl::StatusOr<std::vector<Tensor>> out = RunOpWithThreads(run, threads);
  EXPECT_TRUE(out.ok()) << run.op_type << ": " << out.status();
  return out.ok() ? *std::move(out) : std::vector<Tensor>();
}

struct Case {
  std::string name;
  OpRun run;
  double rtol = 0;  // 0: bit for bit
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  auto add = [&](std::string name, std::string op, std::vector<Tensor> inputs,
                 AttributeMap attrs = {}, int outputs = 1, double rtol = 0) {
    OpRun run{std::move(op),     kMaxOpset, std::move(attrs),
              std::move(inputs), outputs,   kCpuOptBackend};
    if (run.op_type == "ConvGrad") run.domain = kTrainingDomain;
    cases.push_back({std::move(name), std::move(run), rtol});
  };
  AttributeMap pad1;
  pad1.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  AttributeMap depthwise = pad1;
  depthwise.Set("group", int64_t{8});
  AttributeMap grouped = pad1;
  grouped.Set("group", int64_t{2});
  AttributeMap trans_b, trans_a;
  trans_b.Set("transB", int64_t{1});
  trans_a.Set("transA", int64_t{1});
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    const std::string t = dt == DType::kFloat32 ? " f32" : " f64";
    // Partial sums reduced in another order: within rounding.
    const double rtol = dt == DType::kFloat32 ? 1e-5 : 1e-12;
    // Large enough for every kernel to split at 2 or more threads.
    const Tensor x = RandomNormal({7, 4, 12, 11}, 1, dt), w = RandomNormal({6, 4, 3, 3}, 2, dt);
    const Tensor y = RandomNormal({7, 6, 12, 11}, 3, dt);
    add("Conv" + t, "Conv", {x, w, RandomNormal({6}, 5, dt)}, pad1);
    add("Conv batch 1" + t, "Conv",
        {RandomNormal({1, 16, 20, 20}, 6, dt), RandomNormal({24, 16, 3, 3}, 7, dt)}, pad1);
    add("Conv depthwise" + t, "Conv",
        {RandomNormal({32, 8, 40, 40}, 4, dt), RandomNormal({8, 1, 3, 3}, 8, dt)}, depthwise);
    add("Conv pointwise" + t, "Conv", {x, RandomNormal({6, 4, 1, 1}, 9, dt)});
    add("ConvTranspose" + t, "ConvTranspose", {y, w}, pad1);
    add("ConvGrad" + t, "ConvGrad", {y, x, w}, pad1, 3, rtol);
    add("ConvGrad pointwise" + t, "ConvGrad", {y, x, RandomNormal({6, 4, 1, 1}, 10, dt)}, {}, 3,
        rtol);
    add("ConvGrad grouped" + t, "ConvGrad", {y, x, RandomNormal({6, 2, 3, 3}, 11, dt)}, grouped, 3,
        rtol);
    add("Gemm" + t, "Gemm",
        {RandomNormal({70, 300}, 15, dt), RandomNormal({130, 300}, 16, dt),
         RandomNormal({130}, 17, dt)},
        trans_b);
    add("Gemm tall" + t, "Gemm",
        {RandomNormal({300, 200}, 18, dt), RandomNormal({300, 40}, 19, dt)}, trans_a);
    add("MatMul" + t, "MatMul",
        {RandomNormal({3, 50, 80}, 20, dt), RandomNormal({80, 90}, 21, dt)});
  }
  // Each block of hidden units is computed the same way whatever the split: bit for bit.
  AttributeMap lstm;
  lstm.Set("hidden_size", int64_t{256});
  add("LSTM f32", "LSTM",
      {RandomNormal({6, 2, 16}, 22), RandomNormal({1, 1024, 16}, 23),
       RandomNormal({1, 1024, 256}, 24), RandomNormal({1, 2048}, 25)},
      lstm, 3);
  return cases;
}

TEST(CpuOptThreadsTest, MatchOneThread) {
  for (const Case& c : Cases()) EXPECT_EQ(ThreadCountDifference(c.run, c.rtol), "") << c.name;
}

TEST(CpuOptThreadsTest, SameThreadCountSameBits) {
  for (const Case& c : Cases()) {
    if (c.rtol == 0) continue;  // the exact cases are covered above
    const std::vector<Tensor> first = RunWithThreads(c.run, 3);
    for (int rep = 0; rep < 3; ++rep) {
      const std::vector<Tensor> again = RunWithThreads(c.run, 3);
      for (size_t i = 0; i < first.size(); ++i) {
        EXPECT_EQ(CompareTensors(again[i], first[i], 0, 0), "") << c.name << " output " << i;
      }
    }
  }
}

}  // namespace
}  // namespace cortado
