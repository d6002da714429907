// libFuzzer target: the ONNX importer. The input is a serialized ModelProto, imported as
// cortadod imports model.onnx (libonnx's checker and shape inference where it knows the
// version, then the Graph); external data is looked up in an empty scratch folder.
#include <cstddef>
#include <cstdint>
#include <string>

#include "predictor/onnx/onnx_importer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  cortado::ImportOnnx(bytes, "/nonexistent").IgnoreError();
  return 0;
}
