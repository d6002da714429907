// The eager frontend's differentiable operations (torch::nn::functional's counterparts). Each
// runs operators of the shared library through Call (so trace() records them) and attaches a
// gradient formula with AttachGrad. Composite operations (gelu, mse_loss, ...) are written in
// terms of other operations here, so their gradients and traces follow. Throw cortado::Error on
// bad input. Thread-compatible, like Tensor.
#ifndef CORTADO_FRONTEND_OPS_H_
#define CORTADO_FRONTEND_OPS_H_

#include <string>
#include <vector>

#include "frontend/tensor.h"

namespace cortado {
namespace frontend {

// --- elementwise (numpy broadcasting) ---
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
Tensor erf(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact (erf) form
Tensor maximum(const Tensor& a, const Tensor& b);
// Not differentiable: comparisons give bool tensors.
Tensor gt(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);

// --- linear algebra ---
Tensor matmul(const Tensor& a, const Tensor& b);
// x @ weight^T + bias, weight [out, in]; bias may be undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

// --- reductions (an empty `dims` reduces everything) ---
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);  // int64, no grad

// --- shape and indexing ---
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor unsqueeze(const Tensor& x, int64_t dim);
// Elements start, start+step, ... below end (clamped like Python slices; step > 0).
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
// Index `index` of `dim` (negative counts from the end), dropping the dimension.
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);
Tensor to(const Tensor& x, DType dtype);
Tensor clone(const Tensor& x);

// --- neural network layers (NCHW) ---
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              std::vector<int64_t> stride = {1, 1}, std::vector<int64_t> padding = {0, 0},
              std::vector<int64_t> dilation = {1, 1}, int64_t groups = 1);
Tensor max_pool2d(const Tensor& x, std::vector<int64_t> kernel, std::vector<int64_t> stride = {},
                  std::vector<int64_t> padding = {0, 0});
Tensor avg_pool2d(const Tensor& x, std::vector<int64_t> kernel, std::vector<int64_t> stride = {},
                  std::vector<int64_t> padding = {0, 0}, bool count_include_pad = true);
// Output size must divide the input size (or be 1x1).
Tensor adaptive_avg_pool2d(const Tensor& x, std::vector<int64_t> output_size);
// In training mode normalizes with batch statistics and updates running_mean/running_var in place
// (running = (1 - momentum) * running + momentum * batch, unbiased variance, as PyTorch); in eval
// mode uses the running statistics. weight/bias may be undefined (then 1 and 0).
Tensor batch_norm(const Tensor& x, Tensor& running_mean, Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum = 0.1,
                  double eps = 1e-5);
// Normalizes over the last normalized_shape.size() dimensions.
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps = 1e-5);
Tensor embedding(const Tensor& indices, const Tensor& weight);
// Zeroes elements with probability p and scales the rest by 1/(1-p) when training; identity
// otherwise (and never recorded by the tracer then).
Tensor dropout(const Tensor& x, double p, bool training);
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// --- losses; reduction is "mean", "sum" or "none" ---
// logits [N, C] (or [N, C, d...]), target int64 class indices [N] (or [N, d...]).
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     const std::string& reduction = "mean");
Tensor nll_loss(const Tensor& log_probs, const Tensor& target,
                const std::string& reduction = "mean");
Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean");
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const std::string& reduction = "mean");

}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_OPS_H_
