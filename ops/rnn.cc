// The recurrent family: RNN, GRU and LSTM (ONNX opsets 7..17), with forward, reverse and
// bidirectional directions, per-gate activations (with activation_alpha / activation_beta),
// clip, sequence_lens, initial states, LSTM peepholes and input_forget, GRU
// linear_before_reset, layout 0 and 1 (opset 14) and every optional output.
//
// One kernel class serves all three ops: the input projection X * W^T of every time step is one
// GEMM per direction, then each step multiplies the previous hidden state by R^T (one GEMM for
// the whole batch) and applies the cell's elementwise update to the batch rows still inside
// their sequence. Rows past their sequence length keep their state and leave zeros in Y.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "ops/gemm.h"
#include "ops/registry.h"

namespace cortado {
namespace {

enum class CellKind { kRnn, kGru, kLstm };

int NumGates(CellKind kind) {
  switch (kind) {
    case CellKind::kRnn:
      return 1;
    case CellKind::kGru:
      return 3;
    case CellKind::kLstm:
      return 4;
  }
  return 1;
}

// Activation functions per direction: RNN f; GRU f, g; LSTM f, g, h.
int NumActivations(CellKind kind) {
  switch (kind) {
    case CellKind::kRnn:
      return 1;
    case CellKind::kGru:
      return 2;
    case CellKind::kLstm:
      return 3;
  }
  return 1;
}

const char* OpName(CellKind kind) {
  switch (kind) {
    case CellKind::kRnn:
      return "RNN";
    case CellKind::kGru:
      return "GRU";
    case CellKind::kLstm:
      return "LSTM";
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------------------------

struct Activation {
  enum class Kind {
    kSigmoid,
    kTanh,
    kRelu,
    kAffine,
    kLeakyRelu,
    kThresholdedRelu,
    kScaledTanh,
    kHardSigmoid,
    kElu,
    kSoftsign,
    kSoftplus,
  };
  Kind kind = Kind::kSigmoid;
  float alpha = 0.0f;
  float beta = 0.0f;

  template <typename T>
  T operator()(T x) const {
    const T a = static_cast<T>(alpha), b = static_cast<T>(beta);
    switch (kind) {
      case Kind::kSigmoid:
        return T(1) / (T(1) + std::exp(-x));
      case Kind::kTanh:
        return std::tanh(x);
      case Kind::kRelu:
        return x > T(0) ? x : T(0);
      case Kind::kAffine:
        return a * x + b;
      case Kind::kLeakyRelu:
        return x >= T(0) ? x : a * x;
      case Kind::kThresholdedRelu:
        return x > a ? x : T(0);
      case Kind::kScaledTanh:
        return a * std::tanh(b * x);
      case Kind::kHardSigmoid:
        return std::max(T(0), std::min(T(1), a * x + b));
      case Kind::kElu:
        return x >= T(0) ? x : a * (std::exp(x) - T(1));
      case Kind::kSoftsign:
        return x / (T(1) + std::fabs(x));
      case Kind::kSoftplus:
        return std::log1p(std::exp(x));
    }
    return x;
  }
};

// How an activation name maps to a kind, whether it reads alpha / beta from the attribute lists,
// and the defaults it uses when the lists run out (those of the ONNX operators of the same name).
struct ActivationSpec {
  const char* name;  // lower case
  Activation::Kind kind;
  bool uses_alpha, uses_beta;
  float default_alpha, default_beta;
};

constexpr ActivationSpec kActivationSpecs[] = {
    {"sigmoid", Activation::Kind::kSigmoid, false, false, 0.0f, 0.0f},
    {"tanh", Activation::Kind::kTanh, false, false, 0.0f, 0.0f},
    {"relu", Activation::Kind::kRelu, false, false, 0.0f, 0.0f},
    {"affine", Activation::Kind::kAffine, true, true, 1.0f, 0.0f},
    {"leakyrelu", Activation::Kind::kLeakyRelu, true, false, 0.01f, 0.0f},
    {"thresholdedrelu", Activation::Kind::kThresholdedRelu, true, false, 1.0f, 0.0f},
    {"scaledtanh", Activation::Kind::kScaledTanh, true, true, 1.0f, 1.0f},
    {"hardsigmoid", Activation::Kind::kHardSigmoid, true, true, 0.2f, 0.5f},
    {"elu", Activation::Kind::kElu, true, false, 1.0f, 0.0f},
    {"softsign", Activation::Kind::kSoftsign, false, false, 0.0f, 0.0f},
    {"softplus", Activation::Kind::kSoftplus, false, false, 0.0f, 0.0f},
};

// Parses `activations` (num_activations per direction; a single direction's list is repeated
// for the reverse direction of a bidirectional op), consuming activation_alpha and
// activation_beta in order by the functions that take them, as ONNX Runtime does.
absl::StatusOr<std::vector<Activation>> ParseActivations(CellKind kind, const AttributeMap& attrs,
                                                         int num_directions) {
  const int per_dir = NumActivations(kind);
  std::vector<std::string> names = attrs.GetStrings("activations");
  if (names.empty()) {
    switch (kind) {
      case CellKind::kRnn:
        names = {"Tanh"};
        break;
      case CellKind::kGru:
        names = {"Sigmoid", "Tanh"};
        break;
      case CellKind::kLstm:
        names = {"Sigmoid", "Tanh", "Tanh"};
        break;
    }
  }
  if (static_cast<int>(names.size()) == per_dir && num_directions == 2) {
    const std::vector<std::string> once = names;
    names.insert(names.end(), once.begin(), once.end());
  }
  if (static_cast<int>(names.size()) != per_dir * num_directions) {
    return absl::InvalidArgumentError(absl::StrCat(
        OpName(kind), ": 'activations' must list ", per_dir * num_directions, " functions (",
        per_dir, " per direction), got ", names.size(), " [", absl::StrJoin(names, ","), "]"));
  }
  const std::vector<float> alphas = attrs.GetFloats("activation_alpha");
  const std::vector<float> betas = attrs.GetFloats("activation_beta");
  size_t next_alpha = 0, next_beta = 0;
  std::vector<Activation> out;
  for (const std::string& name : names) {
    const std::string lower = absl::AsciiStrToLower(name);
    const ActivationSpec* spec = nullptr;
    for (const ActivationSpec& s : kActivationSpecs) {
      if (lower == s.name) spec = &s;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(OpName(kind), ": unsupported activation '", name, "'"));
    }
    Activation act{spec->kind, spec->default_alpha, spec->default_beta};
    if (spec->uses_alpha && next_alpha < alphas.size()) act.alpha = alphas[next_alpha++];
    if (spec->uses_beta && next_beta < betas.size()) act.beta = betas[next_beta++];
    out.push_back(act);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Type and shape inference
// ---------------------------------------------------------------------------------------------

int NumDirections(const AttributeMap& attrs) {
  return attrs.GetString("direction", "forward") == "bidirectional" ? 2 : 1;
}

absl::Status InferRecurrent(CellKind kind, InferenceContext& ctx) {
  const TensorType& x = ctx.input(0);
  const int layout = ctx.opset() >= 14 ? static_cast<int>(ctx.attrs().GetInt("layout", 0)) : 0;
  const int64_t nd = NumDirections(ctx.attrs());
  int64_t seq = -1, batch = -1, hidden = -1;
  if (x.shape && x.shape->size() == 3) {
    seq = (*x.shape)[layout == 0 ? 0 : 1];
    batch = (*x.shape)[layout == 0 ? 1 : 0];
  }
  if (ctx.attrs().Has("hidden_size")) {
    hidden = ctx.attrs().GetInt("hidden_size");
  } else if (ctx.input(2).shape && ctx.input(2).shape->size() == 3) {
    hidden = (*ctx.input(2).shape)[2];
  }
  const Shape y = layout == 0 ? Shape{seq, nd, batch, hidden} : Shape{batch, seq, nd, hidden};
  const Shape state = layout == 0 ? Shape{nd, batch, hidden} : Shape{batch, nd, hidden};
  ctx.set_output(0, TensorType{x.dtype, y});
  ctx.set_output(1, TensorType{x.dtype, state});
  if (kind == CellKind::kLstm) ctx.set_output(2, TensorType{x.dtype, state});
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Kernel
// ---------------------------------------------------------------------------------------------

// Input slots.
constexpr int kX = 0, kW = 1, kR = 2, kB = 3, kSeqLens = 4, kInitialH = 5, kInitialC = 6,
              kPeepholes = 7;

absl::Status CheckShape(const Tensor* t, const Shape& want, const char* op, const char* what) {
  if (t->shape() != want) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", what, " must have shape ",
                                                   ShapeToString(want), ", got ",
                                                   ShapeToString(t->shape())));
  }
  return absl::OkStatus();
}

class RecurrentKernel : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(CellKind kind, const KernelInfo& info) {
    const AttributeMap& attrs = *info.attrs;
    const std::string direction = attrs.GetString("direction", "forward");
    if (direction != "forward" && direction != "reverse" && direction != "bidirectional") {
      return absl::InvalidArgumentError(
          absl::StrCat(OpName(kind), ": direction must be forward, reverse or bidirectional, got '",
                       direction, "'"));
    }
    std::unique_ptr<RecurrentKernel> k(new RecurrentKernel());
    k->kind_ = kind;
    k->num_directions_ = direction == "bidirectional" ? 2 : 1;
    k->reverse_ = direction == "reverse";
    k->hidden_size_ = attrs.Has("hidden_size") ? attrs.GetInt("hidden_size") : -1;
    if (attrs.Has("hidden_size") && k->hidden_size_ <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(OpName(kind), ": hidden_size must be positive, got ", k->hidden_size_));
    }
    if (attrs.Has("clip")) {
      k->clip_ = attrs.GetFloat("clip");
      if (!(*k->clip_ > 0.0f)) {
        return absl::InvalidArgumentError(
            absl::StrCat(OpName(kind), ": clip must be positive, got ", *k->clip_));
      }
    }
    k->layout_ = info.opset >= 14 ? attrs.GetInt("layout", 0) : 0;
    if (k->layout_ != 0 && k->layout_ != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(OpName(kind), ": layout must be 0 or 1, got ", k->layout_));
    }
    k->linear_before_reset_ = attrs.GetInt("linear_before_reset", 0) != 0;
    k->input_forget_ = attrs.GetInt("input_forget", 0) != 0;
    ASSIGN_OR_RETURN(k->activations_, ParseActivations(kind, attrs, k->num_directions_));
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override;

 private:
  RecurrentKernel() = default;

  // Dimensions of one call, after validation.
  struct Dims {
    int64_t seq, batch, input, hidden;
  };

  template <typename T>
  absl::Status ComputeTyped(KernelContext& ctx, const Dims& dims,
                            const std::vector<int64_t>& lens) const;

  // Offset of (direction d, batch b) in a [nd, batch, H] (layout 0) or [batch, nd, H] state.
  int64_t StateOffset(const Dims& dims, int d, int64_t b) const {
    return (layout_ == 0 ? d * dims.batch + b : b * num_directions_ + d) * dims.hidden;
  }
  // Offset of (time t, direction d, batch b) in Y.
  int64_t OutputOffset(const Dims& dims, int64_t t, int d, int64_t b) const {
    return (layout_ == 0 ? (t * num_directions_ + d) * dims.batch + b
                         : (b * dims.seq + t) * num_directions_ + d) *
           dims.hidden;
  }
  template <typename T>
  T Clip(T v) const {
    if (!clip_) return v;
    const T c = static_cast<T>(*clip_);
    return std::max(-c, std::min(c, v));
  }

  CellKind kind_ = CellKind::kRnn;
  int num_directions_ = 1;
  bool reverse_ = false;
  int64_t hidden_size_ = -1;
  std::optional<float> clip_;
  int64_t layout_ = 0;
  bool linear_before_reset_ = false;
  bool input_forget_ = false;
  std::vector<Activation> activations_;  // NumActivations(kind_) per direction
};

absl::Status RecurrentKernel::Compute(KernelContext& ctx) const {
  const char* op = OpName(kind_);
  ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(kX));
  ASSIGN_OR_RETURN(const Tensor* w, ctx.RequiredInput(kW));
  ASSIGN_OR_RETURN(const Tensor* r, ctx.RequiredInput(kR));
  if (x->rank() != 3 || w->rank() != 3 || r->rank() != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": X, W and R must have rank 3, got ", ShapeToString(x->shape()), ", ",
                     ShapeToString(w->shape()), ", ", ShapeToString(r->shape())));
  }
  const DType dtype = x->dtype();
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor* t = ctx.input(i);
    if (t != nullptr && i != kSeqLens && t->dtype() != dtype) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": input ", i, " has dtype ",
                                                     DTypeName(t->dtype()), ", expected ",
                                                     DTypeName(dtype), " like X"));
    }
  }
  const int64_t g = NumGates(kind_);
  const int64_t nd = num_directions_;
  Dims dims;
  dims.seq = x->dim(layout_ == 0 ? 0 : 1);
  dims.batch = x->dim(layout_ == 0 ? 1 : 0);
  dims.input = x->dim(2);
  dims.hidden = hidden_size_ > 0 ? hidden_size_ : r->dim(2);
  const int64_t h = dims.hidden;
  RETURN_IF_ERROR(CheckShape(w, {nd, g * h, dims.input}, op, "W"));
  RETURN_IF_ERROR(CheckShape(r, {nd, g * h, h}, op, "R"));
  if (const Tensor* b = ctx.input(kB)) RETURN_IF_ERROR(CheckShape(b, {nd, 2 * g * h}, op, "B"));
  const Shape state = layout_ == 0 ? Shape{nd, dims.batch, h} : Shape{dims.batch, nd, h};
  if (const Tensor* t = ctx.input(kInitialH))
    RETURN_IF_ERROR(CheckShape(t, state, op, "initial_h"));
  if (kind_ == CellKind::kLstm) {
    if (const Tensor* t = ctx.input(kInitialC)) {
      RETURN_IF_ERROR(CheckShape(t, state, op, "initial_c"));
    }
    if (const Tensor* t = ctx.input(kPeepholes))
      RETURN_IF_ERROR(CheckShape(t, {nd, 3 * h}, op, "P"));
  }
  std::vector<int64_t> lens(dims.batch, dims.seq);
  if (const Tensor* t = ctx.input(kSeqLens)) {
    if (t->dtype() != DType::kInt32 && t->dtype() != DType::kInt64) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": sequence_lens must be int32, got ", DTypeName(t->dtype())));
    }
    RETURN_IF_ERROR(CheckShape(t, {dims.batch}, op, "sequence_lens"));
    ASSIGN_OR_RETURN(lens, t->ToInt64Vector());
    for (int64_t len : lens) {
      if (len < 0 || len > dims.seq) {
        return absl::InvalidArgumentError(
            absl::StrCat(op, ": sequence_lens values must be in [0, ", dims.seq, "], got ", len));
      }
    }
  }
  return VisitDType(dtype, DTypeSet::kFloat, op, [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      return ComputeTyped<T>(ctx, dims, lens);
    }
    return absl::InvalidArgumentError(absl::StrCat(op, ": unsupported dtype"));
  });
}

template <typename T>
absl::Status RecurrentKernel::ComputeTyped(KernelContext& ctx, const Dims& dims,
                                           const std::vector<int64_t>& lens) const {
  const int64_t g = NumGates(kind_);
  const int64_t h = dims.hidden, batch = dims.batch, seq = dims.seq, gh = g * h;
  const int nd = num_directions_;
  const Shape state_shape = layout_ == 0 ? Shape{nd, batch, h} : Shape{batch, nd, h};
  const Shape y_shape = layout_ == 0 ? Shape{seq, nd, batch, h} : Shape{batch, seq, nd, h};

  // Every requested output is produced; the plan drops the ones nobody reads.
  T* y = nullptr;
  T* y_h = nullptr;
  T* y_c = nullptr;
  const DType dt = DTypeOf<T>::value;
  if (ctx.num_outputs() > 0) {
    ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(0, dt, y_shape));
    y = t->template data<T>();
    std::fill(y, y + t->num_elements(), T(0));
  }
  if (ctx.num_outputs() > 1) {
    ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(1, dt, state_shape));
    y_h = t->template data<T>();
  }
  if (kind_ == CellKind::kLstm && ctx.num_outputs() > 2) {
    ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(2, dt, state_shape));
    y_c = t->template data<T>();
  }

  // X in time-major order [seq, batch, input].
  const T* x = ctx.input(kX)->template data<T>();
  std::vector<T> x_time_major;
  if (layout_ == 1) {
    x_time_major.resize(seq * batch * dims.input);
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t t = 0; t < seq; ++t) {
        std::copy_n(x + (b * seq + t) * dims.input, dims.input,
                    x_time_major.data() + (t * batch + b) * dims.input);
      }
    }
    x = x_time_major.data();
  }
  const T* w_all = ctx.input(kW)->template data<T>();
  const T* r_all = ctx.input(kR)->template data<T>();
  const Tensor* b_in = ctx.input(kB);
  const Tensor* h0_in = ctx.input(kInitialH);
  const Tensor* c0_in = kind_ == CellKind::kLstm ? ctx.input(kInitialC) : nullptr;
  const Tensor* p_in = kind_ == CellKind::kLstm ? ctx.input(kPeepholes) : nullptr;
  const int64_t max_len = lens.empty() ? 0 : *std::max_element(lens.begin(), lens.end());

  std::vector<T> xw(seq * batch * gh), hr(batch * gh), hs(batch * h), cs(batch * h),
      reset_h(batch * h, T(0)), zeros(2 * gh, T(0)), no_peepholes(3 * h, T(0));
  const bool gru_reset_first = kind_ == CellKind::kGru && !linear_before_reset_;
  for (int d = 0; d < nd; ++d) {
    const bool reverse = reverse_ || d == 1;
    const Activation* act = &activations_[d * NumActivations(kind_)];
    const T* w = w_all + d * gh * dims.input;
    const T* r = r_all + d * gh * h;
    const T* wb = b_in ? b_in->template data<T>() + d * 2 * gh : zeros.data();
    const T* rb = wb + gh;
    const T* p = p_in ? p_in->template data<T>() + d * 3 * h : no_peepholes.data();
    // Input projection of every step at once: xw[t * batch + b] = X[t, b] * W^T.
    Gemm<T>(false, true, seq * batch, gh, dims.input, T(1), x, dims.input, w, dims.input, T(0),
            xw.data(), gh);
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t off = StateOffset(dims, d, b);
      for (int64_t j = 0; j < h; ++j) {
        hs[b * h + j] = h0_in ? h0_in->template data<T>()[off + j] : T(0);
        cs[b * h + j] = c0_in ? c0_in->template data<T>()[off + j] : T(0);
      }
    }
    for (int64_t s = 0; s < max_len; ++s) {
      // hr[b] = H[b] * R^T; GRU without linear_before_reset multiplies the h gate's R only
      // after the reset gate is known.
      Gemm<T>(false, true, batch, gru_reset_first ? 2 * h : gh, h, T(1), hs.data(), h, r, h, T(0),
              hr.data(), gh);
      auto time_of = [&](int64_t b) { return reverse ? lens[b] - 1 - s : s; };
      if (gru_reset_first) {
        for (int64_t b = 0; b < batch; ++b) {
          if (s >= lens[b]) continue;
          const T* xg = xw.data() + (time_of(b) * batch + b) * gh;
          const T* hg = hr.data() + b * gh;
          for (int64_t j = 0; j < h; ++j) {
            const T rt = act[0](Clip(xg[h + j] + hg[h + j] + wb[h + j] + rb[h + j]));
            reset_h[b * h + j] = rt * hs[b * h + j];
          }
        }
        Gemm<T>(false, true, batch, h, h, T(1), reset_h.data(), h, r + 2 * h * h, h, T(0),
                hr.data() + 2 * h, gh);
      }
      for (int64_t b = 0; b < batch; ++b) {
        if (s >= lens[b]) continue;
        const int64_t t = time_of(b);
        const T* xg = xw.data() + (t * batch + b) * gh;
        const T* hg = hr.data() + b * gh;
        T* hb = hs.data() + b * h;
        T* cb = cs.data() + b * h;
        for (int64_t j = 0; j < h; ++j) {
          auto pre = [&](int gate) {
            const int64_t k = gate * h + j;
            return xg[k] + hg[k] + wb[k] + rb[k];
          };
          switch (kind_) {
            case CellKind::kRnn:
              hb[j] = act[0](Clip(pre(0)));
              break;
            case CellKind::kGru: {
              const T z = act[0](Clip(pre(0)));
              T cand;
              if (linear_before_reset_) {
                const T rt = act[0](Clip(pre(1)));
                cand = xg[2 * h + j] + wb[2 * h + j] + rt * (hg[2 * h + j] + rb[2 * h + j]);
              } else {
                cand = pre(2);
              }
              const T ht = act[1](Clip(cand));
              hb[j] = (T(1) - z) * ht + z * hb[j];
              break;
            }
            case CellKind::kLstm: {
              // Gate order i, o, f, c; peepholes i, o, f.
              const T c_prev = cb[j];
              const T it = act[0](Clip(pre(0) + p[j] * c_prev));
              const T ft = input_forget_ ? T(1) - it : act[0](Clip(pre(2) + p[2 * h + j] * c_prev));
              const T ct = act[1](Clip(pre(3)));
              const T c_new = ft * c_prev + it * ct;
              const T ot = act[0](Clip(pre(1) + p[h + j] * c_new));
              cb[j] = c_new;
              hb[j] = ot * act[2](c_new);
              break;
            }
          }
        }
        if (y != nullptr) std::copy_n(hb, h, y + OutputOffset(dims, t, d, b));
      }
    }
    for (int64_t b = 0; b < batch; ++b) {
      // A batch row with an empty sequence reports zero states, as ONNX Runtime does.
      const bool empty = lens[b] == 0;
      for (int64_t j = 0; j < h; ++j) {
        if (y_h) y_h[StateOffset(dims, d, b) + j] = empty ? T(0) : hs[b * h + j];
        if (y_c) y_c[StateOffset(dims, d, b) + j] = empty ? T(0) : cs[b * h + j];
      }
    }
  }
  return absl::OkStatus();
}

KernelFactory RecurrentFactory(CellKind kind) {
  return [kind](const KernelInfo& info) { return RecurrentKernel::Create(kind, info); };
}

// Attributes shared by the three ops.
OpSchema RecurrentSchema(CellKind kind) {
  OpSchema s(OpName(kind));
  s.Versions(7)
      .Inputs(3, kind == CellKind::kLstm ? 8 : 6)
      .Outputs(0, kind == CellKind::kLstm ? 3 : 2)
      .OptionalAttr("activation_alpha", AttrType::kFloats)
      .OptionalAttr("activation_beta", AttrType::kFloats)
      .OptionalAttr("activations", AttrType::kStrings)
      .OptionalAttr("clip", AttrType::kFloat)
      .Attr("direction", std::string("forward"))
      .OptionalAttr("hidden_size", AttrType::kInt)
      .Attr("layout", int64_t{0})
      .Infer([kind](InferenceContext& ctx) { return InferRecurrent(kind, ctx); });
  if (kind == CellKind::kGru) s.Attr("linear_before_reset", int64_t{0});
  if (kind == CellKind::kLstm) s.Attr("input_forget", int64_t{0});
  return s;
}

}  // namespace

CORTADO_REGISTER_OP(RecurrentSchema(CellKind::kRnn));
CORTADO_REGISTER_OP(RecurrentSchema(CellKind::kGru));
CORTADO_REGISTER_OP(RecurrentSchema(CellKind::kLstm));
CORTADO_REGISTER_KERNEL("RNN", kCpuBackend, 7, kMaxOpset, FloatTypes(),
                        RecurrentFactory(CellKind::kRnn));
CORTADO_REGISTER_KERNEL("GRU", kCpuBackend, 7, kMaxOpset, FloatTypes(),
                        RecurrentFactory(CellKind::kGru));
CORTADO_REGISTER_KERNEL("LSTM", kCpuBackend, 7, kMaxOpset, FloatTypes(),
                        RecurrentFactory(CellKind::kLstm));

}  // namespace cortado
