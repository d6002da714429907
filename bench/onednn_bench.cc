// Where oneDNN overtakes our kernels: for each op and size, the microseconds per call of our
// kernel (the reference one of ops/, or cpu_opt's for MatMul and LSTM) and of the oneDNN kernel
// built without its size thresholds (//backends/onednn:onednn_unthresholded; the thresholds in
// backends/onednn come from this bench), both created once and run interleaved in one process,
// median of --rounds rounds; ratio = oneDNN / ours (below 1: oneDNN is faster). The eltwise
// activations, MatMul of two per-run operands (attention), and the recurrent cells. On a busy
// machine the 2-thread rows measure OpenMP's thread wake-ups more than the kernels.
//
// Then the channels-last 3x3 convolutions of resnet18/50 and densenet121 (bias and Relu fused):
// oneDNN's direct convolution against Winograd F(2x2, 3x3) (backends/onednn/winograd.h), both
// the unthresholded oneDNN kernel; ratio = Winograd / direct (the thresholds in winograd.cc come
// from these rows).
//
//   bazel run //bench:onednn_bench -- [--threads 1,2] [--rounds 7] [--filter Sigmoid]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/onednn/winograd.h"
#include "core/thread_pool.h"
#include "ops/registry.h"

ABSL_FLAG(std::vector<std::string>, threads, std::vector<std::string>({"1", "2"}),
          "intra-op thread counts");
ABSL_FLAG(int, rounds, 7, "rounds per op and size (the median is printed)");
ABSL_FLAG(double, round_ms, 20, "milliseconds per kernel per round");
ABSL_FLAG(std::string, filter, "", "run only the rows whose label contains this");

namespace cortado {
namespace {

Tensor Random(const Shape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.1f, 2.0f);
  Tensor t = Tensor::Create(DType::kFloat32, shape).value();
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "onednn_bench: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

struct Row {
  std::string label;
  std::string op;
  int opset;
  AttributeMap attrs;
  std::vector<Tensor> inputs;
  bool constant_weights = false;  // inputs after the first are known at load, as weights are
  std::string domain;             // "" is ONNX's
};

std::unique_ptr<Kernel> Make(const std::string& backend, Row& row) {
  const OpRegistry& reg = OpRegistry::Global();
  const OpSchema* schema = reg.FindSchema(row.domain, row.op, row.opset);
  Check(schema->Complete(static_cast<int>(row.inputs.size()), 1, row.attrs));
  std::vector<DType> dtypes;
  std::vector<std::optional<Shape>> shapes;
  for (const Tensor& t : row.inputs) {
    dtypes.push_back(t.dtype());
    shapes.push_back(t.shape());
  }
  // Activations are per-run values; weights, when the row says so, constants.
  std::vector<const Tensor*> constants(row.inputs.size(), nullptr);
  for (size_t i = 1; row.constant_weights && i < row.inputs.size(); ++i) {
    if (row.inputs[i].defined()) constants[i] = &row.inputs[i];
  }
  KernelInfo info{row.op, row.domain, row.opset, row.op, &row.attrs, dtypes, constants, 1, shapes};
  auto kernel = BackendRegistry::Global().Find(backend)->CreateKernel(info);
  Check(kernel.status());
  return *std::move(kernel);
}

// Microseconds per call over about `ms` milliseconds.
double MicrosPerCall(const Kernel& kernel, const std::vector<Tensor>& inputs, double ms) {
  std::vector<const Tensor*> in;
  for (const Tensor& t : inputs) in.push_back(&t);
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  int64_t calls = 0;
  double elapsed = 0;
  do {
    KernelContext ctx(in, 1);
    Check(kernel.Compute(ctx));
    ++calls;
    elapsed = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  } while (elapsed < ms * 1000);
  return elapsed / calls;
}

std::vector<Row> Rows() {
  std::vector<Row> rows;
  uint32_t seed = 1;
  for (int64_t n : {1024, 4096, 16384, 65536, 262144, 1048576}) {
    const std::string size = " " + std::to_string(n);
    for (const char* op :
         {"LeakyRelu", "Sigmoid", "Tanh", "Elu", "HardSwish", "Exp", "Log", "Sqrt"}) {
      rows.push_back({std::string(op) + size, op, 14, {}, {Random({n}, seed++)}});
    }
  }
  // Runtime MatMul, as attention's Q K^T: [heads, s, 64] x [heads, 64, s].
  for (int64_t s : {8, 16, 32, 64, 128}) {
    rows.push_back({"MatMul 4 heads, seq " + std::to_string(s),
                    "MatMul",
                    13,
                    {},
                    {Random({4, s, 64}, seed++), Random({4, 64, s}, seed++)}});
  }
  // The recurrent cells, with constant weights (against the reference kernels).
  auto attrs = [](std::vector<std::pair<std::string, AttrValue>> list) {
    AttributeMap a;
    for (auto& [k, v] : list) a.Set(k, v);
    return a;
  };
  using I = std::vector<int64_t>;
  const int64_t t = 16, h = 128, in = 64;
  for (const auto& [label, op, gates, direction, lbr] :
       std::vector<std::tuple<std::string, std::string, int64_t, std::string, int64_t>>{
           {"GRU lbr seq 16, 64->128", "GRU", 3, "forward", 1},
           {"RNN seq 16, 64->128", "RNN", 1, "forward", 0},
           {"LSTM bidirectional seq 16, 64->128", "LSTM", 4, "bidirectional", 0}}) {
    const int64_t dirs = direction == "bidirectional" ? 2 : 1;
    AttributeMap a = attrs({{"hidden_size", h}, {"direction", direction}});
    if (op == "GRU") a.Set("linear_before_reset", lbr);
    rows.push_back({label,
                    op,
                    14,
                    a,
                    {Random({t, 1, in}, seed++), Random({dirs, gates * h, in}, seed++),
                     Random({dirs, gates * h, h}, seed++), Random({dirs, 2 * gates * h}, seed++)},
                    true});
  }
  // The forward LSTM of bench/model_bench's lstm model (a layer of 256 units), by batch size:
  // against cpu_opt's LSTM (backends/cpu/rnn.cc).
  for (int64_t n : {1, 2, 4, 8}) {
    const int64_t units = 256;
    rows.push_back({"LSTM seq 32, 256->256, batch " + std::to_string(n),
                    "LSTM",
                    14,
                    attrs({{"hidden_size", units}}),
                    {Random({32, n, units}, seed++), Random({1, 4 * units, units}, seed++),
                     Random({1, 4 * units, units}, seed++), Random({1, 8 * units}, seed++)},
                    true});
  }
  return rows;
}

// The 3x3 stride-1 convolutions (pads 1, bias, Relu) of resnet18/50 (ic = oc) and densenet121
// (ic 128, oc 32), channels-last, by batch; then small ones, for the threshold.
std::vector<Row> ConvRows() {
  std::vector<Row> rows;
  uint32_t seed = 1000;
  AttributeMap a;
  a.Set("pads", AttrValue(std::vector<int64_t>{1, 1, 1, 1}));
  a.Set("activation", AttrValue(std::string("Relu")));
  for (int64_t n : {1, 8}) {
    for (const auto& [c, oc, hw] :
         std::vector<std::tuple<int64_t, int64_t, int64_t>>{{64, 64, 56},
                                                            {128, 128, 28},
                                                            {256, 256, 14},
                                                            {512, 512, 7},
                                                            {128, 32, 56},
                                                            {128, 32, 28},
                                                            {128, 32, 14},
                                                            {128, 32, 7},
                                                            {16, 16, 4},
                                                            {16, 16, 6},
                                                            {32, 32, 4},
                                                            {8, 8, 14},
                                                            {3, 64, 56}}) {
      rows.push_back(
          {absl::StrCat("Conv3x3 ic", c, " oc", oc, " ", hw, "x", hw, " n", n),
           "FusedConv",
           1,
           a,
           {Random({n, hw, hw, c}, seed++), Random({oc, c, 3, 3}, seed++), Random({oc}, seed++)},
           true,
           kNhwcDomain});
    }
  }
  return rows;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Times kernels a and b on the row's inputs in alternating rounds and prints the row: the median
// microseconds per call of each and b / a, the label `width` wide.
void PrintInterleaved(const Kernel& a, const Kernel& b, const Row& row, const std::string& threads,
                      int width) {
  std::vector<double> t_a, t_b;
  for (int r = 0; r < absl::GetFlag(FLAGS_rounds); ++r) {
    t_a.push_back(MicrosPerCall(a, row.inputs, absl::GetFlag(FLAGS_round_ms)));
    t_b.push_back(MicrosPerCall(b, row.inputs, absl::GetFlag(FLAGS_round_ms)));
  }
  const double ma = Median(t_a), mb = Median(t_b);
  std::printf("%-*s %7s %12.2f %12.2f %8.2f\n", width, row.label.c_str(), threads.c_str(), ma, mb,
              mb / ma);
}

int Main() {
  std::printf("%-28s %7s %12s %12s %8s\n", "op and elements", "threads", "ours us", "onednn us",
              "ratio");
  for (const std::string& threads : absl::GetFlag(FLAGS_threads)) {
    SetIntraOpThreads(std::stoi(threads));
    for (Row& row : Rows()) {
      if (!absl::StrContains(row.label, absl::GetFlag(FLAGS_filter))) continue;
      // Ours: the optimized CPU kernel where there is one (MatMul, LSTM), else the reference
      // kernel.
      const bool opt = OpRegistry::Global().FindKernel(kCpuOptBackend, "", row.op, row.opset,
                                                       DType::kFloat32) != nullptr;
      std::unique_ptr<Kernel> ours = Make(opt ? kCpuOptBackend : kCpuBackend, row);
      std::unique_ptr<Kernel> onednn = Make("onednn", row);
      PrintInterleaved(*ours, *onednn, row, threads, 28);
    }
  }
  std::printf("\n%-34s %7s %12s %12s %8s\n", "3x3 convolution", "threads", "direct us",
              "winograd us", "ratio");
  for (const std::string& threads : absl::GetFlag(FLAGS_threads)) {
    SetIntraOpThreads(std::stoi(threads));
    for (Row& row : ConvRows()) {
      if (!absl::StrContains(row.label, absl::GetFlag(FLAGS_filter))) continue;
      onednn::Winograd::Enable(false);
      std::unique_ptr<Kernel> direct = Make("onednn", row);
      onednn::Winograd::Enable(true);
      std::unique_ptr<Kernel> winograd = Make("onednn", row);
      PrintInterleaved(*direct, *winograd, row, threads, 34);
    }
  }
  return 0;
}

}  // namespace
}  // namespace cortado

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return cortado::Main();
}
