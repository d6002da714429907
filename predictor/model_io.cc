#include "predictor/model_io.h"

#include <sys/stat.h>

#include "absl/strings/match.h"
#include "predictor/netdef/netdef_exporter.h"
#include "predictor/netdef/netdef_importer.h"
#include "predictor/onnx/onnx_exporter.h"
#include "predictor/onnx/onnx_importer.h"
#include "predictor/plan.h"

namespace cortado {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string Dirname(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

absl::StatusOr<Graph> LoadNetDefGraph(const std::string& init_net, const std::string& predict_net) {
  auto graph = ImportNetDefFiles(init_net, predict_net);
  if (!graph.ok() && !absl::StrContains(graph.status().message(), predict_net)) {
    return absl::Status(graph.status().code(),
                        absl::StrCat(predict_net, ": ", graph.status().message()));
  }
  return graph;
}

absl::StatusOr<Graph> LoadGraph(const std::string& path) {
  if (IsDirectory(path)) {
    if (Exists(path + "/init_net.pb") && Exists(path + "/predict_net.pb")) {
      return LoadNetDefGraph(path + "/init_net.pb", path + "/predict_net.pb");
    }
    if (Exists(path + "/model.onnx")) return ImportOnnxFile(path + "/model.onnx");
    return absl::NotFoundError(absl::StrCat(
        "folder ", path, " holds neither model.onnx nor init_net.pb + predict_net.pb"));
  }
  const std::string base = path.substr(path.find_last_of('/') + 1);
  if (absl::StartsWith(base, "predict_net")) {
    for (const char* init : {"/init_net.pb", "/init_net.pbtxt"}) {
      if (Exists(Dirname(path) + init)) return LoadNetDefGraph(Dirname(path) + init, path);
    }
    return absl::NotFoundError(absl::StrCat("no init_net.pb beside ", path));
  }
  return ImportOnnxFile(path);
}

absl::Status SaveGraph(Graph graph, const std::string& path) {
  const bool onnx = absl::EndsWith(path, ".onnx");
  for (ValueInfo& v : graph.inputs) {
    if (v.type.dtype == DType::kUndefined) v.type.dtype = DType::kFloat32;
    if (onnx && !v.type.shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the shape of input '", v.name, "' is unknown (NetDefs do not record it) and ONNX needs it"));
    }
  }
  ASSIGN_OR_RETURN(auto plan, Plan::Build(graph, PlanOptions{{}, /*graph_level=*/-1}));
  graph.outputs = plan->outputs();
  if (onnx) return ExportOnnxFile(graph, path);
  return ExportNetDefFiles(graph, path);
}

}  // namespace cortado
