// The signal family (ONNX opset 17; DFT's axis an input from 20): HannWindow, HammingWindow,
// BlackmanWindow, DFT and STFT. Complex values are stored as a trailing dimension of 2 (real,
// imaginary); a trailing dimension of 1 is a real signal. Transforms accumulate in double: a
// radix-2 FFT when the length is a power of two, otherwise a direct DFT with exact twiddle indices.
// The inverse DFT divides by the length, as numpy.fft.ifft does.
#include <algorithm>
#include <cmath>
#include <complex>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/registry.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace {

using Complex = std::complex<double>;
constexpr double kPi = 3.14159265358979323846;

absl::Status Invalid(absl::string_view op, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", message));
}

// A scalar (or one-element) int32/int64 input.
absl::StatusOr<int64_t> ScalarInt(const Tensor& t, absl::string_view op, absl::string_view what) {
  if ((t.dtype() != DType::kInt32 && t.dtype() != DType::kInt64) || t.num_elements() != 1 ||
      t.rank() > 1) {
    return Invalid(op, absl::StrCat(what, " must be an int32 or int64 scalar, got ",
                                    DTypeName(t.dtype()), " ", ShapeToString(t.shape())));
  }
  ASSIGN_OR_RETURN(const std::vector<int64_t> v, t.ToInt64Vector());
  return v[0];
}

// Calls f(TypeTag<T>) for float32 and float64.
template <typename F>
absl::Status VisitFloat(DType dtype, absl::string_view what, F&& f) {
  switch (dtype) {
    case DType::kFloat32:
      return f(TypeTag<float>{});
    case DType::kFloat64:
      return f(TypeTag<double>{});
    default:
      return Invalid(what, absl::StrCat("unsupported dtype ", DTypeName(dtype),
                                        " (float32 or float64 expected)"));
  }
}

// ---------------------------------------------------------------------------------------------
// Window functions
// ---------------------------------------------------------------------------------------------

// The numeric TensorProto.DataType values accepted by output_datatype.
absl::StatusOr<DType> FromOnnxDataType(int64_t v) {
  absl::StatusOr<DType> dtype = tensor_ops::DTypeFromOnnx(v, "output_datatype");
  if (dtype.ok() && (*dtype == DType::kString || *dtype == DType::kBool)) {
    return absl::InvalidArgumentError(
        absl::StrCat("output_datatype ", v, " is not a numeric TensorProto data type"));
  }
  return dtype;
}

// Generalized cosine window: sum_k a_k * cos(2 pi k n / N), with signs folded into a_k.
struct CosineWindow {
  const char* op;
  std::vector<double> coeffs;
};

absl::Status InferWindow(InferenceContext& ctx) {
  TensorType out{DType::kUndefined, Shape{-1}};
  auto dtype = FromOnnxDataType(ctx.attrs().GetInt("output_datatype", 1));
  if (dtype.ok()) out.dtype = *dtype;
  if (const Tensor* size = ctx.constant(0)) {
    auto n = ScalarInt(*size, "window", "size");
    if (n.ok() && *n >= 0) out.shape = Shape{*n};
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

class WindowKernel : public Kernel {
 public:
  WindowKernel(const KernelInfo& info, CosineWindow window)
      : window_(std::move(window)),
        periodic_(info.attrs->GetInt("periodic", 1) != 0),
        output_datatype_(info.attrs->GetInt("output_datatype", 1)) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* size_in, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const int64_t size, ScalarInt(*size_in, window_.op, "size"));
    if (size < 0) return Invalid(window_.op, absl::StrCat("size must be >= 0, got ", size));
    auto dtype = FromOnnxDataType(output_datatype_);
    if (!dtype.ok()) return Invalid(window_.op, dtype.status().message());
    ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, *dtype, {size}));
    // Periodic windows are the first `size` points of a symmetric window of size + 1.
    const double denom = static_cast<double>(periodic_ ? size : size - 1);
    return VisitDType(*dtype, DTypeSet::kAll, window_.op, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool>) {
        return Invalid(window_.op, "output_datatype must be numeric");
      } else {
        T* y = out->data<T>();
        for (int64_t n = 0; n < size; ++n) {
          // A symmetric window of one point is [1].
          double v = denom > 0 ? 0.0 : 1.0;
          for (size_t k = 0; k < window_.coeffs.size() && denom > 0; ++k) {
            v += window_.coeffs[k] * std::cos(2 * kPi * k * n / denom);
          }
          if constexpr (std::is_same_v<T, double>) {
            y[n] = v;
          } else {
            y[n] = static_cast<T>(static_cast<float>(v));
          }
        }
        return absl::OkStatus();
      }
    });
  }

 private:
  CosineWindow window_;
  bool periodic_;
  int64_t output_datatype_;
};

KernelFactory WindowFactory(CosineWindow window) {
  return [window](const KernelInfo& info) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::unique_ptr<Kernel>(new WindowKernel(info, window));
  };
}

OpSchema WindowSchema(const char* op) {
  return OpSchema(op)
      .Versions(17)
      .Inputs(1, 1)
      .Attr("output_datatype", int64_t{1})
      .Attr("periodic", int64_t{1})
      .Infer(InferWindow);
}

// ---------------------------------------------------------------------------------------------
// Fourier transforms
// ---------------------------------------------------------------------------------------------

// In-place DFT of `x` (sign -1 forward, +1 inverse, no scaling).
void Transform(std::vector<Complex>& x, bool inverse) {
  const size_t n = x.size();
  if (n <= 1) return;
  const double sign = inverse ? 1.0 : -1.0;
  if ((n & (n - 1)) == 0) {  // iterative radix-2 Cooley-Tukey
    for (size_t i = 1, j = 0; i < n; ++i) {
      size_t bit = n >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) std::swap(x[i], x[j]);
    }
    for (size_t len = 2; len <= n; len <<= 1) {
      for (size_t i = 0; i < n; i += len) {
        for (size_t k = 0; k < len / 2; ++k) {
          const double angle = sign * 2 * kPi * static_cast<double>(k) / static_cast<double>(len);
          const Complex w(std::cos(angle), std::sin(angle));
          const Complex u = x[i + k], v = x[i + k + len / 2] * w;
          x[i + k] = u + v;
          x[i + k + len / 2] = u - v;
        }
      }
    }
    return;
  }
  std::vector<Complex> twiddle(n);
  for (size_t k = 0; k < n; ++k) {
    const double angle = sign * 2 * kPi * static_cast<double>(k) / static_cast<double>(n);
    twiddle[k] = Complex(std::cos(angle), std::sin(angle));
  }
  std::vector<Complex> out(n);
  for (size_t k = 0; k < n; ++k) {
    Complex acc = 0;
    for (size_t j = 0; j < n; ++j) acc += x[j] * twiddle[(k * j) % n];
    out[k] = acc;
  }
  x.swap(out);
}

// Transforms every line of `in` ([outer, len, inner, channels], channels 1 = real, 2 = complex)
// along the len dimension: the line is zero-padded or truncated to `n`, and the first `bins`
// coefficients are written to out ([outer, bins, inner, 2]). A onesided inverse (numpy's irfft)
// reads `in` as bins 0..n/2 of a real signal's spectrum, completes it by Hermitian symmetry, and
// writes the real signal ([outer, n, inner, 1]).
template <typename T>
void TransformLines(const T* in, int64_t outer, int64_t len, int64_t inner, int64_t channels,
                    int64_t n, int64_t bins, bool inverse, bool onesided, T* out) {
  const bool real_out = inverse && onesided;
  const int64_t out_channels = real_out ? 1 : 2;
  std::vector<Complex> line(n);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        const bool mirror = real_out && 2 * j > n;
        const int64_t k = mirror ? n - j : j;
        Complex c = 0;
        if (k < len) {
          const T* v = in + ((o * len + k) * inner + i) * channels;
          c = Complex(v[0], channels == 2 ? v[1] : T(0));
        }
        // Bin 0 (and n/2 for even n) of a real signal's spectrum is real.
        if (real_out && (k == 0 || 2 * k == n)) c = c.real();
        line[j] = mirror ? std::conj(c) : c;
      }
      Transform(line, inverse);
      for (int64_t k = 0; k < bins; ++k) {
        const Complex c = inverse ? line[k] / static_cast<double>(n) : line[k];
        T* dst = out + ((o * bins + k) * inner + i) * out_channels;
        dst[0] = static_cast<T>(c.real());
        if (!real_out) dst[1] = static_cast<T>(c.imag());
      }
    }
  }
}

// Resolved DFT geometry for an input shape.
struct DftPlan {
  int axis = 1;
  int64_t n = 0;     // transform length
  int64_t bins = 0;  // output length along axis
  Shape out;
};

absl::StatusOr<DftPlan> PlanDft(const Shape& in, int64_t axis, bool onesided, bool inverse,
                                std::optional<int64_t> length) {
  const int rank = static_cast<int>(in.size());
  if (rank < 3 || (in.back() != 1 && in.back() != 2)) {
    return Invalid("DFT", absl::StrCat("input must be [batch, signal dims..., 1 or 2], got ",
                                       ShapeToString(in)));
  }
  if (axis < 0) axis += rank;
  if (axis < 1 || axis > rank - 2) {
    return Invalid("DFT", absl::StrCat("axis must select a signal dimension of ", ShapeToString(in),
                                       ", got ", axis));
  }
  DftPlan p;
  p.axis = static_cast<int>(axis);
  // A onesided inverse takes bins 0..n/2 and by default gives the even length they come from.
  p.n = length ? *length : (onesided && inverse ? 2 * (in[axis] - 1) : in[axis]);
  if (p.n < 1) return Invalid("DFT", absl::StrCat("dft_length must be positive, got ", p.n));
  p.bins = onesided && !inverse ? p.n / 2 + 1 : p.n;
  p.out = in;
  p.out[axis] = p.bins;
  p.out.back() = onesided && inverse ? 1 : 2;
  return p;
}

// DFT's axis: the attribute `axis` (default 1) before opset 20, then the optional scalar input 2
// (default -2). nullopt when input 2 is given but unknown (inference).
absl::StatusOr<std::optional<int64_t>> DftAxis(int opset, const AttributeMap& attrs,
                                               bool has_axis_input, const Tensor* axis_input) {
  if (opset < 20) return std::optional<int64_t>(attrs.GetInt("axis", 1));
  if (!has_axis_input) return std::optional<int64_t>(-2);
  if (axis_input == nullptr) return std::optional<int64_t>();
  ASSIGN_OR_RETURN(int64_t axis, ScalarInt(*axis_input, "DFT", "axis"));
  return std::optional<int64_t>(axis);
}

class DftKernel : public Kernel {
 public:
  explicit DftKernel(const KernelInfo& info)
      : opset_(info.opset),
        attrs_(*info.attrs),
        inverse_(info.attrs->GetInt("inverse", 0) != 0),
        onesided_(info.attrs->GetInt("onesided", 0) != 0) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    std::optional<int64_t> length;
    if (const Tensor* l = ctx.input(1)) {
      ASSIGN_OR_RETURN(length, ScalarInt(*l, "DFT", "dft_length"));
    }
    const Tensor* axis_input = ctx.input(2);
    ASSIGN_OR_RETURN(std::optional<int64_t> axis,
                     DftAxis(opset_, attrs_, axis_input != nullptr, axis_input));
    ASSIGN_OR_RETURN(DftPlan p, PlanDft(x->shape(), *axis, onesided_, inverse_, length));
    const Shape& s = x->shape();
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < p.axis; ++d) outer *= s[d];
    for (int d = p.axis + 1; d + 1 < x->rank(); ++d) inner *= s[d];
    return VisitFloat(x->dtype(), "DFT", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), p.out));
      TransformLines<T>(x->data<T>(), outer, s[p.axis], inner, s.back(), p.n, p.bins, inverse_,
                        onesided_, y->data<T>());
      return absl::OkStatus();
    });
  }

 private:
  int opset_;
  AttributeMap attrs_;
  bool inverse_, onesided_;
};

absl::Status InferDft(InferenceContext& ctx) {
  TensorType out{ctx.input(0).dtype, std::nullopt};
  const auto& in = ctx.input(0).shape;
  std::optional<int64_t> length;
  ASSIGN_OR_RETURN(std::optional<int64_t> axis,
                   DftAxis(ctx.opset(), ctx.attrs(), ctx.has_input(2), ctx.constant(2)));
  if (!axis) {
    if (in) out.shape = Shape(in->size(), -1);
    ctx.set_output(0, out);
    return absl::OkStatus();
  }
  if (ctx.has_input(1)) {
    const Tensor* l = ctx.constant(1);
    if (l == nullptr) {  // unknown length: only the axis dimension is unknown
      if (in && in->size() >= 3) {
        Shape s = *in;
        if (*axis < 0) *axis += static_cast<int64_t>(s.size());
        if (*axis >= 1 && *axis + 2 <= static_cast<int64_t>(s.size())) s[*axis] = -1;
        s.back() = 2;
        out.shape = s;
      }
      ctx.set_output(0, out);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(length, ScalarInt(*l, "DFT", "dft_length"));
  }
  if (in && std::none_of(in->begin(), in->end(), [](int64_t d) { return d < 0; })) {
    ASSIGN_OR_RETURN(DftPlan p, PlanDft(*in, *axis, ctx.attrs().GetInt("onesided", 0) != 0,
                                        ctx.attrs().GetInt("inverse", 0) != 0, length));
    out.shape = p.out;
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

class StftKernel : public Kernel {
 public:
  explicit StftKernel(const KernelInfo& info) : onesided_(info.attrs->GetInt("onesided", 1) != 0) {}

  absl::Status Compute(KernelContext& ctx) const override {
    constexpr absl::string_view kOp = "STFT";
    ASSIGN_OR_RETURN(const Tensor* signal, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* step_in, ctx.RequiredInput(1));
    const Tensor* window = ctx.input(2);
    if (signal->rank() != 3 || (signal->dim(2) != 1 && signal->dim(2) != 2)) {
      return Invalid(kOp, absl::StrCat("signal must be [batch, length, 1 or 2], got ",
                                       ShapeToString(signal->shape())));
    }
    ASSIGN_OR_RETURN(const int64_t step, ScalarInt(*step_in, kOp, "frame_step"));
    int64_t frame = -1;
    if (const Tensor* l = ctx.input(3)) {
      ASSIGN_OR_RETURN(frame, ScalarInt(*l, kOp, "frame_length"));
    }
    if (window != nullptr) {
      if (window->rank() != 1 || window->dtype() != signal->dtype()) {
        return Invalid(
            kOp, absl::StrCat("window must be 1-D with the signal's dtype, got ",
                              DTypeName(window->dtype()), " ", ShapeToString(window->shape())));
      }
      if (frame >= 0 && frame != window->dim(0)) {
        return Invalid(kOp, absl::StrCat("frame_length ", frame, " differs from the window's ",
                                         window->dim(0)));
      }
      frame = window->dim(0);
    }
    const int64_t length = signal->dim(1), channels = signal->dim(2);
    if (frame < 1 || frame > length || step < 1) {
      return Invalid(kOp, absl::StrCat("need 1 <= frame_length <= signal length (", length,
                                       ") and frame_step >= 1; got frame_length ", frame,
                                       ", frame_step ", step));
    }
    const int64_t frames = (length - frame) / step + 1;
    const int64_t bins = onesided_ ? frame / 2 + 1 : frame;
    const int64_t batch = signal->dim(0);
    return VisitFloat(signal->dtype(), kOp, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      ASSIGN_OR_RETURN(Tensor * y,
                       ctx.AllocateOutput(0, signal->dtype(), {batch, frames, bins, 2}));
      std::vector<T> framed(frame * channels);
      for (int64_t b = 0; b < batch; ++b) {
        for (int64_t f = 0; f < frames; ++f) {
          const T* src = signal->data<T>() + (b * length + f * step) * channels;
          for (int64_t j = 0; j < frame; ++j) {
            const T w = window ? window->data<T>()[j] : T(1);
            for (int64_t c = 0; c < channels; ++c)
              framed[j * channels + c] = src[j * channels + c] * w;
          }
          TransformLines<T>(framed.data(), 1, frame, 1, channels, frame, bins, false, false,
                            y->data<T>() + (b * frames + f) * bins * 2);
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  bool onesided_;
};

absl::Status InferStft(InferenceContext& ctx) {
  TensorType out{ctx.input(0).dtype, std::nullopt};
  const auto& in = ctx.input(0).shape;
  int64_t frame = -1, step = -1;
  if (const Tensor* l = ctx.constant(3)) {
    auto v = ScalarInt(*l, "STFT", "frame_length");
    if (v.ok()) frame = *v;
  } else if (ctx.has_input(2) && ctx.input(2).shape && ctx.input(2).shape->size() == 1) {
    frame = (*ctx.input(2).shape)[0];
  }
  if (const Tensor* s = ctx.constant(1)) {
    auto v = ScalarInt(*s, "STFT", "frame_step");
    if (v.ok()) step = *v;
  }
  if (in && in->size() == 3) {
    const bool onesided = ctx.attrs().GetInt("onesided", 1) != 0;
    const int64_t length = (*in)[1];
    const int64_t frames =
        frame > 0 && step > 0 && length >= frame ? (length - frame) / step + 1 : -1;
    const int64_t bins = frame > 0 ? (onesided ? frame / 2 + 1 : frame) : -1;
    out.shape = Shape{(*in)[0], frames, bins, 2};
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

const std::vector<DType>& IndexTypes() {
  static const auto* types = new std::vector<DType>{DType::kInt32, DType::kInt64};
  return *types;
}

}  // namespace

CORTADO_REGISTER_OP(WindowSchema("HannWindow"));
CORTADO_REGISTER_OP(WindowSchema("HammingWindow"));
CORTADO_REGISTER_OP(WindowSchema("BlackmanWindow"));
CORTADO_REGISTER_KERNEL("HannWindow", kCpuBackend, 17, kMaxOpset, IndexTypes(),
                        WindowFactory({"HannWindow", {0.5, -0.5}}));
CORTADO_REGISTER_KERNEL("HammingWindow", kCpuBackend, 17, kMaxOpset, IndexTypes(),
                        WindowFactory({"HammingWindow", {25.0 / 46.0, -21.0 / 46.0}}));
CORTADO_REGISTER_KERNEL("BlackmanWindow", kCpuBackend, 17, kMaxOpset, IndexTypes(),
                        WindowFactory({"BlackmanWindow", {0.42, -0.5, 0.08}}));

CORTADO_REGISTER_OP(OpSchema("DFT")
                        .Versions(17)
                        .Inputs(1, 3)              // axis is input 2 from opset 20
                        .Attr("axis", int64_t{1})  // before opset 20
                        .Attr("inverse", int64_t{0})
                        .Attr("onesided", int64_t{0})
                        .Infer(InferDft));
CORTADO_REGISTER_KERNEL("DFT", kCpuBackend, 17, kMaxOpset, FloatTypes(), MakeFactory<DftKernel>());

CORTADO_REGISTER_OP(
    OpSchema("STFT").Versions(17).Inputs(2, 4).Attr("onesided", int64_t{1}).Infer(InferStft));
CORTADO_REGISTER_KERNEL("STFT", kCpuBackend, 17, kMaxOpset, FloatTypes(),
                        MakeFactory<StftKernel>());

}  // namespace cortado
