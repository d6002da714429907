// The models of the Fashion-MNIST example and the training benchmark: a small CNN and a 3-layer
// MLP, both taking [N, 1, 28, 28] float images and giving [N, 10] logits. Each call builds a
// new model, initialised from the frontend's global generator (seed it with manual_seed).
#ifndef CORTADO_EXAMPLES_FASHION_MODELS_H_
#define CORTADO_EXAMPLES_FASHION_MODELS_H_

#include <memory>

#include "frontend/nn/nn.h"

namespace cortado {
namespace examples {

// conv(1->32, 3x3, pad 1)-BN-ReLU-maxpool 2 -> conv(32->64)-BN-ReLU-maxpool 2 -> flatten ->
// linear(3136->128)-ReLU-dropout(0.25) -> linear(128->10).
std::shared_ptr<frontend::nn::Sequential> FashionCnn();
// flatten -> linear(784->256)-ReLU -> linear(256->128)-ReLU -> linear(128->10).
std::shared_ptr<frontend::nn::Sequential> FashionMlp();

}  // namespace examples
}  // namespace cortado

#endif  // CORTADO_EXAMPLES_FASHION_MODELS_H_
