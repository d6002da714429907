// The optimized CPU kernels whose code differs by ISA (backends/cpu/simd.h) against the
// reference kernels, on every ISA this CPU runs: simd::CapIsa makes an AVX-512 machine run the
// AVX2 and SSE2 versions too. Covers the LSTM's step routines (block widths of 8 to 32 units,
// one to three rows per panel) and the operators built on BlockedGemm (Conv, Gemm, MatMul);
// gemm_test covers BlockedGemm's edge shapes per ISA.
#include <string>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/simd.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "ops/run_op.h"

namespace cortado {
namespace {

struct Case {
  std::string name;
  OpRun run;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  auto lstm = [&](const std::string& direction, int64_t batch, int64_t hidden, uint32_t seed) {
    const int64_t dirs = direction == "bidirectional" ? 2 : 1, steps = 4, input = 12;
    OpRun r{"LSTM", 14, {}, {}, 3};
    r.attrs.Set("hidden_size", hidden);
    r.attrs.Set("direction", direction);
    r.inputs = {RandomNormal({steps, batch, input}, seed),
                RandomNormal({dirs, 4 * hidden, input}, seed + 1),
                RandomNormal({dirs, 4 * hidden, hidden}, seed + 2),
                RandomNormal({dirs, 8 * hidden}, seed + 3),
                Tensor(),
                RandomNormal({dirs, batch, hidden}, seed + 4),
                RandomNormal({dirs, batch, hidden}, seed + 5)};
    cases.push_back({"LSTM " + direction + " batch " + std::to_string(batch) + " hidden " +
                         std::to_string(hidden),
                     std::move(r)});
  };
  // Hidden sizes below, at and past one block of each ISA; batches of one, two and three rows
  // per panel read, and four (three and one).
  lstm("forward", 1, 5, 10);
  lstm("forward", 2, 40, 20);
  lstm("reverse", 3, 33, 30);
  lstm("bidirectional", 4, 70, 40);
  AttributeMap pad1;
  pad1.Set("pads", std::vector<int64_t>{1, 1, 1, 1});
  cases.push_back({"Conv 3x3", OpRun{"Conv",
                                     11,
                                     pad1,
                                     {RandomNormal({2, 5, 9, 13}, 50),
                                      RandomNormal({11, 5, 3, 3}, 51), RandomNormal({11}, 52)}}});
  AttributeMap trans_b;
  trans_b.Set("transB", int64_t{1});
  cases.push_back({"Gemm", OpRun{"Gemm",
                                 13,
                                 trans_b,
                                 {RandomNormal({19, 70}, 60), RandomNormal({45, 70}, 61),
                                  RandomNormal({45}, 62)}}});
  cases.push_back({"MatMul f64", OpRun{"MatMul",
                                       13,
                                       {},
                                       {RandomNormal({3, 17, 30}, 70, DType::kFloat64),
                                        RandomNormal({30, 23}, 71, DType::kFloat64)}}});
  return cases;
}

TEST(CpuOptIsaTest, EveryIsaMatchesTheReferenceKernels) {
  int runs = 0;
  for (int isa = 0; isa <= static_cast<int>(simd::CpuIsa()); ++isa) {
    const simd::Isa previous = simd::CapIsa(static_cast<simd::Isa>(isa));
    ASSERT_EQ(static_cast<int>(simd::ActiveIsa()), isa);
    for (const Case& c : Cases()) {
      SCOPED_TRACE(c.name + " on " + simd::IsaName(simd::ActiveIsa()));
      absl::StatusOr<std::vector<Tensor>> want = RunOp(c.run);
      ASSERT_TRUE(want.ok()) << want.status();
      OpRun opt = c.run;
      opt.backend = kCpuOptBackend;
      absl::StatusOr<std::vector<Tensor>> got = RunOp(opt);
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(got->size(), want->size());
      for (size_t o = 0; o < want->size(); ++o) {
        EXPECT_EQ(CompareTensors((*got)[o], (*want)[o], 1e-4, 1e-5), "") << "output " << o;
      }
      ++runs;
    }
    simd::CapIsa(previous);
  }
  std::printf("%d runs over %d ISAs\n", runs, static_cast<int>(simd::CpuIsa()) + 1);
}

}  // namespace
}  // namespace cortado
