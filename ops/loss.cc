// Loss operators: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opsets 12-17), with
// their schemas and reference CPU kernels. Both take scores [N, C, d1..dk], integer targets
// [N, d1..dk] and optional class weights [C]; SoftmaxCrossEntropyLoss is the NLL loss of the
// log-softmax over C, which it can also return. Sums run in double. SoftmaxCrossEntropyLossGrad
// (kTrainingDomain) is its gradient for the eager frontend's backward pass.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "core/thread_pool.h"
#include "ops/reduce.h"
#include "ops/registry.h"

namespace cortado {
namespace {

enum class Reduction { kNone, kSum, kMean };

template <typename T>
double AsDouble(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return v;
  } else {
    return static_cast<float>(v);  // Half, BFloat16
  }
}

template <typename T>
T FromDouble(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    return T(static_cast<float>(v));
  }
}

// The attributes both losses share, read once when the kernel is created.
struct LossAttrs {
  std::string op;
  std::string reduction;
  std::optional<int64_t> ignore_index;

  explicit LossAttrs(const KernelInfo& info)
      : op(info.op_type), reduction(info.attrs->GetString("reduction", "mean")) {
    if (info.attrs->Has("ignore_index")) ignore_index = info.attrs->GetInt("ignore_index");
  }

  absl::StatusOr<Reduction> ParsedReduction() const {
    if (reduction == "none") return Reduction::kNone;
    if (reduction == "sum") return Reduction::kSum;
    if (reduction == "mean") return Reduction::kMean;
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": reduction must be none, sum or mean, got '", reduction, "'"));
  }
};

// Checks scores [N, C, d1..dk], target [N, d1..dk] (int32 or int64) and weight [C] (or null).
absl::Status CheckLossInputs(absl::string_view op, const Tensor& x, const Tensor& target,
                             const Tensor* weight) {
  const Shape& xs = x.shape();
  bool ok = x.rank() >= 2 && target.rank() == x.rank() - 1 && target.dim(0) == xs[0];
  for (int d = 2; ok && d < x.rank(); ++d) ok = target.dim(d - 1) == xs[d];
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": scores ", ShapeToString(xs),
                                                   " must be [N, C, d1..dk] and target [N, d1..dk]"
                                                   ", got target ",
                                                   ShapeToString(target.shape())));
  }
  if (target.dtype() != DType::kInt32 && target.dtype() != DType::kInt64) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": target must be int32 or int64, got ", DTypeName(target.dtype())));
  }
  if (weight != nullptr && (weight->dtype() != x.dtype() || weight->shape() != Shape{xs[1]})) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": weight must be ", DTypeName(x.dtype()), " [", xs[1], "], got ",
                     DTypeName(weight->dtype()), " ", ShapeToString(weight->shape())));
  }
  return absl::OkStatus();
}

// loss[n, d] = -logp[n, target[n, d], d] * weight[target[n, d]], and 0 with weight 0 where the
// target is ignore_index; then none (per element), sum, or mean (sum / sum of the weights).
template <typename T, typename I>
absl::Status NllLoss(const LossAttrs& attrs, Reduction reduction, const Tensor& logp,
                     const Tensor& target, const Tensor* weight, Tensor& out) {
  const int64_t n = logp.dim(0), c = logp.dim(1);
  const int64_t d_size = n == 0 ? 0 : target.num_elements() / n;
  const T* x = logp.data<T>();
  const I* t = target.data<I>();
  double total = 0, weight_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t d = 0; d < d_size; ++d) {
      const int64_t cls = t[i * d_size + d];
      double loss = 0, w = 0;
      if (!(attrs.ignore_index && cls == *attrs.ignore_index)) {
        if (cls < 0 || cls >= c) {
          return absl::InvalidArgumentError(
              absl::StrCat(attrs.op, ": target ", cls, " is out of range for ", c, " classes"));
        }
        w = weight != nullptr ? AsDouble(weight->data<T>()[cls]) : 1.0;
        loss = -AsDouble(x[(i * c + cls) * d_size + d]) * w;
      }
      if (reduction == Reduction::kNone) out.data<T>()[i * d_size + d] = FromDouble<T>(loss);
      total += loss;
      weight_sum += w;
    }
  }
  if (reduction == Reduction::kSum) out.data<T>()[0] = FromDouble<T>(total);
  if (reduction == Reduction::kMean) {
    out.data<T>()[0] = FromDouble<T>(weight_sum == 0 ? std::numeric_limits<double>::quiet_NaN()
                                                     : total / weight_sum);
  }
  return absl::OkStatus();
}

// Validates the inputs, allocates output 0 and runs NllLoss on `logp` (the scores themselves for
// NegativeLogLikelihoodLoss). `make_logp` turns the scores into log-probabilities.
template <typename MakeLogp>
absl::Status ComputeLoss(const LossAttrs& attrs, KernelContext& ctx, MakeLogp make_logp) {
  ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
  ASSIGN_OR_RETURN(const Tensor* target, ctx.RequiredInput(1));
  const Tensor* weight = ctx.input(2);
  if (weight != nullptr && !weight->defined()) weight = nullptr;
  RETURN_IF_ERROR(CheckLossInputs(attrs.op, *x, *target, weight));
  ASSIGN_OR_RETURN(Reduction reduction, attrs.ParsedReduction());
  return VisitDType(x->dtype(), DTypeSet::kAll, attrs.op, [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, Half> ||
                  std::is_same_v<T, BFloat16>) {
      ASSIGN_OR_RETURN(Tensor logp, make_logp(*x));
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(
                                       0, x->dtype(),
                                       reduction == Reduction::kNone ? target->shape() : Shape{}));
      if (target->dtype() == DType::kInt32) {
        return NllLoss<T, int32_t>(attrs, reduction, logp, *target, weight, *y);
      }
      return NllLoss<T, int64_t>(attrs, reduction, logp, *target, weight, *y);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(attrs.op, ": unsupported dtype ", DTypeName(x->dtype())));
    }
  });
}

class NllLossKernel final : public Kernel {
 public:
  explicit NllLossKernel(const KernelInfo& info) : attrs_(info) {}

  absl::Status Compute(KernelContext& ctx) const override {
    return ComputeLoss(attrs_, ctx, [](const Tensor& x) -> absl::StatusOr<Tensor> { return x; });
  }

 private:
  const LossAttrs attrs_;
};

class SoftmaxCrossEntropyKernel final : public Kernel {
 public:
  explicit SoftmaxCrossEntropyKernel(const KernelInfo& info) : attrs_(info) {}

  absl::Status Compute(KernelContext& ctx) const override {
    return ComputeLoss(attrs_, ctx, [&](const Tensor& x) -> absl::StatusOr<Tensor> {
      // Output 1, when requested, is the log-probability itself.
      Tensor logp;
      if (ctx.num_outputs() > 1) {
        ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(1, x.dtype(), x.shape()));
        logp = *out;
      } else {
        ASSIGN_OR_RETURN(logp, Tensor::Create(x.dtype(), x.shape(), ctx.allocator()));
      }
      RETURN_IF_ERROR(LogSoftmaxAlongAxis(x, 1, logp));
      return logp;
    });
  }

 private:
  const LossAttrs attrs_;
};

// SoftmaxCrossEntropyLossGrad (training domain): the gradient of SoftmaxCrossEntropyLoss without
// weights with respect to its scores, from the forward op's log-probabilities:
//   dX[n, c, d] = (exp(log_prob[n, c, d]) - (c == labels[n, d])) * g[n, d],
// with g = dLoss[n, d] (reduction none), dLoss (sum) or dLoss / count of non-ignored labels
// (mean), and g = 0 where the label is ignore_index.
absl::Status InferLossGrad(InferenceContext& ctx) {
  const TensorType& dloss = ctx.input(0);
  const TensorType& logp = ctx.input(1);
  if (dloss.dtype != DType::kUndefined && logp.dtype != DType::kUndefined &&
      dloss.dtype != logp.dtype) {
    return absl::InvalidArgumentError(absl::StrCat("dLoss has dtype ", DTypeName(dloss.dtype),
                                                   " but log_prob has ", DTypeName(logp.dtype)));
  }
  ctx.set_output(0, logp);
  return absl::OkStatus();
}

template <typename T, typename I>
absl::Status SoftmaxCrossEntropyGrad(const LossAttrs& attrs, Reduction reduction,
                                     const Tensor& dloss, const Tensor& logp, const Tensor& labels,
                                     Tensor& dx) {
  const int64_t n = logp.dim(0), c = logp.dim(1);
  const int64_t d_size = n == 0 ? 0 : labels.num_elements() / n;
  const I* t = labels.data<I>();
  int64_t count = 0;
  for (int64_t i = 0; i < labels.num_elements(); ++i) {
    const int64_t cls = t[i];
    if (attrs.ignore_index && cls == *attrs.ignore_index) continue;
    if (cls < 0 || cls >= c) {
      return absl::InvalidArgumentError(
          absl::StrCat(attrs.op, ": label ", cls, " is out of range for ", c, " classes"));
    }
    ++count;
  }
  const T* x = logp.data<T>();
  const T* g = dloss.data<T>();
  T* out = dx.data<T>();
  // The factor every non-ignored position's gradient is scaled by (all positions are ignored
  // when count is 0 under mean, so the factor is then unused).
  const double shared = reduction == Reduction::kNone ? 1.0
                        : reduction == Reduction::kSum
                            ? static_cast<double>(g[0])
                            : (count > 0 ? static_cast<double>(g[0]) / count : 0.0);
  // Rows over the intra-op threads; every element is computed on its own.
  ParallelFor(n, std::max<int64_t>(1, 8192 / std::max<int64_t>(1, c * d_size)),
              [&](int64_t begin, int64_t end) {
                for (int64_t i = begin; i < end; ++i) {
                  for (int64_t d = 0; d < d_size; ++d) {
                    const int64_t cls = t[i * d_size + d];
                    const bool ignored = attrs.ignore_index && cls == *attrs.ignore_index;
                    const double scale = ignored ? 0.0
                                         : reduction == Reduction::kNone
                                             ? static_cast<double>(g[i * d_size + d])
                                             : shared;
                    T* row = out + i * c * d_size + d;
                    const T* xrow = x + i * c * d_size + d;
                    for (int64_t k = 0; k < c; ++k) {
                      const double p = std::exp(static_cast<double>(xrow[k * d_size]));
                      row[k * d_size] =
                          static_cast<T>(ignored ? 0.0 : (p - (k == cls ? 1.0 : 0.0)) * scale);
                    }
                  }
                }
              });
  return absl::OkStatus();
}

class SoftmaxCrossEntropyGradKernel final : public Kernel {
 public:
  explicit SoftmaxCrossEntropyGradKernel(const KernelInfo& info) : attrs_(info) {}

  absl::Status Compute(KernelContext& ctx) const override {
    const std::string& op = attrs_.op;
    ASSIGN_OR_RETURN(const Tensor* dloss, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* logp, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* labels, ctx.RequiredInput(2));
    RETURN_IF_ERROR(CheckLossInputs(op, *logp, *labels, nullptr));
    ASSIGN_OR_RETURN(Reduction reduction, attrs_.ParsedReduction());
    if (dloss->dtype() != logp->dtype()) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": dLoss has dtype ", DTypeName(dloss->dtype()), " but log_prob has ",
                       DTypeName(logp->dtype())));
    }
    if (reduction == Reduction::kNone ? dloss->shape() != labels->shape()
                                      : dloss->num_elements() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": dLoss must be ",
          reduction == Reduction::kNone ? ShapeToString(labels->shape()) + " (labels' shape)"
                                        : std::string("a scalar"),
          " for reduction ", attrs_.reduction, ", got ", ShapeToString(dloss->shape())));
    }
    ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, logp->dtype(), logp->shape()));
    auto run = [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      if (labels->dtype() == DType::kInt32) {
        return SoftmaxCrossEntropyGrad<T, int32_t>(attrs_, reduction, *dloss, *logp, *labels, *dx);
      }
      return SoftmaxCrossEntropyGrad<T, int64_t>(attrs_, reduction, *dloss, *logp, *labels, *dx);
    };
    if (logp->dtype() == DType::kFloat32) return run(TypeTag<float>{});
    if (logp->dtype() == DType::kFloat64) return run(TypeTag<double>{});
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": unsupported dtype ", DTypeName(logp->dtype())));
  }

 private:
  const LossAttrs attrs_;
};

absl::Status InferLoss(InferenceContext& ctx) {
  const TensorType& x = ctx.input(0);
  TensorType loss{x.dtype, Shape{}};
  if (ctx.attrs().GetString("reduction", "mean") == "none") loss.shape = ctx.input(1).shape;
  ctx.set_output(0, loss);
  ctx.set_output(1, x);
  return absl::OkStatus();
}

OpSchema LossSchema(const std::string& name, int max_outputs) {
  return OpSchema(name)
      .Versions(12)
      .Inputs(2, 3)
      .Outputs(1, max_outputs)
      .Attr("reduction", std::string("mean"))
      .OptionalAttr("ignore_index", AttrType::kInt)
      .Infer(InferLoss);
}

std::vector<DType> LossTypes() {
  return {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16};
}

CORTADO_REGISTER_OP(LossSchema("NegativeLogLikelihoodLoss", 1));
CORTADO_REGISTER_KERNEL("NegativeLogLikelihoodLoss", kCpuBackend, 12, kMaxOpset, LossTypes(),
                        MakeFactory<NllLossKernel>());
CORTADO_REGISTER_OP(LossSchema("SoftmaxCrossEntropyLoss", 2));
CORTADO_REGISTER_KERNEL("SoftmaxCrossEntropyLoss", kCpuBackend, 12, kMaxOpset, LossTypes(),
                        MakeFactory<SoftmaxCrossEntropyKernel>());

// Gradient operator of the eager frontend's backward pass (kTrainingDomain, opsets 1..kMaxOpset).
CORTADO_REGISTER_OP(OpSchema("SoftmaxCrossEntropyLossGrad", kTrainingDomain)
                        .Versions(1)
                        .Inputs(3, 3)
                        .Outputs(1, 1)
                        .Attr("reduction", std::string("mean"))
                        .OptionalAttr("ignore_index", AttrType::kInt)
                        .Infer(InferLossGrad));
CORTADO_REGISTER_TRAINING_KERNEL("SoftmaxCrossEntropyLossGrad", FloatTypes(),
                                 MakeFactory<SoftmaxCrossEntropyGradKernel>());

}  // namespace
}  // namespace cortado
