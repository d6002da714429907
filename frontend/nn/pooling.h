// 2-D pooling modules over NCHW input: MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (torch.nn's
// options; the stride defaults to the kernel size). Each forward calls the functional op of
// frontend/ops.h. Constructors throw cortado::Error on bad options. Not synchronized.
#ifndef CORTADO_FRONTEND_NN_POOLING_H_
#define CORTADO_FRONTEND_NN_POOLING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "frontend/nn/module.h"

namespace cortado {
namespace frontend {
namespace nn {

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int64_t kernel_size, std::optional<int64_t> stride = std::nullopt,
                     int64_t padding = 0);
  // {kH, kW}; an empty stride means the kernel size.
  explicit MaxPool2d(std::vector<int64_t> kernel_size, std::vector<int64_t> stride = {},
                     std::vector<int64_t> padding = {0, 0});
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "MaxPool2d"; }
  std::string extra_repr() const override;
  const std::vector<int64_t> kernel_size, stride, padding;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel_size, std::optional<int64_t> stride = std::nullopt,
                     int64_t padding = 0, bool count_include_pad = true);
  explicit AvgPool2d(std::vector<int64_t> kernel_size, std::vector<int64_t> stride = {},
                     std::vector<int64_t> padding = {0, 0}, bool count_include_pad = true);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "AvgPool2d"; }
  std::string extra_repr() const override;
  const std::vector<int64_t> kernel_size, stride, padding;
  const bool count_include_pad;
};

// Average pooling to a fixed output size {oH, oW}; the output size must divide the input size
// (or be 1x1), as frontend::adaptive_avg_pool2d requires.
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(int64_t output_size);
  explicit AdaptiveAvgPool2d(std::vector<int64_t> output_size);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "AdaptiveAvgPool2d"; }
  std::string extra_repr() const override;
  const std::vector<int64_t> output_size;
};

}  // namespace nn
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_NN_POOLING_H_
