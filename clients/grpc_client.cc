#include "clients/grpc_client.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <climits>
#include <cstring>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "server/wire/kserve_wire.h"

namespace cortado {
namespace {

absl::Status Invalid(absl::string_view tensor, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("tensor '", tensor, "': ", what));
}

// The raw encoding of a host tensor.
absl::StatusOr<std::string> ToRaw(const std::string& name, const Tensor& t) {
  if (!t.defined()) return Invalid(name, "undefined");
  std::string raw;
  raw.reserve(RawSize(t));
  if (absl::Status s = AppendRaw(t, &raw); !s.ok()) return Invalid(name, s.message());
  return raw;
}

absl::Status ToTyped(const std::string& name, const Tensor& t, inference::InferTensorContents* c) {
  const int64_t n = t.num_elements();
  switch (t.dtype()) {
    case DType::kBool:
      for (int64_t i = 0; i < n; ++i) c->add_bool_contents(t.data<bool>()[i]);
      return absl::OkStatus();
    case DType::kInt8:
      for (int64_t i = 0; i < n; ++i) c->add_int_contents(t.data<int8_t>()[i]);
      return absl::OkStatus();
    case DType::kInt16:
      for (int64_t i = 0; i < n; ++i) c->add_int_contents(t.data<int16_t>()[i]);
      return absl::OkStatus();
    case DType::kInt32:
      for (int64_t i = 0; i < n; ++i) c->add_int_contents(t.data<int32_t>()[i]);
      return absl::OkStatus();
    case DType::kInt64:
      for (int64_t i = 0; i < n; ++i) c->add_int64_contents(t.data<int64_t>()[i]);
      return absl::OkStatus();
    case DType::kUInt8:
      for (int64_t i = 0; i < n; ++i) c->add_uint_contents(t.data<uint8_t>()[i]);
      return absl::OkStatus();
    case DType::kUInt16:
      for (int64_t i = 0; i < n; ++i) c->add_uint_contents(t.data<uint16_t>()[i]);
      return absl::OkStatus();
    case DType::kUInt32:
      for (int64_t i = 0; i < n; ++i) c->add_uint_contents(t.data<uint32_t>()[i]);
      return absl::OkStatus();
    case DType::kUInt64:
      for (int64_t i = 0; i < n; ++i) c->add_uint64_contents(t.data<uint64_t>()[i]);
      return absl::OkStatus();
    case DType::kFloat32:
      c->mutable_fp32_contents()->Add(t.data<float>(), t.data<float>() + n);
      return absl::OkStatus();
    case DType::kFloat64:
      c->mutable_fp64_contents()->Add(t.data<double>(), t.data<double>() + n);
      return absl::OkStatus();
    case DType::kString:
      for (int64_t i = 0; i < n; ++i) c->add_bytes_contents(t.data<std::string>()[i]);
      return absl::OkStatus();
    default:
      return Invalid(
          name, absl::StrCat(DTypeName(t.dtype()), " has no typed contents field; send it raw"));
  }
}

template <typename T, typename Field>
void CopyField(const Field& f, Tensor* t) {
  for (int i = 0; i < f.size(); ++i) t->data<T>()[i] = static_cast<T>(f.Get(i));
}

absl::StatusOr<Tensor> FromTyped(const std::string& name, DType dtype, const Shape& shape,
                                 const inference::InferTensorContents& c) {
  const int64_t n = NumElements(shape);
  int64_t have = -1;
  switch (dtype) {
    case DType::kBool:
      have = c.bool_contents_size();
      break;
    case DType::kInt8:
    case DType::kInt16:
    case DType::kInt32:
      have = c.int_contents_size();
      break;
    case DType::kInt64:
      have = c.int64_contents_size();
      break;
    case DType::kUInt8:
    case DType::kUInt16:
    case DType::kUInt32:
      have = c.uint_contents_size();
      break;
    case DType::kUInt64:
      have = c.uint64_contents_size();
      break;
    case DType::kFloat32:
      have = c.fp32_contents_size();
      break;
    case DType::kFloat64:
      have = c.fp64_contents_size();
      break;
    case DType::kString:
      have = c.bytes_contents_size();
      break;
    default:
      return Invalid(name, "datatype has no typed contents field");
  }
  if (have != n) {
    return Invalid(name, absl::StrCat("shape ", ShapeToString(shape), " needs ", n,
                                      " elements, contents hold ", have));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, shape));
  switch (dtype) {
    case DType::kBool:
      CopyField<bool>(c.bool_contents(), &t);
      break;
    case DType::kInt8:
      CopyField<int8_t>(c.int_contents(), &t);
      break;
    case DType::kInt16:
      CopyField<int16_t>(c.int_contents(), &t);
      break;
    case DType::kInt32:
      CopyField<int32_t>(c.int_contents(), &t);
      break;
    case DType::kInt64:
      CopyField<int64_t>(c.int64_contents(), &t);
      break;
    case DType::kUInt8:
      CopyField<uint8_t>(c.uint_contents(), &t);
      break;
    case DType::kUInt16:
      CopyField<uint16_t>(c.uint_contents(), &t);
      break;
    case DType::kUInt32:
      CopyField<uint32_t>(c.uint_contents(), &t);
      break;
    case DType::kUInt64:
      CopyField<uint64_t>(c.uint64_contents(), &t);
      break;
    case DType::kFloat32:
      CopyField<float>(c.fp32_contents(), &t);
      break;
    case DType::kFloat64:
      CopyField<double>(c.fp64_contents(), &t);
      break;
    case DType::kString:
      for (int i = 0; i < c.bytes_contents_size(); ++i)
        t.data<std::string>()[i] = c.bytes_contents(i);
      break;
    default:
      break;
  }
  return t;
}

std::string StripScheme(const std::string& url) {
  constexpr absl::string_view kScheme = "grpc://";
  return absl::StartsWith(url, kScheme) ? url.substr(kScheme.size()) : url;
}

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const int code = static_cast<int>(status.error_code());
  // The two enums share their values (0..16); anything else is Unknown.
  const absl::StatusCode absl_code =
      code >= 0 && code <= 16 ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown;
  return absl::Status(absl_code, status.error_message());
}

absl::StatusOr<inference::ModelInferRequest> EncodeClientInferRequest(
    const ClientInferRequest& request) {
  inference::ModelInferRequest out;
  out.set_model_name(request.model_name);
  out.set_model_version(request.model_version);
  out.set_id(request.id);
  for (const auto& [name, tensor] : request.inputs) {
    if (!tensor.defined()) return Invalid(name, "undefined");
    auto* in = out.add_inputs();
    in->set_name(name);
    in->set_datatype(std::string(KServeDatatype(tensor.dtype())));
    for (int64_t d : tensor.shape()) in->add_shape(d);
    if (request.typed_contents) {
      RETURN_IF_ERROR(ToTyped(name, tensor, in->mutable_contents()));
    } else {
      ASSIGN_OR_RETURN(*out.add_raw_input_contents(), ToRaw(name, tensor));
    }
  }
  for (const std::string& name : request.outputs) out.add_outputs()->set_name(name);
  return out;
}

absl::StatusOr<ClientInferResult> DecodeClientInferResponse(
    const inference::ModelInferResponse& response) {
  ClientInferResult result;
  result.model_name = response.model_name();
  result.model_version = response.model_version();
  result.id = response.id();
  const bool raw = response.raw_output_contents_size() > 0;
  if (raw && response.raw_output_contents_size() != response.outputs_size()) {
    return absl::DataLossError(absl::StrCat("response has ", response.outputs_size(),
                                            " outputs but ", response.raw_output_contents_size(),
                                            " raw_output_contents"));
  }
  for (int i = 0; i < response.outputs_size(); ++i) {
    const auto& o = response.outputs(i);
    ASSIGN_OR_RETURN(DType dtype, DTypeFromKServe(o.datatype()));
    Shape shape(o.shape().begin(), o.shape().end());
    RETURN_IF_ERROR(ValidateShape(shape));
    absl::StatusOr<Tensor> t = raw ? DecodeRaw(response.raw_output_contents(i), dtype, shape)
                                   : FromTyped(o.name(), dtype, shape, o.contents());
    if (!t.ok()) {
      return absl::DataLossError(raw ? Invalid(o.name(), t.status().message()).message()
                                     : t.status().message());
    }
    result.outputs.emplace_back(o.name(), *std::move(t));
  }
  return result;
}

absl::StatusOr<std::unique_ptr<GrpcClient>> GrpcClient::Create(const std::string& url,
                                                               GrpcClientOptions options) {
  const std::string target = StripScheme(url);
  if (target.empty()) return absl::InvalidArgumentError("empty server URL");
  grpc::ChannelArguments args;
  const int max_bytes =
      static_cast<int>(std::min<int64_t>(std::max<int64_t>(options.max_message_bytes, 0), INT_MAX));
  args.SetMaxReceiveMessageSize(max_bytes);
  args.SetMaxSendMessageSize(max_bytes);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  if (channel == nullptr) return absl::InvalidArgumentError(absl::StrCat("bad URL '", url, "'"));
  return std::unique_ptr<GrpcClient>(new GrpcClient(std::move(channel), options));
}

GrpcClient::GrpcClient(std::shared_ptr<grpc::Channel> channel, GrpcClientOptions options)
    : channel_(std::move(channel)),
      stub_(inference::GRPCInferenceService::NewStub(channel_)),
      options_(options) {}

namespace {

// A context whose deadline is `timeout` from now.
std::unique_ptr<grpc::ClientContext> MakeContext(std::chrono::milliseconds timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  return ctx;
}

}  // namespace

#define CORTADO_UNARY_(Method, request, response)                                  \
  do {                                                                             \
    auto ctx = MakeContext(options_.timeout);                                      \
    RETURN_IF_ERROR(FromGrpcStatus(stub_->Method(ctx.get(), request, &response))); \
  } while (0)

absl::StatusOr<bool> GrpcClient::ServerLive() {
  inference::ServerLiveRequest request;
  inference::ServerLiveResponse response;
  CORTADO_UNARY_(ServerLive, request, response);
  return response.live();
}

absl::StatusOr<bool> GrpcClient::ServerReady() {
  inference::ServerReadyRequest request;
  inference::ServerReadyResponse response;
  CORTADO_UNARY_(ServerReady, request, response);
  return response.ready();
}

absl::StatusOr<bool> GrpcClient::ModelReady(const std::string& name, const std::string& version) {
  inference::ModelReadyRequest request;
  request.set_name(name);
  request.set_version(version);
  inference::ModelReadyResponse response;
  CORTADO_UNARY_(ModelReady, request, response);
  return response.ready();
}

absl::StatusOr<std::string> GrpcClient::HealthCheck(const std::string& service) {
  // grpc.health.v1.HealthCheckRequest {string service = 1;}, encoded by hand: Debian ships no
  // generated C++ for health.proto.
  std::string request_bytes;
  if (!service.empty()) {
    request_bytes.push_back(0x0a);
    uint64_t n = service.size();
    while (n >= 0x80) {
      request_bytes.push_back(static_cast<char>((n & 0x7f) | 0x80));
      n >>= 7;
    }
    request_bytes.push_back(static_cast<char>(n));
    request_bytes.append(service);
  }
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::GenericStub stub(channel_);
  auto ctx = MakeContext(options_.timeout);
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(ctx.get(), "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  RETURN_IF_ERROR(FromGrpcStatus(status));
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return absl::DataLossError("unreadable health response");
  std::string bytes;
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  // HealthCheckResponse {ServingStatus status = 1;}: a single varint field, absent when 0.
  uint64_t value = 0;
  if (!bytes.empty()) {
    if (static_cast<uint8_t>(bytes[0]) != 0x08)
      return absl::DataLossError("unexpected health response");
    int shift = 0;
    for (size_t i = 1; i < bytes.size() && shift < 64; ++i, shift += 7) {
      value |= static_cast<uint64_t>(bytes[i] & 0x7f) << shift;
      if ((bytes[i] & 0x80) == 0) break;
    }
  }
  switch (value) {
    case 0:
      return std::string("UNKNOWN");
    case 1:
      return std::string("SERVING");
    case 2:
      return std::string("NOT_SERVING");
    case 3:
      return std::string("SERVICE_UNKNOWN");
    default:
      return absl::StrCat("STATUS_", value);
  }
}

absl::StatusOr<inference::ServerMetadataResponse> GrpcClient::ServerMetadata() {
  inference::ServerMetadataRequest request;
  inference::ServerMetadataResponse response;
  CORTADO_UNARY_(ServerMetadata, request, response);
  return response;
}

absl::StatusOr<inference::ModelMetadataResponse> GrpcClient::ModelMetadata(
    const std::string& name, const std::string& version) {
  inference::ModelMetadataRequest request;
  request.set_name(name);
  request.set_version(version);
  inference::ModelMetadataResponse response;
  CORTADO_UNARY_(ModelMetadata, request, response);
  return response;
}

absl::StatusOr<inference::ModelConfigResponse> GrpcClient::ModelConfig(const std::string& name,
                                                                       const std::string& version) {
  inference::ModelConfigRequest request;
  request.set_name(name);
  request.set_version(version);
  inference::ModelConfigResponse response;
  CORTADO_UNARY_(ModelConfig, request, response);
  return response;
}

absl::StatusOr<inference::ModelStatisticsResponse> GrpcClient::ModelStatistics(
    const std::string& name, const std::string& version) {
  inference::ModelStatisticsRequest request;
  request.set_name(name);
  request.set_version(version);
  inference::ModelStatisticsResponse response;
  CORTADO_UNARY_(ModelStatistics, request, response);
  return response;
}

absl::StatusOr<inference::RepositoryIndexResponse> GrpcClient::RepositoryIndex(bool ready_only) {
  inference::RepositoryIndexRequest request;
  request.set_ready(ready_only);
  inference::RepositoryIndexResponse response;
  CORTADO_UNARY_(RepositoryIndex, request, response);
  return response;
}

absl::Status GrpcClient::LoadModel(const std::string& name) {
  inference::RepositoryModelLoadRequest request;
  request.set_model_name(name);
  inference::RepositoryModelLoadResponse response;
  CORTADO_UNARY_(RepositoryModelLoad, request, response);
  return absl::OkStatus();
}

absl::Status GrpcClient::UnloadModel(const std::string& name) {
  inference::RepositoryModelUnloadRequest request;
  request.set_model_name(name);
  inference::RepositoryModelUnloadResponse response;
  CORTADO_UNARY_(RepositoryModelUnload, request, response);
  return absl::OkStatus();
}

absl::StatusOr<ClientInferResult> GrpcClient::Infer(const ClientInferRequest& request) {
  ASSIGN_OR_RETURN(inference::ModelInferRequest wire, EncodeClientInferRequest(request));
  inference::ModelInferResponse response;
  CORTADO_UNARY_(ModelInfer, wire, response);
  return DecodeClientInferResponse(response);
}

#undef CORTADO_UNARY_

}  // namespace cortado
