// libFuzzer target: the gRPC request decoder. The input is a serialized ModelInferRequest (as
// it arrives on the wire); one that decodes is encoded back as a response.
#include <cstddef>
#include <cstdint>

#include "server/grpc/grpc_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  inference::ModelInferRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto decoded = cortado::DecodeInferRequest(request);
  if (!decoded.ok()) return 0;
  cortado::InferResponse response;
  response.outputs = decoded->inputs;
  inference::ModelInferResponse out;
  cortado::EncodeInferResponse(response, &out).IgnoreError();
  return 0;
}
