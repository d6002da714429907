#include "frontend/nn/init.h"

#include <cmath>

namespace cortado {
namespace frontend {
namespace nn {
namespace init {
namespace {

[[noreturn]] void Fail(const std::string& message) {
  throw Error(absl::InvalidArgumentError(message));
}

void CheckFloat(const Tensor& t, const char* fn) {
  if (!t.defined()) Fail(absl::StrCat(fn, ": undefined tensor"));
  if (t.dtype() != DType::kFloat32 && t.dtype() != DType::kFloat64) {
    Fail(absl::StrCat(fn, ": needs a float32 or float64 tensor, got ", DTypeName(t.dtype())));
  }
}

// Stores f() (a double) into every element, in order.
template <typename F>
void Fill(Tensor& t, F f) {
  NoGradGuard no_grad;
  const int64_t n = t.numel();
  if (t.dtype() == DType::kFloat32) {
    float* p = t.mutable_data<float>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(f());
  } else {
    double* p = t.mutable_data<double>();
    for (int64_t i = 0; i < n; ++i) p[i] = f();
  }
}

// Uniform [0, 1) with 53 random bits.
double Canonical(std::mt19937_64& gen) { return static_cast<double>(gen() >> 11) * 0x1.0p-53; }

double Fan(const Tensor& t, const std::string& mode, const char* fn) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  if (mode == "fan_in") return static_cast<double>(fan_in);
  if (mode == "fan_out") return static_cast<double>(fan_out);
  Fail(absl::StrCat(fn, ": mode must be \"fan_in\" or \"fan_out\", got \"", mode, "\""));
}

}  // namespace

double calculate_gain(const std::string& nonlinearity, std::optional<double> param) {
  if (nonlinearity == "linear" || nonlinearity == "conv1d" || nonlinearity == "conv2d" ||
      nonlinearity == "conv3d" || nonlinearity == "conv_transpose1d" ||
      nonlinearity == "conv_transpose2d" || nonlinearity == "conv_transpose3d" ||
      nonlinearity == "sigmoid") {
    return 1.0;
  }
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    const double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (nonlinearity == "selu") return 3.0 / 4.0;
  Fail(absl::StrCat("calculate_gain: unsupported nonlinearity \"", nonlinearity, "\""));
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  if (!t.defined() || t.dim() < 2) {
    Fail("calculate_fan_in_and_fan_out: needs a tensor with at least 2 dimensions");
  }
  int64_t receptive = 1;
  for (int d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor uniform_(Tensor t, double a, double b) {
  CheckFloat(t, "uniform_");
  if (!(a <= b)) Fail(absl::StrCat("uniform_: needs a <= b, got [", a, ", ", b, ")"));
  std::mt19937_64& gen = GlobalGenerator();
  Fill(t, [&] { return a + (b - a) * Canonical(gen); });
  return t;
}

Tensor normal_(Tensor t, double mean, double std) {
  CheckFloat(t, "normal_");
  if (!(std >= 0)) Fail(absl::StrCat("normal_: needs std >= 0, got ", std));
  std::mt19937_64& gen = GlobalGenerator();
  // Box-Muller, using both values of each pair.
  bool have_spare = false;
  double spare = 0;
  Fill(t, [&] {
    if (have_spare) {
      have_spare = false;
      return mean + std * spare;
    }
    const double u1 = 1.0 - Canonical(gen);  // (0, 1]
    const double u2 = Canonical(gen);
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * M_PI * u2;
    spare = r * std::sin(theta);
    have_spare = true;
    return mean + std * r * std::cos(theta);
  });
  return t;
}

Tensor constant_(Tensor t, double value) {
  CheckFloat(t, "constant_");
  Fill(t, [value] { return value; });
  return t;
}

Tensor zeros_(Tensor t) { return constant_(std::move(t), 0.0); }
Tensor ones_(Tensor t) { return constant_(std::move(t), 1.0); }

Tensor kaiming_uniform_(Tensor t, double a, const std::string& mode,
                        const std::string& nonlinearity) {
  CheckFloat(t, "kaiming_uniform_");
  const double fan = Fan(t, mode, "kaiming_uniform_");
  if (fan == 0) return t;  // PyTorch warns and leaves a zero-element tensor alone.
  const double bound = calculate_gain(nonlinearity, a) * std::sqrt(3.0 / fan);
  return uniform_(std::move(t), -bound, bound);
}

Tensor kaiming_normal_(Tensor t, double a, const std::string& mode,
                       const std::string& nonlinearity) {
  CheckFloat(t, "kaiming_normal_");
  const double fan = Fan(t, mode, "kaiming_normal_");
  if (fan == 0) return t;
  return normal_(std::move(t), 0.0, calculate_gain(nonlinearity, a) / std::sqrt(fan));
}

Tensor xavier_uniform_(Tensor t, double gain) {
  CheckFloat(t, "xavier_uniform_");
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  if (fan_in + fan_out == 0) return t;
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return uniform_(std::move(t), -bound, bound);
}

Tensor xavier_normal_(Tensor t, double gain) {
  CheckFloat(t, "xavier_normal_");
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  if (fan_in + fan_out == 0) return t;
  return normal_(std::move(t), 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)));
}

}  // namespace init
}  // namespace nn
}  // namespace frontend
}  // namespace cortado
