// Writes what torch_compare.py checks against PyTorch, into the directory argv[1]:
//   {cnn,text}_init.state        the models' freshly initialised state (Module::save)
//   x.npy y.npy tokens.npy ty.npy  inputs and int64 class targets
//   then for mode in (train, eval), one cross-entropy step each (gradients zeroed between):
//   {cnn,text}_{mode}_out.npy, {cnn,text}_{mode}_loss.npy, {cnn,text}_{mode}_grads.state
//   {cnn,text}_after_train.state  the state after the training-mode step (BatchNorm statistics)
// The text model's Dropout stays in eval mode (its mask is random), as the Python side does.
#include <cstdio>
#include <memory>
#include <string>

#include "core/npy.h"
#include "frontend/nn/nn.h"
#include "frontend/ops.h"

namespace cortado {
namespace frontend {
namespace nn {
namespace {

class TextNet : public Module {
 public:
  TextNet() {
    emb = register_module("emb", std::make_shared<Embedding>(20, 16));
    ln = register_module("ln", std::make_shared<LayerNorm>(Shape{16}));
    act = register_module("act", std::make_shared<GELU>());
    drop = register_module("drop", std::make_shared<Dropout>(0.2));
    fc = register_module("fc", std::make_shared<Linear>(16, 5));
  }
  // tokens int64 [B, T] -> logits [B, 5] (mean over T).
  Tensor forward(const Tensor& tokens) override {
    Tensor h = (*drop)((*act)((*ln)((*emb)(tokens))));
    return (*fc)(mean(h, {1}));
  }
  std::string name() const override { return "TextNet"; }

  std::shared_ptr<Embedding> emb;
  std::shared_ptr<LayerNorm> ln;
  std::shared_ptr<GELU> act;
  std::shared_ptr<Dropout> drop;
  std::shared_ptr<Linear> fc;
};

std::shared_ptr<Sequential> MakeCnn() {
  return std::make_shared<Sequential>(
      std::make_shared<Conv2d>(3, 8, 3, 1, 1), std::make_shared<BatchNorm2d>(8),
      std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2),
      std::make_shared<Conv2d>(8, 16, 3, 1, 1), std::make_shared<ReLU>(),
      std::make_shared<AdaptiveAvgPool2d>(1), std::make_shared<Flatten>(),
      std::make_shared<Linear>(16, 10));
}

Tensor RandomInts(int64_t high, const Shape& shape) {
  std::vector<int64_t> v(NumElements(shape));
  for (int64_t& x : v) x = static_cast<int64_t>(GlobalGenerator()() % high);
  return Tensor::from_vector(v, shape);
}

void Check(const absl::Status& st) { ThrowIfError(st); }

void Step(Module& model, const Tensor& input, const Tensor& target, const std::string& prefix) {
  model.zero_grad();
  Tensor out = model(input);
  Tensor loss = cross_entropy(out, target);
  loss.backward();
  Check(WriteNpyFile(prefix + "_out.npy", out.value()));
  Check(WriteNpyFile(prefix + "_loss.npy", loss.value()));
  NamedValues grads;
  for (const auto& [name, p] : model.named_parameters()) {
    if (!p.grad().defined()) {
      throw Error(absl::InternalError(absl::StrCat(prefix, ": no gradient for ", name)));
    }
    grads.emplace_back(name, p.grad().value());
  }
  Check(SaveTensors(prefix + "_grads.state", grads));
}

absl::Status Run(const std::string& dir) {
  return CatchError([&] {
    manual_seed(2024);
    auto cnn = MakeCnn();
    auto text = std::make_shared<TextNet>();
    Check(cnn->save(dir + "/cnn_init.state"));
    Check(text->save(dir + "/text_init.state"));
    Tensor x = Tensor::randn({4, 3, 12, 12});
    Tensor y = RandomInts(10, {4});
    Tensor tokens = RandomInts(20, {4, 6});
    Tensor ty = RandomInts(5, {4});
    Check(WriteNpyFile(dir + "/x.npy", x.value()));
    Check(WriteNpyFile(dir + "/y.npy", y.value()));
    Check(WriteNpyFile(dir + "/tokens.npy", tokens.value()));
    Check(WriteNpyFile(dir + "/ty.npy", ty.value()));
    for (const std::string mode : {"train", "eval"}) {
      cnn->train(mode == "train");
      text->train(mode == "train");
      text->drop->eval();
      Step(*cnn, x, y, dir + "/cnn_" + mode);
      Step(*text, tokens, ty, dir + "/text_" + mode);
      if (mode == "train") {
        Check(cnn->save(dir + "/cnn_after_train.state"));
        Check(text->save(dir + "/text_after_train.state"));
      }
    }
  });
}

}  // namespace
}  // namespace nn
}  // namespace frontend
}  // namespace cortado

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  absl::Status st = cortado::frontend::nn::Run(argv[1]);
  if (!st.ok()) {
    std::fprintf(stderr, "torch_compare: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
