#include "predictor/netdef/netdef_importer.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/match.h"
#include "caffe2.pb.h"
#include "core/npy.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "predictor/model_io.h"
#include "predictor/netdef/op_mapping.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

std::string LenetDir() { return std::string(std::getenv("TEST_SRCDIR")) + "/cortado/testdata/netdef/lenet"; }

// A real NetDef written by Caffe2's ONNX converter from a trained PyTorch LeNet; PyTorch
// computed output_26.npy from the same weights.
TEST(NetDefTest, LenetMatchesPyTorch) {
  auto p = Predictor::FromFile(LenetDir());
  ASSERT_TRUE(p.ok()) << p.status();
  auto input = ReadNpyFile(LenetDir() + "/input_1.npy");
  auto expected = ReadNpyFile(LenetDir() + "/output_26.npy");
  ASSERT_TRUE(input.ok() && expected.ok());
  auto out = (*p)->Run({{"1", *input}});
  ASSERT_TRUE(out.ok()) << out.status();
  const Tensor& y = out->at("26");
  ASSERT_EQ(y.shape(), expected->shape());
  double max_err = 0;
  for (int64_t i = 0; i < y.num_elements(); ++i) {
    max_err = std::max(max_err, std::fabs(double{y.data<float>()[i]} - expected->data<float>()[i]));
  }
  std::printf("lenet: max abs error vs PyTorch %.3g\n", max_err);
  EXPECT_LE(max_err, 1e-4);
}

caffe2::NetDef Text(const std::string& text) {
  caffe2::NetDef net;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &net)) << text;
  return net;
}

const char kInit[] = R"pb(
  op { type: "GivenTensorFill" output: "w" arg { name: "shape" ints: 2 ints: 3 }
       arg { name: "values" floats: 1 floats: -2 floats: 3 floats: 0.5 floats: 1 floats: -1 } }
  op { type: "ConstantFill" output: "b" arg { name: "shape" ints: 2 } arg { name: "value" f: 0.25 } }
)pb";

// In-place ops and a blob written twice: FC -> y, Relu y -> y (in place), Scale-like Mul y -> y.
const char kPredict[] = R"pb(
  name: "inplace"
  external_input: "x" external_input: "w" external_input: "b"
  external_output: "y"
  op { type: "FC" input: "x" input: "w" input: "b" output: "y" }
  op { type: "Relu" input: "y" output: "y" engine: "CUDNN" }
  op { type: "Add" input: "y" input: "y" output: "y" }
)pb";

TEST(NetDefTest, InPlaceOpsAndRepeatedWritersBecomeSsa) {
  auto graph = ImportNetDef(Text(kInit), Text(kPredict));
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->inputs.size(), 1u);
  EXPECT_EQ(graph->inputs[0].name, "x");
  auto p = Predictor::FromGraph(*std::move(graph));
  ASSERT_TRUE(p.ok()) << p.status();
  // x [1,3] = [1, 2, 3]: FC = [1-4+9, 0.5+2-3] + 0.25 = [6.25, -0.25]; relu; doubled.
  auto out = (*p)->Run({{"x", Tensor::FromVector<float>({1, 2, 3}, {1, 3})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(CompareTensors(out->at("y"), Tensor::FromVector<float>({12.5f, 0.0f}, {1, 2})), "");
}

TEST(NetDefTest, TextAndBinaryFormsBothParse) {
  const caffe2::NetDef net = Text(kPredict);
  auto binary = ParseNetDef(net.SerializeAsString(), "predict_net.pb");
  ASSERT_TRUE(binary.ok());
  EXPECT_EQ(binary->op_size(), 3);
  auto text = ParseNetDef(kPredict, "predict_net.pbtxt");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->name(), "inplace");
}

TEST(NetDefTest, MetaNetDefLoads) {
  caffe2::MetaNetDef meta;
  auto* init = meta.add_nets();
  init->set_key("GLOBAL_INIT_NET_TYPE");
  *init->mutable_value() = Text(kInit);
  auto* predict = meta.add_nets();
  predict->set_key("PREDICT_NET_TYPE");
  *predict->mutable_value() = Text(kPredict);
  auto graph = ImportMetaNetDef(meta.SerializeAsString());
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->outputs[0].name, "y");
}

TEST(NetDefTest, BadInputsAreClearErrors) {
  // Truncated files.
  auto lenet = ReadFileToString(LenetDir() + "/predict_net.pb");
  ASSERT_TRUE(lenet.ok());
  EXPECT_FALSE(ParseNetDef(lenet->substr(0, lenet->size() / 2), "predict_net.pb").ok());
  EXPECT_FALSE(ParseNetDef("", "predict_net.pb").ok());

  struct Case {
    std::string init, predict, expect;
  } cases[] = {
      // predict_net reads a blob that init_net does not fill and that is no external input.
      {R"pb(op { type: "ConstantFill" output: "b" arg { name: "shape" ints: 2 } })pb",
       R"pb(external_input: "x" external_input: "b" external_output: "y"
            op { type: "FC" input: "x" input: "w" input: "b" output: "y" })pb",
       "reads blob 'w'"},
      // An operator with no mapping names itself and its position.
      {kInit,
       R"pb(external_input: "x" external_output: "y"
            op { type: "Relu" input: "x" output: "t" }
            op { type: "FancyOp" input: "t" output: "y" })pb",
       "operator #1 (FancyOp): Caffe2 operator 'FancyOp' has no mapping"},
      // A wrong argument type.
      {kInit,
       R"pb(external_input: "x" external_output: "y"
            op { type: "Softmax" input: "x" output: "y" arg { name: "axis" s: "one" } })pb",
       "argument 'axis' must be an integer"},
      // A fill whose values do not match its shape.
      {R"pb(op { type: "GivenTensorFill" output: "w" arg { name: "shape" ints: 4 }
                 arg { name: "values" floats: 1 } })pb",
       kPredict, "'values' has 1 entries"},
      // An init_net operator that is not a fill.
      {R"pb(op { type: "Relu" input: "a" output: "w" arg { name: "shape" ints: 1 } })pb", kPredict,
       "not a supported fill"},
  };
  for (const Case& c : cases) {
    auto graph = ImportNetDef(Text(c.init), Text(c.predict));
    ASSERT_FALSE(graph.ok()) << c.expect;
    EXPECT_NE(graph.status().message().find(c.expect), std::string::npos) << graph.status();
  }
}

// Caffe2go's "crayon" style transfer (facebookarchive/models): stylizer pre/deprocess, reflect
// PadImage, 9x9 and 3x3 convolutions, PRelu, ConvTranspose. Its init_net fills the input blob
// with the mobile exporter's ConstantFill placeholder, which must stay a feedable input.
TEST(NetDefTest, CrayonStylizesABgraImage) {
  const std::string dir =
      std::string(std::getenv("TEST_SRCDIR")) + "/cortado/testdata/netdef/crayon";
  auto graph = ImportNetDefFiles(dir + "/init_net.pb", dir + "/predict_net.pb");
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->inputs.size(), 1u);
  EXPECT_EQ(graph->inputs[0].name, "data_int8_bgra");
  EXPECT_EQ(graph->initializers.count("data_int8_bgra"), 0u);
  // The preprocess noise: Caffe2's noise_size (491) draws with the net's noise_std (5).
  const Tensor* noise = nullptr;
  for (const auto& [name, t] : graph->initializers) {
    if (name.find("stylizer_noise") != std::string::npos) noise = &t;
  }
  ASSERT_NE(noise, nullptr);
  ASSERT_EQ(noise->shape(), (Shape{491}));
  double sum = 0, sum_sq = 0;
  for (int64_t i = 0; i < 491; ++i) {
    sum += noise->data<float>()[i];
    sum_sq += double{noise->data<float>()[i]} * noise->data<float>()[i];
  }
  const double mean = sum / 491, stddev = std::sqrt(sum_sq / 491 - mean * mean);
  EXPECT_NEAR(mean, 0.0, 1.0);     // 0 +- 4.4 standard errors
  EXPECT_NEAR(stddev, 5.0, 0.75);  // 5 +- 4.7 standard errors
  auto p = Predictor::FromGraph(*std::move(graph));
  ASSERT_TRUE(p.ok()) << p.status();
  // A deterministic 64x64 BGRA image: gradients in B, G and R, opaque.
  constexpr int64_t kSize = 64;
  std::vector<uint8_t> image(kSize * kSize * 4);
  for (int64_t y = 0; y < kSize; ++y) {
    for (int64_t x = 0; x < kSize; ++x) {
      uint8_t* px = &image[(y * kSize + x) * 4];
      px[0] = static_cast<uint8_t>(x * 4);
      px[1] = static_cast<uint8_t>(y * 4);
      px[2] = static_cast<uint8_t>((x + y) * 2);
      px[3] = 255;
    }
  }
  auto out =
      (*p)->Run({{"data_int8_bgra", Tensor::FromVector<uint8_t>(image, {1, kSize, kSize, 4})}});
  ASSERT_TRUE(out.ok()) << out.status();
  const Tensor& styled = out->at("styled_int8_bgra");
  ASSERT_EQ(styled.dtype(), DType::kUInt8);
  // 64 -> AveragePool /4 -> 16 -> pad 19 -> 35 -> conv 9x9 -> 27 -> six 3x3 convs -> 15 ->
  // two stride-2 transposed convs -> 63 -> pad 1 -> 64.
  ASSERT_EQ(styled.shape(), (Shape{1, kSize, kSize, 4}));
  const uint8_t* s = styled.data<uint8_t>();
  int distinct_blue = 0;
  std::vector<bool> seen(256, false);
  for (int64_t i = 0; i < kSize * kSize; ++i) {
    ASSERT_EQ(s[i * 4 + 3], 255) << "alpha at pixel " << i;
    if (!seen[s[i * 4]]) ++distinct_blue;
    seen[s[i * 4]] = true;
  }
  EXPECT_GT(distinct_blue, 16) << "the stylized image is (nearly) constant";
}

// Mask R-CNN 2Go in Int8 (facebookarchive/models): Int8 backbone and heads with per-blob scale
// and zero point, GenerateProposals, RoIAlign (NHWC), BBoxTransform, BoxWithNMSLimit. No Caffe2
// output exists to compare with (each op is checked in //ops:caffe2_reference_test), so this
// checks the detections' shapes and ranges on a 320x320 image, with im_info fed over the
// init_net's [320, 427, 1].
TEST(NetDefTest, MaskRcnn2GoInt8DetectsOnA320Image) {
  const std::string dir =
      std::string(std::getenv("TEST_SRCDIR")) + "/cortado/testdata/netdef/mask_rcnn_2go_int8";
  auto graph = ImportNetDefFiles(dir + "/init_net.pb", dir + "/predict_net.pb");
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->inputs.size(), 1u);
  EXPECT_EQ(graph->inputs[0].name, "data");
  ASSERT_TRUE(FeedParameter("im_info", *graph).ok());
  EXPECT_EQ(FeedParameter("no_such_blob", *graph).code(), absl::StatusCode::kNotFound);
  auto p = Predictor::FromGraph(*std::move(graph));
  ASSERT_TRUE(p.ok()) << p.status();
  // A BGR image: grey background, a red rectangle and a green disc.
  constexpr int64_t kSize = 320;
  std::vector<float> image(3 * kSize * kSize);
  for (int64_t y = 0; y < kSize; ++y) {
    for (int64_t x = 0; x < kSize; ++x) {
      float bgr[3] = {110, 120, 130};
      if (y >= 60 && y < 200 && x >= 40 && x < 150) bgr[0] = 30, bgr[1] = 60, bgr[2] = 200;
      if ((y - 210) * (y - 210) + (x - 230) * (x - 230) < 70 * 70) {
        bgr[0] = 20, bgr[1] = 180, bgr[2] = 60;
      }
      for (int c = 0; c < 3; ++c) image[(c * kSize + y) * kSize + x] = bgr[c];
    }
  }
  auto out = (*p)->Run({{"data", Tensor::FromVector<float>(image, {1, 3, kSize, kSize})},
                        {"im_info", Tensor::FromVector<float>({kSize, kSize, 1.0f}, {1, 3})}});
  ASSERT_TRUE(out.ok()) << out.status();
  const Tensor& scores = out->at("score_nms");
  const Tensor& boxes = out->at("bbox_nms");
  const Tensor& classes = out->at("class_nms");
  const Tensor& masks = out->at("mask_fcn_probs");
  const int64_t d = scores.num_elements();
  std::printf("mask_rcnn_2go_int8: %lld detections\n", static_cast<long long>(d));
  ASSERT_GE(d, 1) << "no detection: the mask head did not run";
  ASSERT_LE(d, 100);  // detections_per_im
  ASSERT_EQ(scores.shape(), (Shape{d}));
  ASSERT_EQ(boxes.shape(), (Shape{d, 4}));
  ASSERT_EQ(classes.shape(), (Shape{d}));
  // RoIAlign 6x6 -> ConvTranspose x2 -> 12 -> ConvTranspose x2 -> 24, 81 COCO classes.
  ASSERT_EQ(masks.shape(), (Shape{d, 81, 24, 24}));
  for (int64_t i = 0; i < d; ++i) {
    const float* b = boxes.data<float>() + 4 * i;
    const float c = classes.data<float>()[i];
    std::printf("  class %2.0f score %.3f box [%.1f %.1f %.1f %.1f]\n", c, scores.data<float>()[i],
                b[0], b[1], b[2], b[3]);
    EXPECT_GT(scores.data<float>()[i], 0.05f);  // score_thresh
    EXPECT_LE(scores.data<float>()[i], 1.0f);
    EXPECT_EQ(c, std::floor(c));
    EXPECT_GE(c, 1.0f);  // 0 is background
    EXPECT_LE(c, 80.0f);
    EXPECT_GE(b[0], 0.0f);
    EXPECT_GE(b[1], 0.0f);
    EXPECT_LE(b[0], b[2]);
    EXPECT_LE(b[1], b[3]);
    EXPECT_LE(b[2], kSize - 1.0f);
    EXPECT_LE(b[3], kSize - 1.0f);
  }
  for (int64_t i = 0; i < masks.num_elements(); ++i) {
    ASSERT_GE(masks.data<float>()[i], 0.0f);
    ASSERT_LE(masks.data<float>()[i], 1.0f);
  }
  // A flat grey image: no proposal survives BoxWithNMSLimit, and the mask head runs on no rois.
  std::fill(image.begin(), image.end(), 114.0f);
  auto none = (*p)->Run({{"data", Tensor::FromVector<float>(image, {1, 3, kSize, kSize})},
                         {"im_info", Tensor::FromVector<float>({kSize, kSize, 1.0f}, {1, 3})}});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->at("score_nms").shape(), (Shape{0}));
  EXPECT_EQ(none->at("bbox_nms").shape(), (Shape{0, 4}));
  EXPECT_EQ(none->at("class_nms").shape(), (Shape{0}));
  EXPECT_EQ(none->at("mask_fcn_probs").shape(), (Shape{0, 81, 24, 24}));
}

// PadImage reflect at its widest (pad = size - 1 on each axis), against numpy's np.pad(mode=
// 'reflect'), which agrees with Caffe2's PadImageOp there: h = |ph - pad_t| reflected about H-1.
TEST(NetDefTest, PadImageReflectMatchesNumpyAtTheBorders) {
  auto graph = ImportNetDef(Text(""), Text(R"pb(
                              external_input: "x"
                              external_output: "y"
                              op {
                                type: "PadImage"
                                input: "x"
                                output: "y"
                                arg { name: "mode" s: "reflect" }
                                arg { name: "pad_t" i: 2 }
                                arg { name: "pad_l" i: 3 }
                                arg { name: "pad_b" i: 1 }
                                arg { name: "pad_r" i: 2 }
                              })pb"));
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto p = Predictor::FromGraph(*std::move(graph));
  ASSERT_TRUE(p.ok()) << p.status();
  std::vector<float> x(12);
  for (int i = 0; i < 12; ++i) x[i] = static_cast<float>(i);
  auto out = (*p)->Run({{"x", Tensor::FromVector<float>(x, {1, 1, 3, 4})}});
  ASSERT_TRUE(out.ok()) << out.status();
  const Tensor expected = Tensor::FromVector<float>(
      {11, 10, 9, 8, 9, 10, 11, 10, 9, 7,  6,  5, 4, 5, 6,  7,  6,  5, 3, 2, 1, 0, 1, 2, 3, 2, 1,
       7,  6,  5, 4, 5, 6,  7,  6,  5, 11, 10, 9, 8, 9, 10, 11, 10, 9, 7, 6, 5, 4, 5, 6, 7, 6, 5},
      {1, 1, 6, 9});
  EXPECT_EQ(CompareTensors(out->at("y"), expected), "");
}

// Fills that make their own values share a byte limit, checked before allocating: kInit's "b"
// takes 8 bytes, a [4, 4] XavierFill 64 more; a 1 TiB ConstantFill is refused under the
// default limit, the machine's memory.
TEST(NetDefTest, GeneratedFillsStayWithinTheLimit) {
  const std::string init = std::string(kInit) + R"pb(op {
                                                       type: "XavierFill"
                                                       output: "unused"
                                                       arg { name: "shape" ints: [ 4, 4 ] }
                                                     })pb";
  EXPECT_TRUE(ImportNetDef(Text(init), Text(kPredict), 72).ok());
  auto over = ImportNetDef(Text(init), Text(kPredict), 71);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(over.status().message(), "(XavierFill -> 'unused'): out of memory"))
      << over.status();
  auto huge = ImportNetDef(Text(R"pb(op {
                                       type: "ConstantFill"
                                       output: "b"
                                       arg { name: "shape" ints: [ 262144, 1048576 ] }
                                       arg { name: "value" f: 0.5 }
                                     })pb"),
                           Text(kPredict));
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted) << huge.status();
  // A shape whose byte count overflows int64 is refused too.
  auto overflow = ImportNetDef(Text(R"pb(op {
                                           type: "ConstantFill"
                                           output: "b"
                                           arg { name: "dtype" i: 10 }
                                           arg { name: "shape" ints: [ 2305843009213693952, 2 ] }
                                         })pb"),
                               Text(kPredict));
  EXPECT_FALSE(overflow.ok());
}

// Only the mobile exporter's placeholder (ConstantFill shape [1], no value) turns a filled
// external input into a graph input, with the fill as its default; a valued ConstantFill stays a
// parameter (kInit's "b").
TEST(NetDefTest, ConstantFillPlaceholderIsAnInputFedByPosition) {
  const std::string init = std::string(kInit) + R"pb(op {
                                                       type: "ConstantFill"
                                                       output: "x"
                                                       arg { name: "shape" ints: 1 }
                                                     })pb";
  auto graph = ImportNetDef(Text(init), Text(kPredict));
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->inputs.size(), 1u);
  EXPECT_EQ(graph->inputs[0].name, "x");
  EXPECT_EQ(graph->initializers.count("x"), 0u);
  EXPECT_EQ(graph->initializers.count("b"), 1u);
  ASSERT_EQ(graph->input_defaults.count("x"), 1u);
  EXPECT_EQ(CompareTensors(graph->input_defaults.at("x"), Tensor::FromVector<float>({0}, {1})),
            "");
  auto p = Predictor::FromGraph(*std::move(graph));
  ASSERT_TRUE(p.ok()) << p.status();
  auto out = (*p)->Run({{"x", Tensor::FromVector<float>({1, 2, 3}, {1, 3})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(CompareTensors(out->at("y"), Tensor::FromVector<float>({12.5f, 0.0f}, {1, 2})), "");

  // Omitted, the input takes the fill: y = 2 * (x + x).
  auto doubled = ImportNetDef(Text(R"pb(op {
                                          type: "ConstantFill"
                                          output: "x"
                                          arg { name: "shape" ints: 1 }
                                        })pb"),
                              Text(R"pb(external_input: "x"
                                        external_output: "y"
                                        op { type: "Add" input: "x" input: "x" output: "t" }
                                        op { type: "Add" input: "t" input: "t" output: "y" })pb"));
  ASSERT_TRUE(doubled.ok()) << doubled.status();
  auto q = Predictor::FromGraph(*std::move(doubled));
  ASSERT_TRUE(q.ok()) << q.status();
  auto fed = (*q)->Run({{"x", Tensor::FromVector<float>({1.5f, -2.0f}, {2})}});
  ASSERT_TRUE(fed.ok()) << fed.status();
  EXPECT_EQ(CompareTensors(fed->at("y"), Tensor::FromVector<float>({6.0f, -8.0f}, {2})), "");
  auto omitted = (*q)->Run({});
  ASSERT_TRUE(omitted.ok()) << omitted.status();
  EXPECT_EQ(CompareTensors(omitted->at("y"), Tensor::FromVector<float>({0.0f}, {1})), "");
}

TEST(NetDefTest, MapsTheDocumentedOperators) {
  const std::vector<std::string> ops = MappedCaffe2Ops();
  for (const char* op : {"FC",
                         "FCTransposed",
                         "SpatialBN",
                         "Conv",
                         "ConvTranspose",
                         "MaxPool",
                         "AveragePool",
                         "Relu",
                         "PRelu",
                         "LeakyRelu",
                         "Sigmoid",
                         "Tanh",
                         "Softmax",
                         "Sum",
                         "Add",
                         "Sub",
                         "Mul",
                         "Div",
                         "Concat",
                         "Reshape",
                         "Flatten",
                         "Transpose",
                         "Squeeze",
                         "ExpandDims",
                         "PadImage",
                         "ResizeNearest",
                         "InstanceNorm",
                         "LRN",
                         "Dropout",
                         "BatchMatMul",
                         "Copy",
                         "Negative",
                         "Cast",
                         "Slice",
                         "Split",
                         "ChannelShuffle",
                         "Clip",
                         "NCHW2NHWC",
                         "NHWC2NCHW",
                         "LayerNorm",
                         "Erf",
                         "PackedInt8BGRANHWCToNCHWCStylizerPreprocess",
                         "BRGNCHWCToPackedInt8BGRAStylizerDeprocess",
                         "Int8Quantize",
                         "Int8Dequantize",
                         "Int8Conv",
                         "Int8ConvRelu",
                         "Int8ConvTranspose",
                         "Int8FC",
                         "Int8AveragePool",
                         "Int8Sum",
                         "Int8SumRelu",
                         "Int8Add",
                         "Int8AddRelu",
                         "Int8Relu",
                         "Int8Softmax",
                         "Int8ResizeNearest",
                         "GenerateProposals",
                         "BBoxTransform",
                         "BoxWithNMSLimit",
                         "RoIAlign",
                         "IsEmpty"}) {
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
  }
}

std::string IfDir() {
  return std::string(std::getenv("TEST_SRCDIR")) + "/cortado/testdata/netdef/if_isempty";
}

// Runs the If-over-IsEmpty net on the input with boxes (else_net) and on the one without
// (then_net) and compares with numpy's outputs (tools/generate_netdef_if.py).
void ExpectIfOutputs(Predictor& p, const std::string& what) {
  auto x = ReadNpyFile(IfDir() + "/x.npy");
  ASSERT_TRUE(x.ok()) << x.status();
  for (const char* c : {"boxes", "no_boxes"}) {
    const std::string name = c;
    auto boxes = ReadNpyFile(IfDir() + "/" + name + ".npy");
    ASSERT_TRUE(boxes.ok()) << boxes.status();
    auto out = p.Run({{"x", *x}, {"boxes", *boxes}});
    ASSERT_TRUE(out.ok()) << what << " " << name << ": " << out.status();
    for (const char* o : {"y", "z", "w"}) {
      auto expected = ReadNpyFile(IfDir() + "/" + name + "_" + o + ".npy");
      ASSERT_TRUE(expected.ok()) << expected.status();
      EXPECT_EQ(CompareTensors(out->at(o), *expected), "") << what << " " << name << " " << o;
    }
  }
}

TEST(NetDefTest, IfOverIsEmptyTakesBothBranches) {
  auto text = ReadFileToString(IfDir() + "/predict_net.pbtxt");
  ASSERT_TRUE(text.ok()) << text.status();
  auto graph = ImportNetDef(caffe2::NetDef(), Text(*text));
  ASSERT_TRUE(graph.ok()) << graph.status();
  int ifs = 0;
  for (const Node& node : graph->nodes) ifs += node.op_type == "If";
  EXPECT_EQ(ifs, 1);
  // What `cortado convert if_isempty/predict_net.pbtxt out.onnx --input-shape x=2,3
  // --input-shape boxes=-1,5` does.
  Graph to_convert = *graph;
  for (ValueInfo& v : to_convert.inputs) {
    v.type.shape = v.name == "x" ? Shape{2, 3} : Shape{-1, 5};
  }
  const std::string onnx = std::string(std::getenv("TEST_TMPDIR")) + "/if_isempty.onnx";
  const absl::Status saved = SaveGraph(std::move(to_convert), onnx);
  ASSERT_TRUE(saved.ok()) << saved;
  auto p = Predictor::FromGraph(*std::move(graph));
  ASSERT_TRUE(p.ok()) << p.status();
  ExpectIfOutputs(**p, "netdef");
  auto converted = Predictor::FromFile(onnx);
  ASSERT_TRUE(converted.ok()) << converted.status();
  ExpectIfOutputs(**converted, "converted to onnx");
}

// An If whose else_net is absent yields the outer value; with no outer value, or a malformed
// If, the import fails naming the operator and the cause.
TEST(NetDefTest, IfErrorsAreClear) {
  const char kBranch[] = R"pb(arg {
                                name: "then_net"
                                n { op { type: "Relu" input: "x" output: "y" } }
                              })pb";
  auto error = [](const std::string& init, const std::string& predict) {
    auto g = ImportNetDef(Text(init), Text(predict));
    return g.ok() ? std::string("imported") : std::string(g.status().message());
  };
  const std::string net = R"pb(external_input: "x" external_input: "c" external_output: "y")pb";
  EXPECT_NE(error("", net + R"pb(op { type: "If" input: "c" output: "y" })pb")
                .find("operator #0 (If): missing argument 'then_net'"),
            std::string::npos);
  EXPECT_NE(
      error(
          "",
          net + R"pb(op { type: "If" input: "c" output: "y")pb" + kBranch +
              R"pb(                                                                                        arg { name: "else_net" i: 1 } })pb")
          .find("argument 'else_net' is not a NetDef"),
      std::string::npos);
  EXPECT_NE(error("", net + R"pb(op { type: "If" input: "c" output: "y")pb" + kBranch + "}")
                .find("else_net does not write output 'y', and no blob of that name exists"),
            std::string::npos);
  EXPECT_NE(error(R"pb(op {
                         type: "ConstantFill"
                         output: "c"
                         arg { name: "shape" ints: 1 }
                         arg { name: "value" f: 1 }
                       })pb",
                  net + R"pb(op { type: "If" input: "c" output: "y")pb" + kBranch + "}")
                .find("the condition 'c' must be a one-element bool tensor, is float32 [1]"),
            std::string::npos);
  EXPECT_NE(error("", net + R"pb(op {
                                   type: "If"
                                   input: "c"
                                   output: "y"
                                   arg {
                                     name: "then_net"
                                     n { op { type: "Nope" input: "x" output: "y" } }
                                   }
                                 })pb")
                .find("operator #0 (If): then_net: operator #0 (Nope)"),
            std::string::npos);

  // A float condition fed at run time: the If kernel refuses it.
  auto g = ImportNetDef(Text(""), Text(net + R"pb(op { type: "Relu" input: "x" output: "y" }
                                                  op { type: "If" input: "c" output: "y")pb" +
                                       kBranch + "}"));
  ASSERT_TRUE(g.ok()) << g.status();
  auto p = Predictor::FromGraph(*std::move(g));
  ASSERT_TRUE(p.ok()) << p.status();
  auto x = Tensor::FromVector<float>({-1.0f, 2.0f}, {2});
  auto yes = (*p)->Run({{"x", x}, {"c", Tensor::FromVector<bool>({false}, {1})}});
  ASSERT_TRUE(yes.ok()) << yes.status();  // else_net absent: y keeps Relu's value
  EXPECT_EQ(CompareTensors(yes->at("y"), Tensor::FromVector<float>({0.0f, 2.0f}, {2})), "");
  auto bad = (*p)->Run({{"x", x}, {"c", Tensor::FromVector<float>({1.0f}, {1})}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("the condition must be bool, is float32"),
            std::string::npos)
      << bad.status();
}

// An If inside a branch reads a blob from two scopes out; an If with no else_net passes the
// value from before it through.
TEST(NetDefTest, NestedIfReadsTwoScopesOut) {
  auto g = ImportNetDef(Text(""), Text(R"pb(
                          external_input: "x"
                          external_input: "a"
                          external_input: "b"
                          external_output: "y"
                          op { type: "Relu" input: "x" output: "y" }
                          op { type: "Negative" input: "x" output: "n" }
                          op {
                            type: "If"
                            input: "a"
                            output: "y"
                            arg {
                              name: "then_net"
                              n {
                                op {
                                  type: "If"
                                  input: "b"
                                  output: "y"
                                  arg {
                                    name: "then_net"
                                    n { op { type: "Copy" input: "n" output: "y" } }
                                  }
                                }
                              }
                            }
                          })pb"));
  ASSERT_TRUE(g.ok()) << g.status();
  auto p = Predictor::FromGraph(*std::move(g));
  ASSERT_TRUE(p.ok()) << p.status();
  const Tensor x = Tensor::FromVector<float>({-1.0f, 2.0f}, {2});
  const Tensor relu = Tensor::FromVector<float>({0.0f, 2.0f}, {2});
  const Tensor neg = Tensor::FromVector<float>({1.0f, -2.0f}, {2});
  for (bool a : {false, true}) {
    for (bool b : {false, true}) {
      auto out = (*p)->Run({{"x", x},
                            {"a", Tensor::FromVector<bool>({a}, {1})},
                            {"b", Tensor::FromVector<bool>({b}, {1})}});
      ASSERT_TRUE(out.ok()) << out.status();
      EXPECT_EQ(CompareTensors(out->at("y"), a && b ? neg : relu), "") << a << b;
    }
  }
}


// A LayerNorm inside a branch sets the opset the whole import is written in.
TEST(NetDefTest, LayerNormInABranchSetsTheOpset) {
  auto g = ImportNetDef(Text(""), Text(R"pb(
                          external_input: "x"
                          external_input: "c"
                          external_output: "y"
                          op { type: "Relu" input: "x" output: "y" }
                          op {
                            type: "If"
                            input: "c"
                            output: "y"
                            arg {
                              name: "then_net"
                              n { op { type: "LayerNorm" input: "x" output: "y" } }
                            }
                          })pb"));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->OpsetFor(""), 17);
}

}  // namespace
}  // namespace cortado
