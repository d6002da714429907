// Tests for the Caffe2go stylizer packing ops (caffe2_image.cc). Expected values come from an
// independent numpy reference written for these tests from caffe2/operators/stylizer_ops.cc's
// portable (runCPU) paths: preprocess noise cycles over (pixel, channel) pairs and restarts per
// image; deprocess clamps to 0..255 and truncates toward zero.
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "ops/op_test_table.h"

namespace cortado {
namespace {

constexpr char kPre[] = "PackedInt8BGRANHWCToNCHWCStylizerPreprocess";
constexpr char kDe[] = "BRGNCHWCToPackedInt8BGRAStylizerDeprocess";

absl::StatusOr<std::vector<Tensor>> RunStylizer(const char* op, std::vector<Tensor> inputs) {
  OpRun run{op, 1, AttributeMap(), std::move(inputs)};
  run.domain = kCaffe2Domain;
  return RunOp(run);
}

// Two 2x3 BGRA images (N = 2, so the noise restarts per image); the noise cycle (4) is not a
// multiple of 3, so it wraps in the middle of a pixel.
const Tensor kImage =
    V<uint8_t>({0,   255, 7,   9,   1,  2,  3,  4,  200, 100, 50, 0,  13,  17, 19, 23,
                255, 0,   128, 1,   60, 61, 62, 63, 5,   6,   7,  8,  90,  91, 92, 93,
                254, 253, 252, 251, 31, 32, 33, 34, 11,  12,  13, 14, 250, 1,  2,  3},
               {2, 2, 3, 4});
const Tensor kMean = V<float>({10.5f, 20.0f, 30.25f}, {3});

TEST(Caffe2ImageTest, PreprocessMatchesNumpyWithNoise) {
  auto out = RunStylizer(kPre, {kImage, kMean, V<float>({0.5f, -1.0f, 2.0f, 0.25f}, {4})});
  ASSERT_TRUE(out.ok()) << out.status();
  const Tensor expected = V<float>(
      {-10.0,  -9.25,  191.5,  1.5,   245.0, 49.75, 234.0,  -17.5, 80.25,  -1.0, -21.0,  41.5,
       -21.25, -28.25, 20.25,  -11.0, 99.75, 30.75, -5.0,   79.75, 245.5,  19.5, 1.0,    239.75,
       -15.0,  71.5,   233.25, 14.0,  -9.0,  -18.5, -21.25, 60.75, 222.25, 3.0,  -15.25, -29.25},
      {2, 3, 2, 3});
  EXPECT_EQ(CompareTensors((*out)[0], expected), "");
}

TEST(Caffe2ImageTest, PreprocessMatchesNumpyWithoutNoise) {
  auto out = RunStylizer(kPre, {kImage, kMean});
  ASSERT_TRUE(out.ok()) << out.status();
  const Tensor expected = V<float>(
      {-10.5,  -9.5,   189.5, 2.5,    244.5, 49.5,  235.0,  -18.0, 80.0,   -3.0, -20.0,  41.0,
       -23.25, -27.25, 19.75, -11.25, 97.75, 31.75, -5.5,   79.5,  243.5,  20.5, 0.5,    239.5,
       -14.0,  71.0,   233.0, 12.0,   -8.0,  -19.0, -23.25, 61.75, 221.75, 2.75, -17.25, -28.25},
      {2, 3, 2, 3});
  EXPECT_EQ(CompareTensors((*out)[0], expected), "");
}

TEST(Caffe2ImageTest, DeprocessClampsTruncatesAndSetsAlpha) {
  // + mean: channel 0 -> -289.5, 0, 0.1, 11.2; channel 1 -> 0, 20, 0.1, 255.9; channel 2 ->
  // 255, 255.05, 330, NaN (Caffe2 leaves NaN undefined; here it gives 0).
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto out = RunStylizer(
      kDe, {V<float>({-300, -10.5, -10.4f, 0.7f, -20, 0, -19.9f, 235.9f, 224.75f, 224.8f, 300, nan},
                     {1, 3, 2, 2}),
            kMean});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(CompareTensors((*out)[0], V<uint8_t>({0, 0, 255, 255, 0, 20, 255, 255, 0, 0, 255, 255,
                                                  11, 255, 0, 255},
                                                 {1, 2, 2, 4})),
            "");
}

TEST(Caffe2ImageTest, BadInputsAreInvalidArgument) {
  const Tensor plane = V<float>(std::vector<float>(12, 0.0f), {1, 3, 2, 2});
  const struct {
    const char* op;
    std::vector<Tensor> inputs;
  } cases[] = {
      {kPre, {V<uint8_t>({1, 2, 3}, {1, 1, 1, 3}), kMean}},                 // 3 channels, not BGRA
      {kPre, {kImage, V<float>({1, 2}, {2})}},                              // mean of 2
      {kPre, {kImage, kMean, V<float>({}, {0})}},                           // empty noise
      {kDe, {V<float>(std::vector<float>(8, 0.0f), {1, 2, 2, 2}), kMean}},  // 2 channels
      {kDe, {plane, V<float>({1, 2, 3, 4}, {4})}},                          // mean of 4
  };
  for (const auto& c : cases) {
    auto out = RunStylizer(c.op, c.inputs);
    ASSERT_FALSE(out.ok()) << c.op;
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  }
}

}  // namespace
}  // namespace cortado
