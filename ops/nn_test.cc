// Tests of the nn operator family (ops/nn.cc) and the shared GEMM (ops/gemm.h). Expected values
// come from numpy references (direct window loops, np.matmul) evaluated on the same Seq() data;
// the GEMM is checked against a naive triple loop in double precision.
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "ops/gemm.h"
#include "ops/op_test_util.h"

namespace cortado {
namespace {

using Ints = std::vector<int64_t>;

// Deterministic data shared with the numpy generator: element i is ((7 i + offset) % 11 - 5)
// * scale, so inputs need not be pasted.
template <typename V>
Tensor Seq(Shape shape, double scale, int offset) {
  const int64_t n = NumElements(shape);
  std::vector<V> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<V>(((i * 7 + offset) % 11 - 5) * scale);
  return Tensor::FromVector<V>(v, std::move(shape));
}

template <typename V>
Tensor T(Shape shape, std::vector<V> values) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), NumElements(shape));
  return Tensor::FromVector<V>(values, std::move(shape));
}

AttributeMap Attrs(std::vector<std::pair<std::string, AttrValue>> values) {
  AttributeMap m;
  for (auto& [k, v] : values) m.Set(k, std::move(v));
  return m;
}

struct Tol {
  double rtol, atol;
};
constexpr Tol kTol{1e-5, 1e-5};

struct Case {
  std::string name;
  std::string op;
  int opset;
  std::vector<std::pair<std::string, AttrValue>> attrs;
  std::vector<Tensor> inputs;
  std::vector<Tensor> expected;
  Tol tol;
};

std::string CaseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class NnOpTest : public ::testing::TestWithParam<Case> {};

TEST_P(NnOpTest, MatchesNumpy) {
  const Case& c = GetParam();
  OpRun run{c.op, c.opset, Attrs(c.attrs), c.inputs, static_cast<int>(c.expected.size())};
  absl::StatusOr<std::vector<Tensor>> out = RunOp(run);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), c.expected.size());
  for (size_t i = 0; i < c.expected.size(); ++i) {
    EXPECT_EQ(CompareTensors((*out)[i], c.expected[i], c.tol.rtol, c.tol.atol), "")
        << "output " << i;
  }
}

std::vector<Case> ConvCases() {
  return {
      {"conv2d_group_stride_pads_bias",
       "Conv",
       17,
       {{"group", int64_t{2}},
        {"strides", Ints{2, 1}},
        {"pads", Ints{1, 0, 0, 2}},
        {"kernel_shape", Ints{3, 3}}},
       {Seq<float>({1, 4, 5, 5}, 0.25, 0), Seq<float>({4, 2, 3, 3}, 0.5, 3),
        Seq<float>({4}, 1.0, 1)},
       {T<float>({1, 4, 2, 5},
                 {4.75,    -4.5,   -5.5,   -2.25, -4.875, -4,     2.375, -7.75,  2.375,  -5.875,
                  -1.125,  6.375,  0.125,  4.375, 3.125,  0.25,   1.5,   8.25,   -5.125, 5.625,
                  9.25,    -9.125, 1.375,  -3.25, -2.125, 4.625,  6.25,  -7.25,  1.625,  -3.5,
                  -11.625, -3.625, -3.875, -8,    -4.625, -2.625, -4.75, -6.875, -3,     -6.375})},
       kTol},
      {"conv2d_dilations",
       "Conv",
       17,
       {{"dilations", Ints{2, 3}}},
       {Seq<float>({1, 2, 6, 6}, 0.25, 0), Seq<float>({3, 2, 2, 2}, 0.5, 5)},
       {T<float>({1, 3, 4, 3}, {-4.25, -3.25, 4.625,  -3.75,  4.125, 7.875, -3.25, 4.625,  -4,
                                4.125, 7.875, -3.5,   -2.625, 1.25,  1,     0,     -4.375, 6.375,
                                1.25,  1,     -0.625, -4.375, 6.375, 0.625, -1,    0.25,   1.5,
                                1,     -6,    6.25,   0.25,   1.5,   1.375, -6,    6.25,   0.625})},
       kTol},
      {"conv2d_depthwise_stride2",
       "Conv",
       17,
       {{"group", int64_t{3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}},
       {Seq<float>({1, 3, 6, 6}, 0.25, 0), Seq<float>({3, 1, 3, 3}, 0.5, 2),
        Seq<float>({3}, 1.0, 4)},
       {T<float>({1, 3, 3, 3},
                 {-2.125, -5.125, -3.625, 3,     3.25,   -5.875, -4.125, -0.625, 4,
                  -5.25,  -7.5,   -3.125, 0.5,   -9.375, -9.375, -5.875, -5.25,  -3.875,
                  -1.25,  2.875,  3.25,   1.125, -2.875, 6.25,   6.5,    2.375,  -3.625})},
       kTol},
      {"conv2d_pointwise",
       "Conv",
       17,
       {},
       {Seq<float>({2, 3, 3, 2}, 0.25, 0), Seq<float>({4, 3, 1, 1}, 0.5, 1),
        Seq<float>({4}, 1.0, 2)},
       {T<float>(
           {2, 4, 3, 2},
           {0.75,   -3.75, -4.125, -4.5,  -3.5,   -3.875, 7.625, 3.25, 3,     1.375, 3.875, 3.625,
            -3.375, 2,     -3.625, 3.125, 1.625,  -4,     -7.5,  -2,   -7.5,  -2,    -2,    -7.5,
            -3.25,  0.5,   -4,     -3,    0.75,   -3.75,  4.5,   7,    2.625, 5.125, 7.625, 3.25,
            1.25,   -3,    2.375,  0.875, -3.375, 2,      -2,    -7.5, -2,    -2,    -7.5,  -2})},
       kTol},
      {"conv1d_same_lower",
       "Conv",
       17,
       {{"auto_pad", std::string("SAME_LOWER")}, {"strides", Ints{2}}},
       {Seq<float>({1, 2, 7}, 0.25, 0), Seq<float>({2, 2, 3}, 0.5, 1)},
       {T<float>({1, 2, 4}, {-1.125, 1.125, -2.875, 1.25, 0.625, -2.375, 2.875, -0.375})},
       kTol},
      {"conv1d_same_upper",
       "Conv",
       17,
       {{"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2}}},
       {Seq<float>({1, 2, 7}, 0.25, 0), Seq<float>({2, 2, 2}, 0.5, 1)},
       {T<float>({1, 2, 4}, {5.75, 3.125, -2.25, -1.75, -2.25, 0, -1.875, -0.25})},
       kTol},
      {"conv1d_valid",
       "Conv",
       17,
       {{"auto_pad", std::string("VALID")}, {"strides", Ints{2}}, {"pads", Ints{5, 5}}},
       {Seq<float>({1, 2, 7}, 0.25, 0), Seq<float>({2, 2, 3}, 0.5, 1)},
       {T<float>({1, 2, 3}, {1.75, 1.875, 2, -3.625, 3, -2.75})},
       kTol},
      {"conv3d_group",
       "Conv",
       17,
       {{"group", int64_t{2}}, {"pads", Ints{1, 0, 1, 0, 1, 0}}},
       {Seq<float>({1, 2, 3, 4, 3}, 0.25, 0), Seq<float>({2, 1, 2, 2, 2}, 0.5, 3),
        Seq<float>({2}, 1.0, 0)},
       {T<float>(
           {1, 2, 3, 4, 3},
           {-3.125, -9.625,  -5.625, -3.5,  -4.5,   -6,     -3.875, -4.875, -6.375, -5,    -3.5,
            -5.5,   -9.625,  -2.875, -3.5,  -3.375, -6.125, -4,     -4,     -6.625, -4.5,  -3.125,
            -6.875, -10.375, -5.25,  -3.5,  -2.75,  -5.875, -4,     -3.25,  -6.5,   -4.5,  -3.75,
            -5.625, -10.375, -1.5,   4.625, 3.75,   0.25,   4,      2.875,  -0.625, 3.375, 2,
            4,      2.25,    3,      1.375, -2,     0,      6.375,  -1.75,  -0.125, 6.25,  -1.5,
            5.25,   -0.75,   0.5,    2.375, 2.375,  -1,     6.375,  -1,     -0.75,  6.25,  -1.125,
            5,      -0.75,   1.5,    3.875, 2.375,  1})},
       kTol},
      {"conv2d_float64",
       "Conv",
       17,
       {{"pads", Ints{1, 1, 1, 1}}},
       {Seq<double>({1, 2, 4, 4}, 0.25, 0), Seq<double>({2, 2, 3, 3}, 0.5, 1)},
       {T<double>({1, 2, 4, 4},
                  {-4,     -0.875, 1.875, 3.75,  -0.875, 1.125, 6.25,  -2,     -3.375, 1,    6.125,
                   -2.875, -3.875, 2.75,  3.625, -5.625, 1.625, 2.875, -2.375, -1.75,  3.25, 3.375,
                   -4.875, -0.125, 1.75,  3.375, -11.75, 5.5,   2.625, 3,      -6.875, 2.125})},
       kTol},
      {"convtranspose_group_stride_outpad_bias",
       "ConvTranspose",
       17,
       {{"group", int64_t{2}},
        {"strides", Ints{2, 3}},
        {"output_padding", Ints{1, 2}},
        {"pads", Ints{1, 0, 0, 1}}},
       {Seq<float>({1, 4, 2, 3}, 0.25, 0), Seq<float>({4, 1, 3, 2}, 0.5, 2),
        Seq<float>({2}, 1.0, 3)},
       {T<float>({1, 2, 5, 9},
                 {-3,    3,      -2, -2,    -3,    -2, -1,    -3.5,   -2, -7.125, 0.375,  -2,
                  -1,    -2,     -2, 1,     -3,    -2, -2.75, -2.625, -2, -1.75,  -3.125, -2,
                  -0.75, -3.625, -2, 0.25,  -3.75, -2, -1.75, -1.75,  -2, -3.75,  0.25,   -2,
                  -2,    -2,     -2, -2,    -2,    -2, -2,    -2,     -2, 4,      5.75,   5,
                  3.5,   3.75,   5,  4.375, 7.25,  5,  5,     4,      5,  4,      5.5,    5,
                  5.75,  2.875,  5,  3.875, 5.25,  5,  3.375, 3.25,   5,  4.25,   6.75,   5,
                  5.25,  3.875,  5,  7.25,  4.375, 5,  3.75,  3.5,    5,  5,      5,      5,
                  5,     5,      5,  5,     5,     5})},
       kTol},
      {"convtranspose1d_dilation",
       "ConvTranspose",
       17,
       {{"dilations", Ints{2}}},
       {Seq<float>({1, 1, 3}, 0.25, 0), Seq<float>({1, 2, 2}, 0.5, 1)},
       {T<float>({1, 2, 5}, {2.5, -1, -0.875, 0.75, -0.75, 0.625, -0.25, 3.375, -1.25, 1.25})},
       kTol},
      {"convtranspose_output_shape",
       "ConvTranspose",
       17,
       {{"strides", Ints{2, 2}}, {"output_shape", Ints{6, 6}}},
       {Seq<float>({1, 1, 3, 3}, 0.25, 0), Seq<float>({1, 1, 3, 3}, 0.5, 4)},
       {T<float>({1, 1, 6, 6}, {-3.125, -1.125, 1.25,  0.75,  -1.25, -0.25, -5.625, 0.375,  0.375,
                                1.375,  0.875,  -0.75, 3.125, 0.375, 0.625, 0.875,  -1.875, -0.375,
                                0,      0.625,  0.5,   1.625, 1,     -1,    2.5,    0.5,    0,
                                1,      -2.5,   -0.5,  2,     0,     0,     1.5,    -2,     0})},
       kTol},
      {"convtranspose_same_upper",
       "ConvTranspose",
       17,
       {{"strides", Ints{2, 2}}, {"auto_pad", std::string("SAME_UPPER")}},
       {Seq<float>({1, 1, 3, 3}, 0.25, 0), Seq<float>({1, 1, 3, 3}, 0.5, 4)},
       {T<float>({1, 1, 6, 6}, {0.625, 3.125, -1.5,  -1.25, 0.75,   1.25,   1.25,   -3.125, -1.125,
                                1.25,  0.75,  -1.25, 1.25,  -5.625, 0.375,  0.375,  1.375,  0.875,
                                -1.25, 3.125, 0.375, 0.625, 0.875,  -1.875, -2.375, 0,      0.625,
                                0.5,   1.625, 1,     -1,    2.5,    0.5,    0,      1,      -2.5})},
       kTol},
  };
}

INSTANTIATE_TEST_SUITE_P(Conv, NnOpTest, ::testing::ValuesIn(ConvCases()), CaseName);

std::vector<Case> PoolCases() {
  return {
      {"maxpool_ceil_pads_indices",
       "MaxPool",
       17,
       {{"kernel_shape", Ints{3, 2}},
        {"strides", Ints{2, 2}},
        {"pads", Ints{1, 0, 1, 1}},
        {"ceil_mode", int64_t{1}}},
       {Seq<float>({1, 2, 5, 6}, 0.25, 0)},
       {T<float>({1, 2, 3, 3}, {1, 1.25, 0.25, 1, 1.25, 1, 1.25, 0.75, 1, 1.25, 1, 0.5, 1.25, 1,
                                1.25, 0.25, 1, 1.25}),
        T<int64_t>({1, 2, 3, 3},
                   {6, 3, 4, 6, 14, 17, 25, 20, 28, 36, 39, 34, 36, 39, 47, 48, 50, 58})},
       kTol},
      {"maxpool_storage_order_1",
       "MaxPool",
       17,
       {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{1, 2}}, {"storage_order", int64_t{1}}},
       {Seq<float>({1, 2, 5, 6}, 0.25, 0)},
       {T<float>({1, 2, 4, 3}, {1, 1.25, 0.25, 1, 1.25, 1,    0.5, 1.25, 1,    1.25, 0.75, 1, 1.25,
                                1, 0.5,  1.25, 1, 1.25, 0.75, 1,   1.25, 0.25, 1,    1.25}),
        T<int64_t>({1, 2, 4, 3}, {1,  15, 20, 1,  12, 27, 2,  12, 27, 9,  13, 24,
                                  31, 46, 50, 31, 46, 57, 32, 43, 57, 33, 43, 54})},
       kTol},
      {"maxpool_dilations",
       "MaxPool",
       17,
       {{"kernel_shape", Ints{2, 2}}, {"dilations", Ints{2, 2}}},
       {Seq<float>({1, 2, 5, 6}, 0.25, 0)},
       {T<float>({1, 2, 3, 4},
                 {1.25, 1.25, 1.25, 1.25, 1,    0.75, 0.75, 0.75, 1.25, 1.25, 1.25, 1,
                  0.75, 0.75, 0.5,  1.25, 1.25, 1,    1,    1,    0.75, 0.5,  1.25, 1.25})},
       kTol},
      {"maxpool_int8",
       "MaxPool",
       17,
       {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}},
       {Seq<int8_t>({1, 1, 4, 4}, 3.0, 2)},
       {T<int8_t>({1, 1, 2, 2}, {12, 6, 15, 9})},
       kTol},
      {"maxpool1d_same_upper",
       "MaxPool",
       17,
       {{"kernel_shape", Ints{3}}, {"strides", Ints{2}}, {"auto_pad", std::string("SAME_UPPER")}},
       {Seq<float>({1, 2, 7}, 0.25, 0)},
       {T<float>({1, 2, 4}, {0.5, 1.25, 1.25, 1, 0, 0.75, 0.5, 0.5})},
       kTol},
      {"averagepool_ceil_pads_cip0",
       "AveragePool",
       17,
       {{"kernel_shape", Ints{3, 3}},
        {"strides", Ints{2, 2}},
        {"pads", Ints{1, 1, 1, 1}},
        {"ceil_mode", int64_t{1}},
        {"count_include_pad", int64_t{0}}},
       {Seq<float>({1, 2, 5, 6}, 0.25, 0)},
       {T<float>({1, 2, 3, 4}, {0.0625,
                                0.166666672,
                                0,
                                -1,
                                0,
                                0.027777778,
                                -0.138888896,
                                0.0833333358,
                                -0.0625,
                                0.0416666679,
                                -0.125,
                                0.25,
                                0.3125,
                                -0.0416666679,
                                -0.208333328,
                                -0.75,
                                0.25,
                                -0.027777778,
                                0.111111112,
                                0.333333343,
                                -0.5,
                                -0.166666672,
                                0.125,
                                0.5})},
       kTol},
      {"averagepool_ceil_pads_cip1",
       "AveragePool",
       17,
       {{"kernel_shape", Ints{3, 3}},
        {"strides", Ints{2, 2}},
        {"pads", Ints{1, 1, 1, 1}},
        {"ceil_mode", int64_t{1}},
        {"count_include_pad", int64_t{1}}},
       {Seq<float>({1, 2, 5, 6}, 0.25, 0)},
       {T<float>({1, 2, 3, 4}, {0.027777778,
                                0.111111112,
                                0,
                                -0.333333343,
                                0,
                                0.027777778,
                                -0.138888896,
                                0.0416666679,
                                -0.027777778,
                                0.027777778,
                                -0.0833333358,
                                0.0833333358,
                                0.138888896,
                                -0.027777778,
                                -0.138888896,
                                -0.25,
                                0.166666672,
                                -0.027777778,
                                0.111111112,
                                0.166666672,
                                -0.222222224,
                                -0.111111112,
                                0.0833333358,
                                0.166666672})},
       kTol},
      {"averagepool_same_lower",
       "AveragePool",
       17,
       {{"kernel_shape", Ints{2, 2}},
        {"strides", Ints{2, 2}},
        {"auto_pad", std::string("SAME_LOWER")}},
       {Seq<float>({1, 2, 5, 6}, 0.25, 0)},
       {T<float>({1, 2, 3, 3}, {-0.375, 0.375, -0.25, 0.25, 0.3125, -0.3125, -0.0625, 0, 0.0625,
                                -0.125, -0.75, 0, 0.5, -0.125, -0.0625, -0.5, 0.25, 0.3125})},
       kTol},
      {"lppool_p3",
       "LpPool",
       11,
       {{"kernel_shape", Ints{2, 3}},
        {"strides", Ints{1, 2}},
        {"pads", Ints{0, 1, 1, 0}},
        {"p", int64_t{3}}},
       {Seq<float>({1, 2, 5, 6}, 0.25, 0)},
       {T<float>({1, 2, 5, 3},
                 {1.45466197, 1.53615844, 1.68466604, 1.07721734,  1.52055049, 1.56433117,
                  1.07721734, 1.52279985, 1.52279985, 1.45466197,  1.56433117, 1.52055049,
                  1.27611721, 1.33712029, 1.12448537, 1.50231123,  1.56433117, 1.61382866,
                  1.34002709, 1.52279985, 1.61382866, 0.956465602, 1.52055049, 1.53615844,
                  1.34002709, 1.53615844, 1.52055049, 1.25332451,  1.30120695, 1.27930748})},
       kTol},
      {"globalaveragepool_3d",
       "GlobalAveragePool",
       17,
       {},
       {Seq<float>({2, 3, 2, 2, 2}, 0.25, 0)},
       {T<float>({2, 3, 1, 1, 1}, {0.0625, -0.03125, -0.125, 0.125, 0.03125, -0.0625})},
       kTol},
      {"globalmaxpool_3d",
       "GlobalMaxPool",
       17,
       {},
       {Seq<float>({2, 3, 2, 2, 2}, 0.25, 0)},
       {T<float>({2, 3, 1, 1, 1}, {1.25, 1.25, 1, 1.25, 1.25, 1.25})},
       kTol},
      {"maxunpool",
       "MaxUnpool",
       11,
       {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}},
       {T<float>({1, 1, 2, 2}, {5, 6, 7, 8}), T<int64_t>({1, 1, 2, 2}, {5, 7, 13, 15})},
       {T<float>({1, 1, 4, 4}, {0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8})},
       kTol},
  };
}

INSTANTIATE_TEST_SUITE_P(Pool, NnOpTest, ::testing::ValuesIn(PoolCases()), CaseName);

std::vector<Case> MatMulCases() {
  return {
      {"matmul_batch_broadcast",
       "MatMul",
       17,
       {},
       {Seq<float>({2, 1, 2, 3}, 0.25, 0), Seq<float>({3, 3, 2}, 0.5, 1)},
       {T<float>({2, 3, 2, 2},
                 {1.75, -2.625, -3.375, 2, -3.875, 1.375, 2.75, 2.625, -2.625, -0.125, 2, -2.25,
                  -3,   2.5,    -2.625, 3, 2.5,    2.5,   2.25, 2.375, 2.5,    -3,     3, -3.75})},
       kTol},
      {"matmul_vector_matrix",
       "MatMul",
       17,
       {},
       {Seq<float>({3}, 0.25, 0), Seq<float>({2, 3, 4}, 0.5, 1)},
       {T<float>({2, 4}, {3.75, -3.375, 1.875, 4.375, -3.375, 1.875, 4.375, -2.75})},
       kTol},
      {"matmul_matrix_vector",
       "MatMul",
       17,
       {},
       {Seq<float>({2, 3, 4}, 0.25, 0), Seq<float>({4}, 0.5, 1)},
       {T<float>({2, 3}, {0.375, -2.125, 6.375, -3, 5.5, -2.5})},
       kTol},
      {"matmul_vector_vector",
       "MatMul",
       17,
       {},
       {Seq<float>({3}, 0.25, 0), Seq<float>({3}, 0.5, 1)},
       {T<float>({}, {3.5})},
       kTol},
      {"matmul_int32",
       "MatMul",
       17,
       {},
       {Seq<int32_t>({2, 2, 3}, 1.0, 0), Seq<int32_t>({3, 2}, 1.0, 3)},
       {T<int32_t>({2, 2, 2}, {4, -31, -21, 22, -24, 20, -27, 18})},
       kTol},
      {"matmul_int64",
       "MatMul",
       17,
       {},
       {Seq<int64_t>({2, 3}, 1.0, 0), Seq<int64_t>({1, 3, 2}, 1.0, 3)},
       {T<int64_t>({1, 2, 2}, {4, -31, -21, 22})},
       kTol},
      {"gemm_transA_transB_alpha_beta_vector_c",
       "Gemm",
       17,
       {{"transA", int64_t{1}}, {"transB", int64_t{1}}, {"alpha", 0.5f}, {"beta", 2.0f}},
       {Seq<float>({4, 3}, 0.25, 0), Seq<float>({5, 4}, 0.5, 2), Seq<float>({5}, 1.0, 1)},
       {T<float>({3, 5}, {-6.5625, 3.875, -0.125, -11.6875, 2.875, -7.875, 6.1875, -1.75, -9.6875,
                          3.6875, -7.125, 6.4375, -2, -10.4375, 5.1875})},
       kTol},
      {"gemm_column_c",
       "Gemm",
       17,
       {},
       {Seq<float>({3, 4}, 0.25, 0), Seq<float>({4, 2}, 0.5, 2), Seq<float>({3, 1}, 1.0, 1)},
       {T<float>({3, 2}, {-6, -6, 4.125, 4.5, 3.25, -5.625})},
       kTol},
      {"gemm_no_c",
       "Gemm",
       17,
       {{"alpha", 2.0f}},
       {Seq<float>({3, 4}, 0.25, 0), Seq<float>({4, 2}, 0.5, 2)},
       {T<float>({3, 2}, {-4, -4, 2.25, 3, 8.5, -9.25})},
       kTol},
      {"gemm_int32_scalar_c",
       "Gemm",
       17,
       {{"alpha", 2.0f}, {"beta", -1.0f}},
       {Seq<int32_t>({3, 4}, 1.0, 0), Seq<int32_t>({4, 2}, 1.0, 2), Seq<int32_t>({}, 1.0, 1)},
       {T<int32_t>({3, 2}, {-28, -28, 22, 28, 72, -70})},
       kTol},
      {"gemm_float64",
       "Gemm",
       17,
       {},
       {Seq<double>({2, 3}, 0.25, 0), Seq<double>({3, 2}, 0.5, 2)},
       {T<double>({2, 2}, {1.125, -3.25, -3, 2.375})},
       kTol},
  };
}

INSTANTIATE_TEST_SUITE_P(MatMul, NnOpTest, ::testing::ValuesIn(MatMulCases()), CaseName);

std::vector<Case> NormalizationCases() {
  return {
      {"batchnorm_inference",
       "BatchNormalization",
       15,
       {{"epsilon", 0.01f}},
       {Seq<float>({2, 3, 2, 2}, 0.25, 0), Seq<float>({3}, 0.5, 1), Seq<float>({3}, 1.0, 2),
        Seq<float>({3}, 0.5, 3), T<float>({3}, {0.5, 1, 2})},
       {T<float>(
           {2, 3, 2, 2},
           {-2.29986,    -7.20084,    -4.40028,      -9.30125999,   0.64174962,   -0.850806236,
            1.76116633,  0.268610716, 0.529009223,   -0.0881682038, 0.264504611,  0.617177427,
            -7.20084,    -4.40028,    -9.30125999,   -6.5007,       -0.850806236, 1.76116633,
            0.268610716, -1.22394514, -0.0881682038, 0.264504611,   0.617177427,  0})},
       kTol},
      {"batchnorm_training",
       "BatchNormalization",
       15,
       {{"training_mode", int64_t{1}}, {"momentum", 0.8f}},
       {Seq<float>({2, 3, 2, 2}, 0.25, 0), Seq<float>({3}, 0.5, 1), Seq<float>({3}, 1.0, 2),
        Seq<float>({3}, 0.5, 3), T<float>({3}, {0.5, 1, 2})},
       {T<float>({2, 3, 2, 2}, {0.477247715,
                                -3.75592351,
                                -1.33696842,
                                -5.57013988,
                                4.58365011,
                                2.50844908,
                                6.14005089,
                                4.06484985,
                                0.468517601,
                                -0.624690175,
                                0,
                                0.624690175,
                                -3.75592351,
                                -1.33696842,
                                -5.57013988,
                                -3.15118456,
                                2.50844908,
                                6.14005089,
                                4.06484985,
                                1.98964906,
                                -0.624690175,
                                0,
                                0.624690175,
                                -0.468517601}),
        T<float>({3}, {-0.762499988, 1.99374998, 0.349999994}),
        T<float>({3}, {0.536718726, 0.904492199, 1.72812498})},
       kTol},
      {"batchnorm_spatial0_opset7",
       "BatchNormalization",
       7,
       {{"spatial", int64_t{0}}},
       {Seq<float>({3, 2, 2}, 0.25, 0), Seq<float>({2, 2}, 0.5, 1), Seq<float>({2, 2}, 1.0, 2),
        Seq<float>({2, 2}, 0.5, 3), T<float>({2, 2}, {0.5, 1, 2, 0.25})},
       {T<float>({3, 2, 2},
                 {-2.29290032, 1.00001502, 0.35355249, -17.7497253, -6.53549862, -0.874975681,
                  -0.176776245, -11.4998493, -3, 1.37501311, 0.265164375, -5.2499752})},
       kTol},
      {"layernorm_axis2_outputs",
       "LayerNormalization",
       17,
       {{"axis", int64_t{-2}}},
       {Seq<float>({2, 3, 2, 2}, 0.25, 0), Seq<float>({2, 2}, 0.5, 1), Seq<float>({2}, 1.0, 2)},
       {T<float>({2, 3, 2, 2},
                 {-0.37388584, 4.78783417, -2.73738861, 0.717357278, -3.39999485, 1.90002692,
                  -3.69999099, 4.4999938,  -1.5542171,  6.28915596,  -3.12048197, 6.61044121,
                  -3.39999485, 1.90002692, -3.69999099, 4.4999938,   -1.5542171,  6.28915596,
                  -3.12048197, 6.61044121, -5.08835316, 3.63855433,  -2.23694801, 2.19277143}),
        T<float>({2, 3, 1, 1}, {0, 0.125, -0.4375, 0.375, -0.1875, -0.0625}),
        T<float>({2, 3, 1, 1},
                 {1.05044568, 1.59997952, 1.28514028, 1.59997952, 1.28514028, 1.28514028})},
       kTol},
      {"instancenorm",
       "InstanceNormalization",
       6,
       {{"epsilon", 0.1f}},
       {Seq<float>({2, 3, 2, 2}, 0.25, 0), Seq<float>({3}, 0.5, 1), Seq<float>({3}, 1.0, 2)},
       {T<float>({2, 3, 2, 2}, {-0.50777626,  -3.99688959, -2.00311041, -5.49222374,  4.26768637,
                                2.12619472,   5.87380505,  3.73231363,  0.334852576,  -0.706910968,
                                -0.11161752,  0.483675927, -3.35691524, -0.501592875, -5.49840736,
                                -2.64308476,  2.99544239,  6.12073326,  4.3348527,    2.54897213,
                                -0.483675927, 0.11161752,  0.706910968, -0.334852576})},
       kTol},
      {"lpnormalization_p1_axis1",
       "LpNormalization",
       17,
       {{"axis", int64_t{1}}, {"p", int64_t{1}}},
       {Seq<float>({2, 3, 2, 2}, 0.25, 0)},
       {T<float>({2, 3, 2, 2}, {-0.5,
                                0.25,
                                -0.285714298,
                                0.5,
                                0.100000001,
                                -0.375,
                                0.571428597,
                                0,
                                -0.400000006,
                                0.375,
                                -0.142857149,
                                -0.5,
                                0.25,
                                -0.285714298,
                                0.5,
                                0.142857149,
                                -0.375,
                                0.571428597,
                                0,
                                -0.571428597,
                                0.375,
                                -0.142857149,
                                -0.5,
                                0.285714298})},
       kTol},
      {"lrn_size3",
       "LRN",
       13,
       {{"size", int64_t{3}}, {"alpha", 0.1f}, {"beta", 0.5f}, {"bias", 1.5f}},
       {Seq<float>({2, 3, 2, 2}, 0.25, 0)},
       {T<float>({2, 3, 2, 2}, {-1.00267732,
                                0.404611886,
                                -0.402693629,
                                1.00335014,
                                0.198418945,
                                -0.603225827,
                                0.804843664,
                                0,
                                -0.807024777,
                                0.604858398,
                                -0.201756194,
                                -1.00335014,
                                0.404611886,
                                -0.402693629,
                                1.00335014,
                                0.201756194,
                                -0.603225827,
                                0.804843664,
                                0,
                                -0.804843664,
                                0.604858398,
                                -0.201756194,
                                -1.00335014,
                                0.402693629})},
       kTol},
      {"meanvariancenormalization_axis1",
       "MeanVarianceNormalization",
       13,
       {{"axes", Ints{1}}},
       {Seq<float>({2, 3, 2, 2}, 0.25, 0)},
       {T<float>({2, 3, 2, 2}, {-0.889000952,
                                0.508000493,
                                -0.889000833,
                                1.22474492,
                                1.3970015,
                                -1.39700139,
                                1.39700139,
                                0,
                                -0.508000493,
                                0.889000833,
                                -0.508000493,
                                -1.22474492,
                                0.508000493,
                                -0.889000833,
                                1.22474492,
                                0.508000493,
                                -1.39700139,
                                1.39700139,
                                0,
                                -1.39700139,
                                0.889000833,
                                -0.508000493,
                                -1.22474492,
                                0.889000833})},
       kTol},
  };
}

INSTANTIATE_TEST_SUITE_P(Normalization, NnOpTest, ::testing::ValuesIn(NormalizationCases()),
                         CaseName);

// Runs only the kernel (attributes completed from the schema, no shape inference), so that a bad
// input must be caught by the kernel itself.
absl::Status RunKernelOnly(const OpRun& run) {
  const OpSchema* schema = OpRegistry::Global().FindSchema("", run.op_type, run.opset);
  if (schema == nullptr) return absl::NotFoundError("no schema");
  AttributeMap attrs = run.attrs;
  RETURN_IF_ERROR(schema->Complete(static_cast<int>(run.inputs.size()), run.num_outputs, attrs));
  std::vector<const Tensor*> values;
  std::vector<DType> dtypes;
  for (const Tensor& t : run.inputs) {
    values.push_back(t.defined() ? &t : nullptr);
    dtypes.push_back(t.dtype());
  }
  const KernelDef* def = OpRegistry::Global().FindKernel(kCpuBackend, "", run.op_type, run.opset,
                                                         run.inputs[0].dtype());
  if (def == nullptr) return absl::NotFoundError("no kernel");
  KernelInfo info{run.op_type, "", run.opset, "test", &attrs, dtypes, values, run.num_outputs};
  ASSIGN_OR_RETURN(auto kernel, def->factory(info));
  KernelContext ctx(values, run.num_outputs);
  return kernel->Compute(ctx);
}

struct BadCase {
  std::string name;
  std::string op;
  int opset;
  std::vector<std::pair<std::string, AttrValue>> attrs;
  std::vector<Tensor> inputs;
  int num_outputs;
};

std::string BadCaseName(const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; }
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class NnBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(NnBadInputTest, IsRejectedWithoutCrashing) {
  const BadCase& c = GetParam();
  OpRun run{c.op, c.opset, Attrs(c.attrs), c.inputs, c.num_outputs};
  absl::StatusOr<std::vector<Tensor>> out = RunOp(run);
  EXPECT_FALSE(out.ok());
  absl::Status direct = RunKernelOnly(run);
  EXPECT_FALSE(direct.ok());
  EXPECT_FALSE(direct.message().empty());
}

Tensor F(Shape shape) { return Seq<float>(std::move(shape), 0.25, 0); }

std::vector<BadCase> BadConvCases() {
  return {
      {"conv_huge_stride",
       "Conv",
       17,
       {{"strides", Ints{int64_t{1} << 40, 1}}},
       {F({1, 1, 5, 5}), F({1, 1, 3, 3})},
       1},
      {"convtranspose_negative_output_shape",
       "ConvTranspose",
       17,
       {{"output_shape", Ints{-4, 4}}},
       {F({1, 1, 2, 2}), F({1, 1, 2, 2})},
       1},
      {"conv_x_rank2", "Conv", 17, {}, {F({2, 3}), F({4, 3})}, 1},
      {"conv_channel_mismatch", "Conv", 17, {}, {F({1, 3, 5, 5}), F({4, 2, 3, 3})}, 1},
      {"conv_group_not_dividing_m",
       "Conv",
       17,
       {{"group", int64_t{2}}},
       {F({1, 4, 5, 5}), F({3, 2, 3, 3})},
       1},
      {"conv_zero_group",
       "Conv",
       17,
       {{"group", int64_t{0}}},
       {F({1, 4, 5, 5}), F({3, 2, 3, 3})},
       1},
      {"conv_bias_shape", "Conv", 17, {}, {F({1, 2, 5, 5}), F({4, 2, 3, 3}), F({3})}, 1},
      {"conv_kernel_larger_than_input", "Conv", 17, {}, {F({1, 1, 2, 2}), F({1, 1, 3, 3})}, 1},
      {"conv_unknown_auto_pad",
       "Conv",
       17,
       {{"auto_pad", std::string("SAME")}},
       {F({1, 1, 5, 5}), F({1, 1, 3, 3})},
       1},
      {"conv_pads_length",
       "Conv",
       17,
       {{"pads", Ints{1, 1}}},
       {F({1, 1, 5, 5}), F({1, 1, 3, 3})},
       1},
      {"conv_negative_pads",
       "Conv",
       17,
       {{"pads", Ints{-1, 0, 0, 0}}},
       {F({1, 1, 5, 5}), F({1, 1, 3, 3})},
       1},
      {"conv_zero_stride",
       "Conv",
       17,
       {{"strides", Ints{0, 1}}},
       {F({1, 1, 5, 5}), F({1, 1, 3, 3})},
       1},
      {"conv_zero_dilation",
       "Conv",
       17,
       {{"dilations", Ints{1, 0}}},
       {F({1, 1, 5, 5}), F({1, 1, 3, 3})},
       1},
      {"conv_kernel_shape_mismatch",
       "Conv",
       17,
       {{"kernel_shape", Ints{2, 2}}},
       {F({1, 1, 5, 5}), F({1, 1, 3, 3})},
       1},
      {"conv_dtype_mismatch",
       "Conv",
       17,
       {},
       {F({1, 1, 5, 5}), Seq<double>({1, 1, 3, 3}, 1, 0)},
       1},
      {"conv_int32",
       "Conv",
       17,
       {},
       {Seq<int32_t>({1, 1, 5, 5}, 1, 0), Seq<int32_t>({1, 1, 3, 3}, 1, 0)},
       1},
      {"conv_4_spatial_dims", "Conv", 17, {}, {F({1, 1, 2, 2, 2, 2}), F({1, 1, 1, 1, 1, 1})}, 1},
      {"convtranspose_pads_too_large",
       "ConvTranspose",
       17,
       {{"pads", Ints{3, 3, 3, 3}}},
       {F({1, 1, 2, 2}), F({1, 1, 2, 2})},
       1},
      {"convtranspose_channel_mismatch",
       "ConvTranspose",
       17,
       {},
       {F({1, 2, 2, 2}), F({3, 1, 2, 2})},
       1},
      {"convtranspose_output_padding_length",
       "ConvTranspose",
       17,
       {{"output_padding", Ints{1}}},
       {F({1, 1, 2, 2}), F({1, 1, 2, 2})},
       1},
  };
}

INSTANTIATE_TEST_SUITE_P(Conv, NnBadInputTest, ::testing::ValuesIn(BadConvCases()), BadCaseName);

std::vector<BadCase> BadMatMulCases() {
  return {
      {"gemm_int_huge_alpha",
       "Gemm",
       17,
       {{"alpha", 1e20f}},
       {Seq<int32_t>({2, 2}, 1, 0), Seq<int32_t>({2, 2}, 1, 0)},
       1},
      {"matmul_inner_mismatch", "MatMul", 17, {}, {F({2, 3}), F({4, 2})}, 1},
      {"matmul_batch_mismatch", "MatMul", 17, {}, {F({2, 2, 3}), F({3, 3, 2})}, 1},
      {"matmul_scalar", "MatMul", 17, {}, {F({}), F({3})}, 1},
      {"matmul_dtype_mismatch", "MatMul", 17, {}, {F({2, 3}), Seq<double>({3, 2}, 1, 0)}, 1},
      {"matmul_bool", "MatMul", 17, {}, {Seq<bool>({2, 2}, 1, 0), Seq<bool>({2, 2}, 1, 0)}, 1},
      {"gemm_a_rank3", "Gemm", 17, {}, {F({1, 2, 3}), F({3, 2})}, 1},
      {"gemm_inner_mismatch", "Gemm", 17, {{"transA", int64_t{1}}}, {F({2, 3}), F({3, 2})}, 1},
      {"gemm_c_not_broadcastable", "Gemm", 17, {}, {F({2, 3}), F({3, 2}), F({3, 2})}, 1},
      {"gemm_int_fractional_alpha",
       "Gemm",
       17,
       {{"alpha", 0.5f}},
       {Seq<int32_t>({2, 2}, 1, 0), Seq<int32_t>({2, 2}, 1, 0)},
       1},
  };
}

INSTANTIATE_TEST_SUITE_P(MatMul, NnBadInputTest, ::testing::ValuesIn(BadMatMulCases()),
                         BadCaseName);

std::vector<BadCase> BadPoolCases() {
  return {
      {"maxpool_missing_kernel_shape", "MaxPool", 17, {}, {F({1, 1, 4, 4})}, 1},
      {"maxpool_rank2_input", "MaxPool", 17, {{"kernel_shape", Ints{2}}}, {F({4, 4})}, 1},
      {"maxpool_kernel_too_large",
       "MaxPool",
       17,
       {{"kernel_shape", Ints{5, 5}}},
       {F({1, 1, 4, 4})},
       1},
      {"maxpool_kernel_rank_mismatch",
       "MaxPool",
       17,
       {{"kernel_shape", Ints{2}}},
       {F({1, 1, 4, 4})},
       1},
      {"averagepool_int32",
       "AveragePool",
       17,
       {{"kernel_shape", Ints{2, 2}}},
       {Seq<int32_t>({1, 1, 4, 4}, 1, 0)},
       1},
      {"lppool_p0",
       "LpPool",
       17,
       {{"kernel_shape", Ints{2, 2}}, {"p", int64_t{0}}},
       {F({1, 1, 4, 4})},
       1},
      {"globalaveragepool_rank1", "GlobalAveragePool", 17, {}, {F({4})}, 1},
      {"maxunpool_index_out_of_range",
       "MaxUnpool",
       11,
       {{"kernel_shape", Ints{2, 2}}},
       {F({1, 1, 1, 1}), T<int64_t>({1, 1, 1, 1}, {4})},
       1},
      {"maxunpool_negative_index",
       "MaxUnpool",
       11,
       {{"kernel_shape", Ints{2, 2}}},
       {F({1, 1, 1, 1}), T<int64_t>({1, 1, 1, 1}, {-1})},
       1},
      {"maxunpool_indices_int32",
       "MaxUnpool",
       11,
       {{"kernel_shape", Ints{2, 2}}},
       {F({1, 1, 1, 1}), T<int32_t>({1, 1, 1, 1}, {0})},
       1},
  };
}

INSTANTIATE_TEST_SUITE_P(Pool, NnBadInputTest, ::testing::ValuesIn(BadPoolCases()), BadCaseName);

std::vector<BadCase> BadNormalizationCases() {
  return {
      {"batchnorm_param_size",
       "BatchNormalization",
       15,
       {},
       {F({2, 3, 2}), F({2}), F({3}), F({3}), F({3})},
       1},
      {"batchnorm_rank1",
       "BatchNormalization",
       15,
       {},
       {F({3}), F({3}), F({3}), F({3}), F({3})},
       1},
      {"layernorm_axis_out_of_range",
       "LayerNormalization",
       17,
       {{"axis", int64_t{4}}},
       {F({2, 3, 2, 2}), F({2})},
       1},
      {"layernorm_scale_mismatch",
       "LayerNormalization",
       17,
       {{"axis", int64_t{2}}},
       {F({2, 3, 2, 2}), F({3})},
       1},
      {"instancenorm_rank2", "InstanceNormalization", 17, {}, {F({2, 3}), F({3}), F({3})}, 1},
      {"instancenorm_scale_size",
       "InstanceNormalization",
       17,
       {},
       {F({2, 3, 4}), F({2}), F({3})},
       1},
      {"lpnormalization_p3", "LpNormalization", 17, {{"p", int64_t{3}}}, {F({2, 3})}, 1},
      {"lpnormalization_axis", "LpNormalization", 17, {{"axis", int64_t{2}}}, {F({2, 3})}, 1},
      {"lrn_size0", "LRN", 17, {{"size", int64_t{0}}}, {F({1, 3, 2, 2})}, 1},
      {"mvn_axis_out_of_range",
       "MeanVarianceNormalization",
       17,
       {{"axes", Ints{0, 4}}},
       {F({1, 3, 2, 2})},
       1},
  };
}

INSTANTIATE_TEST_SUITE_P(Normalization, NnBadInputTest,
                         ::testing::ValuesIn(BadNormalizationCases()), BadCaseName);

// ----- Shape inference on partly unknown shapes (-1 dims) -----

TensorType Infer(const std::string& op, int opset,
                 std::vector<std::pair<std::string, AttrValue>> attr_values,
                 std::vector<TensorType> inputs, int num_outputs = 1, int output = 0,
                 std::vector<const Tensor*> constants = {}) {
  const OpSchema* schema = OpRegistry::Global().FindSchema("", op, opset);
  EXPECT_NE(schema, nullptr);
  AttributeMap attrs = Attrs(std::move(attr_values));
  EXPECT_TRUE(schema->Complete(static_cast<int>(inputs.size()), num_outputs, attrs).ok());
  constants.resize(inputs.size(), nullptr);
  InferenceContext ctx(inputs, constants, &attrs, opset, num_outputs);
  absl::Status st = schema->RunInference(ctx);
  EXPECT_TRUE(st.ok()) << st;
  return ctx.outputs()[output];
}

TensorType F32(Shape s) { return TensorType{DType::kFloat32, std::move(s)}; }

TEST(NnInferenceTest, ConvWithUnknownBatch) {
  TensorType t = Infer("Conv", 13, {{"strides", Ints{2, 2}}, {"pads", Ints{3, 3, 3, 3}}},
                       {F32({-1, 3, 224, 224}), F32({64, 3, 7, 7})});
  EXPECT_EQ(t.dtype, DType::kFloat32);
  EXPECT_EQ(*t.shape, (Shape{-1, 64, 112, 112}));
}

TEST(NnInferenceTest, ConvSameUpperWithUnknownHeight) {
  TensorType t =
      Infer("Conv", 17, {{"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2, 2}}},
            {F32({1, 8, -1, 31}), F32({16, 8, 3, 3})});
  EXPECT_EQ(*t.shape, (Shape{1, 16, -1, 16}));
}

TEST(NnInferenceTest, ConvWithUnknownKernelDims) {
  TensorType t = Infer("Conv", 17, {}, {F32({1, 3, 8, 8}), F32({4, 3, -1, -1})});
  EXPECT_EQ(*t.shape, (Shape{1, 4, -1, -1}));
}

TEST(NnInferenceTest, ConvWithUnknownRankIsUnknown) {
  TensorType t =
      Infer("Conv", 17, {}, {TensorType{DType::kFloat32, std::nullopt}, F32({1, 1, 3, 3})});
  EXPECT_EQ(t.dtype, DType::kFloat32);
  EXPECT_FALSE(t.shape.has_value());
}

TEST(NnInferenceTest, ConvInferenceRejectsChannelMismatch) {
  const OpSchema* schema = OpRegistry::Global().FindSchema("", "Conv", 17);
  ASSERT_NE(schema, nullptr);
  AttributeMap attrs;
  ASSERT_TRUE(schema->Complete(2, 1, attrs).ok());
  InferenceContext ctx({F32({1, 3, 8, 8}), F32({4, 2, 3, 3})}, {nullptr, nullptr}, &attrs, 17, 1);
  EXPECT_FALSE(schema->RunInference(ctx).ok());
}

TEST(NnInferenceTest, ConvTransposeOutputPaddingAndGroups) {
  TensorType t =
      Infer("ConvTranspose", 17,
            {{"strides", Ints{2, 2}}, {"output_padding", Ints{1, 1}}, {"group", int64_t{2}}},
            {F32({2, 4, 5, -1}), F32({4, 3, 3, 3})});
  EXPECT_EQ(*t.shape, (Shape{2, 6, 12, -1}));
  TensorType same =
      Infer("ConvTranspose", 17, {{"strides", Ints{3}}, {"auto_pad", std::string("SAME_LOWER")}},
            {F32({1, 1, 7}), F32({1, 2, 4})});
  EXPECT_EQ(*same.shape, (Shape{1, 2, 21}));
  TensorType explicit_shape =
      Infer("ConvTranspose", 17, {{"strides", Ints{2}}, {"output_shape", Ints{1, 2, 9}}},
            {F32({1, 1, 4}), F32({1, 2, 3})});
  EXPECT_EQ(*explicit_shape.shape, (Shape{1, 2, 9}));
}

TEST(NnInferenceTest, MaxPoolCeilModeAndIndices) {
  std::vector<std::pair<std::string, AttrValue>> attrs = {
      {"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}};
  EXPECT_EQ(*Infer("MaxPool", 13, attrs, {F32({1, 64, 111, 110})}, 2, 0).shape,
            (Shape{1, 64, 55, 55}));
  TensorType indices = Infer("MaxPool", 13, attrs, {F32({1, 64, 111, 110})}, 2, 1);
  EXPECT_EQ(indices.dtype, DType::kInt64);
  EXPECT_EQ(*indices.shape, (Shape{1, 64, 55, 55}));
}

TEST(NnInferenceTest, PoolPaddingModes) {
  auto pool = [](const std::string& auto_pad, Shape in) {
    return *Infer("AveragePool", 17,
                  {{"kernel_shape", Ints{3, 2}}, {"strides", Ints{3, 2}}, {"auto_pad", auto_pad}},
                  {F32(std::move(in))})
                .shape;
  };
  EXPECT_EQ(pool("VALID", {1, 2, 10, -1}), (Shape{1, 2, 3, -1}));
  EXPECT_EQ(pool("SAME_UPPER", {1, 2, 10, 7}), (Shape{1, 2, 4, 4}));
  EXPECT_EQ(pool("SAME_LOWER", {1, 2, 10, 7}), (Shape{1, 2, 4, 4}));
  EXPECT_EQ(pool("NOTSET", {1, 2, 10, 7}), (Shape{1, 2, 3, 3}));
}

TEST(NnInferenceTest, MatMulBroadcastsBatchAndDropsVectorDims) {
  EXPECT_EQ(*Infer("MatMul", 13, {}, {F32({-1, 5, 3}), F32({3, 4})}).shape, (Shape{-1, 5, 4}));
  EXPECT_EQ(*Infer("MatMul", 13, {}, {F32({3}), F32({7, 1, 3, 2})}).shape, (Shape{7, 1, 2}));
  EXPECT_EQ(*Infer("MatMul", 13, {}, {F32({2, 1, 4, 3}), F32({6, 3, -1})}).shape,
            (Shape{2, 6, 4, -1}));
  EXPECT_EQ(*Infer("MatMul", 13, {}, {F32({4, 3}), F32({3})}).shape, (Shape{4}));
}

TEST(NnInferenceTest, GemmTransposes) {
  EXPECT_EQ(*Infer("Gemm", 13, {{"transA", int64_t{1}}, {"transB", int64_t{1}}},
                   {F32({3, -1}), F32({5, 3}), F32({5})})
                 .shape,
            (Shape{-1, 5}));
}

TEST(NnInferenceTest, GlobalPoolAndNormalizationOutputs) {
  EXPECT_EQ(*Infer("GlobalAveragePool", 13, {}, {F32({1, 3, -1, -1})}).shape, (Shape{1, 3, 1, 1}));
  TensorType mean = Infer(
      "LayerNormalization", 17, {{"axis", int64_t{2}}},
      {TensorType{DType::kFloat64, Shape{2, 3, 4, 5}}, TensorType{DType::kFloat64, Shape{4, 5}}}, 3,
      1);
  EXPECT_EQ(mean.dtype, DType::kFloat32);  // stash_type 1
  EXPECT_EQ(*mean.shape, (Shape{2, 3, 1, 1}));
  TensorType running_var = Infer(
      "BatchNormalization", 15, {{"training_mode", int64_t{1}}},
      {F32({2, 7, 3}), F32({7}), F32({7}), F32({7}), TensorType{DType::kFloat64, Shape{7}}}, 3, 2);
  EXPECT_EQ(running_var.dtype, DType::kFloat64);
  EXPECT_EQ(*running_var.shape, (Shape{7}));
}

TEST(NnInferenceTest, MaxUnpoolUsesConstantOutputShape) {
  Tensor shape = T<int64_t>({4}, {1, 1, 5, 5});
  TensorType t = Infer("MaxUnpool", 11, {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}},
                       {F32({1, 1, 2, 2}), TensorType{DType::kInt64, Shape{1, 1, 2, 2}},
                        TensorType{DType::kInt64, Shape{4}}},
                       1, 0, {nullptr, nullptr, &shape});
  EXPECT_EQ(*t.shape, (Shape{1, 1, 5, 5}));
  TensorType unknown = Infer("MaxUnpool", 11, {{"kernel_shape", Ints{2, 2}}},
                             {F32({1, 1, 2, 2}), TensorType{DType::kInt64, Shape{1, 1, 2, 2}},
                              TensorType{DType::kInt64, Shape{4}}});
  EXPECT_FALSE(unknown.shape.has_value());
}

// ----- Kernels are immutable: one instance serves concurrent calls -----

TEST(NnConcurrencyTest, OneConvKernelServesManyThreads) {
  AttributeMap attrs = Attrs({{"pads", Ints{1, 1, 1, 1}}});
  const OpSchema* schema = OpRegistry::Global().FindSchema("", "Conv", 17);
  ASSERT_NE(schema, nullptr);
  ASSERT_TRUE(schema->Complete(2, 1, attrs).ok());
  const Tensor x = Seq<float>({1, 8, 20, 20}, 0.25, 0);
  const Tensor w = Seq<float>({16, 8, 3, 3}, 0.5, 3);
  const KernelDef* def =
      OpRegistry::Global().FindKernel(kCpuBackend, "", "Conv", 17, DType::kFloat32);
  ASSERT_NE(def, nullptr);
  KernelInfo info{"Conv", "", 17, "test", &attrs, {x.dtype(), w.dtype()}, {nullptr, &w}, 1};
  auto kernel = def->factory(info);
  ASSERT_TRUE(kernel.ok());
  auto run = [&]() {
    KernelContext ctx({&x, &w}, 1);
    EXPECT_TRUE((*kernel)->Compute(ctx).ok());
    return ctx.output(0);
  };
  const Tensor reference = run();
  std::vector<Tensor> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { results[i] = run(); });
  for (auto& t : threads) t.join();
  for (const Tensor& r : results) EXPECT_EQ(CompareTensors(r, reference, 0, 0), "");
}

// ----- The GEMM itself, against a naive loop in double -----

template <typename V>
void CheckGemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, V alpha, V beta, int64_t pad) {
  std::mt19937 rng(static_cast<uint32_t>(m * 131 + n * 17 + k + ta * 2 + tb));
  std::uniform_int_distribution<int> dist(-8, 8);
  const int64_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
  std::vector<V> a((ta ? k : m) * lda + 1), b((tb ? n : k) * ldb + 1), c(m * ldc + 1);
  for (V& v : a) v = static_cast<V>(dist(rng)) / V(4);
  for (V& v : b) v = static_cast<V>(dist(rng)) / V(8);
  for (V& v : c) v = static_cast<V>(dist(rng));
  if (beta == V(0)) {
    for (V& v : c) v = std::numeric_limits<V>::quiet_NaN();  // must not leak through
  }
  const std::vector<V> c0 = c;
  Gemm<V>(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= n) {  // padding between rows is untouched
        ASSERT_TRUE(std::isnan(c[i * ldc + j]) ? std::isnan(c0[i * ldc + j])
                                               : c[i * ldc + j] == c0[i * ldc + j]);
        continue;
      }
      double sum = 0, mag = 0;
      for (int64_t p = 0; p < k; ++p) {
        const double av = ta ? a[p * lda + i] : a[i * lda + p];
        const double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
        sum += av * bv;
        mag += std::fabs(av * bv);
      }
      const double want = alpha * sum + (beta == V(0) ? 0.0 : beta * double(c0[i * ldc + j]));
      const double tol = (sizeof(V) == 4 ? 1e-6 : 1e-14) * (mag * std::fabs(double(alpha)) + 1);
      ASSERT_NEAR(c[i * ldc + j], want, tol) << "ta=" << ta << " tb=" << tb << " m=" << m
                                             << " n=" << n << " k=" << k << " at " << i << "," << j;
    }
  }
}

TEST(GemmTest, MatchesNaiveLoopOnEdgeShapes) {
  const int64_t shapes[][3] = {{1, 1, 1},    {1, 37, 5},     {7, 1, 9},     {6, 16, 256},
                               {13, 29, 3},  {5, 17, 300},   {97, 65, 257}, {200, 40, 70},
                               {3, 1100, 2}, {1, 1000, 130}, {50, 2, 33},   {2, 70, 45}};
  for (const auto& s : shapes) {
    for (int t = 0; t < 4; ++t) {
      CheckGemm<float>(t & 1, t & 2, s[0], s[1], s[2], 1.0f, 0.0f, 0);
      CheckGemm<double>(t & 1, t & 2, s[0], s[1], s[2], 0.5, 1.5, 3);
    }
    CheckGemm<float>(false, true, s[0], s[1], s[2], -2.0f, 1.0f, 5);
  }
}

TEST(GemmTest, DegenerateSizesOnlyScaleC) {
  std::vector<float> c = {1, 2, 3, 4};
  Gemm<float>(false, false, 2, 2, 0, 1.0f, nullptr, 0, nullptr, 2, 0.5f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1, 1.5f, 2}));
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> a = {inf, inf}, b = {inf, inf};
  Gemm<float>(false, false, 2, 2, 1, 0.0f, a.data(), 1, b.data(), 2, 0.0f, c.data(), 2);
  EXPECT_EQ(c, (std::vector<float>{0, 0, 0, 0}));  // alpha 0 does not read A or B
}

TEST(GemmTest, IntegersWrapLikeNumpy) {
  std::vector<int32_t> a = {std::numeric_limits<int32_t>::max(), 2};
  std::vector<int32_t> b = {2, 1};
  std::vector<int32_t> c = {7};
  Gemm<int32_t>(false, false, 1, 1, 2, 1, a.data(), 2, b.data(), 1, 0, c.data(), 1);
  EXPECT_EQ(c[0], static_cast<int32_t>(0u + 2u * 2147483647u + 2u));  // wraps to 0
  std::vector<uint64_t> ua = {3, 4, 5, 6}, ub = {1, 2, 3, 4}, uc = {10, 20, 30, 40};
  Gemm<uint64_t>(true, false, 2, 2, 2, 2, ua.data(), 2, ub.data(), 2, 1, uc.data(), 2);
  // A^T = [[3,5],[4,6]]; A^T B = [[18,26],[22,32]]; 2 * that + C.
  EXPECT_EQ(uc, (std::vector<uint64_t>{46, 72, 74, 104}));
}

}  // namespace
}  // namespace cortado
