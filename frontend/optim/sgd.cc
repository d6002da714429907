#include "frontend/optim/sgd.h"

#include "frontend/optim/kernel_util.h"

namespace cortado {
namespace frontend {
namespace optim {
namespace {

using internal::WithFlag;

// The PyTorch 1.13 single-tensor update for one parameter of n elements, scalars already in T.
// `buf` is null without momentum. Flags are compile-time so that each loop is branch-free.
template <typename T, bool kDecay, bool kMaximize, bool kMomentum, bool kFirst, bool kNesterov>
void SgdUpdate(T* __restrict p, const T* __restrict g, T* __restrict buf, int64_t n, T lr,
               T weight_decay, T momentum, T one_minus_dampening) {
  const T neg_lr = -lr;
  for (int64_t i = 0; i < n; ++i) {
    T d = kMaximize ? -g[i] : g[i];
    if (kDecay) d = d + weight_decay * p[i];
    if (kMomentum) {
      T b;
      if (kFirst) {
        b = d;
      } else {
        b = buf[i] * momentum + one_minus_dampening * d;
      }
      buf[i] = b;
      d = kNesterov ? d + momentum * b : b;
    }
    p[i] = p[i] + neg_lr * d;
  }
}

template <typename T>
void SgdStep(T* p, const T* g, T* buf, int64_t n, bool first, const SGDOptions& o, double lr) {
  const bool momentum = o.momentum != 0;
  WithFlag(o.weight_decay != 0, [&](auto decay) {
    WithFlag(o.maximize, [&](auto maximize) {
      WithFlag(momentum && first, [&](auto is_first) {
        WithFlag(momentum && o.nesterov, [&](auto nesterov) {
          auto run = [&](auto has_momentum) {
            SgdUpdate<T, decltype(decay)::value, decltype(maximize)::value,
                      decltype(has_momentum)::value, decltype(is_first)::value,
                      decltype(nesterov)::value>(
                p, g, buf, n, static_cast<T>(lr), static_cast<T>(o.weight_decay),
                static_cast<T>(o.momentum), static_cast<T>(1 - o.dampening));
          };
          if (momentum) {
            run(std::true_type{});
          } else {
            run(std::false_type{});
          }
        });
      });
    });
  });
}

}  // namespace

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : Optimizer(std::move(params), options.lr), options_(options) {
  using internal::CheckOption;
  CheckOption(options.momentum >= 0, "SGD", "momentum must be >= 0");
  CheckOption(options.weight_decay >= 0, "SGD", "weight_decay must be >= 0");
  CheckOption(!options.nesterov || (options.momentum > 0 && options.dampening == 0), "SGD",
              "nesterov momentum needs momentum > 0 and dampening == 0");
  momentum_buffers_.resize(params_.size());
}

void SGD::step() {
  NoGradGuard no_grad;
  const double lr = this->lr();
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& param = params_[i];
    const Tensor grad = internal::CheckedGrad(param, i, "SGD");
    if (!grad.defined()) continue;
    bool first = false;
    cortado::Tensor& buf = momentum_buffers_[i];
    if (options_.momentum != 0 && !buf.defined()) {
      buf = internal::ZerosLike(param);
      first = true;
    }
    const int64_t n = param.numel();
    if (param.dtype() == DType::kFloat32) {
      SgdStep<float>(param.mutable_data<float>(), grad.data<float>(),
                     buf.defined() ? buf.data<float>() : nullptr, n, first, options_, lr);
    } else {
      SgdStep<double>(param.mutable_data<double>(), grad.data<double>(),
                      buf.defined() ? buf.data<double>() : nullptr, n, first, options_, lr);
    }
  }
}

}  // namespace optim
}  // namespace frontend
}  // namespace cortado
