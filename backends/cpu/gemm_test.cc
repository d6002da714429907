// BlockedGemm (backends/cpu/gemm.h) against the reference Gemm (ops/gemm.h): edge shapes around
// the micro-kernel's tiles and the thin-product paths, every transpose, leading dimensions with
// padding (which must stay untouched), beta == 0 over NaN (which must not leak through), and the
// same bits at any intra-op thread count; the edge shapes on every ISA's micro-kernel that the
// CPU runs (simd::CapIsa), so the AVX2 and SSE2 tiles are tested on an AVX-512 machine too.
#include "backends/cpu/gemm.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "backends/cpu/simd.h"
#include "core/thread_pool.h"
#include "gtest/gtest.h"
#include "ops/gemm.h"

namespace cortado {
namespace {

template <typename V>
std::vector<V> Random(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-1, 1);
  std::vector<V> v(n);
  for (V& x : v) x = static_cast<V>(dist(rng));
  return v;
}

template <typename V>
void CheckAgainstReference(bool ta, bool tb, int64_t m, int64_t n, int64_t k, V alpha, V beta,
                           int64_t pad) {
  SCOPED_TRACE(testing::Message() << "ta=" << ta << " tb=" << tb << " m=" << m << " n=" << n
                                  << " k=" << k << " beta=" << beta << " pad=" << pad);
  const int64_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
  const uint32_t seed = static_cast<uint32_t>(m * 131 + n * 17 + k);
  const std::vector<V> a = Random<V>((ta ? k : m) * lda, seed);
  const std::vector<V> b = Random<V>((tb ? n : k) * ldb, seed + 1);
  std::vector<V> c = Random<V>(m * ldc, seed + 2);
  if (beta == V(0)) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = std::numeric_limits<V>::quiet_NaN();
    }
  }
  std::vector<V> want = c;
  Gemm<V>(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, want.data(), ldc);
  BlockedGemm<V>(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
  const double tol = sizeof(V) == 4 ? 1e-5 : 1e-13;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const V got = c[i * ldc + j], expected = want[i * ldc + j];
      if (j >= n) {  // padding between rows: untouched by both
        ASSERT_EQ(got, expected) << "padding at " << i << "," << j;
        continue;
      }
      ASSERT_TRUE(std::isfinite(got)) << "at " << i << "," << j;
      ASSERT_NEAR(got, expected, tol * (k + 1)) << "at " << i << "," << j;
    }
  }
}

TEST(BlockedGemmTest, MatchesTheReferenceOnEdgeShapesOnEveryIsa) {
  const int64_t shapes[][3] = {{1, 1, 1},    {1, 37, 5},     {7, 1, 9},     {6, 16, 256},
                               {13, 29, 3},  {5, 17, 300},   {97, 65, 257}, {200, 40, 70},
                               {3, 1100, 2}, {1, 1000, 130}, {50, 2, 33},   {2, 70, 45},
                               {8, 32, 16},  {9, 33, 17},    {16, 64, 512}, {31, 63, 0}};
  for (int isa = 0; isa <= static_cast<int>(simd::CpuIsa()); ++isa) {
    const simd::Isa previous = simd::CapIsa(static_cast<simd::Isa>(isa));
    SCOPED_TRACE(simd::IsaName(simd::ActiveIsa()));
    ASSERT_EQ(static_cast<int>(simd::ActiveIsa()), isa);
    for (const auto& s : shapes) {
      for (int t = 0; t < 4; ++t) {
        CheckAgainstReference<float>(t & 1, t & 2, s[0], s[1], s[2], 1.0f, 0.0f, 0);
        CheckAgainstReference<double>(t & 1, t & 2, s[0], s[1], s[2], 0.5, 1.5, 3);
      }
      CheckAgainstReference<float>(false, true, s[0], s[1], s[2], -2.0f, 1.0f, 5);
    }
    simd::CapIsa(previous);
  }
}

TEST(BlockedGemmTest, AlphaZeroDoesNotReadAOrB) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> a = {inf, inf, inf, inf, inf, inf, inf, inf, inf};
  std::vector<float> c = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  BlockedGemm<float>(false, false, 3, 3, 3, 0.0f, a.data(), 3, a.data(), 3, 0.5f, c.data(), 3);
  EXPECT_EQ(c, (std::vector<float>{0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f, 4, 4.5f}));
}

TEST(BlockedGemmTest, SameBitsAtAnyThreadCount) {
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    const int64_t m = 61, n = 517, k = 300;
    const std::vector<float> a = Random<float>(m * k, 40 + t), b = Random<float>(k * n, 50 + t);
    std::vector<float> one = Random<float>(m * n, 60 + t), many = one;
    BlockedGemm<float>(ta, tb, m, n, k, 0.5f, a.data(), ta ? m : k, b.data(), tb ? k : n, 1.0f,
                       one.data(), n);
    SetIntraOpThreads(4);
    BlockedGemm<float>(ta, tb, m, n, k, 0.5f, a.data(), ta ? m : k, b.data(), tb ? k : n, 1.0f,
                       many.data(), n);
    SetIntraOpThreads(1);
    EXPECT_EQ(one, many) << "ta=" << ta << " tb=" << tb;
  }
}

}  // namespace
}  // namespace cortado
