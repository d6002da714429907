// Parameter initialisation (torch.nn.init's counterparts). Each function fills a float32 or
// float64 tensor in place (through mutable_data, under NoGradGuard, so autograd never sees it) and
// returns the same handle. Random draws come from frontend::GlobalGenerator() (seed it with
// manual_seed); the distributions are PyTorch's, the streams are not (PyTorch's generator differs).
// Other dtypes, and fan computations on tensors of rank < 2, throw cortado::Error.
// Not synchronized: the global generator is shared, so initialise from one thread at a time.
#ifndef CORTADO_FRONTEND_NN_INIT_H_
#define CORTADO_FRONTEND_NN_INIT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "frontend/tensor.h"

namespace cortado {
namespace frontend {
namespace nn {
namespace init {

// torch.nn.init.calculate_gain: "linear", "conv1d", "conv2d", "conv3d", "sigmoid" -> 1,
// "tanh" -> 5/3, "relu" -> sqrt(2), "leaky_relu" -> sqrt(2 / (1 + param^2)) (param = negative
// slope, 0.01 when absent), "selu" -> 3/4.
double calculate_gain(const std::string& nonlinearity, std::optional<double> param = std::nullopt);
// (fan_in, fan_out) of a weight of rank >= 2: fan_in = size(1) * receptive field,
// fan_out = size(0) * receptive field, receptive field = product of the dimensions after the
// first two.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

// Uniform on [a, b).
Tensor uniform_(Tensor t, double a = 0, double b = 1);
// Normal with `mean` and standard deviation `std`.
Tensor normal_(Tensor t, double mean = 0, double std = 1);
Tensor constant_(Tensor t, double value);
Tensor zeros_(Tensor t);
Tensor ones_(Tensor t);
// He initialisation. mode "fan_in" or "fan_out"; gain = calculate_gain(nonlinearity, a);
// bound = gain * sqrt(3 / fan). With a = sqrt(5) (what Linear and Conv2d use) the bound is
// 1 / sqrt(fan_in).
Tensor kaiming_uniform_(Tensor t, double a = 0, const std::string& mode = "fan_in",
                        const std::string& nonlinearity = "leaky_relu");
// std = gain / sqrt(fan).
Tensor kaiming_normal_(Tensor t, double a = 0, const std::string& mode = "fan_in",
                       const std::string& nonlinearity = "leaky_relu");
// Glorot initialisation: bound = gain * sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor t, double gain = 1);
// std = gain * sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal_(Tensor t, double gain = 1);

}  // namespace init
}  // namespace nn
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_NN_INIT_H_
