// Value: what one graph value holds during a run. Most values are tensors; ONNX also has
// sequences of tensors and optionals. An optional that holds an element is that element (a tensor
// or a sequence); one without is kNone. A sequence is immutable once made; copying a Value shares
// its tensors' storage. A value type; not synchronized.
#ifndef CORTADO_OPS_VALUE_H_
#define CORTADO_OPS_VALUE_H_

#include <vector>

#include "core/tensor.h"

namespace cortado {

struct Value {
  enum class Kind { kTensor, kSequence, kNone };

  Value() = default;                         // undefined: an empty tensor
  Value(Tensor t) : tensor(std::move(t)) {}  // NOLINT: a tensor is a value
  static Value Sequence(std::vector<Tensor> elements, DType elem_dtype) {
    Value v;
    v.kind = Kind::kSequence;
    v.elements = std::move(elements);
    v.elem_dtype = elem_dtype;
    return v;
  }
  static Value None() {
    Value v;
    v.kind = Kind::kNone;
    return v;
  }
  bool defined() const { return kind != Kind::kTensor || tensor.defined(); }
  bool is_tensor() const { return kind == Kind::kTensor; }
  bool is_sequence() const { return kind == Kind::kSequence; }

  Kind kind = Kind::kTensor;
  Tensor tensor;                         // kTensor
  std::vector<Tensor> elements;          // kSequence
  DType elem_dtype = DType::kUndefined;  // kSequence: its elements' (known even when empty)
};

// "tensor", "sequence" or "none" (for messages).
inline const char* KindName(Value::Kind kind) {
  return kind == Value::Kind::kTensor     ? "tensor"
         : kind == Value::Kind::kSequence ? "sequence"
                                          : "none";
}

}  // namespace cortado

#endif  // CORTADO_OPS_VALUE_H_
