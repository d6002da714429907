// Runs ONNX's backend node tests through the Predictor.
//   onnx_conformance --cases DIR [--floor N] [--filter SUBSTRING] [--backends NAME,...]
//                    [--rtol R] [--atol A] [--executor simple|dag]
// DIR holds one folder per case (model.onnx, test_data_set_*/input_*.pb, output_*.pb), as
// written by `python3 -m onnx.backend.test.cmd_tools generate-data` (onnx 1.12) or by
// tools/generate_onnx_node_tests_pypi.py and tools/generate_legacy_opset_tests.py. Outputs are
// compared as ONNX's own runner does: |ours - expected| <= atol + rtol * |expected| for floats
// (rtol 1e-3, atol 1e-7 unless --rtol / --atol say otherwise), exact for integers, bool, strings
// and the narrow types; sequences element by element, optionals by whether they hold one.
// Sequence and optional inputs and outputs are read as the model declares them (SequenceProto,
// OptionalProto).
// --backends limits the plan to those backends (and the reference "cpu"; "cpu" alone runs the
// reference kernels only); by default every registered backend may run a node.
// Prints each failing case with its reason, then "N passed, N failed"; exits non-zero when
// fewer than N (the floor) cases pass.
#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "core/npy.h"
#include "ops/op_test_util.h"
#include "predictor/onnx/onnx_importer.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

std::vector<std::string> ListDir(const std::string& dir, absl::string_view prefix) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != ".." && absl::StartsWith(name, prefix)) out.push_back(name);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// onnx 1.12 stores bfloat16 test data as uint16 arrays of the same bits: such a tensor is read as
// bfloat16 where the model has bfloat16.
absl::StatusOr<Tensor> AsDType(Tensor t, DType want) {
  if (t.dtype() != DType::kUInt16 || want != DType::kBFloat16) return t;
  ASSIGN_OR_RETURN(Tensor out, Tensor::Create(DType::kBFloat16, t.shape()));
  if (t.nbytes() > 0) std::memcpy(out.raw_data(), t.raw_data(), t.nbytes());
  return out;
}

struct Tolerance {
  double rtol = 1e-3;
  double atol = 1e-7;
};

// "" when `got` matches `want`: the same kind, and tensors (a sequence's, one by one) within
// the tolerance.
std::string CompareValues(const Value& got, const Value& want, const Tolerance& tolerance) {
  if (got.kind != want.kind) {
    return absl::StrCat("got a ", KindName(got.kind), ", expected a ", KindName(want.kind));
  }
  if (got.is_tensor())
    return CompareTensors(got.tensor, want.tensor, tolerance.rtol, tolerance.atol);
  if (got.elements.size() != want.elements.size()) {
    return absl::StrCat("sequence of ", got.elements.size(), " tensors, expected ",
                        want.elements.size());
  }
  for (size_t i = 0; i < got.elements.size(); ++i) {
    const std::string diff =
        CompareTensors(got.elements[i], want.elements[i], tolerance.rtol, tolerance.atol);
    if (!diff.empty()) return absl::StrCat("element ", i, ": ", diff);
  }
  return "";
}

absl::StatusOr<Value> ReadValue(const std::string& path, ValueKind kind, DType want) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  ASSIGN_OR_RETURN(Value v, ParseOnnxValue(bytes, kind));
  if (v.is_tensor()) {
    ASSIGN_OR_RETURN(v.tensor, AsDType(std::move(v.tensor), want));
  }
  return v;
}

absl::Status RunCase(const std::string& dir, const PredictorOptions& options,
                     const Tolerance& tolerance) {
  ASSIGN_OR_RETURN(auto predictor, Predictor::FromFile(dir + "/model.onnx", options));
  const std::vector<std::string> sets = ListDir(dir, "test_data_set_");
  if (sets.empty()) return absl::NotFoundError("no test_data_set_* folder");
  for (const std::string& set : sets) {
    const std::string path = dir + "/" + set;
    ValueMap inputs;
    for (size_t i = 0; i < predictor->inputs().size(); ++i) {
      const ValueInfo& info = predictor->inputs()[i];
      ASSIGN_OR_RETURN(inputs[info.name], ReadValue(absl::StrCat(path, "/input_", i, ".pb"),
                                                    info.kind, info.type.dtype));
    }
    // Twice: the first run of a shape records its allocations, the second runs in the memory
    // plan's arena.
    for (const char* run : {"first", "second"}) {
      ASSIGN_OR_RETURN(ValueMap outputs, predictor->RunValues(inputs));
      for (size_t i = 0; i < predictor->outputs().size(); ++i) {
        const ValueInfo& info = predictor->outputs()[i];
        const Value& got = outputs.at(info.name);
        ASSIGN_OR_RETURN(Value expected, ReadValue(absl::StrCat(path, "/output_", i, ".pb"),
                                                   info.kind, got.tensor.dtype()));
        const std::string diff = CompareValues(got, expected, tolerance);
        if (!diff.empty()) {
          return absl::InternalError(
              absl::StrCat(set, ", ", run, " run, output '", info.name, "': ", diff));
        }
      }
    }
  }
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  std::string cases;
  std::string filter;
  int64_t floor = 0;
  PredictorOptions options;
  Tolerance tolerance;
  bool flags_ok = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--cases") {
      cases = argv[i + 1];
    } else if (flag == "--filter") {
      filter = argv[i + 1];
    } else if (flag == "--executor") {
      options.executor = argv[i + 1];
    } else if (flag == "--backends") {
      options.plan.backends = absl::StrSplit(argv[i + 1], ',');
    } else if (flag == "--floor") {
      if (!absl::SimpleAtoi(argv[i + 1], &floor)) floor = -1;
    } else if (flag == "--rtol") {
      flags_ok = flags_ok && absl::SimpleAtod(argv[i + 1], &tolerance.rtol);
    } else if (flag == "--atol") {
      flags_ok = flags_ok && absl::SimpleAtod(argv[i + 1], &tolerance.atol);
    } else {
      flags_ok = false;
    }
  }
  if (cases.empty() || floor < 0 || !flags_ok) {
    std::fprintf(stderr,
                 "usage: onnx_conformance --cases DIR [--floor N] [--filter SUBSTRING] "
                 "[--backends NAME,...] [--rtol R] [--atol A] [--executor simple|dag]\n");
    return 2;
  }
  int passed = 0, failed = 0;
  for (const std::string& name : ListDir(cases, "test_")) {
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    absl::Status s = RunCase(cases + "/" + name, options, tolerance);
    if (s.ok()) {
      ++passed;
    } else {
      ++failed;
      std::string message(s.message());
      std::replace(message.begin(), message.end(), '\n', ' ');
      std::printf("FAIL %s: %s\n", name.c_str(), message.c_str());
    }
  }
  if (passed < floor) {
    std::printf("pass count %d is below the committed floor %lld\n", passed,
                static_cast<long long>(floor));
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return passed >= floor && passed + failed > 0 ? 0 : 1;
}

}  // namespace
}  // namespace cortado

int main(int argc, char** argv) { return cortado::Main(argc, argv); }
