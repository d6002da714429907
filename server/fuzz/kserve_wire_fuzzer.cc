// libFuzzer target: the KServe wire library. The first byte picks a datatype, the next two a
// shape [d0, d1] (each up to 255, or a huge first dimension when the high bit of byte 3 is
// set, the shape-versus-bytes bomb), the rest is the raw data; the whole input is also parsed
// as JSON. Decoding must never crash nor allocate more than the data justifies (ASan's
// allocation limit catches the latter).
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/wire/kserve_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view all(reinterpret_cast<const char*>(data), size);
  rapidjson::Document doc;
  cortado::ParseJson(all, &doc).IgnoreError();
  if (size < 3) return 0;
  static const cortado::DType kTypes[] = {
      cortado::DType::kString, cortado::DType::kFloat32, cortado::DType::kBool,
      cortado::DType::kInt64,  cortado::DType::kFloat16, cortado::DType::kUInt8};
  const cortado::DType dtype = kTypes[data[0] % (sizeof(kTypes) / sizeof(kTypes[0]))];
  const int64_t d0 = (data[2] & 0x80) ? (int64_t{1} << 25) + data[1] : data[1];
  const cortado::Shape shape{d0, data[2] & 0x7f};
  auto tensor = cortado::DecodeRaw(all.substr(3), dtype, shape);
  if (tensor.ok()) {
    std::string back;
    if (!cortado::AppendRaw(*tensor, &back).ok() || back.size() != cortado::RawSize(*tensor)) {
      __builtin_trap();
    }
    // Round trip: what decodes re-encodes to the same bytes (BOOL normalizes to 0/1).
    if (dtype != cortado::DType::kBool && back != all.substr(3)) __builtin_trap();
  }
  return 0;
}
