#include "core/shape.h"

#include "gtest/gtest.h"

namespace cortado {
namespace {

TEST(ShapeTest, Broadcasting) {
  struct Case {
    Shape a, b, out;
  } cases[] = {
      {{2, 3}, {3}, {2, 3}},       {{2, 1, 4}, {3, 1}, {2, 3, 4}}, {{}, {5}, {5}},
      {{1}, {0}, {0}},             {{4, 1}, {1, 4}, {4, 4}},
  };
  for (const Case& c : cases) {
    auto out = BroadcastShapes(c.a, c.b);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, c.out);
  }
  auto bad = BroadcastShapes({2, 3}, {4});
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("[2,3]"), std::string::npos);
}

TEST(ShapeTest, StridesAndCounts) {
  EXPECT_EQ(Strides({2, 3, 4}), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(NumElements({}), 1);
  EXPECT_EQ(NumElements({3, 0}), 0);
}

TEST(ShapeTest, ValidateRejectsNegativeAndHuge) {
  EXPECT_FALSE(ValidateShape({2, -1}).ok());
  EXPECT_FALSE(ValidateShape({1 << 30, 1 << 30, 1 << 30}).ok());
  EXPECT_TRUE(ValidateShape({0, 1 << 30, 1 << 30, 1 << 30}).ok());
}

TEST(ShapeTest, NormalizeAxis) {
  EXPECT_EQ(*NormalizeAxis(-1, 3), 2);
  EXPECT_EQ(*NormalizeAxis(0, 3), 0);
  EXPECT_FALSE(NormalizeAxis(3, 3).ok());
  EXPECT_FALSE(NormalizeAxis(-4, 3).ok());
  EXPECT_FALSE(NormalizeAxis(0, 0).ok());  // a scalar has no axis
}

}  // namespace
}  // namespace cortado
