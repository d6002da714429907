// Tests of the gradient operators in kTrainingDomain (ConvGrad, MaxPoolGrad, AveragePoolGrad,
// BatchNormalizationGrad, LayerNormalizationGrad in ops/nn.cc; ReluGrad in ops/math.cc;
// SoftmaxCrossEntropyLossGrad in ops/loss.cc). Every gradient is checked in float64 against
// central finite differences of the forward op run through RunOp, with random inputs and a
// random upstream gradient; one float32 run per case is checked against the float64 result, and
// malformed inputs must fail with InvalidArgument.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "ops/op_test_table.h"
#include "ops/op_test_util.h"
#include "ops/registry.h"
#include "ops/run_op.h"

namespace cortado {
namespace {

using Ints = std::vector<int64_t>;

constexpr double kEps = 1e-6;     // finite-difference step
constexpr double kFdRtol = 1e-6;  // analytic float64 gradient vs finite differences
constexpr double kFdAtol = 1e-7;
constexpr double kF32Rtol = 1e-4;  // float32 gradient vs float64 gradient
constexpr double kF32Atol = 1e-5;

// Uniform values in [lo, hi).
Tensor Rand(const Shape& shape, std::mt19937& rng, double lo = -1.0, double hi = 1.0) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(NumElements(shape));
  for (double& e : v) e = dist(rng);
  return Tensor::FromVector<double>(v, shape);
}

// Distinct values at least 0.01 apart, in random order (no ties for MaxPool).
Tensor Distinct(const Shape& shape, std::mt19937& rng) {
  std::vector<double> v(NumElements(shape));
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.01 * static_cast<double>(i) - 0.005 * v.size();
  std::shuffle(v.begin(), v.end(), rng);
  return Tensor::FromVector<double>(v, shape);
}

// Float tensors converted to `dtype`; other tensors (labels, indices) and undefined ones as is.
Tensor Convert(const Tensor& t, DType dtype) {
  if (!t.defined() || !IsFloatingPoint(t.dtype()) || t.dtype() == dtype) return t;
  Tensor out = Tensor::Create(dtype, t.shape()).value();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const double v = t.ElementAsDouble(i);
    if (dtype == DType::kFloat32) {
      out.data<float>()[i] = static_cast<float>(v);
    } else {
      out.data<double>()[i] = v;
    }
  }
  return out;
}

OpRun Forward(std::string op, int opset, AttributeMap attrs, std::vector<Tensor> inputs,
              int num_outputs = 1) {
  return OpRun{std::move(op), opset, std::move(attrs), std::move(inputs), num_outputs};
}

OpRun Grad(std::string op, AttributeMap attrs, std::vector<Tensor> inputs, int num_outputs,
           int opset = kMaxOpset) {
  OpRun run{std::move(op), opset, std::move(attrs), std::move(inputs), num_outputs};
  run.domain = kTrainingDomain;
  return run;
}

// sum(up * output 0 of the forward run), or NaN (with a test failure) when it does not run.
double Objective(const OpRun& fwd, const Tensor& up) {
  absl::StatusOr<std::vector<Tensor>> out = RunOp(fwd);
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return std::nan("");
  const Tensor& y = (*out)[0];
  EXPECT_EQ(y.shape(), up.shape());
  double sum = 0;
  for (int64_t i = 0; i < y.num_elements(); ++i) sum += up.data<double>()[i] * y.data<double>()[i];
  return sum;
}

// Central differences of Objective(fwd, up) with respect to fwd.inputs[which] (float64).
Tensor NumericGrad(OpRun fwd, const Tensor& up, int which) {
  const Tensor base = fwd.inputs[which];
  Tensor g = Tensor::Create(DType::kFloat64, base.shape()).value();
  for (int64_t i = 0; i < base.num_elements(); ++i) {
    const double x = base.data<double>()[i];
    Tensor plus = base.Clone(), minus = base.Clone();
    plus.data<double>()[i] = x + kEps;
    minus.data<double>()[i] = x - kEps;
    const double h = plus.data<double>()[i] - minus.data<double>()[i];
    fwd.inputs[which] = plus;
    const double lp = Objective(fwd, up);
    fwd.inputs[which] = minus;
    const double lm = Objective(fwd, up);
    g.data<double>()[i] = (lp - lm) / h;
  }
  return g;
}

// Runs a float64 gradient op; empty (with a test failure) when it does not run.
std::vector<Tensor> RunGrad(const OpRun& run) {
  absl::StatusOr<std::vector<Tensor>> out = RunOp(run);
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return {};
  EXPECT_EQ(out->size(), static_cast<size_t>(run.num_outputs));
  return *std::move(out);
}

// Checks the gradient op's output `out` against finite differences of the forward op w.r.t.
// its input `which`.
void ExpectMatchesFd(const std::vector<Tensor>& grads, int out, const OpRun& fwd, const Tensor& up,
                     int which) {
  SCOPED_TRACE(absl::StrCat("gradient output ", out, " vs forward input ", which));
  ASSERT_LT(static_cast<size_t>(out), grads.size());
  const Tensor fd = NumericGrad(fwd, up, which);
  double largest = 0;
  for (int64_t i = 0; i < fd.num_elements(); ++i) {
    largest = std::max(largest, std::fabs(fd.data<double>()[i]));
  }
  EXPECT_GT(largest, 1e-3) << "the finite differences vanish: the case checks nothing";
  EXPECT_EQ(CompareTensors(grads[out], fd, kFdRtol, kFdAtol), "");
}

// Runs `run` (a float64 gradient op) again with its float inputs in float32 and compares the
// outputs with `expected` (the float64 outputs).
void ExpectFloat32Matches(OpRun run, const std::vector<Tensor>& expected) {
  SCOPED_TRACE("float32");
  for (Tensor& t : run.inputs) t = Convert(t, DType::kFloat32);
  absl::StatusOr<std::vector<Tensor>> out = RunOp(run);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*out)[i].dtype(), DType::kFloat32) << "output " << i;
    EXPECT_EQ(CompareTensors(Convert((*out)[i], DType::kFloat64), expected[i], kF32Rtol, kF32Atol),
              "")
        << "output " << i;
  }
}

// ---------------------------------------------------------------------------------------------
// Registration

TEST(GradRegistryTest, EveryOpsetFindsSchemaAndKernels) {
  const OpRegistry& reg = OpRegistry::Global();
  for (const char* op : {"ConvGrad", "MaxPoolGrad", "AveragePoolGrad", "BatchNormalizationGrad",
                         "LayerNormalizationGrad", "ReluGrad", "SoftmaxCrossEntropyLossGrad"}) {
    SCOPED_TRACE(op);
    for (int opset = 1; opset <= kMaxOpset; ++opset) {
      EXPECT_NE(reg.FindSchema(kTrainingDomain, op, opset), nullptr) << "opset " << opset;
      for (DType d : {DType::kFloat32, DType::kFloat64}) {
        EXPECT_NE(reg.FindKernel(kCpuBackend, kTrainingDomain, op, opset, d), nullptr)
            << "opset " << opset << " " << DTypeName(d);
      }
    }
    EXPECT_EQ(reg.FindSchema("", op, kMaxOpset), nullptr) << "not in the ONNX domain";
  }
}

// ---------------------------------------------------------------------------------------------
// ConvGrad

struct ConvCase {
  std::string name;
  AttributeMap attrs;
  Shape x, w;
};

std::vector<ConvCase> ConvCases() {
  return {
      {"basic_2d", {}, {2, 3, 5, 5}, {4, 3, 3, 3}},
      {"strides_pads",
       Attrs({{"strides", Ints{2, 2}}, {"pads", Ints{1, 0, 2, 1}}}),
       {2, 2, 6, 7},
       {3, 2, 3, 2}},
      {"dilations",
       Attrs({{"dilations", Ints{2, 1}}, {"pads", Ints{1, 1, 1, 1}}}),
       {1, 2, 7, 6},
       {2, 2, 2, 3}},
      {"group2_stride_pads",
       Attrs({{"group", int64_t{2}}, {"strides", Ints{1, 2}}, {"pads", Ints{1, 1, 1, 1}}}),
       {2, 4, 5, 5},
       {6, 2, 3, 3}},
      {"depthwise",
       Attrs({{"group", int64_t{3}}, {"pads", Ints{1, 1, 1, 1}}}),
       {2, 3, 5, 5},
       {3, 1, 3, 3}},
      {"pointwise", Attrs({{"kernel_shape", Ints{1, 1}}}), {2, 4, 4, 3}, {5, 4, 1, 1}},
      {"pointwise_strided", Attrs({{"strides", Ints{2, 2}}}), {1, 3, 5, 4}, {2, 3, 1, 1}},
      {"same_upper_stride2",
       Attrs({{"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2, 2}}}),
       {1, 2, 5, 6},
       {3, 2, 3, 3}},
      {"conv1d", {}, {2, 3, 8}, {4, 3, 3}},
      {"conv1d_stride_pads_dilation",
       Attrs({{"strides", Ints{2}}, {"pads", Ints{1, 2}}, {"dilations", Ints{2}}}),
       {2, 3, 9},
       {4, 3, 3}},
      {"conv1d_group3", Attrs({{"group", int64_t{3}}, {"pads", Ints{1, 1}}}), {1, 6, 7}, {3, 2, 3}},
      {"conv3d", Attrs({{"pads", Ints{0, 1, 0, 1, 0, 1}}}), {1, 2, 3, 4, 3}, {2, 2, 2, 2, 2}},
  };
}

TEST(ConvGradTest, MatchesFiniteDifferences) {
  std::mt19937 rng(1234);
  for (const ConvCase& c : ConvCases()) {
    SCOPED_TRACE(c.name);
    const Tensor x = Rand(c.x, rng), w = Rand(c.w, rng), b = Rand({c.w[0]}, rng);
    const OpRun fwd = Forward("Conv", 17, c.attrs, {x, w, b});
    absl::StatusOr<std::vector<Tensor>> y = RunOp(fwd);
    ASSERT_TRUE(y.ok()) << y.status();
    const Tensor up = Rand((*y)[0].shape(), rng);
    const OpRun grad = Grad("ConvGrad", c.attrs, {up, x, w}, 3);
    const std::vector<Tensor> g = RunGrad(grad);
    ASSERT_EQ(g.size(), 3u);
    ExpectMatchesFd(g, 0, fwd, up, 0);
    ExpectMatchesFd(g, 1, fwd, up, 1);
    ExpectMatchesFd(g, 2, fwd, up, 2);
    // Without dB, dX and dW are the same.
    const std::vector<Tensor> g2 = RunGrad(Grad("ConvGrad", c.attrs, {up, x, w}, 2));
    ASSERT_EQ(g2.size(), 2u);
    EXPECT_EQ(CompareTensors(g2[0], g[0], 0, 0), "");
    EXPECT_EQ(CompareTensors(g2[1], g[1], 0, 0), "");
    ExpectFloat32Matches(grad, g);
  }
}

// A direct-loop reference for 2-D ConvGrad (explicit pads, strides, dilations, group).
void NaiveConvGrad2d(const Tensor& dy, const Tensor& x, const Tensor& w, Ints strides, Ints pads,
                     Ints dilations, int64_t group, std::vector<double>* dx,
                     std::vector<double>* dw, std::vector<double>* db) {
  const int64_t n_ = x.dim(0), c = x.dim(1), ih = x.dim(2), iw = x.dim(3);
  const int64_t m = w.dim(0), cg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
  const int64_t oh = dy.dim(2), ow = dy.dim(3), mg = m / group;
  dx->assign(x.num_elements(), 0.0);
  dw->assign(w.num_elements(), 0.0);
  db->assign(m, 0.0);
  const double* dyp = dy.data<double>();
  const double* xp = x.data<double>();
  const double* wp = w.data<double>();
  for (int64_t n = 0; n < n_; ++n) {
    for (int64_t j = 0; j < m; ++j) {
      const int64_t grp = j / mg;
      for (int64_t y0 = 0; y0 < oh; ++y0) {
        for (int64_t x0 = 0; x0 < ow; ++x0) {
          const double gv = dyp[((n * m + j) * oh + y0) * ow + x0];
          (*db)[j] += gv;
          for (int64_t ci = 0; ci < cg; ++ci) {
            const int64_t ch = grp * cg + ci;
            for (int64_t a = 0; a < kh; ++a) {
              const int64_t yy = y0 * strides[0] - pads[0] + a * dilations[0];
              if (yy < 0 || yy >= ih) continue;
              for (int64_t b = 0; b < kw; ++b) {
                const int64_t xx = x0 * strides[1] - pads[1] + b * dilations[1];
                if (xx < 0 || xx >= iw) continue;
                const int64_t xi = ((n * c + ch) * ih + yy) * iw + xx;
                const int64_t wi = ((j * cg + ci) * kh + a) * kw + b;
                (*dw)[wi] += gv * xp[xi];
                (*dx)[xi] += gv * wp[wi];
              }
            }
          }
        }
      }
    }
  }
}

// The shapes of the frontend's small CNN (28x28 images, batch 64), against the direct loops in
// float64 and, in float32, against the float64 result; also reports the float32 time.
TEST(ConvGradTest, SmallCnnShapesMatchDirectLoops) {
  struct Layer {
    std::string name;
    Shape x, w;
    Ints strides, pads;
    int64_t group;
  };
  const std::vector<Layer> layers = {
      {"conv1_1to32_28x28", {64, 1, 28, 28}, {32, 1, 3, 3}, {1, 1}, {1, 1}, 1},
      {"conv2_32to64_14x14", {64, 32, 14, 14}, {64, 32, 3, 3}, {1, 1}, {1, 1}, 1},
      {"conv_5x5_stride2_valid", {64, 16, 14, 14}, {32, 16, 5, 5}, {2, 2}, {0, 0}, 1},
      {"conv_group4", {8, 16, 14, 14}, {32, 4, 3, 3}, {1, 1}, {1, 1}, 4},
  };
  std::mt19937 rng(99);
  for (const Layer& l : layers) {
    SCOPED_TRACE(l.name);
    const AttributeMap attrs = Attrs({{"strides", l.strides},
                                      {"pads", Ints{l.pads[0], l.pads[1], l.pads[0], l.pads[1]}},
                                      {"group", l.group}});
    const Tensor x = Rand(l.x, rng), w = Rand(l.w, rng);
    absl::StatusOr<std::vector<Tensor>> y = RunOp(Forward("Conv", 17, attrs, {x, w}));
    ASSERT_TRUE(y.ok()) << y.status();
    const Tensor up = Rand((*y)[0].shape(), rng);
    const OpRun grad = Grad("ConvGrad", attrs, {up, x, w}, 3);
    const std::vector<Tensor> g = RunGrad(grad);
    ASSERT_EQ(g.size(), 3u);
    std::vector<double> dx, dw, db;
    NaiveConvGrad2d(up, x, w, l.strides, l.pads, {1, 1}, l.group, &dx, &dw, &db);
    EXPECT_EQ(CompareTensors(g[0], Tensor::FromVector<double>(dx, l.x), 1e-10, 1e-10), "");
    EXPECT_EQ(CompareTensors(g[1], Tensor::FromVector<double>(dw, l.w), 1e-10, 1e-10), "");
    EXPECT_EQ(CompareTensors(g[2], Tensor::FromVector<double>(db, {l.w[0]}), 1e-10, 1e-10), "");

    OpRun grad32 = grad;
    for (Tensor& t : grad32.inputs) t = Convert(t, DType::kFloat32);
    OpRun fwd32 = Forward("Conv", 17, attrs, {grad32.inputs[1], grad32.inputs[2]});
    constexpr int kReps = 3;
    double grad_ms = 1e30, fwd_ms = 1e30;
    absl::StatusOr<std::vector<Tensor>> g32;
    for (int r = 0; r < kReps; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      g32 = RunOp(grad32);
      auto t1 = std::chrono::steady_clock::now();
      ASSERT_TRUE(RunOp(fwd32).ok());
      auto t2 = std::chrono::steady_clock::now();
      grad_ms = std::min(grad_ms, std::chrono::duration<double, std::milli>(t1 - t0).count());
      fwd_ms = std::min(fwd_ms, std::chrono::duration<double, std::milli>(t2 - t1).count());
    }
    ASSERT_TRUE(g32.ok()) << g32.status();
    // Sums of hundreds to thousands of float32 products: compare relative to the largest value.
    for (int i = 0; i < 3; ++i) {
      double scale = 0;
      for (int64_t k = 0; k < g[i].num_elements(); ++k) {
        scale = std::max(scale, std::fabs(g[i].data<double>()[k]));
      }
      EXPECT_EQ(CompareTensors(Convert((*g32)[i], DType::kFloat64), g[i], 1e-4, 1e-5 * scale), "")
          << "float32 output " << i;
    }
    std::printf("[ timing ] %s: ConvGrad float32 %.2f ms, Conv forward %.2f ms\n", l.name.c_str(),
                grad_ms, fwd_ms);
  }
}

// ---------------------------------------------------------------------------------------------
// MaxPoolGrad and AveragePoolGrad

struct PoolCase {
  std::string name;
  AttributeMap attrs;
  Shape x;
};

TEST(MaxPoolGradTest, MatchesFiniteDifferences) {
  const std::vector<PoolCase> cases = {
      {"k2_s2", Attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}), {2, 3, 4, 6}},
      {"k3_s1_pads",
       Attrs({{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}}),
       {1, 2, 5, 4}},
      {"k3_s2_ceil",
       Attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}}),
       {2, 2, 6, 7}},
      {"dilations",
       Attrs({{"kernel_shape", Ints{2, 2}}, {"dilations", Ints{2, 2}}, {"pads", Ints{1, 0, 1, 0}}}),
       {1, 2, 6, 5}},
      {"pool1d_s2_pads",
       Attrs({{"kernel_shape", Ints{3}}, {"strides", Ints{2}}, {"pads", Ints{1, 1}}}),
       {2, 3, 9}},
      {"same_upper",
       Attrs({{"kernel_shape", Ints{3, 2}},
              {"strides", Ints{2, 2}},
              {"auto_pad", std::string("SAME_UPPER")}}),
       {1, 2, 5, 5}},
  };
  std::mt19937 rng(2024);
  for (const PoolCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Tensor x = Distinct(c.x, rng);
    absl::StatusOr<std::vector<Tensor>> y = RunOp(Forward("MaxPool", 12, c.attrs, {x}, 2));
    ASSERT_TRUE(y.ok()) << y.status();
    const Tensor up = Rand((*y)[0].shape(), rng);
    const OpRun grad = Grad("MaxPoolGrad", {}, {up, (*y)[1], x}, 1);
    const std::vector<Tensor> g = RunGrad(grad);
    ExpectMatchesFd(g, 0, Forward("MaxPool", 12, c.attrs, {x}), up, 0);
    ExpectFloat32Matches(grad, g);
  }
}

TEST(AveragePoolGradTest, MatchesFiniteDifferences) {
  const std::vector<PoolCase> cases = {
      {"k2_s2", Attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}), {2, 3, 4, 6}},
      {"k3_s2_pads_exclude",
       Attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}}),
       {2, 2, 5, 6}},
      {"k3_s2_pads_include",
       Attrs({{"kernel_shape", Ints{3, 3}},
              {"strides", Ints{2, 2}},
              {"pads", Ints{1, 1, 1, 1}},
              {"count_include_pad", int64_t{1}}}),
       {2, 2, 5, 6}},
      {"ceil_mode",
       Attrs({{"kernel_shape", Ints{3, 2}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}}),
       {1, 2, 6, 7}},
      {"ceil_mode_pads_include",
       Attrs({{"kernel_shape", Ints{3, 3}},
              {"strides", Ints{2, 2}},
              {"pads", Ints{0, 1, 1, 0}},
              {"ceil_mode", int64_t{1}},
              {"count_include_pad", int64_t{1}}}),
       {1, 2, 6, 7}},
      {"pool1d",
       Attrs({{"kernel_shape", Ints{3}}, {"strides", Ints{2}}, {"pads", Ints{2, 1}}}),
       {2, 3, 8}},
      {"same_lower",
       Attrs({{"kernel_shape", Ints{3, 3}}, {"auto_pad", std::string("SAME_LOWER")}}),
       {1, 2, 4, 5}},
      {"pool3d",
       Attrs({{"kernel_shape", Ints{2, 2, 2}}, {"pads", Ints{0, 1, 0, 1, 0, 1}}}),
       {1, 2, 3, 3, 4}},
  };
  std::mt19937 rng(77);
  for (const PoolCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Tensor x = Rand(c.x, rng);
    const OpRun fwd = Forward("AveragePool", 11, c.attrs, {x});
    absl::StatusOr<std::vector<Tensor>> y = RunOp(fwd);
    ASSERT_TRUE(y.ok()) << y.status();
    const Tensor up = Rand((*y)[0].shape(), rng);
    const OpRun grad = Grad("AveragePoolGrad", c.attrs, {up, x}, 1);
    const std::vector<Tensor> g = RunGrad(grad);
    ExpectMatchesFd(g, 0, fwd, up, 0);
    ExpectFloat32Matches(grad, g);
  }
}

// ---------------------------------------------------------------------------------------------
// BatchNormalizationGrad and LayerNormalizationGrad

TEST(BatchNormalizationGradTest, MatchesFiniteDifferences) {
  struct Case {
    std::string name;
    Shape x;
    std::optional<float> epsilon;
  };
  const std::vector<Case> cases = {
      {"2d", {6, 3}, std::nullopt},
      {"3d", {3, 2, 5}, 1e-3f},
      {"4d", {3, 2, 3, 4}, std::nullopt},
      {"4d_eps", {2, 4, 2, 3}, 0.1f},
  };
  std::mt19937 rng(5);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const int64_t ch = c.x[1];
    AttributeMap fwd_attrs = Attrs({{"training_mode", int64_t{1}}});
    AttributeMap grad_attrs;
    if (c.epsilon) {
      fwd_attrs.Set("epsilon", *c.epsilon);
      grad_attrs.Set("epsilon", *c.epsilon);
    }
    const Tensor x = Rand(c.x, rng, -2, 3), scale = Rand({ch}, rng, 0.5, 1.5),
                 bias = Rand({ch}, rng), mean = Rand({ch}, rng), var = Rand({ch}, rng, 0.5, 1);
    const OpRun fwd = Forward("BatchNormalization", 15, fwd_attrs, {x, scale, bias, mean, var});
    const Tensor up = Rand(c.x, rng);
    const OpRun grad = Grad("BatchNormalizationGrad", grad_attrs, {up, x, scale}, 3);
    const std::vector<Tensor> g = RunGrad(grad);
    ExpectMatchesFd(g, 0, fwd, up, 0);
    ExpectMatchesFd(g, 1, fwd, up, 1);
    ExpectMatchesFd(g, 2, fwd, up, 2);
    ExpectFloat32Matches(grad, g);
  }
}

TEST(LayerNormalizationGradTest, MatchesFiniteDifferences) {
  struct Case {
    std::string name;
    Shape x, scale;
    int64_t axis;
  };
  const std::vector<Case> cases = {
      {"3d_axis_last", {3, 4, 5}, {5}, -1},
      {"3d_axis1", {3, 4, 5}, {4, 5}, 1},
      {"2d_axis1", {4, 6}, {6}, 1},
      {"2d_axis_last", {5, 3}, {3}, -1},
      {"3d_axis1_broadcast_scale", {2, 3, 4}, {4}, 1},
      {"2d_axis0", {3, 4}, {3, 4}, 0},
  };
  std::mt19937 rng(11);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Tensor x = Rand(c.x, rng, -2, 2), scale = Rand(c.scale, rng, 0.5, 1.5),
                 bias = Rand(c.scale, rng);
    // stash_type 11 keeps Mean and InvStdDev in float64.
    const AttributeMap attrs = Attrs({{"axis", c.axis}, {"stash_type", int64_t{11}}});
    const OpRun fwd = Forward("LayerNormalization", 17, attrs, {x, scale, bias});
    OpRun fwd3 = fwd;
    fwd3.num_outputs = 3;
    absl::StatusOr<std::vector<Tensor>> y = RunOp(fwd3);
    ASSERT_TRUE(y.ok()) << y.status();
    const Tensor up = Rand(c.x, rng);
    const OpRun grad = Grad("LayerNormalizationGrad", Attrs({{"axis", c.axis}}),
                            {up, x, scale, (*y)[1], (*y)[2]}, 3);
    const std::vector<Tensor> g = RunGrad(grad);
    ExpectMatchesFd(g, 0, fwd, up, 0);
    ExpectMatchesFd(g, 1, fwd, up, 1);
    ExpectMatchesFd(g, 2, fwd, up, 2);
    ExpectFloat32Matches(grad, g);
  }
}

// ---------------------------------------------------------------------------------------------
// ReluGrad

TEST(ReluGradTest, MatchesFiniteDifferences) {
  std::mt19937 rng(3);
  for (const Shape& shape : {Shape{7}, Shape{3, 4, 5}, Shape{}}) {
    SCOPED_TRACE(ShapeToString(shape));
    // Values at least 0.05 away from the kink at 0.
    Tensor x = Rand(shape, rng);
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      double& v = x.data<double>()[i];
      v = v < 0 ? v - 0.05 : v + 0.05;
    }
    const OpRun fwd = Forward("Relu", 14, {}, {x});
    absl::StatusOr<std::vector<Tensor>> y = RunOp(fwd);
    ASSERT_TRUE(y.ok()) << y.status();
    const Tensor up = Rand(shape, rng);
    const OpRun grad = Grad("ReluGrad", {}, {up, (*y)[0]}, 1);
    const std::vector<Tensor> g = RunGrad(grad);
    ExpectMatchesFd(g, 0, fwd, up, 0);
    ExpectFloat32Matches(grad, g);
  }
}

// ---------------------------------------------------------------------------------------------
// SoftmaxCrossEntropyLossGrad

TEST(SoftmaxCrossEntropyLossGradTest, MatchesFiniteDifferences) {
  struct Case {
    std::string name;
    Shape x;
    std::string reduction;
    std::optional<int64_t> ignore_index;
  };
  const std::vector<Case> cases = {
      {"2d_mean", {5, 4}, "mean", std::nullopt},        {"2d_sum", {5, 4}, "sum", std::nullopt},
      {"2d_none", {5, 4}, "none", std::nullopt},        {"2d_mean_ignore", {6, 3}, "mean", 1},
      {"4d_mean", {3, 4, 2, 3}, "mean", std::nullopt},  {"4d_mean_ignore", {3, 4, 2, 3}, "mean", 2},
      {"3d_sum_ignore_negative", {2, 5, 4}, "sum", -1}, {"3d_none_ignore", {2, 5, 4}, "none", 0},
  };
  std::mt19937 rng(17);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const int64_t classes = c.x[1];
    Shape label_shape = c.x;
    label_shape.erase(label_shape.begin() + 1);
    std::vector<int64_t> labels(NumElements(label_shape));
    std::uniform_int_distribution<int64_t> cls(0, classes - 1);
    for (size_t i = 0; i < labels.size(); ++i) {
      labels[i] = cls(rng);
      // Every third label is the ignored one, so that some are ignored in every case.
      if (c.ignore_index && i % 3 == 0) labels[i] = *c.ignore_index;
    }
    const Tensor t = Tensor::FromVector<int64_t>(labels, label_shape);
    AttributeMap attrs = Attrs({{"reduction", c.reduction}});
    if (c.ignore_index) attrs.Set("ignore_index", *c.ignore_index);
    const Tensor x = Rand(c.x, rng, -2, 2);
    const OpRun fwd = Forward("SoftmaxCrossEntropyLoss", 13, attrs, {x, t});
    OpRun fwd2 = fwd;
    fwd2.num_outputs = 2;
    absl::StatusOr<std::vector<Tensor>> y = RunOp(fwd2);
    ASSERT_TRUE(y.ok()) << y.status();
    const Tensor up = Rand(c.reduction == "none" ? label_shape : Shape{}, rng, 0.5, 2);
    const OpRun grad = Grad("SoftmaxCrossEntropyLossGrad", attrs, {up, (*y)[1], t}, 1);
    const std::vector<Tensor> g = RunGrad(grad);
    ExpectMatchesFd(g, 0, fwd, up, 0);
    ExpectFloat32Matches(grad, g);
  }
}

TEST(SoftmaxCrossEntropyLossGradTest, AllIgnoredGivesZeros) {
  const Tensor logp = Tensor::FromVector<double>(
      {std::log(0.25), std::log(0.75), std::log(0.5), std::log(0.5)}, {2, 2});
  const Tensor labels = Tensor::FromVector<int64_t>({1, 1}, {2});
  const std::vector<Tensor> g =
      RunGrad(Grad("SoftmaxCrossEntropyLossGrad", Attrs({{"ignore_index", int64_t{1}}}),
                   {Tensor::Scalar<double>(1.0), logp, labels}, 1));
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(CompareTensors(g[0], Tensor::FromVector<double>({0, 0, 0, 0}, {2, 2}), 0, 0), "");
}

// ---------------------------------------------------------------------------------------------
// Malformed inputs

TEST(GradOpsTest, BadInputsAreInvalidArgument) {
  struct Bad {
    std::string name;
    std::string op;
    AttributeMap attrs;
    std::vector<Tensor> inputs;
    int num_outputs;
  };
  auto z = [](Shape s) { return Tensor::Zeros(DType::kFloat64, std::move(s)).value(); };
  auto zf = [](Shape s) { return Tensor::Zeros(DType::kFloat32, std::move(s)).value(); };
  auto idx = [](std::vector<int64_t> v, Shape s) { return Tensor::FromVector<int64_t>(v, s); };
  const AttributeMap k2 = Attrs({{"kernel_shape", Ints{2, 2}}});
  const std::vector<Bad> cases = {
      {"conv_dy_shape", "ConvGrad", {}, {z({1, 2, 3, 3}), z({1, 3, 5, 5}), z({2, 3, 2, 2})}, 2},
      {"conv_x_rank2", "ConvGrad", {}, {z({1, 2}), z({1, 3}), z({2, 3})}, 2},
      {"conv_w_channels", "ConvGrad", {}, {z({1, 2, 4, 4}), z({1, 3, 5, 5}), z({2, 2, 2, 2})}, 2},
      {"conv_group",
       "ConvGrad",
       Attrs({{"group", int64_t{2}}}),
       {z({1, 3, 4, 4}), z({1, 4, 5, 5}), z({3, 2, 2, 2})},
       2},
      {"conv_dtype", "ConvGrad", {}, {zf({1, 2, 4, 4}), z({1, 3, 5, 5}), z({2, 3, 2, 2})}, 2},
      {"conv_one_output", "ConvGrad", {}, {z({1, 2, 4, 4}), z({1, 3, 5, 5}), z({2, 3, 2, 2})}, 1},
      {"conv_bad_pads",
       "ConvGrad",
       Attrs({{"pads", Ints{1, 1}}}),
       {z({1, 2, 4, 4}), z({1, 3, 5, 5}), z({2, 3, 2, 2})},
       2},
      {"maxpool_indices_int32",
       "MaxPoolGrad",
       {},
       {z({1, 1, 1, 1}), Tensor::Zeros(DType::kInt32, {1, 1, 1, 1}).value(), z({1, 1, 2, 2})},
       1},
      {"maxpool_indices_shape",
       "MaxPoolGrad",
       {},
       {z({1, 1, 1, 2}), idx({0}, {1, 1, 1, 1}), z({1, 1, 2, 2})},
       1},
      {"maxpool_index_range",
       "MaxPoolGrad",
       {},
       {z({1, 1, 1, 1}), idx({4}, {1, 1, 1, 1}), z({1, 1, 2, 2})},
       1},
      {"maxpool_index_negative",
       "MaxPoolGrad",
       {},
       {z({1, 1, 1, 1}), idx({-2}, {1, 1, 1, 1}), z({1, 1, 2, 2})},
       1},
      {"maxpool_x_rank", "MaxPoolGrad", {}, {z({1, 1}), idx({0}, {1, 1}), z({1, 4})}, 1},
      {"maxpool_channels",
       "MaxPoolGrad",
       {},
       {z({1, 2, 1, 1}), idx({0, 1}, {1, 2, 1, 1}), z({1, 1, 2, 2})},
       1},
      {"avgpool_dy_shape", "AveragePoolGrad", k2, {z({1, 1, 2, 2}), z({1, 1, 4, 4})}, 1},
      {"avgpool_no_kernel", "AveragePoolGrad", {}, {z({1, 1, 3, 3}), z({1, 1, 4, 4})}, 1},
      {"avgpool_x_rank", "AveragePoolGrad", k2, {z({1, 3}), z({1, 4})}, 1},
      {"bn_x_rank1", "BatchNormalizationGrad", {}, {z({4}), z({4}), z({4})}, 3},
      {"bn_scale_shape", "BatchNormalizationGrad", {}, {z({2, 3}), z({2, 3}), z({2})}, 3},
      {"bn_dy_shape", "BatchNormalizationGrad", {}, {z({2, 2}), z({2, 3}), z({3})}, 3},
      {"ln_mean_shape",
       "LayerNormalizationGrad",
       {},
       {z({2, 3}), z({2, 3}), z({3}), z({2}), z({2, 1})},
       3},
      {"ln_axis",
       "LayerNormalizationGrad",
       Attrs({{"axis", int64_t{2}}}),
       {z({2, 3}), z({2, 3}), z({3}), z({2, 1}), z({2, 1})},
       3},
      {"ln_scale",
       "LayerNormalizationGrad",
       {},
       {z({2, 3}), z({2, 3}), z({2}), z({2, 1}), z({2, 1})},
       3},
      {"ln_scale_dtype",
       "LayerNormalizationGrad",
       {},
       {z({2, 3}), z({2, 3}), zf({3}), z({2, 1}), z({2, 1})},
       3},
      {"relu_shape", "ReluGrad", {}, {z({2, 3}), z({3, 2})}, 1},
      {"relu_dtype", "ReluGrad", {}, {z({2, 3}), zf({2, 3})}, 1},
      {"sce_label_range",
       "SoftmaxCrossEntropyLossGrad",
       {},
       {Tensor::Scalar<double>(1), z({2, 3}), idx({0, 3}, {2})},
       1},
      {"sce_label_negative",
       "SoftmaxCrossEntropyLossGrad",
       {},
       {Tensor::Scalar<double>(1), z({2, 3}), idx({0, -1}, {2})},
       1},
      {"sce_label_shape",
       "SoftmaxCrossEntropyLossGrad",
       {},
       {Tensor::Scalar<double>(1), z({2, 3}), idx({0, 1, 2}, {3})},
       1},
      {"sce_dloss_mean_not_scalar",
       "SoftmaxCrossEntropyLossGrad",
       {},
       {z({2}), z({2, 3}), idx({0, 1}, {2})},
       1},
      {"sce_dloss_none_shape",
       "SoftmaxCrossEntropyLossGrad",
       Attrs({{"reduction", std::string("none")}}),
       {Tensor::Scalar<double>(1), z({2, 3}), idx({0, 1}, {2})},
       1},
      {"sce_dloss_dtype",
       "SoftmaxCrossEntropyLossGrad",
       {},
       {Tensor::Scalar<float>(1), z({2, 3}), idx({0, 1}, {2})},
       1},
      {"sce_reduction",
       "SoftmaxCrossEntropyLossGrad",
       Attrs({{"reduction", std::string("max")}}),
       {Tensor::Scalar<double>(1), z({2, 3}), idx({0, 1}, {2})},
       1},
      {"sce_logp_rank1",
       "SoftmaxCrossEntropyLossGrad",
       {},
       {Tensor::Scalar<double>(1), z({3}), idx({0}, {1})},
       1},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::vector<Tensor>> out = RunOp(Grad(c.op, c.attrs, c.inputs, c.num_outputs));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  }
}

}  // namespace
}  // namespace cortado
