// ONNX LSTM on oneDNN: one direction (forward or reverse), time-major, the default activations,
// constant weights and bias (gates reordered and packed once); no sequence_lens, peepholes,
// clip or input_forget.
#include "backends/onednn/onednn_util.h"
#include "ops/registry.h"

namespace cortado {
namespace onednn {
namespace {

// ---------------------------------------------------------------------------------------------

// ONNX stacks the gates i, o, f, c; oneDNN's LSTM takes i, f, c, o.
constexpr int kOnnxGateOf[4] = {0, 2, 3, 1};

class LstmKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const std::vector<const Tensor*>& c = info.constant_inputs;
    auto absent = [&](size_t i) {
      return i >= info.input_dtypes.size() || info.input_dtypes[i] == DType::kUndefined;
    };
    auto constant_f32 = [&](size_t i, int rank) {
      return i < c.size() && c[i] != nullptr && c[i]->dtype() == DType::kFloat32 &&
             c[i]->rank() == rank && c[i]->dim(0) == 1;
    };
    const AttributeMap& a = *info.attrs;
    const std::string direction = a.GetString("direction", "forward");
    if (!IsF32(info, 0) || !constant_f32(1, 3) || !constant_f32(2, 3) ||
        !(absent(3) || constant_f32(3, 2)) || !absent(4) || !absent(7) ||
        (direction != "forward" && direction != "reverse") || a.GetInt("layout", 0) != 0 ||
        a.GetInt("input_forget", 0) != 0 || a.Has("clip") || a.Has("activation_alpha") ||
        a.Has("activation_beta") ||
        (a.Has("activations") &&
         a.GetStrings("activations") != std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"})) {
      return Unimplemented("LSTM",
                           "one direction, default activations, constant weights, no "
                           "sequence_lens, peepholes, clip or input_forget");
    }
    const Tensor& w = *c[1];
    const Tensor& r = *c[2];
    const int64_t h = r.dim(2), input = w.dim(2);
    if (w.dim(1) != 4 * h || r.dim(1) != 4 * h || (!absent(3) && c[3]->dim(1) != 8 * h)) {
      return Unimplemented("LSTM", "weights that do not match hidden_size");
    }
    std::unique_ptr<LstmKernel> k(new LstmKernel());
    k->hidden_ = h;
    k->input_ = input;
    k->reverse_ = direction == "reverse";
    k->weights_layer_ = std::make_unique<PackedWeights>(
        ToLdigo(w, input, h), memory::desc({1, 1, input, 4, h}, kF32, Tag::ldigo));
    k->weights_iter_ = std::make_unique<PackedWeights>(
        ToLdigo(r, h, h), memory::desc({1, 1, h, 4, h}, kF32, Tag::ldigo));
    k->bias_ = Tensor::Zeros(DType::kFloat32, {1, 1, 4, h}).value();
    if (!absent(3)) {
      const float* b = c[3]->data<float>();
      float* out = k->bias_.data<float>();
      for (int g = 0; g < 4; ++g) {
        for (int64_t j = 0; j < h; ++j) {
          const int64_t onnx = kOnnxGateOf[g] * h + j;
          out[g * h + j] = b[onnx] + b[4 * h + onnx];  // Wb + Rb
        }
      }
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() != 3 || x->dtype() != DType::kFloat32 || x->dim(2) != input_) {
      return absl::InvalidArgumentError(absl::StrCat("LSTM: X must be float32 [seq, batch, ",
                                                     input_, "], got ", ShapeToString(x->shape())));
    }
    const int64_t t = x->dim(0), n = x->dim(1), h = hidden_;
    const Tensor* init[2] = {ctx.input(5), ctx.input(6)};
    for (const Tensor* s : init) {
      if (s != nullptr && s->shape() != Shape{1, n, h}) {
        return absl::InvalidArgumentError(
            absl::StrCat("LSTM: an initial state must have shape [1, ", n, ", ", h, "], got ",
                         ShapeToString(s->shape())));
      }
    }
    const CoreShare share;
    ASSIGN_OR_RETURN(
        auto entry,
        cache_.Get({t, n, init[0] != nullptr, init[1] != nullptr}, share.threads(),
                   [&] { return Build(t, n, init[0] != nullptr, init[1] != nullptr); }));
    // Y [seq, 1, batch, hidden] and Y_h, Y_c [1, batch, hidden]; scratch for those not asked for.
    Tensor outs[3];
    const Shape shapes[3] = {{t, 1, n, h}, {1, n, h}, {1, n, h}};
    for (int i = 0; i < 3; ++i) {
      if (i < ctx.num_outputs()) {
        ASSIGN_OR_RETURN(Tensor * o, ctx.AllocateOutput(i, DType::kFloat32, shapes[i]));
        outs[i] = *o;
      } else {
        ASSIGN_OR_RETURN(outs[i], Tensor::Create(DType::kFloat32, shapes[i]));
      }
    }
    return Guarded(share.threads(), [&] {
      const auto& pd = entry->pd;
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_SRC_LAYER,
           memory(pd.src_layer_desc(), Engine(), const_cast<void*>(x->raw_data()))},
          {DNNL_ARG_WEIGHTS_LAYER, entry->weights_layer},
          {DNNL_ARG_WEIGHTS_ITER, entry->weights_iter},
          {DNNL_ARG_BIAS, memory(pd.bias_desc(), Engine(), const_cast<void*>(bias_.raw_data()))},
          {DNNL_ARG_DST_LAYER, memory(pd.dst_layer_desc(), Engine(), outs[0].raw_data())},
          {DNNL_ARG_DST_ITER, memory(pd.dst_iter_desc(), Engine(), outs[1].raw_data())},
          {DNNL_ARG_DST_ITER_C, memory(pd.dst_iter_c_desc(), Engine(), outs[2].raw_data())}};
      if (init[0] != nullptr) {
        args.emplace(DNNL_ARG_SRC_ITER,
                     memory(pd.src_iter_desc(), Engine(), const_cast<void*>(init[0]->raw_data())));
      }
      if (init[1] != nullptr) {
        args.emplace(DNNL_ARG_SRC_ITER_C, memory(pd.src_iter_c_desc(), Engine(),
                                                 const_cast<void*>(init[1]->raw_data())));
      }
      return Execute(entry->primitive, pd, std::move(args));
    });
  }

  bool OwnsConstantInput(int i) const override { return i == 1 || i == 2 || i == 3; }

 private:
  struct Entry {
    dnnl::lstm_forward::primitive_desc pd;
    dnnl::lstm_forward primitive;
    memory weights_layer, weights_iter;
  };

  // ONNX's [1, 4 * h, in] (gates i, o, f, c) as oneDNN's plain ldigo [1, 1, in, 4, h].
  static Tensor ToLdigo(const Tensor& w, int64_t in, int64_t h) {
    Tensor out = Tensor::Create(DType::kFloat32, {1, 1, in, 4, h}).value();
    const float* src = w.data<float>();
    float* dst = out.data<float>();
    for (int64_t i = 0; i < in; ++i) {
      for (int g = 0; g < 4; ++g) {
        for (int64_t j = 0; j < h; ++j) {
          dst[(i * 4 + g) * h + j] = src[(kOnnxGateOf[g] * h + j) * in + i];
        }
      }
    }
    return out;
  }

  absl::StatusOr<std::shared_ptr<const Entry>> Build(int64_t t, int64_t n, bool has_h,
                                                     bool has_c) const {
    const int64_t h = hidden_;
    const memory::desc state({1, 1, n, h}, kF32, Tag::ldnc);
    dnnl::lstm_forward::desc desc(
        dnnl::prop_kind::forward_inference,
        reverse_ ? dnnl::rnn_direction::unidirectional_right2left
                 : dnnl::rnn_direction::unidirectional_left2right,
        memory::desc({t, n, input_}, kF32, Tag::tnc), has_h ? state : memory::desc(),
        has_c ? state : memory::desc(), memory::desc({1, 1, input_, 4, h}, kF32, Tag::any),
        memory::desc({1, 1, h, 4, h}, kF32, Tag::any), memory::desc({1, 1, 4, h}, kF32, Tag::ldgo),
        memory::desc({t, n, h}, kF32, Tag::tnc), state, state);
    dnnl::primitive_attr attr = UserScratchpad();
    auto entry = std::make_shared<Entry>();
    entry->pd = dnnl::lstm_forward::primitive_desc(desc, attr, Engine());
    entry->primitive = dnnl::lstm_forward(entry->pd);
    entry->weights_layer = weights_layer_->As(entry->pd.weights_layer_desc());
    entry->weights_iter = weights_iter_->As(entry->pd.weights_iter_desc());
    return std::shared_ptr<const Entry>(std::move(entry));
  }

  LstmKernel() = default;
  int64_t hidden_ = 0, input_ = 0;
  bool reverse_ = false;
  std::unique_ptr<PackedWeights> weights_layer_, weights_iter_;
  Tensor bias_;  // Wb + Rb in oneDNN's gate order
  PrimitiveCache<Entry> cache_;
};

}  // namespace

CORTADO_REGISTER_KERNEL("LSTM", kOnednn, 7, kMaxOpset, {DType::kFloat32}, LstmKernel::Create);

}  // namespace onednn
}  // namespace cortado
