// The kernels that split their work over the intra-op threads (core/thread_pool.h) give the
// results they give on one thread: bit for bit where each output is computed the same way
// whatever the split, and within rounding where per-thread partial sums are reduced (ConvGrad's
// dW); and, for a given thread count, the same results every run. Also the padded Im2Col /
// Col2Im path of Conv, ConvGrad and ConvTranspose against direct loops.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/thread_pool.h"
#include "gtest/gtest.h"
#include "ops/gemm.h"
#include "ops/op_test_util.h"
#include "ops/run_op.h"

namespace cortado {
namespace {

Tensor Random(const Shape& shape, uint32_t seed, DType dtype = DType::kFloat32) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  Tensor t = Tensor::Create(dtype, shape).value();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if (dtype == DType::kFloat32) {
      t.data<float>()[i] = static_cast<float>(normal(rng));
    } else {
      t.data<double>()[i] = normal(rng);
    }
  }
  return t;
}

AttributeMap Attrs(std::initializer_list<std::pair<const char*, AttrValue>> list) {
  AttributeMap attrs;
  for (const auto& [name, value] : list) attrs.Set(name, value);
  return attrs;
}

struct Case {
  std::string name;
  OpRun run;
  double rtol = 0;  // 0: bit for bit
};

std::vector<Tensor> RunWithThreads(const OpRun& run, int threads) {
  SetIntraOpThreads(threads);
  absl::StatusOr<std::vector<Tensor>> out = RunOp(run);
  SetIntraOpThreads(1);
  EXPECT_TRUE(out.ok()) << run.op_type << ": " << out.status();
  return out.ok() ? *std::move(out) : std::vector<Tensor>();
}

std::vector<Case> Cases() {
  const std::string training = kTrainingDomain;
  const AttributeMap conv = Attrs(
      {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"kernel_shape", std::vector<int64_t>{3, 3}}});
  const AttributeMap pool2 = Attrs(
      {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  const AttributeMap pool3 = Attrs({{"kernel_shape", std::vector<int64_t>{3, 3}},
                                    {"strides", std::vector<int64_t>{2, 2}},
                                    {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  std::vector<Case> cases;
  auto add = [&](std::string name, std::string op, std::vector<Tensor> inputs,
                 AttributeMap attrs = {}, int outputs = 1, std::string domain = "",
                 double rtol = 0) {
    Case c{std::move(name),
           OpRun{std::move(op), kMaxOpset, std::move(attrs), std::move(inputs), outputs}, rtol};
    c.run.domain = std::move(domain);
    cases.push_back(std::move(c));
  };
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    const std::string t = dt == DType::kFloat32 ? " f32" : " f64";
    // Partial sums reduced in another order: within rounding.
    const double rtol = dt == DType::kFloat32 ? 1e-5 : 1e-12;
    // Large enough for every kernel to split at 2 or more threads.
    const Tensor x = Random({7, 4, 12, 11}, 1, dt), w = Random({6, 4, 3, 3}, 2, dt);
    const Tensor y = Random({7, 6, 12, 11}, 3, dt);
    const Tensor planes = Random({32, 8, 40, 40}, 4, dt);
    add("Conv" + t, "Conv", {x, w, Random({6}, 5, dt)}, conv);
    add("Conv batch 1" + t, "Conv", {Random({1, 16, 20, 20}, 6, dt), Random({24, 16, 3, 3}, 7, dt)},
        conv);
    add("Conv depthwise" + t, "Conv", {planes, Random({8, 1, 3, 3}, 8, dt)},
        Attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"group", int64_t{8}}}));
    add("Conv pointwise" + t, "Conv", {x, Random({6, 4, 1, 1}, 9, dt)});
    add("ConvGrad" + t, "ConvGrad", {y, x, w}, conv, 3, training, rtol);
    add("ConvGrad pointwise" + t, "ConvGrad", {y, x, Random({6, 4, 1, 1}, 10, dt)}, {}, 3, training,
        rtol);
    add("ConvGrad grouped" + t, "ConvGrad", {y, x, Random({6, 2, 3, 3}, 11, dt)},
        Attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"group", int64_t{2}}}), 3, training,
        rtol);
    add("MaxPool 2x2" + t, "MaxPool", {planes}, pool2, 2);
    add("MaxPool 3x3 padded" + t, "MaxPool", {planes}, pool3, 2);
    add("MaxPool no indices" + t, "MaxPool", {planes}, pool2);
    add("AveragePool" + t, "AveragePool", {planes}, pool3);
    std::vector<Tensor> pooled = RunWithThreads(OpRun{"MaxPool", kMaxOpset, pool3, {planes}, 2}, 1);
    add("MaxPoolGrad" + t, "MaxPoolGrad", {pooled[0], pooled[1], planes}, {}, 1, training);
    add("AveragePoolGrad" + t, "AveragePoolGrad", {pooled[0], planes}, pool3, 1, training);
    const Tensor scale = Random({8}, 12, dt), stat = Random({8}, 13, dt);
    add("BatchNormalization" + t, "BatchNormalization", {planes, scale, stat, stat, stat},
        Attrs({{"training_mode", int64_t{1}}}), 3);
    add("BatchNormalizationGrad" + t, "BatchNormalizationGrad",
        {Random({32, 8, 40, 40}, 14, dt), planes, scale}, {}, 3, training);
    add("Gemm" + t, "Gemm",
        {Random({70, 300}, 15, dt), Random({130, 300}, 16, dt), Random({130}, 17, dt)},
        Attrs({{"transB", int64_t{1}}}));
    add("Gemm tall" + t, "Gemm", {Random({300, 200}, 18, dt), Random({300, 40}, 19, dt)},
        Attrs({{"transA", int64_t{1}}}));
    add("MatMul" + t, "MatMul", {Random({3, 50, 80}, 20, dt), Random({80, 90}, 21, dt)});
    const Tensor big = Random({3, 50000}, 22, dt);
    add("Relu" + t, "Relu", {big});
    add("ReluGrad" + t, "ReluGrad", {Random({3, 50000}, 23, dt), big}, {}, 1, training);
    add("Add" + t, "Add", {big, Random({3, 50000}, 24, dt)});
    add("Mul scalar" + t, "Mul", {big, Random({}, 25, dt)});
    add("Add bias" + t, "Add", {big, Random({50000}, 26, dt)});
    const Tensor scores = Random({4000, 10}, 27, dt);
    add("Softmax" + t, "Softmax", {scores});
    add("LogSoftmax axis 0" + t, "LogSoftmax", {Random({10, 4000}, 28, dt)},
        Attrs({{"axis", int64_t{0}}}));
    std::vector<int64_t> labels(4000);
    for (int64_t i = 0; i < 4000; ++i) labels[i] = (i * 7) % 10;
    const Tensor target = Tensor::FromVector<int64_t>(labels, {4000});
    for (const char* reduction : {"mean", "none"}) {
      const AttributeMap r = Attrs({{"reduction", std::string(reduction)}});
      add(absl::StrCat("SoftmaxCrossEntropyLoss ", reduction, t), "SoftmaxCrossEntropyLoss",
          {scores, target}, r, 2);
      std::vector<Tensor> loss =
          RunWithThreads(OpRun{"SoftmaxCrossEntropyLoss", kMaxOpset, r, {scores, target}, 2}, 1);
      add(absl::StrCat("SoftmaxCrossEntropyLossGrad ", reduction, t), "SoftmaxCrossEntropyLossGrad",
          {std::string(reduction) == "none" ? Random({4000}, 29, dt) : Random({}, 29, dt), loss[1],
           target},
          r, 1, training);
    }
  }
  return cases;
}

TEST(ParallelKernelsTest, MatchOneThread) {
  for (const Case& c : Cases()) {
    const std::vector<Tensor> one = RunWithThreads(c.run, 1);
    for (int threads : {2, 3, 8}) {
      const std::vector<Tensor> many = RunWithThreads(c.run, threads);
      ASSERT_EQ(many.size(), one.size()) << c.name;
      for (size_t i = 0; i < one.size(); ++i) {
        const std::string diff = CompareTensors(many[i], one[i], c.rtol, c.rtol * 10);
        EXPECT_TRUE(diff.empty()) << c.name << " output " << i << " with " << threads
                                  << " threads: " << diff;
      }
    }
  }
}

TEST(ParallelKernelsTest, SameThreadCountSameResult) {
  for (const Case& c : Cases()) {
    if (c.rtol == 0) continue;  // the exact cases are covered above
    const std::vector<Tensor> first = RunWithThreads(c.run, 3);
    for (int rep = 0; rep < 3; ++rep) {
      const std::vector<Tensor> again = RunWithThreads(c.run, 3);
      for (size_t i = 0; i < first.size(); ++i) {
        EXPECT_EQ(CompareTensors(again[i], first[i], 0, 0), "") << c.name << " output " << i;
      }
    }
  }
}

TEST(ParallelKernelsTest, MaxPoolGradStrayIndices) {
  // Indices that MaxPool would not make (into another plane, repeated) are still added, and
  // out-of-range ones still rejected, with threads.
  const Tensor x = Random({2, 3, 4, 4}, 30);
  const Tensor dy = Random({2, 3, 2, 2}, 31);
  std::vector<int64_t> idx(24);
  for (int i = 0; i < 24; ++i) idx[i] = (i * 37) % 96;
  const Tensor ind = Tensor::FromVector<int64_t>(idx, {2, 3, 2, 2});
  const OpRun run{"MaxPoolGrad", kMaxOpset, {}, {dy, ind, x}, 1, kCpuBackend, kTrainingDomain};
  const std::vector<Tensor> one = RunWithThreads(run, 1), many = RunWithThreads(run, 3);
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(many.size(), 1u);
  EXPECT_EQ(CompareTensors(many[0], one[0], 0, 0), "");
  std::vector<float> want(96, 0.0f);
  for (int i = 0; i < 24; ++i) want[idx[i]] += dy.data<float>()[i];
  for (int i = 0; i < 96; ++i) EXPECT_FLOAT_EQ(one[0].data<float>()[i], want[i]) << i;
  idx[5] = 96;
  OpRun bad = run;
  bad.inputs[1] = Tensor::FromVector<int64_t>(idx, {2, 3, 2, 2});
  SetIntraOpThreads(3);
  EXPECT_FALSE(RunOp(bad).ok());
  SetIntraOpThreads(1);
}

TEST(ParallelKernelsTest, GemmLargeMatchesOneThread) {
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    const int64_t m = 61, n = 517, k = 300;
    const Tensor a = Random({m * k}, 40 + t), b = Random({k * n}, 50 + t);
    const Tensor c0 = Random({m * n}, 60 + t);
    std::vector<float> one(c0.data<float>(), c0.data<float>() + m * n), many = one;
    Gemm<float>(ta, tb, m, n, k, 0.5f, a.data<float>(), ta ? m : k, b.data<float>(), tb ? k : n,
                1.0f, one.data(), n);
    SetIntraOpThreads(4);
    Gemm<float>(ta, tb, m, n, k, 0.5f, a.data<float>(), ta ? m : k, b.data<float>(), tb ? k : n,
                1.0f, many.data(), n);
    SetIntraOpThreads(1);
    EXPECT_EQ(one, many) << "ta=" << ta << " tb=" << tb;
  }
}

// Im2Col and Col2Im take a padded-buffer path for rows with stride 1 (ops/nn.cc); Conv,
// ConvGrad and ConvTranspose through it (and through the general path) against direct loops.
struct Conv2dGeometry {
  int64_t n, c, h, w, m, kh, kw;
  std::vector<int64_t> strides, pads, dilations;  // pads: top, left, bottom, right
};

// y[n, m, oh, ow] += w[m, c, kh, kw] * x[n, c, ih, iw] for every tap inside x, with callbacks
// so that one walk serves the forward op and both adjoints.
template <typename F>
void ForEachTap(const Conv2dGeometry& g, int64_t oh_size, int64_t ow_size, F&& f) {
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t m = 0; m < g.m; ++m) {
      for (int64_t oh = 0; oh < oh_size; ++oh) {
        for (int64_t ow = 0; ow < ow_size; ++ow) {
          for (int64_t c = 0; c < g.c; ++c) {
            for (int64_t kh = 0; kh < g.kh; ++kh) {
              for (int64_t kw = 0; kw < g.kw; ++kw) {
                const int64_t ih = oh * g.strides[0] - g.pads[0] + kh * g.dilations[0];
                const int64_t iw = ow * g.strides[1] - g.pads[1] + kw * g.dilations[1];
                if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
                f(((n * g.m + m) * oh_size + oh) * ow_size + ow,
                  ((n * g.c + c) * g.h + ih) * g.w + iw, ((m * g.c + c) * g.kh + kh) * g.kw + kw);
              }
            }
          }
        }
      }
    }
  }
}

TEST(ParallelKernelsTest, ConvColumnPathsMatchDirectLoops) {
  const std::vector<Conv2dGeometry> cases = {
      {2, 3, 9, 11, 4, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}},
      {2, 3, 9, 11, 4, 3, 3, {2, 1}, {1, 2, 0, 1}, {1, 1}},
      {1, 2, 12, 13, 3, 2, 3, {1, 1}, {2, 1, 1, 3}, {2, 3}},
      {1, 2, 10, 9, 3, 3, 2, {3, 1}, {0, 0, 2, 2}, {1, 2}},
      {2, 2, 7, 6, 2, 3, 3, {1, 2}, {1, 1, 1, 1}, {1, 1}},  // stride 2 along rows: general path
      {1, 2, 6, 4, 2, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}},  // rows of 4
  };
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    for (size_t i = 0; i < cases.size(); ++i) {
      const Conv2dGeometry& g = cases[i];
      SCOPED_TRACE(testing::Message() << "case " << i << " " << DTypeName(dt));
      const AttributeMap attrs = Attrs({{"strides", g.strides},
                                        {"pads", g.pads},
                                        {"dilations", g.dilations},
                                        {"kernel_shape", std::vector<int64_t>{g.kh, g.kw}}});
      const Tensor x = Random({g.n, g.c, g.h, g.w}, 100 + i, dt);
      const Tensor w = Random({g.m, g.c, g.kh, g.kw}, 200 + i, dt);
      const Tensor b = Random({g.m}, 300 + i, dt);
      const std::vector<Tensor> y = RunWithThreads(OpRun{"Conv", kMaxOpset, attrs, {x, w, b}}, 1);
      ASSERT_EQ(y.size(), 1u);
      const int64_t oh = y[0].dim(2), ow = y[0].dim(3);
      std::vector<double> want_y(y[0].num_elements());
      for (int64_t k = 0; k < y[0].num_elements(); ++k) {
        want_y[k] = b.ElementAsDouble(k / (oh * ow) % g.m);
      }
      ForEachTap(g, oh, ow, [&](int64_t yi, int64_t xi, int64_t wi) {
        want_y[yi] += w.ElementAsDouble(wi) * x.ElementAsDouble(xi);
      });
      const double tol = dt == DType::kFloat32 ? 1e-4 : 1e-10;
      for (int64_t k = 0; k < y[0].num_elements(); ++k) {
        ASSERT_NEAR(y[0].ElementAsDouble(k), want_y[k], tol) << "Conv at " << k;
      }
      // ConvGrad: dX, dW and dB of the same geometry.
      const Tensor dy = Random(y[0].shape(), 400 + i, dt);
      const std::vector<Tensor> grads = RunWithThreads(
          OpRun{"ConvGrad", kMaxOpset, attrs, {dy, x, w}, 3, kCpuBackend, kTrainingDomain}, 1);
      ASSERT_EQ(grads.size(), 3u);
      std::vector<double> dx(x.num_elements()), dw(w.num_elements()), db(g.m);
      ForEachTap(g, oh, ow, [&](int64_t yi, int64_t xi, int64_t wi) {
        dx[xi] += w.ElementAsDouble(wi) * dy.ElementAsDouble(yi);
        dw[wi] += x.ElementAsDouble(xi) * dy.ElementAsDouble(yi);
      });
      for (int64_t k = 0; k < dy.num_elements(); ++k)
        db[k / (oh * ow) % g.m] += dy.ElementAsDouble(k);
      for (int64_t k = 0; k < x.num_elements(); ++k) {
        ASSERT_NEAR(grads[0].ElementAsDouble(k), dx[k], tol) << "dX at " << k;
      }
      for (int64_t k = 0; k < w.num_elements(); ++k) {
        ASSERT_NEAR(grads[1].ElementAsDouble(k), dw[k], tol * 10) << "dW at " << k;
      }
      for (int64_t k = 0; k < g.m; ++k) ASSERT_NEAR(grads[2].ElementAsDouble(k), db[k], tol * 10);
      // ConvTranspose of dY with W ([M, C, k...] read as [C_in = M, C_out = C]) is Conv's
      // adjoint: dX, plus a bias, when the output shape is X's.
      const Tensor bt = Random({g.c}, 500 + i, dt);
      AttributeMap tattrs = attrs;
      const std::vector<int64_t> extra = {
          g.h - (g.strides[0] * (oh - 1) + (g.kh - 1) * g.dilations[0] + 1 - g.pads[0] - g.pads[2]),
          g.w -
              (g.strides[1] * (ow - 1) + (g.kw - 1) * g.dilations[1] + 1 - g.pads[1] - g.pads[3])};
      tattrs.Set("output_padding", extra);
      const std::vector<Tensor> t =
          RunWithThreads(OpRun{"ConvTranspose", kMaxOpset, tattrs, {dy, w, bt}}, 1);
      ASSERT_EQ(t.size(), 1u);
      ASSERT_EQ(t[0].shape(), x.shape());
      for (int64_t k = 0; k < x.num_elements(); ++k) {
        ASSERT_NEAR(t[0].ElementAsDouble(k), dx[k] + bt.ElementAsDouble(k / (g.h * g.w) % g.c), tol)
            << "ConvTranspose at " << k;
      }
    }
  }
}

}  // namespace
}  // namespace cortado
