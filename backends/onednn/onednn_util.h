// Helpers the oneDNN backend's kernels share (backends/onednn/*.cc): the CPU engine, the
// primitive cache, primitives bound to their arguments, packed weights, window geometry and the
// activation post-ops. Every kernel file includes this; nothing outside backends/onednn does.
// The helpers are thread-safe: PrimitiveCache, BoundPrimitive and PackedWeights guard their
// state with a mutex, and the rest hold no state. Kernels size their thread teams with
// core/thread_pool.h's CoreShare.
#ifndef CORTADO_BACKENDS_ONEDNN_ONEDNN_UTIL_H_
#define CORTADO_BACKENDS_ONEDNN_ONEDNN_UTIL_H_

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <dnnl.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "backends/backend.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "ops/fused.h"
#include "ops/kernel.h"
#include "ops/registry.h"

namespace cortado {
namespace onednn {

constexpr char kOnednn[] = "onednn";
constexpr int kOnednnPriority = 10;
using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kF32 = memory::data_type::f32;

inline dnnl::engine& Engine() {
  static auto* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

inline memory::dims Dims(const Shape& s) { return memory::dims(s.begin(), s.end()); }

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

// The calling thread's stream on Engine(). A CPU stream holds no per-call state, so one per
// thread serves every primitive that thread runs (creating one per call cost about a microsecond,
// which small products such as the MLP's feel).
inline dnnl::stream& ThreadStream() {
  thread_local dnnl::stream stream(Engine());
  return stream;
}

// A scratchpad of `desc`'s size in `buffer` (64-byte aligned), or nullopt when it needs none.
inline std::optional<memory> NewScratchpad(const memory::desc& desc,
                                           std::unique_ptr<char[]>* buffer) {
  const size_t size = desc.get_size();
  if (size == 0) return std::nullopt;
  buffer->reset(new char[size + 64]);
  void* aligned =
      reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(buffer->get()) + 63) & ~uintptr_t{63});
  return memory(desc, Engine(), aligned);
}

// Executes a primitive on the calling thread with a scratchpad of its own, for arguments that vary
// per call in number or layout (the RNN's optional states); the others use BoundPrimitive.
inline absl::Status Execute(const dnnl::primitive& p, const dnnl::primitive_desc_base& pd,
                            std::unordered_map<int, memory> args) {
  std::unique_ptr<char[]> buffer;
  if (std::optional<memory> scratchpad = NewScratchpad(pd.scratchpad_desc(), &buffer)) {
    args.emplace(DNNL_ARG_SCRATCHPAD, *scratchpad);
  }
  dnnl::stream& stream = ThreadStream();
  p.execute(stream, args);
  stream.wait();
  return absl::OkStatus();
}

// A primitive with its argument memory objects, argument array and scratchpad made once, for
// kernels whose per-call cost oneDNN's work does not hide (the MLP's small products). A call takes
// one set from a pool (a set per concurrent call), points the per-run arguments at its tensors
// with set_data_handle and executes through oneDNN's C API, so a steady stream of same-shape
// calls creates no memory objects, argument maps or scratchpads (each set keeps its scratchpad
// while the kernel lives). The per-run arguments must be in plain (unpadded) layouts, for which
// set_data_handle only swaps the pointer.
class BoundPrimitive {
 public:
  // `per_run`: the arguments Execute points at data, in that order; `fixed`: the others.
  BoundPrimitive(const dnnl::primitive_desc_base& pd, std::vector<int> per_run,
                 std::unordered_map<int, memory> fixed = {})
      : primitive_(pd.get()),
        per_run_(std::move(per_run)),
        fixed_(std::move(fixed)),
        scratchpad_(pd.scratchpad_desc()) {
    for (int arg : per_run_) descs_.push_back(pd.query_md(dnnl::query::exec_arg_md, arg));
  }

  // Runs the primitive on the calling thread with `data[i]` as the argument per_run[i]. Called
  // inside Guarded.
  absl::Status Execute(std::initializer_list<const void*> data) const {
    if (data.size() != per_run_.size()) return absl::InternalError("BoundPrimitive: arity");
    std::unique_ptr<Args> args;
    {
      absl::MutexLock lock(&mu_);
      if (!free_.empty()) {
        args = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (args == nullptr) args = MakeArgs();
    size_t i = 0;
    for (const void* d : data) args->memories[i++].set_data_handle(const_cast<void*>(d));
    dnnl::stream& stream = ThreadStream();
    const dnnl_status_t status = dnnl_primitive_execute(
        primitive_.get(), stream.get(), static_cast<int>(args->c_args.size()), args->c_args.data());
    if (status == dnnl_success) stream.wait();
    absl::MutexLock lock(&mu_);
    free_.push_back(std::move(args));
    if (status != dnnl_success) {
      return absl::InternalError(absl::StrCat("oneDNN: execute failed with status ", status));
    }
    return absl::OkStatus();
  }

 private:
  struct Args {
    std::vector<memory> memories;  // the per-run arguments, then the scratchpad (if any)
    std::vector<dnnl_exec_arg_t> c_args;
    std::unique_ptr<char[]> scratchpad;
  };

  std::unique_ptr<Args> MakeArgs() const {
    auto args = std::make_unique<Args>();
    for (size_t i = 0; i < per_run_.size(); ++i) {
      args->memories.emplace_back(descs_[i], Engine(), static_cast<void*>(DNNL_MEMORY_NONE));
      args->c_args.push_back({per_run_[i], args->memories.back().get()});
    }
    for (const auto& [arg, m] : fixed_) args->c_args.push_back({arg, m.get()});
    if (std::optional<memory> scratchpad = NewScratchpad(scratchpad_, &args->scratchpad)) {
      args->memories.push_back(*scratchpad);
      args->c_args.push_back({DNNL_ARG_SCRATCHPAD, scratchpad->get()});
    }
    return args;
  }

  const dnnl::primitive primitive_;
  const std::vector<int> per_run_;
  std::vector<memory::desc> descs_;
  const std::unordered_map<int, memory> fixed_;
  const memory::desc scratchpad_;
  mutable absl::Mutex mu_;
  mutable std::vector<std::unique_ptr<Args>> free_ ABSL_GUARDED_BY(mu_);
};

// Primitive attributes with the scratchpad left to the caller (Execute gives each run its own,
// so that one primitive serves concurrent runs).
inline dnnl::primitive_attr UserScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// A sum post-op adds onto what dst holds: dst starts as a copy of the addend, which must have
// dst's shape, unless the memory plan put dst over the addend already (MayOverwriteInput).
// `what` names the addend in errors.
inline absl::Status StartFromAddend(absl::string_view what, const Tensor* addend, Tensor* dst) {
  if (addend == nullptr || addend->shape() != dst->shape() || addend->dtype() != DType::kFloat32) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must be float32 of the output's shape ", ShapeToString(dst->shape()), ", got ",
        addend == nullptr ? std::string("none") : ShapeToString(addend->shape())));
  }
  if (dst->raw_data() != addend->raw_data()) {
    std::memcpy(dst->raw_data(), addend->raw_data(), dst->nbytes());
  }
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
  mutable std::map<std::vector<int64_t>, std::shared_ptr<const Entry>> entries_
      ABSL_GUARDED_BY(mu_);
};

// A constant weight tensor held in the layouts oneDNN asks for: the first request reorders the
// original (plain) tensor and releases it, or, when it asks for the plain layout itself (oneDNN's
// GEMM-based matmul below AVX-512), reads the original where it is; a later primitive that wants
// another layout is reordered from that first one. So a kernel keeps one copy of its weights,
// and never holds two at once while packing the first.
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
    if (packed_.empty()) {
      memory from(plain_, Engine(), const_cast<void*>(original_.raw_data()));
      if (want == plain_) {  // the original's bytes, which original_ keeps
        packed_.push_back(from);
        return from;
      }
      packed_.push_back(Reorder(from, want));
      original_ = Tensor();
      return packed_.back();
    }
    packed_.push_back(Reorder(packed_.front(), want));
    return packed_.back();
  }

 private:
  static memory Reorder(memory from, const memory::desc& want) {
    memory to(want, Engine());
    dnnl::stream stream(Engine());
    dnnl::reorder(from, to).execute(stream, from, to);
    stream.wait();
    return to;
  }

  mutable absl::Mutex mu_;
  mutable Tensor original_ ABSL_GUARDED_BY(mu_);
  const memory::desc plain_;
  mutable std::vector<memory> packed_ ABSL_GUARDED_BY(mu_);
};

// A shape hint with unknown dimensions taken as 1 (the batch, mostly), or nullopt when a
// dimension other than the first is unknown.
inline std::optional<Shape> HintShape(const KernelInfo& info, size_t input) {
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

inline absl::StatusOr<Window> ComputeWindow(const std::vector<int64_t>& in,
                                            const std::vector<int64_t>& kernel,
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
inline Shape ToNchw(const Shape& s, bool channels_last) {
  return channels_last ? ToChannelsFirst(s) : s;
}
inline Shape FromNchw(const Shape& s, bool channels_last) {
  return channels_last ? ToChannelsLast(s) : s;
}

inline absl::Status Unimplemented(absl::string_view op, absl::string_view why) {
  return absl::UnimplementedError(absl::StrCat("onednn ", op, ": ", why));
}

// The kernel the plan would place on the node without oneDNN (that of the highest-priority
// backend below it that the plan allows and that creates one; the reference kernel at least),
// for the calls a oneDNN kernel leaves to it: tensors too small for oneDNN's fixed cost per call
// to pay off, or shapes it cannot express. Without `reference`, Unimplemented when only the
// reference kernel would take the node.
inline absl::StatusOr<std::unique_ptr<Kernel>> FallbackKernel(const KernelInfo& info,
                                                              bool reference = true) {
  std::vector<const Backend*> below;
  for (const Backend* b : AllowedBackends(info.backends)) {
    if (b->priority() < kOnednnPriority && (reference || b->name() != kCpuBackend)) {
      below.push_back(b);
    }
  }
  ASSIGN_OR_RETURN(PlacedKernel placed, CreateKernelOnFirst(below, info));
  return std::move(placed.kernel);
}

// A kernel that holds its node's FallbackKernel, for the calls it leaves to it.
class WithFallback : public Kernel {
 protected:
  absl::Status InitFallback(const KernelInfo& info) {
    ASSIGN_OR_RETURN(fallback_, FallbackKernel(info));
    return absl::OkStatus();
  }
  std::unique_ptr<Kernel> fallback_;
};

// A measured size below which a kernel leaves a call to its FallbackKernel, oneDNN's fixed
// cost per call (primitive lookup, stream, thread team) being larger than the work there. The
// build that bench/onednn_bench times (CORTADO_ONEDNN_NO_THRESHOLDS) runs oneDNN at every size.
constexpr int64_t Threshold(int64_t measured) {
#ifdef CORTADO_ONEDNN_NO_THRESHOLDS
  static_cast<void>(measured);
  return 0;
#else
  return measured;
#endif
}

inline bool IsF32(const KernelInfo& info, size_t i) {
  return i < info.input_dtypes.size() && info.input_dtypes[i] == DType::kFloat32;
}

// The oneDNN post-op for a fused activation, or nullopt when oneDNN has none.
struct EltwiseOp {
  dnnl::algorithm alg;
  float alpha = 0, beta = 0;
};

inline std::optional<EltwiseOp> ToEltwise(const std::string& name, const std::vector<float>& p) {
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

// Row-major strides of `dims`, for a plain memory descriptor of any rank.
inline memory::desc Plain(const memory::dims& dims) {
  memory::dims strides(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * dims[i + 1];
  return memory::desc(dims, kF32, strides);
}

}  // namespace onednn
}  // namespace cortado

#endif  // CORTADO_BACKENDS_ONEDNN_ONEDNN_UTIL_H_
