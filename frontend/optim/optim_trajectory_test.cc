// Runs cortado's optimizers and schedulers on the problem of optim_reference.py and compares the
// trajectories with the PyTorch 1.13 ones that script wrote into $OPTIM_REF_DIR (see
// optim_trajectory_test.sh): max relative error 1e-6 in float64, 2e-5 in float32.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "core/npy.h"
#include "frontend/optim/optim.h"
#include "gtest/gtest.h"

namespace cortado {
namespace frontend {
namespace optim {
namespace {

constexpr int kSteps = 12;
const std::vector<Shape> kShapes = {{2, 3}, {4}, {3}};

struct Case {
  std::string name;
  std::map<std::string, std::string> fields;

  bool Has(const std::string& key) const { return fields.count(key) > 0; }
  double Num(const std::string& key, double fallback) const {
    auto it = fields.find(key);
    if (it == fields.end()) return fallback;
    double v = 0;
    EXPECT_TRUE(absl::SimpleAtod(it->second, &v)) << name << ": " << key << "=" << it->second;
    return v;
  }
  std::string Str(const std::string& key, const std::string& fallback = "") const {
    auto it = fields.find(key);
    return it == fields.end() ? fallback : it->second;
  }
};

std::vector<Case> ReadCases(const std::string& path) {
  std::ifstream in(path);
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    Case c;
    c.name = parts[0];
    for (size_t i = 1; i < parts.size(); ++i) {
      std::vector<std::string> kv = absl::StrSplit(parts[i], absl::MaxSplits('=', 1));
      c.fields[kv[0]] = kv.size() > 1 ? kv[1] : "";
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

Tensor Initial(int k, const Shape& shape, DType dtype) {
  const int64_t n = NumElements(shape);
  std::vector<double> v(n);
  for (int64_t j = 0; j < n; ++j) v[j] = 0.5 * std::sin(1.3 * j + k + 1);
  return Tensor::from_vector(v, shape).to(dtype).detach().requires_grad_();
}

Tensor Gradient(int k, const Tensor& p, int t) {
  const std::vector<double> flat = p.to(DType::kFloat64).to_vector<double>();
  std::vector<double> g(flat.size());
  for (size_t j = 0; j < flat.size(); ++j) {
    g[j] = flat[j] - (0.1 * j - 0.3) + 0.5 * std::sin(0.37 * j + 0.91 * t + k);
  }
  return Tensor::from_vector(g, p.shape()).to(p.dtype());
}

std::unique_ptr<Optimizer> MakeOptimizer(const Case& c, std::vector<Tensor> params) {
  const std::string kind = c.Str("optimizer");
  if (kind == "sgd") {
    SGDOptions o;
    o.lr = c.Num("lr", o.lr);
    o.momentum = c.Num("momentum", o.momentum);
    o.dampening = c.Num("dampening", o.dampening);
    o.weight_decay = c.Num("weight_decay", o.weight_decay);
    o.nesterov = c.Num("nesterov", 0) != 0;
    o.maximize = c.Num("maximize", 0) != 0;
    return std::make_unique<SGD>(std::move(params), o);
  }
  if (kind == "adam") {
    AdamOptions o;
    o.lr = c.Num("lr", o.lr);
    o.betas = {c.Num("beta1", o.betas.first), c.Num("beta2", o.betas.second)};
    o.eps = c.Num("eps", o.eps);
    o.weight_decay = c.Num("weight_decay", o.weight_decay);
    o.amsgrad = c.Num("amsgrad", 0) != 0;
    o.maximize = c.Num("maximize", 0) != 0;
    return std::make_unique<Adam>(std::move(params), o);
  }
  if (kind == "adamw") {
    AdamWOptions o;  // defaults stay ours: the case lists only what it sets
    o.lr = c.Num("lr", o.lr);
    o.betas = {c.Num("beta1", o.betas.first), c.Num("beta2", o.betas.second)};
    o.eps = c.Num("eps", o.eps);
    o.weight_decay = c.Num("weight_decay", o.weight_decay);
    o.amsgrad = c.Num("amsgrad", 0) != 0;
    o.maximize = c.Num("maximize", 0) != 0;
    return std::make_unique<AdamW>(std::move(params), o);
  }
  ADD_FAILURE() << c.name << ": unknown optimizer " << kind;
  return nullptr;
}

std::unique_ptr<LRScheduler> MakeScheduler(const Case& c, Optimizer& opt) {
  const std::string kind = c.Str("scheduler");
  if (kind.empty()) return nullptr;
  if (kind == "steplr") {
    const auto step_size = static_cast<int64_t>(c.Num("step_size", 0));
    return c.Has("gamma") ? std::make_unique<StepLR>(opt, step_size, c.Num("gamma", 0))
                          : std::make_unique<StepLR>(opt, step_size);
  }
  if (kind == "cosine") {
    const auto t_max = static_cast<int64_t>(c.Num("T_max", 0));
    return c.Has("eta_min") ? std::make_unique<CosineAnnealingLR>(opt, t_max, c.Num("eta_min", 0))
                            : std::make_unique<CosineAnnealingLR>(opt, t_max);
  }
  ADD_FAILURE() << c.name << ": unknown scheduler " << kind;
  return nullptr;
}

// Rows as optim_reference.py writes them: the lr used by each step, then every parameter.
std::vector<std::vector<double>> RunCase(const Case& c) {
  const DType dtype = c.Str("dtype", "float64") == "float32" ? DType::kFloat32 : DType::kFloat64;
  std::vector<Tensor> params;
  for (size_t k = 0; k < kShapes.size(); ++k) params.push_back(Initial(k, kShapes[k], dtype));
  std::unique_ptr<Optimizer> opt = MakeOptimizer(c, params);
  if (opt == nullptr) return {};
  std::unique_ptr<LRScheduler> sched = MakeScheduler(c, *opt);
  std::vector<std::vector<double>> rows;
  for (int t = 0; t < kSteps; ++t) {
    opt->zero_grad();
    for (size_t k = 0; k < params.size(); ++k) {
      if (k != 2 || t % 2 == 0) params[k].set_grad(Gradient(k, params[k], t));
    }
    std::vector<double> row = {opt->lr()};
    opt->step();
    for (const Tensor& p : params) {
      for (double x : p.to(DType::kFloat64).to_vector<double>()) row.push_back(x);
    }
    rows.push_back(std::move(row));
    if (sched) {
      sched->step();
      EXPECT_EQ(sched->get_last_lr(), opt->lr());
    }
  }
  return rows;
}

TEST(OptimTrajectoryTest, MatchesPyTorch) {
  const char* dir = std::getenv("OPTIM_REF_DIR");
  ASSERT_NE(dir, nullptr) << "run through optim_trajectory_test.sh (sets OPTIM_REF_DIR)";
  const std::vector<Case> cases = ReadCases(std::string(dir) + "/cases.txt");
  ASSERT_GE(cases.size(), 20u);
  int checked = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<cortado::Tensor> ref = ReadNpyFile(std::string(dir) + "/" + c.name + ".npy");
    ASSERT_TRUE(ref.ok()) << ref.status();
    ASSERT_EQ(ref->dtype(), DType::kFloat64);
    ASSERT_EQ(ref->rank(), 2);
    const std::vector<std::vector<double>> rows = RunCase(c);
    ASSERT_EQ(static_cast<int64_t>(rows.size()), ref->dim(0));
    const double tol = c.Str("dtype") == "float32" ? 2e-5 : 1e-6;
    const double* expected = ref->data<double>();
    const int64_t cols = ref->dim(1);
    double worst = 0;
    for (size_t t = 0; t < rows.size(); ++t) {
      ASSERT_EQ(static_cast<int64_t>(rows[t].size()), cols);
      // Relative to the row's scale, so that elements passing through zero do not count as
      // large relative errors; the lr column is compared on its own.
      double scale = 0;
      for (int64_t j = 1; j < cols; ++j) scale = std::max(scale, std::abs(expected[t * cols + j]));
      for (int64_t j = 0; j < cols; ++j) {
        const double e = expected[t * cols + j];
        const double denom = j == 0 ? std::max(std::abs(e), 1e-300) : scale;
        const double err = std::abs(rows[t][j] - e) / denom;
        worst = std::max(worst, err);
        EXPECT_LE(err, tol) << "step " << t << " column " << j << ": got " << rows[t][j]
                            << ", PyTorch " << e;
      }
    }
    std::printf("%-40s max rel err %.3g\n", c.name.c_str(), worst);
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()));
}

}  // namespace
}  // namespace optim
}  // namespace frontend
}  // namespace cortado
