// Tests for Unique. Expected values come from numpy.unique (return_index, return_inverse,
// return_counts; first-occurrence order rebuilt from the indices); ONNX's own node tests run in
// tests/onnx_conformance.
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "ops/op_test_table.h"

namespace cortado {
namespace {

TEST(UniqueTest, MatchesNumpyReference) {
  RunCases({
      {"unique_int32_flattened_sorted",
       "Unique",
       11,
       Attrs({}),
       {V<int32_t>({0, 0, 3, -1, -1, -2, 0, 1, 0, -1, 0, 1}, {3, 4})},
       {V<int32_t>({-2, -1, 0, 1, 3}, {5}), V<int64_t>({5, 3, 0, 7, 2}, {5}),
        V<int64_t>({2, 2, 4, 1, 1, 0, 2, 3, 2, 1, 2, 3}, {12}), V<int64_t>({1, 3, 5, 2, 1}, {5})},
       0.0001,
       1e-05},
      {"unique_int32_flattened_first_occurrence",
       "Unique",
       11,
       Attrs({{"sorted", int64_t{0}}}),
       {V<int32_t>({0, 0, 3, -1, -1, -2, 0, 1, 0, -1, 0, 1}, {3, 4})},
       {V<int32_t>({0, 3, -1, -2, 1}, {5}), V<int64_t>({0, 2, 3, 5, 7}, {5}),
        V<int64_t>({0, 0, 1, 2, 2, 3, 0, 4, 0, 2, 0, 4}, {12}), V<int64_t>({5, 1, 3, 1, 2}, {5})},
       0.0001,
       1e-05},
      {"unique_axis1_sorted",
       "Unique",
       11,
       Attrs({{"axis", int64_t{1}}}),
       {V<float>({1.0, 2.0, 0.0, 1.0, 1.0, 2.0, 0.0, 0.0, 3.0, 3.0, 1.0, 1.0, 3.0, 3.0, 1.0, 1.0},
                 {2, 4, 2})},
       {V<float>({0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 3.0, 3.0}, {2, 3, 2}),
        V<int64_t>({3, 1, 0}, {3}), V<int64_t>({2, 1, 2, 0}, {4}), V<int64_t>({1, 1, 2}, {3})},
       0.0001,
       1e-05},
      {"unique_negative_axis_first_occurrence",
       "Unique",
       11,
       Attrs({{"axis", int64_t{-2}}, {"sorted", int64_t{0}}}),
       {V<float>({1.0, 2.0, 0.0, 1.0, 1.0, 2.0, 0.0, 0.0, 3.0, 3.0, 1.0, 1.0, 3.0, 3.0, 1.0, 1.0},
                 {2, 4, 2})},
       {V<float>({1.0, 2.0, 0.0, 1.0, 0.0, 0.0, 3.0, 3.0, 1.0, 1.0, 1.0, 1.0}, {2, 3, 2}),
        V<int64_t>({0, 1, 3}, {3}), V<int64_t>({0, 1, 0, 2}, {4}), V<int64_t>({2, 1, 1}, {3})},
       0.0001,
       1e-05},
      {"unique_rows_axis0",
       "Unique",
       11,
       Attrs({{"axis", int64_t{0}}}),
       {V<int64_t>({1, 0, 2, 5, 1, 0, 0, 9}, {4, 2})},
       {V<int64_t>({0, 9, 1, 0, 2, 5}, {3, 2}), V<int64_t>({3, 0, 1}, {3}),
        V<int64_t>({1, 2, 1, 0}, {4}), V<int64_t>({1, 2, 1}, {3})},
       0.0001,
       1e-05},
      {"unique_bool",
       "Unique",
       11,
       Attrs({}),
       {V<bool>({true, false, true, true}, {4})},
       {V<bool>({false, true}, {2}), V<int64_t>({1, 0}, {2}), V<int64_t>({1, 0, 1, 1}, {4}),
        V<int64_t>({1, 3}, {2})},
       0.0001,
       1e-05},
  });
}

// Strings sort lexicographically; NaNs collapse into one value that sorts last.
TEST(UniqueTest, StringsAndNaN) {
  std::vector<std::string> words = {"pear", "apple", "pear", "fig"};
  auto out = RunOp({"Unique", 11, Attrs({}), {V<std::string>(words, {4})}, 4});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(CompareTensors((*out)[0], V<std::string>({"apple", "fig", "pear"}, {3})), "");
  EXPECT_EQ(CompareTensors((*out)[2], V<int64_t>({2, 0, 2, 1}, {4})), "");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  out = RunOp({"Unique", 11, Attrs({}), {V<float>({nan, 2, nan, 1}, {4})}, 4});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(CompareTensors((*out)[0], V<float>({1, 2, nan}, {3})), "");
  EXPECT_EQ(CompareTensors((*out)[1], V<int64_t>({3, 1, 0}, {3})), "");
  EXPECT_EQ(CompareTensors((*out)[3], V<int64_t>({1, 1, 2}, {3})), "");
}

TEST(UniqueTest, RejectsBadAxis) {
  RunBadCases({
      {"axis_out_of_range",
       "Unique",
       Attrs({{"axis", int64_t{2}}}),
       {V<int32_t>({1, 2}, {1, 2})},
       1},
      {"axis_on_scalar", "Unique", Attrs({{"axis", int64_t{0}}}), {V<int32_t>({1}, {})}, 1},
  });
}

}  // namespace
}  // namespace cortado
