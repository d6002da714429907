#include "core/dtype.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cortado {

Half::Half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // Inf or NaN
    bits = static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
    return;
  }
  if (abs >= 0x477ff000u) {  // overflows to Inf after rounding
    bits = static_cast<uint16_t>(sign | 0x7c00u);
    return;
  }
  if (abs < 0x38800000u) {  // subnormal or zero in half: units of 2^-24, ties to even
    float a;
    std::memcpy(&a, &abs, 4);
    bits = static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(a * 16777216.0f)));
    return;
  }
  uint32_t h = ((abs - 0x38000000u) >> 13);
  const uint32_t rem = abs & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  bits = static_cast<uint16_t>(sign | h);
}

Half::operator float() const {
  const uint32_t sign = (bits & 0x8000u) << 16;
  uint32_t exp = (bits >> 10) & 0x1fu;
  uint32_t mant = bits & 0x3ffu;
  uint32_t x;
  if (exp == 0x1f) {
    x = sign | 0x7f800000u | (mant << 13);
  } else if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      x = sign | ((112u - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else {
    x = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

BFloat16::BFloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) {
    bits = static_cast<uint16_t>((x >> 16) | 0x40u);
    return;
  }
  const uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  bits = static_cast<uint16_t>((x + rounding) >> 16);
}

BFloat16::operator float() const {
  const uint32_t x = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

namespace {

// The layout of a narrow floating format.
struct NarrowLayout {
  int bits;       // 8, or 4 for E2M1
  int mantissa;   // mantissa bits
  int bias;
  uint8_t max;    // bits of the largest finite value
  bool unsigned_zero;  // FNUZ: no negative zero, 0x80 is the only NaN
};

NarrowLayout LayoutOf(NarrowFloatFormat f) {
  switch (f) {
    case NarrowFloatFormat::kE4M3FN: return {8, 3, 7, 0x7e, false};
    case NarrowFloatFormat::kE4M3FNUZ: return {8, 3, 8, 0x7f, true};
    case NarrowFloatFormat::kE5M2: return {8, 2, 15, 0x7b, false};
    case NarrowFloatFormat::kE5M2FNUZ: return {8, 2, 16, 0x7f, true};
    case NarrowFloatFormat::kE2M1: return {4, 1, 1, 0x7, false};
    case NarrowFloatFormat::kE8M0: break;
  }
  return {8, 0, 127, 0xfe, true};
}

// E8M0 (exponent only, no sign, 0xff is NaN) from float32's exponent field, rounded as ONNX's
// reference (onnx.numpy_helper.to_float8e8m0) does; infinity saturates to the largest value.
uint8_t EncodeE8M0(float f, bool saturate, E8M0Rounding rounding) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t exponent = (x >> 23) & 0xffu;
  if (exponent == 0xffu) return std::isinf(f) && saturate ? 0xfe : 0xff;
  bool up = false;
  switch (rounding) {
    case E8M0Rounding::kUp: up = (x & 0x7fffffu) != 0; break;
    case E8M0Rounding::kDown: break;
    case E8M0Rounding::kNearest:
      up = (x & 0x400000u) && ((x & 0x200000u) || (x & 0x1fffffu) || exponent > 0);
      break;
  }
  if (up && !(saturate && exponent == 0xfeu)) ++exponent;
  return static_cast<uint8_t>(exponent);
}

}  // namespace

uint8_t EncodeNarrowFloat(NarrowFloatFormat format, double v, bool saturate,
                          E8M0Rounding rounding) {
  if (format == NarrowFloatFormat::kE8M0) return EncodeE8M0(static_cast<float>(v), saturate, rounding);
  const NarrowLayout l = LayoutOf(format);
  const uint8_t sign = std::signbit(v) ? static_cast<uint8_t>(1u << (l.bits - 1)) : 0;
  const uint8_t nan = l.unsigned_zero ? 0x80 : static_cast<uint8_t>(sign | 0x7f);
  if (std::isnan(v)) {
    if (format == NarrowFloatFormat::kE5M2) return sign | 0x7e;
    // E2M1 has no NaN: ml_dtypes (ONNX's reference) gives a zero of the opposite sign.
    if (format == NarrowFloatFormat::kE2M1) return sign ? 0 : 0x8;
    return nan;
  }
  auto overflow = [&]() -> uint8_t {
    if (saturate || format == NarrowFloatFormat::kE2M1) return sign | l.max;
    return format == NarrowFloatFormat::kE5M2 ? (sign | 0x7c) : nan;
  };
  const double a = std::fabs(v);
  if (std::isinf(a)) return overflow();
  if (a == 0) return l.unsigned_zero ? 0 : sign;
  // a = q * 2^(e - mantissa) with q rounded to an integer, ties to even; e is a's exponent, at
  // least the smallest normal one (below it, q counts subnormal steps).
  const int min_exp = 1 - l.bias;
  int e = 0;
  std::frexp(a, &e);
  e = std::max(e - 1, min_exp);
  const double q = std::nearbyint(std::ldexp(a, l.mantissa - e));
  const double max_value = DecodeNarrowFloat(format, l.max);
  if (std::ldexp(q, e - l.mantissa) > max_value) return overflow();
  // Subnormals have exponent field 0 and q < 2^mantissa; a carry of q into 2^(mantissa + 1)
  // moves to the next exponent by itself.
  const auto bits = static_cast<uint8_t>(((e - min_exp) << l.mantissa) + static_cast<int>(q));
  if (bits == 0 && l.unsigned_zero) return 0;
  return sign | bits;
}

float DecodeNarrowFloat(NarrowFloatFormat format, uint8_t bits) {
  if (format == NarrowFloatFormat::kE8M0) {
    return bits == 0xff ? std::numeric_limits<float>::quiet_NaN()
                        : std::ldexp(1.0f, static_cast<int>(bits) - 127);
  }
  const NarrowLayout l = LayoutOf(format);
  const bool negative = (bits >> (l.bits - 1)) & 1u;
  const int magnitude = bits & ((1 << (l.bits - 1)) - 1);
  const int exponent = magnitude >> l.mantissa;
  const int mantissa = magnitude & ((1 << l.mantissa) - 1);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  switch (format) {
    case NarrowFloatFormat::kE4M3FN:
      if (magnitude == 0x7f) return negative ? -nan : nan;
      break;
    case NarrowFloatFormat::kE5M2:
      if (exponent == 31) {
        const float inf = std::numeric_limits<float>::infinity();
        return mantissa != 0 ? (negative ? -nan : nan) : (negative ? -inf : inf);
      }
      break;
    case NarrowFloatFormat::kE4M3FNUZ:
    case NarrowFloatFormat::kE5M2FNUZ:
      if (bits == 0x80) return nan;
      break;
    default:
      break;
  }
  const float value = exponent == 0
                          ? std::ldexp(static_cast<float>(mantissa), 1 - l.bias - l.mantissa)
                          : std::ldexp(static_cast<float>((1 << l.mantissa) + mantissa),
                                       exponent - l.bias - l.mantissa);
  return negative ? -value : value;
}

int ValuesPerByte(DType dtype) {
  switch (dtype) {
    case DType::kInt4: case DType::kUInt4: case DType::kFloat4E2M1: return 2;
    case DType::kInt2: case DType::kUInt2: return 4;
    default: return 1;
  }
}

void UnpackNarrow(DType dtype, const uint8_t* packed, int64_t n, uint8_t* out) {
  const int per_byte = ValuesPerByte(dtype);
  const int bits = 8 / per_byte;
  const unsigned mask = (1u << bits) - 1;
  const bool sign_extend = dtype == DType::kInt4 || dtype == DType::kInt2;
  for (int64_t i = 0; i < n; ++i) {
    unsigned v = (packed[i / per_byte] >> (bits * (i % per_byte))) & mask;
    if (sign_extend && (v >> (bits - 1))) v |= ~mask;
    out[i] = static_cast<uint8_t>(v);
  }
}

void PackNarrow(DType dtype, const uint8_t* values, int64_t n, uint8_t* packed) {
  const int per_byte = ValuesPerByte(dtype);
  const int bits = 8 / per_byte;
  const unsigned mask = (1u << bits) - 1;
  std::memset(packed, 0, static_cast<size_t>((n + per_byte - 1) / per_byte));
  for (int64_t i = 0; i < n; ++i) {
    packed[i / per_byte] |= static_cast<uint8_t>((values[i] & mask) << (bits * (i % per_byte)));
  }
}

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kFloat16: return 2;
    case DType::kBFloat16: return 2;
    case DType::kInt8: return 1;
    case DType::kInt16: return 2;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kUInt8: return 1;
    case DType::kUInt16: return 2;
    case DType::kUInt32: return 4;
    case DType::kUInt64: return 8;
    case DType::kBool: return 1;
    case DType::kString: return sizeof(std::string);
    case DType::kFloat8E4M3FN: case DType::kFloat8E4M3FNUZ: case DType::kFloat8E5M2:
    case DType::kFloat8E5M2FNUZ: case DType::kFloat8E8M0: case DType::kFloat4E2M1:
    case DType::kInt4: case DType::kUInt4: case DType::kInt2: case DType::kUInt2:
      return 1;
    case DType::kUndefined: return 0;
  }
  return 0;
}

absl::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kFloat16: return "float16";
    case DType::kBFloat16: return "bfloat16";
    case DType::kInt8: return "int8";
    case DType::kInt16: return "int16";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kUInt8: return "uint8";
    case DType::kUInt16: return "uint16";
    case DType::kUInt32: return "uint32";
    case DType::kUInt64: return "uint64";
    case DType::kBool: return "bool";
    case DType::kString: return "string";
    case DType::kFloat8E4M3FN: return "float8_e4m3fn";
    case DType::kFloat8E4M3FNUZ: return "float8_e4m3fnuz";
    case DType::kFloat8E5M2: return "float8_e5m2";
    case DType::kFloat8E5M2FNUZ: return "float8_e5m2fnuz";
    case DType::kFloat8E8M0: return "float8_e8m0fnu";
    case DType::kFloat4E2M1: return "float4_e2m1fn";
    case DType::kInt4: return "int4";
    case DType::kUInt4: return "uint4";
    case DType::kInt2: return "int2";
    case DType::kUInt2: return "uint2";
    case DType::kUndefined: return "undefined";
  }
  return "undefined";
}

bool IsFloatingPoint(DType d) {
  return d == DType::kFloat32 || d == DType::kFloat64 || d == DType::kFloat16 ||
         d == DType::kBFloat16;
}

bool IsInteger(DType d) {
  switch (d) {
    case DType::kInt8: case DType::kInt16: case DType::kInt32: case DType::kInt64:
    case DType::kUInt8: case DType::kUInt16: case DType::kUInt32: case DType::kUInt64:
      return true;
    default:
      return false;
  }
}

bool IsNarrow(DType d) { return d >= DType::kFloat8E4M3FN && d <= DType::kUInt2; }

bool InDTypeSet(DType d, DTypeSet set) {
  const bool is_float = d == DType::kFloat32 || d == DType::kFloat64;
  const bool is_signed_int =
      d == DType::kInt8 || d == DType::kInt16 || d == DType::kInt32 || d == DType::kInt64;
  switch (set) {
    case DTypeSet::kFloat: return is_float;
    case DTypeSet::kSigned: return is_float || is_signed_int;
    case DTypeSet::kNumeric: return is_float || IsInteger(d);
    case DTypeSet::kAll: return d != DType::kUndefined && !IsNarrow(d);
  }
  return false;
}

}  // namespace cortado
