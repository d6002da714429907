// Checks the Caffe2 Int8 and detection operators (caffe2_int8.cc, caffe2_detection.cc) against
// testdata/caffe2_ops/: cases whose expected outputs tools/generate_caffe2_op_tests.py computed
// with an independent numpy/torch implementation of Caffe2's operator definitions (torchvision's
// roi_align and nms where they agree). Each case folder holds input_<i>.npy, output_<i>.npy and
// case.txt (op type, tolerance, attributes); see the generator for the format.
#include <dirent.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/npy.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"

namespace cortado {
namespace {

std::string CasesDir() {
  return std::string(std::getenv("TEST_SRCDIR")) + "/cortado/testdata/caffe2_ops";
}

struct Case {
  std::string name;
  OpRun run;
  double tolerance = 0.0;
  std::vector<Tensor> expected;
};

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

absl::StatusOr<Case> LoadCase(const std::string& name) {
  const std::string dir = CasesDir() + "/" + name;
  Case c;
  c.name = name;
  c.run.domain = kCaffe2Domain;
  c.run.opset = 1;
  std::ifstream spec(dir + "/case.txt");
  std::string line;
  while (std::getline(spec, line)) {
    std::istringstream in(line);
    std::string key, kind;
    in >> key;
    if (key == "op") {
      in >> c.run.op_type;
      continue;
    }
    if (key == "tolerance") {
      in >> c.tolerance;
      continue;
    }
    in >> kind;
    if (kind == "int") {
      int64_t v;
      in >> v;
      c.run.attrs.Set(key, v);
    } else if (kind == "float") {
      float v;
      in >> v;
      c.run.attrs.Set(key, v);
    } else if (kind == "ints") {
      std::vector<int64_t> v;
      for (int64_t x; in >> x;) v.push_back(x);
      c.run.attrs.Set(key, v);
    } else if (kind == "floats") {
      std::vector<float> v;
      for (float x; in >> x;) v.push_back(x);
      c.run.attrs.Set(key, v);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(name, ": bad line '", line, "'"));
    }
  }
  if (c.run.op_type.empty()) return absl::InvalidArgumentError(name + ": no op line");
  for (int i = 0; Exists(absl::StrCat(dir, "/input_", i, ".npy")); ++i) {
    ASSIGN_OR_RETURN(Tensor t, ReadNpyFile(absl::StrCat(dir, "/input_", i, ".npy")));
    c.run.inputs.push_back(std::move(t));
  }
  for (int i = 0; Exists(absl::StrCat(dir, "/output_", i, ".npy")); ++i) {
    ASSIGN_OR_RETURN(Tensor t, ReadNpyFile(absl::StrCat(dir, "/output_", i, ".npy")));
    c.expected.push_back(std::move(t));
  }
  c.run.num_outputs = static_cast<int>(c.expected.size());
  return c;
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  if (DIR* d = opendir(CasesDir().c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The largest |actual - expected|, or -1 when dtype or shape differ.
double MaxDifference(const Tensor& actual, const Tensor& expected) {
  if (actual.dtype() != expected.dtype() || actual.shape() != expected.shape()) return -1.0;
  double worst = 0.0;
  for (int64_t i = 0; i < actual.num_elements(); ++i) {
    const double d = std::fabs(actual.ElementAsDouble(i) - expected.ElementAsDouble(i));
    worst = std::isnan(d) ? INFINITY : std::max(worst, d);
  }
  return worst;
}

TEST(Caffe2ReferenceTest, EveryCaseMatchesTheIndependentReference) {
  const std::vector<std::string> names = CaseNames();
  ASSERT_GE(names.size(), 30u) << "testdata/caffe2_ops is missing or incomplete";
  std::set<std::string> ops;
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    auto c = LoadCase(name);
    ASSERT_TRUE(c.ok()) << c.status();
    ops.insert(c->run.op_type);
    auto out = RunOp(c->run);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), c->expected.size());
    for (size_t i = 0; i < c->expected.size(); ++i) {
      const double diff = MaxDifference((*out)[i], c->expected[i]);
      EXPECT_GE(diff, 0.0) << "output " << i << ": " << DTypeName((*out)[i].dtype()) << " "
                           << ShapeToString((*out)[i].shape()) << ", expected "
                           << DTypeName(c->expected[i].dtype()) << " "
                           << ShapeToString(c->expected[i].shape());
      EXPECT_LE(diff, c->tolerance) << "output " << i;
      std::printf("%-40s %-18s output %zu %-8s %-14s max |diff| %g\n", name.c_str(),
                  c->run.op_type.c_str(), i, std::string(DTypeName((*out)[i].dtype())).c_str(),
                  ShapeToString((*out)[i].shape()).c_str(), diff);
    }
  }
  std::printf("%zu cases over %zu operators\n", names.size(), ops.size());
}

// Bad input gives a clear error, never a crash.
TEST(Caffe2ReferenceTest, BadInputsAreInvalidArgument) {
  auto run = [](const char* op, std::vector<Tensor> inputs, AttributeMap attrs = {}) {
    OpRun r{op, 1, std::move(attrs), std::move(inputs)};
    r.domain = kCaffe2Domain;
    return RunOp(r).status();
  };
  AttributeMap q;
  q.Set("input_scales", std::vector<float>{0.1f, 0.1f, 0.01f});
  q.Set("input_zero_points", std::vector<int64_t>{0, 0, 0});
  const Tensor x = Tensor::FromVector<uint8_t>(std::vector<uint8_t>(16, 1), {1, 2, 2, 4});
  // W's channels do not fit X's.
  EXPECT_EQ(
      run("Int8Conv", {x, Tensor::FromVector<uint8_t>(std::vector<uint8_t>(3), {1, 1, 1, 3})}, q)
          .code(),
      absl::StatusCode::kInvalidArgument);
  // No scale for the input.
  EXPECT_EQ(run("Int8Dequantize", {x}).code(), absl::StatusCode::kInvalidArgument);
  // A float where uint8 is needed: no kernel is registered for it.
  EXPECT_EQ(run("Int8Relu", {Tensor::FromVector<float>({1.0f}, {1})}, q).code(),
            absl::StatusCode::kNotFound);
  // Softmax whose output is not 1/256 and 0.
  EXPECT_EQ(run("Int8Softmax", {x}, q).code(), absl::StatusCode::kInvalidArgument);
  // RoIAlign rois of 3 columns; BoxWithNMSLimit boxes not 4 per class.
  const Tensor map = Tensor::FromVector<float>(std::vector<float>(16), {1, 1, 4, 4});
  EXPECT_EQ(run("RoIAlign", {map, Tensor::FromVector<float>({0, 0, 1}, {1, 3})}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(run("RoIAlign", {map, Tensor::FromVector<float>({3, 0, 0, 1, 1}, {1, 5})}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(run("RoIAlign", {map, Tensor::FromVector<float>({NAN, 0, 0, 1, 1}, {1, 5})}).code(),
            absl::StatusCode::kInvalidArgument);
  // Int8AveragePool with a one-value kernel_shape.
  AttributeMap pool = q;
  pool.Set("kernel_shape", std::vector<int64_t>{2});
  EXPECT_EQ(run("Int8AveragePool", {x}, pool).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(run("BoxWithNMSLimit", {Tensor::FromVector<float>({0.5f, 0.5f}, {1, 2}),
                                    Tensor::FromVector<float>({0, 0, 1, 1}, {1, 4})})
                .code(),
            absl::StatusCode::kInvalidArgument);
  // GenerateProposals with anchors that are not [A, 4].
  const Tensor scores = Tensor::FromVector<float>({0.5f}, {1, 1, 1, 1});
  EXPECT_EQ(run("GenerateProposals", {scores, Tensor::FromVector<float>({0, 0, 0, 0}, {1, 4, 1, 1}),
                                      Tensor::FromVector<float>({10, 10, 1}, {1, 3}),
                                      Tensor::FromVector<float>({0, 0, 1, 1, 0}, {1, 5})})
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cortado
