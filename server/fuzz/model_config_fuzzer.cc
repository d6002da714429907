// libFuzzer target: the config.pbtxt reader. The input is config.pbtxt text; one that parses is
// completed against a fixed two-input, two-output model, as the repository does at load.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "server/repository/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config =
      cortado::ParseModelConfig(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!config.ok()) return 0;
  cortado::InstanceCount(*config);
  for (const auto& in : config->input()) cortado::FullShape(*config, in.dims());
  using cortado::DType;
  using cortado::Shape;
  const std::vector<cortado::ValueInfo> inputs = {{"x", {DType::kFloat32, Shape{-1, 4}}},
                                                  {"mask", {DType::kInt64, Shape{-1, 4}}}};
  const std::vector<cortado::ValueInfo> outputs = {{"y", {DType::kFloat32, Shape{-1, 3}}},
                                                   {"z", {DType::kString, Shape{-1}}}};
  for (absl::string_view platform : {cortado::kOnnxPlatform, cortado::kNetDefPlatform}) {
    auto completed = cortado::CompleteModelConfig(*config, "m", inputs, outputs, platform);
    if (completed.ok()) cortado::InstanceCount(*completed);
  }
  return 0;
}
