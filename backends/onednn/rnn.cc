// ONNX LSTM, GRU (both linear_before_reset settings) and RNN on oneDNN: forward, reverse or
// bidirectional, time-major (layout 0), the default activations (RNN: Tanh, Relu or Sigmoid, the
// same in both directions), constant weights and bias (gates reordered and packed once); no
// sequence_lens, peepholes, clip, activation parameters or input_forget. An LSTM batch of at
// most 8 runs on cpu_opt's LSTM (backends/cpu/rnn.cc) where that kernel takes the node: on
// bench/model_bench's lstm (two layers of 256 units over 32 steps; both kernels in one process,
// taking turns, on an AVX2 Zen 1 at one thread) cpu_opt took 18.8 ms at batch 8 to oneDNN's 22.5,
// and 10.7 ms at batch 4 to its 10.6.
#include "backends/onednn/onednn_util.h"
#include "ops/registry.h"

namespace cortado {
namespace onednn {
namespace {

// What differs between the cells: oneDNN's gate order against ONNX's, and the bias layout.
struct Cell {
  std::string op;
  int gates;
  std::vector<int> onnx_gate_of;         // oneDNN gate g is ONNX gate onnx_gate_of[g]
  std::vector<std::string> activations;  // ONNX's defaults, one direction
};

const Cell& CellOf(const std::string& op) {
  // LSTM: ONNX stacks i, o, f, c and oneDNN takes i, f, c, o; GRU: both z (u), r, h (o).
  static const Cell* lstm = new Cell{"LSTM", 4, {0, 2, 3, 1}, {"Sigmoid", "Tanh", "Tanh"}};
  static const Cell* gru = new Cell{"GRU", 3, {0, 1, 2}, {"Sigmoid", "Tanh"}};
  static const Cell* rnn = new Cell{"RNN", 1, {0}, {"Tanh"}};
  return op == "LSTM" ? *lstm : op == "GRU" ? *gru : *rnn;
}

class RnnKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const Cell& cell = CellOf(info.op_type);
    const std::vector<const Tensor*>& c = info.constant_inputs;
    auto absent = [&](size_t i) {
      return i >= info.input_dtypes.size() || info.input_dtypes[i] == DType::kUndefined;
    };
    const AttributeMap& a = *info.attrs;
    const std::string direction = a.GetString("direction", "forward");
    const int64_t dirs = direction == "bidirectional" ? 2 : 1;
    auto constant_f32 = [&](size_t i, int rank) {
      return i < c.size() && c[i] != nullptr && c[i]->dtype() == DType::kFloat32 &&
             c[i]->rank() == rank && c[i]->dim(0) == dirs;
    };
    // The activations, when given, must be the defaults (or, for RNN, one of oneDNN's three in
    // every direction).
    std::string rnn_activation = "Tanh";
    bool activations_ok = true;
    if (a.Has("activations")) {
      const std::vector<std::string> given = a.GetStrings("activations");
      activations_ok = given.size() == cell.activations.size() * dirs;
      for (size_t i = 0; activations_ok && i < given.size(); ++i) {
        if (cell.op == "RNN") {
          rnn_activation = given[0];
          activations_ok = given[i] == given[0] &&
                           (given[0] == "Tanh" || given[0] == "Relu" || given[0] == "Sigmoid");
        } else {
          activations_ok = given[i] == cell.activations[i % cell.activations.size()];
        }
      }
    }
    if (!IsF32(info, 0) || !constant_f32(1, 3) || !constant_f32(2, 3) ||
        !(absent(3) || constant_f32(3, 2)) || !absent(4) || (cell.op == "LSTM" && !absent(7)) ||
        (direction != "forward" && direction != "reverse" && direction != "bidirectional") ||
        a.GetInt("layout", 0) != 0 || a.GetInt("input_forget", 0) != 0 || a.Has("clip") ||
        a.Has("activation_alpha") || a.Has("activation_beta") || !activations_ok) {
      return Unimplemented(cell.op,
                           "default activations, constant weights, time-major, no sequence_lens, "
                           "peepholes, clip or input_forget");
    }
    const Tensor& w = *c[1];
    const Tensor& r = *c[2];
    const int64_t h = r.dim(2), input = w.dim(2), gates = cell.gates;
    if (w.dim(1) != gates * h || r.dim(1) != gates * h ||
        (!absent(3) && c[3]->dim(1) != 2 * gates * h) ||
        (a.Has("hidden_size") && a.GetInt("hidden_size") != h)) {
      return Unimplemented(cell.op, "weights that do not match hidden_size");
    }
    std::unique_ptr<RnnKernel> k(new RnnKernel());
    k->cell_ = &cell;
    k->hidden_ = h;
    k->input_ = input;
    k->dirs_ = dirs;
    k->direction_ = direction == "bidirectional" ? dnnl::rnn_direction::bidirectional_concat
                    : direction == "reverse"     ? dnnl::rnn_direction::unidirectional_right2left
                                                 : dnnl::rnn_direction::unidirectional_left2right;
    k->linear_before_reset_ = cell.op == "GRU" && a.GetInt("linear_before_reset", 0) != 0;
    k->activation_ = rnn_activation == "Relu"      ? dnnl::algorithm::eltwise_relu
                     : rnn_activation == "Sigmoid" ? dnnl::algorithm::eltwise_logistic
                                                   : dnnl::algorithm::eltwise_tanh;
    k->weights_layer_ = std::make_unique<PackedWeights>(
        k->ToLdigo(w, input), memory::desc({1, dirs, input, gates, h}, kF32, Tag::ldigo));
    k->weights_iter_ = std::make_unique<PackedWeights>(
        k->ToLdigo(r, h), memory::desc({1, dirs, h, gates, h}, kF32, Tag::ldigo));
    k->bias_ = k->ToLdgo(absent(3) ? nullptr : c[3]);
    if (cell.op == "LSTM") {
      absl::StatusOr<std::unique_ptr<Kernel>> small = FallbackKernel(info, /*reference=*/false);
      if (small.ok()) k->small_batch_ = *std::move(small);
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    const std::string& op = cell_->op;
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() != 3 || x->dtype() != DType::kFloat32 || x->dim(2) != input_) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": X must be float32 [seq, batch, ",
                                                     input_, "], got ", ShapeToString(x->shape())));
    }
    const int64_t t = x->dim(0), n = x->dim(1), h = hidden_;
    if (small_batch_ != nullptr && n < Threshold(9)) return small_batch_->Compute(ctx);
    const bool lstm = op == "LSTM";
    const Tensor* init[2] = {ctx.input(5), lstm ? ctx.input(6) : nullptr};
    for (const Tensor* s : init) {
      if (s != nullptr && s->shape() != Shape{dirs_, n, h}) {
        return absl::InvalidArgumentError(absl::StrCat(op, ": an initial state must have shape [",
                                                       dirs_, ", ", n, ", ", h, "], got ",
                                                       ShapeToString(s->shape())));
      }
    }
    const CoreShare share;
    ASSIGN_OR_RETURN(
        auto entry,
        cache_.Get({t, n, init[0] != nullptr, init[1] != nullptr}, share.threads(),
                   [&] { return Build(t, n, init[0] != nullptr, init[1] != nullptr); }));
    // Y [seq, dirs, batch, hidden], Y_h and (LSTM) Y_c [dirs, batch, hidden]; scratch for those
    // not asked for. oneDNN writes both directions of Y side by side, [seq, batch, dirs *
    // hidden], so a bidirectional Y goes through scratch too.
    const int num_outputs = lstm ? 3 : 2;
    Tensor outs[3];
    const Shape shapes[3] = {{t, dirs_, n, h}, {dirs_, n, h}, {dirs_, n, h}};
    for (int i = 0; i < num_outputs; ++i) {
      if (i < ctx.num_outputs()) {
        ASSIGN_OR_RETURN(Tensor * o, ctx.AllocateOutput(i, DType::kFloat32, shapes[i]));
        outs[i] = *o;
      } else {
        ASSIGN_OR_RETURN(outs[i], Tensor::Create(DType::kFloat32, shapes[i]));
      }
    }
    Tensor layer = outs[0];
    if (dirs_ > 1) {
      ASSIGN_OR_RETURN(layer, Tensor::Create(DType::kFloat32, {t, n, dirs_ * h}));
    }
    RETURN_IF_ERROR(Guarded(share.threads(), [&] {
      const auto& pd = entry->pd;
      auto at = [&](const memory::desc& d, const Tensor& v) {
        return memory(d, Engine(), const_cast<void*>(v.raw_data()));
      };
      std::unordered_map<int, memory> args = {{DNNL_ARG_SRC_LAYER, at(pd.src_layer_desc(), *x)},
                                              {DNNL_ARG_WEIGHTS_LAYER, entry->weights_layer},
                                              {DNNL_ARG_WEIGHTS_ITER, entry->weights_iter},
                                              {DNNL_ARG_BIAS, at(pd.bias_desc(), bias_)},
                                              {DNNL_ARG_DST_LAYER, at(pd.dst_layer_desc(), layer)},
                                              {DNNL_ARG_DST_ITER, at(pd.dst_iter_desc(), outs[1])}};
      if (lstm) args.emplace(DNNL_ARG_DST_ITER_C, at(pd.dst_iter_c_desc(), outs[2]));
      if (init[0] != nullptr) args.emplace(DNNL_ARG_SRC_ITER, at(pd.src_iter_desc(), *init[0]));
      if (init[1] != nullptr) {
        args.emplace(DNNL_ARG_SRC_ITER_C, at(pd.src_iter_c_desc(), *init[1]));
      }
      return Execute(entry->primitive, pd, std::move(args));
    }));
    if (dirs_ > 1) {
      // [seq, batch, dirs, hidden] -> [seq, dirs, batch, hidden]
      const float* src = layer.data<float>();
      float* dst = outs[0].data<float>();
      for (int64_t s = 0; s < t; ++s) {
        for (int64_t b = 0; b < n; ++b) {
          for (int64_t d = 0; d < dirs_; ++d) {
            std::memcpy(dst + ((s * dirs_ + d) * n + b) * h, src + ((s * n + b) * dirs_ + d) * h,
                        h * sizeof(float));
          }
        }
      }
    }
    return absl::OkStatus();
  }

  bool OwnsConstantInput(int i) const override { return i == 1 || i == 2 || i == 3; }

 private:
  struct Entry {
    dnnl::rnn_primitive_desc_base pd;
    dnnl::primitive primitive;
    memory weights_layer, weights_iter;
  };

  // ONNX's [dirs, gates * h, in] as oneDNN's plain ldigo [1, dirs, in, gates, h].
  Tensor ToLdigo(const Tensor& w, int64_t in) const {
    const int64_t h = hidden_, gates = cell_->gates;
    Tensor out = Tensor::Create(DType::kFloat32, {1, dirs_, in, gates, h}).value();
    const float* src = w.data<float>();
    float* dst = out.data<float>();
    for (int64_t d = 0; d < dirs_; ++d) {
      for (int64_t i = 0; i < in; ++i) {
        for (int64_t g = 0; g < gates; ++g) {
          for (int64_t j = 0; j < h; ++j) {
            dst[((d * in + i) * gates + g) * h + j] =
                src[(d * gates * h + cell_->onnx_gate_of[g] * h + j) * in + i];
          }
        }
      }
    }
    return out;
  }

  // ONNX's B [dirs, 2 * gates * h] (Wb then Rb) as oneDNN's ldgo [1, dirs, gates, h] holding
  // Wb + Rb; with linear_before_reset, GRU's candidate gate keeps Rb apart, as a fourth gate.
  Tensor ToLdgo(const Tensor* b) const {
    const int64_t h = hidden_, gates = cell_->gates;
    const int64_t bias_gates = linear_before_reset_ ? gates + 1 : gates;
    Tensor out = Tensor::Zeros(DType::kFloat32, {1, dirs_, bias_gates, h}).value();
    if (b == nullptr) return out;
    float* dst = out.data<float>();
    for (int64_t d = 0; d < dirs_; ++d) {
      const float* wb = b->data<float>() + d * 2 * gates * h;
      const float* rb = wb + gates * h;
      for (int64_t g = 0; g < gates; ++g) {
        const int64_t onnx = cell_->onnx_gate_of[g] * h;
        const bool apart = linear_before_reset_ && g == gates - 1;
        for (int64_t j = 0; j < h; ++j) {
          dst[(d * bias_gates + g) * h + j] = wb[onnx + j] + (apart ? 0.0f : rb[onnx + j]);
          if (apart) dst[(d * bias_gates + gates) * h + j] = rb[onnx + j];
        }
      }
    }
    return out;
  }

  absl::StatusOr<std::shared_ptr<const Entry>> Build(int64_t t, int64_t n, bool has_h,
                                                     bool has_c) const {
    const int64_t h = hidden_, gates = cell_->gates, d = dirs_;
    const memory::desc state({1, d, n, h}, kF32, Tag::ldnc);
    const memory::desc src_layer({t, n, input_}, kF32, Tag::tnc);
    const memory::desc dst_layer({t, n, d * h}, kF32, Tag::tnc);
    const memory::desc w_layer({1, d, input_, gates, h}, kF32, Tag::any);
    const memory::desc w_iter({1, d, h, gates, h}, kF32, Tag::any);
    const memory::desc bias({1, d, linear_before_reset_ ? gates + 1 : gates, h}, kF32, Tag::ldgo);
    const memory::desc src_iter = has_h ? state : memory::desc();
    const auto inference = dnnl::prop_kind::forward_inference;
    const dnnl::primitive_attr attr = UserScratchpad();
    auto entry = std::make_shared<Entry>();
    if (cell_->op == "LSTM") {
      dnnl::lstm_forward::desc desc(inference, direction_, src_layer, src_iter,
                                    has_c ? state : memory::desc(), w_layer, w_iter, bias,
                                    dst_layer, state, state);
      dnnl::lstm_forward::primitive_desc pd(desc, attr, Engine());
      entry->primitive = dnnl::lstm_forward(pd);
      entry->pd = pd;
    } else if (linear_before_reset_) {
      dnnl::lbr_gru_forward::desc desc(inference, direction_, src_layer, src_iter, w_layer, w_iter,
                                       bias, dst_layer, state);
      dnnl::lbr_gru_forward::primitive_desc pd(desc, attr, Engine());
      entry->primitive = dnnl::lbr_gru_forward(pd);
      entry->pd = pd;
    } else if (cell_->op == "GRU") {
      dnnl::gru_forward::desc desc(inference, direction_, src_layer, src_iter, w_layer, w_iter,
                                   bias, dst_layer, state);
      dnnl::gru_forward::primitive_desc pd(desc, attr, Engine());
      entry->primitive = dnnl::gru_forward(pd);
      entry->pd = pd;
    } else {
      dnnl::vanilla_rnn_forward::desc desc(inference, activation_, direction_, src_layer, src_iter,
                                           w_layer, w_iter, bias, dst_layer, state);
      dnnl::vanilla_rnn_forward::primitive_desc pd(desc, attr, Engine());
      entry->primitive = dnnl::vanilla_rnn_forward(pd);
      entry->pd = pd;
    }
    entry->weights_layer = weights_layer_->As(entry->pd.weights_layer_desc());
    entry->weights_iter = weights_iter_->As(entry->pd.weights_iter_desc());
    return std::shared_ptr<const Entry>(std::move(entry));
  }

  RnnKernel() = default;
  const Cell* cell_ = nullptr;
  int64_t hidden_ = 0, input_ = 0, dirs_ = 1;
  dnnl::rnn_direction direction_ = dnnl::rnn_direction::unidirectional_left2right;
  bool linear_before_reset_ = false;
  dnnl::algorithm activation_ = dnnl::algorithm::eltwise_tanh;  // RNN's
  std::unique_ptr<PackedWeights> weights_layer_, weights_iter_;
  Tensor bias_;  // in oneDNN's gate order
  std::unique_ptr<Kernel> small_batch_;  // an LSTM's batches of at most 8, or null
  PrimitiveCache<Entry> cache_;
};

}  // namespace

CORTADO_REGISTER_KERNEL("LSTM", kOnednn, 7, kMaxOpset, {DType::kFloat32}, RnnKernel::Create);
CORTADO_REGISTER_KERNEL("GRU", kOnednn, 7, kMaxOpset, {DType::kFloat32}, RnnKernel::Create);
CORTADO_REGISTER_KERNEL("RNN", kOnednn, 7, kMaxOpset, {DType::kFloat32}, RnnKernel::Create);

}  // namespace onednn
}  // namespace cortado
