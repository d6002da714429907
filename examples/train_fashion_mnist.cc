// Trains the small CNN of fashion_models.h on Fashion-MNIST with the eager frontend, evaluates it
// on the test set, traces it and publishes it as the next version of a model in a cortadod model
// repository (ONNX, or a Caffe2 NetDef with --format netdef), so that a server in poll mode
// hot-reloads it:
//
//   bazel run -c opt //examples:train_fashion_mnist -- --epochs 3 --repository DIR --model fashion_cnn
//
// Progress goes to stderr; stdout gets the epoch summaries, the exported path, and a last line
// `test_accuracy=0.xxxx`.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/fashion_models.h"
#include "frontend/data/data_loader.h"
#include "frontend/data/fashion_mnist.h"
#include "frontend/ops.h"
#include "frontend/optim/optim.h"
#include "frontend/trace.h"

ABSL_FLAG(int, epochs, 3, "training epochs");
ABSL_FLAG(int, batch_size, 64, "batch size");
ABSL_FLAG(double, lr, 1e-3, "Adam's learning rate (cosine-annealed to 0 over the epochs)");
ABSL_FLAG(uint64_t, seed, 0, "seed for initialisation, dropout and shuffling");
ABSL_FLAG(int64_t, train_limit, 0, "train on the first N training images only (0: all)");
ABSL_FLAG(std::string, data, cortado::frontend::data::kFashionMnistDir,
          "folder holding Fashion-MNIST's IDX .gz files");
ABSL_FLAG(std::string, repository, "", "model repository to publish into (empty: no export)");
ABSL_FLAG(std::string, model, "fashion_cnn", "model name in the repository");
ABSL_FLAG(std::string, format, "onnx", "export format: onnx or netdef");
ABSL_FLAG(int, threads, static_cast<int>(std::thread::hardware_concurrency()),
          "threads each kernel may use (default: every core)");

namespace cortado {
namespace {

namespace fs = std::filesystem;
using frontend::Tensor;
namespace data = frontend::data;

// The first `limit` examples of a dataset.
class Prefix : public data::Dataset {
 public:
  Prefix(std::shared_ptr<const data::Dataset> base, size_t limit)
      : base_(std::move(base)), size_(std::min(limit, base_->size())) {}
  size_t size() const override { return size_; }
  data::Example get(size_t i) const override { return base_->get(i); }
  data::Example get_batch(const std::vector<size_t>& indices) const override {
    return base_->get_batch(indices);
  }

 private:
  std::shared_ptr<const data::Dataset> base_;
  size_t size_;
};

std::string Duration(double seconds) {
  const int s = static_cast<int>(seconds + 0.5);
  return absl::StrCat(s / 60, ":", s % 60 < 10 ? "0" : "", s % 60);
}

int64_t Correct(const Tensor& logits, const Tensor& target) {
  const std::vector<int64_t> predicted = logits.argmax(1).to_vector<int64_t>();
  const std::vector<int64_t> expected = target.to_vector<int64_t>();
  int64_t correct = 0;
  for (size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == expected[i];
  return correct;
}

double Evaluate(frontend::nn::Module& model, const std::shared_ptr<const data::Dataset>& test) {
  frontend::NoGradGuard no_grad;
  model.eval();
  data::DataLoader loader(test, {.batch_size = 500});
  int64_t correct = 0;
  for (const data::Batch& batch : loader) correct += Correct(model(batch.data), batch.target);
  model.train();
  return static_cast<double>(correct) / test->size();
}

// Publishes `model` as version max+1 of repository/name: traced, written into a dot-prefixed
// folder the server ignores, then renamed into place (atomic on one filesystem).
absl::StatusOr<std::string> Publish(frontend::nn::Module& model, const Tensor& example) {
  const fs::path dir = fs::path(absl::GetFlag(FLAGS_repository)) / absl::GetFlag(FLAGS_model);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  int64_t version = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name.size() < 18 &&
        name.find_first_not_of("0123456789") == std::string::npos && name[0] != '0') {
      version = std::max<int64_t>(version, std::stoll(name));
    }
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir.string(), ": ", ec.message()));
  ++version;
  const fs::path staging = dir / absl::StrCat(".tmp-", version);
  fs::remove_all(staging, ec);
  if (!fs::create_directories(staging, ec)) {
    return absl::InternalError(absl::StrCat("cannot create ", staging.string(), ": ", ec.message()));
  }
  const bool onnx = absl::GetFlag(FLAGS_format) == "onnx";
  frontend::TraceOptions options;
  options.input_names = {"image"};
  options.output_names = {"logits"};
  const fs::path file = onnx ? staging / "model.onnx" : staging;
  RETURN_IF_ERROR(frontend::Export(model, {example}, file.string(), options));
  if (!onnx && !fs::exists(dir / "config.pbtxt")) {
    // A NetDef records no input types; the server reads them from config.pbtxt.
    const fs::path config = dir / ".config.pbtxt.tmp";
    std::ofstream out(config);
    out << "platform: \"caffe2_netdef\"\n"
        << "input [ { name: \"image\" data_type: TYPE_FP32 dims: [ -1, 1, 28, 28 ] } ]\n";
    out.close();
    fs::rename(config, dir / "config.pbtxt", ec);
    if (!out || ec) return absl::InternalError("cannot write " + (dir / "config.pbtxt").string());
  }
  const fs::path final_dir = dir / std::to_string(version);
  fs::rename(staging, final_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot publish ", final_dir.string(), ": ", ec.message()));
  return (onnx ? final_dir / "model.onnx" : final_dir).string();
}

int Main() {
  if (absl::GetFlag(FLAGS_format) != "onnx" && absl::GetFlag(FLAGS_format) != "netdef") {
    std::fprintf(stderr, "--format must be onnx or netdef\n");
    return 2;
  }
  frontend::manual_seed(absl::GetFlag(FLAGS_seed));
  frontend::set_num_threads(absl::GetFlag(FLAGS_threads));
  auto train_set = data::LoadFashionMnist(absl::GetFlag(FLAGS_data), true);
  auto test_set = data::LoadFashionMnist(absl::GetFlag(FLAGS_data), false);
  if (!train_set.ok() || !test_set.ok()) {
    std::fprintf(stderr, "cannot load Fashion-MNIST: %s\n",
                 std::string((train_set.ok() ? test_set.status() : train_set.status()).message()).c_str());
    return 1;
  }
  std::shared_ptr<const data::Dataset> train =
      std::make_shared<data::FashionMnist>(*std::move(train_set));
  if (absl::GetFlag(FLAGS_train_limit) > 0) {
    train = std::make_shared<Prefix>(train, absl::GetFlag(FLAGS_train_limit));
  }
  auto test = std::make_shared<data::FashionMnist>(*std::move(test_set));

  auto model = examples::FashionCnn();
  frontend::optim::Adam optimizer(model->parameters(), {.lr = absl::GetFlag(FLAGS_lr)});
  const int epochs = absl::GetFlag(FLAGS_epochs);
  frontend::optim::CosineAnnealingLR schedule(optimizer, epochs);
  data::DataLoader loader(train, {.batch_size = absl::GetFlag(FLAGS_batch_size),
                                  .shuffle = true,
                                  .seed = absl::GetFlag(FLAGS_seed)});
  std::printf("training %s (%lld parameters) on %zu images, %zu steps per epoch\n",
              model->name().c_str(), static_cast<long long>(model->num_parameters()),
              train->size(), loader.size());
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const size_t total_steps = loader.size() * epochs;
  size_t steps_done = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    size_t step = 0;
    for (const data::Batch& batch : loader) {
      optimizer.zero_grad();
      Tensor logits = (*model)(batch.data);
      Tensor loss = frontend::cross_entropy(logits, batch.target);
      loss.backward();
      optimizer.step();
      const int64_t n = batch.target.numel();
      loss_sum += loss.item() * n;
      correct += Correct(logits, batch.target);
      seen += n;
      ++step;
      ++steps_done;
      if (step % 20 == 0 || step == loader.size()) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - epoch_start).count();
        const double total = std::chrono::duration<double>(Clock::now() - start).count();
        const int width = 24, filled = static_cast<int>(width * step / loader.size());
        std::fprintf(stderr, "\repoch %d/%d [%s%s] %zu/%zu loss %.4f acc %.4f %.0f img/s ETA %s ",
                     epoch, epochs, std::string(filled, '=').c_str(),
                     std::string(width - filled, ' ').c_str(), step, loader.size(),
                     loss_sum / seen, double(correct) / seen, seen / elapsed,
                     Duration(total / steps_done * (total_steps - steps_done)).c_str());
      }
    }
    schedule.step();
    const double elapsed = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    std::fprintf(stderr, "\n");
    const double test_accuracy = Evaluate(*model, test);
    std::printf("epoch %d: loss %.4f train_accuracy %.4f test_accuracy %.4f (%.0f img/s, %s)\n",
                epoch, loss_sum / seen, double(correct) / seen, test_accuracy, seen / elapsed,
                Duration(elapsed).c_str());
    std::fflush(stdout);
  }
  const double accuracy = Evaluate(*model, test);
  if (!absl::GetFlag(FLAGS_repository).empty()) {
    auto path = Publish(*model, test->get_batch({0}).data);
    if (!path.ok()) {
      std::fprintf(stderr, "export failed: %s\n", std::string(path.status().message()).c_str());
      return 1;
    }
    std::printf("exported %s\n", path->c_str());
  }
  std::printf("test_accuracy=%.4f\n", accuracy);
  return 0;
}

}  // namespace
}  // namespace cortado

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  try {
    return cortado::Main();
  } catch (const cortado::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
