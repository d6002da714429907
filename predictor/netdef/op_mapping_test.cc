// Each mapped Caffe2 operator family, run from a NetDef, against the same computation run from
// the canonical ONNX operator(s) through the registry.
#include <random>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "predictor/netdef/netdef_importer.h"
#include "predictor/predictor.h"
#include "caffe2.pb.h"

namespace cortado {
namespace {

Tensor Random(Shape shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(NumElements(shape));
  for (float& x : v) x = d(rng);
  return Tensor::FromVector<float>(v, shape);
}

// A GivenTensorFill for `t` in text form.
std::string Fill(const std::string& name, const Tensor& t) {
  std::string s = absl::StrCat("op { type: 'GivenTensorFill' output: '", name, "' arg { name: 'shape'");
  for (int64_t d : t.shape()) absl::StrAppend(&s, " ints: ", d);
  absl::StrAppend(&s, " } arg { name: 'values'");
  for (int64_t i = 0; i < t.num_elements(); ++i) absl::StrAppend(&s, " floats: ", t.data<float>()[i]);
  return s + " } }";
}

struct Case {
  std::string name;
  Shape x_shape;
  std::vector<std::pair<std::string, Shape>> params;  // random parameters, in input order
  std::string op;                                     // the Caffe2 operator, text form
  // The reference: ONNX op(s) applied to x and the parameters.
  std::function<absl::StatusOr<Tensor>(const Tensor& x, const std::vector<Tensor>& p)> reference;
};

absl::StatusOr<Tensor> Onnx(const std::string& op, AttributeMap attrs, std::vector<Tensor> in,
                            int opset = 11) {
  ASSIGN_OR_RETURN(auto out, RunOp(OpRun{op, opset, std::move(attrs), std::move(in)}));
  return out[0];
}

AttributeMap Attrs(std::vector<std::pair<std::string, AttrValue>> list) {
  AttributeMap m;
  for (auto& [k, v] : list) m.Set(k, v);
  return m;
}

Tensor Int64s(std::vector<int64_t> v) {
  return Tensor::FromVector<int64_t>(v, {static_cast<int64_t>(v.size())});
}

absl::StatusOr<Tensor> Nchw(const Tensor& nhwc) {
  return Onnx("Transpose", Attrs({{"perm", std::vector<int64_t>{0, 3, 1, 2}}}), {nhwc});
}
absl::StatusOr<Tensor> Nhwc(const Tensor& nchw) {
  return Onnx("Transpose", Attrs({{"perm", std::vector<int64_t>{0, 2, 3, 1}}}), {nchw});
}

using V = std::vector<int64_t>;

std::vector<Case> Cases() {
  return {
      {"conv_kernels_pads", {2, 3, 7, 6}, {{"w", {4, 3, 3, 2}}, {"b", {4}}},
       "type: 'Conv' input: 'x' input: 'w' input: 'b' arg { name: 'kernels' ints: 3 ints: 2 }"
       " arg { name: 'strides' ints: 2 ints: 1 } arg { name: 'pads' ints: 1 ints: 0 ints: 1 ints: 1 }",
       [](const Tensor& x, const std::vector<Tensor>& p) {
         return Onnx("Conv", Attrs({{"kernel_shape", V{3, 2}}, {"strides", V{2, 1}}, {"pads", V{1, 0, 1, 1}}}),
                     {x, p[0], p[1]});
       }},
      {"conv_kernel_pad_t_l_b_r_group_dilation", {1, 4, 9, 9}, {{"w", {4, 2, 3, 3}}},
       "type: 'Conv' input: 'x' input: 'w' arg { name: 'kernel' i: 3 } arg { name: 'stride' i: 1 }"
       " arg { name: 'pad_t' i: 2 } arg { name: 'pad_l' i: 1 } arg { name: 'pad_b' i: 0 } arg { name: 'pad_r' i: 1 }"
       " arg { name: 'group' i: 2 } arg { name: 'dilation' i: 2 } engine: 'NNPACK'",
       [](const Tensor& x, const std::vector<Tensor>& p) {
         return Onnx("Conv", Attrs({{"kernel_shape", V{3, 3}}, {"pads", V{2, 1, 0, 1}}, {"group", int64_t{2}},
                                    {"dilations", V{2, 2}}}),
                     {x, p[0]});
       }},
      {"conv_nhwc", {1, 5, 5, 3}, {{"w", {2, 3, 3, 3}}, {"b", {2}}},
       "type: 'Conv' input: 'x' input: 'w' input: 'b' arg { name: 'kernel' i: 3 } arg { name: 'order' s: 'NHWC' }",
       [](const Tensor& x, const std::vector<Tensor>& p) -> absl::StatusOr<Tensor> {
         ASSIGN_OR_RETURN(Tensor xc, Nchw(x));
         ASSIGN_OR_RETURN(Tensor wc, Nchw(p[0]));
         ASSIGN_OR_RETURN(Tensor y, Onnx("Conv", Attrs({{"kernel_shape", V{3, 3}}}), {xc, wc, p[1]}));
         return Nhwc(y);
       }},
      {"conv_transpose_adj", {1, 2, 4, 4}, {{"w", {2, 3, 3, 3}}, {"b", {3}}},
       "type: 'ConvTranspose' input: 'x' input: 'w' input: 'b' arg { name: 'kernel' i: 3 }"
       " arg { name: 'stride' i: 2 } arg { name: 'pad' i: 1 } arg { name: 'adj' i: 1 }",
       [](const Tensor& x, const std::vector<Tensor>& p) {
         return Onnx("ConvTranspose", Attrs({{"kernel_shape", V{3, 3}}, {"strides", V{2, 2}}, {"pads", V{1, 1, 1, 1}},
                                             {"output_padding", V{1, 1}}}),
                     {x, p[0], p[1]});
       }},
      {"maxpool", {2, 3, 8, 7}, {},
       "type: 'MaxPool' input: 'x' arg { name: 'kernel' i: 3 } arg { name: 'stride' i: 2 } arg { name: 'pad' i: 1 }",
       [](const Tensor& x, const std::vector<Tensor>&) {
         return Onnx("MaxPool", Attrs({{"kernel_shape", V{3, 3}}, {"strides", V{2, 2}}, {"pads", V{1, 1, 1, 1}}}), {x});
       }},
      {"averagepool_legacy_ceil", {1, 2, 7, 7}, {},
       "type: 'AveragePool' input: 'x' arg { name: 'kernel_h' i: 2 } arg { name: 'kernel_w' i: 3 }"
       " arg { name: 'stride' i: 2 } arg { name: 'legacy_pad' i: 3 }",
       [](const Tensor& x, const std::vector<Tensor>&) {
         return Onnx("AveragePool", Attrs({{"kernel_shape", V{2, 3}}, {"strides", V{2, 2}}, {"ceil_mode", int64_t{1}}}), {x});
       }},
      {"global_average_pool", {2, 3, 4, 5}, {},
       "type: 'AveragePool' input: 'x' arg { name: 'global_pooling' i: 1 }",
       [](const Tensor& x, const std::vector<Tensor>&) { return Onnx("GlobalAveragePool", {}, {x}); }},
      {"fc_flattens_4d", {2, 3, 2, 2}, {{"w", {5, 12}}, {"b", {5}}},
       "type: 'FC' input: 'x' input: 'w' input: 'b'",
       [](const Tensor& x, const std::vector<Tensor>& p) -> absl::StatusOr<Tensor> {
         ASSIGN_OR_RETURN(Tensor x2, x.Reshaped({2, 12}));
         return Onnx("Gemm", Attrs({{"transB", int64_t{1}}}), {x2, p[0], p[1]});
       }},
      {"fc_transposed", {3, 4}, {{"w", {4, 6}}, {"b", {6}}},
       "type: 'FCTransposed' input: 'x' input: 'w' input: 'b'",
       [](const Tensor& x, const std::vector<Tensor>& p) { return Onnx("Gemm", {}, {x, p[0], p[1]}); }},
      {"spatial_bn", {2, 3, 4, 4}, {{"s", {3}}, {"o", {3}}, {"m", {3}}, {"v", {3}}},
       "type: 'SpatialBN' input: 'x' input: 's' input: 'o' input: 'm' input: 'v' arg { name: 'is_test' i: 1 }"
       " arg { name: 'epsilon' f: 1.5 }",
       [](const Tensor& x, const std::vector<Tensor>& p) {
         return Onnx("BatchNormalization", Attrs({{"epsilon", 1.5f}}), {x, p[0], p[1], p[2], p[3]});
       }},
      {"add_legacy_broadcast_axis", {2, 3, 4, 5}, {{"c", {3, 4}}},
       "type: 'Add' input: 'x' input: 'c' arg { name: 'broadcast' i: 1 } arg { name: 'axis' i: 1 }",
       [](const Tensor& x, const std::vector<Tensor>& p) -> absl::StatusOr<Tensor> {
         ASSIGN_OR_RETURN(Tensor c, p[0].Reshaped({3, 4, 1}));
         return Onnx("Add", {}, {x, c});
       }},
      {"mul_numpy_broadcast", {2, 3, 4}, {{"c", {4}}},
       "type: 'Mul' input: 'x' input: 'c' arg { name: 'broadcast' i: 1 }",
       [](const Tensor& x, const std::vector<Tensor>& p) { return Onnx("Mul", {}, {x, p[0]}); }},
      {"prelu_per_channel", {2, 3, 2, 2}, {{"slope", {3}}},
       "type: 'PRelu' input: 'x' input: 'slope'",
       [](const Tensor& x, const std::vector<Tensor>& p) -> absl::StatusOr<Tensor> {
         ASSIGN_OR_RETURN(Tensor s, p[0].Reshaped({3, 1, 1}));
         return Onnx("PRelu", {}, {x, s});
       }},
      {"leaky_relu", {3, 4}, {}, "type: 'LeakyRelu' input: 'x' arg { name: 'alpha' f: 0.2 }",
       [](const Tensor& x, const std::vector<Tensor>&) { return Onnx("LeakyRelu", Attrs({{"alpha", 0.2f}}), {x}); }},
      {"softmax_axis2_flattens", {2, 3, 4}, {}, "type: 'Softmax' input: 'x' arg { name: 'axis' i: 1 }",
       [](const Tensor& x, const std::vector<Tensor>&) -> absl::StatusOr<Tensor> {
         ASSIGN_OR_RETURN(Tensor x2, x.Reshaped({2, 12}));
         ASSIGN_OR_RETURN(Tensor y, Onnx("Softmax", Attrs({{"axis", int64_t{1}}}), {x2}, 13));
         return y.Reshaped({2, 3, 4});
       }},
      {"concat_nhwc", {2, 2, 2, 3}, {{"z", {2, 2, 2, 1}}},
       "type: 'Concat' input: 'x' input: 'z' output: 'split' arg { name: 'order' s: 'NHWC' }",
       [](const Tensor& x, const std::vector<Tensor>& p) {
         return Onnx("Concat", Attrs({{"axis", int64_t{3}}}), {x, p[0]});
       }},
      {"reshape", {2, 3, 4}, {}, "type: 'Reshape' input: 'x' output: 'old' arg { name: 'shape' ints: 0 ints: -1 }",
       [](const Tensor& x, const std::vector<Tensor>&) { return x.Reshaped({2, 12}); }},
      {"transpose_axes", {2, 3, 4}, {}, "type: 'Transpose' input: 'x' arg { name: 'axes' ints: 1 ints: 2 ints: 0 }",
       [](const Tensor& x, const std::vector<Tensor>&) { return Onnx("Transpose", Attrs({{"perm", V{1, 2, 0}}}), {x}); }},
      {"expand_dims_then_squeeze", {3, 4}, {}, "type: 'ExpandDims' input: 'x' arg { name: 'dims' ints: 0 ints: 3 }",
       [](const Tensor& x, const std::vector<Tensor>&) { return x.Reshaped({1, 3, 4, 1}); }},
      {"squeeze", {1, 3, 1, 4}, {}, "type: 'Squeeze' input: 'x' arg { name: 'dims' ints: 0 ints: 2 }",
       [](const Tensor& x, const std::vector<Tensor>&) { return x.Reshaped({3, 4}); }},
      {"flatten_axis2", {2, 3, 4, 5}, {}, "type: 'Flatten' input: 'x' arg { name: 'axis' i: 2 }",
       [](const Tensor& x, const std::vector<Tensor>&) { return x.Reshaped({6, 20}); }},
      {"pad_image_reflect", {1, 2, 4, 4}, {},
       "type: 'PadImage' input: 'x' arg { name: 'pad_t' i: 1 } arg { name: 'pad_l' i: 2 } arg { name: 'pad_b' i: 0 }"
       " arg { name: 'pad_r' i: 1 } arg { name: 'mode' s: 'reflect' }",
       [](const Tensor& x, const std::vector<Tensor>&) {
         return Onnx("Pad", Attrs({{"mode", std::string("reflect")}}), {x, Int64s({0, 0, 1, 2, 0, 0, 0, 1})});
       }},
      {"resize_nearest", {1, 2, 3, 3}, {},
       "type: 'ResizeNearest' input: 'x' arg { name: 'height_scale' f: 2 } arg { name: 'width_scale' f: 2 }",
       [](const Tensor& x, const std::vector<Tensor>&) {
         return Onnx("Resize", Attrs({{"mode", std::string("nearest")},
                                      {"coordinate_transformation_mode", std::string("asymmetric")},
                                      {"nearest_mode", std::string("floor")}}),
                     {x, Tensor(), Tensor::FromVector<float>({1, 1, 2, 2}, {4})});
       }},
      {"instance_norm", {2, 3, 4, 4}, {{"s", {3}}, {"b", {3}}},
       "type: 'InstanceNorm' input: 'x' input: 's' input: 'b' arg { name: 'epsilon' f: 0.001 }",
       [](const Tensor& x, const std::vector<Tensor>& p) {
         return Onnx("InstanceNormalization", Attrs({{"epsilon", 0.001f}}), {x, p[0], p[1]});
       }},
      {"lrn", {1, 5, 3, 3}, {},
       "type: 'LRN' input: 'x' arg { name: 'size' i: 3 } arg { name: 'alpha' f: 0.001 } arg { name: 'beta' f: 0.75 }"
       " arg { name: 'bias' f: 2 }",
       [](const Tensor& x, const std::vector<Tensor>&) {
         return Onnx("LRN", Attrs({{"size", int64_t{3}}, {"alpha", 0.001f}, {"beta", 0.75f}, {"bias", 2.0f}}), {x});
       }},
      {"clip", {3, 4}, {}, "type: 'Clip' input: 'x' arg { name: 'min' f: -0.5 } arg { name: 'max' f: 0.25 }",
       [](const Tensor& x, const std::vector<Tensor>&) {
         return Onnx("Clip", {}, {x, Tensor::Scalar<float>(-0.5f), Tensor::Scalar<float>(0.25f)});
       }},
      {"slice_negative_end", {4, 6}, {},
       "type: 'Slice' input: 'x' arg { name: 'starts' ints: 1 ints: 2 } arg { name: 'ends' ints: -1 ints: -2 }",
       [](const Tensor& x, const std::vector<Tensor>&) {
         return Onnx("Slice", {}, {x, Int64s({1, 2}), Int64s({4, 5})});
       }},
      {"batch_matmul_trans_b", {2, 3, 4}, {{"m", {2, 5, 4}}},
       "type: 'BatchMatMul' input: 'x' input: 'm' arg { name: 'trans_b' i: 1 }",
       [](const Tensor& x, const std::vector<Tensor>& p) -> absl::StatusOr<Tensor> {
         ASSIGN_OR_RETURN(Tensor mt, Onnx("Transpose", Attrs({{"perm", V{0, 2, 1}}}), {p[0]}));
         return Onnx("MatMul", {}, {x, mt});
       }},
      {"nchw2nhwc", {2, 3, 4, 5}, {}, "type: 'NCHW2NHWC' input: 'x'",
       [](const Tensor& x, const std::vector<Tensor>&) { return Nhwc(x); }},
      {"sum_negative_copy", {3, 3}, {{"c", {3, 3}}}, "type: 'Sum' input: 'x' input: 'c' input: 'x'",
       [](const Tensor& x, const std::vector<Tensor>& p) { return Onnx("Sum", {}, {x, p[0], x}); }},
      {"cast_to_int32", {2, 3}, {}, "type: 'Cast' input: 'x' arg { name: 'to' i: 2 }",
       [](const Tensor& x, const std::vector<Tensor>&) { return Onnx("Cast", Attrs({{"to", int64_t{6}}}), {x}); }},
      {"erf", {3, 4}, {}, "type: 'Erf' input: 'x'",
       [](const Tensor& x, const std::vector<Tensor>&) { return Onnx("Erf", {}, {x}); }},
      {"layer_norm_defaults", {3, 5}, {}, "type: 'LayerNorm' input: 'x'",  // axis 1, no gamma/beta
       [](const Tensor& x, const std::vector<Tensor>&) {
         return Onnx("LayerNormalization", Attrs({{"axis", int64_t{1}}}),
                     {x, Tensor::FromVector<float>(std::vector<float>(5, 1.0f), {5})}, 17);
       }},
      {"layer_norm_affine_last_axis", {2, 3, 4}, {{"g", {4}}, {"b", {4}}},
       "type: 'LayerNorm' input: 'x' input: 'g' input: 'b' arg { name: 'axis' i: -1 }"
       " arg { name: 'epsilon' f: 0.001 } arg { name: 'elementwise_affine' i: 1 }",
       [](const Tensor& x, const std::vector<Tensor>& p) {
         return Onnx("LayerNormalization", Attrs({{"axis", int64_t{-1}}, {"epsilon", 0.001f}}),
                     {x, p[0], p[1]}, 17);
       }},
      // Caffe2 only needs gamma and beta to have as many elements as the normalized axes.
      {"layer_norm_affine_flat_gamma", {2, 3, 4}, {{"g", {12}}, {"b", {12}}},
       "type: 'LayerNorm' input: 'x' input: 'g' input: 'b' arg { name: 'axis' i: 1 }"
       " arg { name: 'elementwise_affine' i: 1 }",
       [](const Tensor& x, const std::vector<Tensor>& p) -> absl::StatusOr<Tensor> {
         ASSIGN_OR_RETURN(Tensor g, p[0].Reshaped({3, 4}));
         ASSIGN_OR_RETURN(Tensor b, p[1].Reshaped({3, 4}));
         return Onnx("LayerNormalization", Attrs({{"axis", int64_t{1}}}), {x, g, b}, 17);
       }},
      {"layer_norm_affine_axis_minus_2", {2, 3, 4}, {{"g", {3, 4}}, {"b", {3, 4}}},
       "type: 'LayerNorm' input: 'x' input: 'g' input: 'b' arg { name: 'axis' i: -2 }"
       " arg { name: 'elementwise_affine' i: 1 }",
       [](const Tensor& x, const std::vector<Tensor>& p) {
         return Onnx("LayerNormalization", Attrs({{"axis", int64_t{-2}}}), {x, p[0], p[1]}, 17);
       }},
  };
}

// Each case runs twice: alone (opset 11 unless it is a LayerNorm), and after an unrelated
// LayerNorm that puts the whole import at opset 17, where Softmax, Split, Squeeze and Unsqueeze
// take other forms.
class OpMappingTest : public ::testing::TestWithParam<bool> {};

TEST_P(OpMappingTest, EachFamilyMatchesTheOnnxOperator) {
  const bool with_layer_norm = GetParam();
  int seed = 1;
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const Tensor x = Random(c.x_shape, seed++);
    std::vector<Tensor> params;
    std::string init_text, inputs = "input: 'x'";
    std::string external = "external_input: 'x'";
    for (const auto& [name, shape] : c.params) {
      params.push_back(Random(shape, seed++));
      init_text += Fill(name, params.back()) + "\n";
      absl::StrAppend(&external, " external_input: '", name, "'");
    }
    const std::string predict_text = absl::StrCat(
        external, " external_output: 'y' op { ", c.op, " output: 'y' }",
        with_layer_norm ? " op { type: 'LayerNorm' input: 'x' output: 'unread' }" : "");
    caffe2::NetDef init, predict;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(init_text, &init));
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(predict_text, &predict)) << predict_text;
    // The first output is y; ops with a second output ('split', 'old') list it after.
    std::swap(*predict.mutable_op(0)->mutable_output(0),
              *predict.mutable_op(0)->mutable_output(predict.op(0).output_size() - 1));
    auto graph = ImportNetDef(init, predict);
    ASSERT_TRUE(graph.ok()) << graph.status();
    const bool layer_norm = with_layer_norm || c.name.rfind("layer_norm", 0) == 0;
    EXPECT_EQ(graph->OpsetFor(""), layer_norm ? 17 : 11);
    auto p = Predictor::FromGraph(*std::move(graph));
    ASSERT_TRUE(p.ok()) << p.status();
    auto out = (*p)->Run({{"x", x}});
    ASSERT_TRUE(out.ok()) << out.status();
    auto expected = c.reference(x, params);
    ASSERT_TRUE(expected.ok()) << expected.status();
    EXPECT_EQ(CompareTensors(out->at("y"), *expected, 1e-5, 1e-6), "");
  }
}

INSTANTIATE_TEST_SUITE_P(Opsets, OpMappingTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "AfterALayerNorm" : "Alone";
                         });

// Caffe2's LayerNorm also returns the mean and the standard deviation sqrt(var + epsilon), of
// shape X.shape[:axis] + [1]; unread ones are not computed.
TEST(OpMappingTest, LayerNormMeanAndStd) {
  const Tensor x = Random({2, 3, 4}, 7);
  const Tensor g = Random({3, 4}, 8), b = Random({3, 4}, 9);
  struct Outputs {
    std::string external;  // the external outputs besides y
    int64_t axis;
    bool affine;
    Shape moments;
  } cases[] = {{"external_output: 'mean' external_output: 'std'", 1, false, {2, 1}},
               {"external_output: 'std'", -2, true, {2, 1}},
               {"external_output: 'mean'", 2, false, {2, 3, 1}}};
  for (const Outputs& c : cases) {
    SCOPED_TRACE(c.external);
    caffe2::NetDef init, predict;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        absl::StrCat(Fill("g", g), "\n", Fill("b", b)), &init));
    const std::string predict_text = absl::StrCat(
        "external_input: 'x' external_input: 'g' external_input: 'b' external_output: 'y' ",
        c.external, " op { type: 'LayerNorm' input: 'x'",
        c.affine ? " input: 'g' input: 'b' arg { name: 'elementwise_affine' i: 1 }" : "",
        " output: 'y' output: 'mean' output: 'std' arg { name: 'axis' i: ", c.axis,
        " } arg { name: 'epsilon' f: 0.01 } }");
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(predict_text, &predict))
        << predict_text;
    auto graph = ImportNetDef(init, predict);
    ASSERT_TRUE(graph.ok()) << graph.status();
    int reciprocals = 0;
    for (const Node& n : graph->nodes) reciprocals += n.op_type == "Reciprocal";
    const bool want_std = c.external.find("'std'") != std::string::npos;
    const bool want_mean = c.external.find("'mean'") != std::string::npos;
    EXPECT_EQ(reciprocals, want_std ? 1 : 0);
    auto p = Predictor::FromGraph(*std::move(graph));
    ASSERT_TRUE(p.ok()) << p.status();
    auto out = (*p)->Run({{"x", x}});
    ASSERT_TRUE(out.ok()) << out.status();

    const Shape normalized(x.shape().begin() + (c.axis < 0 ? 3 + c.axis : c.axis), x.shape().end());
    const Tensor ones =
        Tensor::FromVector<float>(std::vector<float>(NumElements(normalized), 1.0f), normalized);
    const std::vector<Tensor> inputs = c.affine ? std::vector<Tensor>{x, g, b}
                                                : std::vector<Tensor>{x, ones};
    auto expected = RunOp(OpRun{"LayerNormalization", 17,
                                Attrs({{"axis", c.axis}, {"epsilon", 0.01f}}), inputs, 3});
    ASSERT_TRUE(expected.ok()) << expected.status();
    EXPECT_EQ(CompareTensors(out->at("y"), (*expected)[0], 1e-5, 1e-6), "");
    if (want_mean) {
      auto mean = (*expected)[1].Reshaped(c.moments);
      ASSERT_TRUE(mean.ok());
      EXPECT_EQ(CompareTensors(out->at("mean"), *mean, 1e-5, 1e-6), "");
    } else {
      EXPECT_EQ(out->count("mean"), 0u);
    }
    if (want_std) {
      auto inv_std = (*expected)[2].Reshaped(c.moments);
      ASSERT_TRUE(inv_std.ok());
      auto std_dev = Onnx("Reciprocal", {}, {*inv_std});
      ASSERT_TRUE(std_dev.ok());
      EXPECT_EQ(CompareTensors(out->at("std"), *std_dev, 1e-5, 1e-6), "");
    }
  }
}

// Int8 blobs carry their scale and zero point: from the Int8 fills (weights as a byte string,
// int32 biases) and from each Int8 operator's Y_scale / Y_zero_point, onto the consumers'
// input_scales / input_zero_points.
TEST(OpMappingTest, Int8ScalesAndZeroPointsFollowTheBlobs) {
  caffe2::NetDef init, predict;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        op {
          type: "Int8GivenTensorFill"
          output: "w"
          arg {
            name: "shape"
            ints: [ 2, 1, 1, 3 ]
          }
          arg { name: "values" s: "\001\002\003\004\005\006" }
          arg { name: "Y_scale" f: 0.5 }
          arg { name: "Y_zero_point" i: 3 }
        }
        op {
          type: "Int8GivenIntTensorFill"
          output: "b"
          arg {
            name: "shape"
            ints: [ 2 ]
          }
          arg {
            name: "values"
            ints: [ 30, -20 ]
          }
          arg { name: "Y_scale" f: 0.125 }
          arg { name: "Y_zero_point" i: 0 }
        }
      )pb",
      &init));
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        external_input: [ "x", "w", "b" ]
        external_output: "y"
        op {
          type: "Int8Quantize"
          input: "x"
          output: "xq"
          arg { name: "Y_scale" f: 0.25 }
          arg { name: "Y_zero_point" i: 7 }
        }
        op {
          type: "Int8ConvRelu"
          input: [ "xq", "w", "b" ]
          output: "yq"
          arg { name: "kernel" i: 1 }
          arg { name: "order" s: "NHWC" }
          arg { name: "Y_scale" f: 0.75 }
          arg { name: "Y_zero_point" i: 9 }
        }
        op { type: "Int8Dequantize" input: "yq" output: "y" }
      )pb",
      &predict));
  auto graph = ImportNetDef(init, predict);
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_EQ(graph->initializers.at("w").dtype(), DType::kUInt8);
  EXPECT_EQ(graph->initializers.at("w").data<uint8_t>()[5], 6);
  ASSERT_EQ(graph->initializers.at("b").dtype(), DType::kInt32);
  EXPECT_EQ(graph->initializers.at("b").data<int32_t>()[1], -20);
  const Node* conv = nullptr;
  const Node* dequantize = nullptr;
  for (const Node& n : graph->nodes) {
    if (n.op_type == "Int8ConvRelu") conv = &n;
    if (n.op_type == "Int8Dequantize") dequantize = &n;
  }
  ASSERT_NE(conv, nullptr);
  ASSERT_NE(dequantize, nullptr);
  EXPECT_EQ(conv->attrs.GetFloats("input_scales"), (std::vector<float>{0.25f, 0.5f, 0.125f}));
  EXPECT_EQ(conv->attrs.GetInts("input_zero_points"), (std::vector<int64_t>{7, 3, 0}));
  EXPECT_EQ(conv->attrs.GetFloat("Y_scale"), 0.75f);
  EXPECT_EQ(conv->attrs.GetInt("Y_zero_point"), 9);
  EXPECT_EQ(dequantize->attrs.GetFloats("input_scales"), (std::vector<float>{0.75f}));
  EXPECT_EQ(dequantize->attrs.GetInts("input_zero_points"), (std::vector<int64_t>{9}));
  auto p = Predictor::FromGraph(*std::move(graph));
  ASSERT_TRUE(p.ok()) << p.status();
  auto out = (*p)->Run({{"x", Tensor::FromVector<float>({2.0f, -1.0f, 0.5f}, {1, 1, 1, 3})}});
  ASSERT_TRUE(out.ok()) << out.status();
  // xq - 7 = [8, -4, 2]; w - 3 = [[-2, -1, 0], [1, 2, 3]]; acc + b = [-12 + 30, 6 - 20] =
  // [18, -14]; * 0.25 * 0.5 / 0.75 = [3, -2.33] -> rounded + 9 = [12, 7]; Relu clamps at the
  // zero point 9 -> [12, 9] -> dequantized [2.25, 0].
  const Tensor& y = out->at("y");
  ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 2}));
  EXPECT_EQ(y.data<float>()[0], 2.25f);
  EXPECT_EQ(y.data<float>()[1], 0.0f);
}

// IsEmpty (Detectron nets guard their mask head with If(IsEmpty(boxes))): a bool scalar.
TEST(OpMappingTest, IsEmptyIsABoolScalar) {
  caffe2::NetDef init, predict;
  ASSERT_TRUE(
      google::protobuf::TextFormat::ParseFromString(R"pb(
                                                      external_input: "x"
                                                      external_output: "e"
                                                      op { type: "IsEmpty" input: "x" output: "e" }
                                                    )pb",
                                                    &predict));
  auto graph = ImportNetDef(init, predict);
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto p = Predictor::FromGraph(*std::move(graph));
  ASSERT_TRUE(p.ok()) << p.status();
  for (int64_t rows : {0, 3}) {
    auto out =
        (*p)->Run({{"x", Tensor::FromVector<float>(std::vector<float>(rows * 4), {rows, 4})}});
    ASSERT_TRUE(out.ok()) << out.status();
    const Tensor& e = out->at("e");
    ASSERT_EQ(e.dtype(), DType::kBool);
    ASSERT_EQ(e.shape(), Shape{});
    EXPECT_EQ(e.data<bool>()[0], rows == 0);
  }
}

TEST(OpMappingTest, Int8OperatorOnAFloatBlobIsRefused) {
  caffe2::NetDef init, predict;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
                                                              external_input: "x"
                                                              external_output: "y"
                                                              op {
                                                                type: "Int8Relu"
                                                                input: "x"
                                                                output: "y"
                                                                arg { name: "order" s: "NHWC" }
                                                              }
                                                            )pb",
                                                            &predict));
  auto graph = ImportNetDef(init, predict);
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(graph.status().message().find("'x' is not an Int8 blob"), std::string::npos)
      << graph.status();
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
                                                              external_input: "x"
                                                              external_output: "y"
                                                              op {
                                                                type: "Int8Quantize"
                                                                input: "x"
                                                                output: "y"
                                                                arg { name: "order" s: "NCHW" }
                                                              }
                                                            )pb",
                                                            &predict));
  EXPECT_EQ(ImportNetDef(init, predict).status().code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace cortado
