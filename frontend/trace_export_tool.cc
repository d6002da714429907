// Writes, for each test model of trace_test_models.h, into the folder given as argv[1]:
//   <name>.onnx          the model traced at batch 2 and exported (frontend::Export)
//   <name>_input.npy     a batch-3 input (another batch size than the trace's)
//   <name>_output.npy    the eager eval-mode output for it
// for trace_onnx_test.py to check with onnx's checker and ONNX Runtime.
#include <iostream>

#include "core/npy.h"
#include "frontend/trace.h"
#include "frontend/trace_test_models.h"

int main(int argc, char** argv) {
  using namespace cortado::frontend;
  if (argc != 2) {
    std::cerr << "usage: trace_export_tool OUT_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  for (const trace_test::ModelCase& model : trace_test::AllModels()) {
    const std::string base = dir + "/" + model.name;
    absl::Status s = Export(*model.module, {trace_test::RandomInput(model, 2)}, base + ".onnx");
    if (s.ok()) {
      Tensor x = trace_test::RandomInput(model, 3);
      Tensor y = trace_test::EagerEval(*model.module, x);
      s = cortado::WriteNpyFile(base + "_input.npy", x.value());
      if (s.ok()) s = cortado::WriteNpyFile(base + "_output.npy", y.value());
    }
    if (!s.ok()) {
      std::cerr << model.name << ": " << s << "\n";
      return 1;
    }
    std::cout << "wrote " << base << ".onnx\n";
  }
  return 0;
}
