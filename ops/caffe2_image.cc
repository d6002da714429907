// Caffe2go's stylizer image packing (caffe2/operators/stylizer_ops.cc), in kCaffe2Domain:
// - PackedInt8BGRANHWCToNCHWCStylizerPreprocess(X uint8 [N, H, W, 4] BGRA, mean float [3],
//   noise float [K] optional) -> float [N, 3, H, W]: Y[n, c, p] = X[n, p, c] - mean[c] +
//   noise[i mod K], where i counts (pixel, channel) pairs in pixel-major order from 0 in each
//   image and alpha is dropped. Caffe2 draws the noise once per workspace (Gaussian, std
//   `noise_std`, `noise_size` values); here it is an input, so the kernel is deterministic and the
//   importer supplies the draw.
// - BRGNCHWCToPackedInt8BGRAStylizerDeprocess(X float [N, 3, H, W], mean float [3]) -> uint8
//   [N, H, W, 4]: Y[n, p, c] = clamp(X[n, c, p] + mean[c]) truncated toward zero to 0..255 (NaN
//   gives 0), alpha 255.
#include <algorithm>
#include <cmath>

#include "ops/registry.h"

namespace cortado {
namespace {

absl::Status Invalid(absl::string_view op, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", message));
}

absl::StatusOr<const float*> Mean(const Tensor& mean, absl::string_view op) {
  if (mean.dtype() != DType::kFloat32 || mean.num_elements() != 3) {
    return Invalid(op, absl::StrCat("mean must be 3 floats, got ", DTypeName(mean.dtype()), " ",
                                    ShapeToString(mean.shape())));
  }
  return mean.data<float>();
}

constexpr char kPreprocess[] = "PackedInt8BGRANHWCToNCHWCStylizerPreprocess";
constexpr char kDeprocess[] = "BRGNCHWCToPackedInt8BGRAStylizerDeprocess";

absl::Status InferPreprocess(InferenceContext& ctx) {
  TensorType out{DType::kFloat32, std::nullopt};
  const auto& x = ctx.input(0).shape;
  if (x && x->size() == 4) out.shape = Shape{(*x)[0], 3, (*x)[1], (*x)[2]};
  ctx.set_output(0, out);
  return absl::OkStatus();
}

absl::Status InferDeprocess(InferenceContext& ctx) {
  TensorType out{DType::kUInt8, std::nullopt};
  const auto& x = ctx.input(0).shape;
  if (x && x->size() == 4) out.shape = Shape{(*x)[0], (*x)[2], (*x)[3], 4};
  ctx.set_output(0, out);
  return absl::OkStatus();
}

class PreprocessKernel : public Kernel {
 public:
  explicit PreprocessKernel(const KernelInfo&) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* mean_t, ctx.RequiredInput(1));
    const Tensor* noise_t = ctx.input(2);
    if (x->dtype() != DType::kUInt8 || x->rank() != 4 || x->dim(3) != 4) {
      return Invalid(kPreprocess,
                     absl::StrCat("X must be uint8 [N, H, W, 4] (BGRA), got ",
                                  DTypeName(x->dtype()), " ", ShapeToString(x->shape())));
    }
    ASSIGN_OR_RETURN(const float* mean, Mean(*mean_t, kPreprocess));
    const float* noise = nullptr;
    int64_t cycle = 0;
    if (noise_t != nullptr) {
      if (noise_t->dtype() != DType::kFloat32 || noise_t->num_elements() == 0) {
        return Invalid(kPreprocess, "noise must be a non-empty float tensor");
      }
      noise = noise_t->data<float>();
      cycle = noise_t->num_elements();
    }
    const int64_t n = x->dim(0), plane = x->dim(1) * x->dim(2);
    ASSIGN_OR_RETURN(Tensor * y,
                     ctx.AllocateOutput(0, DType::kFloat32, {n, 3, x->dim(1), x->dim(2)}));
    const uint8_t* in = x->data<uint8_t>();
    float* out = y->data<float>();
    for (int64_t b = 0; b < n; ++b) {
      const uint8_t* img = in + b * plane * 4;
      float* dst = out + b * plane * 3;
      int64_t k = 0;
      for (int64_t p = 0; p < plane; ++p) {
        for (int c = 0; c < 3; ++c) {
          float v = static_cast<float>(img[p * 4 + c]) - mean[c];
          if (noise != nullptr) {
            v += noise[k];
            if (++k == cycle) k = 0;
          }
          dst[c * plane + p] = v;
        }
      }
    }
    return absl::OkStatus();
  }
};

class DeprocessKernel : public Kernel {
 public:
  explicit DeprocessKernel(const KernelInfo&) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* mean_t, ctx.RequiredInput(1));
    if (x->dtype() != DType::kFloat32 || x->rank() != 4 || x->dim(1) != 3) {
      return Invalid(kDeprocess,
                     absl::StrCat("X must be float [N, 3, H, W] (BGR), got ", DTypeName(x->dtype()),
                                  " ", ShapeToString(x->shape())));
    }
    ASSIGN_OR_RETURN(const float* mean, Mean(*mean_t, kDeprocess));
    const int64_t n = x->dim(0), plane = x->dim(2) * x->dim(3);
    ASSIGN_OR_RETURN(Tensor * y,
                     ctx.AllocateOutput(0, DType::kUInt8, {n, x->dim(2), x->dim(3), 4}));
    const float* in = x->data<float>();
    uint8_t* out = y->data<uint8_t>();
    for (int64_t b = 0; b < n; ++b) {
      const float* src = in + b * plane * 3;
      uint8_t* img = out + b * plane * 4;
      for (int64_t p = 0; p < plane; ++p) {
        for (int c = 0; c < 3; ++c) {
          const float v = src[c * plane + p] + mean[c];
          img[p * 4 + c] = v >= 255.0f ? 255 : v > 0.0f ? static_cast<uint8_t>(v) : 0;
        }
        img[p * 4 + 3] = 255;
      }
    }
    return absl::OkStatus();
  }
};

}  // namespace

CORTADO_REGISTER_OP(
    OpSchema(kPreprocess, kCaffe2Domain).Versions(1).Inputs(2, 3).Infer(InferPreprocess));
CORTADO_REGISTER_DOMAIN_KERNEL(kPreprocess, kCaffe2Domain, kCpuBackend, 1, kMaxOpset,
                               {DType::kUInt8}, MakeFactory<PreprocessKernel>());
CORTADO_REGISTER_OP(
    OpSchema(kDeprocess, kCaffe2Domain).Versions(1).Inputs(2, 2).Infer(InferDeprocess));
CORTADO_REGISTER_DOMAIN_KERNEL(kDeprocess, kCaffe2Domain, kCpuBackend, 1, kMaxOpset,
                               {DType::kFloat32}, MakeFactory<DeprocessKernel>());

}  // namespace cortado
