// The `cortado` command line tool.
//   cortado run --model PATH [--init INIT_NET] --input NAME=FILE [--input ...] --output-dir DIR
// FILE is a .npy or an ONNX TensorProto .pb. NAME may also be a parameter of the model (a blob a
// Caffe2 init_net fills, such as Detectron's im_info, which Caffe2's predictor let a feed
// overwrite): the file replaces it for this run. Writes one <output>.npy per model output into
// DIR, prints each output's name, dtype and shape and the wall time of the run. Any error exits
// non-zero with one line on stderr. Scripts outside this repository rely on this contract.
//
//   cortado convert IN OUT [--init INIT_NET] [--input-shape NAME=D0,D1,...]
//                          [--input-dtype NAME=DTYPE]
// converts between ONNX and Caffe2 NetDef by file name (OUT ending in .onnx is ONNX, anything
// else a folder receiving init_net.pb + predict_net.pb).
//
// Client subcommands (clients/client_commands.h), against a running cortadod or any KServe v2
// server: cortado infer | models | load | unload | health; see `cortado --help`.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "clients/client_commands.h"
#include "core/npy.h"
#include "predictor/model_io.h"
#include "predictor/netdef/netdef_importer.h"
#include "predictor/onnx/onnx_importer.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

constexpr char kUsage[] =
    "usage: cortado run --model PATH [--init INIT_NET] --input NAME=FILE [--input NAME=FILE ...]\n"
    "                   --output-dir DIR\n"
    "  PATH  an .onnx model; a folder holding model.onnx or init_net.pb + predict_net.pb;\n"
    "        or a Caffe2 predict_net (binary or text) given with --init INIT_NET\n"
    "  FILE  a .npy array or an ONNX TensorProto (.pb); NAME may also name a parameter\n"
    "        (a blob init_net fills, such as im_info), which FILE then replaces\n"
    "  DIR   receives one <output name>.npy per model output\n"
    "usage: cortado convert IN OUT [--init INIT_NET] [--input-shape NAME=D0,D1,... ...]\n"
    "                       [--input-dtype NAME=DTYPE ...]\n"
    "  IN    any model `run` reads; OUT ending in .onnx is written as ONNX, anything else\n"
    "        as a folder holding init_net.pb + predict_net.pb (Caffe2 NetDef)\n"
    "  --input-shape  an input's shape (-1 for a dynamic dimension); NetDefs do not record\n"
    "        input shapes and ONNX needs them\n"
    "  --input-dtype  an input's element type (float32, uint8, int64, ...); NetDefs do not\n"
    "        record it either, and an input without one is taken as float32\n";

// Relative paths are taken from where the user ran the command (also under `bazel run`).
std::string Resolve(const std::string& path) {
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || cwd == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

std::string SafeFileName(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

absl::StatusOr<Tensor> ReadTensorFile(const std::string& path) {
  if (absl::EndsWith(path, ".npy")) return ReadNpyFile(path);
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  auto t = ParseOnnxTensor(bytes);
  if (!t.ok()) return absl::Status(t.status().code(), absl::StrCat(path, ": ", t.status().message()));
  return t;
}

absl::Status MakeDirs(const std::string& dir) {
  std::string partial;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || (dir[i] == '/' && i > 0)) {
      partial = dir.substr(0, i);
      if (mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
        return absl::PermissionDeniedError(absl::StrCat("cannot create folder ", partial));
      }
    }
  }
  return absl::OkStatus();
}

// Makes each parameter that `inputs` names a graph input, so that the feed replaces it.
absl::Status FeedParameters(const TensorMap& inputs, Graph& graph) {
  for (const auto& [name, tensor] : inputs) {
    if (graph.initializers.count(name)) RETURN_IF_ERROR(FeedParameter(name, graph));
  }
  return absl::OkStatus();
}

absl::StatusOr<DType> ParseDType(absl::string_view name) {
  for (int d = static_cast<int>(DType::kFloat32); d <= static_cast<int>(DType::kString); ++d) {
    if (DTypeName(static_cast<DType>(d)) == name) return static_cast<DType>(d);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype '", name, "'"));
}

absl::Status Run(const std::vector<std::string>& args) {
  std::string model, init_net, output_dir;
  TensorMap inputs;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat(a, " needs a value"));
      return args[++i];
    };
    if (a == "--model") {
      ASSIGN_OR_RETURN(model, value());
    } else if (a == "--init") {
      ASSIGN_OR_RETURN(init_net, value());
    } else if (a == "--output-dir") {
      ASSIGN_OR_RETURN(output_dir, value());
    } else if (a == "--input") {
      ASSIGN_OR_RETURN(std::string spec, value());
      const size_t eq = spec.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
        return absl::InvalidArgumentError(absl::StrCat("--input wants NAME=FILE, got '", spec, "'"));
      }
      ASSIGN_OR_RETURN(Tensor t, ReadTensorFile(Resolve(spec.substr(eq + 1))));
      inputs[spec.substr(0, eq)] = std::move(t);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument '", a, "' (see cortado --help)"));
    }
  }
  if (model.empty()) return absl::InvalidArgumentError("--model is required (see cortado --help)");
  if (output_dir.empty()) {
    return absl::InvalidArgumentError("--output-dir is required (see cortado --help)");
  }
  ASSIGN_OR_RETURN(Graph graph, init_net.empty()
                                    ? LoadGraph(Resolve(model))
                                    : LoadNetDefGraph(Resolve(init_net), Resolve(model)));
  RETURN_IF_ERROR(FeedParameters(inputs, graph));
  ASSIGN_OR_RETURN(auto predictor, Predictor::FromGraph(std::move(graph)));
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(TensorMap outputs, predictor->Run(inputs));
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const std::string dir = Resolve(output_dir);
  RETURN_IF_ERROR(MakeDirs(dir));
  for (const ValueInfo& info : predictor->outputs()) {
    const Tensor& t = outputs.at(info.name);
    const std::string file = dir + "/" + SafeFileName(info.name) + ".npy";
    RETURN_IF_ERROR(WriteNpyFile(file, t));
    std::printf("%s: %s %s -> %s\n", info.name.c_str(), std::string(DTypeName(t.dtype())).c_str(),
                ShapeToString(t.shape()).c_str(), file.c_str());
  }
  std::printf("wall time: %.3f ms\n", ms);
  return absl::OkStatus();
}

absl::Status Convert(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  std::string init_net;
  std::map<std::string, Shape> shapes;
  std::map<std::string, DType> dtypes;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--init" || a == "--input-shape" || a == "--input-dtype") {
      if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat(a, " needs a value"));
      const std::string& v = args[++i];
      if (a == "--init") {
        init_net = v;
        continue;
      }
      const size_t eq = v.find('=');
      if (a == "--input-dtype") {
        if (eq == std::string::npos) {
          return absl::InvalidArgumentError(
              absl::StrCat("--input-dtype wants NAME=DTYPE, got '", v, "'"));
        }
        ASSIGN_OR_RETURN(dtypes[v.substr(0, eq)], ParseDType(v.substr(eq + 1)));
        continue;
      }
      Shape shape;
      for (absl::string_view d : absl::StrSplit(v.substr(eq == std::string::npos ? 0 : eq + 1), ',')) {
        int64_t dim;
        if (eq == std::string::npos || !absl::SimpleAtoi(d, &dim) || dim < -1) {
          return absl::InvalidArgumentError(
              absl::StrCat("--input-shape wants NAME=D0,D1,... (-1 for dynamic), got '", v, "'"));
        }
        shape.push_back(dim);
      }
      shapes[v.substr(0, eq)] = shape;
    } else if (absl::StartsWith(a, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument '", a, "' (see cortado --help)"));
    } else {
      paths.push_back(a);
    }
  }
  if (paths.size() != 2) {
    return absl::InvalidArgumentError("convert wants IN and OUT (see cortado --help)");
  }
  ASSIGN_OR_RETURN(Graph graph, init_net.empty()
                                    ? LoadGraph(Resolve(paths[0]))
                                    : LoadNetDefGraph(Resolve(init_net), Resolve(paths[0])));
  for (ValueInfo& v : graph.inputs) {
    if (auto it = shapes.find(v.name); it != shapes.end()) {
      v.type.shape = it->second;
      shapes.erase(it);
    }
    if (auto it = dtypes.find(v.name); it != dtypes.end()) {
      v.type.dtype = it->second;
      dtypes.erase(it);
    }
  }
  if (!shapes.empty() || !dtypes.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(shapes.empty() ? "--input-dtype" : "--input-shape", " names '",
                     shapes.empty() ? dtypes.begin()->first : shapes.begin()->first,
                     "', which is no model input"));
  }
  RETURN_IF_ERROR(SaveGraph(std::move(graph), Resolve(paths[1])));
  std::printf("wrote %s\n", Resolve(paths[1]).c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace cortado

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(cortado::kUsage, args.empty() ? stderr : stdout);
    std::fputs(cortado::kClientUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const bool client_command = cortado::IsClientCommand(args[0]);
  if (args[0] != "run" && args[0] != "convert" && !client_command) {
    std::fprintf(stderr, "cortado: error: unknown command '%s' (see cortado --help)\n", args[0].c_str());
    return 2;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  absl::Status s = client_command        ? cortado::RunClientCommand(args[0], rest)
                   : args[0] == "convert" ? cortado::Convert(rest)
                                          : cortado::Run(rest);
  if (!s.ok()) {
    std::string message(s.message());
    for (char& c : message) c = c == '\n' ? ' ' : c;
    std::fprintf(stderr, "cortado: error: %s\n", message.c_str());
    return 1;
  }
  return 0;
}
