// The KServe v2 gRPC endpoint (inference.GRPCInferenceService, wire-compatible with Triton) and
// the standard grpc.health.v1.Health service. Handlers only parse and hand off to the
// InferenceService; inference completes on its worker threads. Thread-safe.
#ifndef CORTADO_SERVER_GRPC_GRPC_SERVER_H_
#define CORTADO_SERVER_GRPC_GRPC_SERVER_H_

#include <chrono>
#include <memory>
#include <string>

#include "server/restricted_api.h"
#include "server/service.h"
#include "server/tls_options.h"

namespace cortado {

struct GrpcOptions {
  std::string address = "0.0.0.0";
  int port = 8001;  // 0 picks a free port
  int64_t max_message_bytes = int64_t{256} << 20;
  // ModelStreamInfer reads no further request while this many of the stream's requests are
  // in the service or answered but not yet written: a client that floods a stream, or stops
  // reading its answers, is held back by gRPC flow control instead of growing the queues.
  int stream_window = 64;
  // TLS (Triton's --grpc-use-ssl flags); plaintext by default.
  TlsOptions tls;
  // API categories that need a key in the call's metadata (--grpc-restricted-protocol).
  RestrictedApis restricted;
};

class GrpcServer {
 public:
  // Starts serving `service` (which must outlive the server).
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(InferenceService* service,
                                                           const GrpcOptions& options);
  virtual ~GrpcServer() = default;
  virtual int port() const = 0;  // the bound port
  // Stops accepting calls; calls in flight get until `deadline` to finish.
  virtual void Shutdown(std::chrono::milliseconds deadline) = 0;
};

}  // namespace cortado

#endif  // CORTADO_SERVER_GRPC_GRPC_SERVER_H_
