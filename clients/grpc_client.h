// GrpcClient: a C++ client for the KServe v2 gRPC protocol (inference.GRPCInferenceService,
// Triton's grpc_service.proto), usable against cortadod or Triton, plus the standard
// grpc.health.v1.Health check. Every call is blocking, bounded by the client's timeout, and
// returns absl::Status; a gRPC error keeps its code and message (FromGrpcStatus is the one place
// that converts). Tensors go out as raw_input_contents (or typed contents when asked) and come
// back from raw_output_contents or typed contents, whichever the server used.
// Thread-safe: one client (one channel) may be shared by any number of threads.
#ifndef CORTADO_CLIENTS_GRPC_CLIENT_H_
#define CORTADO_CLIENTS_GRPC_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "grpc_service.grpc.pb.h"
#include "grpc_service.pb.h"

namespace grpc {
class Channel;
class Status;
}  // namespace grpc

namespace cortado {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct GrpcClientOptions {
  std::chrono::milliseconds timeout{60000};  // per call
  int64_t max_message_bytes = int64_t{256} << 20;
};

struct ClientInferRequest {
  std::string model_name;
  std::string model_version;  // "" = the newest ready version
  std::string id;
  NamedTensors inputs;
  std::vector<std::string> outputs;  // empty: every output
  bool typed_contents = false;       // send typed `contents` instead of raw bytes
};

struct ClientInferResult {
  std::string model_name;
  std::string model_version;
  std::string id;
  NamedTensors outputs;  // in the server's order
};

// grpc::Status -> absl::Status, code for code, message intact.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Message codecs, exposed for tests and for other transports of the same messages.
absl::StatusOr<inference::ModelInferRequest> EncodeClientInferRequest(
    const ClientInferRequest& request);
absl::StatusOr<ClientInferResult> DecodeClientInferResponse(
    const inference::ModelInferResponse& response);

class GrpcClient {
 public:
  // `url` is host:port (a leading "grpc://" or "dns:///" is accepted). Connects lazily.
  static absl::StatusOr<std::unique_ptr<GrpcClient>> Create(const std::string& url,
                                                            GrpcClientOptions options = {});
  GrpcClient(const GrpcClient&) = delete;
  GrpcClient& operator=(const GrpcClient&) = delete;

  absl::StatusOr<bool> ServerLive();
  absl::StatusOr<bool> ServerReady();
  absl::StatusOr<bool> ModelReady(const std::string& name, const std::string& version = "");
  // grpc.health.v1.Health/Check for `service` ("" = the whole server): "SERVING",
  // "NOT_SERVING", "UNKNOWN" or "SERVICE_UNKNOWN"; a service the server does not know is NotFound.
  absl::StatusOr<std::string> HealthCheck(const std::string& service = "");
  absl::StatusOr<inference::ServerMetadataResponse> ServerMetadata();
  absl::StatusOr<inference::ModelMetadataResponse> ModelMetadata(const std::string& name,
                                                                 const std::string& version = "");
  absl::StatusOr<inference::ModelConfigResponse> ModelConfig(const std::string& name,
                                                             const std::string& version = "");
  absl::StatusOr<inference::ModelStatisticsResponse> ModelStatistics(
      const std::string& name = "", const std::string& version = "");
  absl::StatusOr<inference::RepositoryIndexResponse> RepositoryIndex(bool ready_only = false);
  absl::Status LoadModel(const std::string& name);
  absl::Status UnloadModel(const std::string& name);
  absl::StatusOr<ClientInferResult> Infer(const ClientInferRequest& request);

 private:
  GrpcClient(std::shared_ptr<grpc::Channel> channel, GrpcClientOptions options);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  GrpcClientOptions options_;
};

}  // namespace cortado

#endif  // CORTADO_CLIENTS_GRPC_CLIENT_H_
