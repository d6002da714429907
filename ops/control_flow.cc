// Schemas of the control-flow operators If, Loop, Scan and SequenceMap. Their kernels run
// subgraphs, so they are built by the plan (predictor/control_flow.h), not registered here. A
// node's inputs end with the outer-scope values its subgraphs read (predictor/graph.h), hence
// the open input counts. Output types come from the subgraphs' declared outputs (the importer
// records them); there is no inference here.
#include "ops/registry.h"

namespace cortado {

CORTADO_REGISTER_OP(OpSchema("If")
                        .Versions(1)
                        .Inputs(1, 1 << 20)
                        .Outputs(1, 1 << 20)
                        .RequiredAttr("then_branch", AttrType::kGraph)
                        .RequiredAttr("else_branch", AttrType::kGraph));
CORTADO_REGISTER_OP(OpSchema("Loop")
                        .Versions(1)
                        .Inputs(2, 1 << 20)
                        .Outputs(0, 1 << 20)
                        .RequiredAttr("body", AttrType::kGraph));
// Opset 8: a batch axis first and an optional sequence_lens input; 9 on: scan axes.
CORTADO_REGISTER_OP(OpSchema("Scan")
                        .Versions(8, 8)
                        .Inputs(2, 1 << 20)
                        .Outputs(1, 1 << 20)
                        .RequiredAttr("body", AttrType::kGraph)
                        .RequiredAttr("num_scan_inputs", AttrType::kInt)
                        .OptionalAttr("directions", AttrType::kInts));
CORTADO_REGISTER_OP(OpSchema("Scan")
                        .Versions(9)
                        .Inputs(1, 1 << 20)
                        .Outputs(1, 1 << 20)
                        .RequiredAttr("body", AttrType::kGraph)
                        .RequiredAttr("num_scan_inputs", AttrType::kInt)
                        .OptionalAttr("scan_input_axes", AttrType::kInts)
                        .OptionalAttr("scan_input_directions", AttrType::kInts)
                        .OptionalAttr("scan_output_axes", AttrType::kInts)
                        .OptionalAttr("scan_output_directions", AttrType::kInts));
CORTADO_REGISTER_OP(OpSchema("SequenceMap")
                        .Versions(17)
                        .Inputs(1, 1 << 20)
                        .Outputs(1, 1 << 20)
                        .RequiredAttr("body", AttrType::kGraph));

}  // namespace cortado
