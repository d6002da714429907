// The optimizers of ONNX's training preview domain (ai.onnx.preview.training, opset 1):
// Adagrad, Adam and Momentum (standard and Nesterov). Each takes the learning rate R and the
// step count T (scalars), then n tensors X, n gradients G and n of each state (Adagrad: H;
// Adam: V, H; Momentum: V), and returns the n new X, then the n new states of each kind.
// Formulas as ONNX's documents and reference implementation give them, computed in double.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/nn_util.h"
#include "ops/registry.h"

namespace cortado {
namespace {

constexpr char kPreviewTraining[] = "ai.onnx.preview.training";

struct Hyper {
  double norm = 0, norm_post = 0, decay = 0, epsilon = 0, alpha = 0, beta = 0;
  bool nesterov = false;
};

// One element's update: x and the states in, the new x and states out (in place).
using UpdateFn = void (*)(const Hyper& p, double r, int64_t t, double g, double& x, double* state);

void Adagrad(const Hyper& p, double r, int64_t t, double g, double& x, double* h) {
  const double gr = p.norm * x + g;
  h[0] += gr * gr;
  x -= r / (1 + static_cast<double>(t) * p.decay) * gr / (std::sqrt(h[0]) + p.epsilon);
}

void Adam(const Hyper& p, double r, int64_t t, double g, double& x, double* vh) {
  const double gr = p.norm * x + g;
  vh[0] = p.alpha * vh[0] + (1 - p.alpha) * gr;
  vh[1] = p.beta * vh[1] + (1 - p.beta) * gr * gr;
  const double td = static_cast<double>(t);
  const double rate =
      t > 0 ? r * std::sqrt(1 - std::pow(p.beta, td)) / (1 - std::pow(p.alpha, td)) : r;
  x = (1 - p.norm_post) * (x - rate * vh[0] / (std::sqrt(vh[1]) + p.epsilon));
}

void Momentum(const Hyper& p, double r, int64_t t, double g, double& x, double* v) {
  const double gr = p.norm * x + g;
  v[0] = p.alpha * v[0] + (t > 0 ? p.beta : 1.0) * gr;
  x -= r * (p.nesterov ? gr + p.alpha * v[0] : v[0]);
}

class OptimizerKernel : public Kernel {
 public:
  OptimizerKernel(const KernelInfo& info, int states, UpdateFn fn)
      : op_(info.op_type), states_(states), fn_(fn) {
    const AttributeMap& a = *info.attrs;
    p_.norm = a.GetFloat("norm_coefficient");
    p_.norm_post = a.GetFloat("norm_coefficient_post");
    p_.decay = a.GetFloat("decay_factor");
    p_.epsilon = a.GetFloat("epsilon");
    p_.alpha = a.GetFloat("alpha");
    p_.beta = a.GetFloat("beta");
    mode_ = a.GetString("mode", "standard");
    p_.nesterov = mode_ == "nesterov";
  }

  absl::Status Compute(KernelContext& ctx) const override {
    if (mode_ != "standard" && mode_ != "nesterov") {
      return absl::InvalidArgumentError(
          absl::StrCat(op_, ": mode must be \"standard\" or \"nesterov\", got \"", mode_, "\""));
    }
    const int per = 2 + states_;  // X, G and the states
    if (ctx.num_inputs() < 2 + per || (ctx.num_inputs() - 2) % per != 0 ||
        ctx.num_outputs() != ctx.num_inputs() - 2 - (ctx.num_inputs() - 2) / per) {
      return absl::InvalidArgumentError(absl::StrCat(op_, ": expects R, T and ", per,
                                                     " inputs per tensor, with ", per - 1,
                                                     " outputs per tensor"));
    }
    const int n = (ctx.num_inputs() - 2) / per;
    ASSIGN_OR_RETURN(const Tensor* r_t, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* t_t, ctx.RequiredInput(1));
    if (r_t->num_elements() != 1 || t_t->num_elements() != 1 || !IsInteger(t_t->dtype())) {
      return absl::InvalidArgumentError(
          absl::StrCat(op_, ": R must be a scalar and T an integer scalar"));
    }
    const double r = r_t->ElementAsDouble(0);
    const int64_t t = static_cast<int64_t>(t_t->ElementAsDouble(0));
    for (int i = 0; i < n; ++i) {
      std::vector<const Tensor*> in(per);
      for (int k = 0; k < per; ++k) {
        ASSIGN_OR_RETURN(in[k], ctx.RequiredInput(2 + k * n + i));
        if (in[k]->shape() != in[0]->shape() || in[k]->dtype() != in[0]->dtype()) {
          return absl::InvalidArgumentError(
              absl::StrCat(op_, ": tensor ", i, "'s inputs must share X's shape and dtype"));
        }
      }
      std::vector<Tensor*> out(per - 1);  // new X, then the new states
      for (int k = 0; k < per - 1; ++k) {
        ASSIGN_OR_RETURN(out[k], ctx.AllocateOutput(k * n + i, in[0]->dtype(), in[0]->shape()));
      }
      RETURN_IF_ERROR(VisitFloatType(in[0]->dtype(), op_, [&](auto tag) {
        using T = typename decltype(tag)::type;
        std::vector<double> state(states_);
        for (int64_t e = 0; e < in[0]->num_elements(); ++e) {
          double x = static_cast<double>(in[0]->data<T>()[e]);
          for (int s = 0; s < states_; ++s) state[s] = static_cast<double>(in[2 + s]->data<T>()[e]);
          fn_(p_, r, t, static_cast<double>(in[1]->data<T>()[e]), x, state.data());
          out[0]->data<T>()[e] = static_cast<T>(x);
          for (int s = 0; s < states_; ++s) out[1 + s]->data<T>()[e] = static_cast<T>(state[s]);
        }
        return absl::OkStatus();
      }));
    }
    return absl::OkStatus();
  }

 private:
  const std::string op_;
  const int states_;
  const UpdateFn fn_;
  std::string mode_;
  Hyper p_;
};

KernelFactory OptimizerFactory(int states, UpdateFn fn) {
  return [states, fn](const KernelInfo& info) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::unique_ptr<Kernel>(new OptimizerKernel(info, states, fn));
  };
}

// Outputs: the new X, then the states, each like the matching input.
absl::Status InferOptimizer(InferenceContext& ctx, int states) {
  const int per = 2 + states;
  const int n = (ctx.num_inputs() - 2) / per;
  for (int o = 0; o < ctx.num_outputs(); ++o) {
    const int kind = n > 0 ? o / n : 0, i = n > 0 ? o % n : 0;
    ctx.set_output(o, ctx.input(2 + (kind == 0 ? 0 : kind + 1) * n + i));
  }
  return absl::OkStatus();
}

OpSchema OptimizerSchema(const char* name, int states) {
  return OpSchema(name, kPreviewTraining)
      .Versions(1)
      .Inputs(2 + 2 + states, 1 << 20)
      .Outputs(1 + states, 1 << 20)
      .Infer([states](InferenceContext& ctx) { return InferOptimizer(ctx, states); });
}

}  // namespace

CORTADO_REGISTER_OP(OptimizerSchema("Adagrad", 1)
                        .Attr("decay_factor", 0.0f)
                        .Attr("epsilon", 0.0f)
                        .Attr("norm_coefficient", 0.0f));
CORTADO_REGISTER_DOMAIN_KERNEL("Adagrad", kPreviewTraining, kCpuBackend, 1, kMaxOpset, {},
                               OptimizerFactory(1, Adagrad));

CORTADO_REGISTER_OP(OptimizerSchema("Adam", 2)
                        .Attr("alpha", 0.9f)
                        .Attr("beta", 0.999f)
                        .Attr("epsilon", 0.0f)
                        .Attr("norm_coefficient", 0.0f)
                        .Attr("norm_coefficient_post", 0.0f));
CORTADO_REGISTER_DOMAIN_KERNEL("Adam", kPreviewTraining, kCpuBackend, 1, kMaxOpset, {},
                               OptimizerFactory(2, Adam));

CORTADO_REGISTER_OP(OptimizerSchema("Momentum", 1)
                        .RequiredAttr("alpha", AttrType::kFloat)
                        .RequiredAttr("beta", AttrType::kFloat)
                        .RequiredAttr("mode", AttrType::kString)
                        .RequiredAttr("norm_coefficient", AttrType::kFloat));
CORTADO_REGISTER_DOMAIN_KERNEL("Momentum", kPreviewTraining, kCpuBackend, 1, kMaxOpset, {},
                               OptimizerFactory(1, Momentum));

}  // namespace cortado
