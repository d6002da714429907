// The JSON side of the KServe v2 HTTP/REST protocol, on RapidJSON: infer requests (JSON tensors,
// nested or flat row-major "data", and the binary tensor data extension) into InferRequest,
// InferResponse into the JSON (+ binary) body Triton returns, and the service's protobuf
// messages (metadata, config, statistics, repository index) into the JSON shapes Triton's HTTP
// endpoint returns. Pure functions: thread-safe, no state.
//
// Binary tensor data extension: the body is a JSON header of `Inference-Header-Content-Length`
// bytes followed by the tensors' bytes, in input order, for every input that carries the
// parameter "binary_data_size". Fixed-size types are little-endian row-major; BYTES elements are
// each a 4-byte little-endian length followed by that many bytes. Outputs are returned the same
// way when asked for with the output parameter "binary_data": true or the request parameter
// "binary_data_output": true.
#ifndef CORTADO_SERVER_HTTP_JSON_CODEC_H_
#define CORTADO_SERVER_HTTP_JSON_CODEC_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "core/status.h"
#include "google/protobuf/message.h"
#include "grpc_service.pb.h"
#include "server/inference.h"

namespace cortado {
namespace http {

// An infer request as parsed from HTTP: the protocol-neutral request plus how the client wants
// its outputs encoded.
struct HttpInferRequest {
  InferRequest request;
  bool binary_data_output = false;           // request parameter "binary_data_output"
  std::map<std::string, bool> binary_data;   // output name -> output parameter "binary_data"
};

// Parses an infer request body. `header_length` is the value of the Inference-Header-Content-Length
// header, or -1 when absent (the whole body is JSON). Every error is InvalidArgument (with the
// reason), except features this server does not implement (shared memory, classification):
// Unimplemented. The model name and version are left empty for the caller to fill from the URL.
absl::StatusOr<HttpInferRequest> ParseInferRequest(absl::string_view body, int64_t header_length);

// The body of an infer response, and the length of its JSON header when binary output data
// follows it (-1 when the body is JSON only).
struct HttpInferResponse {
  std::string body;
  int64_t header_length = -1;
};

// Encodes `response`, each output in binary when the request asked for it.
absl::StatusOr<HttpInferResponse> WriteInferResponse(const InferResponse& response,
                                                     const HttpInferRequest& request);

// Options for ProtoToJson.
struct ProtoJsonOptions {
  // Also writes singular message fields that are unset (as their defaults), as Triton does for
  // statistics so that every duration is present.
  bool print_unset_messages = false;
};

// A protobuf message as Triton renders it in JSON: proto field names, every scalar and repeated
// field printed (defaults included), 64-bit integers as JSON numbers (not strings), enums by
// name, maps as objects, bytes in base64, set oneof members only.
std::string ProtoToJson(const google::protobuf::Message& message,
                        const ProtoJsonOptions& options = {});

// The body of POST /v2/repository/index: a JSON array of {"name", "version" (when known),
// "state", "reason" (when not empty)}.
std::string RepositoryIndexToJson(const inference::RepositoryIndexResponse& index);

// {"error": "<message>"}.
std::string ErrorJson(absl::string_view message);

}  // namespace http
}  // namespace cortado

#endif  // CORTADO_SERVER_HTTP_JSON_CODEC_H_
