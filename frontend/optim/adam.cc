#include "frontend/optim/adam.h"

#include <cmath>

#include "frontend/optim/kernel_util.h"

namespace cortado {
namespace frontend {
namespace optim {
namespace {

using internal::WithFlag;

struct AdamScalars {
  double beta1, one_minus_beta1, beta2, one_minus_beta2;
  double decay;  // Adam: weight_decay; AdamW: 1 - lr * weight_decay
  double bias_correction2_sqrt;
  double eps;
  double neg_step_size;  // -lr / (1 - beta1^t)
};

// One parameter's update, in T with the scalars rounded to T (as PyTorch does for float
// tensors). Flags are compile-time so that each loop is branch-free.
template <typename T, bool kDecay, bool kDecoupled, bool kMaximize, bool kAmsgrad>
void AdamUpdate(T* __restrict p, const T* __restrict grad, T* __restrict m, T* __restrict v,
                T* __restrict v_max, int64_t n, const AdamScalars& s) {
  const T beta1 = static_cast<T>(s.beta1), one_minus_beta1 = static_cast<T>(s.one_minus_beta1);
  const T beta2 = static_cast<T>(s.beta2), one_minus_beta2 = static_cast<T>(s.one_minus_beta2);
  const T decay = static_cast<T>(s.decay);
  const T bc2_sqrt = static_cast<T>(s.bias_correction2_sqrt);
  const T eps = static_cast<T>(s.eps);
  const T neg_step_size = static_cast<T>(s.neg_step_size);
  for (int64_t i = 0; i < n; ++i) {
    T g = kMaximize ? -grad[i] : grad[i];
    T pi = p[i];
    if (kDecay) {
      if (kDecoupled) {
        pi = pi * decay;
      } else {
        g = g + decay * pi;
      }
    }
    const T mi = m[i] * beta1 + one_minus_beta1 * g;
    const T vi = v[i] * beta2 + one_minus_beta2 * (g * g);
    m[i] = mi;
    v[i] = vi;
    T vhat = vi;
    if (kAmsgrad) {
      vhat = v_max[i] > vi ? v_max[i] : vi;
      v_max[i] = vhat;
    }
    const T denom = std::sqrt(vhat) / bc2_sqrt + eps;
    p[i] = pi + neg_step_size * (mi / denom);
  }
}

template <typename T>
void AdamStep(T* p, const T* g, T* m, T* v, T* v_max, int64_t n, const AdamScalars& s, bool decay,
              bool decoupled, bool maximize, bool amsgrad) {
  WithFlag(decay, [&](auto kDecay) {
    WithFlag(decoupled, [&](auto kDecoupled) {
      WithFlag(maximize, [&](auto kMaximize) {
        WithFlag(amsgrad, [&](auto kAmsgrad) {
          AdamUpdate<T, decltype(kDecay)::value, decltype(kDecoupled)::value,
                     decltype(kMaximize)::value, decltype(kAmsgrad)::value>(p, g, m, v, v_max, n,
                                                                            s);
        });
      });
    });
  });
}

AdamOptions FromAdamW(const AdamWOptions& o) {
  AdamOptions a;
  a.lr = o.lr;
  a.betas = o.betas;
  a.eps = o.eps;
  a.weight_decay = o.weight_decay;
  a.amsgrad = o.amsgrad;
  a.maximize = o.maximize;
  return a;
}

}  // namespace

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam(std::move(params), options, false) {}

Adam::Adam(std::vector<Tensor> params, const AdamOptions& options, bool decoupled_weight_decay)
    : Optimizer(std::move(params), options.lr),
      options_(options),
      decoupled_(decoupled_weight_decay) {
  using internal::CheckOption;
  const char* name = decoupled_ ? "AdamW" : "Adam";
  CheckOption(options.eps >= 0, name, "eps must be >= 0");
  CheckOption(options.betas.first >= 0 && options.betas.first < 1, name,
              "betas.first must be in [0, 1)");
  CheckOption(options.betas.second >= 0 && options.betas.second < 1, name,
              "betas.second must be in [0, 1)");
  CheckOption(options.weight_decay >= 0, name, "weight_decay must be >= 0");
  state_.resize(params_.size());
}

void Adam::step() {
  NoGradGuard no_grad;
  const double lr = this->lr();
  const double beta1 = options_.betas.first, beta2 = options_.betas.second;
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& param = params_[i];
    const Tensor grad = internal::CheckedGrad(param, i, decoupled_ ? "AdamW" : "Adam");
    if (!grad.defined()) continue;
    State& st = state_[i];
    if (st.step == 0) {
      st.exp_avg = internal::ZerosLike(param);
      st.exp_avg_sq = internal::ZerosLike(param);
      if (options_.amsgrad) st.max_exp_avg_sq = internal::ZerosLike(param);
    }
    ++st.step;
    // As PyTorch: the scalars are computed in double (Python floats).
    const double t = static_cast<double>(st.step);
    AdamScalars s;
    s.beta1 = beta1;
    s.one_minus_beta1 = 1 - beta1;
    s.beta2 = beta2;
    s.one_minus_beta2 = 1 - beta2;
    s.decay = decoupled_ ? 1 - lr * options_.weight_decay : options_.weight_decay;
    s.bias_correction2_sqrt = std::sqrt(1 - std::pow(beta2, t));
    s.eps = options_.eps;
    s.neg_step_size = -(lr / (1 - std::pow(beta1, t)));
    const bool decay = options_.weight_decay != 0;  // AdamW's p * 1 would change nothing
    const int64_t n = param.numel();
    if (param.dtype() == DType::kFloat32) {
      AdamStep<float>(param.mutable_data<float>(), grad.data<float>(), st.exp_avg.data<float>(),
                      st.exp_avg_sq.data<float>(),
                      options_.amsgrad ? st.max_exp_avg_sq.data<float>() : nullptr, n, s, decay,
                      decoupled_, options_.maximize, options_.amsgrad);
    } else {
      AdamStep<double>(param.mutable_data<double>(), grad.data<double>(), st.exp_avg.data<double>(),
                       st.exp_avg_sq.data<double>(),
                       options_.amsgrad ? st.max_exp_avg_sq.data<double>() : nullptr, n, s, decay,
                       decoupled_, options_.maximize, options_.amsgrad);
    }
  }
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : Adam(std::move(params), FromAdamW(options), true) {}

}  // namespace optim
}  // namespace frontend
}  // namespace cortado
