#include "core/tensor.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace cortado {
namespace {

TEST(TensorTest, StorageIsAlignedAndShaped) {
  auto t = Tensor::Create(DType::kFloat32, {3, 5});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t->raw_data()) % 64, 0u);
  EXPECT_EQ(t->num_elements(), 15);
  EXPECT_EQ(t->nbytes(), 60u);
  EXPECT_EQ(t->device(), Device{});
}

TEST(TensorTest, CopiesShareAndClonesDoNot) {
  Tensor a = Tensor::FromVector<int64_t>({1, 2, 3, 4}, {2, 2});
  Tensor shared = a;
  Tensor clone = a.Clone();
  a.data<int64_t>()[0] = 42;
  EXPECT_EQ(shared.data<int64_t>()[0], 42);
  EXPECT_EQ(clone.data<int64_t>()[0], 1);
}

TEST(TensorTest, ReshapeChecksElementCount) {
  Tensor a = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  auto r = a.Reshaped({3, 2});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data<float>(), a.data<float>());
  EXPECT_FALSE(a.Reshaped({4, 2}).ok());
}

TEST(TensorTest, StringsAreConstructedAndCloned) {
  Tensor s = Tensor::FromVector<std::string>({"a", "bc"}, {2});
  Tensor c = s.Clone();
  s.data<std::string>()[0] = "changed";
  EXPECT_EQ(c.data<std::string>()[0], "a");
  EXPECT_EQ(c.data<std::string>()[1], "bc");
}

TEST(TensorTest, ImpossibleAllocationIsAnError) {
  auto t = Tensor::Create(DType::kFloat64, {int64_t{1} << 39, 4});
  EXPECT_FALSE(t.ok());
  EXPECT_FALSE(Tensor::Create(DType::kFloat32, {-1}).ok());
  EXPECT_FALSE(Tensor::Create(DType::kUndefined, {1}).ok());
}

TEST(TensorTest, ToInt64VectorWidensIntegers) {
  Tensor a = Tensor::FromVector<int32_t>({-1, 7}, {2});
  auto v = a.ToInt64Vector();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, (std::vector<int64_t>{-1, 7}));
  EXPECT_FALSE(Tensor::Scalar<float>(1.0f).ToInt64Vector().ok());
}

}  // namespace
}  // namespace cortado
