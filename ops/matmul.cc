// The matrix products MatMul (numpy matmul, batched) and Gemm: schemas with type and shape
// inference, and their reference CPU kernels (the templates of ops/matmul.h on the reference
// Gemm of ops/gemm.h).

#include "ops/matmul.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/broadcast.h"
#include "ops/nn_util.h"
#include "ops/registry.h"

// As in ops/elementwise.h: Bazel builds with -O2, where GCC 12 leaves the elementwise loops
// scalar. Enable the loop vectorizer (it does not reorder floating-point sums, so results are
// unchanged).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "no-trapping-math")
#endif

namespace cortado {

// dtypes of the matrix products (what Gemm in ops/gemm.h implements).
std::vector<DType> GemmTypes() {
  return {DType::kFloat32, DType::kFloat64, DType::kInt32,
          DType::kInt64,   DType::kUInt32,  DType::kUInt64};
}

std::vector<DType> MatMulTypes() {
  std::vector<DType> types = GemmTypes();
  types.push_back(DType::kFloat16);
  types.push_back(DType::kBFloat16);
  return types;
}

// ---------------------------------------------------------------------------------------------
// MatMul
// ---------------------------------------------------------------------------------------------

absl::StatusOr<MatMulShapes> MatMulShape(const Shape& a, const Shape& b) {
  if (a.empty() || b.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("MatMul: operands must have rank >= 1, got ",
                                                   ShapeToString(a), " and ", ShapeToString(b)));
  }
  MatMulShapes s;
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  s.m = a_vec ? 1 : a[a.size() - 2];
  const int64_t ka = a.back();
  const int64_t kb = b_vec ? b[0] : b[b.size() - 2];
  s.n = b_vec ? 1 : b.back();
  if (ka >= 0 && kb >= 0 && ka != kb) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MatMul: inner dimensions differ: ", ShapeToString(a), " x ", ShapeToString(b)));
  }
  s.k = ka >= 0 ? ka : kb;
  s.a_batch.assign(a.begin(), a.end() - (a_vec ? 1 : 2));
  s.b_batch.assign(b.begin(), b.end() - (b_vec ? 1 : 2));
  absl::StatusOr<Shape> batch = BroadcastPartial(s.a_batch, s.b_batch);
  if (!batch.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("MatMul: batch dimensions of ", ShapeToString(a),
                                                   " and ", ShapeToString(b), " do not broadcast"));
  }
  s.out_batch = *batch;
  s.out = s.out_batch;
  if (!a_vec) s.out.push_back(s.m);
  if (!b_vec) s.out.push_back(s.n);
  return s;
}

namespace {

absl::Status InferMatMul(InferenceContext& ctx) {
  const TensorType& a = ctx.input(0);
  const TensorType& b = ctx.input(1);
  TensorType out{a.dtype, std::nullopt};
  if (a.shape && b.shape) {
    ASSIGN_OR_RETURN(MatMulShapes s, MatMulShape(*a.shape, *b.shape));
    out.shape = s.out;
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Gemm
// ---------------------------------------------------------------------------------------------

}  // namespace

absl::Status CheckGemmBias(const Shape& c_shape, int64_t m, int64_t n) {
  const Shape target{m, n};
  bool ok = c_shape.size() <= 2;
  for (size_t i = 0; ok && i < c_shape.size(); ++i) {
    const int64_t want = target[2 - c_shape.size() + i];
    ok = c_shape[i] == 1 || c_shape[i] == want || c_shape[i] < 0 || want < 0;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat("Gemm: C of shape ", ShapeToString(c_shape),
                                                   " does not broadcast to [", m, ",", n, "]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<GemmDims> GemmShape(const Shape& a, const Shape& b, bool trans_a, bool trans_b) {
  if (a.size() != 2 || b.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat("Gemm: A and B must be 2-D, got ",
                                                   ShapeToString(a), " and ", ShapeToString(b)));
  }
  GemmDims d;
  d.m = trans_a ? a[1] : a[0];
  const int64_t ka = trans_a ? a[0] : a[1];
  const int64_t kb = trans_b ? b[1] : b[0];
  d.n = trans_b ? b[0] : b[1];
  if (ka >= 0 && kb >= 0 && ka != kb) {
    return absl::InvalidArgumentError(
        absl::StrCat("Gemm: inner dimensions differ: A ", ShapeToString(a), " (transA ", trans_a,
                     ") and B ", ShapeToString(b), " (transB ", trans_b, ")"));
  }
  d.k = ka >= 0 ? ka : kb;
  return d;
}

namespace {

absl::Status InferGemm(InferenceContext& ctx) {
  const TensorType& a = ctx.input(0);
  const TensorType& b = ctx.input(1);
  TensorType out{a.dtype, std::nullopt};
  if (a.shape && b.shape) {
    ASSIGN_OR_RETURN(GemmDims d, GemmShape(*a.shape, *b.shape, ctx.attrs().GetInt("transA") != 0,
                                           ctx.attrs().GetInt("transB") != 0));
    if (ctx.has_input(2) && ctx.input(2).shape) {
      RETURN_IF_ERROR(CheckGemmBias(*ctx.input(2).shape, d.m, d.n));
    }
    out.shape = Shape{d.m, d.n};
  }
  ctx.set_output(0, out);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Registrations
// ---------------------------------------------------------------------------------------------

CORTADO_REGISTER_OP(OpSchema("MatMul").Versions(1).Inputs(2, 2).Infer(InferMatMul));
CORTADO_REGISTER_KERNEL("MatMul", kCpuBackend, 1, kMaxOpset, MatMulTypes(),
                        MakeFactory<MatMulKernel<ReferenceGemm>>());

// Gemm before opset 7 requires C and says with `broadcast` whether it broadcasts; unidirectional
// broadcasting of an optional C covers both.
CORTADO_REGISTER_OP(OpSchema("Gemm")
                        .Versions(1)
                        .Inputs(2, 3)
                        .Attr("alpha", 1.0f)
                        .Attr("beta", 1.0f)
                        .Attr("transA", int64_t{0})
                        .Attr("transB", int64_t{0})
                        .Infer(InferGemm));
CORTADO_REGISTER_KERNEL("Gemm", kCpuBackend, 1, kMaxOpset, GemmTypes(),
                        MakeFactory<GemmKernel<ReferenceGemm>>());

}  // namespace
}  // namespace cortado
