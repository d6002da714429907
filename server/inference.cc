#include "server/inference.h"

namespace cortado {
namespace {

struct Name {
  DType dtype;
  const char* name;
};
constexpr Name kNames[] = {
    {DType::kBool, "BOOL"},     {DType::kUInt8, "UINT8"},     {DType::kUInt16, "UINT16"},
    {DType::kUInt32, "UINT32"}, {DType::kUInt64, "UINT64"},   {DType::kInt8, "INT8"},
    {DType::kInt16, "INT16"},   {DType::kInt32, "INT32"},     {DType::kInt64, "INT64"},
    {DType::kFloat16, "FP16"},  {DType::kFloat32, "FP32"},    {DType::kFloat64, "FP64"},
    {DType::kString, "BYTES"},  {DType::kBFloat16, "BF16"},
};

}  // namespace

absl::string_view KServeDatatype(DType dtype) {
  for (const Name& n : kNames) {
    if (n.dtype == dtype) return n.name;
  }
  return "INVALID";
}

absl::StatusOr<DType> DTypeFromKServe(absl::string_view datatype) {
  for (const Name& n : kNames) {
    if (datatype == n.name) return n.dtype;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown datatype '", datatype, "'"));
}

}  // namespace cortado
