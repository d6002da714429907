// The sequence-model operators: RotaryEmbedding (opset 23), TensorScatter (24), Attention (23;
// nonpad_kv_seqlen from 24, left/right_window_size from 25), LinearAttention (27) and
// CausalConvWithState (27). Attention is scaled
// dot-product attention over [batch, heads, sequence, head_size] (or 3-D [batch, sequence,
// heads * head_size] with q_num_heads and kv_num_heads), with a key/value cache (past_key,
// past_value -> present_key, present_value), grouped-query heads, an additive or boolean mask,
// causal and sliding-window masking, softcap and the optional qk_matmul_output. Semantics follow
// ONNX's reference implementation (onnx/reference/ops/op_attention.py): a query row that no key
// may attend gives zeros. The reference kernel computes in double.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/nn_util.h"
#include "ops/registry.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

absl::Status Invalid(const absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("Attention: ", what));
}

// A [batch, heads, sequence, size] view of Q, K or V as doubles (3-D inputs split into heads).
struct Heads {
  int64_t batch = 0, heads = 0, seq = 0, size = 0;
  std::vector<double> v;
  double& at(int64_t b, int64_t h, int64_t s, int64_t d) {
    return v[((b * heads + h) * seq + s) * size + d];
  }
  double at(int64_t b, int64_t h, int64_t s, int64_t d) const {
    return v[((b * heads + h) * seq + s) * size + d];
  }
};

absl::StatusOr<Heads> ToHeads(const Tensor& t, std::optional<int64_t> num_heads,
                              absl::string_view name) {
  Heads h;
  if (t.rank() == 4) {
    h = {t.dim(0), t.dim(1), t.dim(2), t.dim(3), {}};
  } else if (t.rank() == 3) {
    if (!num_heads || *num_heads <= 0 || t.dim(2) % *num_heads != 0) {
      return Invalid(absl::StrCat("3-D ", name, " ", ShapeToString(t.shape()),
                                  " needs q_num_heads and kv_num_heads that divide its last dim"));
    }
    h = {t.dim(0), *num_heads, t.dim(1), t.dim(2) / *num_heads, {}};
  } else {
    return Invalid(absl::StrCat(name, " must be 3-D or 4-D, got ", ShapeToString(t.shape())));
  }
  h.v.resize(t.num_elements());
  for (int64_t b = 0; b < h.batch; ++b) {
    for (int64_t s = 0; s < h.seq; ++s) {
      for (int64_t n = 0; n < h.heads; ++n) {
        for (int64_t d = 0; d < h.size; ++d) {
          // 3-D: [batch, seq, heads * size]; 4-D: [batch, heads, seq, size].
          const int64_t src = t.rank() == 3 ? ((b * h.seq + s) * h.heads + n) * h.size + d
                                            : ((b * h.heads + n) * h.seq + s) * h.size + d;
          h.at(b, n, s, d) = t.ElementAsDouble(src);
        }
      }
    }
  }
  return h;
}

// past (may be absent) followed by cur along the sequence axis.
absl::StatusOr<Heads> Concat(const Tensor* past, Heads cur, absl::string_view name) {
  if (past == nullptr) return cur;
  ASSIGN_OR_RETURN(Heads p, ToHeads(*past, std::nullopt, name));
  if (p.batch != cur.batch || p.heads != cur.heads || p.size != cur.size) {
    return Invalid(absl::StrCat(name, " ", ShapeToString(past->shape()),
                                " does not match the new keys or values"));
  }
  Heads out{cur.batch, cur.heads, p.seq + cur.seq, cur.size, {}};
  out.v.resize(out.batch * out.heads * out.seq * out.size);
  for (int64_t b = 0; b < out.batch; ++b) {
    for (int64_t n = 0; n < out.heads; ++n) {
      for (int64_t s = 0; s < out.seq; ++s) {
        for (int64_t d = 0; d < out.size; ++d) {
          out.at(b, n, s, d) = s < p.seq ? p.at(b, n, s, d) : cur.at(b, n, s - p.seq, d);
        }
      }
    }
  }
  return out;
}

// The input, or nullptr when it is absent or empty-named.
const Tensor* Present(const Tensor* t) { return t != nullptr && t->defined() ? t : nullptr; }

// Writes doubles into a new output of `dtype` and `shape`.
absl::Status Store(KernelContext& ctx, int index, DType dtype, const Shape& shape,
                   const std::vector<double>& v) {
  ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(index, dtype, shape));
  return VisitTypes<float, double, Half, BFloat16>(dtype, "Attention", [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (size_t i = 0; i < v.size(); ++i) t->data<T>()[i] = tensor_ops::ConvertValue<T>(v[i]);
    return absl::OkStatus();
  });
}

class AttentionKernel : public Kernel {
 public:
  explicit AttentionKernel(const KernelInfo& info)
      : causal_(info.attrs->GetInt("is_causal") != 0),
        mode_(info.attrs->GetInt("qk_matmul_output_mode")),
        softcap_(info.attrs->GetFloat("softcap")),
        left_(info.attrs->GetInt("left_window_size", -1)),
        right_(info.attrs->GetInt("right_window_size", -1)) {
    if (info.attrs->Has("scale")) scale_ = info.attrs->GetFloat("scale");
    if (info.attrs->Has("q_num_heads")) q_heads_ = info.attrs->GetInt("q_num_heads");
    if (info.attrs->Has("kv_num_heads")) kv_heads_ = info.attrs->GetInt("kv_num_heads");
  }

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* q_in, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* k_in, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* v_in, ctx.RequiredInput(2));
    const Tensor* mask = Present(ctx.input(3));
    const Tensor* past_key = Present(ctx.input(4));
    const Tensor* past_value = Present(ctx.input(5));
    const Tensor* nonpad = Present(ctx.input(6));
    if (q_in->rank() != k_in->rank() || q_in->rank() != v_in->rank()) {
      return Invalid("Q, K and V must have the same rank");
    }
    if ((past_key == nullptr) != (past_value == nullptr)) {
      return Invalid("past_key and past_value must be given together");
    }
    if (nonpad != nullptr && past_key != nullptr) {
      return Invalid("nonpad_kv_seqlen cannot be combined with past_key and past_value");
    }
    ASSIGN_OR_RETURN(Heads q, ToHeads(*q_in, q_heads_, "Q"));
    ASSIGN_OR_RETURN(Heads k0, ToHeads(*k_in, kv_heads_, "K"));
    ASSIGN_OR_RETURN(Heads v0, ToHeads(*v_in, kv_heads_, "V"));
    const int64_t past = past_key != nullptr ? past_key->dim(2) : 0;
    ASSIGN_OR_RETURN(Heads k, Concat(past_key, std::move(k0), "past_key"));
    ASSIGN_OR_RETURN(Heads v, Concat(past_value, std::move(v0), "past_value"));
    const int64_t batch = q.batch, heads = q.heads, sq = q.seq, kv = k.seq;
    if (k.batch != batch || v.batch != batch || v.heads != k.heads || v.seq != kv ||
        k.size != q.size || k.heads <= 0 || heads % k.heads != 0) {
      return Invalid(absl::StrCat("Q ", ShapeToString(q_in->shape()), ", K ",
                                  ShapeToString(k_in->shape()), " and V ",
                                  ShapeToString(v_in->shape()), " do not fit together"));
    }
    std::vector<int64_t> lengths;  // nonpad_kv_seqlen per batch
    if (nonpad != nullptr) {
      ASSIGN_OR_RETURN(lengths, nonpad->ToInt64Vector());
      if (static_cast<int64_t>(lengths.size()) != batch) {
        return Invalid("nonpad_kv_seqlen must hold one length per batch");
      }
    }
    ASSIGN_OR_RETURN(std::vector<double> bias, Bias(mask, batch, heads, sq, kv, past, lengths));
    const double scale = scale_ ? *scale_ : 1.0 / std::sqrt(static_cast<double>(q.size));
    const int64_t group = heads / k.heads;
    std::vector<double> qk(batch * heads * sq * kv), y(batch * heads * sq * v.size, 0.0);
    std::vector<double> probs(kv);
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t kh = h / group;
        for (int64_t i = 0; i < sq; ++i) {
          const int64_t row = ((b * heads + h) * sq + i) * kv;
          double max = kNegInf, bias_max = kNegInf;
          for (int64_t j = 0; j < kv; ++j) {
            double s = 0;
            for (int64_t d = 0; d < q.size; ++d) s += q.at(b, h, i, d) * k.at(b, kh, j, d);
            s *= scale;
            if (softcap_ > 0) s = softcap_ * std::tanh(s / softcap_);
            const double with_bias = s + bias[row + j];
            qk[row + j] = mode_ == 2 ? with_bias : s;
            probs[j] = with_bias;
            max = std::max(max, with_bias);
            bias_max = std::max(bias_max, bias[row + j]);
          }
          // A row with no attendable key (all bias -inf) gives zeros.
          double sum = 0;
          for (int64_t j = 0; j < kv; ++j) {
            probs[j] = bias_max == kNegInf ? 0 : std::exp(probs[j] - (max == kNegInf ? 0 : max));
            sum += probs[j];
          }
          for (int64_t j = 0; j < kv; ++j) {
            if (sum > 0) probs[j] /= sum;
            if (mode_ == 3) qk[row + j] = probs[j];
            for (int64_t d = 0; d < v.size; ++d) {
              y[((b * heads + h) * sq + i) * v.size + d] += probs[j] * v.at(b, kh, j, d);
            }
          }
        }
      }
    }
    const DType dtype = q_in->dtype();
    Shape y_shape{batch, heads, sq, v.size};
    if (q_in->rank() == 3) {  // back to [batch, seq, heads * v_size]
      std::vector<double> y3(y.size());
      for (int64_t b = 0; b < batch; ++b) {
        for (int64_t h = 0; h < heads; ++h) {
          for (int64_t i = 0; i < sq; ++i) {
            for (int64_t d = 0; d < v.size; ++d) {
              y3[((b * sq + i) * heads + h) * v.size + d] =
                  y[((b * heads + h) * sq + i) * v.size + d];
            }
          }
        }
      }
      y = std::move(y3);
      y_shape = {batch, sq, heads * v.size};
    }
    RETURN_IF_ERROR(Store(ctx, 0, dtype, y_shape, y));
    if (ctx.num_outputs() > 1) {
      RETURN_IF_ERROR(Store(ctx, 1, k_in->dtype(), {batch, k.heads, kv, k.size}, k.v));
    }
    if (ctx.num_outputs() > 2) {
      RETURN_IF_ERROR(Store(ctx, 2, v_in->dtype(), {batch, v.heads, kv, v.size}, v.v));
    }
    if (ctx.num_outputs() > 3) RETURN_IF_ERROR(Store(ctx, 3, dtype, {batch, heads, sq, kv}, qk));
    return absl::OkStatus();
  }

 private:
  // The additive bias [batch, heads, sq, kv]: the mask (boolean: false is -inf; padded with -inf
  // to kv keys; numpy-broadcast), causal and window masks aligned to the bottom right (a query
  // at i sits at key position i + offset, offset the cache length, or nonpad_kv_seqlen - sq per
  // batch), and nonpad_kv_seqlen's padding.
  absl::StatusOr<std::vector<double>> Bias(const Tensor* mask, int64_t batch, int64_t heads,
                                           int64_t sq, int64_t kv, int64_t past,
                                           const std::vector<int64_t>& lengths) const {
    std::vector<double> bias(batch * heads * sq * kv, 0.0);
    Shape mask_shape;
    if (mask != nullptr) {
      mask_shape = mask->shape();
      if (mask->rank() < 1 || mask->rank() > 4 || mask->dim(mask->rank() - 1) > kv) {
        return Invalid(absl::StrCat("attn_mask ", ShapeToString(mask->shape()),
                                    " does not fit the scores [", batch, ", ", heads, ", ", sq,
                                    ", ", kv, "]"));
      }
      Shape full(4 - mask->rank(), 1);
      full.insert(full.end(), mask_shape.begin(), mask_shape.end());
      const Shape target{batch, heads, sq, kv};
      for (int d = 0; d < 3; ++d) {
        if (full[d] != 1 && full[d] != target[d]) {
          return Invalid(absl::StrCat("attn_mask ", ShapeToString(mask->shape()),
                                      " does not broadcast to the scores"));
        }
      }
      mask_shape = full;
    }
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t offset = !lengths.empty() ? lengths[b] - sq : past;
      for (int64_t h = 0; h < heads; ++h) {
        for (int64_t i = 0; i < sq; ++i) {
          for (int64_t j = 0; j < kv; ++j) {
            double& out = bias[((b * heads + h) * sq + i) * kv + j];
            if (mask != nullptr) {
              const Shape& m = mask_shape;
              if (j >= m[3]) {
                out = kNegInf;
              } else {
                const int64_t at = ((std::min(b, m[0] - 1) * m[1] + std::min(h, m[1] - 1)) * m[2] +
                                    std::min(i, m[2] - 1)) *
                                       m[3] +
                                   j;
                const double value = mask->ElementAsDouble(at);
                out = mask->dtype() == DType::kBool ? (value != 0 ? 0 : kNegInf) : value;
              }
            }
            const int64_t diff = i + offset - j;
            const bool causal_ok = !causal_ || diff >= 0;
            const bool window_ok = (left_ < 0 || diff <= left_) && (right_ < 0 || -diff <= right_);
            const bool padding_ok = lengths.empty() || j < lengths[b];
            if (!causal_ok || !window_ok || !padding_ok) out = kNegInf;
          }
        }
      }
    }
    return bias;
  }

  const bool causal_;
  const int64_t mode_;
  const float softcap_;
  const int64_t left_, right_;
  std::optional<float> scale_;
  std::optional<int64_t> q_heads_, kv_heads_;
};

// RotaryEmbedding: X [batch, heads, seq, head] (or 3-D [batch, seq, heads * head] with
// num_heads); the first rotary_embedding_dim (default all) values of each head vector are
// rotated in pairs (the two halves, or interleaved neighbours) by the angle whose cos and sin
// come from the caches at position_ids[b, s] ([max_position, dim / 2]) or, without
// position_ids, at [b, s] ([batch, seq, dim / 2]).
class RotaryEmbeddingKernel : public Kernel {
 public:
  explicit RotaryEmbeddingKernel(const KernelInfo& info)
      : interleaved_(info.attrs->GetInt("interleaved") != 0),
        rotary_dim_(info.attrs->GetInt("rotary_embedding_dim")),
        num_heads_(info.attrs->GetInt("num_heads")) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* cos, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* sin, ctx.RequiredInput(2));
    const Tensor* ids = Present(ctx.input(3));
    const bool three_d = x->rank() == 3;
    if (x->rank() != 3 && x->rank() != 4) return Bad("X must be 3-D or 4-D");
    if (three_d && (num_heads_ <= 0 || x->dim(2) % num_heads_ != 0)) {
      return Bad("3-D X needs num_heads dividing its last dim");
    }
    const int64_t batch = x->dim(0), seq = three_d ? x->dim(1) : x->dim(2);
    const int64_t heads = three_d ? num_heads_ : x->dim(1);
    const int64_t size = three_d ? x->dim(2) / num_heads_ : x->dim(3);
    const int64_t dim = rotary_dim_ > 0 ? rotary_dim_ : size;
    const int64_t half = dim / 2;
    if (dim > size || dim % 2 != 0 || cos->shape() != sin->shape() || cos->rank() < 2 ||
        cos->dim(cos->rank() - 1) != half) {
      return Bad(absl::StrCat("caches ", ShapeToString(cos->shape()), " must end in ", half,
                              " for a rotary dim of ", dim));
    }
    std::vector<int64_t> positions;
    if (ids != nullptr) {
      ASSIGN_OR_RETURN(positions, ids->ToInt64Vector());
      if (static_cast<int64_t>(positions.size()) != batch * seq) {
        return Bad("position_ids must be [batch, sequence]");
      }
    } else if (cos->shape() != Shape{batch, seq, half}) {
      return Bad("without position_ids the caches must be [batch, sequence, dim / 2]");
    }
    const int64_t rows = cos->num_elements() / half;
    std::vector<double> y(x->num_elements());
    for (int64_t i = 0; i < x->num_elements(); ++i) y[i] = x->ElementAsDouble(i);
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t s = 0; s < seq; ++s) {
        const int64_t row = ids != nullptr ? positions[b * seq + s] : b * seq + s;
        if (row < 0 || row >= rows) {
          return Bad(absl::StrCat("position ", row, " is outside the caches"));
        }
        for (int64_t h = 0; h < heads; ++h) {
          const int64_t base =
              three_d ? ((b * seq + s) * heads + h) * size : ((b * heads + h) * seq + s) * size;
          for (int64_t i = 0; i < half; ++i) {
            const int64_t i1 = base + (interleaved_ ? 2 * i : i);
            const int64_t i2 = base + (interleaved_ ? 2 * i + 1 : i + half);
            const double c = cos->ElementAsDouble(row * half + i);
            const double sn = sin->ElementAsDouble(row * half + i);
            const double x1 = y[i1], x2 = y[i2];
            y[i1] = c * x1 - sn * x2;
            y[i2] = sn * x1 + c * x2;
          }
        }
      }
    }
    return Store(ctx, 0, x->dtype(), x->shape(), y);
  }

 private:
  static absl::Status Bad(absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("RotaryEmbedding: ", what));
  }
  const bool interleaved_;
  const int64_t rotary_dim_, num_heads_;
};

// TensorScatter: present_cache = past_cache with `update` written along `axis` (default -2)
// from write_indices[batch] (default 0); mode "circular" wraps the writes around the axis.
class TensorScatterKernel : public Kernel {
 public:
  explicit TensorScatterKernel(const KernelInfo& info)
      : axis_(info.attrs->GetInt("axis", -2)), mode_(info.attrs->GetString("mode", "linear")) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* past, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* update, ctx.RequiredInput(1));
    const Tensor* indices = Present(ctx.input(2));
    if (mode_ != "linear" && mode_ != "circular") return Bad("mode must be linear or circular");
    const int rank = past->rank();
    const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
    bool ok =
        axis >= 1 && axis < rank && update->rank() == rank && update->dtype() == past->dtype();
    for (int d = 0; ok && d < rank; ++d) ok = d == axis || update->dim(d) == past->dim(d);
    if (!ok || update->dim(axis) > past->dim(axis)) {
      return Bad(absl::StrCat("update ", ShapeToString(update->shape()), " does not fit cache ",
                              ShapeToString(past->shape()), " along axis ", axis_));
    }
    std::vector<int64_t> start(past->dim(0), 0);
    if (indices != nullptr) {
      ASSIGN_OR_RETURN(start, indices->ToInt64Vector());
      if (static_cast<int64_t>(start.size()) != past->dim(0)) {
        return Bad("write_indices must hold one index per batch");
      }
    }
    const int64_t outer = Product(past->shape(), 0, axis), max_len = past->dim(axis);
    const int64_t len = update->dim(axis), inner = Product(past->shape(), axis + 1, rank);
    const int64_t per_batch = outer / std::max<int64_t>(1, past->dim(0));
    const size_t item = DTypeSize(past->dtype());
    ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, past->dtype(), past->shape()));
    if (past->dtype() == DType::kString) return Bad("string caches are not supported");
    if (past->nbytes() > 0) std::memcpy(out->raw_data(), past->raw_data(), past->nbytes());
    auto* dst = static_cast<char*>(out->raw_data());
    const auto* src = static_cast<const char*>(update->raw_data());
    for (int64_t o = 0; o < outer; ++o) {
      const int64_t b = o / per_batch;
      for (int64_t s = 0; s < len; ++s) {
        int64_t at = start[b] + s;
        if (mode_ == "circular") at = ((at % max_len) + max_len) % max_len;
        if (at < 0 || at >= max_len) {
          return Bad(absl::StrCat("write index ", at, " is outside the cache length ", max_len));
        }
        std::memcpy(dst + ((o * max_len + at) * inner) * item, src + ((o * len + s) * inner) * item,
                    inner * item);
      }
    }
    return absl::OkStatus();
  }

 private:
  static absl::Status Bad(absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("TensorScatter: ", what));
  }
  const int64_t axis_;
  const std::string mode_;
};

// LinearAttention: a recurrent state S [batch, kv_heads, d_k, d_v] (past_state or zeros) per
// step t: gated rules decay S by exp(decay); delta rules replace v by beta * (v - S^T k); then
// S += k v^T, and the output is scale * q^T S (query heads grouped onto key/value heads).
class LinearAttentionKernel : public Kernel {
 public:
  explicit LinearAttentionKernel(const KernelInfo& info)
      : rule_(info.attrs->GetString("update_rule", "gated_delta")),
        q_heads_(info.attrs->GetInt("q_num_heads")),
        kv_heads_(info.attrs->GetInt("kv_num_heads")),
        scale_(info.attrs->GetFloat("scale")) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* q, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* k, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* v, ctx.RequiredInput(2));
    const Tensor* past = Present(ctx.input(3));
    const Tensor* decay = Present(ctx.input(4));
    const Tensor* beta = Present(ctx.input(5));
    const bool gated = rule_ == "gated" || rule_ == "gated_delta";
    const bool delta = rule_ == "delta" || rule_ == "gated_delta";
    if (!gated && !delta && rule_ != "linear") return Bad("unknown update_rule " + rule_);
    if (gated != (decay != nullptr) || delta != (beta != nullptr)) {
      return Bad("update_rule " + rule_ + " takes decay exactly when gated, beta when delta");
    }
    if (q_heads_ <= 0 || kv_heads_ <= 0 || q_heads_ % kv_heads_ != 0) {
      return Bad("q_num_heads must be a positive multiple of kv_num_heads");
    }
    if (q->rank() != 3 || k->rank() != 3 || v->rank() != 3 || q->dim(2) % q_heads_ != 0 ||
        k->dim(2) % kv_heads_ != 0 || v->dim(2) % kv_heads_ != 0) {
      return Bad("query, key and value must be [batch, sequence, heads * size]");
    }
    const int64_t b_n = q->dim(0), steps = q->dim(1), dk = q->dim(2) / q_heads_;
    const int64_t dv = v->dim(2) / kv_heads_, group = q_heads_ / kv_heads_;
    if (k->dim(2) / kv_heads_ != dk || k->dim(0) != b_n || v->dim(0) != b_n || k->dim(1) != steps ||
        v->dim(1) != steps) {
      return Bad("query, key and value do not fit together");
    }
    const Shape state_shape{b_n, kv_heads_, dk, dv};
    std::vector<double> state(b_n * kv_heads_ * dk * dv, 0.0);
    if (past != nullptr) {
      if (past->shape() != state_shape) {
        return Bad("past_state must be [batch, kv_heads, d_k, d_v]");
      }
      for (size_t i = 0; i < state.size(); ++i) state[i] = past->ElementAsDouble(i);
    }
    const int64_t decay_last = decay != nullptr ? decay->dim(decay->rank() - 1) : 0;
    if (decay != nullptr &&
        (decay->rank() != 3 || (decay_last != kv_heads_ && decay_last != kv_heads_ * dk))) {
      return Bad("decay must be [batch, sequence, kv_heads or kv_heads * d_k]");
    }
    const int64_t beta_last = beta != nullptr ? beta->dim(beta->rank() - 1) : 0;
    if (beta != nullptr && (beta->rank() != 3 || (beta_last != kv_heads_ && beta_last != 1))) {
      return Bad("beta must be [batch, sequence, kv_heads or 1]");
    }
    const double scale = scale_ != 0 ? scale_ : 1.0 / std::sqrt(static_cast<double>(dk));
    std::vector<double> out(b_n * steps * q_heads_ * dv), vt(dv);
    for (int64_t b = 0; b < b_n; ++b) {
      for (int64_t t = 0; t < steps; ++t) {
        const int64_t bt = b * steps + t;
        for (int64_t h = 0; h < kv_heads_; ++h) {
          double* st = state.data() + (b * kv_heads_ + h) * dk * dv;
          auto key = [&](int64_t d) { return k->ElementAsDouble((bt * kv_heads_ + h) * dk + d); };
          if (gated) {
            for (int64_t d = 0; d < dk; ++d) {
              const int64_t at = bt * decay_last + (decay_last == kv_heads_ ? h : h * dk + d);
              const double g = std::exp(decay->ElementAsDouble(at));
              for (int64_t m = 0; m < dv; ++m) st[d * dv + m] *= g;
            }
          }
          for (int64_t m = 0; m < dv; ++m)
            vt[m] = v->ElementAsDouble((bt * kv_heads_ + h) * dv + m);
          if (delta) {
            const double bv = beta->ElementAsDouble(bt * beta_last + (beta_last == 1 ? 0 : h));
            for (int64_t m = 0; m < dv; ++m) {
              double retrieved = 0;
              for (int64_t d = 0; d < dk; ++d) retrieved += st[d * dv + m] * key(d);
              vt[m] = bv * (vt[m] - retrieved);
            }
          }
          for (int64_t d = 0; d < dk; ++d) {
            const double kd = key(d);
            for (int64_t m = 0; m < dv; ++m) st[d * dv + m] += kd * vt[m];
          }
        }
        for (int64_t hq = 0; hq < q_heads_; ++hq) {
          const double* st = state.data() + (b * kv_heads_ + hq / group) * dk * dv;
          for (int64_t m = 0; m < dv; ++m) {
            double acc = 0;
            for (int64_t d = 0; d < dk; ++d) {
              acc += q->ElementAsDouble((bt * q_heads_ + hq) * dk + d) * st[d * dv + m];
            }
            out[(bt * q_heads_ + hq) * dv + m] = scale * acc;
          }
        }
      }
    }
    RETURN_IF_ERROR(Store(ctx, 0, q->dtype(), {b_n, steps, q_heads_ * dv}, out));
    if (ctx.num_outputs() > 1) {
      RETURN_IF_ERROR(
          Store(ctx, 1, past != nullptr ? past->dtype() : q->dtype(), state_shape, state));
    }
    return absl::OkStatus();
  }

 private:
  static absl::Status Bad(const std::string& what) {
    return absl::InvalidArgumentError("LinearAttention: " + what);
  }
  const std::string rule_;
  const int64_t q_heads_, kv_heads_;
  const float scale_;
};

// CausalConvWithState: a depthwise causal 1-D convolution, weight [channels, 1, k], over
// past_state (or k - 1 zeros) followed by the input [batch, channels, length], plus bias, then
// optionally SiLU ("silu" or "swish"); present_state holds the last k - 1 positions.
class CausalConvWithStateKernel : public Kernel {
 public:
  explicit CausalConvWithStateKernel(const KernelInfo& info)
      : activation_(info.attrs->GetString("activation", "none")) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* w, ctx.RequiredInput(1));
    const Tensor* bias = Present(ctx.input(2));
    const Tensor* past = Present(ctx.input(3));
    if (activation_ != "none" && activation_ != "silu" && activation_ != "swish") {
      return Bad("activation must be none, silu or swish");
    }
    if (x->rank() != 3 || w->rank() != 3 || w->dim(0) != x->dim(1) || w->dim(1) != 1 ||
        w->dim(2) < 1) {
      return Bad("input must be [batch, channels, length] and weight [channels, 1, k]");
    }
    const int64_t batch = x->dim(0), channels = x->dim(1), len = x->dim(2), k = w->dim(2);
    const Shape state_shape{batch, channels, k - 1};
    if (past != nullptr && past->shape() != state_shape) {
      return Bad("past_state must be [batch, channels, k - 1]");
    }
    if (bias != nullptr && bias->num_elements() != channels) return Bad("bias must be [channels]");
    std::vector<double> y(batch * channels * len), state(batch * channels * (k - 1));
    std::vector<double> padded(len + k - 1);
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t c = 0; c < channels; ++c) {
        const int64_t row = b * channels + c;
        for (int64_t i = 0; i < k - 1; ++i) {
          padded[i] = past != nullptr ? past->ElementAsDouble(row * (k - 1) + i) : 0.0;
        }
        for (int64_t i = 0; i < len; ++i) padded[k - 1 + i] = x->ElementAsDouble(row * len + i);
        for (int64_t t = 0; t < len; ++t) {
          double acc = bias != nullptr ? bias->ElementAsDouble(c) : 0.0;
          for (int64_t j = 0; j < k; ++j) acc += w->ElementAsDouble(c * k + j) * padded[t + j];
          y[row * len + t] = activation_ == "none" ? acc : acc / (1 + std::exp(-acc));
        }
        for (int64_t i = 0; i < k - 1; ++i) state[row * (k - 1) + i] = padded[len + i];
      }
    }
    RETURN_IF_ERROR(Store(ctx, 0, x->dtype(), x->shape(), y));
    if (ctx.num_outputs() > 1) {
      RETURN_IF_ERROR(
          Store(ctx, 1, past != nullptr ? past->dtype() : x->dtype(), state_shape, state));
    }
    return absl::OkStatus();
  }

 private:
  static absl::Status Bad(absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("CausalConvWithState: ", what));
  }
  const std::string activation_;
};

absl::Status InferAttention(InferenceContext& ctx) {
  const TensorType& q = ctx.input(0);
  ctx.set_output(0, TensorType{q.dtype, q.shape ? std::optional<Shape>(Shape(q.shape->size(), -1))
                                                : std::nullopt});
  for (int i = 1; i < ctx.num_outputs(); ++i) {
    ctx.set_output(i, TensorType{ctx.input(i == 3 ? 0 : i).dtype, Shape(4, -1)});
  }
  return absl::OkStatus();
}

}  // namespace

CORTADO_REGISTER_OP(OpSchema("Attention")
                        .Versions(23)
                        .Inputs(3, 7)
                        .Outputs(1, 4)
                        .Attr("is_causal", int64_t{0})
                        .OptionalAttr("kv_num_heads", AttrType::kInt)
                        .OptionalAttr("q_num_heads", AttrType::kInt)
                        .Attr("qk_matmul_output_mode", int64_t{0})
                        .OptionalAttr("scale", AttrType::kFloat)
                        .Attr("softcap", 0.0f)
                        .OptionalAttr("softmax_precision", AttrType::kInt)
                        .Attr("left_window_size", int64_t{-1})   // opset 25
                        .Attr("right_window_size", int64_t{-1})  // opset 25
                        .Infer(InferAttention));
CORTADO_REGISTER_KERNEL("Attention", kCpuBackend, 23, kMaxOpset,
                        (std::vector<DType>{DType::kFloat32, DType::kFloat64, DType::kFloat16,
                                            DType::kBFloat16}),
                        MakeFactory<AttentionKernel>());

CORTADO_REGISTER_OP(OpSchema("RotaryEmbedding")
                        .Versions(23)
                        .Inputs(3, 4)
                        .Attr("interleaved", int64_t{0})
                        .Attr("num_heads", int64_t{0})
                        .Attr("rotary_embedding_dim", int64_t{0})
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("RotaryEmbedding", kCpuBackend, 23, kMaxOpset,
                        (std::vector<DType>{DType::kFloat32, DType::kFloat64, DType::kFloat16,
                                            DType::kBFloat16}),
                        MakeFactory<RotaryEmbeddingKernel>());

CORTADO_REGISTER_OP(OpSchema("TensorScatter")
                        .Versions(24)
                        .Inputs(2, 3)
                        .Attr("axis", int64_t{-2})
                        .Attr("mode", std::string("linear"))
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("TensorScatter", kCpuBackend, 24, kMaxOpset, {},
                        MakeFactory<TensorScatterKernel>());

CORTADO_REGISTER_OP(OpSchema("LinearAttention")
                        .Versions(27)
                        .Inputs(3, 6)
                        .Outputs(1, 2)
                        .Attr("chunk_size", int64_t{64})
                        .RequiredAttr("kv_num_heads", AttrType::kInt)
                        .RequiredAttr("q_num_heads", AttrType::kInt)
                        .Attr("scale", 0.0f)
                        .Attr("update_rule", std::string("gated_delta"))
                        .Infer([](InferenceContext& ctx) {
                          ctx.set_output(0, TensorType{ctx.input(0).dtype, Shape(3, -1)});
                          ctx.set_output(1, TensorType{ctx.input(0).dtype, Shape(4, -1)});
                          return absl::OkStatus();
                        }));
CORTADO_REGISTER_KERNEL("LinearAttention", kCpuBackend, 27, kMaxOpset,
                        (std::vector<DType>{DType::kFloat32, DType::kFloat64, DType::kFloat16,
                                            DType::kBFloat16}),
                        MakeFactory<LinearAttentionKernel>());

CORTADO_REGISTER_OP(OpSchema("CausalConvWithState")
                        .Versions(27)
                        .Inputs(2, 4)
                        .Outputs(1, 2)
                        .Attr("activation", std::string("none"))
                        .Infer([](InferenceContext& ctx) {
                          ctx.set_output(0, ctx.input(0));
                          ctx.set_output(1, TensorType{ctx.input(0).dtype, Shape(3, -1)});
                          return absl::OkStatus();
                        }));
CORTADO_REGISTER_KERNEL("CausalConvWithState", kCpuBackend, 27, kMaxOpset,
                        (std::vector<DType>{DType::kFloat32, DType::kFloat64, DType::kFloat16,
                                            DType::kBFloat16}),
                        MakeFactory<CausalConvWithStateKernel>());

}  // namespace cortado
