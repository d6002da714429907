// libFuzzer target: the Caffe2 NetDef importer. The input is an init_net and a predict_net: its
// first two bytes (little-endian) are init_net's length, the rest holds init_net then
// predict_net, each parsed as a binary or text NetDef and imported as cortadod imports
// init_net.pb + predict_net.pb. The bytes after the length are also tried as a MetaNetDef.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "caffe2.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "predictor/netdef/netdef_importer.h"

// The text parser logs every syntax error; the fuzzer's output would be nothing else.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  const size_t split = std::min<size_t>(rest.size(), data[0] | data[1] << 8);
  auto init = cortado::ParseNetDef(rest.substr(0, split), "init_net");
  auto predict = cortado::ParseNetDef(rest.substr(split), "predict_net");
  // Fills that make their own values stay under libFuzzer's -malloc_limit_mb.
  constexpr int64_t kFillLimit = 64 << 20;
  if (init.ok() && predict.ok()) cortado::ImportNetDef(*init, *predict, kFillLimit).IgnoreError();
  cortado::ImportMetaNetDef(rest, kFillLimit).IgnoreError();
  return 0;
}
