// TEMPORARY: runs ONNX node test data converted to npy (not to be committed).
#include <fstream>
#include <sstream>
#include "absl/strings/str_split.h"
#include "core/npy.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"
namespace cortado {
TEST(Onnx, All) {
  std::ifstream in("/tmp/math_conf/manifest.txt");
  std::string line;
  int pass = 0, fail = 0;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string name, op, out, ins, attrs;
    int opset;
    ss >> name >> op >> opset >> out >> ins >> attrs;
    OpRun run;
    run.op_type = op;
    run.opset = opset;
    if (ins != "_") for (auto f : absl::StrSplit(ins, ',')) {
      if (f == "-") { run.inputs.push_back(Tensor()); continue; }
      auto t = ReadNpyFile(std::string(f));
      ASSERT_TRUE(t.ok()) << t.status();
      run.inputs.push_back(*t);
    }
    if (attrs != "_") for (auto a : absl::StrSplit(attrs, ';')) {
      std::vector<std::string> kv = absl::StrSplit(a, absl::MaxSplits('=', 1));
      std::string t = kv[1].substr(0, 1), v = kv[1].substr(2);
      if (t == "s") run.attrs.Set(kv[0], v);
      else if (t == "f") run.attrs.Set(kv[0], std::stof(v));
      else run.attrs.Set(kv[0], int64_t{std::stoll(v)});
    }
    auto expected = ReadNpyFile(out);
    ASSERT_TRUE(expected.ok()) << expected.status();
    auto got = RunOp(run);
    std::string err = got.ok() ? CompareTensors((*got)[0], *expected, 1e-3, 1e-7) : std::string(got.status().message());
    if (err.empty()) ++pass; else { ++fail; ADD_FAILURE() << name << ": " << err; }
  }
  std::cout << "pass " << pass << " fail " << fail << "\n";
}
}  // namespace cortado
