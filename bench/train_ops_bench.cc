// Where the time of one training step goes: runs, as the eager frontend does (RunOnHost: the
// optimized CPU kernels of backends/cpu where they exist), every operator that one step
// (forward, backward) of the Fashion-MNIST CNN of examples/fashion_models.h runs at batch 64
// (the MLP's ops are a subset), on random data of the same shapes, and prints the milliseconds
// per step that each op type takes (the fastest run of each), with --threads intra-op threads.
// No peer; for profiling.
//
//   bazel run -c opt //bench:train_ops_bench -- [--threads 1] [--batch_size 64] [--seconds 0.3]
//       [--filter ConvGrad]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "core/thread_pool.h"
#include "frontend/dispatch.h"
#include "ops/run_op.h"

ABSL_FLAG(int, threads, 1, "intra-op threads");
ABSL_FLAG(int, batch_size, 64, "batch size");
ABSL_FLAG(double, seconds, 0.3, "time to spend on each op");
ABSL_FLAG(std::string, filter, "", "run only the ops whose row label contains this");

namespace cortado {
namespace {

std::mt19937 rng(0);

Tensor Random(const Shape& shape) {
  Tensor t = Tensor::Create(DType::kFloat32, shape).value();
  std::normal_distribution<float> normal;
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = normal(rng);
  return t;
}

Tensor Ints(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::FromVector<int64_t>(v, {n});
}

AttributeMap Attrs(std::initializer_list<std::pair<const char*, AttrValue>> list) {
  AttributeMap attrs;
  for (const auto& [name, value] : list) attrs.Set(name, value);
  return attrs;
}

struct Step {
  std::string label;  // row of the table
  OpRun run;
};

// The fastest of the runs made in --seconds (at least 3): on a shared machine the minimum is
// the stablest estimate of what the op costs.
double MillisPerRun(const OpRun& run) {
  const double budget = absl::GetFlag(FLAGS_seconds);
  const auto start = std::chrono::steady_clock::now();
  double best = 1e30;
  for (int i = 0;; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    frontend::RunOnHost(run);  // on the kernels the eager frontend uses; throws on failure
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
    if (i >= 2 && std::chrono::duration<double>(t1 - start).count() > budget) break;
  }
  return 1e3 * best;
}

int Main() {
  SetIntraOpThreads(absl::GetFlag(FLAGS_threads));
  const int64_t n = absl::GetFlag(FLAGS_batch_size);
  const AttributeMap conv = Attrs(
      {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"kernel_shape", std::vector<int64_t>{3, 3}}});
  const AttributeMap pool = Attrs(
      {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  const AttributeMap bn =
      Attrs({{"epsilon", 1e-5f}, {"momentum", 0.0f}, {"training_mode", int64_t{1}}});
  const AttributeMap trans_b = Attrs({{"transB", int64_t{1}}});
  const AttributeMap trans_a = Attrs({{"transA", int64_t{1}}});
  const AttributeMap mean = Attrs({{"reduction", std::string("mean")}});

  std::vector<Step> steps;
  auto add = [&](std::string label, std::string op, std::vector<Tensor> inputs,
                 AttributeMap attrs = {}, int outputs = 1, std::string domain = "") {
    Step s{std::move(label),
           OpRun{std::move(op), kMaxOpset, std::move(attrs), std::move(inputs), outputs}};
    s.run.domain = std::move(domain);
    steps.push_back(std::move(s));
  };
  const std::string training = kTrainingDomain;
  // Two conv blocks: conv -> batch norm -> relu -> max pool.
  struct Block {
    int64_t c, m, hw;
  };
  for (const Block& b : {Block{1, 32, 28}, Block{32, 64, 14}}) {
    const std::string tag = absl::StrCat(" ", b.c, "->", b.m, "@", b.hw);
    const Tensor x = Random({n, b.c, b.hw, b.hw}), w = Random({b.m, b.c, 3, 3});
    const Tensor y = Random({n, b.m, b.hw, b.hw});
    const Tensor scale = Random({b.m}), stat = Random({b.m});
    add("Conv" + tag, "Conv", {x, w, Random({b.m})}, conv);
    add("ConvGrad" + tag, "ConvGrad", {y, x, w}, conv, 3, training);
    add("BatchNorm" + tag, "BatchNormalization", {y, scale, stat, stat, stat}, bn, 3);
    add("BatchNormGrad" + tag, "BatchNormalizationGrad", {y, y, scale}, Attrs({{"epsilon", 1e-5f}}),
        3, training);
    add("Relu" + tag, "Relu", {y});
    add("ReluGrad" + tag, "ReluGrad", {y, y}, {}, 1, training);
    std::vector<Tensor> pooled = RunOp(OpRun{"MaxPool", kMaxOpset, pool, {y}, 2}).value();
    add("MaxPool" + tag, "MaxPool", {y}, pool, 2);
    add("MaxPoolGrad" + tag, "MaxPoolGrad", {pooled[0], pooled[1], y}, {}, 1, training);
  }
  // The classifier: linear(3136 -> 128), relu, dropout, linear(128 -> 10), cross entropy.
  const Tensor flat = Random({n, 3136}), w1 = Random({128, 3136}), h = Random({n, 128});
  const Tensor w2 = Random({10, 128}), logits = Random({n, 10});
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) labels.push_back(i % 10);
  const Tensor target = Tensor::FromVector<int64_t>(labels, {n});
  add("Gemm fc1", "Gemm", {flat, w1, Random({128})}, trans_b);
  add("Gemm fc1 dX", "Gemm", {h, w1});
  add("Gemm fc1 dW", "Gemm", {h, flat}, trans_a);
  add("ReduceSum fc1 dB", "ReduceSum", {h, Ints({0})}, Attrs({{"keepdims", int64_t{0}}}));
  add("Relu fc", "Relu", {h});
  add("ReluGrad fc", "ReluGrad", {h, h}, {}, 1, training);
  add("Mul dropout", "Mul", {h, h});
  add("Gemm fc2", "Gemm", {h, w2, Random({10})}, trans_b);
  add("Gemm fc2 dX", "Gemm", {logits, w2});
  add("Gemm fc2 dW", "Gemm", {logits, h}, trans_a);
  add("SoftmaxCrossEntropyLoss", "SoftmaxCrossEntropyLoss", {logits, target}, mean, 2);
  std::vector<Tensor> loss =
      RunOp(OpRun{"SoftmaxCrossEntropyLoss", kMaxOpset, mean, {logits, target}, 2}).value();
  add("SoftmaxCrossEntropyLossGrad", "SoftmaxCrossEntropyLossGrad",
      {Tensor::Scalar<float>(1), loss[1], target}, mean, 1, training);

  std::printf("ms per op, batch %lld, %d thread(s)\n", static_cast<long long>(n), IntraOpThreads());
  double total = 0;
  std::map<std::string, double> by_type;
  for (const Step& s : steps) {
    if (s.label.find(absl::GetFlag(FLAGS_filter)) == std::string::npos) continue;
    const double ms = MillisPerRun(s.run);
    total += ms;
    by_type[s.run.op_type] += ms;
    std::printf("%-34s %8.3f\n", s.label.c_str(), ms);
  }
  std::printf("%-34s %8.3f\n\nby op type:\n", "total", total);
  for (const auto& [type, ms] : by_type) std::printf("%-34s %8.3f\n", type.c_str(), ms);
  return 0;
}

}  // namespace
}  // namespace cortado

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return cortado::Main();
}
