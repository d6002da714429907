// The KServe v2 HTTP/REST endpoint on Boost.Beast (HTTP/1.1 keep-alive), with JSON tensors and
// the binary tensor data extension. Network threads parse requests and hand them to the
// InferenceService; responses are written when its worker threads complete. Thread-safe.
// Endpoints (see router.h): GET /v2, /v2/health/{live,ready}, /v2/models/{m}[/versions/{v}]
// [/ready|/config|/stats]; POST .../infer, /v2/repository/index,
// /v2/repository/models/{m}/{load,unload}. Errors are {"error": "..."} with Triton's mapping of
// the service's absl::Status (400 invalid argument, 404 not found, 503 unavailable, 501
// unimplemented, 500 internal); a body over max_body_bytes (64 KiB for every endpoint but
// inference) gets 413. Health and readiness answer 200 (true) or 400 (false) with no body, as
// Triton does. One request per connection is read and answered at a time (pipelined requests
// wait in the socket), header_timeout bounds slow headers (and the TLS handshake) and
// max_connections the connections. With `tls`, every connection is HTTPS (OpenSSL, TLS 1.2 or
// newer), and with tls.mutual a client without a certificate from tls.root_cert_file is refused
// during the handshake.
#ifndef CORTADO_SERVER_HTTP_HTTP_SERVER_H_
#define CORTADO_SERVER_HTTP_HTTP_SERVER_H_

#include <chrono>
#include <memory>
#include <string>

#include "server/restricted_api.h"
#include "server/service.h"
#include "server/tls_options.h"

namespace cortado {

struct HttpOptions {
  std::string address = "0.0.0.0";
  int port = 8000;  // 0 picks a free port
  int threads = 2;  // network threads
  int64_t max_body_bytes = int64_t{256} << 20;
  // A connection whose next request header has not fully arrived this long after the
  // connection began waiting for it (idle keep-alive time included) is closed: a client that
  // trickles its header (slowloris) holds a connection at most this long.
  std::chrono::seconds header_timeout{60};
  // Connections beyond this many open at once get 503 and are closed at once.
  int max_connections = 1024;
  // Endpoint categories that need an API key header (--http-restricted-api).
  RestrictedApis restricted;
  // HTTPS (--http-use-ssl flags); plaintext by default.
  TlsOptions tls;
};

class HttpServer {
 public:
  // Starts serving `service` (which must outlive the server).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(InferenceService* service,
                                                           const HttpOptions& options);
  virtual ~HttpServer() = default;
  virtual int port() const = 0;  // the bound port
  // Stops accepting connections; requests in flight get until `deadline` to finish.
  virtual void Shutdown(std::chrono::milliseconds deadline) = 0;
};

}  // namespace cortado

#endif  // CORTADO_SERVER_HTTP_HTTP_SERVER_H_
