// The optimized Concat of backend "cpu_opt", for the floating-point types: the output is written
// row by row (a row being one index of the dimensions before the axis), each row gathering its
// runs from every input, so that it is written once and in order; short runs (a few channels of
// one pixel in a channels-last Concat, as in DenseNet and Inception) are copied inline rather
// than by a memcpy call each, and the rows split over the intra-op threads. The operand checks
// are the reference kernel's (ops/concat.h). Immutable: thread-safe.
#include "ops/concat.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "backends/cpu/cpu_backend.h"
#include "core/thread_pool.h"
#include "ops/registry.h"

namespace cortado {
namespace {

// Copies n bytes: 32 at a time through registers (GCC keeps the 16-byte vectors in xmm
// registers at the baseline ISA), then the tail; a library call for long runs.
inline void CopyBytes(char* __restrict dst, const char* __restrict src, int64_t n) {
  if (n >= 1024) {
    std::memcpy(dst, src, n);
    return;
  }
  typedef char V __attribute__((vector_size(16)));
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    V a, b;
    std::memcpy(&a, src + i, 16);
    std::memcpy(&b, src + i + 16, 16);
    std::memcpy(dst + i, &a, 16);
    std::memcpy(dst + i + 16, &b, 16);
  }
  for (; i < n; ++i) dst[i] = src[i];
}

class ConcatKernel final : public Kernel {
 public:
  explicit ConcatKernel(const KernelInfo& info) : axis_(info.attrs->GetInt("axis")) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(ConcatOperands c, CheckConcat(ctx, axis_));
    const DType dtype = c.inputs[0]->dtype();
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, dtype, c.out));
    int64_t outer = 1, inner = DTypeSize(dtype);  // inner: bytes per index of the axis
    for (int d = 0; d < c.axis; ++d) outer *= c.out[d];
    for (size_t d = c.axis + 1; d < c.out.size(); ++d) inner *= c.out[d];
    const int64_t row_bytes = c.out[c.axis] * inner;
    if (outer == 0 || row_bytes == 0) return absl::OkStatus();
    char* out = static_cast<char*>(y->raw_data());
    // Rows per chunk of the intra-op threads: some 256 KiB each (a smaller copy gains less from
    // a second thread than waking it costs).
    const int64_t min_rows = std::max<int64_t>(1, (int64_t{1} << 18) / row_bytes);
    ParallelFor(outer, min_rows, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        char* dst = out + r * row_bytes;
        for (const Tensor* t : c.inputs) {
          const int64_t run = t->dim(c.axis) * inner;
          CopyBytes(dst, static_cast<const char*>(t->raw_data()) + r * run, run);
          dst += run;
        }
      }
    });
    return absl::OkStatus();
  }

 private:
  int64_t axis_;
};

}  // namespace

CORTADO_REGISTER_KERNEL("Concat", kCpuOptBackend, 1, kMaxOpset, FloatTypes(),
                        MakeFactory<ConcatKernel>());

}  // namespace cortado
