// libFuzzer target: an HTTP infer request body with the binary tensor data extension. The
// first two bytes give the Inference-Header-Content-Length (0xffff: absent), the rest is the
// body. A request that parses is encoded back as a response (outputs = its inputs).
#include <cstddef>
#include <cstdint>

#include "server/http/json_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int header = data[0] | data[1] << 8;
  const absl::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  auto parsed = cortado::http::ParseInferRequest(body, header == 0xffff ? -1 : header);
  if (!parsed.ok()) return 0;
  cortado::InferResponse response;
  response.outputs = parsed->request.inputs;
  cortado::http::WriteInferResponse(response, *parsed).IgnoreError();
  return 0;
}
