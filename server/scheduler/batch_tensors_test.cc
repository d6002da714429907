#include "server/scheduler/batch_tensors.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace cortado {
namespace {

std::vector<float> Values(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.num_elements());
}

TEST(BatchTensorsTest, ConcatThenSplitGivesThePartsBack) {
  const Tensor a = Tensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {1, 2, 3});
  const Tensor b =
      Tensor::FromVector<float>({7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}, {2, 2, 3});
  const Tensor empty = Tensor::FromVector<float>({}, {0, 2, 3});
  auto whole = ConcatRows({&a, &empty, &b});
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->shape(), (Shape{3, 2, 3}));
  std::vector<float> expected;
  for (int i = 1; i <= 18; ++i) expected.push_back(static_cast<float>(i));
  EXPECT_EQ(Values(*whole), expected);
  auto parts = SplitRows(*whole, {1, 0, 2});
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].shape(), a.shape());
  EXPECT_EQ(Values((*parts)[0]), Values(a));
  EXPECT_EQ((*parts)[1].shape(), empty.shape());
  EXPECT_EQ((*parts)[2].shape(), b.shape());
  EXPECT_EQ(Values((*parts)[2]), Values(b));
  EXPECT_FALSE((*parts)[2].SharesStorageWith(*whole));
}

TEST(BatchTensorsTest, Strings) {
  const Tensor a = Tensor::FromVector<std::string>({"x", "yy"}, {1, 2});
  const Tensor b = Tensor::FromVector<std::string>({"", "zzz"}, {1, 2});
  auto whole = ConcatRows({&a, &b});
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->data<std::string>()[3], "zzz");
  auto parts = SplitRows(*whole, {1, 1});
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ((*parts)[0].data<std::string>()[1], "yy");
  EXPECT_EQ((*parts)[1].data<std::string>()[0], "");
}

TEST(BatchTensorsTest, MismatchesAreErrors) {
  const Tensor a = Tensor::FromVector<float>({1, 2}, {1, 2});
  const Tensor wide = Tensor::FromVector<float>({1, 2, 3}, {1, 3});
  const Tensor ints = Tensor::FromVector<int32_t>({1, 2}, {1, 2});
  const Tensor scalar = Tensor::Scalar<float>(1);
  EXPECT_FALSE(ConcatRows({}).ok());
  EXPECT_FALSE(ConcatRows({&a, &wide}).ok());
  EXPECT_FALSE(ConcatRows({&a, &ints}).ok());
  EXPECT_FALSE(ConcatRows({&scalar}).ok());
  auto bad = SplitRows(a, {2});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("cannot be split"), std::string::npos);
  EXPECT_FALSE(SplitRows(scalar, {1}).ok());
}

}  // namespace
}  // namespace cortado
