// Table-driven operator tests: a case is an op, its opset, attributes and inputs, and the
// expected outputs (from an independent reference such as numpy); a bad case must fail with
// InvalidArgument. For tests only (uses googletest); stateless and thread-safe.
#ifndef CORTADO_OPS_OP_TEST_TABLE_H_
#define CORTADO_OPS_OP_TEST_TABLE_H_

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "ops/op_test_util.h"

namespace cortado {

template <typename E>
Tensor V(const std::vector<E>& values, Shape shape) {
  return Tensor::FromVector<E>(values, std::move(shape));
}

inline AttributeMap Attrs(std::initializer_list<std::pair<const char*, AttrValue>> values) {
  AttributeMap attrs;
  for (const auto& [name, value] : values) attrs.Set(name, value);
  return attrs;
}

struct OpCase {
  std::string name;
  std::string op;
  int opset;
  AttributeMap attrs;
  std::vector<Tensor> inputs;  // undefined = absent optional input
  std::vector<Tensor> expected;
  double rtol, atol;
};

// Runs every case and compares every output with the reference.
inline void RunCases(const std::vector<OpCase>& cases) {
  for (const OpCase& c : cases) {
    SCOPED_TRACE(c.name);
    OpRun run{c.op, c.opset, c.attrs, c.inputs, static_cast<int>(c.expected.size())};
    auto out = RunOp(run);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), c.expected.size());
    for (size_t i = 0; i < c.expected.size(); ++i) {
      EXPECT_EQ(CompareTensors((*out)[i], c.expected[i], c.rtol, c.atol), "") << "output " << i;
    }
  }
}

struct BadCase {
  std::string name;
  std::string op;
  AttributeMap attrs;
  std::vector<Tensor> inputs;
  int num_outputs;
};

// Every bad case must fail with InvalidArgument (not crash, not succeed).
inline void RunBadCases(const std::vector<BadCase>& cases) {
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    OpRun run{c.op, kMaxOpset, c.attrs, c.inputs, c.num_outputs};
    auto out = RunOp(run);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  }
}

}  // namespace cortado

#endif  // CORTADO_OPS_OP_TEST_TABLE_H_
