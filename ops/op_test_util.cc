#include "ops/op_test_util.h"

#include <cmath>
#include <cstring>

namespace cortado {

absl::StatusOr<std::vector<Tensor>> RunOp(const OpRun& run) {
  const OpRegistry& reg = OpRegistry::Global();
  const OpSchema* schema = reg.FindSchema("", run.op_type, run.opset);
  if (schema == nullptr) {
    return absl::NotFoundError(absl::StrCat("no schema for ", run.op_type, " opset ", run.opset));
  }
  AttributeMap attrs = run.attrs;
  RETURN_IF_ERROR(schema->Complete(static_cast<int>(run.inputs.size()), run.num_outputs, attrs));
  std::vector<TensorType> types;
  std::vector<const Tensor*> values;
  std::vector<DType> dtypes;
  for (const Tensor& t : run.inputs) {
    types.push_back(t.defined() ? TensorType{t.dtype(), t.shape()} : TensorType{});
    values.push_back(t.defined() ? &t : nullptr);
    dtypes.push_back(t.dtype());
  }
  InferenceContext ictx(types, values, &attrs, run.opset, run.num_outputs);
  RETURN_IF_ERROR(schema->RunInference(ictx));
  const DType first = run.inputs.empty() ? DType::kUndefined : run.inputs[0].dtype();
  const KernelDef* def = reg.FindKernel(run.backend, "", run.op_type, run.opset, first);
  if (def == nullptr) {
    return absl::NotFoundError(absl::StrCat("no ", run.backend, " kernel for ", run.op_type,
                                            " opset ", run.opset, " dtype ", DTypeName(first)));
  }
  KernelInfo info{run.op_type, "", run.opset, "test", &attrs, dtypes, values, run.num_outputs};
  ASSIGN_OR_RETURN(auto kernel, def->factory(info));
  KernelContext ctx(values, run.num_outputs);
  RETURN_IF_ERROR(kernel->Compute(ctx));
  for (int i = 0; i < run.num_outputs; ++i) {
    const TensorType& inferred = ictx.outputs()[i];
    const Tensor& out = ctx.output(i);
    if (!out.defined()) continue;
    if (inferred.dtype != DType::kUndefined && inferred.dtype != out.dtype()) {
      return absl::InternalError(absl::StrCat(run.op_type, " output ", i, " inferred dtype ",
                                              DTypeName(inferred.dtype), " but computed ",
                                              DTypeName(out.dtype())));
    }
    if (inferred.shape) {
      bool match = inferred.shape->size() == out.shape().size();
      for (size_t d = 0; match && d < out.shape().size(); ++d) {
        match = (*inferred.shape)[d] == -1 || (*inferred.shape)[d] == out.shape()[d];
      }
      if (!match) {
        return absl::InternalError(absl::StrCat(run.op_type, " output ", i, " inferred shape ",
                                                ShapeToString(*inferred.shape), " but computed ",
                                                ShapeToString(out.shape())));
      }
    }
  }
  return std::move(ctx.outputs());
}

std::string CompareTensors(const Tensor& actual, const Tensor& expected, double rtol,
                           double atol) {
  if (!actual.defined() || !expected.defined()) {
    return actual.defined() == expected.defined() ? "" : "one tensor is undefined";
  }
  if (actual.dtype() != expected.dtype()) {
    return absl::StrCat("dtype ", DTypeName(actual.dtype()), " != expected ",
                        DTypeName(expected.dtype()));
  }
  if (actual.shape() != expected.shape()) {
    return absl::StrCat("shape ", ShapeToString(actual.shape()), " != expected ",
                        ShapeToString(expected.shape()));
  }
  const bool is_float = IsFloatingPoint(actual.dtype());
  for (int64_t i = 0; i < actual.num_elements(); ++i) {
    if (actual.dtype() == DType::kString) {
      if (actual.data<std::string>()[i] != expected.data<std::string>()[i]) {
        return absl::StrCat("element ", i, ": '", actual.data<std::string>()[i], "' != '",
                            expected.data<std::string>()[i], "'");
      }
      continue;
    }
    const double a = actual.ElementAsDouble(i), e = expected.ElementAsDouble(i);
    bool ok;
    if (is_float) {
      ok = (std::isnan(a) && std::isnan(e)) || a == e || std::fabs(a - e) <= atol + rtol * std::fabs(e);
    } else if (actual.dtype() == DType::kInt64 || actual.dtype() == DType::kUInt64) {
      ok = std::memcmp(static_cast<const char*>(actual.raw_data()) + 8 * i,
                       static_cast<const char*>(expected.raw_data()) + 8 * i, 8) == 0;
    } else {
      ok = a == e;
    }
    if (!ok) {
      return absl::StrCat("element ", i, ": ", a, " != expected ", e, " (|diff| ",
                          std::fabs(a - e), ")");
    }
  }
  return "";
}

}  // namespace cortado
