#include "core/npy.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace cortado {
namespace {

TEST(NpyTest, RoundTrip) {
  Tensor a = Tensor::FromVector<float>({1.5f, -2, 3, 4, 5, 6}, {2, 3});
  auto bytes = SerializeNpy(a);
  ASSERT_TRUE(bytes.ok());
  // numpy requires the data to start at a multiple of 64 bytes.
  EXPECT_EQ((bytes->size() - a.nbytes()) % 64, 0u);
  auto b = ParseNpy(*bytes);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->shape(), a.shape());
  EXPECT_EQ(b->dtype(), DType::kFloat32);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(b->data<float>()[i], a.data<float>()[i]);
}

TEST(NpyTest, ReadsAFileWrittenByNumpy) {
  // testdata/onnx/mlp/output.npy was written by numpy from PyTorch's output.
  const char* dir = std::getenv("TEST_SRCDIR");
  ASSERT_NE(dir, nullptr);
  auto t = ReadNpyFile(std::string(dir) + "/cortado/testdata/onnx/mlp/output.npy");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype(), DType::kFloat32);
  EXPECT_GE(t->rank(), 1);
}

TEST(NpyTest, BadInputIsAnError) {
  EXPECT_FALSE(ParseNpy("garbage").ok());
  Tensor a = Tensor::FromVector<int64_t>({1, 2, 3}, {3});
  std::string bytes = *SerializeNpy(a);
  EXPECT_FALSE(ParseNpy(absl::string_view(bytes).substr(0, bytes.size() - 3)).ok());
  EXPECT_FALSE(ParseNpy(absl::string_view(bytes).substr(0, 20)).ok());
  EXPECT_FALSE(ReadNpyFile("/nonexistent/file.npy").ok());
}

}  // namespace
}  // namespace cortado
