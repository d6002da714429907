#include "frontend/ops.h"

#include <cmath>
#include <cstring>
#include <numeric>

#include "frontend/autograd.h"
#include "frontend/dispatch.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace frontend {
namespace {

using CTensor = cortado::Tensor;
using Grads = std::vector<CTensor>;

[[noreturn]] void Fail(absl::Status status) { throw Error(std::move(status)); }

// A constant int64 vector input (axes, shapes, pads); the tracer records it as a constant.
Tensor Ints(const std::vector<int64_t>& v) {
  return Tensor::from_vector<int64_t>(v, {static_cast<int64_t>(v.size())});
}
CTensor CInts(const std::vector<int64_t>& v) {
  return CTensor::FromVector<int64_t>(v, {static_cast<int64_t>(v.size())});
}
CTensor CScalar(double v, DType dtype) { return Tensor::scalar(v, dtype).value(); }

AttributeMap Attrs(std::initializer_list<std::pair<const char*, AttrValue>> list) {
  AttributeMap attrs;
  for (const auto& [name, value] : list) attrs.Set(name, value);
  return attrs;
}

// The differentiable output of a single-output op: attaches `fn` when needed.
Tensor Attach1(const std::string& name, const std::vector<Tensor>& inputs, Tensor y,
               BackwardFn fn) {
  std::vector<Tensor> outputs = {std::move(y)};
  AttachGrad(name, inputs, outputs, std::move(fn));
  return outputs[0];
}

CTensor G1(const std::string& op, Grads inputs, AttributeMap attrs = {}) {
  return GradCall1(op, std::move(inputs), std::move(attrs));
}
CTensor Reshape(const CTensor& t, const Shape& shape) { return ValueOrThrow(t.Reshaped(shape)); }
CTensor Expand(const CTensor& g, const Shape& shape) { return G1("Expand", {g, CInts(shape)}); }

int Axis(int64_t dim, int rank) { return ValueOrThrow(NormalizeAxis(dim, rank)); }

std::vector<int64_t> Axes(const std::vector<int64_t>& dims, int rank) {
  std::vector<int64_t> axes;
  for (int64_t d : dims) axes.push_back(Axis(d, rank));
  return axes;
}

// The shape a reduction over `axes` (all when empty) gives with keepdims.
Shape KeptShape(const Shape& shape, const std::vector<int64_t>& axes) {
  Shape kept = shape;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (axes.empty() || std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end()) kept[i] = 1;
  }
  return kept;
}

// All axes but the channel axis 1.
std::vector<int64_t> NonChannelAxes(int rank) {
  std::vector<int64_t> axes = {0};
  for (int i = 2; i < rank; ++i) axes.push_back(i);
  return axes;
}

void CheckReduction(const std::string& reduction) {
  if (reduction != "mean" && reduction != "sum" && reduction != "none") {
    Fail(absl::InvalidArgumentError(
        absl::StrCat("reduction must be 'mean', 'sum' or 'none', got '", reduction, "'")));
  }
}

Tensor Reduce(const Tensor& loss, const std::string& reduction) {
  CheckReduction(reduction);
  if (reduction == "mean") return mean(loss);
  if (reduction == "sum") return sum(loss);
  return loss;
}

void CheckRank(const Tensor& x, int rank, const char* op) {
  if (x.dim() != rank) {
    Fail(absl::InvalidArgumentError(absl::StrCat(op, " expects a ", rank, "-d input, got shape ",
                                                 ShapeToString(x.shape()))));
  }
}

}  // namespace

// --- elementwise ---

Tensor add(const Tensor& a, const Tensor& b) {
  return Attach1("AddBackward", {a, b}, Call1("Add", {a, b}),
                 [sa = a.shape(), sb = b.shape()](const Grads& g) -> Grads {
                   return {SumToShape(g[0], sa), SumToShape(g[0], sb)};
                 });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return Attach1("SubBackward", {a, b}, Call1("Sub", {a, b}),
                 [sa = a.shape(), sb = b.shape()](const Grads& g) -> Grads {
                   return {SumToShape(g[0], sa), SumToShape(G1("Neg", {g[0]}), sb)};
                 });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return Attach1("MulBackward", {a, b}, Call1("Mul", {a, b}),
                 [va = a.value(), vb = b.value(), ga = a.requires_grad(),
                  gb = b.requires_grad()](const Grads& g) -> Grads {
                   return {ga ? SumToShape(G1("Mul", {g[0], vb}), va.shape()) : CTensor(),
                           gb ? SumToShape(G1("Mul", {g[0], va}), vb.shape()) : CTensor()};
                 });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = Call1("Div", {a, b});
  return Attach1("DivBackward", {a, b}, y,
                 [vb = b.value(), vy = y.value(), sa = a.shape()](const Grads& g) -> Grads {
                   CTensor ga = G1("Div", {g[0], vb});
                   CTensor gb = G1("Neg", {G1("Mul", {ga, vy})});
                   return {SumToShape(ga, sa), SumToShape(gb, vb.shape())};
                 });
}

Tensor neg(const Tensor& x) {
  return Attach1("NegBackward", {x}, Call1("Neg", {x}),
                 [](const Grads& g) -> Grads { return {G1("Neg", {g[0]})}; });
}

Tensor exp(const Tensor& x) {
  Tensor y = Call1("Exp", {x});
  return Attach1("ExpBackward", {x}, y,
                 [vy = y.value()](const Grads& g) -> Grads { return {G1("Mul", {g[0], vy})}; });
}

Tensor log(const Tensor& x) {
  return Attach1("LogBackward", {x}, Call1("Log", {x}),
                 [vx = x.value()](const Grads& g) -> Grads { return {G1("Div", {g[0], vx})}; });
}

Tensor sqrt(const Tensor& x) {
  Tensor y = Call1("Sqrt", {x});
  return Attach1("SqrtBackward", {x}, y, [vy = y.value()](const Grads& g) -> Grads {
    return {G1("Div", {g[0], G1("Mul", {vy, CScalar(2, vy.dtype())})})};
  });
}

Tensor abs(const Tensor& x) {
  return Attach1("AbsBackward", {x}, Call1("Abs", {x}), [vx = x.value()](const Grads& g) -> Grads {
    return {G1("Mul", {g[0], G1("Sign", {vx})})};
  });
}

Tensor pow(const Tensor& x, double exponent) {
  return Attach1("PowBackward", {x}, Call1("Pow", {x, Tensor::scalar(exponent, x.dtype())}),
                 [vx = x.value(), exponent](const Grads& g) -> Grads {
                   const DType dt = vx.dtype();
                   CTensor d = G1("Mul", {G1("Pow", {vx, CScalar(exponent - 1, dt)}),
                                          CScalar(exponent, dt)});
                   return {G1("Mul", {g[0], d})};
                 });
}

Tensor erf(const Tensor& x) {
  return Attach1("ErfBackward", {x}, Call1("Erf", {x}), [vx = x.value()](const Grads& g) -> Grads {
    // d/dx erf(x) = 2/sqrt(pi) * exp(-x^2)
    const DType dt = vx.dtype();
    CTensor e = G1("Exp", {G1("Neg", {G1("Mul", {vx, vx})})});
    return {G1("Mul", {g[0], G1("Mul", {e, CScalar(M_2_SQRTPI, dt)})})};
  });
}

Tensor relu(const Tensor& x) {
  Tensor y = Call1("Relu", {x});
  return Attach1("ReluBackward", {x}, y, [vy = y.value()](const Grads& g) -> Grads {
    return {GradCall1("ReluGrad", {g[0], vy}, {}, kTrainingDomain)};
  });
}

Tensor sigmoid(const Tensor& x) {
  Tensor y = Call1("Sigmoid", {x});
  return Attach1("SigmoidBackward", {x}, y, [vy = y.value()](const Grads& g) -> Grads {
    CTensor one_minus = G1("Sub", {CScalar(1, vy.dtype()), vy});
    return {G1("Mul", {g[0], G1("Mul", {vy, one_minus})})};
  });
}

Tensor tanh(const Tensor& x) {
  Tensor y = Call1("Tanh", {x});
  return Attach1("TanhBackward", {x}, y, [vy = y.value()](const Grads& g) -> Grads {
    CTensor d = G1("Sub", {CScalar(1, vy.dtype()), G1("Mul", {vy, vy})});
    return {G1("Mul", {g[0], d})};
  });
}

Tensor gelu(const Tensor& x) { return x * 0.5 * (erf(x * M_SQRT1_2) + 1.0); }

Tensor maximum(const Tensor& a, const Tensor& b) {
  return Attach1("MaximumBackward", {a, b}, Call1("Max", {a, b}),
                 [va = a.value(), vb = b.value()](const Grads& g) -> Grads {
                   CTensor take_a = G1("GreaterOrEqual", {va, vb});
                   CTensor zero = CScalar(0, g[0].dtype());
                   return {SumToShape(G1("Where", {take_a, g[0], zero}), va.shape()),
                           SumToShape(G1("Where", {take_a, zero, g[0]}), vb.shape())};
                 });
}

Tensor gt(const Tensor& a, const Tensor& b) { return Call1("Greater", {a, b}); }
Tensor eq(const Tensor& a, const Tensor& b) { return Call1("Equal", {a, b}); }

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  return Attach1("WhereBackward", {a, b}, Call1("Where", {condition, a, b}),
                 [vc = condition.value(), sa = a.shape(), sb = b.shape()](const Grads& g) -> Grads {
                   CTensor zero = CScalar(0, g[0].dtype());
                   return {SumToShape(G1("Where", {vc, g[0], zero}), sa),
                           SumToShape(G1("Where", {vc, zero, g[0]}), sb)};
                 });
}

// --- linear algebra ---

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.dim() == 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (b.dim() == 1) return squeeze(matmul(a, unsqueeze(b, -1)), -1);
  return Attach1("MatMulBackward", {a, b}, Call1("MatMul", {a, b}),
                 [va = a.value(), vb = b.value()](const Grads& g) -> Grads {
                   if (va.rank() == 2 && vb.rank() == 2) {
                     return {G1("Gemm", {g[0], vb}, Attrs({{"transB", int64_t{1}}})),
                             G1("Gemm", {va, g[0]}, Attrs({{"transA", int64_t{1}}}))};
                   }
                   auto swap_last = [](const CTensor& t) {
                     std::vector<int64_t> perm(t.rank());
                     std::iota(perm.begin(), perm.end(), 0);
                     std::swap(perm[t.rank() - 1], perm[t.rank() - 2]);
                     return G1("Transpose", {t}, Attrs({{"perm", perm}}));
                   };
                   return {SumToShape(G1("MatMul", {g[0], swap_last(vb)}), va.shape()),
                           SumToShape(G1("MatMul", {swap_last(va), g[0]}), vb.shape())};
                 });
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (x.dim() != 2) {
    Tensor y = matmul(x, transpose(weight, 0, 1));
    return bias.defined() ? y + bias : y;
  }
  std::vector<Tensor> inputs = {x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return Attach1("LinearBackward", inputs, Call1("Gemm", inputs, Attrs({{"transB", int64_t{1}}})),
                 [vx = x.value(), vw = weight.value(), gx = x.requires_grad(),
                  has_bias = bias.defined()](const Grads& g) -> Grads {
                   Grads out = {gx ? G1("Gemm", {g[0], vw}) : CTensor(),
                                G1("Gemm", {g[0], vx}, Attrs({{"transA", int64_t{1}}}))};
                   if (has_bias) {
                     out.push_back(G1("ReduceSum", {g[0], CInts({0})},
                                      Attrs({{"keepdims", int64_t{0}}})));
                   }
                   return out;
                 });
}

// --- reductions ---

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const std::vector<int64_t> axes = Axes(dims, x.dim());
  std::vector<Tensor> inputs = {x};
  if (!axes.empty()) inputs.push_back(Ints(axes));
  Tensor y = Call1("ReduceSum", inputs, Attrs({{"keepdims", int64_t{keepdim}}}));
  return Attach1("SumBackward", {x}, y, [sx = x.shape(), axes](const Grads& g) -> Grads {
    return {Expand(Reshape(g[0], KeptShape(sx, axes)), sx)};
  });
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const std::vector<int64_t> axes = Axes(dims, x.dim());
  AttributeMap attrs = Attrs({{"keepdims", int64_t{keepdim}}});
  if (!axes.empty()) attrs.Set("axes", axes);
  Tensor y = Call1("ReduceMean", {x}, std::move(attrs));
  const double count = static_cast<double>(x.numel()) / std::max<int64_t>(1, y.numel());
  return Attach1("MeanBackward", {x}, y, [sx = x.shape(), axes, count](const Grads& g) -> Grads {
    CTensor scaled = G1("Div", {g[0], CScalar(count, g[0].dtype())});
    return {Expand(Reshape(scaled, KeptShape(sx, axes)), sx)};
  });
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  const int axis = Axis(dim, x.dim());
  Tensor y = Call1("ReduceMax", {x}, Attrs({{"axes", std::vector<int64_t>{axis}},
                                             {"keepdims", int64_t{keepdim}}}));
  return Attach1("MaxBackward", {x}, y, [vx = x.value(), axis](const Grads& g) -> Grads {
    // The gradient goes to the first maximum, as ArgMax picks it.
    CTensor index = G1("ArgMax", {vx}, Attrs({{"axis", int64_t{axis}}, {"keepdims", int64_t{1}}}));
    CTensor zeros = ValueOrThrow(CTensor::Zeros(vx.dtype(), vx.shape()));
    return {G1("ScatterElements", {zeros, index, Reshape(g[0], index.shape())},
               Attrs({{"axis", int64_t{axis}}}))};
  });
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return Call1("ArgMax", {x}, Attrs({{"axis", int64_t{Axis(dim, x.dim())}},
                                     {"keepdims", int64_t{keepdim}}}));
}

// --- shape and indexing ---

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape target = shape;
  // 0 copies the input's dimension: a traced model then keeps its batch dimension dynamic.
  if (!target.empty() && x.dim() > 0 && target[0] == x.size(0) && target[0] != 0) target[0] = 0;
  return Attach1("ReshapeBackward", {x}, Call1("Reshape", {x, Ints(target)}),
                 [sx = x.shape()](const Grads& g) -> Grads { return {Reshape(g[0], sx)}; });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  std::vector<int64_t> perm = Axes(dims, x.dim());
  std::vector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = static_cast<int64_t>(i);
  return Attach1("PermuteBackward", {x}, Call1("Transpose", {x}, Attrs({{"perm", perm}})),
                 [inverse](const Grads& g) -> Grads {
                   return {G1("Transpose", {g[0]}, Attrs({{"perm", inverse}}))};
                 });
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  std::vector<int64_t> perm(x.dim());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[Axis(dim0, x.dim())], perm[Axis(dim1, x.dim())]);
  return permute(x, perm);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  const int start = Axis(start_dim, x.dim()), end = Axis(end_dim, x.dim());
  if (start > end) Fail(absl::InvalidArgumentError("flatten: start_dim after end_dim"));
  if (start > 0 && end == x.dim() - 1) {
    // ONNX Flatten keeps the leading dimensions dynamic when traced.
    Shape leading(x.shape().begin(), x.shape().begin() + start);
    Tensor y = Call1("Flatten", {x}, Attrs({{"axis", int64_t{start}}}));
    if (start > 1) y = Call1("Reshape", {y, Ints([&] {
                                 Shape s(start, 0);
                                 s.push_back(-1);
                                 return s;
                               }())});
    return Attach1("FlattenBackward", {x}, y,
                   [sx = x.shape()](const Grads& g) -> Grads { return {Reshape(g[0], sx)}; });
  }
  Shape shape(x.shape().begin(), x.shape().begin() + start);
  shape.push_back(-1);
  shape.insert(shape.end(), x.shape().begin() + end + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  const int axis = Axis(dim, x.dim());
  if (x.size(axis) != 1) return x;  // as torch.squeeze(dim): a no-op on a non-1 dimension
  return Attach1("SqueezeBackward", {x}, Call1("Squeeze", {x, Ints({axis})}),
                 [sx = x.shape()](const Grads& g) -> Grads { return {Reshape(g[0], sx)}; });
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  const int axis = Axis(dim, x.dim() + 1);
  return Attach1("UnsqueezeBackward", {x}, Call1("Unsqueeze", {x, Ints({axis})}),
                 [sx = x.shape()](const Grads& g) -> Grads { return {Reshape(g[0], sx)}; });
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (step <= 0) Fail(absl::InvalidArgumentError("slice: step must be positive"));
  const int axis = Axis(dim, x.dim());
  const int64_t size = x.size(axis);
  auto clamp = [size](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + size : i, 0, size); };
  const int64_t begin = clamp(start), stop = std::max(begin, clamp(end));
  Tensor y = Call1("Slice", {x, Ints({begin}), Ints({stop}), Ints({axis}), Ints({step})});
  return Attach1("SliceBackward", {x}, y,
                 [sx = x.shape(), axis, begin, step, size](const Grads& g) -> Grads {
                   CTensor spread = g[0];
                   const int64_t n = g[0].dim(axis);
                   if (step > 1 && n > 0) {
                     // Interleave step-1 zeros after each element, then trim to the input.
                     Shape s = g[0].shape();
                     s.insert(s.begin() + axis + 1, 1);
                     std::vector<int64_t> pads(2 * s.size(), 0);
                     pads[s.size() + axis + 1] = step - 1;
                     spread = G1("Pad", {Reshape(g[0], s), CInts(pads)});
                     Shape merged = g[0].shape();
                     merged[axis] = n * step;
                     spread = Reshape(spread, merged);
                     const int64_t keep = std::min(n * step, size - begin);
                     spread = G1("Slice", {spread, CInts({0}), CInts({keep}), CInts({axis})});
                   }
                   std::vector<int64_t> pads(2 * sx.size(), 0);
                   pads[axis] = begin;
                   pads[sx.size() + axis] = size - begin - spread.dim(axis);
                   return {G1("Pad", {spread, CInts(pads)})};
                 });
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  const int axis = Axis(dim, x.dim());
  const int64_t size = x.size(axis);
  if (index < -size || index >= size) {
    Fail(absl::OutOfRangeError(absl::StrCat("select: index ", index, " out of range for dimension ",
                                            axis, " of size ", size)));
  }
  if (index < 0) index += size;
  Tensor y = Call1("Gather", {x, Tensor::scalar(static_cast<double>(index), DType::kInt64)},
                   Attrs({{"axis", int64_t{axis}}}));
  return Attach1("SelectBackward", {x}, y,
                 [sx = x.shape(), axis, index, size](const Grads& g) -> Grads {
                   Shape s = sx;
                   s[axis] = 1;
                   std::vector<int64_t> pads(2 * sx.size(), 0);
                   pads[axis] = index;
                   pads[sx.size() + axis] = size - index - 1;
                   return {G1("Pad", {Reshape(g[0], s), CInts(pads)})};
                 });
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) Fail(absl::InvalidArgumentError("cat: no tensors"));
  const int axis = Axis(dim, tensors[0].dim());
  std::vector<int64_t> sizes;
  for (const Tensor& t : tensors) sizes.push_back(t.dim() > axis ? t.size(axis) : 0);
  return Attach1("CatBackward", tensors, Call1("Concat", tensors, Attrs({{"axis", int64_t{axis}}})),
                 [sizes, axis](const Grads& g) -> Grads {
                   return GradCall("Split", {g[0], CInts(sizes)},
                                   Attrs({{"axis", int64_t{axis}}}),
                                   static_cast<int>(sizes.size()));
                 });
}

Tensor to(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor y = Call1("Cast", {x}, Attrs({{"to", tensor_ops::OnnxDataType(dtype)}}));
  return Attach1("ToBackward", {x}, y, [from = x.dtype()](const Grads& g) -> Grads {
    return {G1("Cast", {g[0]}, Attrs({{"to", tensor_ops::OnnxDataType(from)}}))};
  });
}

Tensor clone(const Tensor& x) {
  Tensor y = Call1("Identity", {x});
  y.mutable_value() = y.value().Clone();  // Identity shares storage; a clone owns its own
  return Attach1("CloneBackward", {x}, y, [](const Grads& g) -> Grads { return {g[0]}; });
}

// --- neural network layers ---

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              std::vector<int64_t> stride, std::vector<int64_t> padding,
              std::vector<int64_t> dilation, int64_t groups) {
  CheckRank(x, 4, "conv2d");
  CheckRank(weight, 4, "conv2d weight");
  AttributeMap attrs = Attrs({{"strides", stride},
                              {"pads", std::vector<int64_t>{padding[0], padding[1], padding[0],
                                                            padding[1]}},
                              {"dilations", dilation},
                              {"group", groups},
                              {"kernel_shape", std::vector<int64_t>{weight.size(2),
                                                                    weight.size(3)}}});
  std::vector<Tensor> inputs = {x, weight};
  if (bias.defined()) inputs.push_back(bias);
  Tensor y = Call1("Conv", inputs, attrs);
  return Attach1("ConvBackward", inputs, y,
                 [vx = x.value(), vw = weight.value(), attrs,
                  outputs = bias.defined() ? 3 : 2](const Grads& g) -> Grads {
                   return GradCall("ConvGrad", {g[0], vx, vw}, attrs, outputs, kTrainingDomain);
                 });
}

Tensor max_pool2d(const Tensor& x, std::vector<int64_t> kernel, std::vector<int64_t> stride,
                  std::vector<int64_t> padding) {
  CheckRank(x, 4, "max_pool2d");
  AttributeMap attrs = Attrs(
      {{"kernel_shape", kernel},
       {"strides", stride.empty() ? kernel : stride},
       {"pads", std::vector<int64_t>{padding[0], padding[1], padding[0], padding[1]}}});
  const bool grad = NeedsGrad({x});
  std::vector<Tensor> outputs = Call("MaxPool", {x}, attrs, grad ? 2 : 1);
  if (!grad) return outputs[0];
  CTensor indices = outputs[1].value();
  outputs.resize(1);
  AttachGrad("MaxPoolBackward", {x}, outputs, [vx = x.value(), indices](const Grads& g) -> Grads {
    return {GradCall1("MaxPoolGrad", {g[0], indices, vx}, {}, kTrainingDomain)};
  });
  return outputs[0];
}

Tensor avg_pool2d(const Tensor& x, std::vector<int64_t> kernel, std::vector<int64_t> stride,
                  std::vector<int64_t> padding, bool count_include_pad) {
  CheckRank(x, 4, "avg_pool2d");
  AttributeMap attrs = Attrs(
      {{"kernel_shape", kernel},
       {"strides", stride.empty() ? kernel : stride},
       {"pads", std::vector<int64_t>{padding[0], padding[1], padding[0], padding[1]}},
       {"count_include_pad", int64_t{count_include_pad}}});
  return Attach1("AvgPoolBackward", {x}, Call1("AveragePool", {x}, attrs),
                 [vx = x.value(), attrs](const Grads& g) -> Grads {
                   return {GradCall1("AveragePoolGrad", {g[0], vx}, attrs, kTrainingDomain)};
                 });
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::vector<int64_t> output_size) {
  CheckRank(x, 4, "adaptive_avg_pool2d");
  const int64_t h = x.size(2), w = x.size(3);
  if (output_size.size() != 2 || output_size[0] <= 0 || output_size[1] <= 0) {
    Fail(absl::InvalidArgumentError("adaptive_avg_pool2d: output_size must be two positive sizes"));
  }
  if (output_size[0] == 1 && output_size[1] == 1) {
    return Attach1("AdaptiveAvgPoolBackward", {x}, Call1("GlobalAveragePool", {x}),
                   [sx = x.shape(), hw = h * w](const Grads& g) -> Grads {
                     return {Expand(G1("Div", {g[0], CScalar(double(hw), g[0].dtype())}), sx)};
                   });
  }
  if (h % output_size[0] != 0 || w % output_size[1] != 0) {
    Fail(absl::UnimplementedError(absl::StrCat(
        "adaptive_avg_pool2d: output size ", output_size[0], "x", output_size[1],
        " must divide the input size ", h, "x", w)));
  }
  std::vector<int64_t> kernel = {h / output_size[0], w / output_size[1]};
  return avg_pool2d(x, kernel, kernel);
}

Tensor batch_norm(const Tensor& x, Tensor& running_mean, Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  if (x.dim() < 2) Fail(absl::InvalidArgumentError("batch_norm expects at least 2-d input"));
  const int64_t channels = x.size(1);
  const Tensor scale = weight.defined() ? weight : Tensor::ones({channels}, x.dtype());
  const Tensor shift = bias.defined() ? bias : Tensor::zeros({channels}, x.dtype());
  std::vector<Tensor> inputs = {x, scale, shift};
  if (!training) {
    Tensor y = Call1("BatchNormalization", {x, scale, shift, running_mean, running_var},
                     Attrs({{"epsilon", float(eps)}}));
    return Attach1("BatchNormBackward", inputs, y,
                   [vx = x.value(), vs = scale.value(), vm = running_mean.value(),
                    vv = running_var.value(), eps](const Grads& g) -> Grads {
                     Shape bc(vx.rank(), 1);
                     bc[1] = vs.dim(0);
                     CTensor inv_std = G1("Reciprocal", {G1("Sqrt", {G1("Add", {vv, CScalar(eps, vv.dtype())})})});
                     CTensor xhat = G1("Mul", {G1("Sub", {vx, Reshape(vm, bc)}), Reshape(inv_std, bc)});
                     const CTensor axes = CInts(NonChannelAxes(vx.rank()));
                     const AttributeMap drop = Attrs({{"keepdims", int64_t{0}}});
                     return {G1("Mul", {g[0], Reshape(G1("Mul", {vs, inv_std}), bc)}),
                             G1("ReduceSum", {G1("Mul", {g[0], xhat}), axes}, drop),
                             G1("ReduceSum", {g[0], axes}, drop)};
                   });
  }
  // ONNX's momentum weighs the old running value; 0 makes outputs 1 and 2 the batch mean and
  // (biased) variance, from which the PyTorch-style running update is made below.
  std::vector<Tensor> outputs =
      Call("BatchNormalization", {x, scale, shift, running_mean, running_var},
           Attrs({{"epsilon", float(eps)}, {"momentum", 0.0f}, {"training_mode", int64_t{1}}}), 3);
  {
    NoGradGuard no_grad;
    const double n = static_cast<double>(x.numel() / channels);
    const DType dt = running_mean.dtype();
    auto update = [&](Tensor& running, const CTensor& batch, double correction) {
      CTensor v = G1("Add", {G1("Mul", {running.value(), CScalar(1 - momentum, dt)}),
                             G1("Mul", {batch, CScalar(momentum * correction, dt)})});
      std::memcpy(running.mutable_value().raw_data(), v.raw_data(), v.nbytes());
    };
    update(running_mean, outputs[1].value(), 1);
    update(running_var, outputs[2].value(), n > 1 ? n / (n - 1) : 1);
  }
  outputs.resize(1);
  AttachGrad("BatchNormBackward", inputs, outputs,
             [vx = x.value(), vs = scale.value(), eps](const Grads& g) -> Grads {
               return GradCall("BatchNormalizationGrad", {g[0], vx, vs},
                               Attrs({{"epsilon", float(eps)}}), 3, kTrainingDomain);
             });
  return outputs[0];
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const int n = static_cast<int>(normalized_shape.size());
  if (n == 0 || n > x.dim() ||
      !std::equal(normalized_shape.begin(), normalized_shape.end(), x.shape().end() - n)) {
    Fail(absl::InvalidArgumentError(absl::StrCat("layer_norm: normalized_shape ",
                                                 ShapeToString(normalized_shape),
                                                 " does not end the input shape ",
                                                 ShapeToString(x.shape()))));
  }
  const Tensor scale = weight.defined() ? weight : Tensor::ones(normalized_shape, x.dtype());
  std::vector<Tensor> inputs = {x, scale};
  if (bias.defined()) inputs.push_back(bias);
  // Statistics in the input's precision (float64 training keeps float64 statistics).
  AttributeMap attrs = Attrs({{"axis", int64_t{-n}},
                              {"epsilon", float(eps)},
                              {"stash_type", tensor_ops::OnnxDataType(x.dtype())}});
  const bool grad = NeedsGrad(inputs);
  std::vector<Tensor> outputs = Call("LayerNormalization", inputs, attrs, grad ? 3 : 1);
  if (!grad) return outputs[0];
  CTensor saved_mean = outputs[1].value(), saved_inv_std = outputs[2].value();
  outputs.resize(1);
  AttachGrad("LayerNormBackward", inputs, outputs,
             [vx = x.value(), vs = scale.value(), saved_mean, saved_inv_std, n,
              has_bias = bias.defined()](const Grads& g) -> Grads {
               Grads out = GradCall("LayerNormalizationGrad",
                                    {g[0], vx, vs, saved_mean, saved_inv_std},
                                    Attrs({{"axis", int64_t{-n}}}), 3, kTrainingDomain);
               if (!has_bias) out.resize(2);
               return out;
             });
  return outputs[0];
}

Tensor embedding(const Tensor& indices, const Tensor& weight) {
  CheckRank(weight, 2, "embedding weight");
  return Attach1("EmbeddingBackward", {weight}, Call1("Gather", {weight, indices}),
                 [vi = indices.value(), sw = weight.shape()](const Grads& g) -> Grads {
                   CTensor zeros = ValueOrThrow(CTensor::Zeros(g[0].dtype(), sw));
                   Shape s = vi.shape();
                   s.push_back(1);
                   CTensor idx = G1("Cast", {Reshape(vi, s)},
                                    Attrs({{"to", tensor_ops::OnnxDataType(DType::kInt64)}}));
                   return {G1("ScatterND", {zeros, idx, g[0]}, Attrs({{"reduction", std::string("add")}}))};
                 });
}

Tensor dropout(const Tensor& x, double p, bool training) {
  if (p < 0 || p > 1) Fail(absl::InvalidArgumentError("dropout: p must be in [0, 1]"));
  if (!training || p == 0) return x;
  // The mask is drawn here; applying it is an ordinary (traced, differentiable) Mul.
  Tensor mask = Tensor::rand(x.shape(), x.dtype());
  const double scale = p == 1 ? 0 : 1 / (1 - p);
  cortado::Tensor& m = mask.mutable_value();
  if (x.dtype() == DType::kFloat32) {
    float* d = m.data<float>();
    for (int64_t i = 0; i < m.num_elements(); ++i) d[i] = d[i] < p ? 0.f : float(scale);
  } else if (x.dtype() == DType::kFloat64) {
    double* d = m.data<double>();
    for (int64_t i = 0; i < m.num_elements(); ++i) d[i] = d[i] < p ? 0. : scale;
  } else {
    Fail(absl::InvalidArgumentError("dropout needs a float32 or float64 input"));
  }
  return x * mask;
}

Tensor softmax(const Tensor& x, int64_t dim) {
  const int axis = Axis(dim, x.dim());
  Tensor y = Call1("Softmax", {x}, Attrs({{"axis", int64_t{axis}}}));
  return Attach1("SoftmaxBackward", {x}, y, [vy = y.value(), axis](const Grads& g) -> Grads {
    CTensor dot = G1("ReduceSum", {G1("Mul", {g[0], vy}), CInts({axis})},
                     Attrs({{"keepdims", int64_t{1}}}));
    return {G1("Mul", {vy, G1("Sub", {g[0], dot})})};
  });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  const int axis = Axis(dim, x.dim());
  Tensor y = Call1("LogSoftmax", {x}, Attrs({{"axis", int64_t{axis}}}));
  return Attach1("LogSoftmaxBackward", {x}, y, [vy = y.value(), axis](const Grads& g) -> Grads {
    CTensor total = G1("ReduceSum", {g[0], CInts({axis})}, Attrs({{"keepdims", int64_t{1}}}));
    return {G1("Sub", {g[0], G1("Mul", {G1("Exp", {vy}), total})})};
  });
}

// --- losses ---

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const std::string& reduction) {
  CheckReduction(reduction);
  AttributeMap attrs = Attrs({{"reduction", reduction}});
  std::vector<Tensor> outputs = Call("SoftmaxCrossEntropyLoss", {logits, target}, attrs, 2);
  CTensor log_prob = outputs[1].value();
  outputs.resize(1);
  AttachGrad("CrossEntropyBackward", {logits}, outputs,
             [log_prob, vt = target.value(), attrs](const Grads& g) -> Grads {
               return {GradCall1("SoftmaxCrossEntropyLossGrad", {g[0], log_prob, vt}, attrs,
                                 kTrainingDomain)};
             });
  return outputs[0];
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const std::string& reduction) {
  CheckReduction(reduction);
  Tensor y = Call1("NegativeLogLikelihoodLoss", {log_probs, target},
                   Attrs({{"reduction", reduction}}));
  return Attach1("NllLossBackward", {log_probs}, y,
                 [vt = target.value(), classes = log_probs.size(1), reduction](
                     const Grads& g) -> Grads {
                   const DType dt = g[0].dtype();
                   CTensor scale = G1("Neg", {g[0]});
                   if (reduction == "mean") {
                     scale = G1("Div", {scale, CScalar(double(vt.num_elements()), dt)});
                   } else if (reduction == "none") {
                     Shape s = vt.shape();
                     s.insert(s.begin() + 1, 1);
                     scale = Reshape(scale, s);
                   }
                   CTensor values = CTensor::FromVector<double>({0, 1}, {2});
                   values = G1("Cast", {values}, Attrs({{"to", tensor_ops::OnnxDataType(dt)}}));
                   CTensor onehot = G1("OneHot", {vt, CScalar(double(classes), DType::kInt64), values},
                                       Attrs({{"axis", int64_t{1}}}));
                   return {G1("Mul", {onehot, scale})};
                 });
}

Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction) {
  Tensor d = input - target;
  return Reduce(d * d, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        const std::string& reduction) {
  // max(x, 0) - x*y + log(1 + exp(-|x|)), stable for large |x|.
  Tensor loss = relu(logits) - logits * target + log(exp(-abs(logits)) + 1.0);
  return Reduce(loss, reduction);
}

}  // namespace frontend
}  // namespace cortado
