// Translation between the KServe v2 gRPC messages (proto/grpc_service.proto, Triton's field
// numbers) and the protocol-neutral InferRequest / InferResponse, plus the one place where an
// absl::Status becomes a grpc::Status. Used by the gRPC adapter (grpc_server.cc) only.
//
// Requests: every input comes either from its typed `contents` or, for all inputs at once, from
// `raw_input_contents` (one entry per input, in order), as Triton accepts them. Raw data is
// little-endian, row-major; BYTES elements are each a 4-byte little-endian length followed by
// the bytes; BOOL is one byte per element. A raw or typed payload whose size does not match
// shape x datatype is InvalidArgument, checked before anything is allocated.
// Responses: every output goes into `raw_output_contents`, as Triton answers.
// Pure functions; thread-safe.
#ifndef CORTADO_SERVER_GRPC_GRPC_CODEC_H_
#define CORTADO_SERVER_GRPC_GRPC_CODEC_H_

#include <grpcpp/support/status.h>

#include "core/status.h"
#include "grpc_service.pb.h"
#include "server/inference.h"

namespace cortado {

// absl::Status -> grpc::Status, code for code (the two enums share their values), message
// intact. The only such conversion in the gRPC adapter.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Decodes a ModelInferRequest (model, version, id, inputs, requested outputs). The returned
// request is marked Protocol::kGrpc. Unsupported features (shared memory, classification) are
// Unimplemented; malformed tensors are InvalidArgument naming the input.
absl::StatusOr<InferRequest> DecodeInferRequest(const inference::ModelInferRequest& request);

// Encodes `response` into `out` (cleared first), outputs as raw_output_contents.
absl::Status EncodeInferResponse(const InferResponse& response, inference::ModelInferResponse* out);

}  // namespace cortado

#endif  // CORTADO_SERVER_GRPC_GRPC_CODEC_H_
