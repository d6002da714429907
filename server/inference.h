// The protocol-neutral request and response that both network adapters (gRPC, HTTP) translate
// to and from (the wire formats themselves are in server/wire). Values; not synchronized.
#ifndef CORTADO_SERVER_INFERENCE_H_
#define CORTADO_SERVER_INFERENCE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace cortado {

enum class Protocol { kGrpc, kHttp };

struct InferRequest {
  std::string model_name;
  std::string model_version;  // "" serves the newest ready version
  std::string id;             // echoed back
  std::vector<std::pair<std::string, Tensor>> inputs;
  std::vector<std::string> requested_outputs;  // empty returns every output
  Protocol protocol = Protocol::kGrpc;
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();
  // Overload control. KServe's "priority" parameter (0: the model's default level) and
  // "timeout" parameter in microseconds (0: none), both applied through the model's
  // dynamic_batching queue policies as Triton does; the client's own deadline (gRPC); and
  // whether the client has gone (null: cannot tell). Work whose client has gone or whose
  // deadline has passed is answered without running.
  uint64_t priority = 0;
  uint64_t timeout_us = 0;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::function<bool()> cancelled;
};

struct InferResponse {
  std::string model_name;
  std::string model_version;
  std::string id;
  std::vector<std::pair<std::string, Tensor>> outputs;  // in the requested (or model) order
};

}  // namespace cortado

#endif  // CORTADO_SERVER_INFERENCE_H_
