#include "server/repository/model_config.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace cortado {
namespace {

using inference::DataType;
using inference::ModelConfig;

struct TypePair {
  DataType config;
  DType dtype;
};
constexpr TypePair kTypes[] = {
    {inference::TYPE_BOOL, DType::kBool},       {inference::TYPE_UINT8, DType::kUInt8},
    {inference::TYPE_UINT16, DType::kUInt16},   {inference::TYPE_UINT32, DType::kUInt32},
    {inference::TYPE_UINT64, DType::kUInt64},   {inference::TYPE_INT8, DType::kInt8},
    {inference::TYPE_INT16, DType::kInt16},     {inference::TYPE_INT32, DType::kInt32},
    {inference::TYPE_INT64, DType::kInt64},     {inference::TYPE_FP16, DType::kFloat16},
    {inference::TYPE_FP32, DType::kFloat32},    {inference::TYPE_FP64, DType::kFloat64},
    {inference::TYPE_STRING, DType::kString},   {inference::TYPE_BF16, DType::kBFloat16},
};

// Collects the first parse error with its position (1-based, as editors count).
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (error_.empty()) error_ = absl::StrCat("config.pbtxt:", line + 1, ":", column + 1, ": ", message);
  }
  void AddWarning(int, int, const std::string&) override {}
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

std::string DimsString(const Shape& dims) {
  std::vector<std::string> parts;
  for (int64_t d : dims) parts.push_back(std::to_string(d));
  return absl::StrCat("[", absl::StrJoin(parts, ","), "]");
}

std::string Names(const std::vector<ValueInfo>& values) {
  std::vector<std::string> names;
  for (const ValueInfo& v : values) names.push_back(v.name);
  return absl::StrJoin(names, ", ");
}

const ValueInfo* Find(const std::vector<ValueInfo>& values, const std::string& name) {
  for (const ValueInfo& v : values) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

// The model's shape of `value` as config dims: without the batch dimension when batching.
absl::StatusOr<Shape> ModelDims(const ValueInfo& value, int max_batch_size, const char* kind) {
  if (!value.type.shape) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the model does not give the shape of ", kind, " '", value.name,
        "'; state its dims in config.pbtxt"));
  }
  Shape shape = *value.type.shape;
  if (max_batch_size > 0) {
    if (shape.empty() || shape[0] >= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "max_batch_size is ", max_batch_size, " but ", kind, " '", value.name,
          "' has shape ", DimsString(shape),
          " in the model, without a variable first (batch) dimension; use max_batch_size: 0"));
    }
    shape.erase(shape.begin());
  }
  return shape;
}

// Checks (or fills) the data type and dims of one configured tensor against the model.
template <typename TensorConfig>
absl::Status CheckTensor(TensorConfig* tensor, const ValueInfo& value, int max_batch_size,
                         const char* kind) {
  if (tensor->has_reshape()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kind, " '", tensor->name(), "': reshape is not supported"));
  }
  DataType model_type = ConfigDataType(value.type.dtype);
  if (tensor->data_type() == inference::TYPE_INVALID) {
    if (model_type == inference::TYPE_INVALID) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the model does not give the data type of ", kind, " '", value.name,
          "'; state its data_type in config.pbtxt"));
    }
    tensor->set_data_type(model_type);
  } else if (value.type.dtype != DType::kUndefined && tensor->data_type() != model_type) {
    return absl::InvalidArgumentError(absl::StrCat(
        kind, " '", tensor->name(), "' has data_type ", inference::DataType_Name(tensor->data_type()),
        " in config.pbtxt but ", inference::DataType_Name(model_type), " in the model"));
  }
  for (int64_t d : tensor->dims()) {
    if (d < -1) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind, " '", tensor->name(), "': dimension ", d, " is invalid"));
    }
  }
  if (tensor->dims_size() == 0 && !value.type.shape) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the model does not give the shape of ", kind, " '", value.name,
        "'; state its dims in config.pbtxt"));
  }
  if (!value.type.shape) return absl::OkStatus();  // the configuration's dims stand
  ASSIGN_OR_RETURN(Shape model_dims, ModelDims(value, max_batch_size, kind));
  if (tensor->dims_size() == 0 && !model_dims.empty()) {
    for (int64_t d : model_dims) tensor->add_dims(d);
    return absl::OkStatus();
  }
  Shape dims(tensor->dims().begin(), tensor->dims().end());
  bool ok = dims.size() == model_dims.size();
  for (size_t i = 0; ok && i < dims.size(); ++i) {
    ok = dims[i] == -1 || model_dims[i] == -1 || dims[i] == model_dims[i];
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        kind, " '", tensor->name(), "' has dims ", DimsString(dims), " in config.pbtxt but ",
        DimsString(model_dims), " in the model",
        max_batch_size > 0 ? " (less the batch dimension)" : ""));
  }
  return absl::OkStatus();
}

}  // namespace

inference::DataType ConfigDataType(DType dtype) {
  for (const TypePair& p : kTypes) {
    if (p.dtype == dtype) return p.config;
  }
  return inference::TYPE_INVALID;
}

absl::StatusOr<DType> DTypeFromConfig(inference::DataType type) {
  for (const TypePair& p : kTypes) {
    if (p.config == type) return p.dtype;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported data type ", inference::DataType_Name(type)));
}

int InstanceCount(const ModelConfig& config) {
  if (config.instance_group_size() == 0) return kDefaultInstanceCount;
  int n = 0;
  for (const auto& group : config.instance_group()) {
    const int per = group.count() > 0                                     ? group.count()
                    : group.kind() == inference::ModelInstanceGroup::KIND_GPU ? 1
                                                                              : kDefaultInstanceCount;
    n += per * std::max(1, group.gpus_size());
  }
  return n < 1 ? 1 : n;
}

Shape FullShape(const ModelConfig& config, const google::protobuf::RepeatedField<int64_t>& dims) {
  Shape shape;
  if (config.max_batch_size() > 0) shape.push_back(-1);
  shape.insert(shape.end(), dims.begin(), dims.end());
  return shape;
}

absl::StatusOr<ModelConfig> ParseModelConfig(absl::string_view text) {
  ModelConfig config;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &config)) {
    return absl::InvalidArgumentError(errors.error().empty() ? "config.pbtxt: syntax error"
                                                             : errors.error());
  }
  // The model file is looked up inside the version folder: a plain file name, never a path.
  const std::string& file = config.default_model_filename();
  if (file == "." || file == ".." ||
      file.find_first_of(std::string("/\\\0", 3)) != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("config.pbtxt: default_model_filename '", absl::CEscape(file),
                     "' must name a file inside the version folder (no '/', '\\', '..')"));
  }
  return config;
}

absl::StatusOr<bool> BoolParameter(const ModelConfig& config, absl::string_view key) {
  auto it = config.parameters().find(std::string(key));
  if (it == config.parameters().end() || it->second.string_value() == "false") return false;
  if (it->second.string_value() == "true") return true;
  return absl::InvalidArgumentError(absl::StrCat(
      "parameters ", key, ": '", it->second.string_value(), "' is neither \"true\" nor \"false\""));
}

absl::StatusOr<std::string> PrecisionSuffix(const ModelConfig& config) {
  ASSIGN_OR_RETURN(const bool tf32, BoolParameter(config, kCudaTf32Parameter));
  ASSIGN_OR_RETURN(const bool fp16, BoolParameter(config, kCudaFp16Parameter));
  if (tf32 && fp16) {
    return absl::InvalidArgumentError(absl::StrCat("parameters ", kCudaTf32Parameter, " and ",
                                                   kCudaFp16Parameter, ": choose one"));
  }
  return tf32 ? kTf32Suffix : fp16 ? kFp16Suffix : "";
}

std::vector<std::string> TwinBackends(const std::vector<std::string>& allowed,
                                      const std::vector<std::string>& registered,
                                      absl::string_view suffix) {
  auto has = [](const std::vector<std::string>& v, const std::string& name) {
    return std::find(v.begin(), v.end(), name) != v.end();
  };
  std::vector<std::string> out;
  for (const std::string& name : allowed.empty() ? registered : allowed) {
    std::string base = name;  // a twin stands for its original
    for (absl::string_view s : {kTf32Suffix, kFp16Suffix}) {
      if (absl::EndsWith(name, s) && has(registered, name.substr(0, name.size() - s.size()))) {
        base = name.substr(0, name.size() - s.size());
      }
    }
    const std::string twin = absl::StrCat(base, suffix);
    const std::string& use = has(registered, twin) ? twin : base;
    if (!has(out, use)) out.push_back(use);
  }
  return out;
}

namespace {

// Resolves KIND_AUTO and checks a group's GPUs against the machine's.
absl::Status CompleteInstanceGroup(inference::ModelInstanceGroup& group, const GpuInventory& gpus) {
  using Group = inference::ModelInstanceGroup;
  if (group.kind() == Group::KIND_AUTO) {
    group.set_kind(gpus.count > 0 ? Group::KIND_GPU : Group::KIND_CPU);
  }
  if (group.kind() != Group::KIND_GPU) {
    if (group.gpus_size() > 0) {
      return absl::InvalidArgumentError(absl::StrCat("instance_group: gpus are for KIND_GPU, not ",
                                                     Group::Kind_Name(group.kind())));
    }
    return absl::OkStatus();
  }
  if (gpus.count == 0) {
    return absl::InvalidArgumentError(absl::StrCat("instance_group: KIND_GPU needs a GPU, and ",
                                                   gpus.why_none, "; use KIND_CPU"));
  }
  for (int gpu : group.gpus()) {
    if (gpu < 0 || gpu >= gpus.count) {
      return absl::InvalidArgumentError(absl::StrCat("instance_group: gpus names GPU ", gpu,
                                                     ", but the GPUs cortadod can use are 0 to ",
                                                     gpus.count - 1));
    }
  }
  if (group.gpus_size() == 0) {
    for (int gpu = 0; gpu < gpus.count; ++gpu) group.add_gpus(gpu);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ModelConfig> CompleteModelConfig(ModelConfig config, const std::string& model_name,
                                                const std::vector<ValueInfo>& inputs,
                                                const std::vector<ValueInfo>& outputs,
                                                absl::string_view platform,
                                                const GpuInventory& gpus) {
  const bool netdef = platform == kNetDefPlatform;
  const char* want_platform = netdef ? kNetDefPlatform : kOnnxPlatform;
  const char* want_backend = netdef ? kNetDefBackend : kOnnxBackend;
  if (config.name().empty()) {
    config.set_name(model_name);
  } else if (config.name() != model_name) {
    return absl::InvalidArgumentError(absl::StrCat("config.pbtxt names the model '", config.name(),
                                                   "' but its folder is '", model_name, "'"));
  }
  if (!config.platform().empty() && config.platform() != want_platform) {
    return absl::InvalidArgumentError(
        absl::StrCat("platform '", config.platform(), "' does not match the model file (",
                     netdef ? "a Caffe2 NetDef" : "ONNX", ": ", want_platform, ")"));
  }
  if (!config.backend().empty() && config.backend() != want_backend &&
      config.backend() != (netdef ? "netdef" : "onnx") && config.backend() != "cortado") {
    return absl::InvalidArgumentError(
        absl::StrCat("backend '", config.backend(), "' does not match the model file (expected ",
                     want_backend, ")"));
  }
  config.set_platform(want_platform);
  config.set_backend(want_backend);
  if (config.max_batch_size() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_batch_size must not be negative, got ", config.max_batch_size()));
  }
  for (int size : config.dynamic_batching().preferred_batch_size()) {
    if (size < 1 || size > config.max_batch_size()) {
      return absl::InvalidArgumentError(absl::StrCat("dynamic_batching preferred_batch_size ", size,
                                                     " must be between 1 and max_batch_size (",
                                                     config.max_batch_size(), ")"));
    }
  }

  // Graph optimization: every pass unless stated.
  if (!config.has_optimization()) config.mutable_optimization()->mutable_graph()->set_level(1);
  const int level = config.optimization().graph().level();
  if (level < -1 || level > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "optimization graph level must be -1 (none), 0 (constant folding) or 1 (all), got ",
        level));
  }

  // Version policy: latest { num_versions: 1 } unless stated.
  auto* policy = config.mutable_version_policy();
  switch (policy->policy_choice_case()) {
    case inference::ModelVersionPolicy::POLICY_CHOICE_NOT_SET:
      policy->mutable_latest()->set_num_versions(1);
      break;
    case inference::ModelVersionPolicy::kLatest:
      if (policy->latest().num_versions() < 1) {
        return absl::InvalidArgumentError("version_policy latest: num_versions must be at least 1");
      }
      break;
    case inference::ModelVersionPolicy::kSpecific:
      if (policy->specific().versions_size() == 0) {
        return absl::InvalidArgumentError("version_policy specific: no versions listed");
      }
      for (int64_t v : policy->specific().versions()) {
        if (v < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("version_policy specific: version ", v, " is negative"));
        }
      }
      break;
    case inference::ModelVersionPolicy::kAll:
      break;
  }

  const int mbs = config.max_batch_size();
  // Inputs: every model input, each once.
  if (config.input_size() == 0) {
    for (const ValueInfo& v : inputs) {
      inference::ModelInput* in = config.add_input();
      in->set_name(v.name);
      RETURN_IF_ERROR(CheckTensor(in, v, mbs, "input"));
    }
  } else {
    std::set<std::string> seen;
    for (inference::ModelInput& in : *config.mutable_input()) {
      const ValueInfo* v = Find(inputs, in.name());
      if (v == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("config.pbtxt input '", in.name(),
                         "' is not an input of the model; the model's inputs are: ", Names(inputs)));
      }
      if (!seen.insert(in.name()).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("config.pbtxt lists input '", in.name(), "' twice"));
      }
      RETURN_IF_ERROR(CheckTensor(&in, *v, mbs, "input"));
    }
    for (const ValueInfo& v : inputs) {
      if (!seen.count(v.name)) {
        return absl::InvalidArgumentError(
            absl::StrCat("config.pbtxt does not list the model's input '", v.name, "'"));
      }
    }
  }
  // Outputs: every model output, or the subset the configuration lists.
  if (config.output_size() == 0) {
    for (const ValueInfo& v : outputs) {
      inference::ModelOutput* out = config.add_output();
      out->set_name(v.name);
      RETURN_IF_ERROR(CheckTensor(out, v, mbs, "output"));
    }
  } else {
    std::set<std::string> seen;
    for (inference::ModelOutput& out : *config.mutable_output()) {
      const ValueInfo* v = Find(outputs, out.name());
      if (v == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "config.pbtxt output '", out.name(),
            "' is not an output of the model; the model's outputs are: ", Names(outputs)));
      }
      if (!seen.insert(out.name()).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("config.pbtxt lists output '", out.name(), "' twice"));
      }
      RETURN_IF_ERROR(CheckTensor(&out, *v, mbs, "output"));
    }
  }

  RETURN_IF_ERROR(CompleteInstanceGroups(config, gpus));
  return config;
}

absl::Status CompleteInstanceGroups(ModelConfig& config, const GpuInventory& gpus) {
  // One group (on a GPU when there is one) of the default count unless stated.
  if (config.instance_group_size() == 0) config.add_instance_group();
  for (int i = 0; i < config.instance_group_size(); ++i) {
    auto* group = config.mutable_instance_group(i);
    RETURN_IF_ERROR(CompleteInstanceGroup(*group, gpus));
    if (group->count() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("instance_group: count must not be negative, got ", group->count()));
    }
    if (group->count() == 0) {
      group->set_count(group->kind() == inference::ModelInstanceGroup::KIND_GPU ? 1
                                                                                : kDefaultInstanceCount);
    }
    if (group->name().empty()) group->set_name(absl::StrCat(config.name(), "_", i));
  }
  return absl::OkStatus();
}

std::vector<int> InstanceGpus(const ModelConfig& config) {
  std::vector<int> out;
  for (const auto& group : config.instance_group()) {
    for (int i = 0; i < group.count(); ++i) {
      if (group.kind() != inference::ModelInstanceGroup::KIND_GPU) out.push_back(-1);
      for (int gpu : group.gpus()) out.push_back(gpu);
    }
  }
  return out;
}

}  // namespace cortado
