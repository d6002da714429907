// Numpy-broadcast iteration shared by the elementwise kernels: for every element of the output
// (row-major) it yields the matching flat offset in each input. Header-only; no state.
#ifndef CORTADO_OPS_BROADCAST_H_
#define CORTADO_OPS_BROADCAST_H_

#include <array>
#include <vector>

#include "core/shape.h"

namespace cortado {

// Calls f(out_offset, in_offsets) for each output element, with in_offsets an array of N
// offsets. Every input shape must broadcast to `out` (checked by the caller).
template <size_t N, typename F>
void ForEachBroadcast(const Shape& out, const std::array<const Shape*, N>& ins, F&& f) {
  const int rank = static_cast<int>(out.size());
  const int64_t total = NumElements(out);
  if (total == 0) return;
  // Per-input strides aligned to the output's rank; 0 where the input broadcasts.
  std::array<std::vector<int64_t>, N> strides;
  bool all_same = true;
  for (size_t k = 0; k < N; ++k) {
    const Shape& s = *ins[k];
    all_same = all_same && s == out;
    strides[k].assign(rank, 0);
    int64_t st = 1;
    for (int d = rank - 1, j = static_cast<int>(s.size()) - 1; j >= 0; --d, --j) {
      strides[k][d] = s[j] == 1 ? 0 : st;
      st *= s[j];
    }
  }
  std::array<int64_t, N> offsets{};
  if (all_same || rank == 0) {
    for (int64_t i = 0; i < total; ++i) {
      offsets.fill(all_same ? i : 0);
      f(i, offsets);
    }
    return;
  }
  const int64_t inner = out[rank - 1];
  std::vector<int64_t> index(rank, 0);
  std::array<int64_t, N> base{};
  for (int64_t o = 0; o < total; o += inner) {
    for (int64_t i = 0; i < inner; ++i) {
      for (size_t k = 0; k < N; ++k) offsets[k] = base[k] + i * strides[k][rank - 1];
      f(o + i, offsets);
    }
    // Advance the multi-index over all but the last dimension.
    for (int d = rank - 2; d >= 0; --d) {
      ++index[d];
      for (size_t k = 0; k < N; ++k) base[k] += strides[k][d];
      if (index[d] < out[d]) break;
      for (size_t k = 0; k < N; ++k) base[k] -= strides[k][d] * out[d];
      index[d] = 0;
    }
  }
}

}  // namespace cortado

#endif  // CORTADO_OPS_BROADCAST_H_
