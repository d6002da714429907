#include "frontend/nn/pooling.h"

#include "frontend/nn/option_checks.h"
#include "frontend/ops.h"

namespace cortado {
namespace frontend {
namespace nn {
namespace {

using internal::Fail;
using internal::Pair;
using internal::Tuple;

std::vector<int64_t> StrideOr(const char* layer, std::vector<int64_t> stride,
                              const std::vector<int64_t>& kernel) {
  return stride.empty() ? kernel : Pair(layer, "stride", std::move(stride), 1);
}

std::vector<int64_t> Padding(const char* layer, std::vector<int64_t> padding,
                             const std::vector<int64_t>& kernel) {
  std::vector<int64_t> p = Pair(layer, "padding", std::move(padding), 0);
  for (int i = 0; i < 2; ++i) {
    if (2 * p[i] > kernel[i]) {
      Fail(absl::StrCat(layer, ": padding should be at most half the kernel size, got ", p[i],
                        " for kernel ", kernel[i]));
    }
  }
  return p;
}

std::vector<int64_t> OptionalStride(std::optional<int64_t> stride) {
  return stride.has_value() ? std::vector<int64_t>{*stride} : std::vector<int64_t>{};
}

void CheckInput(const char* layer, const Tensor& x) {
  if (x.dim() != 4) {
    Fail(absl::StrCat(layer, ": expected NCHW input, got ", ShapeToString(x.shape())));
  }
}

}  // namespace

MaxPool2d::MaxPool2d(int64_t kernel_size, std::optional<int64_t> stride, int64_t padding)
    : MaxPool2d(std::vector<int64_t>{kernel_size}, OptionalStride(stride),
                std::vector<int64_t>{padding}) {}

MaxPool2d::MaxPool2d(std::vector<int64_t> kernel_size, std::vector<int64_t> stride,
                     std::vector<int64_t> padding)
    : kernel_size(Pair("MaxPool2d", "kernel_size", std::move(kernel_size), 1)),
      stride(StrideOr("MaxPool2d", std::move(stride), this->kernel_size)),
      padding(Padding("MaxPool2d", std::move(padding), this->kernel_size)) {}

Tensor MaxPool2d::forward(const Tensor& x) {
  CheckInput("MaxPool2d", x);
  return max_pool2d(x, kernel_size, stride, padding);
}

std::string MaxPool2d::extra_repr() const {
  return absl::StrCat("kernel_size=", Tuple(kernel_size), ", stride=", Tuple(stride),
                      ", padding=", Tuple(padding));
}

AvgPool2d::AvgPool2d(int64_t kernel_size, std::optional<int64_t> stride, int64_t padding,
                     bool count_include_pad)
    : AvgPool2d(std::vector<int64_t>{kernel_size}, OptionalStride(stride),
                std::vector<int64_t>{padding}, count_include_pad) {}

AvgPool2d::AvgPool2d(std::vector<int64_t> kernel_size, std::vector<int64_t> stride,
                     std::vector<int64_t> padding, bool count_include_pad)
    : kernel_size(Pair("AvgPool2d", "kernel_size", std::move(kernel_size), 1)),
      stride(StrideOr("AvgPool2d", std::move(stride), this->kernel_size)),
      padding(Padding("AvgPool2d", std::move(padding), this->kernel_size)),
      count_include_pad(count_include_pad) {}

Tensor AvgPool2d::forward(const Tensor& x) {
  CheckInput("AvgPool2d", x);
  return avg_pool2d(x, kernel_size, stride, padding, count_include_pad);
}

std::string AvgPool2d::extra_repr() const {
  return absl::StrCat("kernel_size=", Tuple(kernel_size), ", stride=", Tuple(stride),
                      ", padding=", Tuple(padding));
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(int64_t output_size)
    : AdaptiveAvgPool2d(std::vector<int64_t>{output_size}) {}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(std::vector<int64_t> output_size)
    : output_size(Pair("AdaptiveAvgPool2d", "output_size", std::move(output_size), 1)) {}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  CheckInput("AdaptiveAvgPool2d", x);
  return adaptive_avg_pool2d(x, output_size);
}

std::string AdaptiveAvgPool2d::extra_repr() const {
  return absl::StrCat("output_size=", Tuple(output_size));
}

}  // namespace nn
}  // namespace frontend
}  // namespace cortado
