// Definitions of the helpers shared by the nn operator groups (see ops/nn_util.h).

#include "ops/nn_util.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/fused.h"

namespace cortado {

absl::Status CheckSameDType(absl::string_view op, const Tensor& a, const Tensor& b,
                            absl::string_view what) {
  if (a.dtype() != b.dtype()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": ", what, " has dtype ", DTypeName(b.dtype()), " but X has ", DTypeName(a.dtype())));
  }
  return absl::OkStatus();
}

int64_t Product(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < s.size(); ++i) p *= s[i];
  return p;
}

bool ShapesMayMatch(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) return false;
  }
  return true;
}

absl::StatusOr<DType> CommonDType(std::initializer_list<std::pair<const char*, DType>> types) {
  DType first = DType::kUndefined;
  const char* first_name = "";
  for (const auto& [name, d] : types) {
    if (d == DType::kUndefined) continue;
    if (first == DType::kUndefined) {
      first = d;
      first_name = name;
    } else if (d != first) {
      return absl::InvalidArgumentError(absl::StrCat(name, " has dtype ", DTypeName(d), " but ",
                                                     first_name, " has ", DTypeName(first)));
    }
  }
  return first;
}

InferFn ChannelsLast(InferFn infer) {
  return [infer](InferenceContext& ctx) -> absl::Status {
    std::vector<TensorType> inputs;
    std::vector<const Tensor*> constants;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      TensorType t = ctx.input(i);
      const bool activation = IsChannelsLastInput(i);
      if (activation && t.shape) {
        if (t.shape->size() < 3) {
          return absl::InvalidArgumentError(absl::StrCat(
              "channels-last input ", i, " must have rank >= 3, got ", ShapeToString(*t.shape)));
        }
        t.shape = ToChannelsFirst(*t.shape);
      }
      inputs.push_back(t);
      constants.push_back(activation ? nullptr : ctx.constant(i));
    }
    InferenceContext inner(inputs, constants, &ctx.attrs(), kMaxOpset, ctx.num_outputs());
    RETURN_IF_ERROR(infer(inner));
    TensorType y = inner.outputs()[0];
    if (y.shape) y.shape = ToChannelsLast(*y.shape);
    ctx.set_output(0, y);
    return absl::OkStatus();
  };
}

// ---------------------------------------------------------------------------------------------
// Sliding windows
// ---------------------------------------------------------------------------------------------

absl::StatusOr<WindowAttrs> ReadWindowAttrs(absl::string_view op, const AttributeMap& attrs) {
  WindowAttrs w;
  const std::string auto_pad = attrs.GetString("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    w.auto_pad = AutoPad::kNotSet;
  } else if (auto_pad == "SAME_UPPER") {
    w.auto_pad = AutoPad::kSameUpper;
  } else if (auto_pad == "SAME_LOWER") {
    w.auto_pad = AutoPad::kSameLower;
  } else if (auto_pad == "VALID") {
    w.auto_pad = AutoPad::kValid;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(op, ": unknown auto_pad '", auto_pad, "'"));
  }
  w.kernel_shape = attrs.GetInts("kernel_shape");
  w.strides = attrs.GetInts("strides");
  w.dilations = attrs.GetInts("dilations");
  w.pads = attrs.GetInts("pads");
  w.ceil_mode = attrs.GetInt("ceil_mode") != 0;
  w.output_padding = attrs.GetInts("output_padding");
  w.output_shape = attrs.GetInts("output_shape");
  return w;
}

namespace {

// Bound on kernel sizes, strides, dilations and pads, far above any real model, so that the
// window arithmetic on int64 cannot overflow.
constexpr int64_t kMaxWindowAttr = int64_t{1} << 20;

// Checks that an attribute list has `want` entries (or is absent), all in [min, kMaxWindowAttr].
absl::Status CheckAttrList(absl::string_view op, absl::string_view name,
                           const std::vector<int64_t>& v, size_t want, int64_t min) {
  if (v.empty()) return absl::OkStatus();
  if (v.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ", name, " has ", v.size(), " values, expected ", want));
  }
  for (int64_t x : v) {
    if (x < min || x > kMaxWindowAttr) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": ", name, " [", absl::StrJoin(v, ","),
                                                     "] has a value outside [", min, ", ",
                                                     kMaxWindowAttr, "]"));
    }
  }
  return absl::OkStatus();
}

// Splits a total padding between the two ends as the auto_pad mode says (SAME_UPPER puts the
// extra one at the end).
void SplitPadding(int64_t total, AutoPad mode, int64_t* begin, int64_t* end) {
  *begin = mode == AutoPad::kSameUpper ? total / 2 : total - total / 2;
  *end = total - *begin;
}

// Validates the window attributes for `nd` spatial dims and fills kernel, stride, dilation
// and (for auto_pad NOTSET) the explicit pads; in and out are left at 1.
absl::StatusOr<Geometry> InitGeometry(absl::string_view op, size_t nd,
                                      const std::vector<int64_t>& kernel, const WindowAttrs& w) {
  if (nd < 1 || nd > kMaxSpatial) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": supports 1 to ", kMaxSpatial,
                                                   " spatial dimensions, got ", nd, " (input rank ",
                                                   nd + 2, ")"));
  }
  if (kernel.size() != nd) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": kernel_shape [", absl::StrJoin(kernel, ","), "] has ", kernel.size(),
                     " values for ", nd, " spatial dimensions"));
  }
  RETURN_IF_ERROR(CheckAttrList(op, "kernel_shape", kernel, nd, 1));
  RETURN_IF_ERROR(CheckAttrList(op, "strides", w.strides, nd, 1));
  RETURN_IF_ERROR(CheckAttrList(op, "dilations", w.dilations, nd, 1));
  RETURN_IF_ERROR(CheckAttrList(op, "pads", w.pads, 2 * nd, 0));
  Geometry g;
  g.nd = static_cast<int>(nd);
  g.in.fill(1);
  g.out.fill(1);
  g.kernel.fill(1);
  g.stride.fill(1);
  g.dilation.fill(1);
  const size_t lead = kMaxSpatial - nd;
  for (size_t i = 0; i < nd; ++i) {
    const size_t j = lead + i;
    g.kernel[j] = kernel[i];
    if (!w.strides.empty()) g.stride[j] = w.strides[i];
    if (!w.dilations.empty()) g.dilation[j] = w.dilations[i];
    if (w.auto_pad == AutoPad::kNotSet && !w.pads.empty()) {
      g.pad_begin[j] = w.pads[i];
      g.pad_end[j] = w.pads[i + nd];
    }
  }
  return g;
}

}  // namespace

absl::StatusOr<Geometry> ForwardGeometry(absl::string_view op, const Shape& in,
                                         const std::vector<int64_t>& kernel, const WindowAttrs& w) {
  ASSIGN_OR_RETURN(Geometry g, InitGeometry(op, in.size(), kernel, w));
  const size_t lead = kMaxSpatial - in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    const size_t j = lead + i;
    g.in[j] = in[i];
    const int64_t span = (g.kernel[j] - 1) * g.dilation[j] + 1;
    const int64_t s = g.stride[j];
    if (in[i] < 0) {
      g.out[j] = -1;
    } else if (w.auto_pad == AutoPad::kSameUpper || w.auto_pad == AutoPad::kSameLower) {
      g.out[j] = (in[i] + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (g.out[j] - 1) * s + span - in[i]);
      SplitPadding(total, w.auto_pad, &g.pad_begin[j], &g.pad_end[j]);
    } else {
      const int64_t room = in[i] + g.pad_begin[j] + g.pad_end[j] - span;
      if (room < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(op, ": window of extent ", span, " (kernel ", g.kernel[j], ", dilation ",
                         g.dilation[j], ") is larger than the padded input (", in[i], " + pads ",
                         g.pad_begin[j], ",", g.pad_end[j], ") in spatial dimension ", i));
      }
      g.out[j] = (w.ceil_mode ? (room + s - 1) / s : room / s) + 1;
      // As in PyTorch and ONNX Runtime: the last window must start inside the input or its
      // leading padding.
      if (w.ceil_mode && (g.out[j] - 1) * s >= in[i] + g.pad_begin[j]) --g.out[j];
    }
  }
  return g;
}

absl::StatusOr<Geometry> TransposedGeometry(const Shape& in, const std::vector<int64_t>& kernel,
                                            const WindowAttrs& w) {
  constexpr absl::string_view op = "ConvTranspose";
  const size_t nd = in.size();
  ASSIGN_OR_RETURN(Geometry g, InitGeometry(op, nd, kernel, w));
  RETURN_IF_ERROR(CheckAttrList(op, "output_padding", w.output_padding, nd, 0));
  if (!w.output_shape.empty() && w.output_shape.size() < nd) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": output_shape [",
                                                   absl::StrJoin(w.output_shape, ","),
                                                   "] has fewer than ", nd, " values"));
  }
  for (int64_t v : w.output_shape) {
    if (v < 0 || v > (int64_t{1} << 40)) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": output_shape [",
                                                     absl::StrJoin(w.output_shape, ","),
                                                     "] is negative or too large"));
    }
  }
  const size_t lead = kMaxSpatial - nd;
  for (size_t i = 0; i < nd; ++i) {
    const size_t j = lead + i;
    g.out[j] = in[i];  // the adjoint convolution's output is this op's input
    if (in[i] < 0) {
      g.in[j] = -1;
      continue;
    }
    const int64_t span = (g.kernel[j] - 1) * g.dilation[j] + 1;
    const int64_t s = g.stride[j];
    const int64_t adj = w.output_padding.empty() ? 0 : w.output_padding[i];
    const int64_t full = s * (in[i] - 1) + adj + span;
    int64_t size = -1;
    if (!w.output_shape.empty()) {
      size = w.output_shape[w.output_shape.size() - nd + i];
    } else if (w.auto_pad == AutoPad::kSameUpper || w.auto_pad == AutoPad::kSameLower) {
      size = in[i] * s;
    }
    if (size >= 0) {
      // Pads follow from the requested size; a negative total leaves the extra outputs at the
      // end (they only get the bias).
      const int64_t total = full - size;
      if (total >= 0) {
        SplitPadding(total,
                     w.auto_pad == AutoPad::kSameUpper ? AutoPad::kSameUpper : AutoPad::kSameLower,
                     &g.pad_begin[j], &g.pad_end[j]);
      } else {
        g.pad_begin[j] = 0;
        g.pad_end[j] = total;
      }
    } else {
      size = full - g.pad_begin[j] - g.pad_end[j];  // explicit pads, or none for VALID
    }
    if (size < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": pads ", g.pad_begin[j], ",", g.pad_end[j],
          " are larger than the full output size ", full, " in spatial dimension ", i));
    }
    g.in[j] = size;
  }
  return g;
}

}  // namespace cortado
