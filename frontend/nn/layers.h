// The layers with parameters: Linear, Conv2d, BatchNorm2d, LayerNorm, Embedding (torch.nn's
// counterparts, same options, same parameter names and shapes, same default initialisation drawn
// from frontend::GlobalGenerator()). Each forward calls the functional op of frontend/ops.h.
// Parameters and buffers are public handles registered with the Module base: update them in place,
// never assign new tensors to them (see module.h). Constructors and forward throw cortado::Error on
// bad options or input shapes. Not synchronized, like Module.
#ifndef CORTADO_FRONTEND_NN_LAYERS_H_
#define CORTADO_FRONTEND_NN_LAYERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "frontend/nn/module.h"

namespace cortado {
namespace frontend {
namespace nn {

// y = x @ weight^T + bias. weight [out, in] ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with
// a = sqrt(5)); bias [out] ~ the same bound.
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Linear"; }
  std::string extra_repr() const override;
  // Draws the default initialisation again.
  void reset_parameters();

  const int64_t in_features;
  const int64_t out_features;
  Tensor weight;
  Tensor bias;  // undefined without bias
};

// 2-D convolution over NCHW input. weight [out, in / groups, kH, kW] ~ U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)) with fan_in = in / groups * kH * kW; bias [out] the same.
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride = 1,
         int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1, bool bias = true);
  // {kH, kW}, {sH, sW}, {pH, pW}, {dH, dW}.
  Conv2d(int64_t in_channels, int64_t out_channels, std::vector<int64_t> kernel_size,
         std::vector<int64_t> stride = {1, 1}, std::vector<int64_t> padding = {0, 0},
         std::vector<int64_t> dilation = {1, 1}, int64_t groups = 1, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Conv2d"; }
  std::string extra_repr() const override;
  void reset_parameters();

  const int64_t in_channels;
  const int64_t out_channels;
  const std::vector<int64_t> kernel_size, stride, padding, dilation;
  const int64_t groups;
  Tensor weight;
  Tensor bias;  // undefined without bias
};

// Batch normalisation over NCHW input, per channel. Training mode normalises with the batch
// statistics and updates running_mean/running_var (momentum, unbiased variance) and
// num_batches_tracked; eval mode uses the running statistics. Parameters weight (ones) and bias
// (zeros) when affine; buffers running_mean (zeros), running_var (ones), num_batches_tracked
// (int64 scalar 0), as PyTorch names them.
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "BatchNorm2d"; }
  std::string extra_repr() const override;
  // Running statistics back to zeros / ones, num_batches_tracked to 0.
  void reset_running_stats();
  void reset_parameters();

  const int64_t num_features;
  const double eps;
  const double momentum;
  const bool affine;
  Tensor weight;  // undefined unless affine
  Tensor bias;    // undefined unless affine
  Tensor running_mean;
  Tensor running_var;
  Tensor num_batches_tracked;
};

// Normalises over the last normalized_shape.size() dimensions; weight (ones) and bias (zeros) of
// normalized_shape when elementwise_affine.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "LayerNorm"; }
  std::string extra_repr() const override;
  void reset_parameters();

  const Shape normalized_shape;
  const double eps;
  const bool elementwise_affine;
  Tensor weight;  // undefined unless elementwise_affine
  Tensor bias;    // undefined unless elementwise_affine
};

// A lookup table: int64 indices of any shape -> their rows of weight [num_embeddings,
// embedding_dim] ~ N(0, 1), shape indices.shape + [embedding_dim].
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim);
  Tensor forward(const Tensor& indices) override;
  std::string name() const override { return "Embedding"; }
  std::string extra_repr() const override;
  void reset_parameters();

  const int64_t num_embeddings;
  const int64_t embedding_dim;
  Tensor weight;
};

}  // namespace nn
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_NN_LAYERS_H_
