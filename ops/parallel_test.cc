// The reference kernels that split their work over the intra-op threads (core/thread_pool.h)
// give, bit for bit, the results they give on one thread. (The optimized convolutions and
// matrix products of backends/cpu have their own test: //backends/cpu:threads_test.)
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/thread_pool.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "ops/run_op.h"

namespace cortado {
namespace {

AttributeMap Attrs(std::initializer_list<std::pair<const char*, AttrValue>> list) {
  AttributeMap attrs;
  for (const auto& [name, value] : list) attrs.Set(name, value);
  return attrs;
}

struct Case {
  std::string name;
  OpRun run;
};

std::vector<Tensor> RunWithThreads(const OpRun& run, int threads) {
  absl::StatusOr<std::vector<Tensor>> out = RunOpWithThreads(run, threads);
  EXPECT_TRUE(out.ok()) << run.op_type << ": " << out.status();
  return out.ok() ? *std::move(out) : std::vector<Tensor>();
}

std::vector<Case> Cases() {
  const std::string training = kTrainingDomain;
  const AttributeMap pool2 = Attrs(
      {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  const AttributeMap pool3 = Attrs({{"kernel_shape", std::vector<int64_t>{3, 3}},
                                    {"strides", std::vector<int64_t>{2, 2}},
                                    {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  std::vector<Case> cases;
  auto add = [&](std::string name, std::string op, std::vector<Tensor> inputs,
                 AttributeMap attrs = {}, int outputs = 1, std::string domain = "") {
    Case c{std::move(name),
           OpRun{std::move(op), kMaxOpset, std::move(attrs), std::move(inputs), outputs}};
    c.run.domain = std::move(domain);
    cases.push_back(std::move(c));
  };
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    const std::string t = dt == DType::kFloat32 ? " f32" : " f64";
    // Large enough for every kernel to split at 2 or more threads.
    const Tensor planes = RandomNormal({32, 8, 40, 40}, 4, dt);
    add("MaxPool 2x2" + t, "MaxPool", {planes}, pool2, 2);
    add("MaxPool 3x3 padded" + t, "MaxPool", {planes}, pool3, 2);
    add("MaxPool no indices" + t, "MaxPool", {planes}, pool2);
    add("AveragePool" + t, "AveragePool", {planes}, pool3);
    std::vector<Tensor> pooled = RunWithThreads(OpRun{"MaxPool", kMaxOpset, pool3, {planes}, 2}, 1);
    add("MaxPoolGrad" + t, "MaxPoolGrad", {pooled[0], pooled[1], planes}, {}, 1, training);
    add("AveragePoolGrad" + t, "AveragePoolGrad", {pooled[0], planes}, pool3, 1, training);
    const Tensor scale = RandomNormal({8}, 12, dt), stat = RandomNormal({8}, 13, dt);
    add("BatchNormalization" + t, "BatchNormalization", {planes, scale, stat, stat, stat},
        Attrs({{"training_mode", int64_t{1}}}), 3);
    add("BatchNormalizationGrad" + t, "BatchNormalizationGrad",
        {RandomNormal({32, 8, 40, 40}, 14, dt), planes, scale}, {}, 3, training);
    const Tensor big = RandomNormal({3, 50000}, 22, dt);
    add("Relu" + t, "Relu", {big});
    add("ReluGrad" + t, "ReluGrad", {RandomNormal({3, 50000}, 23, dt), big}, {}, 1, training);
    add("Add" + t, "Add", {big, RandomNormal({3, 50000}, 24, dt)});
    add("Mul scalar" + t, "Mul", {big, RandomNormal({}, 25, dt)});
    add("Add bias" + t, "Add", {big, RandomNormal({50000}, 26, dt)});
    // Short rows split over threads by rows: a per-channel scale of a channels-last image, and
    // Where over three broadcast operands.
    add("Mul per channel" + t, "Mul",
        {RandomNormal({2, 48, 40, 24}, 33, dt), RandomNormal({2, 1, 1, 24}, 34, dt)});
    add("Sub per row" + t, "Sub",
        {RandomNormal({300, 1}, 35, dt), RandomNormal({300, 350}, 36, dt)});
    std::vector<bool> mask(350);
    for (int i = 0; i < 350; ++i) mask[i] = i % 3 == 0;
    add("Where" + t, "Where",
        {Tensor::FromVector<bool>(mask, {350}), RandomNormal({300, 350}, 37, dt),
         RandomNormal({300, 1}, 38, dt)});
    // The data-movement kernels of offset tables (GatherByTables): rows split over threads.
    const Tensor cube = RandomNormal({48, 40, 36}, 30, dt);
    add("Transpose rows" + t, "Transpose", {cube},
        Attrs({{"perm", std::vector<int64_t>{1, 0, 2}}}));
    add("Transpose" + t, "Transpose", {cube}, Attrs({{"perm", std::vector<int64_t>{2, 0, 1}}}));
    add("Slice strided" + t, "Slice",
        {RandomNormal({64, 48, 40}, 31, dt), Tensor::FromVector<int64_t>({1, 45, 3}, {3}),
         Tensor::FromVector<int64_t>({63, 2, 35}, {3}), Tensor::FromVector<int64_t>({0, 1, 2}, {3}),
         Tensor::FromVector<int64_t>({1, -1, 1}, {3})});
    add("Pad" + t, "Pad", {cube, Tensor::FromVector<int64_t>({1, 2, 3, 2, 1, 0}, {6})});
    add("Expand" + t, "Expand",
        {RandomNormal({40, 1}, 32, dt), Tensor::FromVector<int64_t>({31, 40, 64}, {3})});
    const Tensor scores = RandomNormal({4000, 10}, 27, dt);
    add("Softmax" + t, "Softmax", {scores});
    add("LogSoftmax axis 0" + t, "LogSoftmax", {RandomNormal({10, 4000}, 28, dt)},
        Attrs({{"axis", int64_t{0}}}));
    std::vector<int64_t> labels(4000);
    for (int64_t i = 0; i < 4000; ++i) labels[i] = (i * 7) % 10;
    const Tensor target = Tensor::FromVector<int64_t>(labels, {4000});
    for (const char* reduction : {"mean", "none"}) {
      const AttributeMap r = Attrs({{"reduction", std::string(reduction)}});
      add(absl::StrCat("SoftmaxCrossEntropyLoss ", reduction, t), "SoftmaxCrossEntropyLoss",
          {scores, target}, r, 2);
      std::vector<Tensor> loss =
          RunWithThreads(OpRun{"SoftmaxCrossEntropyLoss", kMaxOpset, r, {scores, target}, 2}, 1);
      add(absl::StrCat("SoftmaxCrossEntropyLossGrad ", reduction, t), "SoftmaxCrossEntropyLossGrad",
          {std::string(reduction) == "none" ? RandomNormal({4000}, 29, dt)
                                            : RandomNormal({}, 29, dt),
           loss[1], target},
          r, 1, training);
    }
  }
  return cases;
}

TEST(ParallelKernelsTest, MatchOneThread) {
  for (const Case& c : Cases()) EXPECT_EQ(ThreadCountDifference(c.run, 0), "") << c.name;
}

TEST(ParallelKernelsTest, MaxPoolGradStrayIndices) {
  // Indices that MaxPool would not make (into another plane, repeated) are still added, and
  // out-of-range ones still rejected, with threads.
  const Tensor x = RandomNormal({2, 3, 4, 4}, 30);
  const Tensor dy = RandomNormal({2, 3, 2, 2}, 31);
  std::vector<int64_t> idx(24);
  for (int i = 0; i < 24; ++i) idx[i] = (i * 37) % 96;
  const Tensor ind = Tensor::FromVector<int64_t>(idx, {2, 3, 2, 2});
  const OpRun run{"MaxPoolGrad", kMaxOpset, {}, {dy, ind, x}, 1, kCpuBackend, kTrainingDomain};
  const std::vector<Tensor> one = RunWithThreads(run, 1), many = RunWithThreads(run, 3);
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(many.size(), 1u);
  EXPECT_EQ(CompareTensors(many[0], one[0], 0, 0), "");
  std::vector<float> want(96, 0.0f);
  for (int i = 0; i < 24; ++i) want[idx[i]] += dy.data<float>()[i];
  for (int i = 0; i < 96; ++i) EXPECT_FLOAT_EQ(one[0].data<float>()[i], want[i]) << i;
  idx[5] = 96;
  OpRun bad = run;
  bad.inputs[1] = Tensor::FromVector<int64_t>(idx, {2, 3, 2, 2});
  SetIntraOpThreads(3);
  EXPECT_FALSE(RunOp(bad).ok());
  SetIntraOpThreads(1);
}

}  // namespace
}  // namespace cortado
