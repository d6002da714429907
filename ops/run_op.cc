#include "ops/run_op.h"

namespace cortado {

absl::StatusOr<std::vector<Tensor>> RunOp(const OpRun& run) {
  const OpRegistry& reg = OpRegistry::Global();
  const OpSchema* schema = reg.FindSchema(run.domain, run.op_type, run.opset);
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
  const KernelDef* def = reg.FindKernel(run.backend, run.domain, run.op_type, run.opset, first);
  if (def == nullptr) {
    return absl::NotFoundError(absl::StrCat("no ", run.backend, " kernel for ", run.op_type,
                                            " opset ", run.opset, " dtype ", DTypeName(first)));
  }
  KernelInfo info{run.op_type, run.domain, run.opset, run.op_type, &attrs, dtypes, values, run.num_outputs};
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

}  // namespace cortado
