// HttpClient: a C++ client for the KServe v2 HTTP/REST protocol (cortadod, Triton), on
// Boost.Beast. Health and readiness, server and model metadata, model configuration and
// statistics (returned as the same protobuf messages the gRPC client returns), the repository
// index, model load and unload, and inference with tensors sent and received in the binary
// tensor data extension (or as JSON tensors when asked). Every call is blocking and bounded by
// the client's timeout; an HTTP error comes back as an absl::Status (StatusFromHttp is the one
// place that converts) carrying the server's {"error": ...} message.
// Thread-safe: calls are serialized on one keep-alive connection, reopened when the server has
// closed it. Use one client per thread for parallel requests.
#ifndef CORTADO_CLIENTS_HTTP_HTTP_CLIENT_H_
#define CORTADO_CLIENTS_HTTP_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "core/status.h"
#include "core/tensor.h"
#include "grpc_service.pb.h"

namespace cortado {

struct HttpClientOptions {
  std::chrono::milliseconds timeout{60000};  // per call: connect, send and receive
};

struct HttpInferOptions {
  std::string model_version;         // "" = the newest ready version
  std::string id;                    // echoed back by the server
  std::vector<std::string> outputs;  // empty: every output
  bool binary_data = true;           // binary tensor extension both ways; false: JSON tensors
};

struct HttpInferResult {
  std::string model_name;
  std::string model_version;
  std::string id;
  std::vector<std::pair<std::string, Tensor>> outputs;  // in the server's order

  // The output called `name`, or NotFound.
  absl::StatusOr<Tensor> Output(absl::string_view name) const;
};

// An infer request body, and its JSON header length when binary data follows (-1: JSON only).
struct HttpInferBody {
  std::string body;
  int64_t header_length = -1;
};

// Request and response codecs, exposed for tests and other transports.
absl::StatusOr<HttpInferBody> EncodeHttpInferRequest(
    const std::vector<std::pair<std::string, Tensor>>& inputs, const HttpInferOptions& options);
absl::StatusOr<HttpInferResult> DecodeHttpInferResponse(absl::string_view body,
                                                        int64_t header_length);

// An HTTP status and body as an absl::Status: 400 InvalidArgument, 404 NotFound,
// 413 ResourceExhausted, 501 Unimplemented, 503 Unavailable, 504 DeadlineExceeded, 500 Internal,
// ...; the message is the body's "error" when it has one. OK for 2xx.
absl::Status StatusFromHttp(int status, absl::string_view body);

class HttpClient {
 public:
  // `url` is host[:port] (port 8000 by default), with or without a leading "http://". Connects
  // on the first call.
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(const std::string& url,
                                                            HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // True for 200, false for any other answer; an error only when there is no answer.
  absl::StatusOr<bool> ServerLive();
  absl::StatusOr<bool> ServerReady();
  absl::StatusOr<bool> ModelReady(const std::string& name, const std::string& version = "");

  absl::StatusOr<inference::ServerMetadataResponse> ServerMetadata();
  absl::StatusOr<inference::ModelMetadataResponse> ModelMetadata(const std::string& name,
                                                                 const std::string& version = "");
  absl::StatusOr<inference::ModelConfigResponse> ModelConfig(const std::string& name,
                                                             const std::string& version = "");
  // name "" = every model.
  absl::StatusOr<inference::ModelStatisticsResponse> ModelStatistics(
      const std::string& name = "", const std::string& version = "");
  absl::StatusOr<inference::RepositoryIndexResponse> RepositoryIndex(bool ready_only = false);
  absl::Status LoadModel(const std::string& name);
  absl::Status UnloadModel(const std::string& name);

  absl::StatusOr<HttpInferResult> Infer(const std::string& model,
                                        const std::vector<std::pair<std::string, Tensor>>& inputs,
                                        const HttpInferOptions& options = {});

 private:
  struct Connection;
  struct Reply {
    int status = 0;
    std::string body;
    int64_t header_length = -1;
  };

  HttpClient(std::string host, std::string port, HttpClientOptions options);
  absl::StatusOr<Reply> Call(bool post, const std::string& target, std::string body,
                             int64_t header_length = -1);
  template <typename Message>
  absl::StatusOr<Message> GetJson(const std::string& target, const std::string& wrap_key = "");
  static std::string ModelPath(const std::string& name, const std::string& version);

  const std::string host_;
  const std::string port_;
  const HttpClientOptions options_;
  absl::Mutex mu_;
  std::unique_ptr<Connection> connection_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cortado

#endif  // CORTADO_CLIENTS_HTTP_HTTP_CLIENT_H_
