#include "frontend/data/fashion_mnist.h"

#include "absl/strings/str_cat.h"
#include "frontend/data/idx.h"

namespace cortado {
namespace frontend {
namespace data {
namespace {

constexpr int64_t kSide = 28;
constexpr int64_t kPixels = kSide * kSide;

}  // namespace

absl::StatusOr<FashionMnist> FashionMnist::FromIdx(const Tensor& images, const Tensor& labels) {
  if (!images.defined() || images.dtype() != DType::kUInt8 || images.dim() != 3 ||
      images.size(1) != kSide || images.size(2) != kSide) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Fashion-MNIST: images must be uint8 [N, 28, 28], got ",
        images.defined()
            ? absl::StrCat(DTypeName(images.dtype()), " ", ShapeToString(images.shape()))
            : "undefined"));
  }
  if (!labels.defined() || labels.dtype() != DType::kUInt8 || labels.dim() != 1 ||
      labels.size(0) != images.size(0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Fashion-MNIST: labels must be uint8 [", images.size(0), "] to match the images, got ",
        labels.defined()
            ? absl::StrCat(DTypeName(labels.dtype()), " ", ShapeToString(labels.shape()))
            : "undefined"));
  }
  FashionMnist ds;
  ds.size_ = static_cast<size_t>(images.size(0));
  ds.images_ = images.value();
  ds.labels_ = cortado::Tensor::Create(DType::kInt64, {images.size(0)}).value();
  const uint8_t* in = labels.data<uint8_t>();
  int64_t* out = ds.labels_.data<int64_t>();
  for (size_t i = 0; i < ds.size_; ++i) {
    if (in[i] >= kFashionMnistClasses) {
      return absl::InvalidArgumentError(
          absl::StrCat("Fashion-MNIST: label ", int{in[i]}, " of example ", i, " is not 0..9"));
    }
    out[i] = in[i];
  }
  // As torchvision: ToTensor divides by 255 in float32, Normalize subtracts and divides in
  // float32.
  const float mean = static_cast<float>(kFashionMnistMean);
  const float std = static_cast<float>(kFashionMnistStd);
  for (int v = 0; v < 256; ++v) ds.lut_[v] = (static_cast<float>(v) / 255.0f - mean) / std;
  return ds;
}

void FashionMnist::Normalize(size_t index, float* out) const {
  const uint8_t* px = images_.data<uint8_t>() + index * kPixels;
  for (int64_t i = 0; i < kPixels; ++i) out[i] = lut_[px[i]];
}

Example FashionMnist::get(size_t index) const {
  internal::CheckIndex(index, size_, "FashionMnist");
  cortado::Tensor image = ValueOrThrow(cortado::Tensor::Create(DType::kFloat32, {1, kSide, kSide}));
  Normalize(index, image.data<float>());
  Example e;
  e.data = Tensor(std::move(image));
  e.target = Tensor(cortado::Tensor::Scalar<int64_t>(labels_.data<int64_t>()[index]));
  return e;
}

Example FashionMnist::get_batch(const std::vector<size_t>& indices) const {
  const auto b = static_cast<int64_t>(indices.size());
  cortado::Tensor images =
      ValueOrThrow(cortado::Tensor::Create(DType::kFloat32, {b, 1, kSide, kSide}));
  cortado::Tensor targets = ValueOrThrow(cortado::Tensor::Create(DType::kInt64, {b}));
  float* img = images.data<float>();
  int64_t* tgt = targets.data<int64_t>();
  const int64_t* labels = labels_.data<int64_t>();
  for (int64_t i = 0; i < b; ++i) {
    internal::CheckIndex(indices[i], size_, "FashionMnist");
    Normalize(indices[i], img + i * kPixels);
    tgt[i] = labels[indices[i]];
  }
  Example batch;
  batch.data = Tensor(std::move(images));
  batch.target = Tensor(std::move(targets));
  return batch;
}

absl::StatusOr<FashionMnist> LoadFashionMnist(const std::string& dir, bool train) {
  const std::string prefix = absl::StrCat(dir, "/", train ? "train" : "t10k");
  absl::StatusOr<Tensor> images = ReadIdx(prefix + "-images-idx3-ubyte.gz");
  if (!images.ok()) return images.status();
  absl::StatusOr<Tensor> labels = ReadIdx(prefix + "-labels-idx1-ubyte.gz");
  if (!labels.ok()) return labels.status();
  absl::StatusOr<FashionMnist> ds = FashionMnist::FromIdx(*images, *labels);
  if (!ds.ok()) {
    return absl::Status(ds.status().code(), absl::StrCat(prefix, "-*: ", ds.status().message()));
  }
  return ds;
}

}  // namespace data
}  // namespace frontend
}  // namespace cortado
