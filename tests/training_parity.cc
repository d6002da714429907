// The C++ half of tests/training_parity_test: trains two Fashion-MNIST models with the eager
// frontend for a few steps on real data and writes what tests/training_parity_test.py needs to
// replay the same training in PyTorch and compare it step by step.
//
//   training_parity OUTPUT_DIR [FASHION_MNIST_DIR] [--float64]
//
// --float64 converts the models (right after initialisation, so the initial values are the same)
// and the images to float64. The test runs both: float32 is what training uses; in float64 the
// trajectory must match PyTorch's float64 one to ~1e-10, which no rounding drift can excuse, so a
// semantic difference in any op or optimizer shows even where float32 noise would hide it.
//
// Models (each built right after manual_seed(kSeed), so their initial weights are our own
// initialisation, which PyTorch loads):
//   mlp  examples::FashionMlp(), Adam(lr 1e-3)
//   cnn  FashionCnn without its Dropout: conv(1->32)-BN-ReLU-maxpool ->
//        conv(32->64)-BN-ReLU-maxpool -> flatten -> linear(3136->128)-ReLU -> linear(128->10);
//        SGD(lr 0.05, momentum 0.9, nesterov, weight_decay 1e-4) and StepLR(step_size 5, gamma 0.5)
//        stepped after every optimizer step (so the learning rate changes within the run).
// Both train in train mode for kSteps steps on the training images in order, batch k being
// images [k * kBatch, (k + 1) * kBatch), with nn::CrossEntropyLoss (mean).
//
// Files written to OUTPUT_DIR (state files in frontend/nn/serialize.h's format, arrays as .npy):
//   {mlp,cnn}_init.state    the initial state (Module::save)
//   {mlp,cnn}_losses.npy    float64 [kSteps]: the loss of every step (before its update)
//   {mlp,cnn}_lrs.npy       float64 [kSteps]: the learning rate each step used
//   {mlp,cnn}_final.state   the state after the last step (parameters, BatchNorm statistics)
//   {mlp,cnn}_test_pred.npy int64 [kTestImages]: the final model's classes (eval mode) for the
//                           first kTestImages test images
//   batch0_x.npy, targets.npy  the first training batch's images and every step's labels
//                           [kSteps, kBatch], to check the data pipeline on the Python side
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/npy.h"
#include "examples/fashion_models.h"
#include "frontend/data/fashion_mnist.h"
#include "frontend/nn/nn.h"
#include "frontend/optim/optim.h"
#include "frontend/tensor.h"

namespace cortado {
namespace {

using frontend::Tensor;
namespace data = frontend::data;
namespace nn = frontend::nn;
namespace optim = frontend::optim;

constexpr uint64_t kSeed = 20240611;
constexpr int kSteps = 20;
constexpr int kBatch = 32;
constexpr int kTestImages = 1000;
constexpr int kEvalBatch = 500;

bool use_float64 = false;  // --float64

void Check(const absl::Status& st) { ThrowIfError(st); }

std::vector<size_t> Range(size_t begin, size_t count) {
  std::vector<size_t> v(count);
  std::iota(v.begin(), v.end(), begin);
  return v;
}

// FashionCnn (examples/fashion_models.h) without the Dropout, whose random mask PyTorch cannot
// reproduce.
std::shared_ptr<nn::Sequential> CnnWithoutDropout() {
  using namespace frontend::nn;  // NOLINT: the layer names read best unqualified here
  return std::make_shared<Sequential>(
      std::make_shared<Conv2d>(1, 32, 3, 1, 1), std::make_shared<BatchNorm2d>(32),
      std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2),
      std::make_shared<Conv2d>(32, 64, 3, 1, 1), std::make_shared<BatchNorm2d>(64),
      std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2), std::make_shared<Flatten>(),
      std::make_shared<Linear>(64 * 7 * 7, 128), std::make_shared<ReLU>(),
      std::make_shared<Linear>(128, 10));
}

// With --float64, converts every float32 parameter and buffer of `model` to float64 in place
// (same handles; the optimizer must be built afterwards).
void MaybeToFloat64(nn::Module& model) {
  if (!use_float64) return;
  frontend::NoGradGuard no_grad;
  for (auto& [name, t] : model.state_dict()) {
    if (t.dtype() == DType::kFloat32) t.mutable_value() = t.to(DType::kFloat64).value();
  }
}

Tensor Images(const data::Example& batch) {
  return use_float64 ? batch.data.to(DType::kFloat64) : batch.data;
}

// Trains `model` for kSteps steps; `after_step` runs after each optimizer step (the scheduler).
void Train(const std::string& dir, const std::string& tag, nn::Module& model,
           optim::Optimizer& optimizer, const data::FashionMnist& train,
           const data::FashionMnist& test, const std::function<void()>& after_step) {
  Check(model.save(absl::StrCat(dir, "/", tag, "_init.state")));
  model.train();
  nn::CrossEntropyLoss criterion;
  std::vector<double> losses;
  std::vector<double> lrs;
  for (int step = 0; step < kSteps; ++step) {
    const data::Example batch = train.get_batch(Range(static_cast<size_t>(step) * kBatch, kBatch));
    optimizer.zero_grad();
    Tensor loss = criterion(model(Images(batch)), batch.target);
    loss.backward();
    lrs.push_back(optimizer.lr());
    optimizer.step();
    after_step();
    losses.push_back(loss.item());
    std::printf("%s step %2d lr %.5f loss %.6f\n", tag.c_str(), step, lrs.back(), losses.back());
  }
  Check(WriteNpyFile(absl::StrCat(dir, "/", tag, "_losses.npy"),
                     Tensor::from_vector(losses, {kSteps}).value()));
  Check(WriteNpyFile(absl::StrCat(dir, "/", tag, "_lrs.npy"),
                     Tensor::from_vector(lrs, {kSteps}).value()));
  Check(model.save(absl::StrCat(dir, "/", tag, "_final.state")));

  frontend::NoGradGuard no_grad;
  model.eval();
  std::vector<int64_t> predicted;
  for (int start = 0; start < kTestImages; start += kEvalBatch) {
    const data::Example batch = test.get_batch(Range(start, kEvalBatch));
    const std::vector<int64_t> p = model(Images(batch)).argmax(1).to_vector<int64_t>();
    predicted.insert(predicted.end(), p.begin(), p.end());
  }
  Check(WriteNpyFile(absl::StrCat(dir, "/", tag, "_test_pred.npy"),
                     Tensor::from_vector(predicted, {kTestImages}).value()));
}

absl::Status Run(const std::string& dir, const std::string& data_dir) {
  return CatchError([&] {
    const data::FashionMnist train = ValueOrThrow(data::LoadFashionMnist(data_dir, true));
    const data::FashionMnist test = ValueOrThrow(data::LoadFashionMnist(data_dir, false));

    Check(WriteNpyFile(dir + "/batch0_x.npy", train.get_batch(Range(0, kBatch)).data.value()));
    Check(WriteNpyFile(
        dir + "/targets.npy",
        train.get_batch(Range(0, kSteps * kBatch)).target.reshape({kSteps, kBatch}).value()));

    frontend::manual_seed(kSeed);
    auto mlp = examples::FashionMlp();
    MaybeToFloat64(*mlp);
    optim::Adam adam(mlp->parameters(), {.lr = 1e-3});
    Train(dir, "mlp", *mlp, adam, train, test, [] {});

    frontend::manual_seed(kSeed);
    auto cnn = CnnWithoutDropout();
    MaybeToFloat64(*cnn);
    optim::SGD sgd(cnn->parameters(),
                   {.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-4, .nesterov = true});
    optim::StepLR schedule(sgd, /*step_size=*/5, /*gamma=*/0.5);
    Train(dir, "cnn", *cnn, sgd, train, test, [&] { schedule.step(); });
  });
}

}  // namespace
}  // namespace cortado

int main(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--float64") {
      cortado::use_float64 = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  if (args.empty() || args.size() > 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR [FASHION_MNIST_DIR] [--float64]\n", argv[0]);
    return 2;
  }
  const std::string data_dir =
      args.size() == 2 ? args[1] : std::string(cortado::frontend::data::kFashionMnistDir);
  absl::Status st = cortado::Run(args[0], data_dir);
  if (!st.ok()) {
    std::fprintf(stderr, "training_parity: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
