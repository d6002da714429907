#include "server/grpc/grpc_codec.h"

#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/wire/kserve_wire.h"

namespace cortado {
namespace {

using inference::InferTensorContents;

grpc::StatusCode ToGrpcCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return grpc::StatusCode::OK;
    case absl::StatusCode::kCancelled:
      return grpc::StatusCode::CANCELLED;
    case absl::StatusCode::kUnknown:
      return grpc::StatusCode::UNKNOWN;
    case absl::StatusCode::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case absl::StatusCode::kDeadlineExceeded:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case absl::StatusCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case absl::StatusCode::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case absl::StatusCode::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case absl::StatusCode::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case absl::StatusCode::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case absl::StatusCode::kAborted:
      return grpc::StatusCode::ABORTED;
    case absl::StatusCode::kOutOfRange:
      return grpc::StatusCode::OUT_OF_RANGE;
    case absl::StatusCode::kUnimplemented:
      return grpc::StatusCode::UNIMPLEMENTED;
    case absl::StatusCode::kInternal:
      return grpc::StatusCode::INTERNAL;
    case absl::StatusCode::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case absl::StatusCode::kDataLoss:
      return grpc::StatusCode::DATA_LOSS;
    case absl::StatusCode::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
    default:
      return grpc::StatusCode::UNKNOWN;
  }
}

absl::Status Invalid(absl::string_view input, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("input '", input, "': ", what));
}

// The number of elements held across every typed field, and in the field named `*field` that
// `dtype` uses (nullptr where the dtype has no typed field).
struct TypedCounts {
  int64_t total = 0;
  int64_t own = 0;
  const char* field = nullptr;
};

TypedCounts CountTyped(const InferTensorContents& c, DType dtype) {
  TypedCounts n;
  n.total = c.bool_contents_size() + c.int_contents_size() + c.int64_contents_size() +
            c.uint_contents_size() + c.uint64_contents_size() + c.fp32_contents_size() +
            c.fp64_contents_size() + c.bytes_contents_size();
  switch (dtype) {
    case DType::kBool:
      n.own = c.bool_contents_size();
      n.field = "bool_contents";
      break;
    case DType::kInt8:
    case DType::kInt16:
    case DType::kInt32:
      n.own = c.int_contents_size();
      n.field = "int_contents";
      break;
    case DType::kInt64:
      n.own = c.int64_contents_size();
      n.field = "int64_contents";
      break;
    case DType::kUInt8:
    case DType::kUInt16:
    case DType::kUInt32:
      n.own = c.uint_contents_size();
      n.field = "uint_contents";
      break;
    case DType::kUInt64:
      n.own = c.uint64_contents_size();
      n.field = "uint64_contents";
      break;
    case DType::kFloat32:
      n.own = c.fp32_contents_size();
      n.field = "fp32_contents";
      break;
    case DType::kFloat64:
      n.own = c.fp64_contents_size();
      n.field = "fp64_contents";
      break;
    case DType::kString:
      n.own = c.bytes_contents_size();
      n.field = "bytes_contents";
      break;
    default:
      break;
  }
  return n;
}

// Copies a repeated integer field into T elements, rejecting values T cannot hold.
template <typename T, typename Field>
absl::Status CopyIntegers(const Field& field, absl::string_view name, T* out) {
  for (int i = 0; i < field.size(); ++i) {
    const auto v = field.Get(i);
    if (v < static_cast<decltype(v)>(std::numeric_limits<T>::min()) ||
        v > static_cast<decltype(v)>(std::numeric_limits<T>::max())) {
      return Invalid(name,
                     absl::StrCat("element ", i, " (", v, ") is out of range for its datatype"));
    }
    out[i] = static_cast<T>(v);
  }
  return absl::OkStatus();
}

absl::StatusOr<Tensor> FromTyped(const inference::ModelInferRequest::InferInputTensor& in,
                                 DType dtype, const Shape& shape, int64_t num_elements) {
  const InferTensorContents& c = in.contents();
  const TypedCounts n = CountTyped(c, dtype);
  if (n.field == nullptr) {
    return Invalid(in.name(),
                   absl::StrCat("datatype ", in.datatype(),
                                " has no typed contents field; send it in raw_input_contents"));
  }
  if (n.own != n.total) {
    return Invalid(in.name(),
                   absl::StrCat("datatype ", in.datatype(), " takes its data in ", n.field,
                                ", but other contents fields hold ", n.total - n.own, " elements"));
  }
  if (n.own != num_elements) {
    return Invalid(in.name(), absl::StrCat("shape ", ShapeToString(shape), " needs ", num_elements,
                                           " elements, ", n.field, " has ", n.own));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, shape));
  switch (dtype) {
    case DType::kBool:
      for (int i = 0; i < c.bool_contents_size(); ++i) t.data<bool>()[i] = c.bool_contents(i);
      break;
    case DType::kInt8:
      RETURN_IF_ERROR(CopyIntegers(c.int_contents(), in.name(), t.data<int8_t>()));
      break;
    case DType::kInt16:
      RETURN_IF_ERROR(CopyIntegers(c.int_contents(), in.name(), t.data<int16_t>()));
      break;
    case DType::kInt32:
      RETURN_IF_ERROR(CopyIntegers(c.int_contents(), in.name(), t.data<int32_t>()));
      break;
    case DType::kInt64:
      RETURN_IF_ERROR(CopyIntegers(c.int64_contents(), in.name(), t.data<int64_t>()));
      break;
    case DType::kUInt8:
      RETURN_IF_ERROR(CopyIntegers(c.uint_contents(), in.name(), t.data<uint8_t>()));
      break;
    case DType::kUInt16:
      RETURN_IF_ERROR(CopyIntegers(c.uint_contents(), in.name(), t.data<uint16_t>()));
      break;
    case DType::kUInt32:
      RETURN_IF_ERROR(CopyIntegers(c.uint_contents(), in.name(), t.data<uint32_t>()));
      break;
    case DType::kUInt64:
      RETURN_IF_ERROR(CopyIntegers(c.uint64_contents(), in.name(), t.data<uint64_t>()));
      break;
    case DType::kFloat32:
      if (num_elements > 0) std::memcpy(t.raw_data(), c.fp32_contents().data(), t.nbytes());
      break;
    case DType::kFloat64:
      if (num_elements > 0) std::memcpy(t.raw_data(), c.fp64_contents().data(), t.nbytes());
      break;
    case DType::kString:
      for (int i = 0; i < c.bytes_contents_size(); ++i)
        t.data<std::string>()[i] = c.bytes_contents(i);
      break;
    default:
      return absl::InternalError("unreachable typed dtype");
  }
  return t;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(ToGrpcCode(status.code()), std::string(status.message()));
}

absl::StatusOr<InferRequest> DecodeInferRequest(const inference::ModelInferRequest& request) {
  if (request.model_name().empty()) return absl::InvalidArgumentError("model_name is required");
  const bool raw = request.raw_input_contents_size() > 0;
  if (raw && request.raw_input_contents_size() != request.inputs_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("raw_input_contents has ", request.raw_input_contents_size(), " entries for ",
                     request.inputs_size(), " inputs; send every input raw or every input typed"));
  }
  InferRequest out;
  out.model_name = request.model_name();
  out.model_version = request.model_version();
  out.id = request.id();
  out.protocol = Protocol::kGrpc;
  for (auto [key, field] : {std::pair<const char*, uint64_t*>{"priority", &out.priority},
                            std::pair<const char*, uint64_t*>{"timeout", &out.timeout_us}}) {
    auto it = request.parameters().find(key);
    if (it == request.parameters().end()) continue;
    const inference::InferParameter& p = it->second;
    if (p.has_uint64_param()) {
      *field = p.uint64_param();
    } else if (p.has_int64_param() && p.int64_param() >= 0) {
      *field = static_cast<uint64_t>(p.int64_param());
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter \"", key, "\" must be a non-negative integer"));
    }
  }
  std::set<std::string> seen;
  for (int i = 0; i < request.inputs_size(); ++i) {
    const auto& in = request.inputs(i);
    if (in.name().empty())
      return absl::InvalidArgumentError(absl::StrCat("input ", i, " has no name"));
    if (!seen.insert(in.name()).second) return Invalid(in.name(), "given more than once");
    if (in.parameters().count("shared_memory_region") > 0) {
      return absl::UnimplementedError(
          absl::StrCat("input '", in.name(), "': shared memory is not supported"));
    }
    auto dtype = DTypeFromKServe(in.datatype());
    if (!dtype.ok()) return Invalid(in.name(), dtype.status().message());
    Shape shape(in.shape().begin(), in.shape().end());
    absl::Status valid = ValidateShape(shape);
    if (!valid.ok()) return Invalid(in.name(), valid.message());
    const int64_t num_elements = NumElements(shape);
    absl::StatusOr<Tensor> tensor;
    if (raw) {
      if (CountTyped(in.contents(), *dtype).total > 0) {
        return Invalid(in.name(),
                       "has typed contents although the request uses raw_input_contents");
      }
      tensor = DecodeRaw(request.raw_input_contents(i), *dtype, shape);
      if (!tensor.ok()) return Invalid(in.name(), tensor.status().message());
    } else {
      tensor = FromTyped(in, *dtype, shape, num_elements);
    }
    if (!tensor.ok()) return tensor.status();
    out.inputs.emplace_back(in.name(), *std::move(tensor));
  }
  for (const auto& requested : request.outputs()) {
    if (requested.parameters().count("classification") > 0) {
      return absl::UnimplementedError(
          absl::StrCat("output '", requested.name(), "': classification is not supported"));
    }
    if (requested.parameters().count("shared_memory_region") > 0) {
      return absl::UnimplementedError(
          absl::StrCat("output '", requested.name(), "': shared memory is not supported"));
    }
    out.requested_outputs.push_back(requested.name());
  }
  return out;
}

absl::Status EncodeInferResponse(const InferResponse& response,
                                 inference::ModelInferResponse* out) {
  out->Clear();
  out->set_model_name(response.model_name);
  out->set_model_version(response.model_version);
  out->set_id(response.id);
  for (const auto& [name, tensor] : response.outputs) {
    if (!tensor.defined())
      return absl::InternalError(absl::StrCat("output '", name, "' is undefined"));
    if (tensor.device().type != DeviceType::kCpu) {
      return absl::InternalError(absl::StrCat("output '", name, "' is not in host memory"));
    }
    auto* meta = out->add_outputs();
    meta->set_name(name);
    meta->set_datatype(std::string(KServeDatatype(tensor.dtype())));
    for (int64_t d : tensor.shape()) meta->add_shape(d);
    std::string* raw = out->add_raw_output_contents();
    raw->reserve(RawSize(tensor));
    if (absl::Status s = AppendRaw(tensor, raw); !s.ok()) {
      return absl::InternalError(absl::StrCat("output '", name, "': ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace cortado
