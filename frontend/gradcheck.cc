#include "frontend/gradcheck.h"

#include <cmath>

#include "frontend/ops.h"

namespace cortado {
namespace frontend {

std::string GradCheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                      const std::vector<Tensor>& inputs, const GradCheckOptions& options) {
  std::string failure;
  absl::Status status = CatchError([&] {
    for (const Tensor& t : inputs) {
      if (t.defined() && t.requires_grad() && t.dtype() != DType::kFloat64) {
        failure = "GradCheck needs float64 inputs";
        return;
      }
    }
    Tensor y = f(inputs);
    const Tensor weights = Tensor::randn(y.shape(), DType::kFloat64);
    auto loss = [&](const Tensor& out) { return sum(mul(out, weights)); };
    for (const Tensor& t : inputs) {
      if (t.defined() && t.requires_grad()) Tensor(t).set_grad(Tensor());
    }
    loss(y).backward();
    for (size_t k = 0; k < inputs.size() && failure.empty(); ++k) {
      Tensor x = inputs[k];
      if (!x.defined() || !x.requires_grad()) continue;
      const Tensor analytic = x.grad();
      double* p = x.mutable_data<double>();
      for (int64_t i = 0; i < x.numel(); ++i) {
        const double saved = p[i];
        double plus, minus;
        {
          NoGradGuard no_grad;
          p[i] = saved + options.eps;
          plus = loss(f(inputs)).item();
          p[i] = saved - options.eps;
          minus = loss(f(inputs)).item();
          p[i] = saved;
        }
        const double numeric = (plus - minus) / (2 * options.eps);
        const double got = analytic.defined() ? analytic.data<double>()[i] : 0.0;
        if (!(std::fabs(got - numeric) <= options.atol + options.rtol * std::fabs(numeric))) {
          failure = absl::StrCat("input ", k, " element ", i, ": analytic ", got, " vs numeric ",
                                 numeric);
          return;
        }
      }
    }
  });
  if (!status.ok()) return absl::StrCat("error: ", status.message());
  return failure;
}

}  // namespace frontend
}  // namespace cortado
