// Round trips between ONNX and Caffe2 NetDef: every converted model must give the original's
// outputs.
#include "predictor/model_io.h"

#include <cstdlib>

#include "core/npy.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

std::string Fixtures() { return std::string(std::getenv("TEST_SRCDIR")) + "/fixtures"; }
std::string Tmp() { return std::getenv("TEST_TMPDIR"); }

Tensor RunOnly(const std::string& model, const std::string& input_name, const Tensor& input) {
  auto p = Predictor::FromFile(model);
  EXPECT_TRUE(p.ok()) << model << ": " << p.status();
  if (!p.ok()) return Tensor();
  auto out = (*p)->Run({{input_name.empty() ? (*p)->inputs()[0].name : input_name, input}});
  EXPECT_TRUE(out.ok()) << model << ": " << out.status();
  return out.ok() ? out->begin()->second : Tensor();
}

class OnnxRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(OnnxRoundTrip, OnnxToNetDefToOnnxKeepsOutputs) {
  const std::string dir = Fixtures() + "/onnx/" + GetParam();
  auto input = ReadNpyFile(dir + "/input.npy");
  ASSERT_TRUE(input.ok());
  const Tensor original = RunOnly(dir + "/model.onnx", "", *input);

  auto graph = LoadGraph(dir + "/model.onnx");
  ASSERT_TRUE(graph.ok()) << graph.status();
  const std::string netdef = Tmp() + "/" + GetParam() + "_netdef";
  ASSERT_TRUE(SaveGraph(*graph, netdef).ok()) << SaveGraph(*graph, netdef);
  const Tensor via_netdef = RunOnly(netdef, "", *input);
  EXPECT_EQ(CompareTensors(via_netdef, original, 1e-5, 1e-6), "") << "ONNX -> NetDef";

  auto back = LoadGraph(netdef);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->inputs.size(), 1u);
  EXPECT_FALSE(SaveGraph(*back, Tmp() + "/no_shape.onnx").ok());  // NetDef lost the shape
  back->inputs[0].type = graph->inputs[0].type;
  const std::string onnx = Tmp() + "/" + GetParam() + "_back.onnx";
  absl::Status saved = SaveGraph(*back, onnx);
  ASSERT_TRUE(saved.ok()) << saved;
  EXPECT_EQ(CompareTensors(RunOnly(onnx, "", *input), original, 1e-5, 1e-6), "")
      << "ONNX -> NetDef -> ONNX";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OnnxRoundTrip,
                         ::testing::Values("mlp", "squeezenet1_1", "mobilenet_v2"));

TEST(NetDefRoundTrip, LenetToOnnxToNetDefKeepsPyTorchsAnswer) {
  const std::string dir = Fixtures() + "/netdef/lenet";
  auto input = ReadNpyFile(dir + "/input_1.npy");
  auto expected = ReadNpyFile(dir + "/output_26.npy");
  ASSERT_TRUE(input.ok() && expected.ok());
  auto graph = LoadGraph(dir);
  ASSERT_TRUE(graph.ok()) << graph.status();
  graph->inputs[0].type = {DType::kFloat32, Shape{-1, 1, 28, 28}};
  const std::string onnx = Tmp() + "/lenet.onnx";
  absl::Status saved = SaveGraph(*graph, onnx);
  ASSERT_TRUE(saved.ok()) << saved;
  EXPECT_EQ(CompareTensors(RunOnly(onnx, "1", *input), *expected, 1e-4, 1e-4), "");
  auto back = LoadGraph(onnx);
  ASSERT_TRUE(back.ok()) << back.status();
  const std::string netdef = Tmp() + "/lenet_back";
  saved = SaveGraph(*back, netdef);
  ASSERT_TRUE(saved.ok()) << saved;
  EXPECT_EQ(CompareTensors(RunOnly(netdef, "1", *input), *expected, 1e-4, 1e-4), "");
}

TEST(ModelIoTest, LoadErrorsNameTheProblem) {
  EXPECT_EQ(LoadGraph(Tmp()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(LoadGraph(Tmp() + "/missing.onnx").ok());
  ASSERT_TRUE(WriteStringToFile(Tmp() + "/predict_net.pb", "junk").ok());
  auto no_init = LoadGraph(Tmp() + "/predict_net.pb");
  EXPECT_NE(no_init.status().message().find("no init_net.pb"), std::string::npos);
}

}  // namespace
}  // namespace cortado
