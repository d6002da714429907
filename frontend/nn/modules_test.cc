#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/npy.h"
#include "frontend/nn/nn.h"
#include "frontend/ops.h"
#include "gtest/gtest.h"

namespace cortado {
namespace frontend {
namespace nn {
namespace {

std::vector<std::string> Names(const NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

std::shared_ptr<Sequential> NestedModel() {
  return std::make_shared<Sequential>(
      std::make_shared<Conv2d>(3, 4, 3), std::make_shared<BatchNorm2d>(4), std::make_shared<ReLU>(),
      std::make_shared<Sequential>(std::make_shared<Flatten>(),
                                   std::make_shared<Linear>(4 * 6 * 6, 5),
                                   std::make_shared<Linear>(5, 2, /*bias=*/false)));
}

// A user-defined module with named submodules.
class Net : public Module {
 public:
  Net() {
    conv1 = register_module("conv1", std::make_shared<Conv2d>(1, 2, 3, 1, 1));
    bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(2));
    head = register_module("head", std::make_shared<Sequential>());
    head->push_back(std::make_shared<Flatten>());
    fc = head->push_back(std::make_shared<Linear>(2 * 4 * 4, 3));
    scale = register_parameter("scale", Tensor::ones({1}));
    register_buffer("steps", Tensor::zeros({}, DType::kInt64));
  }
  Tensor forward(const Tensor& x) override { return (*head)(relu((*bn1)((*conv1)(x)))) * scale; }
  std::string name() const override { return "Net"; }

  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<Sequential> head;
  std::shared_ptr<Linear> fc;
  Tensor scale;
};

TEST(ModuleTest, NamedParametersOfNestedSequential) {
  auto model = NestedModel();
  EXPECT_EQ(Names(model->named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "3.1.weight",
                                      "3.1.bias", "3.2.weight"}));
  EXPECT_EQ(Names(model->named_buffers()),
            (std::vector<std::string>{"1.running_mean", "1.running_var", "1.num_batches_tracked"}));
  EXPECT_EQ(Names(model->state_dict()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                      "1.running_var", "1.num_batches_tracked", "3.1.weight",
                                      "3.1.bias", "3.2.weight"}));
  EXPECT_EQ(Names(model->named_parameters(/*recurse=*/false)), std::vector<std::string>{});
  ASSERT_EQ(model->named_children().size(), 4u);
  EXPECT_EQ(model->named_children()[3].first, "3");
  std::vector<std::string> modules;
  for (const auto& [name, m] : model->named_modules()) modules.push_back(name + ":" + m->name());
  EXPECT_EQ(modules,
            (std::vector<std::string>{":Sequential", "0:Conv2d", "1:BatchNorm2d", "2:ReLU",
                                      "3:Sequential", "3.0:Flatten", "3.1:Linear", "3.2:Linear"}));
  // Parameters are leaves that require grad; buffers are not.
  for (const Tensor& p : model->parameters()) {
    EXPECT_TRUE(p.is_leaf());
    EXPECT_TRUE(p.requires_grad());
  }
  for (const Tensor& b : model->buffers()) EXPECT_FALSE(b.requires_grad());
  // The handles are the layers' own tensors.
  EXPECT_EQ(model->parameters()[0].impl(), model->at<Conv2d>(0)->weight.impl());
  EXPECT_EQ(model->at<Sequential>(3)->at<Linear>(2)->weight.impl(), model->parameters()[6].impl());
  EXPECT_THROW(model->at<Linear>(0), Error);
  EXPECT_THROW((*model)[9], Error);
}

TEST(ModuleTest, NamedParametersOfCustomModule) {
  Net net;
  EXPECT_EQ(Names(net.named_parameters()),
            (std::vector<std::string>{"scale", "conv1.weight", "conv1.bias", "bn1.weight",
                                      "bn1.bias", "head.1.weight", "head.1.bias"}));
  EXPECT_EQ(Names(net.named_buffers()),
            (std::vector<std::string>{"steps", "bn1.running_mean", "bn1.running_var",
                                      "bn1.num_batches_tracked"}));
  Tensor y = net(Tensor::randn({2, 1, 4, 4}));
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
}

TEST(ModuleTest, SharedParameterIsListedOnce) {
  auto a = std::make_shared<Linear>(3, 3);
  auto seq = std::make_shared<Sequential>(a, std::make_shared<ReLU>(), a);
  EXPECT_EQ(Names(seq->named_parameters()), (std::vector<std::string>{"0.weight", "0.bias"}));
  EXPECT_EQ(seq->num_parameters(), 12);
  EXPECT_EQ(seq->state_dict().size(), 4u);  // as PyTorch, state_dict keeps both names
}

TEST(ModuleTest, RegistrationErrors) {
  class Bad : public Module {
   public:
    explicit Bad(int mode) {
      register_parameter("w", Tensor::zeros({2}));
      if (mode == 0) register_parameter("w", Tensor::zeros({2}));
      if (mode == 1) register_buffer("w", Tensor::zeros({2}));
      if (mode == 2) register_module("a.b", std::make_shared<ReLU>());
      if (mode == 3) register_parameter("", Tensor::zeros({2}));
      if (mode == 4) register_parameter("i", Tensor::zeros({2}, DType::kInt64));
    }
    Tensor forward(const Tensor& x) override { return x; }
    std::string name() const override { return "Bad"; }
  };
  for (int mode = 0; mode < 5; ++mode) EXPECT_THROW(Bad{mode}, Error) << mode;
  EXPECT_NO_THROW(Bad{5});
}

TEST(ModuleTest, TrainEvalPropagates) {
  auto model = NestedModel();
  for (const auto& [name, m] : model->named_modules()) EXPECT_TRUE(m->is_training()) << name;
  model->eval();
  for (const auto& [name, m] : model->named_modules()) EXPECT_FALSE(m->is_training()) << name;
  model->at<Sequential>(3)->train();
  EXPECT_FALSE(model->is_training());
  EXPECT_TRUE(model->at<Sequential>(3)->at<Linear>(1)->is_training());
  model->train();
  for (const auto& [name, m] : model->named_modules()) EXPECT_TRUE(m->is_training()) << name;
}

TEST(ModuleTest, ParameterCounts) {
  EXPECT_EQ(Linear(10, 5).num_parameters(), 55);
  EXPECT_EQ(Linear(10, 5, false).num_parameters(), 50);
  EXPECT_EQ(Conv2d(3, 8, 3).num_parameters(), 8 * 3 * 9 + 8);
  EXPECT_EQ(Conv2d(4, 8, {3, 5}, {1, 1}, {1, 2}, {1, 1}, /*groups=*/2).num_parameters(),
            8 * 2 * 15 + 8);
  EXPECT_EQ(Conv2d(4, 8, 3, 1, 0, 1, 4, false).weight.shape(), (Shape{8, 1, 3, 3}));
  EXPECT_EQ(BatchNorm2d(8).num_parameters(), 16);
  EXPECT_EQ(BatchNorm2d(8, 1e-5, 0.1, /*affine=*/false).num_parameters(), 0);
  EXPECT_EQ(LayerNorm({4, 5}).num_parameters(), 40);
  EXPECT_EQ(Embedding(10, 3).num_parameters(), 30);
  EXPECT_EQ(NestedModel()->num_parameters(), (4 * 3 * 9 + 4) + 8 + (144 * 5 + 5) + (5 * 2));
  EXPECT_THROW(Conv2d(3, 8, 3, 1, 0, 1, 2), Error);  // 3 % 2 != 0
  EXPECT_THROW(Conv2d(3, 8, {3, 3, 3}), Error);
  EXPECT_THROW(Dropout(1.5), Error);
  EXPECT_THROW(MaxPool2d(2, 2, 3), Error);
  EXPECT_THROW(CrossEntropyLoss("average"), Error);
}

struct Stats {
  double mean = 0, std = 0, max_abs = 0;
};
Stats StatsOf(const Tensor& t) {
  const auto v = t.to_vector<float>();
  Stats s;
  for (float x : v) s.mean += x;
  s.mean /= v.size();
  for (float x : v) {
    s.std += (x - s.mean) * (x - s.mean);
    s.max_abs = std::max(s.max_abs, std::fabs(static_cast<double>(x)));
  }
  s.std = std::sqrt(s.std / (v.size() - 1));
  return s;
}

TEST(InitTest, LinearAndConvBoundsAreOneOverSqrtFanIn) {
  manual_seed(7);
  Linear linear(400, 300);
  const double bound = 1.0 / std::sqrt(400.0);
  Stats w = StatsOf(linear.weight);
  EXPECT_LE(w.max_abs, static_cast<float>(bound));
  EXPECT_GT(w.max_abs, 0.99 * bound);
  EXPECT_NEAR(w.std, bound / std::sqrt(3.0), 0.01 * bound);
  EXPECT_NEAR(w.mean, 0, 0.01 * bound);
  Stats b = StatsOf(linear.bias);
  EXPECT_LE(b.max_abs, static_cast<float>(bound));
  EXPECT_NEAR(b.std, bound / std::sqrt(3.0), 0.1 * bound);

  Conv2d conv(16, 64, 3, 1, 1, 1, /*groups=*/2);  // fan_in = 8 * 9
  const double cbound = 1.0 / std::sqrt(72.0);
  Stats c = StatsOf(conv.weight);
  EXPECT_LE(c.max_abs, static_cast<float>(cbound));
  EXPECT_GT(c.max_abs, 0.98 * cbound);
  EXPECT_NEAR(c.std, cbound / std::sqrt(3.0), 0.03 * cbound);
  EXPECT_LE(StatsOf(conv.bias).max_abs, static_cast<float>(cbound));
}

TEST(InitTest, EmbeddingNormsAndConstants) {
  manual_seed(8);
  Embedding emb(1000, 50);
  Stats e = StatsOf(emb.weight);
  EXPECT_NEAR(e.mean, 0, 0.02);
  EXPECT_NEAR(e.std, 1, 0.02);
  BatchNorm2d bn(6);
  EXPECT_EQ(bn.weight.to_vector<float>(), std::vector<float>(6, 1.f));
  EXPECT_EQ(bn.bias.to_vector<float>(), std::vector<float>(6, 0.f));
  EXPECT_EQ(bn.running_mean.to_vector<float>(), std::vector<float>(6, 0.f));
  EXPECT_EQ(bn.running_var.to_vector<float>(), std::vector<float>(6, 1.f));
  EXPECT_EQ(bn.num_batches_tracked.dtype(), DType::kInt64);
  EXPECT_EQ(bn.num_batches_tracked.item(), 0);
  LayerNorm ln({3, 4});
  EXPECT_EQ(ln.weight.to_vector<float>(), std::vector<float>(12, 1.f));
  EXPECT_EQ(ln.bias.to_vector<float>(), std::vector<float>(12, 0.f));
}

TEST(InitTest, FunctionsAndGains) {
  EXPECT_DOUBLE_EQ(init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu"), std::sqrt(2.0 / (1 + 0.0001)));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu", std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  EXPECT_THROW(init::calculate_gain("swish"), Error);
  EXPECT_EQ(init::calculate_fan_in_and_fan_out(Tensor::zeros({8, 4, 3, 3})),
            (std::pair<int64_t, int64_t>{36, 72}));
  EXPECT_THROW(init::calculate_fan_in_and_fan_out(Tensor::zeros({8})), Error);

  manual_seed(9);
  Tensor x = init::xavier_uniform_(Tensor::zeros({200, 300}));
  const double xb = std::sqrt(6.0 / 500.0);
  Stats s = StatsOf(x);
  EXPECT_LE(s.max_abs, static_cast<float>(xb));
  EXPECT_NEAR(s.std, xb / std::sqrt(3.0), 0.01 * xb);
  Stats n = StatsOf(init::kaiming_normal_(Tensor::zeros({300, 200}), 0, "fan_in", "relu"));
  EXPECT_NEAR(n.std, std::sqrt(2.0 / 200), 0.02 * std::sqrt(2.0 / 200));
  Stats u = StatsOf(init::uniform_(Tensor::zeros({10000}), 2, 3));
  EXPECT_NEAR(u.mean, 2.5, 0.01);
  EXPECT_LE(u.max_abs, 3.0);
  Tensor d = init::normal_(Tensor::zeros({20000}, DType::kFloat64), 5, 2);
  const auto dv = d.to_vector<double>();
  double mean = 0;
  for (double v : dv) mean += v;
  EXPECT_NEAR(mean / dv.size(), 5, 0.05);
  EXPECT_THROW(init::ones_(Tensor::zeros({2}, DType::kInt64)), Error);
  EXPECT_THROW(init::kaiming_uniform_(Tensor::zeros({2, 2}), 0, "fan_avg"), Error);

  // In place: every handle sees the values; the same seed gives the same values.
  Tensor t = Tensor::zeros({5});
  Tensor alias = t;
  init::constant_(t, 3);
  EXPECT_EQ(alias.to_vector<float>(), std::vector<float>(5, 3.f));
  manual_seed(11);
  auto w1 = Linear(4, 4).weight.to_vector<float>();
  manual_seed(11);
  auto w2 = Linear(4, 4).weight.to_vector<float>();
  EXPECT_EQ(w1, w2);
}

void ExpectSameState(Module& a, Module& b) {
  auto sa = a.state_dict(), sb = b.state_dict();
  ASSERT_EQ(Names(sa), Names(sb));
  for (size_t i = 0; i < sa.size(); ++i) {
    const cortado::Tensor& x = sa[i].second.value();
    const cortado::Tensor& y = sb[i].second.value();
    ASSERT_EQ(x.dtype(), y.dtype()) << sa[i].first;
    ASSERT_EQ(x.shape(), y.shape()) << sa[i].first;
    EXPECT_EQ(std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()), 0) << sa[i].first;
  }
}

TEST(StateDictTest, SaveLoadRoundTripIsExactAndKeepsIdentity) {
  manual_seed(1);
  auto a = NestedModel();
  a->train();
  (*a)(Tensor::randn({2, 3, 8, 8}));  // moves the running statistics
  EXPECT_EQ(a->at<BatchNorm2d>(1)->num_batches_tracked.item(), 1);
  const std::string path = TempPath("nested.state");
  ASSERT_TRUE(a->save(path).ok());

  manual_seed(2);
  auto b = NestedModel();
  std::vector<Tensor> params = b->parameters();  // an optimizer's handles
  std::vector<const TensorImpl*> ids;
  for (const Tensor& p : params) ids.push_back(p.impl());
  const void* storage = b->parameters()[0].value().raw_data();
  absl::Status st = b->load(path);
  ASSERT_TRUE(st.ok()) << st;
  ExpectSameState(*a, *b);
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(b->parameters()[i].impl(), ids[i]);
    EXPECT_EQ(std::memcmp(params[i].value().raw_data(), a->parameters()[i].value().raw_data(),
                          params[i].value().nbytes()),
              0);
  }
  EXPECT_EQ(b->parameters()[0].value().raw_data(), storage);
  EXPECT_EQ(b->at<BatchNorm2d>(1)->num_batches_tracked.item(), 1);

  // Same outputs in eval mode.
  a->eval();
  b->eval();
  Tensor x = Tensor::randn({2, 3, 8, 8});
  EXPECT_EQ((*a)(x).to_vector<float>(), (*b)(x).to_vector<float>());

  // The file is the documented container: entries are .npy images under the dotted names.
  auto entries = LoadTensors(path);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 10u);
  EXPECT_EQ((*entries)[6].first, "1.num_batches_tracked");
  EXPECT_EQ((*entries)[6].second.dtype(), DType::kInt64);
  EXPECT_EQ((*entries)[6].second.rank(), 0);
}

std::string ReadAll(const std::string& path) { return ReadFileToString(path).value(); }

TEST(StateDictTest, LoadErrorsAreClearAndLeaveTheModuleUnchanged) {
  manual_seed(3);
  const std::string dir = TempPath("");
  Linear small(3, 4);
  ASSERT_TRUE(small.save(dir + "small.state").ok());

  auto with_bias_only = std::make_shared<Linear>(3, 4, false);
  absl::Status st = with_bias_only->load(dir + "small.state");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("unexpected keys: bias"), std::string::npos) << st;

  Sequential seq(std::make_shared<Linear>(3, 4), std::make_shared<Linear>(4, 2));
  ASSERT_TRUE(Sequential(std::make_shared<Linear>(3, 4)).save(dir + "one.state").ok());
  st = seq.load(dir + "one.state");
  EXPECT_NE(st.message().find("missing keys: 1.weight, 1.bias"), std::string::npos) << st;

  Linear wide(3, 5);
  const auto before = wide.weight.to_vector<float>();
  st = wide.load(dir + "small.state");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("weight (given float32[4,3], module has float32[5,3])"),
            std::string::npos)
      << st;
  EXPECT_EQ(wide.weight.to_vector<float>(), before);  // all or nothing

  // dtype mismatch.
  ASSERT_TRUE(
      SaveTensors(dir + "f64.state", {{"weight", Tensor::zeros({4, 3}, DType::kFloat64).value()},
                                      {"bias", Tensor::zeros({4}).value()}})
          .ok());
  st = Linear(3, 4).load(dir + "f64.state");
  EXPECT_NE(st.message().find("weight (given float64[4,3]"), std::string::npos) << st;

  // Truncated at every length: a clear error, never a crash.
  const std::string bytes = ReadAll(dir + "small.state");
  for (size_t len : {size_t{0}, size_t{5}, size_t{12}, size_t{20}, size_t{30}, bytes.size() / 2,
                     bytes.size() - 1}) {
    ASSERT_TRUE(WriteStringToFile(dir + "cut.state", bytes.substr(0, len)).ok());
    Linear target(3, 4);
    st = target.load(dir + "cut.state");
    EXPECT_FALSE(st.ok()) << len;
    const bool clear = st.message().find("truncated") != std::string::npos ||
                       st.message().find("bad magic") != std::string::npos;
    EXPECT_TRUE(clear) << len << ": " << st;
    EXPECT_NE(st.message().find("cut.state"), std::string::npos) << st;
  }
  ASSERT_TRUE(WriteStringToFile(dir + "cut.state", bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_EQ(Linear(3, 4).load(dir + "cut.state").code(), absl::StatusCode::kDataLoss);
  ASSERT_TRUE(WriteStringToFile(dir + "long.state", bytes + "x").ok());
  EXPECT_NE(Linear(3, 4).load(dir + "long.state").message().find("unexpected bytes"),
            std::string::npos);
  EXPECT_EQ(Linear(3, 4).load(dir + "does_not_exist.state").code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(WriteStringToFile(dir + "junk.state", "this is not a state file").ok());
  EXPECT_NE(Linear(3, 4).load(dir + "junk.state").message().find("bad magic"), std::string::npos);
}

TEST(BatchNormTest, RunningStatisticsUpdate) {
  // Channel 0 holds 1..8, channel 1 holds 8 times 2 (variance 0): N=2, H=2, W=2.
  std::vector<float> data;
  for (int n = 0; n < 2; ++n) {
    for (int i = 0; i < 4; ++i) data.push_back(static_cast<float>(n * 4 + i + 1));
    for (int i = 0; i < 4; ++i) data.push_back(2.f);
  }
  Tensor x = Tensor::from_vector(data, {2, 2, 2, 2});
  BatchNorm2d bn(2, 1e-5, /*momentum=*/0.25);
  Tensor y = bn(x);
  // Batch mean of 1..8 is 4.5; unbiased variance is 6 (population 5.25).
  auto rm = bn.running_mean.to_vector<float>();
  auto rv = bn.running_var.to_vector<float>();
  EXPECT_NEAR(rm[0], 0.25 * 4.5, 1e-6);
  EXPECT_NEAR(rm[1], 0.25 * 2, 1e-6);
  EXPECT_NEAR(rv[0], 0.75 + 0.25 * 6, 1e-5);
  EXPECT_NEAR(rv[1], 0.75, 1e-6);
  EXPECT_EQ(bn.num_batches_tracked.item(), 1);
  // Training output uses the batch statistics (biased variance).
  EXPECT_NEAR(y.to_vector<float>()[0], (1 - 4.5) / std::sqrt(5.25 + 1e-5), 1e-5);
  bn(x);
  EXPECT_EQ(bn.num_batches_tracked.item(), 2);
  EXPECT_NEAR(bn.running_mean.to_vector<float>()[0], 0.75 * 0.25 * 4.5 + 0.25 * 4.5, 1e-5);

  // Eval: running statistics are used and left alone.
  bn.eval();
  const auto rm2 = bn.running_mean.to_vector<float>();
  const auto rv2 = bn.running_var.to_vector<float>();
  Tensor z = bn(x);
  EXPECT_EQ(bn.running_mean.to_vector<float>(), rm2);
  EXPECT_EQ(bn.num_batches_tracked.item(), 2);
  EXPECT_NEAR(z.to_vector<float>()[0], (1 - rm2[0]) / std::sqrt(rv2[0] + 1e-5), 1e-5);
  EXPECT_THROW(bn(Tensor::zeros({2, 3, 2, 2})), Error);
}

TEST(ModuleTest, DropoutOnlyInTraining) {
  manual_seed(5);
  Dropout drop(0.3);
  Tensor x = Tensor::ones({10000});
  auto y = drop(x).to_vector<float>();
  int zeros = 0;
  for (float v : y) {
    if (v == 0) {
      ++zeros;
    } else {
      EXPECT_NEAR(v, 1 / 0.7, 1e-6);
    }
  }
  EXPECT_NEAR(zeros / 10000.0, 0.3, 0.03);
  drop.eval();
  EXPECT_EQ(drop(x).to_vector<float>(), x.to_vector<float>());
}

TEST(ModuleTest, ZeroGradClearsEveryGrad) {
  auto model = NestedModel();
  Tensor loss = (*model)(Tensor::randn({2, 3, 8, 8})).sum();
  loss.backward();
  for (const Tensor& p : model->parameters()) EXPECT_TRUE(p.grad().defined());
  model->zero_grad();
  for (const Tensor& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(ModuleTest, LayersMatchTheFunctionalOps) {
  manual_seed(6);
  Tensor x = Tensor::randn({2, 3, 8, 8});
  auto conv = std::make_shared<Conv2d>(3, 4, 3, 2, 1);
  Tensor c = (*conv)(x);
  EXPECT_EQ(c.to_vector<float>(),
            conv2d(x, conv->weight, conv->bias, {2, 2}, {1, 1}).to_vector<float>());
  EXPECT_EQ(MaxPool2d(2)(c).shape(), (Shape{2, 4, 2, 2}));
  EXPECT_EQ(MaxPool2d(3, 2, 1)(x).shape(), (Shape{2, 3, 4, 4}));
  EXPECT_EQ(AvgPool2d(2)(x).to_vector<float>(), avg_pool2d(x, {2, 2}).to_vector<float>());
  EXPECT_EQ(AdaptiveAvgPool2d(1)(x).shape(), (Shape{2, 3, 1, 1}));
  EXPECT_EQ(AdaptiveAvgPool2d({2, 4})(x).shape(), (Shape{2, 3, 2, 4}));
  EXPECT_EQ(Flatten()(x).shape(), (Shape{2, 192}));
  EXPECT_EQ(Flatten(0, 1)(x).shape(), (Shape{6, 8, 8}));
  EXPECT_EQ(ReLU()(x).to_vector<float>(), relu(x).to_vector<float>());
  EXPECT_EQ(GELU()(x).to_vector<float>(), gelu(x).to_vector<float>());
  EXPECT_EQ(Sigmoid()(x).to_vector<float>(), sigmoid(x).to_vector<float>());
  EXPECT_EQ(Tanh()(x).to_vector<float>(), tanh(x).to_vector<float>());
  EXPECT_EQ(Softmax(1)(x).to_vector<float>(), softmax(x, 1).to_vector<float>());
  EXPECT_EQ(LogSoftmax(-1)(x).to_vector<float>(), log_softmax(x, -1).to_vector<float>());
  EXPECT_EQ(Identity()(x).impl(), x.impl());
  Linear fc(8, 5);
  EXPECT_EQ(fc(x).shape(), (Shape{2, 3, 8, 5}));
  EXPECT_THROW(fc(Tensor::zeros({2, 7})), Error);
  LayerNorm ln({8});
  EXPECT_EQ(ln(x).to_vector<float>(), layer_norm(x, {8}, ln.weight, ln.bias).to_vector<float>());
  Embedding emb(10, 4);
  Tensor idx = Tensor::from_vector<int64_t>({1, 9, 1}, {3});
  auto e = emb(idx).to_vector<float>();
  auto w = emb.weight.to_vector<float>();
  ASSERT_EQ(e.size(), 12u);
  for (int j = 0; j < 4; ++j) {
    EXPECT_EQ(e[j], w[4 + j]);
    EXPECT_EQ(e[4 + j], w[36 + j]);
  }

  // Losses are the functional ones.
  Tensor logits = Tensor::randn({4, 3});
  Tensor target = Tensor::from_vector<int64_t>({0, 2, 1, 2}, {4});
  EXPECT_EQ(CrossEntropyLoss()(logits, target).item(), cross_entropy(logits, target).item());
  EXPECT_EQ(CrossEntropyLoss("sum")(logits, target).item(),
            cross_entropy(logits, target, "sum").item());
  EXPECT_EQ(NLLLoss("none")(log_softmax(logits, 1), target).shape(), (Shape{4}));
  Tensor p = Tensor::rand({4, 3});
  EXPECT_EQ(MSELoss()(logits, p).item(), mse_loss(logits, p).item());
  EXPECT_EQ(BCEWithLogitsLoss("sum")(logits, p).item(),
            binary_cross_entropy_with_logits(logits, p, "sum").item());
}

TEST(ModuleTest, PrintsLikePyTorch) {
  auto model = std::make_shared<Sequential>(
      std::make_shared<Conv2d>(3, 8, 3, 1, 1), std::make_shared<ReLU>(),
      std::make_shared<Sequential>(std::make_shared<Flatten>(), std::make_shared<Linear>(8, 2)));
  EXPECT_EQ(model->str(),
            "Sequential(\n"
            "  (0): Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
            "  (1): ReLU()\n"
            "  (2): Sequential(\n"
            "    (0): Flatten(start_dim=1, end_dim=-1)\n"
            "    (1): Linear(in_features=8, out_features=2, bias=True)\n"
            "  )\n"
            ")");
}

}  // namespace
}  // namespace nn
}  // namespace frontend
}  // namespace cortado
