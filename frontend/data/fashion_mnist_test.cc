// Fashion-MNIST: the real files of Debian's dataset-fashion-mnist when installed (skipped
// otherwise), checked against the data set's published facts (60000/10000 examples, 6000/1000 of
// each class, the first labels, the training set's pixel mean 0.2860 and std 0.3530), and
// FromIdx's checks on small synthetic tensors.
#include "frontend/data/fashion_mnist.h"

#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "frontend/data/data_loader.h"
#include "gtest/gtest.h"

namespace cortado {
namespace frontend {
namespace data {
namespace {

bool HaveRealData() {
  struct stat st;
  return stat((std::string(kFashionMnistDir) + "/t10k-labels-idx1-ubyte.gz").c_str(), &st) == 0;
}

TEST(FashionMnistTest, RealTrainingSet) {
  if (!HaveRealData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  absl::StatusOr<FashionMnist> ds = LoadFashionMnist(kFashionMnistDir, /*train=*/true);
  ASSERT_TRUE(ds.ok()) << ds.status();
  ASSERT_EQ(ds->size(), 60000u);
  EXPECT_EQ(ds->images().shape(), (Shape{60000, 28, 28}));
  const std::vector<int64_t> labels = ds->labels().to_vector<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(labels.begin(), labels.begin() + 10),
            (std::vector<int64_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  std::vector<int> histogram(10);
  for (int64_t l : labels) {
    ASSERT_GE(l, 0);
    ASSERT_LT(l, 10);
    ++histogram[l];
  }
  EXPECT_EQ(histogram, std::vector<int>(10, 6000));
  // The published normalization constants are the training set's statistics (to 4 digits).
  double sum = 0, sum_sq = 0;
  for (uint8_t px : ds->images().to_vector<uint8_t>()) {
    const double x = px / 255.0;
    sum += x;
    sum_sq += x * x;
  }
  const double n = 60000.0 * 784;
  const double mean = sum / n;
  EXPECT_NEAR(mean, kFashionMnistMean, 5e-5);
  EXPECT_NEAR(std::sqrt(sum_sq / n - mean * mean), kFashionMnistStd, 5e-5);

  // A shuffled epoch through the loader visits every image once (throughput printed, not
  // asserted).
  DataLoaderOptions options;
  options.batch_size = 128;
  options.shuffle = true;
  DataLoader loader(std::make_shared<FashionMnist>(*std::move(ds)), options);
  std::vector<int> seen(60000);
  const auto start = std::chrono::steady_clock::now();
  size_t batches = 0;
  for (const Batch& b : loader) {
    ++batches;
    for (size_t i : b.indices) ++seen[i];
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(batches, 469u);
  EXPECT_EQ(seen, std::vector<int>(60000, 1));
  std::printf("DataLoader: one shuffled Fashion-MNIST epoch (batch 128) in %.3f s, %.0f images/s\n",
              seconds, 60000 / seconds);
}

TEST(FashionMnistTest, RealTestSetExamplesAndBatches) {
  if (!HaveRealData()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  absl::StatusOr<FashionMnist> ds = LoadFashionMnist(kFashionMnistDir, /*train=*/false);
  ASSERT_TRUE(ds.ok()) << ds.status();
  ASSERT_EQ(ds->size(), 10000u);
  const std::vector<int64_t> labels = ds->labels().to_vector<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(labels.begin(), labels.begin() + 10),
            (std::vector<int64_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  std::vector<int> histogram(10);
  for (int64_t l : labels) ++histogram[l];
  EXPECT_EQ(histogram, std::vector<int>(10, 1000));

  // An example: float32 [1,28,28], (x/255 - mean)/std; target int64 scalar.
  Example e = ds->get(1234);
  EXPECT_EQ(e.data.dtype(), DType::kFloat32);
  EXPECT_EQ(e.data.shape(), (Shape{1, 28, 28}));
  EXPECT_EQ(e.target.dtype(), DType::kInt64);
  EXPECT_EQ(e.target.dim(), 0);
  EXPECT_EQ(e.target.item(), labels[1234]);
  const uint8_t* raw = ds->images().data<uint8_t>() + 1234 * 784;
  const float* x = e.data.data<float>();
  for (int i = 0; i < 784; ++i) {
    ASSERT_NEAR(x[i], (raw[i] / 255.0 - kFashionMnistMean) / kFashionMnistStd, 1e-6) << i;
  }

  // A batch through the loader equals the examples.
  DataLoaderOptions options;
  options.batch_size = 64;
  options.shuffle = true;
  options.seed = 3;
  auto shared = std::make_shared<FashionMnist>(*std::move(ds));
  DataLoader loader(shared, options);
  EXPECT_EQ(loader.size(), 157u);
  std::optional<Batch> b = loader.next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->data.shape(), (Shape{64, 1, 28, 28}));
  EXPECT_EQ(b->target.shape(), (Shape{64}));
  EXPECT_EQ(b->target.dtype(), DType::kInt64);
  for (int i = 0; i < 64; i += 9) {
    Example ex = shared->get(b->indices[i]);
    EXPECT_EQ(std::memcmp(b->data.data<float>() + i * 784, ex.data.data<float>(), 784 * 4), 0);
    EXPECT_EQ(b->target.data<int64_t>()[i], ex.target.item());
  }
  loader.stop();
}

TEST(FashionMnistTest, MissingDirectory) {
  absl::StatusOr<FashionMnist> ds = LoadFashionMnist("/nonexistent/fashion-mnist", true);
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().code(), absl::StatusCode::kNotFound) << ds.status();
}

TEST(FashionMnistTest, FromIdxChecksShapesAndLabels) {
  Tensor images = Tensor::zeros({2, 28, 28}, DType::kUInt8);
  EXPECT_TRUE(FashionMnist::FromIdx(images, Tensor::zeros({2}, DType::kUInt8)).ok());
  EXPECT_FALSE(FashionMnist::FromIdx(images, Tensor::zeros({3}, DType::kUInt8)).ok());
  EXPECT_FALSE(FashionMnist::FromIdx(Tensor::zeros({2, 28, 27}, DType::kUInt8),
                                     Tensor::zeros({2}, DType::kUInt8))
                   .ok());
  EXPECT_FALSE(
      FashionMnist::FromIdx(images.to(DType::kFloat32), Tensor::zeros({2}, DType::kUInt8)).ok());
  absl::StatusOr<FashionMnist> bad =
      FashionMnist::FromIdx(images, Tensor::full({2}, 10, DType::kUInt8));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not 0..9"), std::string::npos) << bad.status();
  absl::StatusOr<FashionMnist> ok =
      FashionMnist::FromIdx(images, Tensor::full({2}, 7, DType::kUInt8));
  ASSERT_TRUE(ok.ok());
  EXPECT_THROW(ok->get(2), Error);
  Example e = ok->get_batch({1, 0, 1});
  EXPECT_EQ(e.data.shape(), (Shape{3, 1, 28, 28}));
  EXPECT_EQ(e.target.to_vector<int64_t>(), (std::vector<int64_t>{7, 7, 7}));
  EXPECT_NEAR(e.data.data<float>()[0], -kFashionMnistMean / kFashionMnistStd, 1e-6);
}

}  // namespace
}  // namespace data
}  // namespace frontend
}  // namespace cortado
