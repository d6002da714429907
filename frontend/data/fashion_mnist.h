// Fashion-MNIST (Zalando's 28x28 grey clothing images, 10 classes) as a Dataset, read from the
// IDX files of Debian's dataset-fashion-mnist ({train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
// under kFashionMnistDir). Examples: data float32 [1, 28, 28], the pixels scaled to [0, 1] then
// normalized with the training set's mean and std (torchvision's ToTensor + Normalize); target
// an int64 scalar class 0..9. get_batch() converts straight into [B, 1, 28, 28] and [B].
// Immutable after loading; thread-safe. Copies are cheap (they share the tensors).
#ifndef CORTADO_FRONTEND_DATA_FASHION_MNIST_H_
#define CORTADO_FRONTEND_DATA_FASHION_MNIST_H_

#include <array>
#include <string>

#include "absl/status/statusor.h"
#include "frontend/data/dataset.h"

namespace cortado {
namespace frontend {
namespace data {

inline constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist";
inline constexpr double kFashionMnistMean = 0.2860;
inline constexpr double kFashionMnistStd = 0.3530;
inline constexpr int kFashionMnistClasses = 10;

class FashionMnist final : public Dataset {
 public:
  // From ReadIdx's tensors: images uint8 [N, 28, 28], labels uint8 [N] with values < 10.
  static absl::StatusOr<FashionMnist> FromIdx(const Tensor& images, const Tensor& labels);

  size_t size() const override { return size_; }
  Example get(size_t index) const override;
  Example get_batch(const std::vector<size_t>& indices) const override;

  // The raw pixels, uint8 [N, 28, 28], and the labels, int64 [N].
  Tensor images() const { return Tensor(images_); }
  Tensor labels() const { return Tensor(labels_); }

 private:
  FashionMnist() = default;
  // Writes the normalized pixels of image `index` to `out` (784 floats).
  void Normalize(size_t index, float* out) const;

  cortado::Tensor images_, labels_;
  size_t size_ = 0;
  std::array<float, 256> lut_{};  // pixel value -> normalized float
};

// Loads the training set (60000 images) or, with train = false, the test set (t10k, 10000)
// from `dir`. NotFound when a file is missing; InvalidArgument/DataLoss when one is malformed.
absl::StatusOr<FashionMnist> LoadFashionMnist(const std::string& dir = kFashionMnistDir,
                                              bool train = true);

}  // namespace data
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_DATA_FASHION_MNIST_H_
