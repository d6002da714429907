// libFuzzer target: core's .npy reader; a file that parses is written back and read again.
#include <cstddef>
#include <cstdint>

#include "core/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = cortado::ParseNpy(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!t.ok()) return 0;
  auto bytes = cortado::SerializeNpy(*t);
  if (bytes.ok() && !cortado::ParseNpy(*bytes).ok()) __builtin_trap();
  return 0;
}
