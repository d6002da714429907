// Caffe2 NetDef import: runs init_net's fill operators once to produce the parameters, turns
// predict_net into a Graph in SSA form (Caffe2's in-place ops and repeated writers become
// distinct values) and maps each Caffe2 operator onto the canonical ONNX-semantics ops through
// the table in op_mapping.h. Binary and text NetDefs load, and single-file MetaNetDefs. Graph
// inputs are predict_net's external inputs that init_net does not fill, or fills only with a
// placeholder (`ConstantFill shape: [1]` without a value, as Caffe2's mobile exporter writes),
// in external_input's order; a placeholder's fill is its input's default. Int8 fills
// (Int8GivenTensorFill, Int8GivenIntTensorFill) give uint8 / int32 parameters whose scale and zero
// point the Int8 operators' mappings carry on (op_mapping.h).
// Pure functions; thread-safe.
#ifndef CORTADO_PREDICTOR_NETDEF_NETDEF_IMPORTER_H_
#define CORTADO_PREDICTOR_NETDEF_NETDEF_IMPORTER_H_

#include <string>

#include "core/cgroup.h"
#include "predictor/graph.h"

namespace caffe2 {
class NetDef;
}

namespace cortado {

// Parses a NetDef in binary or protobuf text form.
absl::StatusOr<caffe2::NetDef> ParseNetDef(const std::string& bytes, absl::string_view what);
// The fills that make their own values (ConstantFill, XavierFill, MSRAFill, GaussianFill,
// UniformFill) may take `fill_limit_bytes` together (default: the memory the process may use,
// cgroup limit included): a net asking for more fails as out of memory (kResourceExhausted)
// before anything is allocated.
absl::StatusOr<Graph> ImportNetDef(const caffe2::NetDef& init_net,
                                   const caffe2::NetDef& predict_net,
                                   int64_t fill_limit_bytes = AvailableMemoryBytes());
// Files: init_net.pb and predict_net.pb (binary, or text such as .pbtxt).
absl::StatusOr<Graph> ImportNetDefFiles(const std::string& init_path,
                                        const std::string& predict_path);
// Caffe2's predictor let a feed overwrite any blob init_net filled (Detectron nets fill im_info
// there and expect callers to feed it). Makes parameter `name` a graph input whose default is its
// fill; NotFound when the graph has no such parameter.
absl::Status FeedParameter(const std::string& name, Graph& graph);
// A MetaNetDef holding GLOBAL_INIT_NET_TYPE and PREDICT_NET_TYPE nets.
absl::StatusOr<Graph> ImportMetaNetDef(const std::string& bytes,
                                       int64_t fill_limit_bytes = AvailableMemoryBytes());

}  // namespace cortado

#endif  // CORTADO_PREDICTOR_NETDEF_NETDEF_IMPORTER_H_
