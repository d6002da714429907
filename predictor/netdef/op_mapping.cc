#include "predictor/netdef/op_mapping.h"

#include <cstring>
#include <limits>
#include <random>

#include "absl/strings/str_join.h"

namespace cortado {
namespace {

using caffe2::OperatorDef;

absl::Status ArgError(const std::string& name, absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat("argument '", name, "' must be ", want));
}

struct SpatialArgs {
  std::vector<int64_t> kernel, strides, dilations, pads;  // pads: begins then ends
};

// Caffe2 spells each of these several ways: `kernels` (list), `kernel` (one for every spatial
// axis), `kernel_h` + `kernel_w`; likewise stride, dilation and pad (`pad_t/l/b/r`).
absl::StatusOr<std::vector<int64_t>> PerAxis(const Caffe2Args& args, const std::string& name,
                                             int64_t def, int rank_hint) {
  if (args.Has(name + "s")) return args.Ints(name + "s");
  if (args.Has(name)) {
    ASSIGN_OR_RETURN(int64_t v, args.Int(name, def));
    return std::vector<int64_t>(rank_hint, v);
  }
  if (args.Has(name + "_h") || args.Has(name + "_w")) {
    ASSIGN_OR_RETURN(int64_t h, args.Int(name + "_h", def));
    ASSIGN_OR_RETURN(int64_t w, args.Int(name + "_w", def));
    return std::vector<int64_t>{h, w};
  }
  return std::vector<int64_t>(rank_hint, def);
}

absl::StatusOr<SpatialArgs> ReadSpatial(const Caffe2Args& args, bool need_kernel) {
  SpatialArgs s;
  ASSIGN_OR_RETURN(s.kernel, PerAxis(args, "kernel", 0, 2));
  const int rank = static_cast<int>(s.kernel.size());
  if (need_kernel) {
    for (int64_t k : s.kernel) {
      if (k <= 0) return absl::InvalidArgumentError("the kernel size is missing or not positive");
    }
  }
  ASSIGN_OR_RETURN(s.strides, PerAxis(args, "stride", 1, rank));
  ASSIGN_OR_RETURN(s.dilations, PerAxis(args, "dilation", 1, rank));
  if (args.Has("pads")) {
    ASSIGN_OR_RETURN(s.pads, args.Ints("pads"));
  } else if (args.Has("pad")) {
    ASSIGN_OR_RETURN(int64_t p, args.Int("pad", 0));
    s.pads.assign(2 * rank, p);
  } else {
    ASSIGN_OR_RETURN(int64_t t, args.Int("pad_t", 0));
    ASSIGN_OR_RETURN(int64_t l, args.Int("pad_l", 0));
    ASSIGN_OR_RETURN(int64_t b, args.Int("pad_b", 0));
    ASSIGN_OR_RETURN(int64_t r, args.Int("pad_r", 0));
    s.pads = {t, l, b, r};
  }
  if (s.strides.size() != s.kernel.size() || s.dilations.size() != s.kernel.size() ||
      s.pads.size() != 2 * s.kernel.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kernel, stride, dilation and pad arguments disagree on the number of spatial axes (",
        s.kernel.size(), ", ", s.strides.size(), ", ", s.dilations.size(), ", ", s.pads.size(),
        "/2)"));
  }
  return s;
}

absl::StatusOr<bool> IsNHWC(const Caffe2Args& args) {
  ASSIGN_OR_RETURN(std::string order, args.String("order", "NCHW"));
  if (order != "NCHW" && order != "NHWC") {
    return absl::InvalidArgumentError(absl::StrCat("unknown order '", order, "'"));
  }
  return order == "NHWC";
}

Tensor Int64s(const std::vector<int64_t>& v) {
  return Tensor::FromVector<int64_t>(v, {static_cast<int64_t>(v.size())});
}

constexpr int kCaffe2Opset = 11;  // Caffe2's conventions match ONNX opset 11 (Softmax, Split...)
constexpr int kLayerNormOpset = 17;

// From opset 13 Squeeze, Unsqueeze and Split take their axes and sizes as inputs, not attributes.
bool ListsAreInputs(ImportContext& ctx) { return ctx.graph().OpsetFor("") >= 13; }

// Squeeze or Unsqueeze of `x` along `axes`, in the graph's opset.
void AddWithAxes(ImportContext& ctx, const std::string& op_type, const std::string& x,
                 const std::vector<int64_t>& axes, const std::string& out) {
  if (ListsAreInputs(ctx)) {
    ctx.AddNode(op_type, {x, ctx.AddConstant("axes", Int64s(axes))}, {out});
  } else {
    ctx.AddNode(op_type, {x}, {out}).attrs.Set("axes", axes);
  }
}

// Caffe2's channels-last operators run on channels-first ones between two transposes
// (4-D tensors, as Caffe2's NHWC kernels assume).
std::string ToNCHW(ImportContext& ctx, const std::string& x) {
  const std::string out = ctx.NewName(x + "_nchw");
  ctx.AddNode("Transpose", {x}, {out}).attrs.Set("perm", std::vector<int64_t>{0, 3, 1, 2});
  return out;
}
void FromNCHW(ImportContext& ctx, const std::string& x, const std::string& out) {
  ctx.AddNode("Transpose", {x}, {out}).attrs.Set("perm", std::vector<int64_t>{0, 2, 3, 1});
}

// Caffe2's legacy broadcast (`broadcast: 1` with `axis`): B's dimensions line up with A's
// starting at `axis`, so B is reshaped to B.shape + [1] * (rank(A) - axis - rank(B)). The rank of
// A is only known at run time, so the shape is computed in the graph.
std::string AlignAtAxis(ImportContext& ctx, const std::string& a, const std::string& b,
                        int64_t axis) {
  const std::string shape_a = ctx.NewName(a + "_shape");
  ctx.AddNode("Shape", {a}, {shape_a});
  const std::string rank_a = ctx.NewName(a + "_rank");
  ctx.AddNode("Size", {shape_a}, {rank_a});
  const std::string shape_b = ctx.NewName(b + "_shape");
  ctx.AddNode("Shape", {b}, {shape_b});
  const std::string rank_b = ctx.NewName(b + "_rank");
  ctx.AddNode("Size", {shape_b}, {rank_b});
  const std::string lead = ctx.NewName(b + "_lead");
  ctx.AddNode("Add", {rank_b, ctx.AddConstant("axis", Tensor::Scalar<int64_t>(axis))}, {lead});
  const std::string trailing = ctx.NewName(b + "_trailing");
  ctx.AddNode("Sub", {rank_a, lead}, {trailing});
  const std::string trailing_1d = ctx.NewName(b + "_trailing_1d");
  ctx.AddNode("Reshape", {trailing, ctx.AddConstant("one_dim", Int64s({1}))}, {trailing_1d});
  const std::string ones = ctx.NewName(b + "_ones");
  ctx.AddNode("ConstantOfShape", {trailing_1d}, {ones})
      .attrs.Set("value", Tensor::FromVector<int64_t>({1}, {1}));
  const std::string new_shape = ctx.NewName(b + "_aligned_shape");
  ctx.AddNode("Concat", {shape_b, ones}, {new_shape}).attrs.Set("axis", int64_t{0});
  const std::string out = ctx.NewName(b + "_aligned");
  ctx.AddNode("Reshape", {b, new_shape}, {out});
  return out;
}

absl::Status RequireInputs(const std::vector<std::string>& inputs, size_t min, size_t max) {
  if (inputs.size() < min || inputs.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("takes ", min, " to ", max, " inputs, got ", inputs.size()));
  }
  return absl::OkStatus();
}

// Ops whose Caffe2 and ONNX forms agree, only renamed.
Caffe2ImportFn Same(std::string onnx_op, size_t min_in, size_t max_in) {
  return [onnx_op, min_in, max_in](const OperatorDef&, const Caffe2Args&,
                                   const std::vector<std::string>& in,
                                   const std::vector<std::string>& out, ImportContext& ctx) {
    RETURN_IF_ERROR(RequireInputs(in, min_in, max_in));
    ctx.AddNode(onnx_op, in, {out[0]});
    return absl::OkStatus();
  };
}

absl::Status ImportConv(const OperatorDef& op, const Caffe2Args& args,
                        const std::vector<std::string>& in, const std::vector<std::string>& out,
                        ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 2, 3));
  ASSIGN_OR_RETURN(SpatialArgs s, ReadSpatial(args, /*need_kernel=*/false));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  ASSIGN_OR_RETURN(int64_t group, args.Int("group", 1));
  ASSIGN_OR_RETURN(int64_t legacy_pad, args.Int("legacy_pad", 0));
  const bool transpose = op.type() == "ConvTranspose";
  std::vector<std::string> inputs = in;
  if (nhwc) {
    inputs[0] = ToNCHW(ctx, in[0]);
    // Weights: Conv [M, kh, kw, C/g] and ConvTranspose [C, kh, kw, M/g] -> channels second.
    inputs[1] = ToNCHW(ctx, in[1]);
  }
  const std::string y = nhwc ? ctx.NewName(out[0] + "_nchw") : out[0];
  Node& node = ctx.AddNode(transpose ? "ConvTranspose" : "Conv", inputs, {y});
  bool kernel_given = false;
  for (int64_t k : s.kernel) kernel_given = kernel_given || k > 0;
  if (kernel_given) node.attrs.Set("kernel_shape", s.kernel);
  node.attrs.Set("strides", s.strides);
  node.attrs.Set("dilations", s.dilations);
  node.attrs.Set("group", group);
  if (legacy_pad == 1) {
    node.attrs.Set("auto_pad", std::string("VALID"));
  } else if (legacy_pad == 2) {
    node.attrs.Set("auto_pad", std::string("SAME_UPPER"));
  } else if (legacy_pad == 0) {
    node.attrs.Set("pads", s.pads);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("legacy_pad ", legacy_pad, " is not supported"));
  }
  if (transpose) {
    ASSIGN_OR_RETURN(std::vector<int64_t> adj, PerAxis(args, "adj", 0, s.kernel.size()));
    node.attrs.Set("output_padding", adj);
  }
  if (nhwc) FromNCHW(ctx, y, out[0]);
  return absl::OkStatus();
}

absl::Status ImportPool(const OperatorDef& op, const Caffe2Args& args,
                        const std::vector<std::string>& in, const std::vector<std::string>& out,
                        ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  ASSIGN_OR_RETURN(int64_t global, args.Int("global_pooling", 0));
  const bool max = op.type().rfind("MaxPool", 0) == 0;
  const std::string x = nhwc ? ToNCHW(ctx, in[0]) : in[0];
  const std::string y = nhwc ? ctx.NewName(out[0] + "_nchw") : out[0];
  if (global) {
    ctx.AddNode(max ? "GlobalMaxPool" : "GlobalAveragePool", {x}, {y});
  } else {
    ASSIGN_OR_RETURN(SpatialArgs s, ReadSpatial(args, /*need_kernel=*/true));
    ASSIGN_OR_RETURN(int64_t legacy_pad, args.Int("legacy_pad", 0));
    Node& node = ctx.AddNode(max ? "MaxPool" : "AveragePool", {x}, {y});
    node.attrs.Set("kernel_shape", s.kernel);
    node.attrs.Set("strides", s.strides);
    node.attrs.Set("pads", s.pads);
    if (max) node.attrs.Set("dilations", s.dilations);
    if (legacy_pad == 3) node.attrs.Set("ceil_mode", int64_t{1});  // CAFFE_LEGACY_POOLING
    if (!max) {
      ASSIGN_OR_RETURN(int64_t include_pad, args.Int("count_include_pad", 0));
      node.attrs.Set("count_include_pad", include_pad);
    }
  }
  if (nhwc) FromNCHW(ctx, y, out[0]);
  return absl::OkStatus();
}

absl::Status ImportFC(const OperatorDef& op, const Caffe2Args& args,
                      const std::vector<std::string>& in, const std::vector<std::string>& out,
                      ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 3, 3));
  ASSIGN_OR_RETURN(int64_t axis, args.Int("axis", 1));
  ASSIGN_OR_RETURN(int64_t axis_w, args.Int("axis_w", 1));
  const std::string x = ctx.NewName(in[0] + "_2d");
  ctx.AddNode("Flatten", {in[0]}, {x}).attrs.Set("axis", axis);
  std::string w = in[1];
  if (axis_w != 1) {
    w = ctx.NewName(in[1] + "_2d");
    ctx.AddNode("Flatten", {in[1]}, {w}).attrs.Set("axis", axis_w);
  }
  ctx.AddNode("Gemm", {x, w, in[2]}, {out[0]})
      .attrs.Set("transB", int64_t{op.type() == "FCTransposed" ? 0 : 1});
  return absl::OkStatus();
}

absl::Status ImportSpatialBN(const OperatorDef&, const Caffe2Args& args,
                             const std::vector<std::string>& in,
                             const std::vector<std::string>& out, ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 5, 5));
  ASSIGN_OR_RETURN(int64_t is_test, args.Int("is_test", 1));
  if (!is_test) {
    return absl::UnimplementedError("SpatialBN in training mode (is_test: 0) is not supported");
  }
  ASSIGN_OR_RETURN(float epsilon, args.Float("epsilon", 1e-5f));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  std::vector<std::string> inputs = in;
  if (nhwc) inputs[0] = ToNCHW(ctx, in[0]);
  const std::string y = nhwc ? ctx.NewName(out[0] + "_nchw") : out[0];
  ctx.AddNode("BatchNormalization", inputs, {y}).attrs.Set("epsilon", epsilon);
  if (nhwc) FromNCHW(ctx, y, out[0]);
  return absl::OkStatus();
}

absl::Status ImportBinary(const OperatorDef& op, const Caffe2Args& args,
                          const std::vector<std::string>& in, const std::vector<std::string>& out,
                          ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 2, 2));
  ASSIGN_OR_RETURN(int64_t broadcast, args.Int("broadcast", 0));
  ASSIGN_OR_RETURN(int64_t axis, args.Int("axis", -1));
  std::string b = in[1];
  if (broadcast && axis >= 0) b = AlignAtAxis(ctx, in[0], in[1], axis);
  ctx.AddNode(op.type(), {in[0], b}, {out[0]});
  return absl::OkStatus();
}

absl::Status ImportPRelu(const OperatorDef&, const Caffe2Args& args,
                         const std::vector<std::string>& in, const std::vector<std::string>& out,
                         ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 2, 2));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  // The slope is per channel: axis 1 in NCHW, the last axis (numpy's rule) in NHWC.
  ctx.AddNode("PRelu", {in[0], nhwc ? in[1] : AlignAtAxis(ctx, in[0], in[1], 1)}, {out[0]});
  return absl::OkStatus();
}

absl::Status ImportLeakyRelu(const OperatorDef&, const Caffe2Args& args,
                             const std::vector<std::string>& in,
                             const std::vector<std::string>& out, ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  ASSIGN_OR_RETURN(float alpha, args.Float("alpha", 0.01f));
  ctx.AddNode("LeakyRelu", in, {out[0]}).attrs.Set("alpha", alpha);
  return absl::OkStatus();
}

absl::Status ImportSoftmax(const OperatorDef&, const Caffe2Args& args,
                           const std::vector<std::string>& in, const std::vector<std::string>& out,
                           ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  // Caffe2 flattens to 2-D at `axis`, as ONNX Softmax does before opset 13.
  ASSIGN_OR_RETURN(int64_t axis, args.Int("axis", 1));
  if (!ListsAreInputs(ctx)) {
    ctx.AddNode("Softmax", in, {out[0]}).attrs.Set("axis", axis);
    return absl::OkStatus();
  }
  // From opset 13 Softmax works along one axis: flatten, softmax the rows, restore the shape.
  const std::string rows = ctx.NewName(in[0] + "_2d");
  ctx.AddNode("Flatten", in, {rows}).attrs.Set("axis", axis);
  const std::string y = ctx.NewName(out[0] + "_2d");
  ctx.AddNode("Softmax", {rows}, {y}).attrs.Set("axis", int64_t{1});
  const std::string shape = ctx.NewName(in[0] + "_shape");
  ctx.AddNode("Shape", in, {shape});
  ctx.AddNode("Reshape", {y, shape}, {out[0]});
  return absl::OkStatus();
}

absl::Status ImportConcat(const OperatorDef&, const Caffe2Args& args,
                          const std::vector<std::string>& in, const std::vector<std::string>& out,
                          ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1 << 20));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  ASSIGN_OR_RETURN(int64_t axis, args.Int("axis", nhwc ? 3 : 1));
  ASSIGN_OR_RETURN(int64_t add_axis, args.Int("add_axis", 0));
  std::vector<std::string> inputs = in;
  if (add_axis) {
    for (std::string& x : inputs) {
      const std::string e = ctx.NewName(x + "_expanded");
      AddWithAxes(ctx, "Unsqueeze", x, {axis}, e);
      x = e;
    }
  }
  ctx.AddNode("Concat", inputs, {out[0]}).attrs.Set("axis", axis);
  if (out.size() > 1 && !out[1].empty()) {  // split_info: each input's size along axis (int32)
    std::vector<std::string> sizes;
    for (const std::string& x : inputs) {
      const std::string shape = ctx.NewName(x + "_shape");
      ctx.AddNode("Shape", {x}, {shape});
      sizes.push_back(ctx.NewName(x + "_size"));
      ctx.AddNode("Gather", {shape, ctx.AddConstant("axis", Int64s({axis}))}, {sizes.back()});
    }
    const std::string all = ctx.NewName(out[1] + "_int64");
    ctx.AddNode("Concat", sizes, {all}).attrs.Set("axis", int64_t{0});
    ctx.AddNode("Cast", {all}, {out[1]}).attrs.Set("to", int64_t{6});  // INT32
  }
  return absl::OkStatus();
}

absl::Status ImportReshape(const OperatorDef&, const Caffe2Args& args,
                           const std::vector<std::string>& in, const std::vector<std::string>& out,
                           ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 2));
  std::string shape;
  if (in.size() == 2) {
    shape = ctx.NewName(in[1] + "_int64");
    ctx.AddNode("Cast", {in[1]}, {shape}).attrs.Set("to", int64_t{7});
  } else {
    if (!args.Has("shape")) return absl::InvalidArgumentError("needs a `shape` argument or input");
    ASSIGN_OR_RETURN(std::vector<int64_t> dims, args.Ints("shape"));
    shape = ctx.AddConstant("shape", Int64s(dims));
  }
  ctx.AddNode("Reshape", {in[0], shape}, {out[0]});
  if (out.size() > 1 && !out[1].empty()) ctx.AddNode("Shape", {in[0]}, {out[1]});  // old_shape
  return absl::OkStatus();
}

absl::Status ImportTranspose(const OperatorDef&, const Caffe2Args& args,
                             const std::vector<std::string>& in,
                             const std::vector<std::string>& out, ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  Node& node = ctx.AddNode("Transpose", in, {out[0]});
  if (args.Has("axes")) {
    ASSIGN_OR_RETURN(std::vector<int64_t> axes, args.Ints("axes"));
    node.attrs.Set("perm", axes);
  }
  return absl::OkStatus();
}

// Squeeze and ExpandDims: `dims` becomes the ONNX `axes` (attribute, or input from opset 13).
Caffe2ImportFn WithDims(std::string onnx_op) {
  return [onnx_op](const OperatorDef&, const Caffe2Args& args, const std::vector<std::string>& in,
                   const std::vector<std::string>& out, ImportContext& ctx) -> absl::Status {
    RETURN_IF_ERROR(RequireInputs(in, 1, 1));
    ASSIGN_OR_RETURN(std::vector<int64_t> dims, args.Ints("dims"));
    AddWithAxes(ctx, onnx_op, in[0], dims, out[0]);
    return absl::OkStatus();
  };
}

absl::Status ImportPadImage(const OperatorDef&, const Caffe2Args& args,
                            const std::vector<std::string>& in, const std::vector<std::string>& out,
                            ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  ASSIGN_OR_RETURN(SpatialArgs s, ReadSpatial(args, /*need_kernel=*/false));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  ASSIGN_OR_RETURN(std::string mode, args.String("mode", "constant"));
  ASSIGN_OR_RETURN(float value, args.Float("value", 0.0f));
  if (mode != "constant" && mode != "reflect" && mode != "edge") {
    return absl::InvalidArgumentError(absl::StrCat("unknown pad mode '", mode, "'"));
  }
  if (s.pads.size() != 4) return absl::InvalidArgumentError("PadImage pads 2-D images only");
  const int64_t t = s.pads[0], l = s.pads[1], b = s.pads[2], r = s.pads[3];
  const std::vector<int64_t> pads = nhwc ? std::vector<int64_t>{0, t, l, 0, 0, b, r, 0}
                                         : std::vector<int64_t>{0, 0, t, l, 0, 0, b, r};
  ctx.AddNode("Pad", {in[0], ctx.AddConstant("pads", Int64s(pads)),
                      ctx.AddConstant("pad_value", Tensor::Scalar<float>(value))},
              {out[0]})
      .attrs.Set("mode", mode);
  return absl::OkStatus();
}

// Adds a kCaffe2Domain node keeping the Caffe2 op type.
Node& AddCaffe2Node(ImportContext& ctx, const std::string& op_type,
                    const std::vector<std::string>& in, std::vector<std::string> out) {
  ctx.graph().opsets[kCaffe2Domain] = 1;
  Node& node = ctx.AddNode(op_type, in, std::move(out));
  node.domain = kCaffe2Domain;
  return node;
}

// The stylizer's packing ops (ops/caffe2_image.cc). Caffe2 draws the preprocess noise once per
// workspace (`noise_size` values, default 491, Gaussian with std `noise_std`, default 10); the
// import draws it once, from a fixed seed, as a constant input, so runs are reproducible.
absl::Status ImportStylizer(const OperatorDef& op, const Caffe2Args& args,
                            const std::vector<std::string>& in, const std::vector<std::string>& out,
                            ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 2, 2));
  std::vector<std::string> inputs = in;
  if (op.type() == "PackedInt8BGRANHWCToNCHWCStylizerPreprocess") {
    ASSIGN_OR_RETURN(int64_t size, args.Int("noise_size", 491));
    ASSIGN_OR_RETURN(float stddev, args.Float("noise_std", 10.0f));
    if (size <= 0 || !(stddev >= 0.0f)) {
      return absl::InvalidArgumentError("noise_size must be positive and noise_std not negative");
    }
    std::mt19937 rng(0);
    std::normal_distribution<float> normal(0.0f, stddev);
    std::vector<float> noise(size);
    for (float& v : noise) v = stddev > 0.0f ? normal(rng) : 0.0f;
    inputs.push_back(ctx.AddConstant("stylizer_noise", Tensor::FromVector<float>(noise, {size})));
  }
  AddCaffe2Node(ctx, op.type(), inputs, {out[0]});
  return absl::OkStatus();
}

absl::Status ImportResizeNearest(const OperatorDef&, const Caffe2Args& args,
                                 const std::vector<std::string>& in,
                                 const std::vector<std::string>& out, ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  ASSIGN_OR_RETURN(float hs, args.Float("height_scale", 1.0f));
  ASSIGN_OR_RETURN(float ws, args.Float("width_scale", 1.0f));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  const std::vector<float> scales = nhwc ? std::vector<float>{1, hs, ws, 1}
                                         : std::vector<float>{1, 1, hs, ws};
  Node& node = ctx.AddNode(
      "Resize", {in[0], "", ctx.AddConstant("scales", Tensor::FromVector<float>(scales, {4}))},
      {out[0]});
  node.attrs.Set("mode", std::string("nearest"));
  node.attrs.Set("coordinate_transformation_mode", std::string("asymmetric"));
  node.attrs.Set("nearest_mode", std::string("floor"));
  return absl::OkStatus();
}

absl::Status ImportInstanceNorm(const OperatorDef&, const Caffe2Args& args,
                                const std::vector<std::string>& in,
                                const std::vector<std::string>& out, ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 3, 3));
  ASSIGN_OR_RETURN(float epsilon, args.Float("epsilon", 1e-5f));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  const std::string x = nhwc ? ToNCHW(ctx, in[0]) : in[0];
  const std::string y = nhwc ? ctx.NewName(out[0] + "_nchw") : out[0];
  ctx.AddNode("InstanceNormalization", {x, in[1], in[2]}, {y}).attrs.Set("epsilon", epsilon);
  if (nhwc) FromNCHW(ctx, y, out[0]);
  return absl::OkStatus();
}

// Caffe2's LayerNorm normalizes over the axes from `axis` on, as LayerNormalization (opset 17)
// does. Its gamma and beta (elementwise_affine) need only as many elements as those axes, so
// they are reshaped to the normalized shape unless their shape already is it; without them the
// scale is ones of that shape. Its mean and std have shape X.shape[:axis] + [1]
// (LayerNormalization's Mean and InvStdDev: X.shape[:axis] + [1] * (rank - axis)), and
// std = sqrt(var + epsilon) = 1 / InvStdDev.
absl::Status ImportLayerNorm(const OperatorDef&, const Caffe2Args& args,
                             const std::vector<std::string>& in,
                             const std::vector<std::string>& out, ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 3));
  ASSIGN_OR_RETURN(int64_t axis, args.Int("axis", 1));
  ASSIGN_OR_RETURN(float epsilon, args.Float("epsilon", 1e-5f));
  ASSIGN_OR_RETURN(int64_t affine, args.Int("elementwise_affine", 0));
  if (ctx.graph().OpsetFor("") < kLayerNormOpset) {
    return absl::InternalError("LayerNorm is imported into a graph below opset 17");
  }
  if (affine && in.size() != 3) {
    return absl::InvalidArgumentError("elementwise_affine needs the inputs X, gamma and beta");
  }
  const std::string& x = in[0];
  std::string x_shape, normalized_shape;
  auto shape_of_x = [&]() {
    if (x_shape.empty()) {
      x_shape = ctx.NewName(x + "_shape");
      ctx.AddNode("Shape", {x}, {x_shape});
    }
    return x_shape;
  };
  auto shape_from_axis = [&]() {
    if (normalized_shape.empty()) {
      normalized_shape = ctx.NewName(x + "_normalized_shape");
      ctx.AddNode("Slice", {shape_of_x(), ctx.AddConstant("starts", Int64s({axis})),
                            ctx.AddConstant("ends", Int64s({std::numeric_limits<int64_t>::max()}))},
                  {normalized_shape});
    }
    return normalized_shape;
  };
  std::vector<std::string> inputs = {x};
  if (affine) {
    for (int i : {1, 2}) {
      const Tensor* c = ctx.Constant(in[i]);
      if (c != nullptr && axis < 0 && c->rank() == -axis) {
        inputs.push_back(in[i]);  // the normalized shape already (LayerNormalization checks it)
      } else {
        inputs.push_back(ctx.NewName(in[i] + "_normalized"));
        ctx.AddNode("Reshape", {in[i], shape_from_axis()}, {inputs.back()});
      }
    }
  } else {
    inputs.push_back(ctx.NewName(x + "_ones"));
    ctx.AddNode("ConstantOfShape", {shape_from_axis()}, {inputs.back()})
        .attrs.Set("value", Tensor::FromVector<float>({1.0f}, {1}));
  }
  const bool want_mean = out.size() > 1 && !out[1].empty();
  const bool want_std = out.size() > 2 && !out[2].empty();
  std::vector<std::string> outputs = {out[0]};
  if (want_mean || want_std) {
    outputs.push_back(want_mean ? ctx.NewName(out[1] + "_unshaped") : "");
    outputs.push_back(want_std ? ctx.NewName(out[2] + "_inv_std") : "");
  }
  Node& node = ctx.AddNode("LayerNormalization", inputs, outputs);
  node.attrs.Set("axis", axis);
  node.attrs.Set("epsilon", epsilon);
  if (!want_mean && !want_std) return absl::OkStatus();
  const std::string leading = ctx.NewName(x + "_leading_shape");
  ctx.AddNode("Slice", {shape_of_x(), ctx.AddConstant("starts", Int64s({0})),
                        ctx.AddConstant("ends", Int64s({axis}))},
              {leading});
  const std::string moments_shape = ctx.NewName(x + "_moments_shape");
  ctx.AddNode("Concat", {leading, ctx.AddConstant("one", Int64s({1}))}, {moments_shape})
      .attrs.Set("axis", int64_t{0});
  if (want_mean) ctx.AddNode("Reshape", {outputs[1], moments_shape}, {out[1]});
  if (want_std) {
    const std::string inv_std = ctx.NewName(out[2] + "_inv");
    ctx.AddNode("Reshape", {outputs[2], moments_shape}, {inv_std});
    ctx.AddNode("Reciprocal", {inv_std}, {out[2]});
  }
  return absl::OkStatus();
}

absl::Status ImportLRN(const OperatorDef&, const Caffe2Args& args,
                       const std::vector<std::string>& in, const std::vector<std::string>& out,
                       ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  ASSIGN_OR_RETURN(int64_t size, args.Int("size", 0));
  ASSIGN_OR_RETURN(float alpha, args.Float("alpha", 0));
  ASSIGN_OR_RETURN(float beta, args.Float("beta", 0));
  ASSIGN_OR_RETURN(float bias, args.Float("bias", 1));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  if (size <= 0) return absl::InvalidArgumentError("LRN needs a positive `size`");
  const std::string x = nhwc ? ToNCHW(ctx, in[0]) : in[0];
  const std::string y = nhwc ? ctx.NewName(out[0] + "_nchw") : out[0];
  Node& node = ctx.AddNode("LRN", {x}, {y});
  node.attrs.Set("size", size);
  node.attrs.Set("alpha", alpha);
  node.attrs.Set("beta", beta);
  node.attrs.Set("bias", bias);
  if (nhwc) FromNCHW(ctx, y, out[0]);
  return absl::OkStatus();
}

absl::Status ImportDropout(const OperatorDef&, const Caffe2Args& args,
                           const std::vector<std::string>& in, const std::vector<std::string>& out,
                           ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  ASSIGN_OR_RETURN(int64_t is_test, args.Int("is_test", 0));
  if (!is_test) {
    return absl::UnimplementedError("Dropout in training mode (is_test: 0) is not supported");
  }
  ctx.AddNode("Identity", in, {out[0]});
  if (out.size() > 1 && !out[1].empty()) {  // the mask: all kept
    const std::string shape = ctx.NewName(out[1] + "_shape");
    ctx.AddNode("Shape", in, {shape});
    ctx.AddNode("ConstantOfShape", {shape}, {out[1]})
        .attrs.Set("value", Tensor::FromVector<bool>({true}, {1}));
  }
  return absl::OkStatus();
}

absl::Status ImportBatchMatMul(const OperatorDef&, const Caffe2Args& args,
                               const std::vector<std::string>& in,
                               const std::vector<std::string>& out, ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 2, 2));
  ASSIGN_OR_RETURN(int64_t trans_a, args.Int("trans_a", 0));
  ASSIGN_OR_RETURN(int64_t trans_b, args.Int("trans_b", 0));
  std::vector<std::string> inputs = in;
  for (int i = 0; i < 2; ++i) {
    if (!(i == 0 ? trans_a : trans_b)) continue;
    // Swap the last two axes; Caffe2's BatchMatMul operands are 3-D here.
    const std::string t = ctx.NewName(in[i] + "_t");
    ctx.AddNode("Transpose", {in[i]}, {t}).attrs.Set("perm", std::vector<int64_t>{0, 2, 1});
    inputs[i] = t;
  }
  ctx.AddNode("MatMul", inputs, {out[0]});
  return absl::OkStatus();
}

// Caffe2 TensorProto.DataType -> ONNX TensorProto.DataType, for Cast's `to`.
absl::StatusOr<int64_t> OnnxTypeOfCaffe2(int64_t c2) {
  switch (c2) {
    case caffe2::TensorProto::FLOAT: return 1;
    case caffe2::TensorProto::INT32: return 6;
    case caffe2::TensorProto::BYTE: return 2;
    case caffe2::TensorProto::STRING: return 8;
    case caffe2::TensorProto::BOOL: return 9;
    case caffe2::TensorProto::UINT8: return 2;
    case caffe2::TensorProto::INT8: return 3;
    case caffe2::TensorProto::UINT16: return 4;
    case caffe2::TensorProto::INT16: return 5;
    case caffe2::TensorProto::INT64: return 7;
    case caffe2::TensorProto::FLOAT16: return 10;
    case caffe2::TensorProto::DOUBLE: return 11;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown Caffe2 data type ", c2));
}

absl::Status ImportCast(const OperatorDef&, const Caffe2Args& args,
                        const std::vector<std::string>& in, const std::vector<std::string>& out,
                        ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  if (!args.Has("to")) return absl::InvalidArgumentError("Cast needs a `to` argument");
  ASSIGN_OR_RETURN(int64_t to, args.Int("to", 0));
  ASSIGN_OR_RETURN(int64_t onnx_to, OnnxTypeOfCaffe2(to));
  ctx.AddNode("Cast", in, {out[0]}).attrs.Set("to", onnx_to);
  return absl::OkStatus();
}

absl::Status ImportSlice(const OperatorDef&, const Caffe2Args& args,
                         const std::vector<std::string>& in, const std::vector<std::string>& out,
                         ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  ASSIGN_OR_RETURN(std::vector<int64_t> starts, args.Ints("starts"));
  ASSIGN_OR_RETURN(std::vector<int64_t> ends, args.Ints("ends"));
  if (starts.size() != ends.size()) {
    return absl::InvalidArgumentError("`starts` and `ends` differ in length");
  }
  // Caffe2 counts negative indices from one past the end (-1 is the end itself).
  std::vector<int64_t> axes;
  for (size_t i = 0; i < starts.size(); ++i) {
    axes.push_back(static_cast<int64_t>(i));
    for (int64_t* index : {&starts[i], &ends[i]}) {
      if (*index < 0) *index = *index == -1 ? std::numeric_limits<int64_t>::max() : *index + 1;
    }
  }
  ctx.AddNode("Slice", {in[0], ctx.AddConstant("starts", Int64s(starts)),
                        ctx.AddConstant("ends", Int64s(ends)), ctx.AddConstant("axes", Int64s(axes))},
              {out[0]});
  return absl::OkStatus();
}

absl::Status ImportSplit(const OperatorDef&, const Caffe2Args& args,
                         const std::vector<std::string>& in, const std::vector<std::string>& out,
                         ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  ASSIGN_OR_RETURN(int64_t axis, args.Int("axis", nhwc ? 3 : 1));
  // Every part is an output of ONNX Split, read or not.
  std::vector<std::string> parts = out;
  for (std::string& part : parts) {
    if (part.empty()) part = ctx.NewName("unread_part");
  }
  std::vector<std::string> inputs = in;
  std::vector<int64_t> split;
  if (args.Has("split")) {
    ASSIGN_OR_RETURN(split, args.Ints("split"));
    if (ListsAreInputs(ctx)) inputs.push_back(ctx.AddConstant("split", Int64s(split)));
  }
  Node& node = ctx.AddNode("Split", inputs, parts);
  node.attrs.Set("axis", axis);
  if (!split.empty() && !ListsAreInputs(ctx)) node.attrs.Set("split", split);
  return absl::OkStatus();
}

absl::Status ImportChannelShuffle(const OperatorDef&, const Caffe2Args& args,
                                  const std::vector<std::string>& in,
                                  const std::vector<std::string>& out, ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  ASSIGN_OR_RETURN(int64_t group, args.Int("group", 1));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  if (group <= 0) return absl::InvalidArgumentError("`group` must be positive");
  const std::string x = nhwc ? ToNCHW(ctx, in[0]) : in[0];
  // [N, C, H, W] -> [N, g, C/g, H, W] -> swap axes 1 and 2 -> [N, C, H, W].
  const std::string shape = ctx.NewName(x + "_shape");
  ctx.AddNode("Shape", {x}, {shape});
  const std::string hw = ctx.NewName(x + "_hw");
  ctx.AddNode("Slice", {shape, ctx.AddConstant("starts", Int64s({2})),
                        ctx.AddConstant("ends", Int64s({std::numeric_limits<int64_t>::max()}))},
              {hw});
  const std::string grouped_shape = ctx.NewName(x + "_grouped_shape");
  ctx.AddNode("Concat", {ctx.AddConstant("groups", Int64s({0, group, -1})), hw}, {grouped_shape})
      .attrs.Set("axis", int64_t{0});
  const std::string grouped = ctx.NewName(x + "_grouped");
  ctx.AddNode("Reshape", {x, grouped_shape}, {grouped});
  const std::string shuffled = ctx.NewName(x + "_shuffled");
  ctx.AddNode("Transpose", {grouped}, {shuffled})
      .attrs.Set("perm", std::vector<int64_t>{0, 2, 1, 3, 4});
  const std::string y = nhwc ? ctx.NewName(out[0] + "_nchw") : out[0];
  ctx.AddNode("Reshape", {shuffled, shape}, {y});
  if (nhwc) FromNCHW(ctx, y, out[0]);
  return absl::OkStatus();
}

absl::Status ImportClip(const OperatorDef&, const Caffe2Args& args,
                        const std::vector<std::string>& in, const std::vector<std::string>& out,
                        ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  ASSIGN_OR_RETURN(float lo, args.Float("min", -std::numeric_limits<float>::infinity()));
  ASSIGN_OR_RETURN(float hi, args.Float("max", std::numeric_limits<float>::infinity()));
  ctx.AddNode("Clip", {in[0], ctx.AddConstant("min", Tensor::Scalar<float>(lo)),
                       ctx.AddConstant("max", Tensor::Scalar<float>(hi))},
              {out[0]});
  return absl::OkStatus();
}

Caffe2ImportFn Permute(std::vector<int64_t> perm) {
  return [perm](const OperatorDef&, const Caffe2Args&, const std::vector<std::string>& in,
                const std::vector<std::string>& out, ImportContext& ctx) -> absl::Status {
    RETURN_IF_ERROR(RequireInputs(in, 1, 1));
    ctx.AddNode("Transpose", in, {out[0]}).attrs.Set("perm", perm);
    return absl::OkStatus();
  };
}

// ConstantFill inside predict_net: with `input_as_shape` it is ONNX's ConstantOfShape.
absl::Status ImportConstantFill(const OperatorDef&, const Caffe2Args& args,
                                const std::vector<std::string>& in,
                                const std::vector<std::string>& out, ImportContext& ctx) {
  RETURN_IF_ERROR(RequireInputs(in, 1, 1));
  ASSIGN_OR_RETURN(int64_t input_as_shape, args.Int("input_as_shape", 0));
  if (!input_as_shape) {
    return absl::UnimplementedError("ConstantFill with an input needs input_as_shape: 1");
  }
  ASSIGN_OR_RETURN(int64_t dtype, args.Int("dtype", caffe2::TensorProto::FLOAT));
  Tensor value;
  switch (dtype) {
    case caffe2::TensorProto::FLOAT: {
      ASSIGN_OR_RETURN(float v, args.Float("value", 0));
      value = Tensor::FromVector<float>({v}, {1});
      break;
    }
    case caffe2::TensorProto::INT64:
    case caffe2::TensorProto::INT32:
    case caffe2::TensorProto::BOOL: {
      ASSIGN_OR_RETURN(int64_t v, args.Int("value", 0));
      value = dtype == caffe2::TensorProto::INT64   ? Tensor::FromVector<int64_t>({v}, {1})
              : dtype == caffe2::TensorProto::INT32 ? Tensor::FromVector<int32_t>({static_cast<int32_t>(v)}, {1})
                                                    : Tensor::FromVector<bool>({v != 0}, {1});
      break;
    }
    default:
      return absl::UnimplementedError(absl::StrCat("ConstantFill dtype ", dtype, " is not supported"));
  }
  ctx.AddNode("ConstantOfShape", in, {out[0]}).attrs.Set("value", value);
  return absl::OkStatus();
}

// ---- Caffe2's Int8 ops (ops/caffe2_int8.cc) ----

// An Int8 op: the inputs' scales and zero points (recorded by their producers) and the output's
// (Y_scale / Y_zero_point, or the input's for ops that keep it) become attributes.
absl::Status ImportInt8(const OperatorDef& op, const Caffe2Args& args,
                        const std::vector<std::string>& in, const std::vector<std::string>& out,
                        ImportContext& ctx) {
  const std::string& type = op.type();
  const bool quantize = type == "Int8Quantize";
  RETURN_IF_ERROR(RequireInputs(in, 1, quantize || type == "Int8Dequantize" ? 1 : 1 << 10));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  if (args.Has("order") && !nhwc) {
    return absl::UnimplementedError("Caffe2's Int8 operators run in NHWC order only");
  }
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  if (!quantize) {
    for (const std::string& x : in) {
      ASSIGN_OR_RETURN(QuantParams q, ctx.Quant(x));
      scales.push_back(q.scale);
      zero_points.push_back(q.zero_point);
    }
  }
  QuantParams y;
  const bool keeps_input = type == "Int8Relu" || type == "Int8ResizeNearest";
  if (keeps_input) {
    y = {scales[0], zero_points[0]};
  } else {
    ASSIGN_OR_RETURN(y.scale, args.Float("Y_scale", 1.0f));
    ASSIGN_OR_RETURN(y.zero_point, args.Int("Y_zero_point", 0));
  }
  Node& node = AddCaffe2Node(ctx, type, in, {out[0]});
  node.attrs.Set("input_scales", scales);
  node.attrs.Set("input_zero_points", zero_points);
  node.attrs.Set("Y_scale", y.scale);
  node.attrs.Set("Y_zero_point", y.zero_point);
  if (type == "Int8Conv" || type == "Int8ConvRelu" || type == "Int8ConvTranspose") {
    ASSIGN_OR_RETURN(SpatialArgs s, ReadSpatial(args, /*need_kernel=*/false));
    ASSIGN_OR_RETURN(int64_t group, args.Int("group", 1));
    node.attrs.Set("strides", s.strides);
    node.attrs.Set("dilations", s.dilations);
    // Caffe2's pads are t, l, b, r, as ONNX's begins then ends.
    node.attrs.Set("pads", s.pads);
    node.attrs.Set("group", group);
    if (type == "Int8ConvTranspose") {
      ASSIGN_OR_RETURN(std::vector<int64_t> adj, PerAxis(args, "adj", 0, 2));
      node.attrs.Set("output_padding", adj);
    }
  } else if (type == "Int8AveragePool") {
    ASSIGN_OR_RETURN(int64_t global, args.Int("global_pooling", 0));
    node.attrs.Set("global_pooling", global);
    if (!global) {
      ASSIGN_OR_RETURN(SpatialArgs s, ReadSpatial(args, /*need_kernel=*/true));
      node.attrs.Set("kernel_shape", s.kernel);
      node.attrs.Set("strides", s.strides);
      node.attrs.Set("pads", s.pads);
    }
  } else if (type == "Int8ResizeNearest") {
    ASSIGN_OR_RETURN(float hs, args.Float("height_scale", 1.0f));
    ASSIGN_OR_RETURN(float ws, args.Float("width_scale", 1.0f));
    node.attrs.Set("height_scale", hs);
    node.attrs.Set("width_scale", ws);
  }
  if (type != "Int8Dequantize") ctx.SetQuant(out[0], y);
  return absl::OkStatus();
}

// ---- Detectron's ops (ops/caffe2_detection.cc) ----

// Copies the named Caffe2 arguments that are present onto the node (ints and floats).
absl::Status CopyArgs(const Caffe2Args& args, const std::vector<std::string>& ints,
                      const std::vector<std::string>& floats, Node& node) {
  for (const std::string& name : ints) {
    if (!args.Has(name)) continue;
    ASSIGN_OR_RETURN(int64_t v, args.Int(name, 0));
    node.attrs.Set(name, v);
  }
  for (const std::string& name : floats) {
    if (!args.Has(name)) continue;
    ASSIGN_OR_RETURN(float v, args.Float(name, 0.0f));
    node.attrs.Set(name, v);
  }
  return absl::OkStatus();
}

// Refuses an argument whose value asks for a behaviour not built (rotated boxes, soft NMS...).
absl::Status Refuse(const Caffe2Args& args, const std::string& name, int64_t supported) {
  ASSIGN_OR_RETURN(int64_t v, args.Int(name, supported));
  if (v != supported) {
    return absl::UnimplementedError(absl::StrCat("argument ", name, " = ", v, " is not supported"));
  }
  return absl::OkStatus();
}

// Outputs past `supported` must be unread.
absl::Status OnlyOutputs(const std::vector<std::string>& out, size_t supported) {
  for (size_t i = supported; i < out.size(); ++i) {
    if (!out[i].empty()) {
      return absl::UnimplementedError(absl::StrCat("output ", i, " is read but not supported"));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> Used(const std::vector<std::string>& out, size_t n) {
  std::vector<std::string> used(out.begin(), out.begin() + std::min(n, out.size()));
  while (used.size() > 1 && used.back().empty()) used.pop_back();
  return used;
}

absl::Status ImportDetection(const OperatorDef& op, const Caffe2Args& args,
                             const std::vector<std::string>& in,
                             const std::vector<std::string>& out, ImportContext& ctx) {
  const std::string& type = op.type();
  RETURN_IF_ERROR(Refuse(args, "rotated", 0));
  // `correct_transform_coords: 0` was Caffe2's pre-Detectron x2/y2 without the minus one.
  RETURN_IF_ERROR(Refuse(args, "correct_transform_coords", 1));
  if (type == "BBoxTransform") {
    RETURN_IF_ERROR(RequireInputs(in, 3, 3));
    RETURN_IF_ERROR(OnlyOutputs(out, 2));
    Node& node = AddCaffe2Node(ctx, type, in, Used(out, 2));
    if (args.Has("weights")) {
      ASSIGN_OR_RETURN(std::vector<float> weights, args.Floats("weights"));
      node.attrs.Set("weights", weights);
    }
    return CopyArgs(args, {"apply_scale", "legacy_plus_one"}, {}, node);
  }
  if (type == "GenerateProposals") {
    RETURN_IF_ERROR(RequireInputs(in, 4, 4));
    RETURN_IF_ERROR(OnlyOutputs(out, 2));
    Node& node = AddCaffe2Node(ctx, type, in, Used(out, 2));
    return CopyArgs(args, {"pre_nms_topN", "post_nms_topN", "legacy_plus_one"},
                    {"spatial_scale", "nms_thresh", "min_size"}, node);
  }
  if (type == "BoxWithNMSLimit") {
    RETURN_IF_ERROR(RequireInputs(in, 2, 2));  // batch_splits (a third input): one image only
    RETURN_IF_ERROR(OnlyOutputs(out, 3));
    RETURN_IF_ERROR(Refuse(args, "soft_nms_enabled", 0));
    RETURN_IF_ERROR(Refuse(args, "cls_agnostic_bbox_reg", 0));
    RETURN_IF_ERROR(Refuse(args, "input_boxes_include_bg_cls", 1));
    RETURN_IF_ERROR(Refuse(args, "output_classes_include_bg_cls", 1));
    Node& node = AddCaffe2Node(ctx, type, in, Used(out, 3));
    return CopyArgs(args, {"detections_per_im", "legacy_plus_one"}, {"score_thresh", "nms"}, node);
  }
  // RoIAlign
  RETURN_IF_ERROR(RequireInputs(in, 2, 2));
  ASSIGN_OR_RETURN(bool nhwc, IsNHWC(args));
  const std::string x = nhwc ? ToNCHW(ctx, in[0]) : in[0];
  const std::string y = nhwc ? ctx.NewName(out[0] + "_nchw") : out[0];
  Node& node = AddCaffe2Node(ctx, type, {x, in[1]}, {y});
  RETURN_IF_ERROR(CopyArgs(args, {"pooled_h", "pooled_w", "sampling_ratio", "aligned"},
                           {"spatial_scale"}, node));
  if (nhwc) FromNCHW(ctx, y, out[0]);
  return absl::OkStatus();
}

const std::map<std::string, Caffe2ImportFn>& ImportTable() {
  static const auto* table = new std::map<std::string, Caffe2ImportFn>{
      {"AveragePool", ImportPool},
      {"AveragePool2D", ImportPool},
      {"Add", ImportBinary},
      {"BBoxTransform", ImportDetection},
      {"BoxWithNMSLimit", ImportDetection},
      {"BRGNCHWCToPackedInt8BGRAStylizerDeprocess", ImportStylizer},
      {"BatchMatMul", ImportBatchMatMul},
      {"Cast", ImportCast},
      {"ChannelShuffle", ImportChannelShuffle},
      {"Clip", ImportClip},
      {"Concat", ImportConcat},
      {"ConstantFill", ImportConstantFill},
      {"Conv", ImportConv},
      {"Conv2D", ImportConv},
      {"ConvTranspose", ImportConv},
      {"Copy", Same("Identity", 1, 1)},
      {"Div", ImportBinary},
      {"Dropout", ImportDropout},
      {"Erf", Same("Erf", 1, 1)},
      {"ExpandDims", WithDims("Unsqueeze")},
      {"FC", ImportFC},
      {"FCTransposed", ImportFC},
      {"Flatten",
       [](const OperatorDef&, const Caffe2Args& args, const std::vector<std::string>& in,
          const std::vector<std::string>& out, ImportContext& ctx) -> absl::Status {
         RETURN_IF_ERROR(RequireInputs(in, 1, 1));
         ASSIGN_OR_RETURN(int64_t axis, args.Int("axis", 1));
         ctx.AddNode("Flatten", in, {out[0]}).attrs.Set("axis", axis);
         return absl::OkStatus();
       }},
      {"GenerateProposals", ImportDetection},
      {"InstanceNorm", ImportInstanceNorm},
      {"Int8Add", ImportInt8},
      {"Int8AddRelu", ImportInt8},
      {"Int8AveragePool", ImportInt8},
      {"IsEmpty",
       [](const OperatorDef&, const Caffe2Args&, const std::vector<std::string>& in,
          const std::vector<std::string>& out, ImportContext& ctx) -> absl::Status {
         // A bool scalar: whether the input has no elements.
         RETURN_IF_ERROR(RequireInputs(in, 1, 1));
         const std::string size = ctx.NewName(in[0] + "_size");
         ctx.AddNode("Size", in, {size});
         ctx.AddNode("Equal", {size, ctx.AddConstant("zero", Tensor::Scalar<int64_t>(0))},
                     {out[0]});
         return absl::OkStatus();
       }},
      {"Int8Conv", ImportInt8},
      {"Int8ConvRelu", ImportInt8},
      {"Int8ConvTranspose", ImportInt8},
      {"Int8Dequantize", ImportInt8},
      {"Int8FC", ImportInt8},
      {"Int8Quantize", ImportInt8},
      {"Int8Relu", ImportInt8},
      {"Int8ResizeNearest", ImportInt8},
      {"Int8Softmax", ImportInt8},
      {"Int8Sum", ImportInt8},
      {"Int8SumRelu", ImportInt8},
      {"LayerNorm", ImportLayerNorm},
      {"LeakyRelu", ImportLeakyRelu},
      {"LRN", ImportLRN},
      {"MaxPool", ImportPool},
      {"MaxPool2D", ImportPool},
      {"Mul", ImportBinary},
      {"NCHW2NHWC", Permute({0, 2, 3, 1})},
      {"NHWC2NCHW", Permute({0, 3, 1, 2})},
      {"Negative", Same("Neg", 1, 1)},
      {"PackedInt8BGRANHWCToNCHWCStylizerPreprocess", ImportStylizer},
      {"PadImage", ImportPadImage},
      {"PRelu", ImportPRelu},
      {"Relu", Same("Relu", 1, 1)},
      {"Reshape", ImportReshape},
      {"RoIAlign", ImportDetection},
      {"ResizeNearest", ImportResizeNearest},
      {"Shape", Same("Shape", 1, 1)},
      {"Sigmoid", Same("Sigmoid", 1, 1)},
      {"Size", Same("Size", 1, 1)},
      {"Slice", ImportSlice},
      {"Softmax", ImportSoftmax},
      {"SpatialBN", ImportSpatialBN},
      {"Split", ImportSplit},
      {"Squeeze", WithDims("Squeeze")},
      {"Sub", ImportBinary},
      {"Sum", Same("Sum", 1, 1 << 20)},
      {"Tanh", Same("Tanh", 1, 1)},
      {"Transpose", ImportTranspose},
  };
  return *table;
}

}  // namespace

Caffe2Args::Caffe2Args(const OperatorDef& op) {
  for (const caffe2::Argument& a : op.arg()) args_[a.name()] = &a;
}

absl::StatusOr<int64_t> Caffe2Args::Int(const std::string& name, int64_t def) const {
  auto it = args_.find(name);
  if (it == args_.end()) return def;
  if (!it->second->has_i()) return ArgError(name, "an integer (i)");
  return it->second->i();
}

absl::StatusOr<float> Caffe2Args::Float(const std::string& name, float def) const {
  auto it = args_.find(name);
  if (it == args_.end()) return def;
  if (it->second->has_f()) return it->second->f();
  if (it->second->has_i()) return static_cast<float>(it->second->i());
  return ArgError(name, "a float (f)");
}

absl::StatusOr<std::string> Caffe2Args::String(const std::string& name,
                                               const std::string& def) const {
  auto it = args_.find(name);
  if (it == args_.end()) return def;
  if (!it->second->has_s()) return ArgError(name, "a string (s)");
  return it->second->s();
}

absl::StatusOr<std::vector<int64_t>> Caffe2Args::Ints(const std::string& name) const {
  auto it = args_.find(name);
  if (it == args_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("missing argument '", name, "'"));
  }
  const caffe2::Argument& a = *it->second;
  if (a.has_i() || a.has_f() || a.has_s() || a.floats_size() > 0 || a.strings_size() > 0) {
    return ArgError(name, "a list of integers (ints)");
  }
  return std::vector<int64_t>(a.ints().begin(), a.ints().end());
}

absl::StatusOr<std::vector<float>> Caffe2Args::Floats(const std::string& name) const {
  auto it = args_.find(name);
  if (it == args_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("missing argument '", name, "'"));
  }
  const caffe2::Argument& a = *it->second;
  if (a.has_i() || a.has_f() || a.has_s() || a.ints_size() > 0 || a.strings_size() > 0) {
    return ArgError(name, "a list of floats (floats)");
  }
  return std::vector<float>(a.floats().begin(), a.floats().end());
}

std::string ImportContext::NewName(const std::string& base) {
  std::string name;
  do {
    name = absl::StrCat(base, "__", NextId());
  } while (Constant(name) != nullptr);
  return name;
}

Node& ImportContext::AddNode(const std::string& op_type, std::vector<std::string> inputs,
                             std::vector<std::string> outputs) {
  Node node;
  node.name = absl::StrCat(op_name_, "/", op_type, "_", NextId());
  node.op_type = op_type;
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  graph_->nodes.push_back(std::move(node));
  return graph_->nodes.back();
}

std::string ImportContext::AddConstant(const std::string& base, Tensor value) {
  const std::string name = NewName(absl::StrCat(op_name_, "/", base));
  graph_->initializers[name] = std::move(value);
  return name;
}

absl::StatusOr<QuantParams> ImportContext::Quant(const std::string& value) const {
  auto it = quant_.find(value);
  if (it == quant_.end()) {
    if (outer_ != nullptr) return outer_->Quant(value);
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", value, "' is not an Int8 blob (no Int8 fill or Int8 operator writes it)"));
  }
  return it->second;
}

const Tensor* ImportContext::Constant(const std::string& name) const {
  auto it = graph_->initializers.find(name);
  if (it != graph_->initializers.end()) return &it->second;
  return outer_ != nullptr ? outer_->Constant(name) : nullptr;
}

absl::Status ImportOperator(const OperatorDef& op, int position, std::vector<std::string> inputs,
                            std::vector<std::string> outputs, ImportContext& ctx) {
  const std::string where = absl::StrCat("operator #", position, " (", op.type(),
                                         op.name().empty() ? "" : " '" + op.name() + "'", ")");
  auto it = ImportTable().find(op.type());
  if (it == ImportTable().end()) {
    return absl::UnimplementedError(
        absl::StrCat(where, ": Caffe2 operator '", op.type(), "' has no mapping"));
  }
  if (outputs.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": has no output"));
  ctx.set_op_name(op.name().empty() ? absl::StrCat(op.type(), "_", position) : op.name());
  absl::Status s = it->second(op, Caffe2Args(op), inputs, outputs, ctx);
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat(where, ": ", s.message()));
  return absl::OkStatus();
}

int ImportOpset(const caffe2::NetDef& predict_net) {
  for (const OperatorDef& op : predict_net.op()) {
    if (op.type() == "LayerNorm") return kLayerNormOpset;
    for (const caffe2::Argument& arg : op.arg()) {  // an If's branches
      if (arg.has_n() && ImportOpset(arg.n()) == kLayerNormOpset) return kLayerNormOpset;
    }
  }
  return kCaffe2Opset;
}

std::vector<std::string> MappedCaffe2Ops() {
  std::vector<std::string> out;
  for (const auto& [name, fn] : ImportTable()) out.push_back(name);
  return out;
}

absl::StatusOr<Tensor> TensorFromCaffe2(const caffe2::TensorProto& proto) {
  DType dtype;
  switch (proto.data_type()) {
    case caffe2::TensorProto::FLOAT: dtype = DType::kFloat32; break;
    case caffe2::TensorProto::DOUBLE: dtype = DType::kFloat64; break;
    case caffe2::TensorProto::INT32: dtype = DType::kInt32; break;
    case caffe2::TensorProto::INT64: dtype = DType::kInt64; break;
    case caffe2::TensorProto::INT16: dtype = DType::kInt16; break;
    case caffe2::TensorProto::UINT16: dtype = DType::kUInt16; break;
    case caffe2::TensorProto::INT8: dtype = DType::kInt8; break;
    case caffe2::TensorProto::UINT8: dtype = DType::kUInt8; break;
    case caffe2::TensorProto::BOOL: dtype = DType::kBool; break;
    case caffe2::TensorProto::FLOAT16: dtype = DType::kFloat16; break;
    case caffe2::TensorProto::STRING: dtype = DType::kString; break;
    default:
      return absl::UnimplementedError(absl::StrCat(
          "tensor '", proto.name(), "' has unsupported Caffe2 data type ",
          caffe2::TensorProto::DataType_Name(proto.data_type())));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, Shape(proto.dims().begin(), proto.dims().end())));
  const int64_t n = t.num_elements();
  auto count_error = [&](int64_t have) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", proto.name(), "' has ", have,
                                                   " values, its dims need ", n));
  };
  if (proto.has_raw_data()) {
    if (dtype == DType::kString || proto.raw_data().size() != t.nbytes()) {
      return count_error(static_cast<int64_t>(proto.raw_data().size() / DTypeSize(dtype)));
    }
    std::memcpy(t.raw_data(), proto.raw_data().data(), t.nbytes());
    return t;
  }
  return [&]() -> absl::StatusOr<Tensor> {
    switch (dtype) {
      case DType::kFloat32:
        if (proto.float_data_size() != n) return count_error(proto.float_data_size());
        std::copy(proto.float_data().begin(), proto.float_data().end(), t.data<float>());
        return t;
      case DType::kFloat64:
        if (proto.double_data_size() != n) return count_error(proto.double_data_size());
        std::copy(proto.double_data().begin(), proto.double_data().end(), t.data<double>());
        return t;
      case DType::kInt64:
        if (proto.int64_data_size() != n) return count_error(proto.int64_data_size());
        std::copy(proto.int64_data().begin(), proto.int64_data().end(), t.data<int64_t>());
        return t;
      case DType::kString:
        if (proto.string_data_size() != n) return count_error(proto.string_data_size());
        for (int64_t i = 0; i < n; ++i) t.data<std::string>()[i] = proto.string_data(i);
        return t;
      default:
        break;
    }
    if (dtype == DType::kUInt8 && proto.has_byte_data()) {
      if (static_cast<int64_t>(proto.byte_data().size()) != n) {
        return count_error(static_cast<int64_t>(proto.byte_data().size()));
      }
      std::memcpy(t.raw_data(), proto.byte_data().data(), n);
      return t;
    }
    if (proto.int32_data_size() != n) return count_error(proto.int32_data_size());
    RETURN_IF_ERROR(VisitDType(dtype, DTypeSet::kAll, "Caffe2 tensor", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
        for (int64_t i = 0; i < n; ++i) t.data<T>()[i].bits = static_cast<uint16_t>(proto.int32_data(i));
      } else if constexpr (std::is_arithmetic_v<T>) {
        for (int64_t i = 0; i < n; ++i) t.data<T>()[i] = static_cast<T>(proto.int32_data(i));
      }
      return absl::OkStatus();
    }));
    return t;
  }();
}

}  // namespace cortado
