#include "server/http/json_codec.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "server/wire/kserve_wire.h"

namespace cortado {
namespace http {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Nested "data" arrays deeper than this are refused (no tensor has this many dimensions). NaN and
// Infinity are written as Python's json module does, since JSON has no spelling for them.
constexpr int kMaxDataDepth = 64;

using Writer = rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                                 rapidjson::CrtAllocator, rapidjson::kWriteNanAndInfFlag>;

absl::Status Invalid(absl::string_view a, absl::string_view b = "", absl::string_view c = "",
                     absl::string_view d = "") {
  return absl::InvalidArgumentError(absl::StrCat(a, b, c, d));
}

absl::string_view TypeName(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "a boolean";
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return "an array";
    case rapidjson::kStringType: return "a string";
    case rapidjson::kNumberType: return "a number";
  }
  return "a value";
}

absl::string_view Str(const rapidjson::Value& v) {
  return absl::string_view(v.GetString(), v.GetStringLength());
}

// ---- Reading tensors ---------------------------------------------------------------------------

// Counts the scalars of a (possibly nested) "data" array.
absl::Status CountLeaves(const rapidjson::Value& v, int depth, int64_t* count) {
  if (!v.IsArray()) {
    ++*count;
    return absl::OkStatus();
  }
  if (depth > kMaxDataDepth) return Invalid("data is nested deeper than ", absl::StrCat(kMaxDataDepth));
  for (const rapidjson::Value& e : v.GetArray()) RETURN_IF_ERROR(CountLeaves(e, depth + 1, count));
  return absl::OkStatus();
}

// One JSON scalar as a T.
template <typename T>
bool ReadScalar(const rapidjson::Value& v, T* out) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.IsBool()) return false;
    *out = v.GetBool();
    return true;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.IsString()) return false;
    out->assign(v.GetString(), v.GetStringLength());
    return true;
  } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    if (!v.IsNumber()) return false;
    *out = static_cast<T>(v.GetDouble());
    return true;
  } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    if (!v.IsNumber()) return false;
    *out = T(static_cast<float>(v.GetDouble()));
    return true;
  } else if constexpr (std::is_signed_v<T>) {
    if (!v.IsInt64()) return false;
    const int64_t x = v.GetInt64();
    if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max()) return false;
    *out = static_cast<T>(x);
    return true;
  } else {
    if (!v.IsUint64()) return false;
    const uint64_t x = v.GetUint64();
    if (x > std::numeric_limits<T>::max()) return false;
    *out = static_cast<T>(x);
    return true;
  }
}

template <typename T>
absl::Status FillFromJson(const rapidjson::Value& v, T* out, int64_t* i, const std::string& input,
                          absl::string_view datatype) {
  if (v.IsArray()) {
    for (const rapidjson::Value& e : v.GetArray()) {
      RETURN_IF_ERROR(FillFromJson(e, out, i, input, datatype));
    }
    return absl::OkStatus();
  }
  if (!ReadScalar(v, &out[*i])) {
    return Invalid(absl::StrCat("input '", input, "': data element ", *i, " is ", TypeName(v),
                                " that is not a valid ", datatype, " value"));
  }
  ++*i;
  return absl::OkStatus();
}

absl::StatusOr<Tensor> TensorFromJsonData(const rapidjson::Value& data, const std::string& input,
                                          DType dtype, absl::string_view datatype,
                                          const Shape& shape, int64_t num_elements) {
  int64_t count = 0;
  RETURN_IF_ERROR(CountLeaves(data, 0, &count));
  if (!data.IsArray()) count = 1;
  if (count != num_elements) {
    return Invalid(absl::StrCat("input '", input, "': shape ", ShapeToString(shape), " has ",
                                num_elements, " elements but \"data\" has ", count));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, shape));
  int64_t i = 0;
  RETURN_IF_ERROR(VisitDType(dtype, DTypeSet::kAll, "input", [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    return FillFromJson<T>(data, t.data<T>(), &i, input, datatype);
  }));
  return t;
}

// Reads {"binary_data_size": N, ...}; -1 when absent.
absl::StatusOr<int64_t> BinaryDataSize(const rapidjson::Value& tensor, const std::string& input) {
  auto params = tensor.FindMember("parameters");
  if (params == tensor.MemberEnd()) return -1;
  if (!params->value.IsObject()) {
    return Invalid("input '", input, "': \"parameters\" must be an object");
  }
  if (params->value.HasMember("shared_memory_region")) {
    return absl::UnimplementedError(
        absl::StrCat("input '", input, "': shared memory is not supported by this server"));
  }
  auto size = params->value.FindMember("binary_data_size");
  if (size == params->value.MemberEnd()) return -1;
  if (!size->value.IsUint64() || size->value.GetUint64() > (uint64_t{1} << 62)) {
    return Invalid("input '", input, "': binary_data_size must be a non-negative integer");
  }
  return static_cast<int64_t>(size->value.GetUint64());
}

absl::StatusOr<Shape> ReadShape(const rapidjson::Value& tensor, const std::string& input) {
  auto it = tensor.FindMember("shape");
  if (it == tensor.MemberEnd() || !it->value.IsArray()) {
    return Invalid("input '", input, "': \"shape\" must be an array of dimensions");
  }
  Shape shape;
  for (const rapidjson::Value& d : it->value.GetArray()) {
    if (!d.IsInt64() || d.GetInt64() < 0) {
      return Invalid("input '", input, "': every dimension of \"shape\" must be an integer >= 0");
    }
    shape.push_back(d.GetInt64());
  }
  absl::Status valid = ValidateShape(shape);
  if (!valid.ok()) return Invalid("input '", input, "': ", valid.message());
  return shape;
}

absl::StatusOr<std::string> ReadName(const rapidjson::Value& tensor, absl::string_view what,
                                     size_t index) {
  if (!tensor.IsObject()) {
    return Invalid(absl::StrCat(what, " ", index, " must be an object, got ", TypeName(tensor)));
  }
  auto it = tensor.FindMember("name");
  if (it == tensor.MemberEnd() || !it->value.IsString()) {
    return Invalid(absl::StrCat(what, " ", index, " needs a string \"name\""));
  }
  return std::string(Str(it->value));
}

// ---- Writing -----------------------------------------------------------------------------------

void Key(Writer& w, absl::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}
void String(Writer& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Shortest text that reads back as the same value (std::to_chars); a negative zero keeps its
// sign as "-0.0", since "-0" reads back as the integer 0.
template <typename T>
void Shortest(Writer& w, T v) {
  char buf[32];
  char* end = std::to_chars(buf, buf + sizeof(buf) - 2, v).ptr;
  if (absl::string_view(buf, static_cast<size_t>(end - buf)) == "-0") {
    *end++ = '.';
    *end++ = '0';
  }
  w.RawValue(buf, static_cast<size_t>(end - buf), rapidjson::kNumberType);
}

// A float in its shortest text, or NaN / Infinity.
void Float(Writer& w, float f) {
  if (std::isnan(f)) {
    w.RawValue("NaN", 3, rapidjson::kNumberType);
  } else if (std::isinf(f)) {
    if (f > 0) {
      w.RawValue("Infinity", 8, rapidjson::kNumberType);
    } else {
      w.RawValue("-Infinity", 9, rapidjson::kNumberType);
    }
  } else {
    Shortest(w, f);
  }
}

// A double in its shortest text (ParseJson reads it back bit for bit), or NaN / Infinity.
void Double(Writer& w, double d) {
  if (std::isfinite(d)) {
    Shortest(w, d);
  } else {
    Float(w, static_cast<float>(d));
  }
}

template <typename T>
void WriteElement(Writer& w, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    w.Bool(v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    String(w, v);
  } else if constexpr (std::is_same_v<T, float>) {
    Float(w, v);
  } else if constexpr (std::is_same_v<T, double>) {
    Double(w, v);
  } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    Float(w, static_cast<float>(v));
  } else if constexpr (std::is_signed_v<T>) {
    w.Int64(v);
  } else {
    w.Uint64(v);
  }
}

absl::Status WriteJsonData(Writer& w, const Tensor& t) {
  w.StartArray();
  RETURN_IF_ERROR(VisitDType(t.dtype(), DTypeSet::kAll, "output", [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    const T* data = t.data<T>();
    for (int64_t i = 0, n = t.num_elements(); i < n; ++i) WriteElement<T>(w, data[i]);
    return absl::OkStatus();
  }));
  w.EndArray();
  return absl::OkStatus();
}

// ---- Protobuf messages -------------------------------------------------------------------------

void WriteMessage(Writer& w, const Message& m, const ProtoJsonOptions& options);

void WriteFieldValue(Writer& w, const Message& m, const FieldDescriptor* f, int index,
                     const ProtoJsonOptions& options) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      w.Int(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      w.Int64(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      w.Uint(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      w.Uint64(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      const double d = rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f);
      if (std::isfinite(d)) {
        Double(w, d);
      } else {
        String(w, std::isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      const float d = rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f);
      if (std::isfinite(d)) {
        Float(w, d);
      } else {
        String(w, std::isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      w.Bool(rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f));
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
      const auto* value = f->enum_type()->FindValueByNumber(number);
      if (value != nullptr) {
        String(w, value->name());
      } else {
        w.Int(number);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                                 : r->GetStringReference(m, f, &scratch);
      if (f->type() == FieldDescriptor::TYPE_BYTES) {
        String(w, absl::Base64Escape(s));
      } else {
        String(w, s);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      WriteMessage(w, rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), options);
      break;
  }
}

// A map key as JSON object key text.
std::string MapKey(const Message& entry, const FieldDescriptor* key) {
  const Reflection* r = entry.GetReflection();
  switch (key->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: return absl::StrCat(r->GetInt32(entry, key));
    case FieldDescriptor::CPPTYPE_INT64: return absl::StrCat(r->GetInt64(entry, key));
    case FieldDescriptor::CPPTYPE_UINT32: return absl::StrCat(r->GetUInt32(entry, key));
    case FieldDescriptor::CPPTYPE_UINT64: return absl::StrCat(r->GetUInt64(entry, key));
    case FieldDescriptor::CPPTYPE_BOOL: return r->GetBool(entry, key) ? "true" : "false";
    default: return r->GetString(entry, key);
  }
}

void WriteMessage(Writer& w, const Message& m, const ProtoJsonOptions& options) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  w.StartObject();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_map()) {
      Key(w, f->name());
      w.StartObject();
      const Descriptor* entry = f->message_type();
      for (int k = 0, n = r->FieldSize(m, f); k < n; ++k) {
        const Message& e = r->GetRepeatedMessage(m, f, k);
        const std::string key = MapKey(e, entry->field(0));
        Key(w, key);
        WriteFieldValue(w, e, entry->field(1), -1, options);
      }
      w.EndObject();
    } else if (f->is_repeated()) {
      Key(w, f->name());
      w.StartArray();
      for (int k = 0, n = r->FieldSize(m, f); k < n; ++k) WriteFieldValue(w, m, f, k, options);
      w.EndArray();
    } else {
      if (f->containing_oneof() != nullptr && !r->HasField(m, f)) continue;
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !r->HasField(m, f) &&
          !options.print_unset_messages) {
        continue;
      }
      Key(w, f->name());
      WriteFieldValue(w, m, f, -1, options);
    }
  }
  w.EndObject();
}

}  // namespace

absl::StatusOr<HttpInferRequest> ParseInferRequest(absl::string_view body, int64_t header_length) {
  absl::string_view json = body;
  absl::string_view binary;
  if (header_length >= 0) {
    if (static_cast<uint64_t>(header_length) > body.size()) {
      return Invalid(absl::StrCat("Inference-Header-Content-Length is ", header_length,
                                  " but the request body has only ", body.size(), " bytes"));
    }
    json = body.substr(0, static_cast<size_t>(header_length));
    binary = body.substr(static_cast<size_t>(header_length));
  }
  rapidjson::Document doc;
  if (absl::Status s = ParseJson(json, &doc); !s.ok()) {
    return Invalid("the request body: ", s.message());
  }
  if (!doc.IsObject()) return Invalid("the request body must be a JSON object");

  HttpInferRequest out;
  InferRequest& req = out.request;
  req.protocol = Protocol::kHttp;

  if (auto it = doc.FindMember("id"); it != doc.MemberEnd()) {
    if (!it->value.IsString()) return Invalid("\"id\" must be a string");
    req.id = std::string(Str(it->value));
  }
  if (auto it = doc.FindMember("parameters"); it != doc.MemberEnd()) {
    if (!it->value.IsObject()) return Invalid("\"parameters\" must be an object");
    if (auto b = it->value.FindMember("binary_data_output"); b != it->value.MemberEnd()) {
      if (!b->value.IsBool()) return Invalid("parameter \"binary_data_output\" must be a boolean");
      out.binary_data_output = b->value.GetBool();
    }
    for (auto [key, field] : {std::pair<const char*, uint64_t*>{"priority", &req.priority},
                              std::pair<const char*, uint64_t*>{"timeout", &req.timeout_us}}) {
      if (auto p = it->value.FindMember(key); p != it->value.MemberEnd()) {
        if (!p->value.IsUint64()) {
          return Invalid("parameter \"", key, "\" must be a non-negative integer");
        }
        *field = p->value.GetUint64();
      }
    }
  }

  auto inputs = doc.FindMember("inputs");
  if (inputs == doc.MemberEnd() || !inputs->value.IsArray()) {
    return Invalid("the request needs an \"inputs\" array");
  }
  size_t binary_offset = 0;
  size_t index = 0;
  for (const rapidjson::Value& in : inputs->value.GetArray()) {
    ASSIGN_OR_RETURN(std::string name, ReadName(in, "input", index++));
    auto dt = in.FindMember("datatype");
    if (dt == in.MemberEnd() || !dt->value.IsString()) {
      return Invalid("input '", name, "': needs a string \"datatype\"");
    }
    auto dtype = DTypeFromKServe(Str(dt->value));
    if (!dtype.ok()) return Invalid("input '", name, "': ", dtype.status().message());
    ASSIGN_OR_RETURN(Shape shape, ReadShape(in, name));
    const int64_t num_elements = NumElements(shape);
    ASSIGN_OR_RETURN(int64_t binary_size, BinaryDataSize(in, name));
    auto data = in.FindMember("data");
    Tensor tensor;
    if (binary_size >= 0) {
      if (data != in.MemberEnd()) {
        return Invalid("input '", name, "': has both \"data\" and binary_data_size");
      }
      if (static_cast<uint64_t>(binary_size) > binary.size() - binary_offset) {
        return Invalid(absl::StrCat("input '", name, "': binary_data_size ", binary_size,
                                    " goes beyond the end of the request body (",
                                    binary.size() - binary_offset, " bytes of binary data left)"));
      }
      auto decoded = DecodeRaw(binary.substr(binary_offset, binary_size), *dtype, shape);
      if (!decoded.ok())
        return Invalid("input '", name, "': binary data: ", decoded.status().message());
      tensor = *std::move(decoded);
      binary_offset += static_cast<size_t>(binary_size);
    } else {
      if (data == in.MemberEnd()) {
        return Invalid("input '", name, "': needs \"data\" or the binary_data_size parameter");
      }
      ASSIGN_OR_RETURN(tensor, TensorFromJsonData(data->value, name, *dtype, Str(dt->value), shape,
                                                  num_elements));
    }
    req.inputs.emplace_back(std::move(name), std::move(tensor));
  }
  if (binary_offset != binary.size()) {
    return Invalid(absl::StrCat("the request body has ", binary.size() - binary_offset,
                                " bytes of binary data that no input claims"));
  }

  if (auto outputs = doc.FindMember("outputs"); outputs != doc.MemberEnd()) {
    if (!outputs->value.IsArray()) return Invalid("\"outputs\" must be an array");
    index = 0;
    for (const rapidjson::Value& o : outputs->value.GetArray()) {
      ASSIGN_OR_RETURN(std::string name, ReadName(o, "output", index++));
      if (auto params = o.FindMember("parameters"); params != o.MemberEnd()) {
        if (!params->value.IsObject()) {
          return Invalid("output '", name, "': \"parameters\" must be an object");
        }
        const rapidjson::Value& p = params->value;
        if (p.HasMember("shared_memory_region")) {
          return absl::UnimplementedError(
              absl::StrCat("output '", name, "': shared memory is not supported by this server"));
        }
        if (auto c = p.FindMember("classification");
            c != p.MemberEnd() && !(c->value.IsUint64() && c->value.GetUint64() == 0)) {
          return absl::UnimplementedError(
              absl::StrCat("output '", name, "': classification is not supported by this server"));
        }
        if (auto b = p.FindMember("binary_data"); b != p.MemberEnd()) {
          if (!b->value.IsBool()) {
            return Invalid("output '", name, "': parameter \"binary_data\" must be a boolean");
          }
          out.binary_data[name] = b->value.GetBool();
        }
      }
      req.requested_outputs.push_back(std::move(name));
    }
  }
  return out;
}

absl::StatusOr<HttpInferResponse> WriteInferResponse(const InferResponse& response,
                                                     const HttpInferRequest& request) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  std::vector<const Tensor*> binary_outputs;
  size_t binary_size = 0;
  w.StartObject();
  Key(w, "model_name");
  String(w, response.model_name);
  Key(w, "model_version");
  String(w, response.model_version);
  if (!response.id.empty()) {
    Key(w, "id");
    String(w, response.id);
  }
  Key(w, "outputs");
  w.StartArray();
  for (const auto& [name, tensor] : response.outputs) {
    auto explicit_binary = request.binary_data.find(name);
    const bool binary = explicit_binary != request.binary_data.end() ? explicit_binary->second
                                                                      : request.binary_data_output;
    w.StartObject();
    Key(w, "name");
    String(w, name);
    Key(w, "datatype");
    String(w, KServeDatatype(tensor.dtype()));
    Key(w, "shape");
    w.StartArray();
    for (int64_t d : tensor.shape()) w.Int64(d);
    w.EndArray();
    if (binary) {
      const size_t size = RawSize(tensor);
      Key(w, "parameters");
      w.StartObject();
      Key(w, "binary_data_size");
      w.Uint64(size);
      w.EndObject();
      binary_outputs.push_back(&tensor);
      binary_size += size;
    } else {
      Key(w, "data");
      RETURN_IF_ERROR(WriteJsonData(w, tensor));
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  HttpInferResponse out;
  if (binary_outputs.empty()) {
    out.body.assign(buffer.GetString(), buffer.GetSize());
    return out;
  }
  out.header_length = static_cast<int64_t>(buffer.GetSize());
  out.body.reserve(buffer.GetSize() + binary_size);
  out.body.append(buffer.GetString(), buffer.GetSize());
  for (const Tensor* t : binary_outputs) {
    if (absl::Status s = AppendRaw(*t, &out.body); !s.ok()) return absl::InternalError(s.message());
  }
  return out;
}

std::string ProtoToJson(const google::protobuf::Message& message,
                        const ProtoJsonOptions& options) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  WriteMessage(w, message, options);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string RepositoryIndexToJson(const inference::RepositoryIndexResponse& index) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartArray();
  for (const auto& m : index.models()) {
    w.StartObject();
    Key(w, "name");
    String(w, m.name());
    if (!m.version().empty()) {
      Key(w, "version");
      String(w, m.version());
    }
    if (!m.state().empty()) {
      Key(w, "state");
      String(w, m.state());
    }
    if (!m.reason().empty()) {
      Key(w, "reason");
      String(w, m.reason());
    }
    w.EndObject();
  }
  w.EndArray();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string ErrorJson(absl::string_view message) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Key(w, "error");
  String(w, message);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace http
}  // namespace cortado
