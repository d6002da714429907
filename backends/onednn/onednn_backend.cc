// The oneDNN backend (Debian's libdnnl 2.6, OpenMP runtime): FusedConv with its activation and
// residual as oneDNN post-ops, in channels-first or channels-last (kNhwcDomain) layout, and
// FusedMatMul with constant weights, bias and activation; LSTM; Softmax; LayerNormalization over
// the last axis; weights reordered once into the
// layout oneDNN picks; channels-last pools; and the rank-4 Transposes between layouts as reorders. Float32 only. oneDNN picks its kernels for the CPU at run
// time (AVX2, AVX-512, AMX).
//
// Each kernel caches its primitives by input shape and thread count, so a steady stream of
// same-shape requests creates nothing; the cache is guarded by a mutex, and execution is
// thread-safe (scratchpads are per run). oneDNN's OpenMP team follows cortado's intra-op thread
// count (core/thread_pool.h), set on the calling thread before each primitive runs; since each
// calling thread gets a team of its own, kernels running at once divide that count between them
// (a CoreShare) rather than multiply it.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <dnnl.hpp>
#include <map>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "backends/backend.h"
#include "core/thread_pool.h"
#include "ops/fused.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace {

constexpr char kOnednn[] = "onednn";
using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

dnnl::engine& Engine() {
  static auto* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

memory::dims Dims(const Shape& s) { return memory::dims(s.begin(), s.end()); }

// The intra-op threads one kernel may use while it runs: its share of IntraOpThreads() among the
// oneDNN kernels running at the moment it starts.
class CoreShare {
 public:
  CoreShare() : threads_(std::max(1, IntraOpThreads() / (running_.fetch_add(1) + 1))) {}
  ~CoreShare() { running_.fetch_sub(1); }
  CoreShare(const CoreShare&) = delete;
  CoreShare& operator=(const CoreShare&) = delete;
  int threads() const { return threads_; }

 private:
  static inline std::atomic<int> running_{0};
  const int threads_;
};

// Runs `fn` with oneDNN's thread team sized to `threads`; oneDNN's exceptions become statuses.
template <typename F>
absl::Status Guarded(int threads, F&& fn) {
  omp_set_num_threads(threads);
  try {
    return fn();
  } catch (const dnnl::error& e) {
    return absl::InternalError(absl::StrCat("oneDNN: ", e.what()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("oneDNN: out of memory");
  }
}

// Executes a primitive on the calling thread with a scratchpad of its own.
absl::Status Execute(const dnnl::primitive& p, const dnnl::primitive_desc_base& pd,
                     std::unordered_map<int, memory> args) {
  const size_t scratch = pd.scratchpad_desc().get_size();
  std::unique_ptr<char[]> buffer;
  if (scratch > 0) {
    buffer.reset(new char[scratch + 64]);
    void* aligned = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(buffer.get()) + 63) & ~uintptr_t{63});
    args.emplace(DNNL_ARG_SCRATCHPAD, memory(pd.scratchpad_desc(), Engine(), aligned));
  }
  dnnl::stream stream(Engine());
  p.execute(stream, args);
  stream.wait();
  return absl::OkStatus();
}

// Runs a convolution or matrix product: src, packed weights, optional bias, dst.
absl::Status ExecuteWeighted(const dnnl::primitive& p, const dnnl::primitive_desc_base& pd,
                             const Tensor& src, const memory& weights, const memory* bias,
                             Tensor* dst) {
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, memory(pd.src_desc(), Engine(), const_cast<void*>(src.raw_data()))},
      {DNNL_ARG_WEIGHTS, weights},
      {DNNL_ARG_DST, memory(pd.dst_desc(), Engine(), dst->raw_data())}};
  if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, *bias);
  return Execute(p, pd, std::move(args));
}

// A sum post-op adds onto what dst holds: dst starts as a copy of the addend, which must have
// dst's shape. `what` names the addend in errors.
absl::Status StartFromAddend(absl::string_view what, const Tensor* addend, Tensor* dst) {
  if (addend == nullptr || addend->shape() != dst->shape() || addend->dtype() != DType::kFloat32) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must be float32 of the output's shape ", ShapeToString(dst->shape()), ", got ",
        addend == nullptr ? std::string("none") : ShapeToString(addend->shape())));
  }
  std::memcpy(dst->raw_data(), addend->raw_data(), dst->nbytes());
  return absl::OkStatus();
}

// A kernel's primitives by input shape and thread count.
template <typename Entry>
class PrimitiveCache {
 public:
  template <typename Make>
  absl::StatusOr<std::shared_ptr<const Entry>> Get(std::vector<int64_t> key, int threads,
                                                   Make&& make) const {
    key.push_back(threads);
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second;
    std::shared_ptr<const Entry> entry;
    RETURN_IF_ERROR(Guarded(threads, [&]() -> absl::Status {
      ASSIGN_OR_RETURN(entry, make());
      return absl::OkStatus();
    }));
    entries_.emplace(std::move(key), entry);
    return entry;
  }

 private:
  mutable absl::Mutex mu_;
  mutable std::map<std::vector<int64_t>, std::shared_ptr<const Entry>> entries_ ABSL_GUARDED_BY(mu_);
};

// A constant weight tensor held in the layouts oneDNN asks for: the first request reorders the
// original (plain) tensor and releases it; a later primitive that wants another layout is
// reordered from that packed copy. So a kernel keeps one copy of its weights, not two.
class PackedWeights {
 public:
  PackedWeights(Tensor original, memory::desc plain)
      : original_(std::move(original)), plain_(std::move(plain)) {}

  // Called inside Guarded.
  memory As(const memory::desc& want) const {
    absl::MutexLock lock(&mu_);
    for (const memory& m : packed_) {
      if (m.get_desc() == want) return m;
    }
    memory from = packed_.empty()
                      ? memory(plain_, Engine(), const_cast<void*>(original_.raw_data()))
                      : packed_.front();
    memory to(want, Engine());
    dnnl::stream stream(Engine());
    dnnl::reorder(from, to).execute(stream, from, to);
    stream.wait();
    packed_.push_back(to);
    original_ = Tensor();
    return to;
  }

 private:
  mutable absl::Mutex mu_;
  mutable Tensor original_ ABSL_GUARDED_BY(mu_);
  const memory::desc plain_;
  mutable std::vector<memory> packed_ ABSL_GUARDED_BY(mu_);
};

// A shape hint with unknown dimensions taken as 1 (the batch, mostly), or nullopt when a
// dimension other than the first is unknown.
std::optional<Shape> HintShape(const KernelInfo& info, size_t input) {
  if (input >= info.input_shapes.size() || !info.input_shapes[input]) return std::nullopt;
  Shape s = *info.input_shapes[input];
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] < 0 && i > 0) return std::nullopt;
    if (s[i] < 0) s[i] = 1;
  }
  return s;
}

// Output size and padding of one spatial dimension of a convolution or pool window, as ONNX
// defines them (auto_pad, explicit pads, ceil_mode), with the end padding oneDNN needs to
// produce exactly that size.
struct Window {
  memory::dims out, pad_begin, pad_end;
};

absl::StatusOr<Window> ComputeWindow(const std::vector<int64_t>& in, const std::vector<int64_t>& kernel,
                                     const AttributeMap& attrs, bool ceil_mode) {
  const size_t n = in.size();
  const std::vector<int64_t> strides = attrs.GetInts("strides", std::vector<int64_t>(n, 1));
  const std::vector<int64_t> dilations = attrs.GetInts("dilations", std::vector<int64_t>(n, 1));
  const std::vector<int64_t> pads = attrs.GetInts("pads", std::vector<int64_t>(2 * n, 0));
  const std::string auto_pad = attrs.GetString("auto_pad", "NOTSET");
  if (strides.size() != n || dilations.size() != n || pads.size() != 2 * n) {
    return absl::InvalidArgumentError("strides, dilations or pads do not match the input's rank");
  }
  Window w;
  for (size_t i = 0; i < n; ++i) {
    const int64_t s = strides[i], k = (kernel[i] - 1) * dilations[i] + 1;
    if (s < 1) return absl::InvalidArgumentError("strides must be positive");
    int64_t out, pb, pe;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out = (in[i] + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + k - in[i]);
      pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else if (auto_pad == "VALID") {
      pb = pe = 0;
      out = in[i] >= k ? (in[i] - k) / s + 1 : 0;
    } else {
      pb = pads[i];
      pe = pads[n + i];
      const int64_t span = in[i] + pb + pe - k;
      if (span < 0) return absl::InvalidArgumentError("the window is larger than the padded input");
      out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
      if (ceil_mode && (out - 1) * s >= in[i] + pb) --out;
      pe = (out - 1) * s + k - in[i] - pb;
    }
    if (out < 1) return absl::InvalidArgumentError("the output would be empty");
    w.out.push_back(out);
    w.pad_begin.push_back(pb);
    w.pad_end.push_back(pe);
  }
  return w;
}

// NCHW dims of a rank-4 activation in this kernel's layout, and back.
Shape ToNchw(const Shape& s, bool channels_last) { return channels_last ? ToChannelsFirst(s) : s; }
Shape FromNchw(const Shape& s, bool channels_last) {
  return channels_last ? ToChannelsLast(s) : s;
}

absl::Status Unimplemented(absl::string_view op, absl::string_view why) {
  return absl::UnimplementedError(absl::StrCat("onednn ", op, ": ", why));
}

bool IsF32(const KernelInfo& info, size_t i) {
  return i < info.input_dtypes.size() && info.input_dtypes[i] == DType::kFloat32;
}

// ---------------------------------------------------------------------------------------------
// FusedConv
// ---------------------------------------------------------------------------------------------

// The oneDNN post-op for a fused activation, or nullopt when oneDNN has none.
struct EltwiseOp {
  dnnl::algorithm alg;
  float alpha = 0, beta = 0;
};

std::optional<EltwiseOp> ToEltwise(const std::string& name, const std::vector<float>& p) {
  using A = dnnl::algorithm;
  if (name == "Relu") return EltwiseOp{A::eltwise_relu};
  if (name == "LeakyRelu") return EltwiseOp{A::eltwise_relu, p[0]};
  if (name == "Sigmoid") return EltwiseOp{A::eltwise_logistic};
  if (name == "Tanh") return EltwiseOp{A::eltwise_tanh};
  if (name == "Elu") return EltwiseOp{A::eltwise_elu, p[0]};
  if (name == "Clip") return EltwiseOp{A::eltwise_clip_v2, p[0], p[1]};
  if (name == "HardSwish") return EltwiseOp{A::eltwise_hardswish};
  if (name == "Swish") return EltwiseOp{A::eltwise_swish, 1.0f};
  return std::nullopt;
}

class ConvKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const std::vector<const Tensor*>& c = info.constant_inputs;
    if (!IsF32(info, 0) || c.size() < 2 || c[1] == nullptr || c[1]->dtype() != DType::kFloat32 ||
        c[1]->rank() != 4) {
      return Unimplemented("FusedConv", "needs float32 and constant 4-D weights");
    }
    const bool has_bias = c.size() > 2 && info.input_dtypes[2] != DType::kUndefined;
    if (has_bias && (c[2] == nullptr || c[2]->dtype() != DType::kFloat32)) {
      return Unimplemented("FusedConv", "needs a constant float32 bias");
    }
    const AttributeMap& attrs = *info.attrs;
    std::optional<EltwiseOp> eltwise;
    const std::string activation = attrs.GetString("activation");
    if (!activation.empty()) {
      eltwise = ToEltwise(activation, attrs.GetFloats("activation_params"));
      if (!eltwise) return Unimplemented("FusedConv", "no oneDNN post-op for " + activation);
    }
    const int64_t group = attrs.GetInt("group", 1);
    const Tensor& w = *c[1];
    if (group < 1 || w.dim(0) % group != 0) return Unimplemented("FusedConv", "bad group");
    std::unique_ptr<ConvKernel> k(new ConvKernel());
    k->channels_last_ = info.domain == kNhwcDomain;
    k->attrs_ = attrs;
    k->weights_shape_ = w.shape();
    memory::dims plain = {w.dim(0), w.dim(1), w.dim(2), w.dim(3)};
    Tag tag = Tag::oihw;
    if (group > 1) {
      plain = {group, w.dim(0) / group, w.dim(1), w.dim(2), w.dim(3)};
      tag = Tag::goihw;
    }
    k->weights_ = std::make_unique<PackedWeights>(w, memory::desc(plain, kF32, tag));
    k->hint_ = HintShape(info, 0);
    if (has_bias) k->bias_ = *c[2];
    k->has_z_ = info.input_dtypes.size() > 3 && info.input_dtypes[3] != DType::kUndefined;
    k->eltwise_ = eltwise;
    k->group_ = group;
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() != 4 || x->dtype() != DType::kFloat32) {
      return absl::InvalidArgumentError(absl::StrCat("FusedConv: X must be 4-D float32, got ",
                                                     ShapeToString(x->shape())));
    }
    const Shape nchw = ToNchw(x->shape(), channels_last_);
    if (nchw[1] != weights_shape_[1] * group_) {
      return absl::InvalidArgumentError(absl::StrCat("FusedConv: X has ", nchw[1],
                                                     " channels, the weights expect ",
                                                     weights_shape_[1] * group_));
    }
    const CoreShare share;
    ASSIGN_OR_RETURN(auto entry, cache_.Get(nchw, share.threads(), [&] { return Build(nchw); }));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32,
                                                    FromNchw(entry->out_nchw, channels_last_)));
    if (has_z_) RETURN_IF_ERROR(StartFromAddend("FusedConv: Z", ctx.input(3), y));
    return Guarded(share.threads(), [&] {
      return ExecuteWeighted(entry->primitive, entry->pd, *x, entry->weights,
                             bias_.defined() ? &entry->bias : nullptr, y);
    });
  }

  // Builds the primitive for the plan's shape, weights packed, so the first request finds it.
  absl::Status Prepare() override {
    if (!hint_ || hint_->size() != 4) return absl::OkStatus();
    const Shape nchw = ToNchw(*hint_, channels_last_);
    return cache_.Get(nchw, IntraOpThreads(), [&] { return Build(nchw); }).status();
  }

  bool OwnsConstantInput(int i) const override { return i == 1; }

 private:
  struct Entry {
    dnnl::convolution_forward::primitive_desc pd;
    dnnl::convolution_forward primitive;
    memory weights, bias;
    Shape out_nchw;
  };

  absl::StatusOr<std::shared_ptr<const Entry>> Build(const Shape& nchw) const {
    const std::vector<int64_t> kernel = {weights_shape_[2], weights_shape_[3]};
    ASSIGN_OR_RETURN(Window win, ComputeWindow({nchw[2], nchw[3]}, kernel, attrs_, false));
    const int64_t out_channels = weights_shape_[0];
    Shape out_nchw = {nchw[0], out_channels, win.out[0], win.out[1]};
    const Tag act_tag = channels_last_ ? Tag::nhwc : Tag::nchw;
    memory::desc src(Dims(nchw), kF32, act_tag), dst(Dims(out_nchw), kF32, act_tag);
    memory::dims wdims = {out_channels, weights_shape_[1], kernel[0], kernel[1]};
    if (group_ > 1) wdims = {group_, out_channels / group_, weights_shape_[1], kernel[0], kernel[1]};
    memory::desc w_any(wdims, kF32, Tag::any);
    memory::desc b_md = bias_.defined() ? memory::desc({out_channels}, kF32, Tag::x) : memory::desc();
    std::vector<int64_t> dil = attrs_.GetInts("dilations", {1, 1});
    memory::dims dilates = {dil[0] - 1, dil[1] - 1};
    std::vector<int64_t> strides = attrs_.GetInts("strides", {1, 1});
    dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, w_any, b_md,
        dst, memory::dims(strides.begin(), strides.end()), dilates, win.pad_begin, win.pad_end);
    dnnl::post_ops post;
    if (has_z_) post.append_sum(1.0f);
    if (eltwise_) post.append_eltwise(1.0f, eltwise_->alg, eltwise_->alpha, eltwise_->beta);
    dnnl::primitive_attr attr;
    attr.set_post_ops(post);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    auto entry = std::make_shared<Entry>();
    entry->pd = dnnl::convolution_forward::primitive_desc(desc, attr, Engine());
    entry->primitive = dnnl::convolution_forward(entry->pd);
    entry->out_nchw = out_nchw;
    entry->weights = weights_->As(entry->pd.weights_desc());
    if (bias_.defined()) {
      entry->bias = memory(b_md, Engine(), const_cast<void*>(bias_.raw_data()));
    }
    return std::shared_ptr<const Entry>(std::move(entry));
  }

  ConvKernel() = default;
  bool channels_last_ = false;
  AttributeMap attrs_;
  Shape weights_shape_;
  std::unique_ptr<PackedWeights> weights_;
  Tensor bias_;  // shared with the plan's constants
  std::optional<Shape> hint_;
  bool has_z_ = false;
  std::optional<EltwiseOp> eltwise_;
  int64_t group_ = 1;
  PrimitiveCache<Entry> cache_;
};

// ---------------------------------------------------------------------------------------------
// FusedMatMul: A (any rank >= 2, leading dimensions flattened) times constant 2-D weights, with a
// per-column constant bias or a same-shape residual, and the activation as a post-op
// ---------------------------------------------------------------------------------------------

class MatMulKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const std::vector<const Tensor*>& c = info.constant_inputs;
    if (!IsF32(info, 0) || c.size() < 2 || c[1] == nullptr || c[1]->rank() != 2 ||
        c[1]->dtype() != DType::kFloat32) {
      return Unimplemented("FusedMatMul", "needs float32 and constant 2-D weights");
    }
    std::unique_ptr<MatMulKernel> k(new MatMulKernel());
    k->k_ = c[1]->dim(0);
    k->n_ = c[1]->dim(1);
    k->weights_ = std::make_unique<PackedWeights>(*c[1], memory::desc({k->k_, k->n_}, kF32, Tag::ab));
    if (std::optional<Shape> a = HintShape(info, 0); a && !a->empty()) {
      k->hint_m_ = NumElements(*a) / std::max<int64_t>(a->back(), 1);
    }
    const int64_t n = k->n_;
    if (info.input_dtypes.size() > 2 && info.input_dtypes[2] != DType::kUndefined) {
      const Tensor* addend = c.size() > 2 ? c[2] : nullptr;
      if (addend == nullptr) {
        k->residual_ = true;
      } else {
        bool per_column = addend->dtype() == DType::kFloat32 && addend->num_elements() == n &&
                          addend->rank() >= 1 && addend->shape().back() == n;
        if (!per_column) return Unimplemented("FusedMatMul", "a constant C other than a bias row");
        k->bias_ = *addend;
      }
    }
    const std::string activation = info.attrs->GetString("activation");
    if (!activation.empty()) {
      k->eltwise_ = ToEltwise(activation, info.attrs->GetFloats("activation_params"));
      if (!k->eltwise_) return Unimplemented("FusedMatMul", "no oneDNN post-op for " + activation);
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    const int64_t k = k_, n = n_;
    if (a->rank() < 2 || a->dtype() != DType::kFloat32 || a->shape().back() != k) {
      return absl::InvalidArgumentError(absl::StrCat("FusedMatMul: A of shape ",
                                                     ShapeToString(a->shape()),
                                                     " does not multiply weights of ", k, " rows"));
    }
    const int64_t m = a->num_elements() / k;
    Shape y_shape = a->shape();
    y_shape.back() = n;
    const CoreShare share;
    ASSIGN_OR_RETURN(auto entry, cache_.Get({m}, share.threads(), [&] { return Build(m); }));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, y_shape));
    if (residual_) RETURN_IF_ERROR(StartFromAddend("FusedMatMul: C", ctx.input(2), y));
    return Guarded(share.threads(), [&] {
      return ExecuteWeighted(entry->primitive, entry->pd, *a, entry->weights,
                             bias_.defined() ? &entry->bias : nullptr, y);
    });
  }

 private:
  // Builds the primitive for the plan's shape, weights packed, so the first request finds it.
  absl::Status Prepare() override {
    if (hint_m_ < 1) return absl::OkStatus();
    return cache_.Get({hint_m_}, IntraOpThreads(), [&] { return Build(hint_m_); }).status();
  }

  bool OwnsConstantInput(int i) const override { return i == 1; }

 private:
  struct Entry {
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul primitive;
    memory weights, bias;
  };

  absl::StatusOr<std::shared_ptr<const Entry>> Build(int64_t m) const {
    const int64_t k = k_, n = n_;
    memory::desc src({m, k}, kF32, Tag::ab), dst({m, n}, kF32, Tag::ab);
    memory::desc w_any({k, n}, kF32, Tag::any);
    memory::desc b_md = bias_.defined() ? memory::desc({1, n}, kF32, Tag::ab) : memory::desc();
    dnnl::post_ops post;
    if (residual_) post.append_sum(1.0f);
    if (eltwise_) post.append_eltwise(1.0f, eltwise_->alg, eltwise_->alpha, eltwise_->beta);
    dnnl::primitive_attr attr;
    attr.set_post_ops(post);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    auto entry = std::make_shared<Entry>();
    entry->pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, w_any, b_md, dst), attr, Engine());
    entry->primitive = dnnl::matmul(entry->pd);
    entry->weights = weights_->As(entry->pd.weights_desc());
    if (bias_.defined()) entry->bias = memory(b_md, Engine(), const_cast<void*>(bias_.raw_data()));
    return std::shared_ptr<const Entry>(std::move(entry));
  }

  MatMulKernel() = default;
  int64_t k_ = 0, n_ = 0;
  std::unique_ptr<PackedWeights> weights_;
  Tensor bias_;  // shared with the plan's constants
  int64_t hint_m_ = 0;
  bool residual_ = false;
  std::optional<EltwiseOp> eltwise_;
  PrimitiveCache<Entry> cache_;
};

// ---------------------------------------------------------------------------------------------
// LSTM: one direction (forward or reverse), time-major, the default activations, constant
// weights and bias, no sequence_lens, peepholes, clip or input_forget
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
      return Unimplemented("LSTM", "one direction, default activations, constant weights, no "
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
        return absl::InvalidArgumentError(absl::StrCat(
            "LSTM: an initial state must have shape [1, ", n, ", ", h, "], got ",
            ShapeToString(s->shape())));
      }
    }
    const CoreShare share;
    ASSIGN_OR_RETURN(auto entry, cache_.Get({t, n, init[0] != nullptr, init[1] != nullptr},
                                            share.threads(), [&] {
                                              return Build(t, n, init[0] != nullptr,
                                                           init[1] != nullptr);
                                            }));
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
          {DNNL_ARG_SRC_LAYER, memory(pd.src_layer_desc(), Engine(), const_cast<void*>(x->raw_data()))},
          {DNNL_ARG_WEIGHTS_LAYER, entry->weights_layer},
          {DNNL_ARG_WEIGHTS_ITER, entry->weights_iter},
          {DNNL_ARG_BIAS, memory(pd.bias_desc(), Engine(), const_cast<void*>(bias_.raw_data()))},
          {DNNL_ARG_DST_LAYER, memory(pd.dst_layer_desc(), Engine(), outs[0].raw_data())},
          {DNNL_ARG_DST_ITER, memory(pd.dst_iter_desc(), Engine(), outs[1].raw_data())},
          {DNNL_ARG_DST_ITER_C, memory(pd.dst_iter_c_desc(), Engine(), outs[2].raw_data())}};
      if (init[0] != nullptr) {
        args.emplace(DNNL_ARG_SRC_ITER, memory(pd.src_iter_desc(), Engine(),
                                               const_cast<void*>(init[0]->raw_data())));
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
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
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

// ---------------------------------------------------------------------------------------------
// Softmax (ONNX's axis semantics of the opset) and LayerNormalization over the last axis
// ---------------------------------------------------------------------------------------------

// Row-major strides of `dims`, for a plain memory descriptor of any rank.
memory::desc Plain(const memory::dims& dims) {
  memory::dims strides(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) strides[i] = strides[i + 1] * dims[i + 1];
  return memory::desc(dims, kF32, strides);
}

class SoftmaxKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    if (!IsF32(info, 0)) return Unimplemented("Softmax", "float32 only");
    std::unique_ptr<SoftmaxKernel> k(new SoftmaxKernel());
    k->coerced_ = info.opset < 13;  // before 13: softmax of the 2-D view at `axis`
    k->axis_ = info.attrs->GetInt("axis", k->coerced_ ? 1 : -1);
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int64_t rank = x->rank();
    if (x->dtype() != DType::kFloat32 || rank < 1 || axis_ < -rank || axis_ >= rank) {
      return absl::InvalidArgumentError(absl::StrCat("Softmax: axis ", axis_, " of a float32 ",
                                                     ShapeToString(x->shape())));
    }
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    std::vector<int64_t> dims(x->shape().begin(), x->shape().end());
    int64_t softmax_axis = axis;
    if (coerced_) {
      dims = {tensor_ops::PartialProduct(x->shape(), 0, axis),
              tensor_ops::PartialProduct(x->shape(), axis, rank)};
      softmax_axis = 1;
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, x->shape()));
    if (x->num_elements() == 0) return absl::OkStatus();
    std::vector<int64_t> key = dims;
    key.push_back(softmax_axis);
    const CoreShare share;
    ASSIGN_OR_RETURN(auto entry, cache_.Get(key, share.threads(), [&]() -> absl::StatusOr<std::shared_ptr<const Entry>> {
      auto e = std::make_shared<Entry>();
      dnnl::softmax_forward::desc desc(dnnl::prop_kind::forward_inference,
                                       Plain(memory::dims(dims.begin(), dims.end())),
                                       static_cast<int>(softmax_axis));
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      e->pd = dnnl::softmax_forward::primitive_desc(desc, attr, Engine());
      e->primitive = dnnl::softmax_forward(e->pd);
      return std::shared_ptr<const Entry>(std::move(e));
    }));
    return Guarded(share.threads(), [&] {
      return Execute(entry->primitive, entry->pd,
                     {{DNNL_ARG_SRC, memory(entry->pd.src_desc(), Engine(),
                                            const_cast<void*>(x->raw_data()))},
                      {DNNL_ARG_DST, memory(entry->pd.dst_desc(), Engine(), y->raw_data())}});
    });
  }

 private:
  struct Entry {
    dnnl::softmax_forward::primitive_desc pd;
    dnnl::softmax_forward primitive;
  };
  SoftmaxKernel() = default;
  bool coerced_ = false;
  int64_t axis_ = -1;
  PrimitiveCache<Entry> cache_;
};

class LayerNormKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const std::vector<const Tensor*>& c = info.constant_inputs;
    auto row = [&](size_t i) {
      return i < c.size() && c[i] != nullptr && c[i]->dtype() == DType::kFloat32 && c[i]->rank() == 1;
    };
    const bool has_bias = info.input_dtypes.size() > 2 && info.input_dtypes[2] != DType::kUndefined;
    if (!IsF32(info, 0) || info.num_outputs != 1 || info.attrs->GetInt("axis", -1) != -1 ||
        !row(1) || (has_bias && !row(2))) {
      return Unimplemented("LayerNormalization",
                           "float32 over the last axis, constant 1-D scale and bias, Y alone");
    }
    std::unique_ptr<LayerNormKernel> k(new LayerNormKernel());
    k->epsilon_ = info.attrs->GetFloat("epsilon", 1e-5f);
    k->scale_ = *c[1];
    if (has_bias) k->bias_ = *c[2];
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int64_t channels = scale_.num_elements();
    if (x->dtype() != DType::kFloat32 || x->rank() < 1 || x->shape().back() != channels ||
        (bias_.defined() && bias_.num_elements() != channels)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "LayerNormalization: X ", ShapeToString(x->shape()), " against a scale of ", channels));
    }
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32, x->shape()));
    const int64_t rows = x->num_elements() / channels;
    if (rows == 0) return absl::OkStatus();
    const CoreShare share;
    ASSIGN_OR_RETURN(auto entry, cache_.Get({rows}, share.threads(), [&]() -> absl::StatusOr<std::shared_ptr<const Entry>> {
      auto e = std::make_shared<Entry>();
      auto flags = dnnl::normalization_flags::use_scale;
      if (bias_.defined()) flags = flags | dnnl::normalization_flags::use_shift;
      dnnl::layer_normalization_forward::desc desc(dnnl::prop_kind::forward_inference,
                                                   Plain({rows, channels}), epsilon_, flags);
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      e->pd = dnnl::layer_normalization_forward::primitive_desc(desc, attr, Engine());
      e->primitive = dnnl::layer_normalization_forward(e->pd);
      return std::shared_ptr<const Entry>(std::move(e));
    }));
    return Guarded(share.threads(), [&] {
      const memory::desc row({channels}, kF32, Tag::x);
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_SRC, memory(entry->pd.src_desc(), Engine(), const_cast<void*>(x->raw_data()))},
          {DNNL_ARG_DST, memory(entry->pd.dst_desc(), Engine(), y->raw_data())},
          {DNNL_ARG_SCALE, memory(row, Engine(), const_cast<void*>(scale_.raw_data()))}};
      if (bias_.defined()) {
        args.emplace(DNNL_ARG_SHIFT, memory(row, Engine(), const_cast<void*>(bias_.raw_data())));
      }
      return Execute(entry->primitive, entry->pd, std::move(args));
    });
  }

 private:
  struct Entry {
    dnnl::layer_normalization_forward::primitive_desc pd;
    dnnl::layer_normalization_forward primitive;
  };
  LayerNormKernel() = default;
  float epsilon_ = 1e-5f;
  Tensor scale_, bias_;  // shared with the plan's constants
  PrimitiveCache<Entry> cache_;
};

// ---------------------------------------------------------------------------------------------
// Channels-last pools
// ---------------------------------------------------------------------------------------------

class PoolKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    if (!IsF32(info, 0) || info.num_outputs != 1) {
      return Unimplemented(info.op_type, "needs float32 and one output");
    }
    const AttributeMap& a = *info.attrs;
    std::unique_ptr<PoolKernel> k(new PoolKernel());
    k->global_ = info.op_type == "GlobalAveragePool" || info.op_type == "GlobalMaxPool";
    k->max_ = info.op_type == "MaxPool" || info.op_type == "GlobalMaxPool";
    k->attrs_ = a;
    if (!k->global_) {
      k->kernel_ = a.GetInts("kernel_shape");
      if (k->kernel_.size() != 2) return Unimplemented(info.op_type, "2-D windows only");
      for (int64_t d : a.GetInts("dilations", {1, 1})) {
        if (d != 1) return Unimplemented(info.op_type, "dilations");
      }
      k->ceil_mode_ = a.GetInt("ceil_mode", 0) != 0;
      k->include_pad_ = a.GetInt("count_include_pad", 0) != 0;
      if (k->ceil_mode_ && k->include_pad_) {
        return Unimplemented(info.op_type, "ceil_mode with count_include_pad");
      }
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() != 4 || x->dtype() != DType::kFloat32) {
      return absl::InvalidArgumentError(
          absl::StrCat("pool: X must be 4-D float32, got ", ShapeToString(x->shape())));
    }
    const Shape nchw = ToChannelsFirst(x->shape());
    const CoreShare share;
    ASSIGN_OR_RETURN(auto entry, cache_.Get(nchw, share.threads(), [&] { return Build(nchw); }));
    ASSIGN_OR_RETURN(Tensor * y,
                     ctx.AllocateOutput(0, DType::kFloat32, ToChannelsLast(entry->out_nchw)));
    return Guarded(share.threads(), [&] {
      return Execute(entry->primitive, entry->pd,
                     {{DNNL_ARG_SRC, memory(entry->pd.src_desc(), Engine(),
                                            const_cast<void*>(x->raw_data()))},
                      {DNNL_ARG_DST, memory(entry->pd.dst_desc(), Engine(), y->raw_data())}});
    });
  }

 private:
  struct Entry {
    dnnl::pooling_forward::primitive_desc pd;
    dnnl::pooling_forward primitive;
    Shape out_nchw;
  };

  absl::StatusOr<std::shared_ptr<const Entry>> Build(const Shape& nchw) const {
    std::vector<int64_t> kernel = kernel_;
    Window win;
    if (global_) {
      kernel = {nchw[2], nchw[3]};
      win = {{1, 1}, {0, 0}, {0, 0}};
    } else {
      ASSIGN_OR_RETURN(win, ComputeWindow({nchw[2], nchw[3]}, kernel, attrs_, ceil_mode_));
    }
    Shape out_nchw = {nchw[0], nchw[1], win.out[0], win.out[1]};
    memory::desc src(Dims(nchw), kF32, Tag::nhwc), dst(Dims(out_nchw), kF32, Tag::nhwc);
    const dnnl::algorithm alg = max_ ? dnnl::algorithm::pooling_max
                                : include_pad_ ? dnnl::algorithm::pooling_avg_include_padding
                                               : dnnl::algorithm::pooling_avg_exclude_padding;
    std::vector<int64_t> strides = global_ ? std::vector<int64_t>{1, 1}
                                           : attrs_.GetInts("strides", {1, 1});
    dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, alg, src, dst,
                                     memory::dims(strides.begin(), strides.end()),
                                     memory::dims(kernel.begin(), kernel.end()), win.pad_begin,
                                     win.pad_end);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    auto entry = std::make_shared<Entry>();
    entry->pd = dnnl::pooling_forward::primitive_desc(desc, attr, Engine());
    entry->primitive = dnnl::pooling_forward(entry->pd);
    entry->out_nchw = out_nchw;
    return std::shared_ptr<const Entry>(std::move(entry));
  }

  PoolKernel() = default;
  bool global_ = false, max_ = false, ceil_mode_ = false, include_pad_ = false;
  std::vector<int64_t> kernel_;
  AttributeMap attrs_;
  PrimitiveCache<Entry> cache_;
};

// ---------------------------------------------------------------------------------------------
// Transpose between channels-first and channels-last (rank 4) as a reorder
// ---------------------------------------------------------------------------------------------

class TransposeKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const std::vector<int64_t> perm = info.attrs->GetInts("perm");
    if (!IsF32(info, 0) || (perm != ToChannelsLastPerm(4) && perm != ToChannelsFirstPerm(4))) {
      return Unimplemented("Transpose", "only the rank-4 layout permutations of float32");
    }
    std::unique_ptr<TransposeKernel> k(new TransposeKernel());
    k->to_last_ = perm == ToChannelsLastPerm(4);
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->rank() != 4 || x->dtype() != DType::kFloat32) {
      return absl::InvalidArgumentError(
          absl::StrCat("Transpose: expected 4-D float32, got ", ShapeToString(x->shape())));
    }
    const Shape nchw = to_last_ ? x->shape() : ToChannelsFirst(x->shape());
    const CoreShare share;
    ASSIGN_OR_RETURN(auto entry, cache_.Get(nchw, share.threads(), [&]() -> absl::StatusOr<std::shared_ptr<const Entry>> {
      auto e = std::make_shared<Entry>();
      e->from = memory::desc(Dims(nchw), kF32, to_last_ ? Tag::nchw : Tag::nhwc);
      e->to = memory::desc(Dims(nchw), kF32, to_last_ ? Tag::nhwc : Tag::nchw);
      e->primitive = dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), e->from, Engine(), e->to));
      return std::shared_ptr<const Entry>(std::move(e));
    }));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kFloat32,
                                                    to_last_ ? ToChannelsLast(nchw) : nchw));
    return Guarded(share.threads(), [&] {
      memory from(entry->from, Engine(), const_cast<void*>(x->raw_data()));
      memory to(entry->to, Engine(), y->raw_data());
      dnnl::stream stream(Engine());
      entry->primitive.execute(stream, from, to);
      stream.wait();
      return absl::OkStatus();
    });
  }

 private:
  struct Entry {
    memory::desc from, to;
    dnnl::reorder primitive;
  };
  TransposeKernel() = default;
  bool to_last_ = false;
  PrimitiveCache<Entry> cache_;
};

// A backend that runs a node exactly when its kernel accepts the node's attributes and inputs.
class OnednnBackend final : public Backend {
 public:
  std::string name() const override { return kOnednn; }
  int priority() const override { return 10; }
  bool Supports(const KernelInfo& node) const override { return CreateKernel(node).ok(); }
};

CORTADO_REGISTER_BACKEND(OnednnBackend);
CORTADO_REGISTER_DOMAIN_KERNEL("FusedConv", kFusedDomain, kOnednn, 1, kMaxOpset,
                               {DType::kFloat32}, ConvKernel::Create);
CORTADO_REGISTER_DOMAIN_KERNEL("FusedConv", kNhwcDomain, kOnednn, 1, kMaxOpset,
                               {DType::kFloat32}, ConvKernel::Create);
CORTADO_REGISTER_DOMAIN_KERNEL("FusedMatMul", kFusedDomain, kOnednn, 1, kMaxOpset,
                               {DType::kFloat32}, MatMulKernel::Create);
CORTADO_REGISTER_KERNEL("Softmax", kOnednn, 1, kMaxOpset, {DType::kFloat32}, SoftmaxKernel::Create);
CORTADO_REGISTER_KERNEL("LayerNormalization", kOnednn, 17, kMaxOpset, {DType::kFloat32},
                        LayerNormKernel::Create);
CORTADO_REGISTER_KERNEL("LSTM", kOnednn, 7, kMaxOpset, {DType::kFloat32}, LstmKernel::Create);
CORTADO_REGISTER_DOMAIN_KERNEL("MaxPool", kNhwcDomain, kOnednn, 1, kMaxOpset, {DType::kFloat32},
                               PoolKernel::Create);
CORTADO_REGISTER_DOMAIN_KERNEL("AveragePool", kNhwcDomain, kOnednn, 1, kMaxOpset,
                               {DType::kFloat32}, PoolKernel::Create);
CORTADO_REGISTER_DOMAIN_KERNEL("GlobalAveragePool", kNhwcDomain, kOnednn, 1, kMaxOpset,
                               {DType::kFloat32}, PoolKernel::Create);
CORTADO_REGISTER_DOMAIN_KERNEL("GlobalMaxPool", kNhwcDomain, kOnednn, 1, kMaxOpset,
                               {DType::kFloat32}, PoolKernel::Create);
CORTADO_REGISTER_KERNEL("Transpose", kOnednn, 1, kMaxOpset, {DType::kFloat32},
                        TransposeKernel::Create);

}  // namespace
}  // namespace cortado
