// Definitions of the elementwise math helpers declared in ops/elementwise.h.
#include "ops/elementwise.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace cortado {

std::vector<DType> TypesOf(unsigned mask) {
  std::vector<DType> out;
  for (DType d : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16, DType::kInt8,
                  DType::kInt16, DType::kInt32, DType::kInt64, DType::kUInt8, DType::kUInt16,
                  DType::kUInt32, DType::kUInt64, DType::kBool, DType::kString}) {
    if ((DTypeBit(d) & mask) != 0) out.push_back(d);
  }
  return out;
}

absl::Status Unsupported(absl::string_view subject, DType dtype, unsigned mask) {
  std::vector<std::string> names;
  for (DType d : TypesOf(mask)) names.emplace_back(DTypeName(d));
  return absl::InvalidArgumentError(absl::StrCat(subject, " dtype ", DTypeName(dtype),
                                                 " is not supported (expected one of ",
                                                 absl::StrJoin(names, ", "), ")"));
}

const AttributeMap& AttrsOf(const KernelInfo& info) {
  static const AttributeMap* const kEmpty = new AttributeMap();
  return info.attrs != nullptr ? *info.attrs : *kEmpty;
}

absl::StatusOr<const Tensor*> GetInput(const KernelContext& ctx, int i, absl::string_view op) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr || !t->defined()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": required input ", i, " is missing"));
  }
  return t;
}

absl::Status CheckSameDType(absl::string_view op, const Tensor& a, const Tensor& b, int ia,
                            int ib) {
  if (a.dtype() == b.dtype()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": inputs ", ia, " and ", ib, " must have the same dtype, got ",
                   DTypeName(a.dtype()), " and ", DTypeName(b.dtype())));
}

absl::StatusOr<Shape> Broadcast(absl::string_view op, const Shape& a, const Shape& b) {
  absl::StatusOr<Shape> s = BroadcastShapes(a, b);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(op, ": ", s.status().message()));
  return s;
}

std::optional<int64_t> LegacyBroadcastAxis(absl::string_view op, int opset,
                                           const AttributeMap& attrs) {
  if (opset >= 7) return std::nullopt;
  if (op == "PRelu") return 1;
  if (attrs.GetInt("broadcast") == 0) return std::nullopt;
  return attrs.GetInt("axis", -1);
}

absl::StatusOr<Shape> LegacyBroadcastShape(absl::string_view op, const Shape& a, const Shape& b,
                                           int64_t axis) {
  const int64_t rank = static_cast<int64_t>(a.size());
  const int64_t b_rank = static_cast<int64_t>(b.size());
  if (axis == -1 || b_rank == 0) axis = rank - b_rank;  // B matches A's last dims
  if (axis < 0) axis += rank;
  if (axis < 0 || axis + b_rank > rank) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": B ", ShapeToString(b), " does not fit A ",
                                                   ShapeToString(a), " from axis ", axis));
  }
  Shape out(rank, 1);
  for (int64_t i = 0; i < b_rank; ++i) {
    if (b[i] != a[axis + i] && b[i] != 1) {
      return absl::InvalidArgumentError(absl::StrCat(op, ": B ", ShapeToString(b),
                                                     " does not broadcast onto A ",
                                                     ShapeToString(a), " at axis ", axis));
    }
    out[axis + i] = b[i];
  }
  return out;
}

}  // namespace cortado
