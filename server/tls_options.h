// The TLS settings of one endpoint, as the --grpc-use-ssl* and --http-use-ssl* flags give them:
// PEM files of the server's certificate chain and private key, and with `mutual`, the root
// certificate that every client's certificate must chain to. A plain value; the gRPC and HTTP
// servers read the files when they start.
#ifndef CORTADO_SERVER_TLS_OPTIONS_H_
#define CORTADO_SERVER_TLS_OPTIONS_H_

#include <string>

namespace cortado {

struct TlsOptions {
  std::string cert_file, key_file, root_cert_file;
  bool mutual = false;  // require and verify client certificates against root_cert_file
  bool enabled() const { return !cert_file.empty(); }  // empty cert_file: plaintext
};

}  // namespace cortado

#endif  // CORTADO_SERVER_TLS_OPTIONS_H_
