#include "frontend/nn/layers.h"

#include <cmath>
#include <cstring>

#include "frontend/nn/init.h"
#include "frontend/nn/option_checks.h"
#include "frontend/ops.h"

namespace cortado {
namespace frontend {
namespace nn {
namespace {

using internal::CheckPositive;
using internal::Fail;
using internal::Pair;
using internal::Tuple;

// PyTorch's Linear/Conv initialisation: kaiming_uniform_(a = sqrt(5)) on the weight, bias
// uniform within 1/sqrt(fan_in).
void ResetLinearLike(Tensor& weight, Tensor& bias) {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).first;
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    init::uniform_(bias, -bound, bound);
  }
}

}  // namespace

// --- Linear ---

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : in_features(in_features), out_features(out_features) {
  if (in_features < 0 || out_features < 0) {
    Fail(absl::StrCat("Linear: negative size (", in_features, ", ", out_features, ")"));
  }
  weight = register_parameter("weight", Tensor::zeros({out_features, in_features}));
  if (bias) this->bias = register_parameter("bias", Tensor::zeros({out_features}));
  reset_parameters();
}

void Linear::reset_parameters() { ResetLinearLike(weight, bias); }

Tensor Linear::forward(const Tensor& x) {
  if (x.dim() < 1 || x.size(-1) != in_features) {
    Fail(absl::StrCat("Linear: input ", ShapeToString(x.shape()),
                      " does not end in in_features=", in_features));
  }
  return linear(x, weight, bias);
}

std::string Linear::extra_repr() const {
  return absl::StrCat("in_features=", in_features, ", out_features=", out_features,
                      ", bias=", bias.defined() ? "True" : "False");
}

// --- Conv2d ---

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride,
               int64_t padding, int64_t dilation, int64_t groups, bool bias)
    : Conv2d(in_channels, out_channels, std::vector<int64_t>{kernel_size},
             std::vector<int64_t>{stride}, std::vector<int64_t>{padding},
             std::vector<int64_t>{dilation}, groups, bias) {}

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, std::vector<int64_t> kernel_size,
               std::vector<int64_t> stride, std::vector<int64_t> padding,
               std::vector<int64_t> dilation, int64_t groups, bool bias)
    : in_channels(in_channels),
      out_channels(out_channels),
      kernel_size(Pair("Conv2d", "kernel_size", std::move(kernel_size), 1)),
      stride(Pair("Conv2d", "stride", std::move(stride), 1)),
      padding(Pair("Conv2d", "padding", std::move(padding), 0)),
      dilation(Pair("Conv2d", "dilation", std::move(dilation), 1)),
      groups(groups) {
  CheckPositive("Conv2d", "in_channels", in_channels);
  CheckPositive("Conv2d", "out_channels", out_channels);
  CheckPositive("Conv2d", "groups", groups);
  if (in_channels % groups != 0 || out_channels % groups != 0) {
    Fail(absl::StrCat("Conv2d: in_channels (", in_channels, ") and out_channels (", out_channels,
                      ") must be divisible by groups (", groups, ")"));
  }
  weight =
      register_parameter("weight", Tensor::zeros({out_channels, in_channels / groups,
                                                  this->kernel_size[0], this->kernel_size[1]}));
  if (bias) this->bias = register_parameter("bias", Tensor::zeros({out_channels}));
  reset_parameters();
}

void Conv2d::reset_parameters() { ResetLinearLike(weight, bias); }

Tensor Conv2d::forward(const Tensor& x) {
  if (x.dim() != 4 || x.size(1) != in_channels) {
    Fail(absl::StrCat("Conv2d: expected NCHW input with ", in_channels, " channels, got ",
                      ShapeToString(x.shape())));
  }
  return conv2d(x, weight, bias, stride, padding, dilation, groups);
}

std::string Conv2d::extra_repr() const {
  std::string s = absl::StrCat(in_channels, ", ", out_channels,
                               ", kernel_size=", Tuple(kernel_size), ", stride=", Tuple(stride));
  if (padding != std::vector<int64_t>{0, 0}) absl::StrAppend(&s, ", padding=", Tuple(padding));
  if (dilation != std::vector<int64_t>{1, 1}) absl::StrAppend(&s, ", dilation=", Tuple(dilation));
  if (groups != 1) absl::StrAppend(&s, ", groups=", groups);
  if (!bias.defined()) absl::StrAppend(&s, ", bias=False");
  return s;
}

// --- BatchNorm2d ---

BatchNorm2d::BatchNorm2d(int64_t num_features, double eps, double momentum, bool affine)
    : num_features(num_features), eps(eps), momentum(momentum), affine(affine) {
  CheckPositive("BatchNorm2d", "num_features", num_features);
  if (!(eps > 0)) Fail(absl::StrCat("BatchNorm2d: eps must be positive, got ", eps));
  if (!(momentum >= 0 && momentum <= 1)) {
    Fail(absl::StrCat("BatchNorm2d: momentum must be in [0, 1], got ", momentum));
  }
  if (affine) {
    weight = register_parameter("weight", Tensor::ones({num_features}));
    bias = register_parameter("bias", Tensor::zeros({num_features}));
  }
  running_mean = register_buffer("running_mean", Tensor::zeros({num_features}));
  running_var = register_buffer("running_var", Tensor::ones({num_features}));
  num_batches_tracked = register_buffer("num_batches_tracked", Tensor::zeros({}, DType::kInt64));
}

void BatchNorm2d::reset_running_stats() {
  init::zeros_(running_mean);
  init::ones_(running_var);
  num_batches_tracked.mutable_data<int64_t>()[0] = 0;
}

void BatchNorm2d::reset_parameters() {
  reset_running_stats();
  if (affine) {
    init::ones_(weight);
    init::zeros_(bias);
  }
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  if (x.dim() != 4 || x.size(1) != num_features) {
    Fail(absl::StrCat("BatchNorm2d: expected NCHW input with ", num_features, " channels, got ",
                      ShapeToString(x.shape())));
  }
  const bool training = is_training();
  // frontend::batch_norm updates the statistics in place; should it ever rebind the handles
  // instead, copy the new values into the registered storage so that identity holds.
  Tensor mean = running_mean, var = running_var;
  Tensor y = batch_norm(x, mean, var, weight, bias, training, momentum, eps);
  for (auto [fresh, kept] : {std::pair<Tensor*, Tensor*>{&mean, &running_mean},
                             std::pair<Tensor*, Tensor*>{&var, &running_var}}) {
    if (fresh->impl() != kept->impl()) {
      std::memcpy(kept->mutable_value().raw_data(), fresh->value().raw_data(),
                  kept->value().nbytes());
    }
  }
  if (training) ++num_batches_tracked.mutable_data<int64_t>()[0];
  return y;
}

std::string BatchNorm2d::extra_repr() const {
  return absl::StrCat(num_features, ", eps=", eps, ", momentum=", momentum,
                      ", affine=", affine ? "True" : "False", ", track_running_stats=True");
}

// --- LayerNorm ---

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine)
    : normalized_shape(std::move(normalized_shape)),
      eps(eps),
      elementwise_affine(elementwise_affine) {
  if (this->normalized_shape.empty()) Fail("LayerNorm: normalized_shape is empty");
  for (int64_t d : this->normalized_shape) CheckPositive("LayerNorm", "normalized_shape", d);
  if (!(eps > 0)) Fail(absl::StrCat("LayerNorm: eps must be positive, got ", eps));
  if (elementwise_affine) {
    weight = register_parameter("weight", Tensor::ones(this->normalized_shape));
    bias = register_parameter("bias", Tensor::zeros(this->normalized_shape));
  }
}

void LayerNorm::reset_parameters() {
  if (elementwise_affine) {
    init::ones_(weight);
    init::zeros_(bias);
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  const int k = static_cast<int>(normalized_shape.size());
  bool ok = x.dim() >= k;
  for (int i = 0; ok && i < k; ++i) ok = x.size(x.dim() - k + i) == normalized_shape[i];
  if (!ok) {
    Fail(absl::StrCat("LayerNorm: input ", ShapeToString(x.shape()), " does not end in ",
                      ShapeToString(normalized_shape)));
  }
  return layer_norm(x, normalized_shape, weight, bias, eps);
}

std::string LayerNorm::extra_repr() const {
  return absl::StrCat(Tuple(normalized_shape), ", eps=", eps,
                      ", elementwise_affine=", elementwise_affine ? "True" : "False");
}

// --- Embedding ---

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim)
    : num_embeddings(num_embeddings), embedding_dim(embedding_dim) {
  CheckPositive("Embedding", "num_embeddings", num_embeddings);
  CheckPositive("Embedding", "embedding_dim", embedding_dim);
  weight = register_parameter("weight", Tensor::zeros({num_embeddings, embedding_dim}));
  reset_parameters();
}

void Embedding::reset_parameters() { init::normal_(weight, 0.0, 1.0); }

Tensor Embedding::forward(const Tensor& indices) {
  if (indices.dtype() != DType::kInt64 && indices.dtype() != DType::kInt32) {
    Fail(absl::StrCat("Embedding: indices must be int64 (or int32), got ",
                      DTypeName(indices.dtype())));
  }
  return embedding(indices, weight);
}

std::string Embedding::extra_repr() const {
  return absl::StrCat(num_embeddings, ", ", embedding_dim);
}

}  // namespace nn
}  // namespace frontend
}  // namespace cortado
