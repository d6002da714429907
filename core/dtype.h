// DType: the element types a Tensor can hold, their sizes and names, and VisitDType, which calls a
// generic lambda with the C++ type behind a DType. Header-only values; thread-safe.
#ifndef CORTADO_CORE_DTYPE_H_
#define CORTADO_CORE_DTYPE_H_

#include <cstdint>
#include <cstring>
#include <string>
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

// Size in bytes of one element (sizeof(std::string) for kString, 0 for kUndefined).
size_t DTypeSize(DType dtype);
// Lower-case name as numpy spells it ("float32", "int64", "bool", "string", ...).
absl::string_view DTypeName(DType dtype);
bool IsFloatingPoint(DType dtype);  // float32/64, float16, bfloat16
bool IsInteger(DType dtype);        // signed or unsigned, not bool

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
  kAll,      // kNumeric plus bool, float16, bfloat16, string
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
    case DType::kUndefined: break;
  }
  return absl::InvalidArgumentError(absl::StrCat(what, ": undefined dtype"));
}

}  // namespace cortado

#endif  // CORTADO_CORE_DTYPE_H_
