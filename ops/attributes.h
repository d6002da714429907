// Attribute values of one graph node (ONNX attribute kinds) and the map that holds them.
// Built by importers and the tracer, completed with schema defaults by the plan, then read by
// kernels when they are created. A value type; not synchronized.
#ifndef CORTADO_OPS_ATTRIBUTES_H_
#define CORTADO_OPS_ATTRIBUTES_H_

#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/tensor.h"

namespace cortado {

// A sub-graph attribute (If/Loop bodies). Opaque here: the predictor owns the Graph type.
struct SubgraphAttr {
  std::shared_ptr<const void> graph;
};

enum class AttrType { kInt, kFloat, kString, kInts, kFloats, kStrings, kTensor, kGraph };

using AttrValue = std::variant<int64_t, float, std::string, std::vector<int64_t>,
                               std::vector<float>, std::vector<std::string>, Tensor, SubgraphAttr>;

AttrType TypeOf(const AttrValue& value);
absl::string_view AttrTypeName(AttrType type);

class AttributeMap {
 public:
  bool Has(absl::string_view name) const { return values_.count(std::string(name)) > 0; }
  void Set(absl::string_view name, AttrValue value) { values_[std::string(name)] = std::move(value); }
  const AttrValue* Find(absl::string_view name) const;
  const std::map<std::string, AttrValue>& values() const { return values_; }

  // Typed reads: `def` when the attribute is absent or of another kind (the plan has already
  // checked kinds against the schema, so a mismatch never reaches a kernel).
  int64_t GetInt(absl::string_view name, int64_t def = 0) const;
  float GetFloat(absl::string_view name, float def = 0.0f) const;
  std::string GetString(absl::string_view name, const std::string& def = "") const;
  std::vector<int64_t> GetInts(absl::string_view name, std::vector<int64_t> def = {}) const;
  std::vector<float> GetFloats(absl::string_view name, std::vector<float> def = {}) const;
  std::vector<std::string> GetStrings(absl::string_view name) const;
  // Undefined Tensor when absent.
  Tensor GetTensor(absl::string_view name) const;

 private:
  std::map<std::string, AttrValue> values_;
};

}  // namespace cortado

#endif  // CORTADO_OPS_ATTRIBUTES_H_
