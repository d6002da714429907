// The optimized LSTM of backend "cpu_opt": float32, forward, reverse or bidirectional,
// time-major (layout 0), the default activations (Sigmoid, Tanh, Tanh), constant weights and
// bias, optional initial states; no sequence_lens, peepholes, clip or input_forget (those run on
// the reference kernel of ops/rnn.cc, which is also what //backends:backends_test compares this
// one with). Built for small batches, where a recurrent step is a matrix-vector product:
//   - at load, W^T is stored with its columns in block order (below) and R is packed per block of
//     hidden units, each block holding, for every input unit p, the four gates of its units
//     side by side, so that one step of a block reads one contiguous panel;
//   - per run and direction, the input projection of every time step (X * W^T + Wb + Rb) is one
//     BlockedGemm (backends/cpu/gemm.h);
//   - each step then adds H_prev * R^T block by block, in registers (a panel read once for up to
//     three batch rows), and applies the cell (FastSigmoid, FastTanh of ops/elementwise.h, on
//     whole vectors) to the block's units while they are hot; the blocks split over the intra-op
//     threads.
// The block is two SIMD vectors of hidden units per gate, for the ISA that simd::ActiveIsa()
// (backends/cpu/simd.h) gives when the kernel is created. Kernels are immutable: thread-safe.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/gemm.h"
#include "backends/cpu/simd.h"
#include "core/thread_pool.h"
#include "ops/elementwise.h"
#include "ops/registry.h"

namespace cortado {
namespace {

using namespace simd;  // NOLINT(build/namespaces): the vector types and broadcasts

constexpr int kGates = 4;  // ONNX's order: i, o, f, c

// What one step of one direction reads and writes. Row r of the batch: h_prev + r * ld,
// h_next + r * ld and c + r * ld (ld >= the padded hidden size), xw + r * ld_xw (the step's
// input projection and bias, in block order).
struct StepArgs {
  int64_t rows, hidden, ld, ld_xw;
  const float* h_prev;
  const float* xw;
  const float* r;  // the packed recurrent weights of the direction
  float* h_next;
  float* c;
};

// out[r][n * lanes + l] = init[r * ld_init + ...] + sum over p < k of h[r * ldh + p] * w[p][...]
// for kRows rows and kN vectors, every kStride-th vector of a panel row (whose length is
// kN * kStride vectors): pre-activations of a block, accumulated in registers.
template <typename V, typename Bcast, int kRows, int kN, int kStride>
inline void BlockProduct(int64_t k, const float* __restrict h, int64_t ldh,
                         const float* __restrict w, const float* __restrict init, int64_t ld_init,
                         float* __restrict out) {
  constexpr int kLanes = sizeof(V) / sizeof(float);
  V acc[kRows][kN];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < kN; ++j)
      std::memcpy(&acc[r][j], init + r * ld_init + j * kStride * kLanes, sizeof(V));
  }
  for (int64_t p = 0; p < k; ++p) {
    V hv[kRows];
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) hv[r] = Bcast::Load(h + r * ldh + p);
#pragma GCC unroll 8
    for (int j = 0; j < kN; ++j) {
      V wv;
      std::memcpy(&wv, w + j * kStride * kLanes, sizeof(V));
#pragma GCC unroll 4
      for (int r = 0; r < kRows; ++r) acc[r][j] += hv[r] * wv;
    }
    w += kN * kStride * kLanes;
  }
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < kN; ++j) std::memcpy(out + (r * kN + j) * kLanes, &acc[r][j], sizeof(V));
  }
}

// The LSTM cell on kVecs vectors of units of one row: g holds the pre-activations of gates i, o,
// f, c (kVecs vectors each); c is updated in place and h receives the new hidden state.
template <typename V, int kVecs>
inline void LstmCell(const float* __restrict g, float* __restrict c, float* __restrict h) {
  constexpr int kLanes = sizeof(V) / sizeof(float), kU = kVecs * kLanes;
  for (int u = 0; u < kU; u += kLanes) {
    V gi, go, gf, gc, cv;
    std::memcpy(&gi, g + u, sizeof(V));
    std::memcpy(&go, g + kU + u, sizeof(V));
    std::memcpy(&gf, g + 2 * kU + u, sizeof(V));
    std::memcpy(&gc, g + 3 * kU + u, sizeof(V));
    std::memcpy(&cv, c + u, sizeof(V));
    const V c_new = FastSigmoid(gf) * cv + FastSigmoid(gi) * FastTanh(gc);
    const V h_new = FastSigmoid(go) * FastTanh(c_new);
    std::memcpy(c + u, &c_new, sizeof(V));
    std::memcpy(h + u, &h_new, sizeof(V));
  }
}

// Units per block for vector type V: two vectors per gate.
template <typename V>
constexpr int BlockUnits() {
  return 2 * static_cast<int>(sizeof(V) / sizeof(float));
}

// One step for blocks [b0, b1). A block is computed in kParts parts, part q being vector q of
// each gate's two (the part's vectors are every kParts-th vector of a panel row), and up to
// kMaxRows batch rows share each read of a part: kMaxRows * 8 / kParts accumulators.
template <typename V, typename Bcast, int kMaxRows, int kParts>
inline void StepBody(const StepArgs& a, int64_t b0, int64_t b1) {
  constexpr int kLanes = sizeof(V) / sizeof(float), kU = BlockUnits<V>();
  constexpr int kVecs = 2 / kParts, kN = kGates * kVecs;  // per gate, per part
  float gates[kMaxRows * kN * kLanes];
  for (int64_t blk = b0; blk < b1; ++blk) {
    for (int q = 0; q < kParts; ++q) {
      const float* w = a.r + blk * a.hidden * kGates * kU + q * kLanes;
      for (int64_t r0 = 0; r0 < a.rows; r0 += kMaxRows) {
        const int64_t n = std::min<int64_t>(kMaxRows, a.rows - r0);
        const float* h = a.h_prev + r0 * a.ld;
        const float* init = a.xw + r0 * a.ld_xw + blk * kGates * kU + q * kLanes;
        if (kMaxRows >= 3 && n == 3) {
          BlockProduct<V, Bcast, (kMaxRows >= 3 ? 3 : 1), kN, kParts>(a.hidden, h, a.ld, w, init,
                                                                      a.ld_xw, gates);
        } else if (kMaxRows >= 2 && n == 2) {
          BlockProduct<V, Bcast, (kMaxRows >= 2 ? 2 : 1), kN, kParts>(a.hidden, h, a.ld, w, init,
                                                                      a.ld_xw, gates);
        } else {
          BlockProduct<V, Bcast, 1, kN, kParts>(a.hidden, h, a.ld, w, init, a.ld_xw, gates);
        }
        for (int64_t r = 0; r < n; ++r) {
          const int64_t at = (r0 + r) * a.ld + blk * kU + q * kLanes;
          LstmCell<V, kVecs>(gates + r * kN * kLanes, a.c + at, a.h_next + at);
        }
      }
    }
  }
}

using StepFn = void (*)(const StepArgs& a, int64_t b0, int64_t b1);

// 16 registers: one row reads a whole block (8 accumulators); more rows take a block in two
// halves, three rows at a time (12 accumulators), so that a panel is read once per three rows.
template <typename V, typename Bcast>
inline void Step16Registers(const StepArgs& a, int64_t b0, int64_t b1) {
  if (a.rows == 1) {
    StepBody<V, Bcast, 1, 1>(a, b0, b1);
  } else {
    StepBody<V, Bcast, 3, 2>(a, b0, b1);
  }
}

// Baseline: 16 registers of 128 bits.
__attribute__((flatten)) void StepSse(const StepArgs& a, int64_t b0, int64_t b1) {
  Step16Registers<F32x4, BcastLanes<F32x4>>(a, b0, b1);
}
#ifdef CORTADO_SIMD_X86
// AVX2 + FMA: 16 registers of 256 bits.
__attribute__((target("avx2,fma"), flatten)) void StepAvx2(const StepArgs& a, int64_t b0,
                                                           int64_t b1) {
  Step16Registers<F32x8, BcastAvx2>(a, b0, b1);
}
// AVX-512: 32 registers of 512 bits, up to three rows (24 accumulators) per panel read.
__attribute__((target("avx512f"), flatten)) void StepAvx512(const StepArgs& a, int64_t b0,
                                                            int64_t b1) {
  StepBody<F32x16, BcastAvx512, 3, 1>(a, b0, b1);
}
#endif

// The step routine for ActiveIsa() and its block width.
struct StepRoutine {
  StepFn step;
  int units;
};

StepRoutine ActiveStepRoutine() {
  switch (ActiveIsa()) {
#ifdef CORTADO_SIMD_X86
    case Isa::kAvx512:
      return {StepAvx512, BlockUnits<F32x16>()};
    case Isa::kAvx2:
      return {StepAvx2, BlockUnits<F32x8>()};
#endif
    default:
      return {StepSse, BlockUnits<F32x4>()};
  }
}

// Input slots (ops/rnn.cc).
constexpr int kX = 0, kW = 1, kR = 2, kB = 3, kSeqLens = 4, kInitialH = 5, kInitialC = 6,
              kPeepholes = 7;

class LstmKernel final : public Kernel {
 public:
  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    const AttributeMap& a = *info.attrs;
    const std::vector<const Tensor*>& c = info.constant_inputs;
    auto absent = [&](size_t i) {
      return i >= info.input_dtypes.size() || info.input_dtypes[i] == DType::kUndefined;
    };
    const std::string direction = a.GetString("direction", "forward");
    const int64_t dirs = direction == "bidirectional" ? 2 : 1;
    auto constant_f32 = [&](size_t i, int rank) {
      return i < c.size() && c[i] != nullptr && c[i]->dtype() == DType::kFloat32 &&
             c[i]->rank() == rank && c[i]->dim(0) == dirs;
    };
    bool default_activations = true;
    if (a.Has("activations")) {
      const std::vector<std::string> given = a.GetStrings("activations");
      const char* const want[] = {"sigmoid", "tanh", "tanh"};
      default_activations = given.size() == 3 || given.size() == 3 * static_cast<size_t>(dirs);
      for (size_t i = 0; default_activations && i < given.size(); ++i) {
        default_activations = absl::AsciiStrToLower(given[i]) == want[i % 3];
      }
    }
    const int64_t layout = info.opset >= 14 ? a.GetInt("layout", 0) : 0;
    if (absent(kX) || info.input_dtypes[kX] != DType::kFloat32 || !constant_f32(kW, 3) ||
        !constant_f32(kR, 3) || !(absent(kB) || constant_f32(kB, 2)) || !absent(kSeqLens) ||
        !absent(kPeepholes) ||
        (direction != "forward" && direction != "reverse" && direction != "bidirectional") ||
        layout != 0 || a.GetInt("input_forget", 0) != 0 || a.Has("clip") || !default_activations) {
      return absl::UnimplementedError(
          "cpu_opt LSTM: float32, default activations, constant weights, time-major; no "
          "sequence_lens, peepholes, clip or input_forget");
    }
    const Tensor& w = *c[kW];
    const Tensor& r = *c[kR];
    const int64_t h = r.dim(2), input = w.dim(2);
    if (h <= 0 || w.dim(1) != kGates * h || r.dim(1) != kGates * h ||
        (!absent(kB) && c[kB]->dim(1) != 2 * kGates * h) ||
        (a.Has("hidden_size") && a.GetInt("hidden_size") != h)) {
      return absl::UnimplementedError("cpu_opt LSTM: weights that do not match hidden_size");
    }
    std::unique_ptr<LstmKernel> k(new LstmKernel());
    k->routine_ = ActiveStepRoutine();
    k->hidden_ = h;
    k->input_ = input;
    k->dirs_ = dirs;
    k->reverse_ = direction == "reverse";
    const int64_t u = k->routine_.units;
    k->padded_ = (h + u - 1) / u * u;
    for (int64_t d = 0; d < dirs; ++d) {
      k->directions_.push_back(
          k->Pack(w.data<float>() + d * kGates * h * input, r.data<float>() + d * kGates * h * h,
                  absent(kB) ? nullptr : c[kB]->data<float>() + d * 2 * kGates * h));
    }
    return std::unique_ptr<Kernel>(std::move(k));
  }

  absl::Status Compute(KernelContext& ctx) const override;

  bool OwnsConstantInput(int i) const override { return i == kW || i == kR || i == kB; }

 private:
  // One direction's weights, packed. Columns (of W^T, of the bias) run in block order:
  // block b, gate g, unit j of the block is hidden unit b * units + j of gate g; the padding
  // units past the hidden size have zero weights and bias, so their state stays zero.
  struct Packed {
    std::vector<float> w;     // [input][4 * padded]: W^T, its columns in block order
    std::vector<float> r;     // [blocks][hidden][4 * units]: R^T's panels
    std::vector<float> bias;  // [4 * padded]: Wb + Rb in block order
  };

  LstmKernel() = default;

  // The block-order column of gate g, hidden unit j.
  int64_t Column(int64_t g, int64_t j) const {
    const int64_t u = routine_.units;
    return (j / u * kGates + g) * u + j % u;
  }

  Packed Pack(const float* w, const float* r, const float* b) const {
    const int64_t h = hidden_, u = routine_.units, cols = kGates * padded_;
    Packed p;
    p.w.assign(cols * input_, 0.0f);
    p.r.assign(cols * h, 0.0f);
    p.bias.assign(cols, 0.0f);
    for (int64_t g = 0; g < kGates; ++g) {
      for (int64_t j = 0; j < h; ++j) {
        const int64_t row = g * h + j, col = Column(g, j);
        for (int64_t i = 0; i < input_; ++i) p.w[i * cols + col] = w[row * input_ + i];
        // Panel of block j / u: [hidden][4 * units], column col % (4 * units).
        float* panel = p.r.data() + j / u * h * kGates * u;
        for (int64_t q = 0; q < h; ++q) panel[q * kGates * u + col % (kGates * u)] = r[row * h + q];
        if (b != nullptr) p.bias[col] = b[row] + b[kGates * h + row];
      }
    }
    return p;
  }

  StepRoutine routine_{};
  int64_t hidden_ = 0, input_ = 0, dirs_ = 1, padded_ = 0;
  bool reverse_ = false;
  std::vector<Packed> directions_;
};

absl::Status LstmKernel::Compute(KernelContext& ctx) const {
  ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(kX));
  if (x->rank() != 3 || x->dtype() != DType::kFloat32 || x->dim(2) != input_) {
    return absl::InvalidArgumentError(absl::StrCat("LSTM: X must be float32 [seq, batch, ", input_,
                                                   "], got ", DTypeName(x->dtype()), " ",
                                                   ShapeToString(x->shape())));
  }
  const int64_t seq = x->dim(0), batch = x->dim(1), h = hidden_, hp = padded_;
  const Shape state{dirs_, batch, h};
  const Tensor* init[2] = {ctx.input(kInitialH), ctx.input(kInitialC)};
  for (const Tensor* s : init) {
    if (s != nullptr && (s->dtype() != DType::kFloat32 || s->shape() != state)) {
      return absl::InvalidArgumentError(
          absl::StrCat("LSTM: an initial state must be float32 ", ShapeToString(state), ", got ",
                       DTypeName(s->dtype()), " ", ShapeToString(s->shape())));
    }
  }
  float* y = nullptr;
  float* finals[2] = {nullptr, nullptr};  // Y_h, Y_c
  if (ctx.num_outputs() > 0) {
    ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(0, DType::kFloat32, {seq, dirs_, batch, h}));
    y = t->data<float>();
  }
  for (int i = 0; i < 2 && i + 1 < ctx.num_outputs(); ++i) {
    ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(i + 1, DType::kFloat32, state));
    finals[i] = t->data<float>();
  }
  const int64_t cols = kGates * hp, u = routine_.units, blocks = hp / u;
  std::vector<float> xw(seq * batch * cols), h_prev(batch * hp), h_next(batch * hp), c(batch * hp);
  // Blocks per chunk of the intra-op threads: at least some 64K multiply-adds each.
  const int64_t block_work = std::max<int64_t>(1, batch * h * kGates * u);
  const int64_t min_blocks = std::max<int64_t>(1, (int64_t{1} << 16) / block_work);
  for (int64_t d = 0; d < dirs_; ++d) {
    const Packed& p = directions_[d];
    const bool reverse = reverse_ || d == 1;
    // xw = X * W^T + bias, every step at once.
    for (int64_t row = 0; row < seq * batch; ++row) {
      std::copy(p.bias.begin(), p.bias.end(), xw.begin() + row * cols);
    }
    BlockedGemm<float>(false, false, seq * batch, cols, input_, 1.0f, x->data<float>(), input_,
                       p.w.data(), cols, 1.0f, xw.data(), cols);
    std::fill(h_prev.begin(), h_prev.end(), 0.0f);
    std::fill(c.begin(), c.end(), 0.0f);
    std::fill(h_next.begin(), h_next.end(), 0.0f);  // its padding stays zero too
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t at = (d * batch + b) * h;
      if (init[0] != nullptr) std::copy_n(init[0]->data<float>() + at, h, h_prev.data() + b * hp);
      if (init[1] != nullptr) std::copy_n(init[1]->data<float>() + at, h, c.data() + b * hp);
    }
    StepArgs args{batch, h, hp, cols, nullptr, nullptr, p.r.data(), nullptr, c.data()};
    float* prev = h_prev.data();
    float* next = h_next.data();
    for (int64_t s = 0; s < seq; ++s) {
      const int64_t t = reverse ? seq - 1 - s : s;
      args.h_prev = prev;
      args.h_next = next;
      args.xw = xw.data() + t * batch * cols;
      ParallelFor(blocks, min_blocks, [&](int64_t b0, int64_t b1) { routine_.step(args, b0, b1); });
      if (y != nullptr) {
        for (int64_t b = 0; b < batch; ++b) {
          std::copy_n(next + b * hp, h, y + ((t * dirs_ + d) * batch + b) * h);
        }
      }
      std::swap(prev, next);
    }
    // With no step at all the final states are zero, as the reference kernel reports them.
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t at = (d * batch + b) * h;
      if (finals[0] != nullptr) {
        if (seq == 0)
          std::fill_n(finals[0] + at, h, 0.0f);
        else
          std::copy_n(prev + b * hp, h, finals[0] + at);
      }
      if (finals[1] != nullptr) {
        if (seq == 0)
          std::fill_n(finals[1] + at, h, 0.0f);
        else
          std::copy_n(c.data() + b * hp, h, finals[1] + at);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

CORTADO_REGISTER_KERNEL("LSTM", kCpuOptBackend, 7, kMaxOpset, {DType::kFloat32},
                        LstmKernel::Create);

}  // namespace cortado
