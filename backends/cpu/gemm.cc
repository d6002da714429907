#include "backends/cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "backends/cpu/simd.h"
#include "core/thread_pool.h"

namespace cortado {
namespace {

using namespace simd;  // NOLINT(build/namespaces): the vector types and broadcasts

// ---------------------------------------------------------------------------------------------
// Blocked GEMM for float and double, after Goto and van de Geijn / BLIS: op(B) is packed into
// kc x nr column strips and op(A) (scaled by alpha) into mr x kc row strips, both zero-padded to
// whole strips, and an mr x nr register-tiled micro-kernel multiplies one strip of each.
// ---------------------------------------------------------------------------------------------

// C[0..mr) x [0..nr) (row stride ldc) = acc (+ beta * C when beta != 0). Used for partial tiles.
template <typename T>
void StoreTile(const T* acc, int64_t acc_ld, int64_t mr, int64_t nr, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < mr; ++i) {
    T* row = c + i * ldc;
    const T* src = acc + i * acc_ld;
    if (beta == T(0)) {
      for (int64_t j = 0; j < nr; ++j) row[j] = src[j];
    } else if (beta == T(1)) {
      for (int64_t j = 0; j < nr; ++j) row[j] += src[j];
    } else {
      for (int64_t j = 0; j < nr; ++j) row[j] = beta * row[j] + src[j];
    }
  }
}

// The micro-kernel: C (kMr x kNv vectors, row stride ldc) = A strip * B strip (+ beta * C).
// `a` holds kc groups of kMr values, `b` kc groups of kNv vectors. Written with GCC vector
// extensions so that each accumulator lives in one register; V is the vector type and
// Bcast::Load(p) broadcasts *p to a V. The kernels below inline it with `flatten`, so that an
// ISA-specific Bcast (with its target attribute) inlines too.
template <typename V, typename T, int kMr, int kNv, typename Bcast>
inline void MicroKernelBody(int64_t kc, const T* __restrict a, const T* __restrict b, T beta,
                            T* __restrict c, int64_t ldc) {
  constexpr int kLanes = sizeof(V) / sizeof(T);
  constexpr int kNr = kNv * kLanes;
  V acc[kMr][kNv];
#pragma GCC unroll 8
  for (int i = 0; i < kMr; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < kNv; ++j) acc[i][j] = V{};
  }
  for (int64_t p = 0; p < kc; ++p) {
    V bv[kNv];
#pragma GCC unroll 4
    for (int j = 0; j < kNv; ++j) std::memcpy(&bv[j], b + j * kLanes, sizeof(V));
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) {
      const V av = Bcast::Load(a + i);
#pragma GCC unroll 4
      for (int j = 0; j < kNv; ++j) acc[i][j] += av * bv[j];
    }
    a += kMr;
    b += kNr;
  }
#pragma GCC unroll 8
  for (int i = 0; i < kMr; ++i) {
#pragma GCC unroll 4
    for (int j = 0; j < kNv; ++j) {
      T* dst = c + i * ldc + j * kLanes;
      V out = acc[i][j];
      if (beta != T(0)) {
        V old;
        std::memcpy(&old, dst, sizeof(V));
        out += Bcast::Load(&beta) * old;
      }
      std::memcpy(dst, &out, sizeof(V));
    }
  }
}

// The micro-kernel of each ISA, for T = float and double: a kMr x 2-vector tile.
//   kSse2 (what -march=x86-64-v2 gives): 16 registers of 128 bits; 6 x 2 uses 12 for
//     accumulators.
//   kAvx2 (with FMA): 16 registers of 256 bits; the same 6 x 2 tile, twice as wide.
//   kAvx512: 32 registers of 512 bits; 8 x 2 uses 16 for accumulators. (Taller tiles measured
//     slower, and 8 rows divide the usual channel counts.)
template <typename T, Isa kIsa>
struct Micro;

template <typename T>
struct Micro<T, Isa::kSse2> {
  using V = typename VecOf<T, 16>::type;
  static constexpr int kMr = 6, kNr = 2 * sizeof(V) / sizeof(T);
  __attribute__((flatten)) static void Kernel(int64_t kc, const T* a, const T* b, T beta, T* c,
                                              int64_t ldc) {
    MicroKernelBody<V, T, kMr, 2, BcastLanes<V>>(kc, a, b, beta, c, ldc);
  }
};

#ifdef CORTADO_SIMD_X86
template <typename T>
struct Micro<T, Isa::kAvx2> {
  using V = typename VecOf<T, 32>::type;
  static constexpr int kMr = 6, kNr = 2 * sizeof(V) / sizeof(T);
  __attribute__((target("avx2,fma"), flatten)) static void Kernel(int64_t kc, const T* a,
                                                                  const T* b, T beta, T* c,
                                                                  int64_t ldc) {
    MicroKernelBody<V, T, kMr, 2, BcastAvx2>(kc, a, b, beta, c, ldc);
  }
};

template <typename T>
struct Micro<T, Isa::kAvx512> {
  using V = typename VecOf<T, 64>::type;
  static constexpr int kMr = 8, kNr = 2 * sizeof(V) / sizeof(T);
  __attribute__((target("avx512f"), flatten)) static void Kernel(int64_t kc, const T* a, const T* b,
                                                                 T beta, T* c, int64_t ldc) {
    MicroKernelBody<V, T, kMr, 2, BcastAvx512>(kc, a, b, beta, c, ldc);
  }
};
#endif

// out[p * width + r] = alpha * src[r * lds + p] for r in [0, rows) and p in [0, kc), and 0 for
// r in [rows, width): a transposing copy of `rows` rows of src into one packed strip. Whole 4 x 4
// (float) or 2 x 2 (double) blocks go through registers.
template <typename T, bool kScale>
void PackTransposedImpl(const T* src, int64_t lds, int64_t rows, int64_t kc, T alpha, int64_t width,
                        T* out) {
  constexpr int kB = 16 / sizeof(T);  // block size: one 16-byte vector per block row
  typedef T V __attribute__((vector_size(16)));
  auto load = [](const T* p) {
    V v;
    std::memcpy(&v, p, sizeof(V));
    return v;
  };
  auto store = [alpha](T* p, V v) {
    if constexpr (kScale) v *= alpha;
    std::memcpy(p, &v, sizeof(V));
  };
  const int64_t whole_rows = rows / kB * kB;
  int64_t p = 0;
  for (; p + kB <= kc; p += kB) {
    T* dst = out + p * width;
    for (int64_t r = 0; r < whole_rows; r += kB) {
      const T* s0 = src + r * lds + p;
      if constexpr (kB == 4) {
        typedef int32_t I __attribute__((vector_size(16)));
        const V r0 = load(s0), r1 = load(s0 + lds), r2 = load(s0 + 2 * lds),
                r3 = load(s0 + 3 * lds);
        const V t0 = __builtin_shuffle(r0, r1, I{0, 4, 1, 5});
        const V t1 = __builtin_shuffle(r2, r3, I{0, 4, 1, 5});
        const V t2 = __builtin_shuffle(r0, r1, I{2, 6, 3, 7});
        const V t3 = __builtin_shuffle(r2, r3, I{2, 6, 3, 7});
        store(dst + r, __builtin_shuffle(t0, t1, I{0, 1, 4, 5}));
        store(dst + width + r, __builtin_shuffle(t0, t1, I{2, 3, 6, 7}));
        store(dst + 2 * width + r, __builtin_shuffle(t2, t3, I{0, 1, 4, 5}));
        store(dst + 3 * width + r, __builtin_shuffle(t2, t3, I{2, 3, 6, 7}));
      } else {
        typedef int64_t I __attribute__((vector_size(16)));
        const V r0 = load(s0), r1 = load(s0 + lds);
        store(dst + r, __builtin_shuffle(r0, r1, I{0, 2}));
        store(dst + width + r, __builtin_shuffle(r0, r1, I{1, 3}));
      }
    }
    for (int64_t r = whole_rows; r < rows; ++r) {
      for (int q = 0; q < kB; ++q) dst[q * width + r] = alpha * src[r * lds + p + q];
    }
  }
  for (; p < kc; ++p) {
    for (int64_t r = 0; r < rows; ++r) out[p * width + r] = alpha * src[r * lds + p];
  }
  if (rows < width) {
    for (p = 0; p < kc; ++p) std::fill(out + p * width + rows, out + (p + 1) * width, T(0));
  }
}

template <typename T>
void PackTransposed(const T* src, int64_t lds, int64_t rows, int64_t kc, T alpha, int64_t width,
                    T* out) {
  if (alpha == T(1)) {
    PackTransposedImpl<T, false>(src, lds, rows, kc, alpha, width, out);
  } else {
    PackTransposedImpl<T, true>(src, lds, rows, kc, alpha, width, out);
  }
}

// Packs op(A)[0..mc) x [0..kc) (already offset) into mr-row strips: strip s holds, for each p,
// the mr values op(A)[s*mr + i][p] times alpha, zero past mc.
template <typename T, int mr>
void PackA(bool trans, const T* a, int64_t lda, int64_t mc, int64_t kc, T alpha, T* out) {
  for (int64_t s = 0; s < mc; s += mr) {
    const int64_t rows = std::min<int64_t>(mr, mc - s);
    if (!trans) {
      PackTransposed(a + s * lda, lda, rows, kc, alpha, mr, out);
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        const T* src = a + p * lda + s;
        T* dst = out + p * mr;
        if (alpha == T(1)) {
          std::memcpy(dst, src, rows * sizeof(T));
        } else {
          for (int64_t i = 0; i < rows; ++i) dst[i] = alpha * src[i];
        }
        for (int64_t i = rows; i < mr; ++i) dst[i] = T(0);
      }
    }
    out += mr * kc;
  }
}

// Packs op(B)[0..kc) x [0..nc) (already offset) into nr-column strips: strip s holds, for each
// p, the nr values op(B)[p][s*nr + j], zero past nc.
template <typename T, int nr>
void PackB(bool trans, const T* b, int64_t ldb, int64_t kc, int64_t nc, T* out) {
  for (int64_t s = 0; s < nc; s += nr) {
    const int64_t cols = std::min<int64_t>(nr, nc - s);
    if (!trans && cols == nr) {
      // nr values per p: copied through registers (a memcpy call per row costs more).
      typedef T V __attribute__((vector_size(16)));
      constexpr int kLanes = sizeof(V) / sizeof(T);
      static_assert(nr % kLanes == 0);
      for (int64_t p = 0; p < kc; ++p) {
        const T* src = b + p * ldb + s;
        T* dst = out + p * nr;
        for (int j = 0; j < nr; j += kLanes) {
          V v;
          std::memcpy(&v, src + j, sizeof(V));
          std::memcpy(dst + j, &v, sizeof(V));
        }
      }
    } else if (!trans) {
      for (int64_t p = 0; p < kc; ++p) {
        T* dst = out + p * nr;
        std::memcpy(dst, b + p * ldb + s, cols * sizeof(T));
        for (int64_t j = cols; j < nr; ++j) dst[j] = T(0);
      }
    } else {
      PackTransposed(b + s * ldb, ldb, cols, kc, T(1), nr, out);
    }
    out += nr * kc;
  }
}

// C = beta * C for the degenerate cases (k == 0 or alpha == 0).
template <typename T>
void ScaleC(int64_t m, int64_t n, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (beta == T(0)) {
      std::fill(row, row + n, T(0));
    } else if (beta != T(1)) {
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
  }
}

// The blocked loops around the micro-kernel M (a Micro), which computes mr x nr tiles.
template <typename T, typename M>
void GemmBlocked(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                 int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  constexpr int mr = M::kMr, nr = M::kNr;
  // Cache blocks: a kc x nr strip of B stays in L1, an mc x kc block of A in L2, and the
  // kc x nc panel of B in L3.
  constexpr int64_t kKc = 256;
  const int64_t kMc = 16 * mr;
  const int64_t kNc = 64 * nr;
  const int64_t kc_max = std::min(k, kKc);
  const int64_t mc_max = std::min((m + mr - 1) / mr * mr, kMc);
  const int64_t nc_max = std::min((n + nr - 1) / nr * nr, kNc);
  std::unique_ptr<T[]> packed_a(new T[mc_max * kc_max]);
  std::unique_ptr<T[]> packed_b(new T[nc_max * kc_max]);
  T tile[mr * nr];  // one partial tile

  for (int64_t jc = 0; jc < n; jc += kNc) {
    const int64_t nc = std::min(kNc, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKc) {
      const int64_t kc = std::min(kKc, k - pc);
      PackB<T, nr>(trans_b, trans_b ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, kc, nc,
                   packed_b.get());
      const T beta_block = pc == 0 ? beta : T(1);
      for (int64_t ic = 0; ic < m; ic += kMc) {
        const int64_t mc = std::min(kMc, m - ic);
        PackA<T, mr>(trans_a, trans_a ? a + pc * lda + ic : a + ic * lda + pc, lda, mc, kc, alpha,
                     packed_a.get());
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const int64_t cols = std::min<int64_t>(nr, nc - jr);
          const T* bp = packed_b.get() + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += mr) {
            const int64_t rows = std::min<int64_t>(mr, mc - ir);
            const T* ap = packed_a.get() + ir * kc;
            T* cp = c + (ic + ir) * ldc + jc + jr;
            if (rows == mr && cols == nr) {
              M::Kernel(kc, ap, bp, beta_block, cp, ldc);
            } else {
              M::Kernel(kc, ap, bp, T(0), tile, nr);
              StoreTile(tile, nr, rows, cols, beta_block, cp, ldc);
            }
          }
        }
      }
    }
  }
}

// GemmBlocked over the intra-op threads (core/thread_pool.h): C is split into contiguous
// ranges of whole tiles, by columns when it is at least as wide as tall, else by rows, and each
// range is an independent GemmBlocked (which packs its own panels). Every element of C is
// computed as without the split.
template <typename T, typename M>
void GemmParallel(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                  int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  constexpr int mr = M::kMr, nr = M::kNr;
  // Multiply-adds a chunk should have at least (some 30 us), for a thread to pay off.
  constexpr int64_t kMinChunkWork = int64_t{1} << 21;
  const bool by_cols = n >= m;
  const int64_t unit = by_cols ? nr : mr;
  const int64_t extent = by_cols ? n : m;
  const int64_t units = (extent + unit - 1) / unit;
  const int64_t unit_work = unit * (by_cols ? m : n) * k;
  const int64_t min_units = std::max<int64_t>(1, (kMinChunkWork + unit_work - 1) / unit_work);
  ParallelFor(units, min_units, [&](int64_t begin, int64_t end) {
    const int64_t lo = begin * unit, hi = std::min(end * unit, extent);
    if (by_cols) {
      GemmBlocked<T, M>(trans_a, trans_b, m, hi - lo, k, alpha, a, lda,
                        trans_b ? b + lo * ldb : b + lo, ldb, beta, c + lo, ldc);
    } else {
      GemmBlocked<T, M>(trans_a, trans_b, hi - lo, n, k, alpha, trans_a ? a + lo : a + lo * lda,
                        lda, b, ldb, beta, c + lo * ldc, ldc);
    }
  });
}

// Sum of x[i] * y[i].
template <typename T>
T Dot(int64_t n, const T* x, const T* y) {
  using V = typename VecOf<T, 16>::type;  // what x86-64-v2 has
  constexpr int kLanes = sizeof(V) / sizeof(T);
  V acc0{}, acc1{};
  int64_t i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    V x0, x1, y0, y1;
    std::memcpy(&x0, x + i, sizeof(V));
    std::memcpy(&x1, x + i + kLanes, sizeof(V));
    std::memcpy(&y0, y + i, sizeof(V));
    std::memcpy(&y1, y + i + kLanes, sizeof(V));
    acc0 += x0 * y0;
    acc1 += x1 * y1;
  }
  acc0 += acc1;
  T sum = 0;
  for (int j = 0; j < kLanes; ++j) sum += acc0[j];
  for (; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

// y[0..n) += alpha * x[0..n) (BLAS axpy), vectorized.
template <typename T>
void Axpy(int64_t n, T alpha, const T* x, T* y) {
  using V = typename VecOf<T, 16>::type;  // what x86-64-v2 has
  constexpr int kLanes = sizeof(V) / sizeof(T);
  const V av = V{} + alpha;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    V xv, yv;
    std::memcpy(&xv, x + i, sizeof(V));
    std::memcpy(&yv, y + i, sizeof(V));
    yv += av * xv;
    std::memcpy(y + i, &yv, sizeof(V));
  }
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// Thin products (m <= 2 or n <= 2), where packing would cost more than it saves: each output
// row (or column) is a set of dot products or a sum of axpys over contiguous rows.
template <typename T>
void GemmThin(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
              int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  // Viewing C^T = op(B)^T op(A)^T, an "n <= 2" problem is an "m <= 2" one with the operands
  // swapped; `cs` is then the stride between C's elements of one output row.
  const bool swap = m > n;
  if (swap) {
    std::swap(m, n);
    std::swap(a, b);
    std::swap(lda, ldb);
    const bool ta = trans_a;
    trans_a = !trans_b;
    trans_b = !ta;
  }
  const int64_t cr = swap ? 1 : ldc, cs = swap ? ldc : 1;  // C(i, j) = c[i * cr + j * cs]
  std::unique_ptr<T[]> row(new T[k]);
  std::unique_ptr<T[]> acc(new T[n]);
  for (int64_t i = 0; i < m; ++i) {
    // Row i of op(A), contiguous.
    const T* ai = a + i * lda;
    if (trans_a) {
      for (int64_t p = 0; p < k; ++p) row[p] = a[p * lda + i];
      ai = row.get();
    }
    if (trans_b) {  // op(B) column j is row j of B: dot products
      for (int64_t j = 0; j < n; ++j) acc[j] = Dot(k, ai, b + j * ldb);
    } else {  // sum over p of a(i, p) times row p of B
      std::fill(acc.get(), acc.get() + n, T(0));
      for (int64_t p = 0; p < k; ++p) Axpy(n, ai[p], b + p * ldb, acc.get());
    }
    T* ci = c + i * cr;
    for (int64_t j = 0; j < n; ++j) {
      ci[j * cs] = alpha * acc[j] + (beta == T(0) ? T(0) : beta * ci[j * cs]);
    }
  }
}

template <typename T>
void GemmFloat(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
               int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == T(0)) {
    ScaleC(m, n, beta, c, ldc);
    return;
  }
  if (m <= 2 || n <= 2) {
    GemmThin(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  switch (ActiveIsa()) {
#ifdef CORTADO_SIMD_X86
    case Isa::kAvx512:
      return GemmParallel<T, Micro<T, Isa::kAvx512>>(trans_a, trans_b, m, n, k, alpha, a, lda, b,
                                                     ldb, beta, c, ldc);
    case Isa::kAvx2:
      return GemmParallel<T, Micro<T, Isa::kAvx2>>(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                                                   beta, c, ldc);
#endif
    default:
      return GemmParallel<T, Micro<T, Isa::kSse2>>(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                                                   beta, c, ldc);
  }
}

}  // namespace

template <typename T>
void BlockedGemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                 int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  GemmFloat(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
template void BlockedGemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*,
                                 int64_t, const float*, int64_t, float, float*, int64_t);
template void BlockedGemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                                  int64_t, const double*, int64_t, double, double*, int64_t);

}  // namespace cortado
