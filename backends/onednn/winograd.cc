// Winograd F(2x2, 3x3) (see winograd.h). Lavin and Gray's transforms, "Fast Algorithms for
// Convolutional Neural Networks" (2015): Y = A^T [(G g G^T) . (B^T d B)] A per 4x4 input tile d
// and 2x2 output tile, the 16 products of a block of tiles summed over channels as 16 GEMMs.
#include "backends/onednn/winograd.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace cortado {
namespace onednn {
namespace {

std::atomic<bool> enabled{true};

// Eight floats (GCC's vector extension, AVX under target("avx2,fma")), or one for channel tails.
typedef float F8 __attribute__((vector_size(32)));

template <typename V>
__attribute__((target("avx2,fma"), always_inline)) inline V Load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}

template <typename V>
__attribute__((target("avx2,fma"), always_inline)) inline void Store(float* p, V v) {
  std::memcpy(p, &v, sizeof(V));
}

// B^T d B of the channels at `c` of one tile: in[i * 4 + j] is the input row i, column j (nullptr
// in the padding); out + k * plane is the transformed value k.
template <typename V>
__attribute__((target("avx2,fma"), always_inline)) inline void InputTile(const float* const* in,
                                                                         int64_t c, float* out,
                                                                         int64_t plane) {
  V d[16], t[16];
  for (int k = 0; k < 16; ++k) d[k] = in[k] != nullptr ? Load<V>(in[k] + c) : V{};
  for (int j = 0; j < 4; ++j) {  // B^T d: rows
    t[0 * 4 + j] = d[0 * 4 + j] - d[2 * 4 + j];
    t[1 * 4 + j] = d[1 * 4 + j] + d[2 * 4 + j];
    t[2 * 4 + j] = d[2 * 4 + j] - d[1 * 4 + j];
    t[3 * 4 + j] = d[1 * 4 + j] - d[3 * 4 + j];
  }
  for (int i = 0; i < 4; ++i) {  // (B^T d) B: columns
    const V* r = t + i * 4;
    Store(out + (i * 4 + 0) * plane + c, r[0] - r[2]);
    Store(out + (i * 4 + 1) * plane + c, r[1] + r[2]);
    Store(out + (i * 4 + 2) * plane + c, r[2] - r[1]);
    Store(out + (i * 4 + 3) * plane + c, r[1] - r[3]);
  }
}

struct Epilogue {
  const float* bias;
  bool has_z;
  int kind;  // 0 none, 1 relu (slope alpha below zero), 2 clip to [alpha, beta]
  float alpha, beta;
};

// A^T m A of the channels at `c` of one tile, plus bias and Z, activated: m + k * plane is the
// product k; out[a * 2 + b] the output row a, column b (nullptr outside Y).
template <typename V>
__attribute__((target("avx2,fma"), always_inline)) inline void OutputTile(const float* m,
                                                                          int64_t plane, int64_t c,
                                                                          float* const* out,
                                                                          const Epilogue& e) {
  V t[8];
  for (int j = 0; j < 4; ++j) {  // A^T m: rows
    const V m0 = Load<V>(m + (0 * 4 + j) * plane + c), m1 = Load<V>(m + (1 * 4 + j) * plane + c);
    const V m2 = Load<V>(m + (2 * 4 + j) * plane + c), m3 = Load<V>(m + (3 * 4 + j) * plane + c);
    t[j] = m0 + m1 + m2;
    t[4 + j] = m1 - m2 - m3;
  }
  const V bias = Load<V>(e.bias + c);
  const V alpha = V{} + e.alpha, beta = V{} + e.beta, zero = V{};
  for (int a = 0; a < 2; ++a) {  // (A^T m) A: columns
    const V* r = t + a * 4;
    const V y[2] = {r[0] + r[1] + r[2], r[1] - r[2] - r[3]};
    for (int b = 0; b < 2; ++b) {
      float* p = out[a * 2 + b];
      if (p == nullptr) continue;
      V v = y[b] + bias;
      if (e.has_z) v += Load<V>(p + c);
      if (e.kind == 1) v = v > zero ? v : v * alpha;
      if (e.kind == 2) v = v < alpha ? alpha : (v > beta ? beta : v);
      Store(p + c, v);
    }
  }
}

// The sizes of a run: input H, W, C; output OH, OW, OC; the top and left padding; tiles per
// column and row.
struct Geometry {
  int64_t h, w, c, oh, ow, oc, pad_top, pad_left, tiles_h, tiles_w;
};

// The transformed input [16][block][C] of tiles [t0, t0 + count).
__attribute__((target("avx2,fma"))) void InputBlock(const float* x, const Geometry& g, int64_t t0,
                                                    int64_t count, int64_t block, float* v) {
  const int64_t c = g.c;
  for (int64_t t = 0; t < count; ++t) {
    const int64_t tile = t0 + t, img = tile / (g.tiles_h * g.tiles_w);
    const int64_t r0 = (tile / g.tiles_w) % g.tiles_h * 2 - g.pad_top;
    const int64_t c0 = tile % g.tiles_w * 2 - g.pad_left;
    const float* in[16];
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 4; ++j) {
        const int64_t r = r0 + i, col = c0 + j;
        in[i * 4 + j] = r >= 0 && r < g.h && col >= 0 && col < g.w
                            ? x + ((img * g.h + r) * g.w + col) * c
                            : nullptr;
      }
    }
    int64_t ch = 0;
    for (; ch + 8 <= c; ch += 8) InputTile<F8>(in, ch, v + t * c, block * c);
    for (; ch < c; ++ch) InputTile<float>(in, ch, v + t * c, block * c);
  }
}

// Y of tiles [t0, t0 + count) from their products [16][block][OC].
__attribute__((target("avx2,fma"))) void OutputBlock(const float* m, const Geometry& g, int64_t t0,
                                                     int64_t count, int64_t block, float* y,
                                                     const Epilogue& e) {
  const int64_t oc = g.oc;
  for (int64_t t = 0; t < count; ++t) {
    const int64_t tile = t0 + t, img = tile / (g.tiles_h * g.tiles_w);
    const int64_t r0 = (tile / g.tiles_w) % g.tiles_h * 2, c0 = tile % g.tiles_w * 2;
    float* out[4];
    for (int a = 0; a < 2; ++a) {
      for (int b = 0; b < 2; ++b) {
        const int64_t r = r0 + a, col = c0 + b;
        out[a * 2 + b] =
            r < g.oh && col < g.ow ? y + ((img * g.oh + r) * g.ow + col) * oc : nullptr;
      }
    }
    int64_t ch = 0;
    for (; ch + 8 <= oc; ch += 8) OutputTile<F8>(m + t * oc, block * oc, ch, out, e);
    for (; ch < oc; ++ch) OutputTile<float>(m + t * oc, block * oc, ch, out, e);
  }
}

// The calling thread's scratch of at least `floats` floats, kept across runs so that a steady
// stream of calls faults no fresh pages. A run's transformed input and products live there.
float* Scratch(size_t floats) {
  thread_local std::vector<float> scratch;
  if (scratch.size() < floats) scratch.resize(floats);
  return scratch.data();
}

// Tiles per block: the block's transformed input and products ([16][tiles][C + OC] floats) in
// about half of Zen 1's 512 KB L2, but at least 32 rows per GEMM.
int64_t BlockTiles(int64_t channels, int64_t out_channels) {
  return std::max<int64_t>(32, (256 * 1024) / (16 * 4 * (channels + out_channels)));
}

}  // namespace

void Winograd::Enable(bool on) { enabled = on; }

std::unique_ptr<Winograd> Winograd::Create(const Tensor& w, const Tensor& bias, bool has_z,
                                           const std::optional<EltwiseOp>& eltwise,
                                           const AttributeMap& attrs) {
  if (!enabled || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    return nullptr;
  }
  if (w.rank() != 4 || w.dim(2) != 3 || w.dim(3) != 3 || attrs.GetInt("group", 1) != 1 ||
      attrs.GetInts("strides", {1, 1}) != std::vector<int64_t>{1, 1} ||
      attrs.GetInts("dilations", {1, 1}) != std::vector<int64_t>{1, 1}) {
    return nullptr;
  }
  using A = dnnl::algorithm;
  if (eltwise && !(eltwise->alg == A::eltwise_relu || eltwise->alg == A::eltwise_clip_v2)) {
    return nullptr;
  }
  std::unique_ptr<Winograd> k(new Winograd());
  const int64_t oc = w.dim(0), ic = w.dim(1);
  k->in_channels_ = ic;
  k->out_channels_ = oc;
  k->has_z_ = has_z;
  k->eltwise_ = eltwise;
  k->bias_.assign(oc, 0.0f);
  if (bias.defined()) std::copy(bias.data<float>(), bias.data<float>() + oc, k->bias_.begin());
  // U = G g G^T, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
  static constexpr float G[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
  k->u_.assign(16 * ic * oc, 0.0f);
  const float* g = w.data<float>();
  for (int64_t c = 0; c < ic; ++c) {  // o innermost: each plane of U is written in order
    for (int64_t o = 0; o < oc; ++o) {
      const float* f = g + (o * ic + c) * 9;
      float gg[4][3];  // G g
      for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 3; ++j) {
          gg[i][j] = G[i][0] * f[0 * 3 + j] + G[i][1] * f[1 * 3 + j] + G[i][2] * f[2 * 3 + j];
        }
      }
      for (int i = 0; i < 4; ++i) {
        for (int j = 0; j < 4; ++j) {
          k->u_[((i * 4 + j) * ic + c) * oc + o] =
              gg[i][0] * G[j][0] + gg[i][1] * G[j][1] + gg[i][2] * G[j][2];
        }
      }
    }
  }
  return k;
}

absl::StatusOr<Tensor> Winograd::Weights() const {
  const int64_t ic = in_channels_, oc = out_channels_;
  ASSIGN_OR_RETURN(Tensor w, Tensor::Create(DType::kFloat32, {oc, ic, 3, 3}));
  for (int64_t o = 0; o < oc; ++o) {
    for (int64_t c = 0; c < ic; ++c) {
      float u[4][4], p[4][3];  // U = P G^T with P = G g
      for (int k = 0; k < 16; ++k) u[k / 4][k % 4] = u_[(k * ic + c) * oc + o];
      for (int i = 0; i < 4; ++i) p[i][0] = u[i][0], p[i][2] = u[i][3];
      for (int i = 0; i < 4; ++i) p[i][1] = 2 * u[i][1] - p[i][0] - p[i][2];
      float* g = w.data<float>() + (o * ic + c) * 9;
      for (int j = 0; j < 3; ++j) {
        g[0 * 3 + j] = p[0][j];
        g[2 * 3 + j] = p[3][j];
        g[1 * 3 + j] = 2 * p[1][j] - p[0][j] - p[3][j];
      }
    }
  }
  return w;
}

// bench/onednn_bench on an AMD EPYC (Zen 1, AVX2), Winograd / direct at 1 thread: 0.47-0.70 on
// the 3x3 convolutions of resnet18/50 and densenet121 at 14x14 and above (batch 1 and 8), 0.84
// on ic512 oc512 7x7 and 0.93-0.97 on ic128 oc32 7x7 at batch 1 (16 tiles of 4096 channel
// pairs); but 1.5-2.4 on small ones (ic16 or ic32 at 4x4 and 6x6, batch 1), 1.3-1.7 with 8
// channels and 2.0 with 3 (a VGG's first layer), about 1 on ic16 with 32 to 72 tiles and 0.88 on
// ic32 oc32 with 32 tiles (32768 tiles x channel pairs). At 2 threads the same but for ic128 oc32
// 7x7 at batch 1, 1.12 (the two threads share its 16 tiles), and ic32 oc32 with 32 tiles, 1.01.
// So Winograd where both channel counts are 32 or more and tiles x C x OC reaches 32768 times
// the threads squared.
bool Winograd::Faster(const Shape& nchw, int threads) const {
  const int64_t tiles = nchw[0] * ((nchw[2] + 1) / 2) * ((nchw[3] + 1) / 2);
  return std::min(in_channels_, out_channels_) >= Threshold(32) &&
         tiles * in_channels_ * out_channels_ >= Threshold(32768) * threads * threads;
}

absl::Status Winograd::Run(const float* x, const Shape& nchw, const Window& win, float* y,
                           int threads) const {
  const int64_t n = nchw[0], c = nchw[1], h = nchw[2], w = nchw[3];
  const int64_t oc = out_channels_, oh = win.out[0], ow = win.out[1];
  const int64_t pt = win.pad_begin[0], pl = win.pad_begin[1];
  if (c != in_channels_ || oh != h + pt + win.pad_end[0] - 2 || ow != w + pl + win.pad_end[1] - 2) {
    return absl::InternalError("Winograd: the window is not a 3x3 stride-1 one");
  }
  const Geometry g{h, w, c, oh, ow, oc, pt, pl, (oh + 1) / 2, (ow + 1) / 2};
  const int64_t tiles = n * g.tiles_h * g.tiles_w;
  Epilogue e{bias_.data(), has_z_, 0, 0, 0};
  if (eltwise_) {
    e.kind = eltwise_->alg == dnnl::algorithm::eltwise_relu ? 1 : 2;
    e.alpha = eltwise_->alpha;
    e.beta = eltwise_->beta;
  }
  std::atomic<int> failed{0};
  // Product k of the 16 for `count` tiles whose transformed input is in v, rows `block` apart.
  auto multiply = [&](int k, int64_t count, int64_t block, const float* v, float* m) {
    const dnnl_status_t s = dnnl_sgemm('N', 'N', count, oc, c, 1.0f, v + k * block * c, c,
                                       u_.data() + k * c * oc, oc, 0.0f, m + k * block * oc, oc);
    if (s != dnnl_success) failed = s;
  };
  const int64_t most = BlockTiles(c, oc);
  if (threads > 1 && tiles <= most) {
    // Too few tiles to give each thread a block: one block, the team splitting its tiles in the
    // transforms and the 16 products between them, so that each reads only its share of U.
    float* v = Scratch(16 * tiles * (c + oc));
    float* m = v + 16 * tiles * c;
#pragma omp parallel num_threads(threads)
    {
      const int i = omp_get_thread_num(), team = omp_get_num_threads();
      const int64_t t0 = i * tiles / team, t1 = (i + 1) * tiles / team;
      InputBlock(x, g, t0, t1 - t0, tiles, v + t0 * c);
#pragma omp barrier
      for (int k = i; k < 16; k += team) multiply(k, tiles, tiles, v, m);
#pragma omp barrier
      OutputBlock(m + t0 * oc, g, t0, t1 - t0, tiles, y, e);
    }
  } else {
    // Blocks of at most `most` tiles, as many per thread.
    const int64_t rounds = (tiles + threads * most - 1) / (threads * most);
    const int64_t block = (tiles + threads * rounds - 1) / (threads * rounds);
    const int64_t blocks = (tiles + block - 1) / block;
    auto run_blocks = [&](int thread, int team) {
      float* v = Scratch(16 * block * (c + oc));
      float* m = v + 16 * block * c;
      for (int64_t b = thread; b < blocks; b += team) {
        const int64_t t0 = b * block, count = std::min(block, tiles - t0);
        InputBlock(x, g, t0, count, block, v);
        for (int k = 0; k < 16; ++k) multiply(k, count, block, v, m);
        OutputBlock(m, g, t0, count, block, y, e);
      }
    };
    const int team = static_cast<int>(std::min<int64_t>(threads, blocks));
    if (team <= 1) {
      run_blocks(0, 1);
    } else {
#pragma omp parallel num_threads(team)
      run_blocks(omp_get_thread_num(), omp_get_num_threads());
    }
  }
  if (failed != 0) {
    return absl::InternalError(
        absl::StrCat("Winograd: oneDNN's sgemm failed with ", failed.load()));
  }
  return absl::OkStatus();
}

}  // namespace onednn
}  // namespace cortado
