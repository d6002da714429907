// The CUDA backend's host-side decisions (kernel_params.h), without a GPU. The views, reduction
// plans, batched-GEMM shapes and gather dimensions are checked by carrying out, on the host, what
// kernels.h and cuBLAS promise to do with them, and comparing with the reference CPU kernels
// (RunOp); the node filters and descriptor dimensions against ONNX's definitions.
#include "backends/cuda/kernel_params.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "ops/run_op.h"

namespace cortado {
namespace cuda {
namespace {

Tensor Random(const Shape& shape, int seed = 0) {
  Tensor t = Tensor::Create(DType::kFloat32, shape).value();
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = std::sin(0.37f * i + seed);
  return t;
}

Tensor Reference(OpRun run) {
  auto out = RunOp(run);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? (*out)[0] : Tensor();
}

// What LaunchStridedCopy writes: y[i] = x[offset(view, i)].
int64_t OffsetOf(const StridedView& v, int64_t i) {
  int64_t off = v.offset;
  for (int d = v.rank - 1; d >= 0; --d) {
    off += (i % v.dims[d]) * v.strides[d];
    i /= v.dims[d];
  }
  return off;
}
int64_t CountOf(const StridedView& v) {
  int64_t n = 1;
  for (int d = 0; d < v.rank; ++d) n *= v.dims[d];
  return n;
}
Tensor StridedCopy(const Tensor& x, const StridedView& v) {
  Tensor y = Tensor::Create(DType::kFloat32, Shape(v.dims, v.dims + v.rank)).value();
  for (int64_t i = 0; i < y.num_elements(); ++i)
    y.data<float>()[i] = x.data<float>()[OffsetOf(v, i)];
  return y;
}

// A KernelInfo of one node, its inputs' shapes known.
struct Node {
  AttributeMap attrs;
  KernelInfo info;
  std::vector<Tensor> constants;
  Node(std::string op, int opset, std::vector<Shape> shapes, int outputs = 1) {
    info.op_type = std::move(op);
    info.opset = opset;
    info.attrs = &attrs;
    info.num_outputs = outputs;
    for (Shape& s : shapes) {
      info.input_dtypes.push_back(DType::kFloat32);
      info.constant_inputs.push_back(nullptr);
      info.input_shapes.push_back(std::move(s));
    }
  }
  // Makes input `i` the constant `t`.
  void Constant(size_t i, Tensor t) {
    constants.reserve(8);
    constants.push_back(std::move(t));
    info.input_dtypes[i] = constants.back().dtype();
    info.constant_inputs[i] = &constants.back();
  }
};

TEST(KernelParamsTest, UnaryOpsAndTheirParameters) {
  Node relu("Relu", 14, {{2, 3}});
  ASSERT_TRUE(UnaryFor(relu.info));
  EXPECT_EQ(UnaryFor(relu.info)->op, Unary::kRelu);
  Node leaky("LeakyRelu", 16, {{2}});
  EXPECT_FLOAT_EQ(UnaryFor(leaky.info)->alpha, 0.01f);  // ONNX's default
  leaky.attrs.Set("alpha", 0.3f);
  EXPECT_FLOAT_EQ(UnaryFor(leaky.info)->alpha, 0.3f);
  Node hard("HardSigmoid", 6, {{2}});
  EXPECT_FLOAT_EQ(UnaryFor(hard.info)->alpha, 0.2f);
  EXPECT_FLOAT_EQ(UnaryFor(hard.info)->beta, 0.5f);
  // Clip: attributes before opset 11, constant scalar inputs from 11 on.
  Node clip6("Clip", 6, {{4}});
  clip6.attrs.Set("min", -1.0f);
  clip6.attrs.Set("max", 2.0f);
  EXPECT_FLOAT_EQ(UnaryFor(clip6.info)->alpha, -1.0f);
  EXPECT_FLOAT_EQ(UnaryFor(clip6.info)->beta, 2.0f);
  Node clip13("Clip", 13, {{4}, {}, {}});
  clip13.Constant(1, Tensor::Scalar(0.5f));
  clip13.info.input_dtypes[2] = DType::kUndefined;  // no max
  ASSERT_TRUE(UnaryFor(clip13.info));
  EXPECT_FLOAT_EQ(UnaryFor(clip13.info)->alpha, 0.5f);
  EXPECT_EQ(UnaryFor(clip13.info)->beta, std::numeric_limits<float>::max());
  Node clip_fed("Clip", 13, {{4}, {}, {}});  // a bound fed per request: not ours
  EXPECT_FALSE(UnaryFor(clip_fed.info));
  EXPECT_FALSE(UnaryFor(Node("Elu", 6, {{4}}).info));
  EXPECT_FALSE(UnaryFor(Node("LeakyRelu", 1, {{4}}).info));  // consumed_inputs
}

TEST(KernelParamsTest, PoolsCuDnnCanRun) {
  Node max("MaxPool", 12, {{1, 3, 8, 8}});
  max.attrs.Set("kernel_shape", std::vector<int64_t>{3, 2});
  max.attrs.Set("pads", std::vector<int64_t>{1, 0, 1, 0});
  max.attrs.Set("strides", std::vector<int64_t>{2, 1});
  std::optional<Pool2d> p = PoolFor(max.info);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->max);
  EXPECT_FALSE(p->global);
  EXPECT_EQ(p->window, (std::array<int, 2>{3, 2}));
  EXPECT_EQ(p->pads, (std::array<int, 2>{1, 0}));
  EXPECT_EQ(p->strides, (std::array<int, 2>{2, 1}));
  Node indices = max;  // MaxPool's second output
  indices.info.attrs = &indices.attrs;
  indices.info.num_outputs = 2;
  EXPECT_FALSE(PoolFor(indices.info));
  Node asym = max;
  asym.info.attrs = &asym.attrs;
  asym.attrs.Set("pads", std::vector<int64_t>{1, 0, 0, 0});
  EXPECT_FALSE(PoolFor(asym.info));
  Node ceil = max;
  ceil.info.attrs = &ceil.attrs;
  ceil.attrs.Set("ceil_mode", int64_t{1});
  EXPECT_FALSE(PoolFor(ceil.info));
  Node dilated = max;
  dilated.info.attrs = &dilated.attrs;
  dilated.attrs.Set("dilations", std::vector<int64_t>{2, 1});
  EXPECT_FALSE(PoolFor(dilated.info));
  EXPECT_FALSE(PoolFor(Node("MaxPool", 12, {{1, 3, 8}}).info));  // 1-D

  Node avg("AveragePool", 19, {{1, 3, 8, 8}});
  avg.attrs.Set("kernel_shape", std::vector<int64_t>{2, 2});
  EXPECT_FALSE(PoolFor(avg.info)->count_include_pad);
  avg.attrs.Set("count_include_pad", int64_t{1});
  EXPECT_TRUE(PoolFor(avg.info)->count_include_pad);
  EXPECT_FALSE(PoolFor(avg.info)->max);

  std::optional<Pool2d> global = PoolFor(Node("GlobalMaxPool", 1, {{2, 3, 5, 5}}).info);
  ASSERT_TRUE(global);
  EXPECT_TRUE(global->global && global->max);
  EXPECT_FALSE(PoolFor(Node("LpPool", 18, {{2, 3, 5, 5}}).info));
}

TEST(KernelParamsTest, SoftmaxAxisByOpset) {
  // Opset 13 on: along the axis alone.
  SoftmaxDims d = SoftmaxFor({2, 3, 4}, 1, 13).value();
  EXPECT_EQ(d.n, 2);
  EXPECT_EQ(d.c, 3);
  EXPECT_EQ(d.inner, 4);
  d = SoftmaxFor({2, 3, 4}, -1, 13).value();
  EXPECT_EQ(d.n, 6);
  EXPECT_EQ(d.c, 4);
  EXPECT_EQ(d.inner, 1);
  // Before: the input flattened to 2-D at the axis.
  d = SoftmaxFor({2, 3, 4}, 1, 11).value();
  EXPECT_EQ(d.n, 2);
  EXPECT_EQ(d.c, 12);
  EXPECT_EQ(d.inner, 1);
  EXPECT_FALSE(SoftmaxFor({2, 3}, 2, 13).ok());
  EXPECT_FALSE(SoftmaxFor({}, 0, 13).ok());
}

TEST(KernelParamsTest, BatchNormInferenceOnly) {
  Node bn("BatchNormalization", 15, {{2, 3, 4, 5}, {3}, {3}, {3}, {3}});
  bn.attrs.Set("epsilon", 1e-3f);
  ASSERT_TRUE(BatchNormFor(bn.info));
  EXPECT_NEAR(*BatchNormFor(bn.info), 1e-3, 1e-9);
  Node training = bn;
  training.info.attrs = &training.attrs;
  training.attrs.Set("training_mode", int64_t{1});
  EXPECT_FALSE(BatchNormFor(training.info));
  Node outputs("BatchNormalization", 9, {{2, 3}, {3}, {3}, {3}, {3}}, 5);
  EXPECT_FALSE(BatchNormFor(outputs.info));
  EXPECT_EQ(BatchNormDims({2, 3, 4, 5, 6}).value(), (std::array<int, 4>{2, 3, 120, 1}));
  EXPECT_EQ(BatchNormDims({2, 3}).value(), (std::array<int, 4>{2, 3, 1, 1}));
  EXPECT_FALSE(BatchNormDims({3}).ok());
}

TEST(KernelParamsTest, SliceViewMatchesTheReference) {
  struct Case {
    Shape in;
    std::vector<int64_t> starts, ends, axes, steps;
  };
  const std::vector<Case> cases = {
      {{5, 6}, {1, 0}, {4, 6}, {0, 1}, {1, 2}},
      {{5, 6}, {-1}, {-100}, {0}, {-2}},               // backwards, clamped
      {{2, 7, 3}, {2, 10}, {-1, 20}, {1, 2}, {1, 1}},  // empty along the last axis
      {{4, 4, 4}, {3, 1}, {0, 3}, {-3, -1}, {-1, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(ShapeToString(c.in));
    const Tensor x = Random(c.in);
    auto i64 = [](const std::vector<int64_t>& v) {
      return Tensor::FromVector(v, {static_cast<int64_t>(v.size())});
    };
    const Tensor expected =
        Reference({"Slice", 13, {}, {x, i64(c.starts), i64(c.ends), i64(c.axes), i64(c.steps)}});
    std::vector<SliceDim> dims = SliceDims(c.in, c.starts, c.ends, c.axes, c.steps).value();
    const StridedView v = SliceView(c.in, dims).value();
    EXPECT_EQ(CompareTensors(StridedCopy(x, v), expected, 0, 0), "");
  }
}

TEST(KernelParamsTest, TransposeViewMatchesTheReference) {
  const Tensor x = Random({2, 3, 4, 5});
  for (const std::vector<int64_t>& perm :
       std::vector<std::vector<int64_t>>{{0, 2, 3, 1}, {3, 1, 0, 2}, {}}) {
    AttributeMap attrs;
    if (!perm.empty()) attrs.Set("perm", perm);
    const Tensor expected = Reference({"Transpose", 13, attrs, {x}});
    EXPECT_EQ(
        CompareTensors(StridedCopy(x, TransposeView(x.shape(), perm).value()), expected, 0, 0), "");
  }
  EXPECT_FALSE(TransposeView({2, 3}, {0, 0}).ok());
  EXPECT_FALSE(TransposeView({2, 3}, {0, 1, 2}).ok());
  EXPECT_FALSE(TransposeView(Shape(9, 1), {}).ok());  // above kMaxRank
}

TEST(KernelParamsTest, ReducePlansMatchTheReference) {
  struct Case {
    std::string op;
    Shape in;
    std::vector<int64_t> axes;
    bool keepdims;
  };
  const std::vector<Case> cases = {
      {"ReduceSum", {3, 4, 5}, {1}, true},         {"ReduceSum", {3, 4, 5}, {0, 2}, false},
      {"ReduceMean", {2, 3, 4, 5}, {-1, 1}, true}, {"ReduceMax", {6, 7}, {}, false},
      {"ReduceMax", {2, 300}, {1}, true},          {"ReduceSum", {3, 0}, {1}, true},  // empty sets
      {"ReduceMean", {3, 0}, {1}, false},          {"ReduceMax", {0, 2}, {0}, true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op + " " + ShapeToString(c.in));
    const Tensor x = Random(c.in, 3);
    AttributeMap attrs;
    attrs.Set("keepdims", int64_t{c.keepdims});
    OpRun run{c.op, 18, attrs, {x}};
    if (!c.axes.empty()) {
      run.inputs.push_back(Tensor::FromVector(c.axes, {static_cast<int64_t>(c.axes.size())}));
    }
    const Tensor expected = Reference(run);
    const ReducePlan p = ReduceFor(c.in, c.axes, c.keepdims).value();
    EXPECT_EQ(p.out_shape, expected.shape());
    // What LaunchReduce computes.
    Tensor got = Tensor::Create(DType::kFloat32, p.out_shape).value();
    const int64_t n_reduced = CountOf(p.reduced);
    for (int64_t o = 0; o < CountOf(p.out); ++o) {
      double acc = c.op == "ReduceMax" ? -INFINITY : 0;
      for (int64_t r = 0; r < n_reduced; ++r) {
        const float v = x.data<float>()[OffsetOf(p.out, o) + OffsetOf(p.reduced, r)];
        acc = c.op == "ReduceMax" ? std::max<double>(acc, v) : acc + v;
      }
      got.data<float>()[o] =
          c.op == "ReduceMean" ? static_cast<float>(acc) / n_reduced : static_cast<float>(acc);
    }
    EXPECT_EQ(CompareTensors(got, expected, 1e-5, 1e-6), "");
  }
  EXPECT_FALSE(ReduceFor({3, 4}, {2}, true).ok());
  EXPECT_FALSE(ReduceFor({3, 4}, {1, -1}, true).ok());
}

// What cublasGemmStridedBatchedEx computes for BatchedGemm g (row-major, as RowMajorGemm calls
// it), with the output's batches m n apart.
Tensor BatchedProduct(const BatchedGemm& g, const Tensor& a, const Tensor& b) {
  Tensor y = Tensor::Create(DType::kFloat32, g.out).value();
  for (int p = 0; p < g.batch; ++p) {
    for (int i = 0; i < g.m; ++i) {
      for (int j = 0; j < g.n; ++j) {
        double acc = 0;
        for (int k = 0; k < g.k; ++k) {
          acc += double{a.data<float>()[p * g.stride_a + i * g.k + k]} *
                 b.data<float>()[p * g.stride_b + k * g.n + j];
        }
        y.data<float>()[(int64_t{p} * g.m + i) * g.n + j] = static_cast<float>(acc);
      }
    }
  }
  return y;
}

TEST(KernelParamsTest, BatchedMatMulMatchesTheReference) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{5, 3}, {3, 4}},         {{2, 3, 5, 3}, {3, 4}},        // B shared: folded into m
      {{5, 3}, {2, 3, 4}},      {{2, 3, 5, 3}, {2, 3, 3, 4}},  // A shared; same batches
      {{1, 5, 3}, {4, 3, 2}},   {{3}, {2, 3, 4}},              // 1-D A
      {{2, 5, 3}, {3}},         {{3}, {3}},                    // 1-D B; a dot product
      {{2, 1, 5, 3}, {1, 3, 4}}};
  for (const auto& [sa, sb] : cases) {
    SCOPED_TRACE(ShapeToString(sa) + " x " + ShapeToString(sb));
    const Tensor a = Random(sa, 1), b = Random(sb, 2);
    const Tensor expected = Reference({"MatMul", 13, {}, {a, b}});
    absl::StatusOr<BatchedGemm> g = MatMulFor(sa, sb);
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ(g->out, expected.shape());
    EXPECT_EQ(CompareTensors(BatchedProduct(*g, a, b), expected, 1e-5, 1e-6), "");
    EXPECT_TRUE(MatMulMayFit(sa, sb));
  }
  // Batches that broadcast in part are the CPU's; mismatches are errors.
  EXPECT_EQ(MatMulFor({2, 1, 5, 3}, {1, 4, 3, 2}).status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(MatMulMayFit(Shape{2, 1, 5, 3}, Shape{1, 4, 3, 2}));
  EXPECT_EQ(MatMulFor({5, 3}, {4, 2}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MatMulFor({2, 5, 3}, {3, 3, 2}).status().code(), absl::StatusCode::kInvalidArgument);
  // Unknown dims: equal batch dims fit, others wait for the plan to know more.
  EXPECT_TRUE(MatMulMayFit(Shape{-1, 8, 5, 3}, Shape{-1, 8, 3, 2}));
  EXPECT_FALSE(MatMulMayFit(Shape{-1, 8, 5, 3}, Shape{1, 8, 3, 2}));
  EXPECT_TRUE(MatMulMayFit(Shape{-1, 8, 5, 3}, Shape{1, 1, 3, 2}));  // B shared
  EXPECT_TRUE(MatMulMayFit(std::nullopt, Shape{3, 2}));
}

TEST(KernelParamsTest, GemmBiasShapes) {
  EXPECT_TRUE(GemmBiasFits(std::nullopt));
  EXPECT_TRUE(GemmBiasFits(Shape{}));
  EXPECT_TRUE(GemmBiasFits(Shape{5}));
  EXPECT_TRUE(GemmBiasFits(Shape{1, 5}));
  EXPECT_TRUE(GemmBiasFits(Shape{4, 5}));
  EXPECT_TRUE(GemmBiasFits(Shape{1, 1}));
  EXPECT_FALSE(GemmBiasFits(Shape{4, 1}));  // a column: the CPU's
}

TEST(KernelParamsTest, GatherMatchesTheReference) {
  const Tensor x = Random({3, 5, 2});
  for (int64_t axis : {0, 1, -1}) {
    SCOPED_TRACE(axis);
    const Tensor indices = Tensor::FromVector<int64_t>({-1, 0, 1, 1}, {2, 2});
    AttributeMap attrs;
    attrs.Set("axis", axis);
    const Tensor expected = Reference({"Gather", 13, attrs, {x, indices}});
    const GatherDims g = GatherFor(x.shape(), indices.shape(), axis).value();
    EXPECT_EQ(g.out, expected.shape());
    const std::vector<int64_t> idx = GatherIndices(indices, g.axis_dim).value();
    Tensor got = Tensor::Create(DType::kFloat32, g.out).value();
    for (int64_t i = 0; i < got.num_elements(); ++i) {  // as LaunchGather
      const int64_t r = i % g.inner, rest = i / g.inner, k = rest % g.count, o = rest / g.count;
      got.data<float>()[i] = x.data<float>()[(o * g.axis_dim + idx[k]) * g.inner + r];
    }
    EXPECT_EQ(CompareTensors(got, expected, 0, 0), "");
  }
  EXPECT_FALSE(GatherIndices(Tensor::FromVector<int32_t>({0, 3}, {2}), 3).ok());
  EXPECT_FALSE(GatherIndices(Tensor::FromVector<int64_t>({-4}, {1}), 3).ok());
  EXPECT_EQ(GatherIndices(Tensor::FromVector<int32_t>({-3, 2}, {2}), 3).value(),
            (std::vector<int64_t>{0, 2}));
  EXPECT_FALSE(GatherFor({3, 5}, {2}, 2).ok());
}

TEST(KernelParamsTest, CastBetweenFloat32AndFloat16Only) {
  Node to_half("Cast", 19, {{4}});
  to_half.attrs.Set("to", int64_t{10});  // FLOAT16
  EXPECT_EQ(CastFor(to_half.info), DType::kFloat16);
  Node to_float("Cast", 19, {{4}});
  to_float.info.input_dtypes[0] = DType::kFloat16;
  to_float.attrs.Set("to", int64_t{1});
  EXPECT_EQ(CastFor(to_float.info), DType::kFloat32);
  Node to_int("Cast", 19, {{4}});
  to_int.attrs.Set("to", int64_t{7});  // INT64
  EXPECT_FALSE(CastFor(to_int.info));
  Node same("Cast", 19, {{4}});
  same.attrs.Set("to", int64_t{1});
  EXPECT_FALSE(CastFor(same.info));
}

}  // namespace
}  // namespace cuda
}  // namespace cortado
