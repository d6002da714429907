// Training throughput of the eager frontend against PyTorch: the CNN and the MLP of
// examples/fashion_models.h, trained with Adam on the same Fashion-MNIST images (the first
// (warmup + steps) * batch_size of the training set, in order), with the same batch size and
// thread count (ours: set_num_threads, PyTorch: torch.set_num_threads). PyTorch runs in a child
// process (bench/train_bench_torch.py) in the same run; the ratio printed is ours / PyTorch's
// images per second. By default both run at 1 and at 2 threads; --threads N runs N only.
//
//   bazel run -c opt //bench:train_bench -- [--steps 40] [--batch_size 64] [--threads N]
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/fashion_models.h"
#include "frontend/data/fashion_mnist.h"
#include "frontend/ops.h"
#include "frontend/optim/optim.h"

ABSL_FLAG(int, steps, 40, "timed training steps per model");
ABSL_FLAG(int, warmup, 3, "untimed steps first");
ABSL_FLAG(int, batch_size, 64, "batch size");
ABSL_FLAG(int, threads, 0,
          "threads for both (set_num_threads, torch.set_num_threads); 0: compare at 1 and at 2");
ABSL_FLAG(std::string, data, cortado::frontend::data::kFashionMnistDir, "Fashion-MNIST folder");
ABSL_FLAG(std::string, python, "",
          "Python with torch (default: $CORTADO_VENV/bin/python, else /usr/bin/python3)");

namespace cortado {
namespace {

using frontend::Tensor;

double TrainImagesPerSecond(frontend::nn::Module& model,
                            const std::vector<std::pair<Tensor, Tensor>>& batches, int warmup) {
  frontend::optim::Adam optimizer(model.parameters(), {.lr = 1e-3});
  std::chrono::steady_clock::time_point start;
  int64_t images = 0;
  for (size_t step = 0; step < batches.size(); ++step) {
    if (static_cast<int>(step) == warmup) start = std::chrono::steady_clock::now();
    if (static_cast<int>(step) >= warmup) images += batches[step].first.size(0);
    optimizer.zero_grad();
    frontend::cross_entropy(model(batches[step].first), batches[step].second).backward();
    optimizer.step();
  }
  return images / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::map<std::string, double> RunPyTorch(int threads) {
  std::string python = absl::GetFlag(FLAGS_python);
  if (python.empty()) {
    const char* venv = std::getenv("CORTADO_VENV");
    const char* home = std::getenv("HOME");
    python = venv ? std::string(venv) + "/bin/python"
                  : home ? std::string(home) + "/.cache/cortado/venv/bin/python" : "";
    if (python.empty() || access(python.c_str(), X_OK) != 0) python = "/usr/bin/python3";
  }
  const std::string command = absl::StrCat(
      python, " bench/train_bench_torch.py --data ", absl::GetFlag(FLAGS_data), " --steps ",
      absl::GetFlag(FLAGS_steps), " --warmup ", absl::GetFlag(FLAGS_warmup), " --batch_size ",
      absl::GetFlag(FLAGS_batch_size), " --threads ", threads);
  std::map<std::string, double> result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char name[32];
  double rate;
  while (std::fscanf(pipe, "%31s %lf", name, &rate) == 2) result[name] = rate;
  pclose(pipe);
  return result;
}

int Main() {
  auto train = frontend::data::LoadFashionMnist(absl::GetFlag(FLAGS_data), true);
  if (!train.ok()) {
    std::fprintf(stderr, "%s\n", std::string(train.status().message()).c_str());
    return 1;
  }
  const int batch_size = absl::GetFlag(FLAGS_batch_size), warmup = absl::GetFlag(FLAGS_warmup);
  std::vector<std::pair<Tensor, Tensor>> batches;
  for (int b = 0; b < warmup + absl::GetFlag(FLAGS_steps); ++b) {
    std::vector<size_t> indices;
    for (int i = 0; i < batch_size; ++i) indices.push_back(size_t(b) * batch_size + i);
    frontend::data::Example e = train->get_batch(indices);
    batches.emplace_back(e.data, e.target);
  }
  std::vector<int> thread_counts = {1, 2};
  if (absl::GetFlag(FLAGS_threads) > 0) thread_counts = {absl::GetFlag(FLAGS_threads)};
  std::printf("training throughput, batch %d, %d timed steps\n", batch_size,
              absl::GetFlag(FLAGS_steps));
  std::printf("%-6s %7s %14s %14s %8s\n", "model", "threads", "cortado img/s", "PyTorch img/s",
              "ratio");
  bool ok = true;
  for (int threads : thread_counts) {
    frontend::set_num_threads(threads);
    std::map<std::string, double> ours;
    for (const std::string name : {"cnn", "mlp"}) {
      frontend::manual_seed(0);
      auto model = name == "cnn" ? examples::FashionCnn() : examples::FashionMlp();
      ours[name] = TrainImagesPerSecond(*model, batches, warmup);
    }
    const std::map<std::string, double> torch = RunPyTorch(threads);
    for (const auto& [name, rate] : ours) {
      auto it = torch.find(name);
      if (it == torch.end()) {
        ok = false;
        std::printf("%-6s %7d %14.0f %14s %8s\n", name.c_str(), threads, rate, "(failed)", "-");
      } else {
        std::printf("%-6s %7d %14.0f %14.0f %7.2fx\n", name.c_str(), threads, rate, it->second,
                    rate / it->second);
      }
    }
    std::fflush(stdout);
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace cortado

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return cortado::Main();
}
