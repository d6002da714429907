#include "backends/cuda/kernel_params.h"

#include <algorithm>
#include <climits>
#include <limits>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace cuda {
namespace {

absl::Status Bad(absl::string_view op, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(op, " on CUDA: ", what));
}

absl::StatusOr<int> AsInt(int64_t v, absl::string_view op) {
  if (v < 0 || v > INT_MAX) return Bad(op, absl::StrCat("dimension ", v, " does not fit an int"));
  return static_cast<int>(v);
}

int64_t Product(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= s[i];
  return p;
}

// Row-major strides of a contiguous tensor of shape `s`, in elements.
std::vector<int64_t> StridesOf(const Shape& s) {
  std::vector<int64_t> strides(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;) strides[d - 1] = strides[d] * s[d];
  return strides;
}

absl::Status CheckRank(size_t rank, absl::string_view op) {
  if (rank > static_cast<size_t>(kMaxRank)) {
    return Bad(op, absl::StrCat("rank ", rank, " is above ", kMaxRank));
  }
  return absl::OkStatus();
}

const std::optional<Shape>* ShapeOf(const KernelInfo& node, size_t i) {
  return i < node.input_shapes.size() ? &node.input_shapes[i] : nullptr;
}

// The rank of input `i` when the plan knows it, else -1.
int RankOf(const KernelInfo& node, size_t i) {
  const auto* s = ShapeOf(node, i);
  return s != nullptr && *s ? static_cast<int>((*s)->size()) : -1;
}

// A constant float32 scalar input `i` (absent: `def`); nullopt when it is not constant.
std::optional<float> ConstantScalar(const KernelInfo& node, size_t i, float def) {
  if (i >= node.input_dtypes.size() || node.input_dtypes[i] == DType::kUndefined) return def;
  if (!IsConstant(node, i)) return std::nullopt;
  const Tensor& t = *node.constant_inputs[i];
  if (t.dtype() != DType::kFloat32 || t.num_elements() != 1) return std::nullopt;
  return t.data<float>()[0];
}

}  // namespace

bool InputDTypeIn(const KernelInfo& node, size_t i, std::initializer_list<DType> dtypes) {
  if (i >= node.input_dtypes.size() || node.input_dtypes[i] == DType::kUndefined) return true;
  return std::find(dtypes.begin(), dtypes.end(), node.input_dtypes[i]) != dtypes.end();
}

bool IsConstant(const KernelInfo& node, size_t i) {
  return i < node.constant_inputs.size() && node.constant_inputs[i] != nullptr;
}

std::optional<Unary> ActivationFor(const std::string& name) {
  if (name == "Relu") return Unary::kRelu;
  if (name == "Sigmoid") return Unary::kSigmoid;
  if (name == "Tanh") return Unary::kTanh;
  return std::nullopt;
}

std::optional<UnaryOp> UnaryFor(const KernelInfo& node) {
  static const auto* plain = new std::map<std::string, Unary>{
      {"Relu", Unary::kRelu}, {"Sigmoid", Unary::kSigmoid}, {"Tanh", Unary::kTanh},
      {"Neg", Unary::kNeg},   {"Abs", Unary::kAbs},         {"Exp", Unary::kExp}};
  if (!node.domain.empty()) return std::nullopt;
  if (auto it = plain->find(node.op_type); it != plain->end()) return UnaryOp{it->second};
  if (node.opset < 6) return std::nullopt;  // opset 1's forms (consumed_inputs)
  const AttributeMap& attrs = *node.attrs;
  if (node.op_type == "LeakyRelu") {
    return UnaryOp{Unary::kLeakyRelu, attrs.GetFloat("alpha", 0.01f)};
  }
  if (node.op_type == "HardSigmoid") {
    return UnaryOp{Unary::kHardSigmoid, attrs.GetFloat("alpha", 0.2f),
                   attrs.GetFloat("beta", 0.5f)};
  }
  if (node.op_type == "HardSwish") return UnaryOp{Unary::kHardSwish, 1.0f / 6.0f, 0.5f};
  if (node.op_type == "Clip") {
    const float lowest = std::numeric_limits<float>::lowest(),
                highest = std::numeric_limits<float>::max();
    if (node.opset < 11) {
      return UnaryOp{Unary::kClip, attrs.GetFloat("min", lowest), attrs.GetFloat("max", highest)};
    }
    const std::optional<float> lo = ConstantScalar(node, 1, lowest),
                               hi = ConstantScalar(node, 2, highest);
    if (!lo || !hi) return std::nullopt;
    return UnaryOp{Unary::kClip, *lo, *hi};
  }
  return std::nullopt;
}

std::optional<Pool2d> PoolFor(const KernelInfo& node) {
  if (!node.domain.empty()) return std::nullopt;
  Pool2d p;
  p.global = node.op_type == "GlobalAveragePool" || node.op_type == "GlobalMaxPool";
  p.max = node.op_type == "MaxPool" || node.op_type == "GlobalMaxPool";
  if (!p.global && node.op_type != "MaxPool" && node.op_type != "AveragePool") return std::nullopt;
  if (node.num_outputs != 1) return std::nullopt;  // MaxPool's Indices
  const int rank = RankOf(node, 0);
  if (rank != -1 && rank != 4) return std::nullopt;
  if (p.global) return p;
  const AttributeMap& attrs = *node.attrs;
  if (attrs.GetString("auto_pad", "NOTSET") != "NOTSET" || attrs.GetInt("ceil_mode", 0) != 0) {
    return std::nullopt;
  }
  const std::vector<int64_t> window = attrs.GetInts("kernel_shape");
  const std::vector<int64_t> pads = attrs.GetInts("pads", {0, 0, 0, 0});
  const std::vector<int64_t> strides = attrs.GetInts("strides", {1, 1});
  const std::vector<int64_t> dilations = attrs.GetInts("dilations", {1, 1});
  if (window.size() != 2 || pads.size() != 4 || strides.size() != 2 ||
      dilations != std::vector<int64_t>{1, 1} || pads[0] != pads[2] || pads[1] != pads[3]) {
    return std::nullopt;  // cuDNN pools 2-D windows, pads both sides alike, does not dilate
  }
  for (int d = 0; d < 2; ++d) {
    if (window[d] < 1 || window[d] > INT_MAX || strides[d] < 1 || strides[d] > INT_MAX ||
        pads[d] < 0 || pads[d] >= window[d]) {
      return std::nullopt;
    }
    p.window[d] = static_cast<int>(window[d]);
    p.pads[d] = static_cast<int>(pads[d]);
    p.strides[d] = static_cast<int>(strides[d]);
  }
  p.count_include_pad = attrs.GetInt("count_include_pad", 0) != 0;
  return p;
}

absl::StatusOr<SoftmaxDims> SoftmaxFor(const Shape& x, int64_t axis, int opset) {
  const int64_t rank = static_cast<int64_t>(x.size());
  if (rank == 0 || axis < -rank || axis >= rank) {
    return Bad("Softmax", absl::StrCat("axis ", axis, " is out of range for rank ", rank));
  }
  const size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
  SoftmaxDims d;
  ASSIGN_OR_RETURN(d.n, AsInt(Product(x, 0, a), "Softmax"));
  if (opset >= 13) {
    ASSIGN_OR_RETURN(d.c, AsInt(x[a], "Softmax"));
    ASSIGN_OR_RETURN(d.inner, AsInt(Product(x, a + 1, x.size()), "Softmax"));
  } else {
    ASSIGN_OR_RETURN(d.c, AsInt(Product(x, a, x.size()), "Softmax"));
  }
  return d;
}

std::optional<double> BatchNormFor(const KernelInfo& node) {
  if (!node.domain.empty() || node.op_type != "BatchNormalization" || node.opset < 7 ||
      node.num_outputs != 1) {
    return std::nullopt;  // opset 6 and before: is_test; more outputs: training
  }
  const AttributeMap& attrs = *node.attrs;
  if (attrs.GetInt("training_mode", 0) != 0 || attrs.GetInt("spatial", 1) != 1) {
    return std::nullopt;
  }
  const int rank = RankOf(node, 0);
  if (rank != -1 && rank < 2) return std::nullopt;
  for (size_t i = 1; i < 5; ++i) {
    const int r = RankOf(node, i);
    if (r != -1 && r != 1) return std::nullopt;
  }
  const double epsilon = attrs.GetFloat("epsilon", 1e-5f);
  if (epsilon < 0) return std::nullopt;  // cuDNN's minimum, CUDNN_BN_MIN_EPSILON
  return epsilon;
}

absl::StatusOr<std::array<int, 4>> BatchNormDims(const Shape& x) {
  if (x.size() < 2) return Bad("BatchNormalization", "the input has no channel dimension");
  std::array<int, 4> d{};
  ASSIGN_OR_RETURN(d[0], AsInt(x[0], "BatchNormalization"));
  ASSIGN_OR_RETURN(d[1], AsInt(x[1], "BatchNormalization"));
  ASSIGN_OR_RETURN(d[2], AsInt(Product(x, 2, x.size()), "BatchNormalization"));
  d[3] = 1;
  return d;
}

absl::StatusOr<StridedView> SliceView(const Shape& in, const std::vector<SliceDim>& dims) {
  RETURN_IF_ERROR(CheckRank(in.size(), "Slice"));
  if (dims.size() != in.size()) return Bad("Slice", "one slice per dimension");
  const std::vector<int64_t> strides = StridesOf(in);
  StridedView v;
  v.rank = static_cast<int>(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    if (dims[d].count < 0) return Bad("Slice", "unknown dimension");
    v.dims[d] = dims[d].count;
    v.strides[d] = strides[d] * dims[d].step;
    if (dims[d].count > 0) v.offset += dims[d].start * strides[d];
  }
  return v;
}

absl::StatusOr<StridedView> TransposeView(const Shape& in, const std::vector<int64_t>& perm) {
  RETURN_IF_ERROR(CheckRank(in.size(), "Transpose"));
  const size_t rank = in.size();
  std::vector<int64_t> p = perm;
  if (p.empty()) {
    for (size_t d = rank; d-- > 0;) p.push_back(static_cast<int64_t>(d));
  }
  std::vector<bool> seen(rank, false);
  if (p.size() != rank) return Bad("Transpose", "perm does not name every dimension once");
  for (int64_t d : p) {
    if (d < 0 || d >= static_cast<int64_t>(rank) || seen[d]) {
      return Bad("Transpose", absl::StrCat("perm [", absl::StrJoin(p, ","),
                                           "] does not name every dimension once"));
    }
    seen[d] = true;
  }
  const std::vector<int64_t> strides = StridesOf(in);
  StridedView v;
  v.rank = static_cast<int>(rank);
  for (size_t d = 0; d < rank; ++d) {
    v.dims[d] = in[p[d]];
    v.strides[d] = strides[p[d]];
  }
  return v;
}

absl::StatusOr<ReducePlan> ReduceFor(const Shape& in, const std::vector<int64_t>& axes,
                                     bool keepdims) {
  RETURN_IF_ERROR(CheckRank(in.size(), "Reduce"));
  const int64_t rank = static_cast<int64_t>(in.size());
  std::vector<bool> reduced(in.size(), axes.empty());
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) {
      return Bad("Reduce", absl::StrCat("axis ", a, " is out of range for rank ", rank));
    }
    const size_t d = static_cast<size_t>(a < 0 ? a + rank : a);
    if (reduced[d]) return Bad("Reduce", absl::StrCat("axis ", a, " is repeated"));
    reduced[d] = true;
  }
  const std::vector<int64_t> strides = StridesOf(in);
  ReducePlan p;
  for (size_t d = 0; d < in.size(); ++d) {
    StridedView& v = reduced[d] ? p.reduced : p.out;
    v.dims[v.rank] = in[d];
    v.strides[v.rank] = strides[d];
    ++v.rank;
    if (!reduced[d]) {
      p.out_shape.push_back(in[d]);
    } else if (keepdims) {
      p.out_shape.push_back(1);
    }
  }
  return p;
}

absl::StatusOr<BatchedGemm> MatMulFor(const Shape& a_in, const Shape& b_in) {
  if (a_in.empty() || b_in.empty()) return Bad("MatMul", "scalar operands");
  // 1-D operands: a row [1, K] on the left, a column [K, 1] on the right, dropped afterwards.
  const Shape a = a_in.size() == 1 ? Shape{1, a_in[0]} : a_in;
  const Shape b = b_in.size() == 1 ? Shape{b_in[0], 1} : b_in;
  const size_t ra = a.size() - 2, rb = b.size() - 2, rank = std::max(ra, rb);
  if (a[ra + 1] != b[rb]) {
    return Bad("MatMul", absl::StrCat("inner dimensions differ: ", ShapeToString(a_in), " x ",
                                      ShapeToString(b_in)));
  }
  Shape batch(rank);
  bool same = true;
  for (size_t i = 0; i < rank; ++i) {  // right-aligned
    const int64_t da = i + ra >= rank ? a[i + ra - rank] : 1;
    const int64_t db = i + rb >= rank ? b[i + rb - rank] : 1;
    if (da != db && da != 1 && db != 1) {
      return Bad("MatMul", absl::StrCat("batch dimensions do not broadcast: ", ShapeToString(a_in),
                                        " x ", ShapeToString(b_in)));
    }
    batch[i] = std::max(da, db);
    same = same && da == db;
  }
  const int64_t na = Product(a, 0, ra), nb = Product(b, 0, rb);
  const int64_t m = a[ra], k = a[ra + 1], n = b[rb + 1];
  BatchedGemm g;
  if (nb == 1) {  // one B for all: the batches are more rows of A
    ASSIGN_OR_RETURN(g.m, AsInt(na * m, "MatMul"));
  } else if (na == 1) {
    ASSIGN_OR_RETURN(g.batch, AsInt(nb, "MatMul"));
    ASSIGN_OR_RETURN(g.m, AsInt(m, "MatMul"));
    g.stride_b = k * n;
  } else if (same) {
    ASSIGN_OR_RETURN(g.batch, AsInt(na, "MatMul"));
    ASSIGN_OR_RETURN(g.m, AsInt(m, "MatMul"));
    g.stride_a = m * k;
    g.stride_b = k * n;
  } else {
    return absl::UnimplementedError(
        absl::StrCat("MatMul on CUDA: batch dimensions broadcast in part: ", ShapeToString(a_in),
                     " x ", ShapeToString(b_in)));
  }
  ASSIGN_OR_RETURN(g.n, AsInt(n, "MatMul"));
  ASSIGN_OR_RETURN(g.k, AsInt(k, "MatMul"));
  g.out = batch;
  if (a_in.size() > 1) g.out.push_back(m);
  if (b_in.size() > 1) g.out.push_back(n);
  return g;
}

bool MatMulMayFit(const std::optional<Shape>& a, const std::optional<Shape>& b) {
  if (!a || !b || a->size() <= 2 || b->size() <= 2) return true;
  const bool known = std::none_of(a->begin(), a->end(), [](int64_t d) { return d < 0; }) &&
                     std::none_of(b->begin(), b->end(), [](int64_t d) { return d < 0; });
  if (known) return MatMulFor(*a, *b).ok();
  auto batch_is_one = [](const Shape& s) {
    return std::all_of(s.begin(), s.end() - 2, [](int64_t d) { return d == 1; });
  };
  if (batch_is_one(*a) || batch_is_one(*b)) return true;
  return a->size() == b->size() && std::equal(a->begin(), a->end() - 2, b->begin());
}

bool GemmBiasFits(const std::optional<Shape>& c) {
  return !c || c->size() != 2 || (*c)[1] != 1 || (*c)[0] == 1;
}

absl::StatusOr<GatherDims> GatherFor(const Shape& data, const Shape& indices, int64_t axis) {
  const int64_t rank = static_cast<int64_t>(data.size());
  if (axis < -rank || axis >= rank) {
    return Bad("Gather", absl::StrCat("axis ", axis, " is out of range for rank ", rank));
  }
  const size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
  GatherDims g;
  g.outer = Product(data, 0, a);
  g.axis_dim = data[a];
  g.inner = Product(data, a + 1, data.size());
  g.count = NumElements(indices);
  g.out.assign(data.begin(), data.begin() + a);
  g.out.insert(g.out.end(), indices.begin(), indices.end());
  g.out.insert(g.out.end(), data.begin() + a + 1, data.end());
  return g;
}

absl::StatusOr<std::vector<int64_t>> GatherIndices(const Tensor& indices, int64_t dim) {
  if (indices.dtype() != DType::kInt64 && indices.dtype() != DType::kInt32) {
    return Bad("Gather", absl::StrCat("indices of ", DTypeName(indices.dtype())));
  }
  std::vector<int64_t> out(indices.num_elements());
  for (int64_t i = 0; i < indices.num_elements(); ++i) {
    const int64_t v =
        indices.dtype() == DType::kInt64 ? indices.data<int64_t>()[i] : indices.data<int32_t>()[i];
    if (v < -dim || v >= dim) {
      return Bad("Gather", absl::StrCat("index ", v, " is out of range [", -dim, ", ", dim, ")"));
    }
    out[i] = v < 0 ? v + dim : v;
  }
  return out;
}

std::optional<DType> CastFor(const KernelInfo& node) {
  if (!node.domain.empty() || node.op_type != "Cast" || node.opset < 6) return std::nullopt;
  const absl::StatusOr<DType> to = tensor_ops::DTypeFromOnnx(node.attrs->GetInt("to"), "Cast");
  const DType from = node.input_dtypes.empty() ? DType::kUndefined : node.input_dtypes[0];
  if (!to.ok() || from == *to) return std::nullopt;
  if ((from == DType::kFloat32 && *to == DType::kFloat16) ||
      (from == DType::kFloat16 && *to == DType::kFloat32)) {
    return *to;
  }
  return std::nullopt;
}

}  // namespace cuda
}  // namespace cortado
