#include "examples/fashion_models.h"

namespace cortado {
namespace examples {

using namespace frontend::nn;  // NOLINT: the layer names read best unqualified here

std::shared_ptr<Sequential> FashionCnn() {
  return std::make_shared<Sequential>(
      std::make_shared<Conv2d>(1, 32, 3, 1, 1), std::make_shared<BatchNorm2d>(32),
      std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2),
      std::make_shared<Conv2d>(32, 64, 3, 1, 1), std::make_shared<BatchNorm2d>(64),
      std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2), std::make_shared<Flatten>(),
      std::make_shared<Linear>(64 * 7 * 7, 128), std::make_shared<ReLU>(),
      std::make_shared<Dropout>(0.25), std::make_shared<Linear>(128, 10));
}

std::shared_ptr<Sequential> FashionMlp() {
  return std::make_shared<Sequential>(
      std::make_shared<Flatten>(), std::make_shared<Linear>(784, 256), std::make_shared<ReLU>(),
      std::make_shared<Linear>(256, 128), std::make_shared<ReLU>(),
      std::make_shared<Linear>(128, 10));
}

}  // namespace examples
}  // namespace cortado
