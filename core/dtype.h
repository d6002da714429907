// DType: the element types a Tensor can hold, their sizes and names, and VisitDType, which calls a
// generic lambda with the C++ type behind a DType; the narrow types' conversions and ONNX's
// packing of the 4- and 2-bit types. Values and pure functions; thread-safe.
#ifndef CORTADO_CORE_DTYPE_H_
#define CORTADO_CORE_DTYPE_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "absl/strings/string_view.h"

#include "core/status.h"

namespace cortado {

enum class DType : int8_t {
  kUndefined = 0,
  kFloat32,
  kFloat64,
  kFloat16,
  kBFloat16,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kBool,
  kString,
  // The narrow types (IsNarrow): ONNX's 8- and 4-bit floats and 4- and 2-bit integers, one value
  // per byte in memory (ONNX's files pack the 4- and 2-bit types: PackNarrow / UnpackNarrow).
  // Conversions (Cast, QuantizeLinear, DequantizeLinear) read and write their values; other
  // kernels only move them (by size, as the tensor family's VisitStorage does).
  kFloat8E4M3FN,
  kFloat8E4M3FNUZ,
  kFloat8E5M2,
  kFloat8E5M2FNUZ,
  kFloat8E8M0,
  kFloat4E2M1,
  kInt4,
  kUInt4,
  kInt2,
  kUInt2,
};

// IEEE binary16, stored as its bits; arithmetic converts through float.
struct Half {
  uint16_t bits = 0;
  Half() = default;
  explicit Half(float f);
  explicit operator float() const;
};

// bfloat16, stored as its bits; arithmetic converts through float.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  explicit BFloat16(float f);
  explicit operator float() const;
};

// The narrow floating formats (OCP float8 E4M3FN and E5M2, their FNUZ variants of GraphCore's
// proposal, the MX scale format E8M0, and float4 E2M1).
enum class NarrowFloatFormat : uint8_t { kE4M3FN, kE4M3FNUZ, kE5M2, kE5M2FNUZ, kE8M0, kE2M1 };
// How a value between two E8M0 powers of two rounds (Cast's round_mode, opset 24).
enum class E8M0Rounding : uint8_t { kUp, kDown, kNearest };

// Encodes `v` in `format` as ONNX's Cast does: to nearest, ties to even (E8M0: `rounding`). Values
// beyond the largest finite one become it when `saturate`, else infinity (E5M2) or NaN; formats
// without NaN or infinity (E2M1) always saturate. The FNUZ formats have no negative zero.
uint8_t EncodeNarrowFloat(NarrowFloatFormat format, double v, bool saturate,
                          E8M0Rounding rounding = E8M0Rounding::kUp);
float DecodeNarrowFloat(NarrowFloatFormat format, uint8_t bits);

// A value of a narrow floating format, its bits in `bits` (E2M1 in the low four).
template <NarrowFloatFormat F>
struct NarrowFloat {
  static constexpr NarrowFloatFormat kFormat = F;
  uint8_t bits = 0;
  NarrowFloat() = default;
  explicit NarrowFloat(float f) : bits(EncodeNarrowFloat(F, f, /*saturate=*/true)) {}
  static NarrowFloat FromBits(uint8_t b) {
    NarrowFloat v;
    v.bits = b;
    return v;
  }
  explicit operator float() const { return DecodeNarrowFloat(F, bits); }
};
using Float8E4M3FN = NarrowFloat<NarrowFloatFormat::kE4M3FN>;
using Float8E4M3FNUZ = NarrowFloat<NarrowFloatFormat::kE4M3FNUZ>;
using Float8E5M2 = NarrowFloat<NarrowFloatFormat::kE5M2>;
using Float8E5M2FNUZ = NarrowFloat<NarrowFloatFormat::kE5M2FNUZ>;
using Float8E8M0 = NarrowFloat<NarrowFloatFormat::kE8M0>;
using Float4E2M1 = NarrowFloat<NarrowFloatFormat::kE2M1>;

// A 4- or 2-bit integer, held in a byte (signed ones sign-extended).
template <int kBits, bool kSigned>
struct NarrowInt {
  static constexpr int64_t kMin = kSigned ? -(int64_t{1} << (kBits - 1)) : 0;
  static constexpr int64_t kMax = kSigned ? (int64_t{1} << (kBits - 1)) - 1 : (1 << kBits) - 1;
  std::conditional_t<kSigned, int8_t, uint8_t> value = 0;
  NarrowInt() = default;
  // Keeps the low kBits bits of `v` (two's complement), as ONNX casts integers out of range.
  explicit NarrowInt(int64_t v) {
    const int64_t low = v & ((int64_t{1} << kBits) - 1);
    value = static_cast<decltype(value)>(kSigned && low > kMax ? low - (int64_t{1} << kBits) : low);
  }
  explicit operator int64_t() const { return value; }
  explicit operator float() const { return value; }
};
using Int4 = NarrowInt<4, true>;
using UInt4 = NarrowInt<4, false>;
using Int2 = NarrowInt<2, true>;
using UInt2 = NarrowInt<2, false>;

template <typename T>
inline constexpr bool kIsNarrowFloat = false;
template <NarrowFloatFormat F>
inline constexpr bool kIsNarrowFloat<NarrowFloat<F>> = true;
template <typename T>
inline constexpr bool kIsNarrowInt = false;
template <int kBits, bool kSigned>
inline constexpr bool kIsNarrowInt<NarrowInt<kBits, kSigned>> = true;

// Size in bytes of one element (sizeof(std::string) for kString, 0 for kUndefined).
size_t DTypeSize(DType dtype);
// Lower-case name as numpy spells it ("float32", "int64", "bool", "string", ...; the narrow
// types as ml_dtypes does: "float8_e4m3fn", "int4", ...).
absl::string_view DTypeName(DType dtype);
bool IsFloatingPoint(DType dtype);  // float32/64, float16, bfloat16
bool IsInteger(DType dtype);        // signed or unsigned, not bool, not narrow
bool IsNarrow(DType dtype);         // float8, float4, int4/uint4, int2/uint2

// How many values ONNX packs into one byte of a tensor's data: 2 for int4, uint4 and float4, 4
// for int2 and uint2, 1 otherwise. Values are packed from the low bits up.
int ValuesPerByte(DType dtype);
// Unpacks `n` values of a narrow dtype from ceil(n / ValuesPerByte) bytes at `packed` into one
// byte each at `out` (signed integers sign-extended; the 8-bit types are copied); PackNarrow is
// the inverse (the unused high bits of the last byte are zero).
void UnpackNarrow(DType dtype, const uint8_t* packed, int64_t n, uint8_t* out);
void PackNarrow(DType dtype, const uint8_t* values, int64_t n, uint8_t* packed);

template <typename T>
struct DTypeOf;
#define CORTADO_DTYPE_OF_(T, D) \
  template <>                   \
  struct DTypeOf<T> {           \
    static constexpr DType value = D; \
  };
CORTADO_DTYPE_OF_(float, DType::kFloat32)
CORTADO_DTYPE_OF_(double, DType::kFloat64)
CORTADO_DTYPE_OF_(Half, DType::kFloat16)
CORTADO_DTYPE_OF_(BFloat16, DType::kBFloat16)
CORTADO_DTYPE_OF_(int8_t, DType::kInt8)
CORTADO_DTYPE_OF_(int16_t, DType::kInt16)
CORTADO_DTYPE_OF_(int32_t, DType::kInt32)
CORTADO_DTYPE_OF_(int64_t, DType::kInt64)
CORTADO_DTYPE_OF_(uint8_t, DType::kUInt8)
CORTADO_DTYPE_OF_(uint16_t, DType::kUInt16)
CORTADO_DTYPE_OF_(uint32_t, DType::kUInt32)
CORTADO_DTYPE_OF_(uint64_t, DType::kUInt64)
CORTADO_DTYPE_OF_(bool, DType::kBool)
CORTADO_DTYPE_OF_(std::string, DType::kString)
CORTADO_DTYPE_OF_(Float8E4M3FN, DType::kFloat8E4M3FN)
CORTADO_DTYPE_OF_(Float8E4M3FNUZ, DType::kFloat8E4M3FNUZ)
CORTADO_DTYPE_OF_(Float8E5M2, DType::kFloat8E5M2)
CORTADO_DTYPE_OF_(Float8E5M2FNUZ, DType::kFloat8E5M2FNUZ)
CORTADO_DTYPE_OF_(Float8E8M0, DType::kFloat8E8M0)
CORTADO_DTYPE_OF_(Float4E2M1, DType::kFloat4E2M1)
CORTADO_DTYPE_OF_(Int4, DType::kInt4)
CORTADO_DTYPE_OF_(UInt4, DType::kUInt4)
CORTADO_DTYPE_OF_(Int2, DType::kInt2)
CORTADO_DTYPE_OF_(UInt2, DType::kUInt2)
#undef CORTADO_DTYPE_OF_

template <typename T>
struct TypeTag {
  using type = T;
};

// Which dtypes a visit accepts.
enum class DTypeSet {
  kFloat,    // float32, float64
  kSigned,   // float32, float64, int8..int64
  kNumeric,  // kSigned plus uint8..uint64
  kAll,      // kNumeric plus bool, float16, bfloat16, string: all but the narrow types
};

bool InDTypeSet(DType dtype, DTypeSet set);

// Calls f(TypeTag<T>{}) with the C++ type of `dtype` when it is in `set`; otherwise returns
// InvalidArgument naming `what` and the dtype. f must return absl::Status.
template <typename F>
absl::Status VisitDType(DType dtype, DTypeSet set, absl::string_view what, F&& f) {
  if (!InDTypeSet(dtype, set)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": unsupported dtype ", DTypeName(dtype)));
  }
  switch (dtype) {
    case DType::kFloat32: return f(TypeTag<float>{});
    case DType::kFloat64: return f(TypeTag<double>{});
    case DType::kInt8: return f(TypeTag<int8_t>{});
    case DType::kInt16: return f(TypeTag<int16_t>{});
    case DType::kInt32: return f(TypeTag<int32_t>{});
    case DType::kInt64: return f(TypeTag<int64_t>{});
    case DType::kUInt8: return f(TypeTag<uint8_t>{});
    case DType::kUInt16: return f(TypeTag<uint16_t>{});
    case DType::kUInt32: return f(TypeTag<uint32_t>{});
    case DType::kUInt64: return f(TypeTag<uint64_t>{});
    case DType::kBool: return f(TypeTag<bool>{});
    case DType::kFloat16: return f(TypeTag<Half>{});
    case DType::kBFloat16: return f(TypeTag<BFloat16>{});
    case DType::kString: return f(TypeTag<std::string>{});
    default: break;
  }
  return absl::InvalidArgumentError(absl::StrCat(what, ": undefined dtype"));
}

// VisitDType over every dtype, the narrow ones included: for conversions (Cast, the quantizers,
// tensor decoding), whose f handles NarrowFloat and NarrowInt. Other kernels visit kAll only, so
// that their code is never instantiated for the narrow types.
template <typename F>
absl::Status VisitAnyDType(DType dtype, absl::string_view what, F&& f) {
  switch (dtype) {
    case DType::kFloat8E4M3FN: return f(TypeTag<Float8E4M3FN>{});
    case DType::kFloat8E4M3FNUZ: return f(TypeTag<Float8E4M3FNUZ>{});
    case DType::kFloat8E5M2: return f(TypeTag<Float8E5M2>{});
    case DType::kFloat8E5M2FNUZ: return f(TypeTag<Float8E5M2FNUZ>{});
    case DType::kFloat8E8M0: return f(TypeTag<Float8E8M0>{});
    case DType::kFloat4E2M1: return f(TypeTag<Float4E2M1>{});
    case DType::kInt4: return f(TypeTag<Int4>{});
    case DType::kUInt4: return f(TypeTag<UInt4>{});
    case DType::kInt2: return f(TypeTag<Int2>{});
    case DType::kUInt2: return f(TypeTag<UInt2>{});
    default: return VisitDType(dtype, DTypeSet::kAll, what, f);
  }
}

}  // namespace cortado

#endif  // CORTADO_CORE_DTYPE_H_
