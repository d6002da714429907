// The tensor family's Cast and CastLike: conversion between every pair of dtypes, strings and
// the narrow types included (numbers are printed and parsed as ONNX's reference does; float8
// targets saturate or not by `saturate`, E8M0 rounds by `round_mode`); and BitCast (opset 26),
// the same bits read as another dtype of the same width.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ops/registry.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace tensor_ops {
namespace {

// ---------------------------------------------------------------------------------------------
// Cast and CastLike.

// numpy's str() of a floating value: the shortest digits that round-trip, positional for
// 1e-4 <= |v| < 1e16 and scientific otherwise ("0.1", "100.0", "1e-05", "1.5e+16").
template <typename T>
std::string FloatToString(const T& value) {
  const double d = static_cast<double>(ConvertValue<double>(value));
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof(buf), "%.*e", p - 1, d);
    const double back = std::strtod(buf, nullptr);
    if (ConvertValue<double>(ConvertValue<T>(back)) == d) break;
  }
  const std::string s = buf[0] == '-' ? buf + 1 : buf;
  const size_t e = s.find('e');
  std::string digits = s.substr(0, 1) + (e > 1 ? s.substr(2, e - 2) : "");
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exp10 = std::atoi(s.c_str() + e + 1);
  std::string out = d < 0 ? "-" : "";
  const double a = std::fabs(d);
  const int n = static_cast<int>(digits.size());
  if (a >= 1e-4 && a < 1e16) {
    if (exp10 < 0) {
      absl::StrAppend(&out, "0.", std::string(-exp10 - 1, '0'), digits);
    } else if (n <= exp10 + 1) {
      absl::StrAppend(&out, digits, std::string(exp10 + 1 - n, '0'), ".0");
    } else {
      absl::StrAppend(&out, digits.substr(0, exp10 + 1), ".", digits.substr(exp10 + 1));
    }
  } else {
    absl::StrAppend(&out, digits.substr(0, 1), n > 1 ? "." : "", digits.substr(1), "e",
                    exp10 < 0 ? "-" : "+", std::abs(exp10) < 10 ? "0" : "", std::abs(exp10));
  }
  return out;
}

template <typename T>
std::string ValueToString(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "True" : "False";
  } else if constexpr ((std::is_integral_v<T> && std::is_signed_v<T>) || kIsNarrowInt<T>) {
    return absl::StrCat(static_cast<int64_t>(v));
  } else if constexpr (std::is_integral_v<T>) {
    return absl::StrCat(static_cast<uint64_t>(v));
  } else {
    return FloatToString(v);
  }
}

// Parses a number ("1.5", "-3", "1e-5", "INF", "NaN", "+inf"; booleans also "true"/"false").
template <typename T>
absl::StatusOr<T> ValueFromString(const std::string& str, absl::string_view op) {
  const std::string s(absl::StripAsciiWhitespace(str));
  if constexpr (std::is_same_v<T, bool>) {
    if (absl::EqualsIgnoreCase(s, "true")) return true;
    if (absl::EqualsIgnoreCase(s, "false")) return false;
  }
  char* end = nullptr;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    errno = 0;
    if (std::is_signed_v<T>) {
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && *end == '\0' && errno == 0) return static_cast<T>(v);
    } else if (!s.empty() && s[0] != '-') {
      const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
      if (*end == '\0' && errno == 0) return static_cast<T>(v);
    }
  }
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0') return Bad(op, "cannot parse '", str, "' as a number");
  return ConvertValue<T>(v);
}

// float -> bfloat16 by truncation (what ONNX's reference Cast did before opset 19; from 19 it
// rounds to nearest even, as BFloat16's constructor does), keeping NaN a NaN.
BFloat16 TruncateToBFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  BFloat16 b;
  b.bits = static_cast<uint16_t>(x >> 16);
  if (std::isnan(f)) b.bits |= 0x40;
  return b;
}

// What Cast's attributes ask of a conversion.
struct CastOptions {
  bool truncate_bfloat16 = false;             // before opset 19
  bool saturate = true;                       // float8 targets (opset 19)
  E8M0Rounding rounding = E8M0Rounding::kUp;  // E8M0 targets (opset 24)
};

absl::StatusOr<CastOptions> CastOptionsOf(const AttributeMap& attrs, int opset) {
  CastOptions o;
  o.truncate_bfloat16 = opset < 19;
  o.saturate = attrs.GetInt("saturate", 1) != 0;
  const std::string mode = attrs.GetString("round_mode", "up");
  if (mode == "down") {
    o.rounding = E8M0Rounding::kDown;
  } else if (mode == "nearest") {
    o.rounding = E8M0Rounding::kNearest;
  } else if (mode != "up") {
    return Bad("Cast", "round_mode must be up, down or nearest, got '", mode, "'");
  }
  return o;
}

template <typename To, typename From>
absl::Status CastElements(const From* in, To* out, int64_t n, const CastOptions& o) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<To, From>) {
      out[i] = in[i];
    } else if constexpr (std::is_same_v<To, std::string>) {
      out[i] = ValueToString(in[i]);
    } else if constexpr (std::is_same_v<From, std::string>) {
      ASSIGN_OR_RETURN(out[i], ValueFromString<To>(in[i], "Cast"));
    } else if constexpr (std::is_same_v<To, BFloat16>) {
      out[i] = o.truncate_bfloat16 ? TruncateToBFloat16(ConvertValue<float>(in[i]))
                                   : ConvertValue<To>(in[i]);
    } else if constexpr (kIsNarrowFloat<To>) {
      out[i] = To::FromBits(
          EncodeNarrowFloat(To::kFormat, ConvertValue<double>(in[i]), o.saturate, o.rounding));
    } else {
      out[i] = ConvertValue<To>(in[i]);
    }
  }
  return absl::OkStatus();
}

absl::Status CastTensor(const Tensor& x, DType to, const CastOptions& options, KernelContext& ctx) {
  if (x.dtype() == to) {
    ctx.SetOutput(0, x);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, to, x.shape()));
  return VisitAnyDType(x.dtype(), "Cast", [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    return VisitAnyDType(to, "Cast", [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      return CastElements<To, From>(x.data<From>(), y->data<To>(), x.num_elements(), options);
    });
  });
}

absl::Status InferCast(InferenceContext& ctx) {
  ASSIGN_OR_RETURN(DType to, DTypeFromOnnx(ctx.attrs().GetInt("to"), "Cast"));
  ctx.set_output(0, {to, ctx.input(0).shape});
  return absl::OkStatus();
}

absl::StatusOr<DType> BitCastTarget(DType from, int64_t to) {
  ASSIGN_OR_RETURN(DType target, DTypeFromOnnx(to, "BitCast"));
  if (from == DType::kString || target == DType::kString || DTypeSize(from) != DTypeSize(target)) {
    return Bad("BitCast", "cannot reinterpret ", DTypeName(from), " as ", DTypeName(target));
  }
  return target;
}

absl::Status InferBitCast(InferenceContext& ctx) {
  ASSIGN_OR_RETURN(DType to, DTypeFromOnnx(ctx.attrs().GetInt("to"), "BitCast"));
  if (ctx.input(0).dtype != DType::kUndefined) {
    ASSIGN_OR_RETURN(to, BitCastTarget(ctx.input(0).dtype, ctx.attrs().GetInt("to")));
  }
  ctx.set_output(0, {to, ctx.input(0).shape});
  return absl::OkStatus();
}

class BitCastKernel : public Kernel {
 public:
  explicit BitCastKernel(const KernelInfo& info) : to_(info.attrs->GetInt("to")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(DType to, BitCastTarget(x->dtype(), to_));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, to, x->shape()));
    if (x->nbytes() > 0) std::memcpy(y->raw_data(), x->raw_data(), x->nbytes());
    return absl::OkStatus();
  }

 private:
  int64_t to_;
};

class CastKernel : public Kernel {
 public:
  explicit CastKernel(const KernelInfo& info)
      : to_(info.attrs->GetInt("to")), options_(CastOptionsOf(*info.attrs, info.opset)) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(DType to, DTypeFromOnnx(to_, "Cast"));
    RETURN_IF_ERROR(options_.status());
    return CastTensor(*x, to, *options_, ctx);
  }

 private:
  int64_t to_;
  absl::StatusOr<CastOptions> options_;
};

absl::Status InferCastLike(InferenceContext& ctx) {
  ctx.set_output(0, {ctx.input(1).dtype, ctx.input(0).shape});
  return absl::OkStatus();
}

class CastLikeKernel : public Kernel {
 public:
  explicit CastLikeKernel(const KernelInfo& info)
      : options_(CastOptionsOf(*info.attrs, info.opset)) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* like, ctx.RequiredInput(1));
    RETURN_IF_ERROR(options_.status());
    return CastTensor(*x, like->dtype(), *options_, ctx);
  }

 private:
  absl::StatusOr<CastOptions> options_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registrations.

// saturate (opset 19) concerns float8 targets, round_mode (24) E8M0 targets.
CORTADO_REGISTER_OP(OpSchema("Cast")
                        .Versions(6)
                        .Inputs(1, 1)
                        .RequiredAttr("to", AttrType::kInt)
                        .Attr("saturate", int64_t{1})
                        .Attr("round_mode", std::string("up"))
                        .Infer(InferCast));
CORTADO_REGISTER_KERNEL("Cast", kCpuBackend, 6, kMaxOpset, AnyType(), MakeFactory<CastKernel>());

CORTADO_REGISTER_OP(OpSchema("BitCast")
                        .Versions(26)
                        .Inputs(1, 1)
                        .RequiredAttr("to", AttrType::kInt)
                        .Infer(InferBitCast));
CORTADO_REGISTER_KERNEL("BitCast", kCpuBackend, 26, kMaxOpset, AnyType(),
                        MakeFactory<BitCastKernel>());

CORTADO_REGISTER_OP(OpSchema("CastLike")
                        .Versions(15)
                        .Inputs(2, 2)
                        .Attr("saturate", int64_t{1})
                        .Attr("round_mode", std::string("up"))
                        .Infer(InferCastLike));
CORTADO_REGISTER_KERNEL("CastLike", kCpuBackend, 15, kMaxOpset, AnyType(),
                        MakeFactory<CastLikeKernel>());

}  // namespace tensor_ops
}  // namespace cortado
