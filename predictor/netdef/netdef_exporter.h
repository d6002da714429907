// NetDef export: writes a Graph as a Caffe2 init_net (Given*Fill operators holding the
// parameters) and predict_net (Caffe2 operator names and arguments, NCHW) that Caffe2's own
// predictor accepts. A node with no Caffe2 form fails the export with its name and op type.
// Pure functions; thread-safe.
#ifndef CORTADO_PREDICTOR_NETDEF_NETDEF_EXPORTER_H_
#define CORTADO_PREDICTOR_NETDEF_NETDEF_EXPORTER_H_

#include <string>

#include "caffe2.pb.h"
#include "predictor/graph.h"

namespace cortado {

struct NetDefPair {
  caffe2::NetDef init_net;
  caffe2::NetDef predict_net;
};

absl::StatusOr<NetDefPair> ExportNetDef(const Graph& graph);
// Writes DIR/init_net.pb and DIR/predict_net.pb (binary), creating DIR if needed.
absl::Status ExportNetDefFiles(const Graph& graph, const std::string& dir);

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_NETDEF_NETDEF_EXPORTER_H_
