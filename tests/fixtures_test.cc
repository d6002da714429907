// Real models exported by PyTorch 1.13 (testdata/onnx) run through the Predictor on the
// reference kernels alone and on every backend, and must give PyTorch's answer:
// max |ours - PyTorch| <= 1e-4 * max |PyTorch|.
#include <cmath>
#include <cstdlib>
#include <string>
#include <tuple>

#include "core/npy.h"
#include "gtest/gtest.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

std::string FixtureDir(const std::string& model) {
  return std::string(std::getenv("TEST_SRCDIR")) + "/cortado/testdata/onnx/" + model;
}

// (model, backends): "cpu" is the reference kernels alone, "cpu_opt" the optimized CPU kernels
// (backends/cpu) with the reference ones, "" every registered backend.
class FixtureTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(FixtureTest, MatchesPyTorch) {
  const auto& [model, backends] = GetParam();
  const std::string dir = FixtureDir(model);
  PredictorOptions options;
  if (!backends.empty()) options.plan.backends = {backends};
  auto predictor = Predictor::FromFile(dir + "/model.onnx", options);
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  auto input = ReadNpyFile(dir + "/input.npy");
  ASSERT_TRUE(input.ok()) << input.status();
  auto expected = ReadNpyFile(dir + "/output.npy");
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_EQ((*predictor)->inputs().size(), 1u);
  ASSERT_EQ((*predictor)->outputs().size(), 1u);
  // Twice: the first run records its allocations, the second runs in the memory plan's arena.
  for (const char* run : {"first", "second"}) {
    auto outputs = (*predictor)->Run({{(*predictor)->inputs()[0].name, *input}});
    ASSERT_TRUE(outputs.ok()) << outputs.status();
    const Tensor& out = outputs->begin()->second;
    ASSERT_EQ(out.dtype(), DType::kFloat32);
    ASSERT_EQ(out.shape(), expected->shape());
    double max_err = 0, max_ref = 0;
    for (int64_t i = 0; i < out.num_elements(); ++i) {
      const double e = expected->data<float>()[i];
      max_err = std::max(max_err, std::fabs(out.data<float>()[i] - e));
      max_ref = std::max(max_ref, std::fabs(e));
    }
    std::printf("%s on %s, %s run: max abs error %.3g, max |output| %.3g, ratio %.3g\n",
                model.c_str(), backends.empty() ? "every backend" : backends.c_str(), run, max_err,
                max_ref, max_err / max_ref);
    EXPECT_LE(max_err, 1e-4 * max_ref) << run << " run";
  }
}

INSTANTIATE_TEST_SUITE_P(PyTorchExports, FixtureTest,
                         ::testing::Combine(::testing::Values("mlp", "squeezenet1_1",
                                                              "mobilenet_v2"),
                                            ::testing::Values("cpu", "cpu_opt", "")));

}  // namespace
}  // namespace cortado
