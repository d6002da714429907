// Numpy-broadcast iteration shared by the elementwise kernels: for every element of the output
// (row-major), or for a range of them, it yields the matching flat offset in each input. Header-only; no state.
#ifndef CORTADO_OPS_BROADCAST_H_
#define CORTADO_OPS_BROADCAST_H_

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "core/shape.h"

namespace cortado {

// Calls f(out_offset, in_offsets) for each output element in [begin, end), with in_offsets an
// array of N offsets. Every input shape must broadcast to `out` (checked by the caller).
template <size_t N, typename F>
void ForEachBroadcastIn(const Shape& out, const std::array<const Shape*, N>& ins, int64_t begin,
                        int64_t end, F&& f) {
  const int rank = static_cast<int>(out.size());
  if (begin >= end) return;
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
    for (int64_t i = begin; i < end; ++i) {
      offsets.fill(all_same ? i : 0);
      f(i, offsets);
    }
    return;
  }
  // The multi-index of begin's row over all but the last dimension, and the inputs' offsets.
  const int64_t inner = out[rank - 1];
  std::vector<int64_t> index(rank, 0);
  std::array<int64_t, N> base{};
  for (int64_t d = rank - 2, r = begin / inner; d >= 0; --d) {
    index[d] = r % out[d];
    r /= out[d];
    for (size_t k = 0; k < N; ++k) base[k] += index[d] * strides[k][d];
  }
  for (int64_t o = begin - begin % inner; o < end; o += inner) {
    for (int64_t i = std::max<int64_t>(0, begin - o); i < std::min(inner, end - o); ++i) {
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

// ForEachBroadcastIn over every output element.
template <size_t N, typename F>
void ForEachBroadcast(const Shape& out, const std::array<const Shape*, N>& ins, F&& f) {
  ForEachBroadcastIn<N>(out, ins, 0, NumElements(out), std::forward<F>(f));
}

}  // namespace cortado

#endif  // CORTADO_OPS_BROADCAST_H_
